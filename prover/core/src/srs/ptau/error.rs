//! Why a `.ptau` file is refused: each check of the reader, with what it found.

use super::MAX_POWER;

/// What is wrong with a `.ptau` file; [`crate::ProverError::Ptau`] names the file.
#[derive(Debug, thiserror::Error)]
pub enum PtauError {
    /// The file does not start with the magic `ptau`.
    #[error("it does not start with \"ptau\" (not a snarkjs powers-of-tau file)")]
    NotPtau,

    /// A format version this reader does not know.
    #[error("format version {version}; snarkjs writes version 1")]
    Version {
        /// The file's version.
        version: u32,
    },

    /// A section (or the section table) runs past the end of the file.
    #[error("truncated: {what} ends at byte {end}, but the file has {len} bytes")]
    Truncated {
        /// What was being read, e.g. "section 2 (tauG1)".
        what: String,
        /// The offset where it ends.
        end: u64,
        /// The file's length.
        len: u64,
    },

    /// A section this reader needs is absent, or present twice.
    #[error("section {id} ({name}) appears {count} times; a powers-of-tau file has it once")]
    SectionCount {
        /// The section id.
        id: u32,
        /// Its name in snarkjs.
        name: &'static str,
        /// How many the file has.
        count: usize,
    },

    /// A section's size does not match what the header implies.
    #[error("section {id} ({name}) has {size} bytes, but {expected} were expected{why}")]
    SectionSize {
        /// The section id.
        id: u32,
        /// Its name in snarkjs.
        name: &'static str,
        /// Its size in the section table.
        size: u64,
        /// The size it should have.
        expected: u64,
        /// For a points section, the power that implies the size.
        why: String,
    },

    /// The header's field is not BN254's base field.
    #[error("its curve is not BN254 (snarkjs bn128): {reason}")]
    WrongCurve {
        /// The element size or prime found.
        reason: String,
    },

    /// The header's `power` is out of range.
    #[error("its header says power {power}; a BN254 ceremony has a power from 1 to {MAX_POWER}")]
    Power {
        /// The header's power.
        power: u32,
    },

    /// The file holds fewer powers than `2^k`.
    #[error(
        "it has power {power} (2^{power} powers of tau, for k ≤ {power}), but k = {k} was asked; use a ceremony file of power {k} or more"
    )]
    PowerTooSmall {
        /// The file's power.
        power: u32,
        /// The circuit size asked for.
        k: u32,
    },

    /// A point's bytes are not a point of the curve (a coordinate not below `q`, or off the curve).
    #[error(
        "{section}[{index}] is not a point of BN254 {group} (a coordinate is not below the field modulus, or the point is off the curve)"
    )]
    NotOnCurve {
        /// "tauG1", "tauG2" or the Lagrange basis (section 12).
        section: &'static str,
        /// "G1" or "G2".
        group: &'static str,
        /// The point's index in its section (in the Lagrange basis: in the block read).
        index: u64,
    },

    /// A G2 point is on the curve but outside the prime-order subgroup.
    #[error("tauG2[{index}] is on the curve but not in the prime-order G2 subgroup")]
    NotInSubgroup {
        /// The point's index in tauG2.
        index: u64,
    },

    /// A power is the point at infinity: `τ = 0`, or a broken file.
    #[error("{section}[{index}] is the point at infinity (τ = 0 is no secret)")]
    Infinity {
        /// "tauG1" or "tauG2".
        section: &'static str,
        /// The point's index in its section.
        index: u64,
    },

    /// The zeroth power is not the group's generator.
    #[error("{section}[0] is not the standard generator of BN254 {group}")]
    NotGenerator {
        /// "tauG1" or "tauG2".
        section: &'static str,
        /// "G1" or "G2".
        group: &'static str,
    },

    /// `τ = ±1`: no secret at all.
    #[error("tauG1[1] is ± the generator: τ = ±1 is no secret (a file no one contributed to, as `snarkjs powersoftau new` writes it)")]
    TrivialTau,

    /// The G1 powers are not successive powers of the `τ` of `[τ]₂`.
    #[error(
        "the powers are not consistent: the pairing check e(Σ rᵢ·tauG1[i], tauG2[1]) = e(Σ rᵢ·tauG1[i+1], G2) \
         over i < {pairs} fails, so some tauG1[i+1] ≠ τ·tauG1[i] (tampered or corrupt powers)"
    )]
    Inconsistent {
        /// How many consecutive pairs were checked.
        pairs: usize,
    },

    /// A prepared file's Lagrange basis (section 12) is not the basis of these powers.
    #[error(
        "its Lagrange basis for 2^k = {points} points (section 12) does not match the powers: the check \
         Σ rᵢ·L[i] = Σ cⱼ·tauG1[j] (c the coefficients of the polynomial of values r) fails (tampered or corrupt section)"
    )]
    LagrangeInconsistent {
        /// The points of the basis checked.
        points: usize,
    },

    /// Reading failed for a reason other than the file's end.
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
}
