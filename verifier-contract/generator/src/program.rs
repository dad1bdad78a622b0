//! The instruction set of the verifier program.
//!
//! Registers are numbered: `S(i)` holds a scalar mod r, `P(i)` a G1 point.
//! Reads consume the proof in order; the transcript absorbs what is read.

use halo2_proofs::halo2curves::bn256::{Fr, G1Affine, G2Affine};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct S(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct P(pub u32);

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Reads `count` uncompressed points from the proof into `first..` (rejecting points
    /// off the curve) and absorbs them.
    ReadPoints {
        first: P,
        count: u32,
    },
    /// Reads `count` big-endian scalars into `first..` (rejecting values >= r) and absorbs them.
    ReadScalars {
        first: S,
        count: u32,
    },
    /// Loads all `count` public inputs into `first..` (rejecting values >= r) and absorbs them.
    LoadInstances {
        first: S,
        count: u32,
    },
    /// `dst = Σ_i instance_i · ω^i · common / (x − ω^i)`: the instance column at x,
    /// with `common = (xⁿ − 1)/n`; rejects if some `x = ω^i`.
    InstanceEval {
        dst: S,
        first: S,
        count: u32,
        x: S,
        common: S,
        omega: Fr,
    },
    /// Appends a scalar to the transcript buffer.
    Absorb {
        src: S,
    },
    /// `dst = keccak256(buffer) mod r`; the buffer becomes the digest.
    Squeeze {
        dst: S,
    },
    Const {
        dst: S,
        value: Fr,
    },
    Add {
        dst: S,
        a: S,
        b: S,
    },
    Sub {
        dst: S,
        a: S,
        b: S,
    },
    Mul {
        dst: S,
        a: S,
        b: S,
    },
    /// `dst = base^exp`.
    Pow {
        dst: S,
        base: S,
        exp: u64,
    },
    /// `dst_i = 1 / src_i` for every pair; the proof is rejected if any `src_i` is zero.
    BatchInvert {
        pairs: Vec<(S, S)>,
    },
    PointConst {
        dst: P,
        value: G1Affine,
    },
    /// `dst = Σ scalar_i · point_i`.
    Msm {
        dst: P,
        terms: Vec<(S, P)>,
    },
    /// A comment for the rendered source; no effect.
    Note {
        text: String,
    },
    /// Accepts iff `e(lhs, s_g2) · e(rhs, -g2) = 1`.
    PairingCheck {
        lhs: P,
        rhs: P,
    },
}

/// A complete verifier: ops, the public-input count, the proof length, and the
/// G2 points of the pairing check.
#[derive(Clone, Debug)]
pub struct Program {
    pub ops: Vec<Op>,
    pub num_instances: usize,
    pub proof_len: usize,
    pub num_scalars: u32,
    pub num_points: u32,
    pub g2: G2Affine,
    pub s_g2: G2Affine,
}
