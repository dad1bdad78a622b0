//! The columns every chip shares, and the wire type that flows between chips.

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::plonk::{Advice, Any, Column, ConstraintSystem, Fixed, Instance};

use crate::field::{fr, Fr};

/// All columns of the policy circuit (see the crate docs for the table).
#[derive(Clone, Debug)]
pub struct PolicyColumns {
    pub lanes: Vec<Column<Advice>>,
    pub acc: Column<Advice>,
    pub limb: Column<Advice>,
    pub weights: Vec<Column<Fixed>>,
    pub op_a: Column<Fixed>,
    pub op_b: Column<Fixed>,
    pub range_tag: Column<Fixed>,
    pub instance: Column<Instance>,
}

impl PolicyColumns {
    /// Allocates the columns for `lanes` multiply-accumulates per row (`lanes >= 1`).
    pub fn configure(meta: &mut ConstraintSystem<Fr>, lanes: usize) -> Self {
        let lanes = lanes.max(1);
        let cols = Self {
            lanes: (0..lanes).map(|_| meta.advice_column()).collect(),
            acc: meta.advice_column(),
            limb: meta.advice_column(),
            weights: (0..lanes).map(|_| meta.fixed_column()).collect(),
            op_a: meta.fixed_column(),
            op_b: meta.fixed_column(),
            range_tag: meta.fixed_column(),
            instance: meta.instance_column(),
        };
        for lane in &cols.lanes {
            meta.enable_equality(*lane);
        }
        meta.enable_equality(cols.acc);
        meta.enable_equality(cols.instance);
        cols
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
    pub cell: Cell,
    pub value: Value<i64>,
}

/// Assigns a signed integer to an advice cell.
pub fn assign(region: &mut Region<'_, Fr>, column: Column<Advice>, row: usize, value: Value<i64>) -> Wire {
    let cell = region.assign_advice(column, row, value.map(fr)).cell();
    Wire { cell, value }
}

pub fn assign_fixed(region: &mut Region<'_, Fr>, column: Column<Fixed>, row: usize, value: i64) {
    region.assign_fixed(column, row, fr(value));
}
