//! Runs a verifier program in Rust: the reference the Solidity rendering follows.

use crate::transcript::{keccak256, point_from_bytes, scalar_from_be, scalar_to_be, EvmChallenge};
use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine, G2Affine, G2Prepared, G1};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::halo2curves::group::{Curve, Group};
use halo2_proofs::halo2curves::pairing::{MillerLoopResult, MultiMillerLoop};
use halo2_proofs::transcript::EncodedChallenge;

use crate::program::{Op, Program};

/// Why a proof was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The proof is not exactly the program's length.
    WrongLength {
        /// The program's proof length in bytes.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// The call passes another number of public inputs than the circuit has.
    WrongInstanceCount {
        /// The program's instance count.
        expected: usize,
        /// The count given.
        got: usize,
    },
    /// A 64-byte point of the proof is not on BN254's G1.
    PointNotOnCurve {
        /// Byte offset of the point in the proof.
        offset: usize,
    },
    /// A 32-byte scalar of the proof is not below the scalar field modulus r.
    ScalarNotCanonical {
        /// Byte offset of the scalar in the proof.
        offset: usize,
    },
    /// A value to invert was zero (e.g. the challenge `x` fell on the domain), so the proof
    /// is refused.
    ZeroInverse,
    /// Everything read and computed, but the final pairing check fails: the proof does not
    /// prove these public inputs.
    PairingFailed,
}

/// Executes `program` on a proof; `Ok(())` means accepted.
pub fn run(program: &Program, proof: &[u8], instances: &[Fr]) -> Result<(), Rejection> {
    if proof.len() != program.proof_len {
        return Err(Rejection::WrongLength { expected: program.proof_len, got: proof.len() });
    }
    if instances.len() != program.num_instances {
        return Err(Rejection::WrongInstanceCount { expected: program.num_instances, got: instances.len() });
    }
    let mut s = vec![Fr::ZERO; program.num_scalars as usize];
    let mut p = vec![G1Affine::default(); program.num_points as usize];
    let mut buffer: Vec<u8> = Vec::new();
    let mut cursor = 0usize;
    for op in &program.ops {
        match op {
            Op::ReadPoints { first, count } => {
                for i in 0..*count as usize {
                    let bytes: [u8; 64] = proof[cursor..cursor + 64].try_into().unwrap_or([0xff; 64]);
                    p[first.0 as usize + i] = point_from_bytes(&bytes).ok_or(Rejection::PointNotOnCurve { offset: cursor })?;
                    buffer.extend_from_slice(&bytes);
                    cursor += 64;
                }
            }
            Op::ReadScalars { first, count } => {
                for i in 0..*count as usize {
                    let bytes: [u8; 32] = proof[cursor..cursor + 32].try_into().unwrap_or([0xff; 32]);
                    s[first.0 as usize + i] = scalar_from_be(&bytes).ok_or(Rejection::ScalarNotCanonical { offset: cursor })?;
                    buffer.extend_from_slice(&bytes);
                    cursor += 32;
                }
            }
            Op::LoadInstances { first, count } => {
                for i in 0..*count as usize {
                    s[first.0 as usize + i] = instances[i];
                    buffer.extend_from_slice(&scalar_to_be(&instances[i]));
                }
            }
            Op::InstanceDenominator { dst, count, x, omega } => {
                let x = s[x.0 as usize];
                let mut w = Fr::ONE;
                let mut product = Fr::ONE;
                for _ in 0..*count {
                    product *= x - w;
                    w *= omega;
                }
                s[dst.0 as usize] = product;
            }
            Op::InstanceEval { dst, first, count, x, common, inv, omega } => {
                // As the Solidity verifier: 1 / (x − ω^i) from the prefix products and the
                // batched inverse of their whole product, walking back from the last row.
                let (x, common, mut inv) = (s[x.0 as usize], s[common.0 as usize], s[inv.0 as usize]);
                // Row i: (ω^i, x − ω^i, Π_{j<i} (x − ω^j)).
                let mut rows = Vec::with_capacity(*count as usize);
                let (mut w, mut prefix) = (Fr::ONE, Fr::ONE);
                for _ in 0..*count {
                    rows.push((w, x - w, prefix));
                    prefix *= x - w;
                    w *= omega;
                }
                let mut acc = Fr::ZERO;
                for (i, (w, d, prefix)) in rows.into_iter().enumerate().rev() {
                    acc += s[first.0 as usize + i] * w * common * prefix * inv;
                    inv *= d;
                }
                s[dst.0 as usize] = acc;
            }
            Op::Absorb { src } => buffer.extend_from_slice(&scalar_to_be(&s[src.0 as usize])),
            Op::Squeeze { dst } => {
                let digest = keccak256(&buffer);
                buffer = digest.to_vec();
                s[dst.0 as usize] = EvmChallenge::new(&digest).get_scalar();
            }
            Op::Const { dst, value } => s[dst.0 as usize] = *value,
            Op::Add { dst, a, b } => s[dst.0 as usize] = s[a.0 as usize] + s[b.0 as usize],
            Op::Sub { dst, a, b } => s[dst.0 as usize] = s[a.0 as usize] - s[b.0 as usize],
            Op::Mul { dst, a, b } => s[dst.0 as usize] = s[a.0 as usize] * s[b.0 as usize],
            Op::Pow { dst, base, exp } => s[dst.0 as usize] = s[base.0 as usize].pow_vartime([*exp]),
            Op::BatchInvert { pairs } => {
                for (dst, src) in pairs {
                    s[dst.0 as usize] = Option::from(s[src.0 as usize].invert()).ok_or(Rejection::ZeroInverse)?;
                }
            }
            Op::PointConst { dst, value } => p[dst.0 as usize] = *value,
            Op::Note { .. } => {}
            Op::Msm { dst, terms } => {
                let sum = terms.iter().fold(G1::identity(), |acc, (k, q)| acc + p[q.0 as usize] * s[k.0 as usize]);
                p[dst.0 as usize] = sum.to_affine();
            }
            Op::PairingCheck { lhs, rhs } => {
                let neg_g2: G2Affine = -program.g2;
                let terms = [(&p[lhs.0 as usize], &G2Prepared::from(program.s_g2)), (&p[rhs.0 as usize], &G2Prepared::from(neg_g2))];
                let ok: bool = Bn256::multi_miller_loop(&terms).final_exponentiation().is_identity().into();
                if !ok {
                    return Err(Rejection::PairingFailed);
                }
            }
        }
    }
    Ok(())
}
