//! Importing a snarkjs powers-of-tau ceremony file (`.ptau`, BN254) as KZG params.
//!
//! Operators know public ceremonies as snarkjs `.ptau` files (the Hermez / Polygon
//! `powersOfTau28_hez_final_XX.ptau` series, the Perpetual Powers of Tau). [`import`] reads
//! one and builds the `ParamsKZG<Bn256>` that halo2 needs for `2^k` rows.
//!
//! ## The format (snarkjs `@iden3/binfileutils`, `powersoftau_new.js`)
//!
//! All integers little-endian.
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `"ptau"` |
//! | 4 | version, `1` |
//! | 4 | number of sections |
//! | per section: 4, 8, size | section id (u32), size in bytes (u64), then the section's bytes |
//!
//! Sections read here (others — alpha/beta powers, the contributions, a prepared file's
//! other Lagrange sections — are only walked over):
//!
//! - **1, header**: `n8` (u32, bytes of a base-field element: 32), the prime `q` in `n8`
//!   bytes, `power` (u32: the file holds `2^power` powers), `ceremonyPower` (u32: the
//!   ceremony's size before a `powersoftau truncate`).
//! - **2, tauG1**: `2^(power+1) − 1` G1 points `[τ^i]₁`, 64 bytes each.
//! - **3, tauG2**: `2^power` G2 points `[τ^i]₂`, 128 bytes each.
//! - **12, lagrange tauG1**, in a file prepared for phase 2 only: `2^(power+2) − 1` G1 points,
//!   the Lagrange basis `[L_j(τ)]₁` for each domain size `2^p`, `p = 0 … power + 1` (see
//!   `lagrange`).
//!
//! A point is its affine `x` then `y`, each coordinate in Montgomery form (`a·2^256 mod q`),
//! little-endian; a G2 coordinate is an `Fq2` element `c0` then `c1`. The point at infinity is
//! all zero bytes. That is byte for byte halo2curves' raw encoding
//! ([`SerdeObject::from_raw_bytes`], which also checks each coordinate is below `q` and the
//! point is on the curve).
//!
//! ## What is checked
//!
//! Every section lies inside the file; the prime is BN254's; sections 2 and 3 have the
//! sizes `power` implies; `k ≤ power`; each of the `2^k` G1 powers read is on the curve and
//! not the point at infinity; `[τ^0]₁` and `[τ^0]₂` are the generators; `[τ]₁` is not
//! `±[1]₁` (`τ = ±1`, as in a file no one contributed to); `[τ]₂` is in the G2 subgroup; and
//! the powers are consistent (see `consistency`): `[τ^(i+1)]₁ = τ·[τ^i]₁` for every pair
//! read, with the `τ` of `[τ]₂`; a prepared file's Lagrange basis for `2^k` matches the powers.
//! Nothing checks that the ceremony's contributions were honest: that is what its public
//! transcript and `snarkjs powersoftau verify` are for. A large file is streamed: only the
//! `2^k` G1 powers, two G2 points and the `2^k` Lagrange points are read, never the whole file.

mod consistency;
mod error;
mod lagrange;
#[cfg(test)]
mod tests;

pub use error::PtauError;

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine, G2Affine};
use halo2_proofs::halo2curves::group::prime::PrimeCurveAffine;
use halo2_proofs::halo2curves::serde::SerdeObject;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use tiny_keccak::{Hasher, Keccak};

use crate::ProverError;

/// The base-field modulus `q` of BN254 (snarkjs' `bn128`), little-endian: what a BN254 file's
/// header holds.
const BN254_Q_LE: [u8; 32] = [
    0x47, 0xfd, 0x7c, 0xd8, 0x16, 0x8c, 0x20, 0x3c, 0x8d, 0xca, 0x71, 0x68, 0x91, 0x6a, 0x81, 0x97, //
    0x5d, 0x58, 0x81, 0x81, 0xb6, 0x45, 0x50, 0xb8, 0x29, 0xa0, 0x31, 0xe1, 0x72, 0x4e, 0x64, 0x30,
];

/// The largest `power` read: BN254's scalar field has 2^28-th roots of unity, so halo2 has
/// no larger domain (and the largest public ceremonies stop there).
pub const MAX_POWER: u32 = 28;

const G1_BYTES: usize = 64;
const G2_BYTES: usize = 128;
/// Bytes of section 1: `n8`, `q`, `power`, `ceremonyPower`.
const HEADER_BYTES: u64 = 4 + 32 + 4 + 4;
/// G1 points read, hashed and decoded at a time.
const CHUNK_POINTS: usize = 1 << 14;

