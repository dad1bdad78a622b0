//! A Keccak-256 Fiat–Shamir transcript shaped for the EVM.
//!
//! - points are written as uncompressed `x ‖ y`, 32-byte big-endian each; the
//!   identity is `(0, 0)`, as the EVM precompiles encode it;
//! - scalars are 32-byte big-endian, and must be canonical (`< r`) when read;
//! - every absorbed value is appended to a running buffer; a challenge is
//!   `keccak256(buffer) mod r`, after which the buffer is replaced by that
//!   32-byte digest, so consecutive challenges differ.
//!
//! A Solidity verifier replays this with `keccak256` over calldata and memory.

use std::io::{self, Read, Write};

use halo2_proofs::halo2curves::bn256::{Fq, Fr, G1Affine};
use halo2_proofs::halo2curves::ff::{FromUniformBytes, PrimeField};
use halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
use halo2_proofs::halo2curves::{Coordinates, CurveAffine};
use halo2_proofs::transcript::{
    EncodedChallenge, Transcript, TranscriptRead, TranscriptReadBuffer, TranscriptWrite, TranscriptWriterBuffer,
};
use tiny_keccak::{Hasher, Keccak};

/// keccak-256 of `bytes` (the EVM's `keccak256`).
pub fn keccak256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut k = Keccak::v256();
    k.update(bytes);
    k.finalize(&mut out);
    out
}

/// A challenge: a keccak digest reduced mod r.
#[derive(Clone, Copy, Debug)]
pub struct EvmChallenge(Fr);

impl EncodedChallenge<G1Affine> for EvmChallenge {
    type Input = [u8; 32];

    fn new(digest: &[u8; 32]) -> Self {
        // from_uniform_bytes reduces a 512-bit little-endian integer mod r.
        let mut wide = [0u8; 64];
        for (dst, src) in wide.iter_mut().zip(digest.iter().rev()) {
            *dst = *src;
        }
        Self(Fr::from_uniform_bytes(&wide))
    }

    fn get_scalar(&self) -> Fr {
        self.0
    }
}

/// The transcript over a proof stream `S` (a reader when verifying, a writer when proving).
#[derive(Debug)]
pub struct EvmTranscript<S> {
    stream: S,
    buffer: Vec<u8>,
}

/// A field element as 32 big-endian bytes (halo2curves stores them little-endian).
fn to_be<F: PrimeField<Repr = [u8; 32]>>(f: &F) -> [u8; 32] {
    let mut out = f.to_repr();
    out.reverse();
    out
}

/// A field element from 32 big-endian bytes, if canonical (below the modulus).
fn from_be<F: PrimeField<Repr = [u8; 32]>>(bytes: &[u8]) -> Option<F> {
    let mut repr: [u8; 32] = bytes.try_into().ok()?;
    repr.reverse();
    Option::from(F::from_repr(repr))
}

/// A scalar as 32 big-endian bytes: how the EVM reads it from calldata and the
/// transcript absorbs it.
pub fn scalar_to_be(s: &Fr) -> [u8; 32] {
    to_be(s)
}

/// A scalar from 32 big-endian bytes, if canonical.
pub fn scalar_from_be(bytes: &[u8; 32]) -> Option<Fr> {
    from_be(bytes)
}

/// A base-field element as 32 big-endian bytes.
pub fn base_to_be(x: &Fq) -> [u8; 32] {
    to_be(x)
}

/// `x ‖ y` big-endian; `(0, 0)` for the identity.
pub fn point_to_bytes(p: &G1Affine) -> [u8; 64] {
    let mut out = [0u8; 64];
    let coordinates: Option<Coordinates<G1Affine>> = p.coordinates().into();
    if let Some(c) = coordinates {
        out[..32].copy_from_slice(&base_to_be(c.x()));
        out[32..].copy_from_slice(&base_to_be(c.y()));
    }
    out
}

