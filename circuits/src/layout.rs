//! The circuit's shape: lanes per row, rows, and k, planned from the model.
//!
//! Row budget (each comparison and requantization owns two `limb` rows):
//! - each KPI: 4 rows (instance copy, max, copy, min);
//! - each neuron with `n` inputs: `1 + ceil(n/W)` (bias, dots) `+ 2` (requantize)
//!   `+ 2` per comparison (1 for relu, 2 for the output clamp);
//! - one trailing row for the last high limb.

use halo2_proofs::plonk::ConstraintSystem;
use zkpolicy_model::Model;

use crate::chips::range::TABLE_ROWS;
use crate::chips::Chips;
use crate::field::Fr;
use crate::CircuitError;

/// Rows one KPI's range check takes.
pub const INPUT_ROWS: usize = 4;
/// Lane widths the planner considers.
pub const LANE_CHOICES: [usize; 6] = [1, 2, 4, 8, 16, 32];
/// The largest circuit the planner builds.
pub const MAX_K: u32 = 20;

/// The planned shape of one model's circuit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitShape {
    /// Multiply-accumulates per dot row.
    pub lanes: usize,
    pub k: u32,
    /// Rows the layout uses (the range table excluded; it has its own fixed columns).
    pub rows: usize,
    /// Rows usable at this k after the blinding rows.
    pub usable_rows: usize,
    pub advice_columns: usize,
    pub fixed_columns: usize,
    pub lookups: usize,
    /// Grand-product polynomials of the permutation argument: equality columns in chunks of `degree − 2`.
    pub permutation_chunks: usize,
    pub instances: usize,
    pub degree: usize,
}

impl CircuitShape {
    /// Polynomials the prover commits to: advice, lookup (permuted input, permuted
    /// table, product), permutation products, the vanishing argument's random
    /// polynomial and quotient pieces, and SHPLONK's two opening witnesses.
    pub fn committed_polynomials(&self) -> usize {
        self.advice_columns + 3 * self.lookups + self.permutation_chunks + 1 + (self.degree - 1) + 2
    }
}

/// Rows the layout needs for layer widths `dims` at `lanes` per dot row.
pub fn rows_needed(dims: &[usize], lanes: usize) -> usize {
    let mut rows = INPUT_ROWS * dims[0];
    let last = dims.len() - 2;
    for (l, w) in dims.windows(2).enumerate() {
        let comparisons = if l == last { 2 } else { 1 };
        rows += w[1] * (w[0].div_ceil(lanes) + 3 + 2 * comparisons - 1);
    }
    rows + 1
}

/// Chooses the lane width that minimises an estimate of prover work,
/// `2^k × (polynomials committed)`, preferring fewer columns on ties.
pub fn plan(model: &Model) -> Result<CircuitShape, CircuitError> {
    let dims = model.dims();
    let mut best: Option<(usize, CircuitShape)> = None;
    for lanes in LANE_CHOICES {
        let shape = shape_for(model, &dims, lanes)?;
        // advice + lanes' permutation chunks + 3 lookup polynomials + quotient pieces.
        let polys = shape.advice_columns + shape.permutation_chunks + 3 * shape.lookups + shape.degree - 1;
        let cost = polys << shape.k;
        if best.as_ref().is_none_or(|(c, _)| cost < *c) {
            best = Some((cost, shape));
        }
    }
    best.map(|(_, s)| s).ok_or(CircuitError::TooLarge { model: model.name().into(), rows: 0, max_k: MAX_K })
}

/// The shape at a given lane width.
pub fn shape_for(model: &Model, dims: &[usize], lanes: usize) -> Result<CircuitShape, CircuitError> {
    let mut cs = ConstraintSystem::<Fr>::default();
    Chips::configure(&mut cs, lanes);
    let unusable = cs.blinding_factors() + 1;
    let rows = rows_needed(dims, lanes);
    let need = rows.max(TABLE_ROWS) + unusable;
    let k = (4..=MAX_K)
        .find(|k| (1usize << k) >= need)
        .ok_or(CircuitError::TooLarge { model: model.name().into(), rows, max_k: MAX_K })?;
    Ok(CircuitShape {
        lanes,
        k,
        rows,
        usable_rows: (1usize << k) - unusable,
        advice_columns: cs.num_advice_columns(),
        fixed_columns: cs.num_fixed_columns(),
        lookups: cs.lookups().len(),
        permutation_chunks: cs.permutation().get_columns().len().div_ceil(cs.degree() - 2),
        instances: 1 + dims[0] + dims[dims.len() - 1],
        degree: cs.degree(),
    })
}