/// What the header says about an imported file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PtauHeader {
    /// The file holds `2^power` powers of tau (G2), enough for `k ≤ power`.
    pub power: u32,
    /// The ceremony's power before `snarkjs powersoftau truncate` (equal to `power` if not truncated).
    pub ceremony_power: u32,
}

/// Where the params' Lagrange basis came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LagrangeBasis {
    /// Read from the file's section 12 (a file prepared for phase 2) and checked against the powers.
    Prepared,
    /// Computed from the powers by an inverse FFT over G1 (slow for a large k): the file is
    /// not prepared for phase 2.
    Computed,
}

/// Params built from a `.ptau` file, with what its header says.
#[derive(Clone, Debug)]
pub struct PtauImport {
    /// The params for `2^k` rows.
    pub params: ParamsKZG<Bn256>,
    /// The file's header.
    pub header: PtauHeader,
    /// Where the Lagrange basis came from.
    pub lagrange: LagrangeBasis,
}

/// Imports the `.ptau` file at `path` as params for `2^k` rows, with every check of the
/// module documentation. Only a regular file is read (a device or a pipe is refused).
pub fn import(path: &Path, k: u32) -> Result<PtauImport, ProverError> {
    let file = open_regular(path)?;
    let refused = |source| ProverError::Ptau { path: path.to_owned(), source };
    import_from(BufReader::with_capacity(1 << 20, file), k).map_err(refused)
}

/// Opens `path` if it is a regular file: a device or a pipe (`/dev/zero`, a FIFO) is refused
/// before it is opened, rather than read for ever or waited on.
fn open_regular(path: &Path) -> Result<File, ProverError> {
    let read_err = |source| ProverError::Read { path: path.to_owned(), source };
    if !std::fs::metadata(path).map_err(read_err)?.is_file() {
        let reason = "a powers-of-tau file is a regular file".to_string();
        return Err(ProverError::Corrupt { path: path.to_owned(), what: "snarkjs powers-of-tau file", reason });
    }
    File::open(path).map_err(read_err)
}

/// [`import`] over any seekable reader (the whole stream is the file).
pub fn import_from<R: Read + Seek>(mut reader: R, k: u32) -> Result<PtauImport, PtauError> {
    let len = reader.seek(SeekFrom::End(0))?;
    reader.rewind()?;
    let sections = read_section_table(&mut reader, len)?;
    let (header, header_bytes) = read_header(&mut reader, &sections)?;
    if k > header.power {
        return Err(PtauError::PowerTooSmall { power: header.power, k });
    }
    check_point_sections(&sections, header.power)?;
    let mut transcript = Keccak::v256();
    transcript.update(&header_bytes);
    // At least two powers, so that even k = 0 checks [τ]₂ against [τ]₁.
    let n = 1usize << k;
    let mut g1 = read_g1(&mut reader, sections.tau_g1.offset, n.max(2), "tauG1", &mut transcript)?;
    let (g2, s_g2) = read_g2_pair(&mut reader, sections.tau_g2, &mut transcript)?;
    // Section 12's block for 2^k starts after the blocks for 1, 2, …, 2^(k−1): 2^k − 1 points.
    let prepared = match sections.lagrange {
        Some(section) => {
            let offset = section.offset + (n as u64 - 1) * G1_BYTES as u64;
            Some(read_g1(&mut reader, offset, n, "the Lagrange basis (section 12)", &mut transcript)?)
        }
        None => None,
    };
    let mut seed = [0u8; 32];
    transcript.finalize(&mut seed);
    let mut rng = ChaCha20Rng::from_seed(seed);
    consistency::check(&g1, &g2, &s_g2, &mut rng)?;
    g1.truncate(n);
    let (g_lagrange, lagrange) = match prepared {
        Some(points) => {
            let points = lagrange::to_halo2_order(points, k);
            lagrange::check(&g1, &points, k, &mut rng)?;
            (Some(points), LagrangeBasis::Prepared)
        }
        None => (None, LagrangeBasis::Computed),
    };
    Ok(PtauImport { params: consistency::params(k, g1, g_lagrange, g2, s_g2), header, lagrange })
}

/// The BLAKE2b-512 of the whole file at `path` (the checksum snarkjs prints and publishes
/// for its ceremony files), streamed.
pub fn file_blake2b512(path: &Path) -> Result<[u8; 64], ProverError> {
    let mut state = blake2b_simd::Params::new().hash_length(64).to_state();
    stream_file(path, |chunk| {
        state.update(chunk);
    })?;
    let mut digest = [0u8; 64];
    digest.copy_from_slice(state.finalize().as_bytes());
    Ok(digest)
}