/// Parses `x ‖ y`, rejecting non-canonical coordinates and points off the curve.
pub fn point_from_bytes(bytes: &[u8; 64]) -> Option<G1Affine> {
    if bytes.iter().all(|b| *b == 0) {
        return Some(G1Affine::identity());
    }
    let (x, y) = (from_be::<Fq>(&bytes[..32])?, from_be::<Fq>(&bytes[32..])?);
    Option::from(G1Affine::from_xy(x, y))
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

impl<S> EvmTranscript<S> {
    /// A transcript over `stream` with an empty buffer (a reader to verify, a writer to prove).
    pub fn new(stream: S) -> Self {
        Self { stream, buffer: Vec::new() }
    }

    /// The proof stream (for a writer: the proof bytes).
    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl<S> Transcript<G1Affine, EvmChallenge> for EvmTranscript<S> {
    fn squeeze_challenge(&mut self) -> EvmChallenge {
        let digest = keccak256(&self.buffer);
        self.buffer = digest.to_vec();
        EvmChallenge::new(&digest)
    }

    fn common_point(&mut self, point: G1Affine) -> io::Result<()> {
        self.buffer.extend_from_slice(&point_to_bytes(&point));
        Ok(())
    }

    fn common_scalar(&mut self, scalar: Fr) -> io::Result<()> {
        self.buffer.extend_from_slice(&scalar_to_be(&scalar));
        Ok(())
    }
}

impl<R: Read> TranscriptRead<G1Affine, EvmChallenge> for EvmTranscript<R> {
    fn read_point(&mut self) -> io::Result<G1Affine> {
        let mut bytes = [0u8; 64];
        self.stream.read_exact(&mut bytes)?;
        let point = point_from_bytes(&bytes).ok_or_else(|| invalid("proof holds a point that is not on BN254 G1"))?;
        self.common_point(point)?;
        Ok(point)
    }

    fn read_scalar(&mut self) -> io::Result<Fr> {
        let mut bytes = [0u8; 32];
        self.stream.read_exact(&mut bytes)?;
        let scalar = scalar_from_be(&bytes).ok_or_else(|| invalid("proof holds a scalar that is not below r"))?;
        self.common_scalar(scalar)?;
        Ok(scalar)
    }
}

impl<R: Read> TranscriptReadBuffer<R, G1Affine, EvmChallenge> for EvmTranscript<R> {
    fn init(reader: R) -> Self {
        Self::new(reader)
    }
}

impl<W: Write> TranscriptWrite<G1Affine, EvmChallenge> for EvmTranscript<W> {
    fn write_point(&mut self, point: G1Affine) -> io::Result<()> {
        self.common_point(point)?;
        self.stream.write_all(&point_to_bytes(&point))
    }

    fn write_scalar(&mut self, scalar: Fr) -> io::Result<()> {
        self.common_scalar(scalar)?;
        self.stream.write_all(&scalar_to_be(&scalar))
    }
}

impl<W: Write> TranscriptWriterBuffer<W, G1Affine, EvmChallenge> for EvmTranscript<W> {
    fn init(writer: W) -> Self {
        Self::new(writer)
    }

    fn finalize(self) -> W {
        self.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_proofs::halo2curves::bn256::G1;
    use halo2_proofs::halo2curves::group::Curve;

    #[test]
    fn points_and_scalars_round_trip_big_endian() {
        let g = G1Affine::generator();
        let bytes = point_to_bytes(&g);
        // The BN254 generator is (1, 2).
        assert_eq!(bytes[31], 1);
        assert_eq!(bytes[63], 2);
        assert!(bytes[..31].iter().all(|b| *b == 0));
        assert_eq!(point_from_bytes(&bytes), Some(g));
        let p = (G1::generator() * Fr::from(12345)).to_affine();
        assert_eq!(point_from_bytes(&point_to_bytes(&p)), Some(p));
        assert_eq!(point_from_bytes(&[0; 64]), Some(G1Affine::identity()));
        let s = Fr::from(0x0102);
        assert_eq!(scalar_to_be(&s)[30..], [1, 2]);
        assert_eq!(scalar_from_be(&scalar_to_be(&s)), Some(s));
    }

    #[test]
    fn off_curve_points_and_non_canonical_scalars_are_rejected() {
        let mut bytes = point_to_bytes(&G1Affine::generator());
        bytes[63] = 3;
        assert_eq!(point_from_bytes(&bytes), None);
        assert_eq!(scalar_from_be(&[0xff; 32]), None);
        let mut t = EvmTranscript::new(&[0xffu8; 32][..]);
        assert!(TranscriptRead::<G1Affine, EvmChallenge>::read_scalar(&mut t).is_err());
    }

    #[test]
    fn challenges_chain_through_the_digest() {
        let mut t = EvmTranscript::new(Vec::<u8>::new());
        Transcript::<G1Affine, EvmChallenge>::common_scalar(&mut t, Fr::from(7)).expect("in memory");
        let a = Transcript::<G1Affine, EvmChallenge>::squeeze_challenge(&mut t).get_scalar();
        let b = Transcript::<G1Affine, EvmChallenge>::squeeze_challenge(&mut t).get_scalar();
        assert_ne!(a, b);
        // The first challenge is keccak(be32(7)) mod r.
        let digest = keccak256(&scalar_to_be(&Fr::from(7)));
        assert_eq!(a, EvmChallenge::new(&digest).get_scalar());
    }
}
