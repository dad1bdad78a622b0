//! The circuit's shape: lanes per row, rows, and k, planned from the model.
//!
//! Row budget (each comparison and requantization owns two `limb` rows), computed
//! once by [`place`] and used by both the planner and the circuit's layout:
//! - each KPI: 4 rows (instance copy, max, copy, min);
//! - each neuron with `n` inputs: `1 + ceil(n/W)` (bias, dots) `+ 2` (requantize)
//!   `+ 2` per comparison (1 for relu, 2 for the output clamp);
//! - one trailing row for the last high limb.

use halo2_proofs::plonk::ConstraintSystem;
use zkpolicy_model::Model;

use crate::chips::poseidon::PoseidonChip;
use crate::chips::range::TABLE_ROWS;
use crate::chips::Chips;
use crate::field::Fr;
use crate::policy::{PolicyParams, WeightMode};
use crate::{private, CircuitError};

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
    /// Columns in the permutation argument (each has a sigma commitment in the key).
    pub equality_columns: usize,
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

    /// Commitments the EVM verifier multiplies by a scalar: the proof's, and the
    /// verifying key's (fixed columns, permutation sigmas). Each costs one ecMul
    /// (6,000 gas) and an opening, so this is what verification gas follows.
    pub fn verifier_msm_terms(&self) -> usize {
        self.committed_polynomials() + self.fixed_columns + self.equality_columns
    }

    /// The planner's estimate of prover work: committed polynomials times rows.
    pub fn prover_work(&self) -> usize {
        (self.advice_columns + self.permutation_chunks + 3 * self.lookups + self.degree - 1) << self.k
    }
}

/// What [`plan_for`] minimises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Objective {
    /// Verification gas: the fewest commitments (fewest lanes), whatever k it takes. The
    /// default: verification cost stays flat as models grow.
    #[default]
    Gas,
    /// Prover time: the least `2^k × committed polynomials`, wider lanes for big models.
    ProverTime,
}

/// Where one network input's range check sits (a KPI, or a parameter after the KPIs): the
/// input (a copy of its instance) in `acc[input]`, `max(x, lo)` on row `max` and
/// `min(·, hi)` on row `min`, which must equal the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputRows {
    pub input: usize,
    pub max: usize,
    pub min: usize,
}

/// Where one neuron sits: the bias row, its dot rows `bias + 1 ..= bias + dots`, the
/// requantization (reading `z` from `acc[requantize − 1]`), and its comparisons: one
/// (relu, `max(q, 0)`) in hidden layers, two (the clamp's max then min) in the last.
/// Each comparison reads its input from `acc[at − 1]`, a copy when it is not already there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeuronRows {
    pub bias: usize,
    pub dots: usize,
    pub requantize: usize,
    pub compares: Vec<usize>,
}

impl NeuronRows {
    /// The row whose `acc` holds the neuron's result.
    pub fn output(&self) -> usize {
        self.compares.last().copied().unwrap_or(self.requantize)
    }
}

/// The row of every operation of a model's circuit, used both to lay it out and by
/// tests that must name the cell or row they tamper with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub inputs: Vec<InputRows>,
    /// `layers[l][j]`: neuron `j` of layer `l`.
    pub layers: Vec<Vec<NeuronRows>>,
    /// Rows used, the trailing high limb of the last comparison included.
    pub rows: usize,
}

/// Places layer widths `dims` (inputs first) at `lanes` multiply-accumulates per dot row.
pub fn place(dims: &[usize], lanes: usize) -> Placement {
    let mut row = 0;
    let inputs = (0..dims[0])
        .map(|_| {
            let at = row;
            row += INPUT_ROWS;
            InputRows { input: at, max: at + 1, min: at + 3 }
        })
        .collect();
    let last = dims.len().saturating_sub(2);
    let layers = dims
        .windows(2)
        .enumerate()
        .map(|(l, w)| {
            let dots = w[0].div_ceil(lanes.max(1));
            (0..w[1])
                .map(|_| {
                    let bias = row;
                    let requantize = bias + 1 + dots;
                    // Each comparison owns two limb rows; the next block starts on the last one.
                    let compares = if l == last { vec![requantize + 2, requantize + 4] } else { vec![requantize + 2] };
                    row = compares[compares.len() - 1] + 1;
                    NeuronRows { bias, dots, requantize, compares }
                })
                .collect()
        })
        .collect();
    Placement { inputs, layers, rows: row + 1 }
}

/// Rows the layout needs for layer widths `dims` at `lanes` per dot row.
pub fn rows_needed(dims: &[usize], lanes: usize) -> usize {
    place(dims, lanes).rows
}

/// Rows a model's circuit needs: the policy rows and, in private mode, the weight hash after them.
pub fn rows_for(model: &Model, lanes: usize, weights: WeightMode) -> usize {
    let policy = rows_needed(&model.dims(), lanes);
    match weights {
        WeightMode::Fixed => policy,
        WeightMode::Private => policy + PoseidonChip::rows(2 * private::permutations(model.parameter_count())),
    }
}

/// The shape that minimises verification gas (see [`Objective::Gas`]).
pub fn plan(model: &Model) -> Result<CircuitShape, CircuitError> {
    plan_for(model, Objective::Gas, WeightMode::Fixed)
}

/// Chooses the lane width for `objective` among the shapes that fit `k ≤ MAX_K`, preferring
/// fewer columns on ties.
pub fn plan_for(model: &Model, objective: Objective, weights: WeightMode) -> Result<CircuitShape, CircuitError> {
    let mut best: Option<((usize, usize), CircuitShape)> = None;
    let mut smallest_rows = usize::MAX;
    for lanes in LANE_CHOICES {
        let shape = match shape_for(model, lanes, weights) {
            Ok(shape) => shape,
            Err(CircuitError::TooLarge { rows, .. }) => {
                smallest_rows = smallest_rows.min(rows);
                continue;
            }
            Err(e) => return Err(e),
        };
        let cost = match objective {
            Objective::Gas => (shape.verifier_msm_terms(), shape.k as usize),
            Objective::ProverTime => (shape.prover_work(), shape.verifier_msm_terms()),
        };
        if best.as_ref().is_none_or(|(c, _)| cost < *c) {
            best = Some((cost, shape));
        }
    }
    best.map(|(_, s)| s).ok_or(CircuitError::TooLarge { model: model.name().into(), rows: smallest_rows, max_k: MAX_K })
}

/// The shape at a given lane width.
pub fn shape_for(model: &Model, lanes: usize, weights: WeightMode) -> Result<CircuitShape, CircuitError> {
    let dims = model.dims();
    let mut cs = ConstraintSystem::<Fr>::default();
    Chips::configure(&mut cs, PolicyParams { lanes, weights });
    let unusable = cs.blinding_factors() + 1;
    let rows = rows_for(model, lanes, weights);
    let need = rows.max(TABLE_ROWS) + unusable;
    let k = (4..=MAX_K).find(|k| (1usize << k) >= need).ok_or(CircuitError::TooLarge { model: model.name().into(), rows, max_k: MAX_K })?;
    Ok(CircuitShape {
        lanes,
        k,
        rows,
        usable_rows: (1usize << k) - unusable,
        advice_columns: cs.num_advice_columns(),
        fixed_columns: cs.num_fixed_columns(),
        lookups: cs.lookups().len(),
        permutation_chunks: cs.permutation().get_columns().len().div_ceil(cs.degree() - 2),
        equality_columns: cs.permutation().get_columns().len(),
        instances: 1 + dims[0] + dims[dims.len() - 1],
        degree: cs.degree(),
    })
}