/// The keccak-256 of the whole file at `path` (the checksum `zkpolicy setup --checksum` takes
/// for halo2 params files), streamed.
pub fn file_keccak256(path: &Path) -> Result<[u8; 32], ProverError> {
    let mut state = Keccak::v256();
    stream_file(path, |chunk| state.update(chunk))?;
    let mut digest = [0u8; 32];
    state.finalize(&mut digest);
    Ok(digest)
}

/// Feeds the regular file at `path` to `consume` in chunks.
fn stream_file(path: &Path, mut consume: impl FnMut(&[u8])) -> Result<(), ProverError> {
    let read_err = |source| ProverError::Read { path: path.to_owned(), source };
    let mut file = open_regular(path)?;
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => consume(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_err(e)),
        }
    }
}

/// Where sections 1 to 3 start (after their id and size) and how large they are.
#[derive(Clone, Copy, Debug)]
struct Section {
    offset: u64,
    size: u64,
}

#[derive(Clone, Copy, Debug)]
struct Sections {
    header: Section,
    tau_g1: Section,
    tau_g2: Section,
    /// Only in a file prepared for phase 2.
    lagrange: Option<Section>,
}

/// The ids of the sections read, and their names in snarkjs.
const SECTIONS: [(u32, &str); 4] = [(1, "header"), (2, "tauG1"), (3, "tauG2"), (12, "lagrange tauG1")];

fn section_name(id: u32) -> &'static str {
    SECTIONS.iter().find(|(i, _)| *i == id).map_or("", |(_, name)| name)
}

/// Walks the section table: every section must lie inside the file (so a truncated
/// download is refused whole), sections 1 to 3 appear once each, section 12 at most once.
fn read_section_table<R: Read + Seek>(reader: &mut R, len: u64) -> Result<Sections, PtauError> {
    let truncated = |what: String, end: u64| PtauError::Truncated { what, end, len };
    if len < 12 {
        return Err(truncated("the file header".into(), 12));
    }
    let mut prefix = [0u8; 12];
    reader.read_exact(&mut prefix)?;
    if &prefix[..4] != b"ptau" {
        return Err(PtauError::NotPtau);
    }
    let version = u32_at(&prefix, 4);
    if version != 1 {
        return Err(PtauError::Version { version });
    }
    let count = u32_at(&prefix, 8);
    let mut found: [Vec<Section>; SECTIONS.len()] = Default::default();
    let mut position = 12u64;
    // Each entry takes at least 12 bytes of the file, so a lying count ends at the file's end.
    for entry in 1..=count {
        let offset = position + 12;
        if offset > len {
            return Err(truncated(format!("the table entry of section number {entry}"), offset));
        }
        let mut raw = [0u8; 12];
        reader.read_exact(&mut raw)?;
        let id = u32_at(&raw, 0);
        let size = u64_at(&raw, 4);
        let end = offset.saturating_add(size);
        if end > len {
            let name = Some(section_name(id)).filter(|n| !n.is_empty()).map(|n| format!(" ({n})")).unwrap_or_default();
            return Err(truncated(format!("section {id}{name}"), end));
        }
        if let Some(slot) = SECTIONS.iter().position(|(i, _)| *i == id) {
            found[slot].push(Section { offset, size });
        }
        position = end;
        reader.seek(SeekFrom::Start(position))?;
    }
    let count_error = |i: usize| PtauError::SectionCount { id: SECTIONS[i].0, name: SECTIONS[i].1, count: found[i].len() };
    let pick = |i: usize| match found[i].as_slice() {
        [section] => Ok(*section),
        _ => Err(count_error(i)),
    };
    let lagrange = match found[3].as_slice() {
        [] => None,
        [section] => Some(*section),
        _ => return Err(count_error(3)),
    };
    Ok(Sections { header: pick(0)?, tau_g1: pick(1)?, tau_g2: pick(2)?, lagrange })
}

