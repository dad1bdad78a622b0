//! The circuit's shape: lanes per row, rows, and k, planned from the model.
//!
//! Row budget, computed once by [`place`] and used by both the planner and the circuit's
//! layout. Each comparison and requantization owns `limb` rows from its own row: 8 for a
//! range chain (fixed weights), 2 for the lookup (private weights); a check moves down
//! until its rows are free. In order:
//! - the public block, one row per instance: the epoch, the network inputs, the outputs
//!   ([`crate::chips::public`]);
//! - each KPI: the max (reading a copy of the input), the min (reading a copy of the max);
//! - each neuron with `n` inputs: bias and `ceil(n/W)` dot rows, the requantization, then
//!   its activation: relu a comparison; leaky ReLU the comparison, a two-term dot product,
//!   a requantization; tanh or sigmoid the clamp to the table's window, then the lookup
//!   row; and in the output layer the clamp to the output bounds;
//! - the last chain's top (one row), with fixed weights.

use halo2_proofs::plonk::ConstraintSystem;
use zkpolicy_model::arith::Table;
use zkpolicy_model::{Activation, Model};

use crate::chips::pack::PackChip;
use crate::chips::poseidon::PoseidonChip;
use crate::chips::range::{RangeMode, TABLE_ROWS};
use crate::chips::Chips;
use crate::field::Fr;
use crate::policy::{PolicyParams, WeightMode};
use crate::{private, CircuitError};

/// Lane widths the planner considers.
pub const LANE_CHOICES: [usize; 6] = [1, 2, 4, 8, 16, 32];
/// The largest circuit the planner builds.
pub const MAX_K: u32 = 20;

/// The planned shape of one model's circuit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitShape {
    /// Multiply-accumulates per dot row.
    pub lanes: usize,
    /// The circuit has `2^k` rows, at most [`MAX_K`] unless a benchmark asks for more.
    pub k: u32,
    /// Rows the layout uses (the range table excluded; it has its own fixed columns).
    pub rows: usize,
    /// Rows usable at this k after the blinding rows.
    pub usable_rows: usize,
    /// Advice columns: lanes, `acc`, `limb`, and in private mode the `secret` lanes.
    pub advice_columns: usize,
    /// Fixed columns, each a commitment in the verifying key.
    pub fixed_columns: usize,
    /// Lookup arguments (the range check, and the activation table when configured).
    pub lookups: usize,
    /// Grand-product polynomials of the permutation argument: equality columns in chunks of `degree − 2`.
    pub permutation_chunks: usize,
    /// Columns in the permutation argument (each has a sigma commitment in the key).
    pub equality_columns: usize,
    /// Public inputs: the epoch, the network inputs (KPIs and parameters), the outputs.
    pub instances: usize,
    /// The constraint system's maximum degree, which sets the quotient's pieces.
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
/// input (equal to its instance by the `public` gate) in `acc[input]`, `max(x, lo)` on row
/// `max` and `min(·, hi)` on row `min`, which must equal the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputRows {
    /// The public block's row whose `acc` holds the input (its instance row).
    pub input: usize,
    /// The row of `max(x, lo)`.
    pub max: usize,
    /// The row of `min(·, hi)`, whose result is constrained equal to the input.
    pub min: usize,
}

/// Where one neuron sits: the bias row, its dot rows `bias + 1 ..= bias + dots`, the
/// requantization (reading `z` from `acc[requantize − 1]`), and its comparisons in order:
/// relu's `max(q, 0)` (relu and leaky ReLU), or a table's window clamp (max then min),
/// then in the output layer the clamp to the output bounds (max then min). Each
/// comparison reads its input from `acc[at − 1]`, a copy when it is not already there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeuronRows {
    /// The bias row, which starts the accumulator.
    pub bias: usize,
    /// How many dot rows follow the bias: `ceil(inputs / lanes)`.
    pub dots: usize,
    /// The requantization row.
    pub requantize: usize,
    /// The rows of the neuron's comparisons, in the order above.
    pub compares: Vec<usize>,
    /// Leaky ReLU's second step: `(2^16 − slope)·max(q, 0) + slope·q`, requantized by 16.
    pub leaky: Option<LeakyRows>,
    /// A table activation's lookup row (its input, the clamped `q`, in `acc[lookup − 1]`).
    pub lookup: Option<usize>,
    /// The row whose `acc` holds the neuron's result.
    pub out: usize,
}

