//! The instruction set of the verifier program.
//!
//! Registers are numbered: `S(i)` holds a scalar mod r, `P(i)` a G1 point.
//! Reads consume the proof in order; the transcript absorbs what is read.

use halo2_proofs::halo2curves::bn256::{Fr, G1Affine, G2Affine};

/// Scalar register `i`: a value mod r (one memory word in the rendered contract, or an
/// inlined literal when it only ever holds a constant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct S(pub u32);

/// Point register `i`: a G1 point (two memory words in the rendered contract).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct P(pub u32);

/// One step of the verifier, executed in order by [`crate::interpret::run`] and rendered
/// line for line by [`crate::solidity::render`].
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Reads `count` uncompressed points from the proof into `first..` (rejecting points
    /// off the curve) and absorbs them.
    ReadPoints {
        /// The first register written.
        first: P,
        /// How many points (64 bytes each) are read.
        count: u32,
    },
    /// Reads `count` big-endian scalars into `first..` (rejecting values >= r) and absorbs them.
    ReadScalars {
        /// The first register written.
        first: S,
        /// How many scalars (32 bytes each) are read.
        count: u32,
    },
    /// Loads all `count` public inputs into `first..` (rejecting values >= r) and absorbs them.
    LoadInstances {
        /// The register of instance 0 (the epoch).
        first: S,
        /// The instance count; the call is rejected when it is not the program's.
        count: u32,
    },
    /// `dst = Π_i (x − ω^i)` over the instance rows, whose inverse [`Op::InstanceEval`] takes
    /// from the one batched inversion; the Solidity verifier also keeps the prefix products.
    InstanceDenominator {
        /// Receives the product.
        dst: S,
        /// How many instances there are.
        count: u32,
        /// The evaluation challenge.
        x: S,
        /// The domain's generator (a key constant).
        omega: Fr,
    },
    /// `dst = Σ_i instance_i · ω^i · common / (x − ω^i)`: the instance column at x,
    /// with `common = (xⁿ − 1)/n`, each `1 / (x − ω^i)` from `inv`, the inverse of
    /// [`Op::InstanceDenominator`]'s product (a zero product was rejected by the inversion).
    InstanceEval {
        /// Receives the instance polynomial's value at `x`.
        dst: S,
        /// The register of instance 0, as [`Op::LoadInstances`] placed it.
        first: S,
        /// How many instances there are.
        count: u32,
        /// The evaluation challenge.
        x: S,
        /// Holds `(xⁿ − 1)/n`, the Lagrange basis' shared factor.
        common: S,
        /// Holds `1 / Π_i (x − ω^i)`.
        inv: S,
        /// The domain's generator (a key constant).
        omega: Fr,
    },
    /// Appends a scalar to the transcript buffer.
    Absorb {
        /// The scalar appended, as 32 big-endian bytes.
        src: S,
    },
    /// `dst = keccak256(buffer) mod r`; the buffer becomes the digest.
    Squeeze {
        /// Receives the challenge.
        dst: S,
    },
    /// `dst = value`: a constant that depends only on the verifying key.
    Const {
        /// Receives the constant.
        dst: S,
        /// The constant.
        value: Fr,
    },
    /// `dst = a + b` mod r.
    Add {
        /// Receives the sum.
        dst: S,
        /// The first addend.
        a: S,
        /// The second addend.
        b: S,
    },
    /// `dst = a − b` mod r.
    Sub {
        /// Receives the difference.
        dst: S,
        /// The minuend.
        a: S,
        /// The subtrahend.
        b: S,
    },
    /// `dst = a · b` mod r.
    Mul {
        /// Receives the product.
        dst: S,
        /// The first factor.
        a: S,
        /// The second factor.
        b: S,
    },
    /// `dst = base^exp`.
    Pow {
        /// Receives the power.
        dst: S,
        /// The base.
        base: S,
        /// The exponent, a constant of the program (such as `n = 2^k`).
        exp: u64,
    },
    /// `dst_i = 1 / src_i` for every pair; the proof is rejected if any `src_i` is zero.
    BatchInvert {
        /// `(dst, src)` pairs: `dst` receives `1 / src`.
        pairs: Vec<(S, S)>,
    },
    /// `dst = value`: a point of the verifying key (a fixed or permutation commitment) or
    /// the SRS's generator.
    PointConst {
        /// Receives the point.
        dst: P,
        /// The point.
        value: G1Affine,
    },
    /// `dst = Σ scalar_i · point_i`.
    Msm {
        /// Receives the sum.
        dst: P,
        /// `(scalar, point)` terms; each costs an ecAdd, and an ecMul unless the scalar is
        /// the constant 1.
        terms: Vec<(S, P)>,
    },
    /// A comment for the rendered source; no effect.
    Note {
        /// The comment's text.
        text: String,
    },
    /// Accepts iff `e(lhs, s_g2) · e(rhs, -g2) = 1`.
    PairingCheck {
        /// Paired with `[s]G2`.
        lhs: P,
        /// Paired with `−G2`.
        rhs: P,
    },
}

/// A complete verifier: ops, the public-input count, the proof length, and the
/// G2 points of the pairing check.
#[derive(Clone, Debug)]
pub struct Program {
    /// The steps, in execution order.
    pub ops: Vec<Op>,
    /// Public inputs a call must pass (for the policy circuit: the epoch, the network
    /// inputs, then the outputs).
    pub num_instances: usize,
    /// The exact proof length in bytes; any other length is rejected before anything runs.
    pub proof_len: usize,
    /// Scalar registers used (`S(0..num_scalars)`).
    pub num_scalars: u32,
    /// Point registers used (`P(0..num_points)`).
    pub num_points: u32,
    /// The SRS's G2 generator.
    pub g2: G2Affine,
    /// `[s]G2` from the SRS: what ties the verifier to one ceremony.
    pub s_g2: G2Affine,
}