/// Section 1: the field must be BN254's, the power in range. Returns its bytes for the
/// transcript that seeds the consistency check.
fn read_header<R: Read + Seek>(reader: &mut R, sections: &Sections) -> Result<(PtauHeader, Vec<u8>), PtauError> {
    let section = sections.header;
    reader.seek(SeekFrom::Start(section.offset))?;
    let mut n8 = [0u8; 4];
    if section.size < 4 {
        return Err(PtauError::SectionSize { id: 1, name: "header", size: section.size, expected: HEADER_BYTES, why: String::new() });
    }
    reader.read_exact(&mut n8)?;
    let n8 = u32::from_le_bytes(n8);
    if n8 != 32 {
        return Err(PtauError::WrongCurve { reason: format!("its field elements have {n8} bytes; BN254's have 32") });
    }
    if section.size != HEADER_BYTES {
        return Err(PtauError::SectionSize { id: 1, name: "header", size: section.size, expected: HEADER_BYTES, why: String::new() });
    }
    let mut bytes = vec![0u8; HEADER_BYTES as usize];
    bytes[..4].copy_from_slice(&n8.to_le_bytes());
    reader.read_exact(&mut bytes[4..])?;
    if bytes[4..36] != BN254_Q_LE {
        let mut q = bytes[4..36].to_vec();
        q.reverse();
        return Err(PtauError::WrongCurve { reason: format!("its prime is 0x{}", hex::encode(q)) });
    }
    let power = u32_at(&bytes, 36);
    let ceremony_power = u32_at(&bytes, 40);
    if !(1..=MAX_POWER).contains(&power) {
        return Err(PtauError::Power { power });
    }
    Ok((PtauHeader { power, ceremony_power }, bytes))
}

/// Sections 2, 3 and 12 hold exactly the points `power` says.
fn check_point_sections(sections: &Sections, power: u32) -> Result<(), PtauError> {
    let g1_points = (2u64 << power) - 1;
    let g2_points = 1u64 << power;
    let lagrange_points = (4u64 << power) - 1;
    let expected = [(2, Some(sections.tau_g1), g1_points, G1_BYTES), (3, Some(sections.tau_g2), g2_points, G2_BYTES)];
    for (id, section, points, bytes) in expected.into_iter().chain([(12, sections.lagrange, lagrange_points, G1_BYTES)]) {
        let Some(section) = section else { continue };
        let expected = points * bytes as u64;
        if section.size != expected {
            let why = format!(" ({points} points of {bytes} bytes, for power {power})");
            return Err(PtauError::SectionSize { id, name: section_name(id), size: section.size, expected, why });
        }
    }
    Ok(())
}

/// `count` G1 points from `offset`, in chunks: hashed into `transcript`, decoded in parallel
/// (`what` names them in errors, with their index from `offset`).
fn read_g1<R: Read + Seek>(
    reader: &mut R,
    offset: u64,
    count: usize,
    what: &'static str,
    transcript: &mut Keccak,
) -> Result<Vec<G1Affine>, PtauError> {
    reader.seek(SeekFrom::Start(offset))?;
    let mut points = Vec::with_capacity(count);
    let mut buffer = vec![0u8; CHUNK_POINTS * G1_BYTES];
    while points.len() < count {
        let start = points.len();
        let chunk = &mut buffer[..(count - start).min(CHUNK_POINTS) * G1_BYTES];
        reader.read_exact(chunk)?;
        transcript.update(chunk);
        let decoded: Vec<G1Affine> = chunk
            .par_chunks_exact(G1_BYTES)
            .enumerate()
            .map(|(i, bytes)| decode(bytes, what, "G1", (start + i) as u64))
            .collect::<Result<_, _>>()?;
        points.extend(decoded);
    }
    Ok(points)
}

/// `[1]₂` and `[τ]₂`, the first two points of tauG2, each checked to be in the subgroup.
fn read_g2_pair<R: Read + Seek>(reader: &mut R, section: Section, transcript: &mut Keccak) -> Result<(G2Affine, G2Affine), PtauError> {
    use halo2_proofs::halo2curves::bn256::G2;
    use halo2_proofs::halo2curves::group::cofactor::CofactorGroup;
    reader.seek(SeekFrom::Start(section.offset))?;
    let mut bytes = [0u8; 2 * G2_BYTES];
    reader.read_exact(&mut bytes)?;
    transcript.update(&bytes);
    let point = |index: usize| -> Result<G2Affine, PtauError> {
        let point: G2Affine = decode(&bytes[index * G2_BYTES..(index + 1) * G2_BYTES], "tauG2", "G2", index as u64)?;
        if !bool::from(G2::from(point).is_torsion_free()) {
            return Err(PtauError::NotInSubgroup { index: index as u64 });
        }
        Ok(point)
    };
    Ok((point(0)?, point(1)?))
}

/// A point from its raw bytes: on the curve, and not the point at infinity.
fn decode<P: SerdeObject + PrimeCurveAffine>(bytes: &[u8], section: &'static str, group: &'static str, index: u64) -> Result<P, PtauError> {
    let point = P::from_raw_bytes(bytes).ok_or(PtauError::NotOnCurve { section, group, index })?;
    if bool::from(point.is_identity()) {
        return Err(PtauError::Infinity { section, index });
    }
    Ok(point)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}
