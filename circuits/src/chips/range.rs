//! Range checks by lookup: `limb < 2^range_tag` on every row.
//!
//! The table holds `(m, v)` for `0 <= m <= LIMB_BITS`, `0 <= v < 2^m`: 511 rows,
//! so it fits a k = 9 circuit and never sets k on its own for the bundled models.
//! A tag of 0 forces the limb to 0, which is what unused rows hold. A value
//! is checked to `bits <= 2·LIMB_BITS` as two limbs on consecutive rows:
//!
//! | row | limb | range_tag |
//! |---|---|---|
//! | at | `v mod 2^8` | `min(bits, 8)` |
//! | at + 1 | `v >> 8` | `bits - min(bits, 8)` |
//!
//! The consuming gate recombines `limb + 2^8·limb[+1]`, so `0 <= v < 2^bits` exactly.

use halo2_proofs::circuit::{Layouter, Region, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, TableColumn};
use halo2_proofs::poly::Rotation;
use zkpolicy_model::arith::LIMB_BITS;

use crate::columns::{assign, assign_fixed, PolicyColumns};
use crate::field::{fr, Fr};

/// Rows the range table occupies.
pub const TABLE_ROWS: usize = (1 << (LIMB_BITS + 1)) - 1;

/// The activation lookup's output column and its `(tag, tag·x, tag·y)` rows.
pub(crate) type ExtraRows<'a> = (TableColumn, &'a [(i64, i64, i64)]);

/// The `(range_tag, limb)` lookup that every range check in the circuit goes through;
/// its table columns are shared with the activation tables.
#[derive(Clone, Debug)]
pub struct RangeChip {
    tag: Column<Fixed>,
    limb: Column<Advice>,
    /// Shared with the activation tables ([`crate::chips::table`]), whose rows carry tags
    /// above every range tag, so the two lookups can never read each other's rows.
    pub(crate) table_tag: TableColumn,
    pub(crate) table_value: TableColumn,
}

impl RangeChip {
    /// Allocates the two table columns and the lookup named `range: limb < 2^range_tag`.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &PolicyColumns) -> Self {
        let chip =
            Self { tag: cols.range_tag, limb: cols.limb, table_tag: meta.lookup_table_column(), table_value: meta.lookup_table_column() };
        meta.lookup("range: limb < 2^range_tag", |m| {
            let tag = m.query_fixed(chip.tag, Rotation::cur());
            let limb = m.query_advice(chip.limb, Rotation::cur());
            vec![(tag, chip.table_tag), (limb, chip.table_value)]
        });
        chip
    }

    /// `limb + 2^LIMB_BITS · limb[+1]`: the value a two-limb check covers.
    pub fn recombined(&self, m: &mut halo2_proofs::plonk::VirtualCells<'_, Fr>) -> Expression<Fr> {
        m.query_advice(self.limb, Rotation::cur()) + m.query_advice(self.limb, Rotation::next()) * Expression::Constant(fr(1 << LIMB_BITS))
    }

    /// Fills the [`TABLE_ROWS`] range rows, for a circuit without an activation table
    /// (with one, [`crate::chips::table::TableChip::load`] fills both).
    pub fn load_table(&self, layouter: &mut impl Layouter<Fr>) -> Result<(), Error> {
        self.load_tables(layouter, None)
    }

    /// The range rows and, when the activation lookup is configured, its rows after them:
    /// `extra.1` holds `(tag, x, y)` per row and `extra.0` is the output column, 0 on the
    /// range rows. One assignment, because the columns are shared.
    pub(crate) fn load_tables(&self, layouter: &mut impl Layouter<Fr>, extra: Option<ExtraRows<'_>>) -> Result<(), Error> {
        layouter.assign_table(
            || "range and activation tables",
            |mut table| {
                let mut row = 0;
                for bits in 0..=LIMB_BITS {
                    for v in 0..(1i64 << bits) {
                        table.assign_cell(|| "tag", self.table_tag, row, || Value::known(fr(bits as i64)))?;
                        table.assign_cell(|| "value", self.table_value, row, || Value::known(fr(v)))?;
                        if let Some((out, _)) = extra {
                            table.assign_cell(|| "out", out, row, || Value::known(fr(0)))?;
                        }
                        row += 1;
                    }
                }
                if let Some((out, rows)) = extra {
                    for &(tag, x, y) in rows {
                        table.assign_cell(|| "tag", self.table_tag, row, || Value::known(fr(tag)))?;
                        table.assign_cell(|| "value", self.table_value, row, || Value::known(fr(x)))?;
                        table.assign_cell(|| "out", out, row, || Value::known(fr(y)))?;
                        row += 1;
                    }
                }
                Ok(())
            },
        )
    }

    /// Places the limbs of `value` on rows `at` and `at + 1`, tagged so the
    /// lookup admits exactly `0 <= value < 2^bits`. Any other value (negative,
    /// too wide) still assigns, and fails the lookup.
    pub fn assign(&self, region: &mut Region<'_, Fr>, at: usize, value: Value<i64>, bits: u32) {
        let lo_bits = bits.min(LIMB_BITS);
        let mask = (1i64 << LIMB_BITS) - 1;
        assign(region, self.limb, at, value.map(|v| v & mask));
        assign(region, self.limb, at + 1, value.map(|v| v >> LIMB_BITS));
        assign_fixed(region, self.tag, at, lo_bits as i64);
        assign_fixed(region, self.tag, at + 1, (bits - lo_bits) as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::testing::{failures, Harness};

    fn run(value: i64, bits: u32) -> Vec<String> {
        failures(Harness::new(move |chips, region| chips.range.assign(region, 3, Value::known(value), bits)).run())
    }

    #[test]
    fn exact_widths_are_enforced() {
        for bits in [0, 1, 5, 8, 9, 13, 16] {
            let top = (1i64 << bits) - 1;
            assert!(run(0, bits).is_empty());
            assert!(run(top, bits).is_empty(), "{top} in {bits} bits");
            assert_eq!(run(top + 1, bits), vec!["lookup range: limb < 2^range_tag".to_string()], "{} in {bits} bits", top + 1);
            assert!(!run(-1, bits).is_empty());
        }
        assert_eq!(TABLE_ROWS, 511);
    }
}