/// Rows of leaky ReLU's dot product (bias row, then `dots` rows) and requantization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeakyRows {
    /// The bias row (bias 0) of the two-term dot product.
    pub bias: usize,
    /// Dot rows after it: `ceil(2 / lanes)`.
    pub dots: usize,
    /// The requantization by `2^16` that gives the activation's output.
    pub requantize: usize,
}

impl NeuronRows {
    /// The row whose `acc` holds the neuron's result.
    pub fn output(&self) -> usize {
        self.out
    }

    /// The output clamp's comparisons (max, min), in the output layer.
    pub fn output_clamp(&self) -> Option<(usize, usize)> {
        match self.compares[..] {
            [.., max, min] if self.out == min => Some((max, min)),
            _ => None,
        }
    }
}

/// The row of every operation of a model's circuit, used both to lay it out and by
/// tests that must name the cell or row they tamper with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// One per network input: the KPIs, then the parameters.
    pub inputs: Vec<InputRows>,
    /// `layers[l][j]`: neuron `j` of layer `l`.
    pub layers: Vec<Vec<NeuronRows>>,
    /// The public block's rows of the outputs (their instance rows), each a copy of the
    /// output neuron's result.
    pub outputs: Vec<usize>,
    /// Rows used, the trailing high limb of the last comparison included.
    pub rows: usize,
}

/// The rows range checks own: each check sits at the first row, from the one it would take
/// next to its input, whose `limb` no earlier check owns, and owns `mode.rows()` rows from there.
struct Checks {
    mode: RangeMode,
    free: usize,
}

impl Checks {
    /// The row of a check that would sit at `natural`, right after its input.
    fn at(&mut self, natural: usize) -> usize {
        let at = natural.max(self.free);
        self.free = at + self.mode.rows();
        at
    }
}

/// Places layer widths `dims` (inputs first) closed by `activations` (one per layer) at
/// `lanes` multiply-accumulates per dot row, with range checks made as `mode` makes them.
/// The output layer is followed by its clamp.
///
/// A check owns `mode.rows()` rows of `limb` from its own row, so a check whose `limb`
/// rows are still taken moves down and reads a copy of its input; bias, dot and lookup rows
/// use no `limb`, so they may sit on rows a check owns.
pub fn place(dims: &[usize], activations: &[Activation], lanes: usize, mode: RangeMode) -> Placement {
    let mut checks = Checks { mode, free: 0 };
    // The public block: the epoch's row, the network inputs, the outputs.
    let (n, m) = (dims[0], dims.last().copied().unwrap_or(0));
    let mut row = 1 + n + m;
    let inputs = (0..n)
        .map(|i| {
            let max = checks.at(row + 1);
            let min = checks.at(max + 1);
            row = min + 1;
            InputRows { input: 1 + i, max, min }
        })
        .collect();
    let last = dims.len().saturating_sub(2);
    let layers = dims
        .windows(2)
        .enumerate()
        .map(|(l, w)| {
            let dots = w[0].div_ceil(lanes.max(1));
            let activation = activations.get(l).copied().unwrap_or(if l == last { Activation::None } else { Activation::Relu });
            (0..w[1])
                .map(|_| {
                    let bias = row;
                    let requantize = checks.at(bias + 1 + dots);
                    let mut compares = vec![];
                    let (mut leaky, mut lookup) = (None, None);
                    let mut out = requantize;
                    match activation {
                        Activation::None => {}
                        Activation::Relu => {
                            out = checks.at(out + 1);
                            compares.push(out);
                        }
                        Activation::LeakyRelu { .. } => {
                            let relu = checks.at(out + 1);
                            compares.push(relu);
                            let bias = relu + 1;
                            let dots = 2usize.div_ceil(lanes.max(1));
                            out = checks.at(bias + 1 + dots);
                            leaky = Some(LeakyRows { bias, dots, requantize: out });
                        }
                        Activation::Tanh { .. } | Activation::Sigmoid { .. } => {
                            let max = checks.at(out + 1);
                            let min = checks.at(max + 1);
                            compares.extend([max, min]);
                            out = min + 1;
                            lookup = Some(out);
                        }
                    }
                    if l == last {
                        let max = checks.at(out + 1);
                        let min = checks.at(max + 1);
                        compares.extend([max, min]);
                        out = min;
                    }
                    row = out + 1;
                    NeuronRows { bias, dots, requantize, compares, leaky, lookup, out }
                })
                .collect()
        })
        .collect();
    Placement { inputs, layers, outputs: (1 + n..1 + n + m).collect(), rows: row.max(checks.free + mode.trailing()) }
}

