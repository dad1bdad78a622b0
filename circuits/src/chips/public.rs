//! Public inputs by gate: `acc = instance` on the rows of the public block.
//!
//! | row | op_b | acc | instance |
//! |---|---|---|---|
//! | 0 | – | – | epoch |
//! | 1 + i | PUBLIC | network input `i` | network input `i` |
//! | 1 + n + j | PUBLIC | output `j` (a copy of its clamp's result) | output `j` |
//!
//! A gate instead of copy constraints keeps the instance column out of the permutation
//! argument: one permutation commitment fewer in the verifying key, and one opening fewer
//! in every proof. The instance column's value at `x` is what the verifier computes from
//! the public inputs, so the gate ties each `acc` cell of the block to its public input
//! exactly as the copy did; the copies from there to the cells that read or make the value
//! run along `acc`, which is in the permutation.

use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::plonk::ConstraintSystem;
use halo2_proofs::poly::Rotation;

use crate::columns::{assign, assign_fixed, PolicyColumns, Wire};
use crate::field::Fr;
use crate::ops::{op_b_is, OP_B_PUBLIC};

/// The name of the gate's constraint, as a failed check reports it.
pub const CONSTRAINT: &str = "public: acc = instance";

/// The `public` gate on `op_b = PUBLIC` rows.
#[derive(Clone, Debug)]
pub struct PublicChip {
    cols: PolicyColumns,
}

impl PublicChip {
    /// Registers the gate named `public`.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &PolicyColumns) -> Self {
        meta.create_gate("public", |m| {
            let on = op_b_is(&m.query_fixed(cols.op_b, Rotation::cur()), OP_B_PUBLIC);
            let acc = m.query_advice(cols.acc, Rotation::cur());
            let instance = m.query_instance(cols.instance, Rotation::cur());
            vec![(CONSTRAINT, on * (acc - instance))]
        });
        Self { cols: cols.clone() }
    }

    /// The public input on instance row `row`, as `acc[row]`.
    pub fn assign(&self, region: &mut Region<'_, Fr>, row: usize, value: Value<i64>) -> Wire {
        assign_fixed(region, self.cols.op_b, row, OP_B_PUBLIC);
        assign(region, self.cols.acc, row, value)
    }
}
