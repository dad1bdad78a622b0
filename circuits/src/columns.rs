//! The columns every chip shares, and the wire type that flows between chips.

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::plonk::{Advice, Any, Column, ConstraintSystem, Fixed, Instance};

use crate::field::{fr, Fr};
use crate::policy::{PolicyParams, WeightMode};

/// All columns of the policy circuit (see the crate docs for the table).
#[derive(Clone, Debug)]
pub struct PolicyColumns {
    /// `lane[0..W]`: the dot-product inputs (copies of the previous layer's outputs);
    /// `lane[0]` also holds a comparison's bit.
    pub lanes: Vec<Column<Advice>>,
    /// The accumulator: running sums and every value passed from one op to the next.
    pub acc: Column<Advice>,
    /// Range checks: a base-4 running sum (fixed weights) or limbs looked up against
    /// `(range_tag, limb)` (private weights); see [`crate::chips::range`].
    pub limb: Column<Advice>,
    /// Fixed weights (one per lane); `weights[0]` also holds every other constant. In
    /// private mode only `weights[0]` exists, for those constants and the hash's round
    /// constants, IV, padding zero and commitment (which advice cells copy).
    pub weights: Vec<Column<Fixed>>,
    /// Private mode: the weights as witnesses, one per lane (empty in fixed mode).
    pub secret: Vec<Column<Advice>>,
    /// Private mode: which hash round a row starts (see [`crate::chips::poseidon`]).
    pub round: Option<Column<Fixed>>,
    /// Which accumulator gate is on: 0 or an `OP_A_*` code of [`crate::ops`].
    pub op_a: Column<Fixed>,
    /// Which comparison gate is on: 0, [`crate::ops::OP_B_MAX`] or [`crate::ops::OP_B_MIN`].
    pub op_b: Column<Fixed>,
    /// Fixed weights: 1 on a range chain's step rows. Private weights: the bit width the `limb`
    /// on the same row is checked to (0 forces the limb to 0).
    pub range_tag: Column<Fixed>,
    /// The public inputs `[epoch, kpis…, parameters…, outputs…]`.
    pub instance: Column<Instance>,
}

impl PolicyColumns {
    /// Allocates the columns for `params.lanes` multiply-accumulates per row (at least 1).
    pub fn configure(meta: &mut ConstraintSystem<Fr>, params: PolicyParams) -> Self {
        let lanes = params.lanes.max(1);
        let private = params.weights == WeightMode::Private;
        let cols = Self {
            lanes: (0..lanes).map(|_| meta.advice_column()).collect(),
            acc: meta.advice_column(),
            limb: meta.advice_column(),
            secret: if private { (0..lanes).map(|_| meta.advice_column()).collect() } else { vec![] },
            weights: (0..if private { 1 } else { lanes }).map(|_| meta.fixed_column()).collect(),
            round: private.then(|| meta.fixed_column()),
            op_a: meta.fixed_column(),
            op_b: meta.fixed_column(),
            range_tag: meta.fixed_column(),
            instance: meta.instance_column(),
        };
        for column in cols.lanes.iter().chain(&cols.secret) {
            meta.enable_equality(*column);
        }
        // The instance column is read by the `public` gate, not copied: it stays out of the
        // permutation argument.
        meta.enable_equality(cols.acc);
        if private {
            // The hash's IV, padding and digest are copies of `weight[0]` cells.
            meta.enable_equality(cols.weights[0]);
        }
        cols
    }

    /// Whether these are private-weights columns (the weights are `secret` advice).
    pub fn private(&self) -> bool {
        !self.secret.is_empty()
    }

    /// Every advice column: the lanes, `acc`, `limb`, then the secret weights.
    pub fn advice(&self) -> Vec<Column<Advice>> {
        self.lanes.iter().chain([&self.acc, &self.limb]).chain(&self.secret).copied().collect()
    }

    /// Makes `wire` available as `acc[row]`: reuses it when it already sits
    /// there, otherwise assigns a copy and constrains it equal.
    pub fn feed_acc(&self, region: &mut Region<'_, Fr>, row: usize, wire: &Wire) -> Wire {
        let here = Column::<Any>::from(self.acc);
        if wire.cell.row_offset == row && wire.cell.column == here {
            return wire.clone();
        }
        let copy = assign(region, self.acc, row, wire.value);
        region.constrain_equal(copy.cell, wire.cell);
        copy
    }
}

/// An assigned cell together with the integer it holds.
#[derive(Clone, Debug)]
pub struct Wire {
    /// Where the value sits, for copy constraints.
    pub cell: Cell,
    /// The signed integer in the cell (unknown during key generation).
    pub value: Value<i64>,
}

/// Assigns a signed integer to an advice cell.
pub fn assign(region: &mut Region<'_, Fr>, column: Column<Advice>, row: usize, value: Value<i64>) -> Wire {
    let cell = region.assign_advice(column, row, value.map(fr)).cell();
    Wire { cell, value }
}

/// Assigns a signed integer, field-encoded, to a fixed cell (a weight, bias or constant).
pub fn assign_fixed(region: &mut Region<'_, Fr>, column: Column<Fixed>, row: usize, value: i64) {
    region.assign_fixed(column, row, fr(value));
}