/// Where every operation of `model`'s circuit sits at `lanes` per dot row, with the range
/// checks `weights` implies.
pub fn place_model(model: &Model, lanes: usize, weights: WeightMode) -> Placement {
    place(&model.dims(), &activations(model), lanes, range_mode(weights))
}

/// How a circuit with `weights` makes its range checks: a chain with fixed weights, the
/// lookup (whose 8-bit rows the weight packing needs) with private ones.
pub fn range_mode(weights: WeightMode) -> RangeMode {
    match weights {
        WeightMode::Fixed => RangeMode::Chain,
        WeightMode::Private => RangeMode::Lookup,
    }
}

/// Each layer's activation.
pub fn activations(model: &Model) -> Vec<Activation> {
    model.file().layers.iter().map(|l| l.activation).collect()
}

/// The activation tables a model reads, each once, in a fixed order.
pub fn tables(model: &Model) -> Vec<Table> {
    let mut tables: Vec<Table> = model.file().layers.iter().filter_map(|l| l.activation.table()).collect();
    tables.sort();
    tables.dedup();
    tables
}

/// Rows a model's circuit needs: the policy rows and, in private mode, the pinned constants
/// (leaky ReLU's, see [`private::pinned_constants`]), the packed weights and their hash after them.
pub fn rows_for(model: &Model, lanes: usize, weights: WeightMode) -> usize {
    let policy = place_model(model, lanes, weights).rows;
    match weights {
        WeightMode::Fixed => policy,
        WeightMode::Private => {
            policy
                + private::pinned_constants(model).len()
                + PackChip::rows(private::unit_count(model))
                + PoseidonChip::rows(private::message_len(model))
        }
    }
}

/// The shape that minimises verification gas (see [`Objective::Gas`]).
pub fn plan(model: &Model) -> Result<CircuitShape, CircuitError> {
    plan_for(model, Objective::Gas, WeightMode::Fixed)
}

/// Chooses the lane width for `objective` among the shapes that fit `k ≤ MAX_K`, preferring
/// fewer columns on ties.
pub fn plan_for(model: &Model, objective: Objective, weights: WeightMode) -> Result<CircuitShape, CircuitError> {
    plan_up_to(model, objective, weights, MAX_K)
}

/// [`plan_for`] among the shapes that fit `k ≤ max_k`: benchmarks measure circuits past
/// [`MAX_K`], which the commands refuse.
pub fn plan_up_to(model: &Model, objective: Objective, weights: WeightMode, max_k: u32) -> Result<CircuitShape, CircuitError> {
    let mut best: Option<((usize, usize), CircuitShape)> = None;
    let mut smallest_rows = usize::MAX;
    for lanes in LANE_CHOICES {
        let shape = match shape_up_to(model, lanes, weights, max_k) {
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
    best.map(|(_, s)| s).ok_or(CircuitError::TooLarge { model: model.name().into(), rows: smallest_rows, max_k })
}

/// The shape at a given lane width.
pub fn shape_for(model: &Model, lanes: usize, weights: WeightMode) -> Result<CircuitShape, CircuitError> {
    shape_up_to(model, lanes, weights, MAX_K)
}

/// The shape at a given lane width, if it fits `k ≤ max_k`.
pub fn shape_up_to(model: &Model, lanes: usize, weights: WeightMode, max_k: u32) -> Result<CircuitShape, CircuitError> {
    let dims = model.dims();
    let mut cs = ConstraintSystem::<Fr>::default();
    let tables = tables(model);
    Chips::configure(&mut cs, PolicyParams { lanes, weights, tables: !tables.is_empty() });
    let unusable = cs.blinding_factors() + 1;
    let rows = rows_for(model, lanes, weights);
    // The range table (lookup mode), or the activation table's leading (0, 0, 0) row.
    let activation_rows = tables.iter().map(Table::rows).sum::<usize>();
    let table_rows = match range_mode(weights) {
        RangeMode::Lookup => TABLE_ROWS + activation_rows,
        RangeMode::Chain if activation_rows > 0 => 1 + activation_rows,
        RangeMode::Chain => 0,
    };
    let need = rows.max(table_rows) + unusable;
    let k = (4..=max_k).find(|k| (1usize << k) >= need).ok_or(CircuitError::TooLarge { model: model.name().into(), rows, max_k })?;
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
