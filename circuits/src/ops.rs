//! Gate selectors packed into two fixed columns.
//!
//! Each gate is switched on by a Lagrange polynomial of a small op code, not by
//! a selector column of its own: every fixed column costs an evaluation in the
//! proof and in the EVM verifier, and the two codes keep the constraint degree
//! at 5 (a degree-5 system uses a 4n extended domain).
//!
//! - `op_a ∈ {0, DOT, BIAS, REQUANTIZE}`: the accumulator gates (selector degree 3);
//! - `op_b ∈ {0, MAX, MIN, PUBLIC}` with `MAX = 1`, `MIN = -1`, `PUBLIC = 2`: the comparison
//!   gates and the public-input gate (selector degree 3).

use halo2_proofs::plonk::Expression;

use crate::field::{fr, Fr};

/// `op_a` code of a dot row: `acc = acc[-1] + Σ lane·weight`.
pub const OP_A_DOT: i64 = 1;
/// `op_a` code of a bias row, which starts a neuron's accumulator at its bias.
pub const OP_A_BIAS: i64 = 2;
/// `op_a` code of a requantization row: `acc[-1] = q·2^shift + r` with `r` range-checked.
pub const OP_A_REQUANTIZE: i64 = 3;
const OP_A_CODES: [i64; 4] = [0, OP_A_DOT, OP_A_BIAS, OP_A_REQUANTIZE];

/// `op_b` code of a comparison row giving `max(x, th)`.
pub const OP_B_MAX: i64 = 1;
/// `op_b` code of a comparison row giving `min(x, th)`.
pub const OP_B_MIN: i64 = -1;
/// `op_b` code of a public input's row: `acc = instance`.
pub const OP_B_PUBLIC: i64 = 2;
const OP_B_CODES: [i64; 4] = [0, OP_B_MAX, OP_B_MIN, OP_B_PUBLIC];

/// `Π_{c ≠ code} (x - c) / (code - c)`: 1 where `x = code`, 0 at the other codes.
fn lagrange(x: &Expression<Fr>, codes: &[i64], code: i64) -> Expression<Fr> {
    codes.iter().filter(|&&c| c != code).fold(Expression::Constant(fr(1)), |acc, &c| {
        let inv = Option::<Fr>::from(halo2_proofs::halo2curves::ff::Field::invert(&fr(code - c))).unwrap_or_else(|| fr(0));
        acc * (x.clone() - Expression::Constant(fr(c))) * Expression::Constant(inv)
    })
}

/// The selector expression of accumulator gate `code` (one of the `OP_A_*`): 1 on its
/// rows, 0 on rows of the other `op_a` codes; degree 3 in `op_a`.
pub fn op_a_is(op_a: &Expression<Fr>, code: i64) -> Expression<Fr> {
    lagrange(op_a, &OP_A_CODES, code)
}

/// The selector expression of `op_b` gate `code` ([`OP_B_MAX`], [`OP_B_MIN`] or
/// [`OP_B_PUBLIC`]): 1 on its rows, 0 on rows of the other `op_b` codes; degree 3 in `op_b`.
pub fn op_b_is(op_b: &Expression<Fr>, code: i64) -> Expression<Fr> {
    lagrange(op_b, &OP_B_CODES, code)
}

/// 1 on any comparison row (`op_b = ±1`), 0 elsewhere (degree 3 in `op_b`).
pub fn op_b_any(op_b: &Expression<Fr>) -> Expression<Fr> {
    op_b_is(op_b, OP_B_MAX) + op_b_is(op_b, OP_B_MIN)
}
