//! Range checks: `0 <= t < 2^16` for every comparison's distance and every scaled
//! remainder, in one of two ways.
//!
//! **Chain** (fixed weights; no lookup, so no table columns and no lookup commitments). The
//! `limb` column is a running sum `y` in base 4, and a check at row `at` owns rows
//! `at .. at + 8`:
//!
//! | row | range_tag | limb |
//! |---|---|---|
//! | at + j (j < 8) | 1 | `y[j]` |
//! | at + 8 | – | `y[8] = 4^8·y[0] + t` |
//!
//! Gate `range chain` on every `range_tag = 1` row: `(y[+1] − 4·y)·(y[+1] − 4·y − 1)·(y[+1] − 4·y − 2)·(y[+1] − 4·y − 3) = 0`,
//! so each step `d[j] = y[j+1] − 4·y[j]` is a digit `0..4`. The consuming gate reads
//! `t = y[+8] − 4^8·y` = `Σ 4^(7−j)·d[j]`, which is then an integer in `[0, 2^16)` whatever
//! `y[0]` holds: the bottom of a run is the top of the run before it when they touch, and 0
//! otherwise. Runs are assigned in increasing row order, so each starts from a value already
//! placed (the chip keeps the tops it wrote).
//!
//! **Lookup** (private weights, whose packed bytes need 8-bit checks on consecutive rows):
//! `(range_tag, limb)` against a table of `(m, v)` for `0 <= m <= LIMB_BITS`, `v < 2^m` (511
//! rows; tag 0 forces the limb to 0). A check at `at` owns rows `at` and `at + 1`, two limbs of
//! 8 bits, recombined as `t = limb + 2^8·limb[+1]`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use halo2_proofs::circuit::{Layouter, Region, Value};
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, TableColumn, VirtualCells};
use halo2_proofs::poly::Rotation;
use zkpolicy_model::arith::{self, DIGITS, LIMB_BITS, WINDOW_BITS};

use crate::columns::{assign, assign_fixed, PolicyColumns};
use crate::field::{fr, Fr};

/// Rows the lookup's range table occupies.
pub const TABLE_ROWS: usize = (1 << (LIMB_BITS + 1)) - 1;

/// The name of the chain's step constraint, as a failed check reports it.
pub const CHAIN_STEP: &str = "range: y[+1] - 4·y in 0..4";
/// The name of the lookup, as a failed check reports it.
pub const LOOKUP_NAME: &str = "range: limb < 2^range_tag";

/// The activation lookup's output column and its `(tag, tag·x, tag·y)` rows.
pub(crate) type ExtraRows<'a> = (TableColumn, &'a [(i64, i64, i64)]);

/// How range checks are made (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeMode {
    /// A base-4 running sum in `limb` with a gate per step: 8 rows per check, no lookup.
    Chain,
    /// The `(range_tag, limb)` lookup: 2 rows per check.
    Lookup,
}

impl RangeMode {
    /// `limb` rows one check owns from its own row.
    pub fn rows(self) -> usize {
        match self {
            Self::Chain => DIGITS,
            Self::Lookup => 2,
        }
    }

    /// Rows past the last check's own that it reads: a chain's top.
    pub fn trailing(self) -> usize {
        match self {
            Self::Chain => 1,
            Self::Lookup => 0,
        }
    }
}

/// The range check every comparison and requantization goes through.
#[derive(Clone, Debug)]
pub struct RangeChip {
    mode: RangeMode,
    tag: Column<Fixed>,
    limb: Column<Advice>,
    /// Lookup mode: the `(tag, value)` table columns, shared with the activation tables
    /// ([`crate::chips::table`]), whose rows carry tags above every range tag.
    pub(crate) table: Option<(TableColumn, TableColumn)>,
    /// Chain mode: the top `y[8]` each run placed, by row, for a run that starts there.
    tops: Rc<RefCell<BTreeMap<usize, Value<Fr>>>>,
}

impl RangeChip {
    /// Registers the chain's gate or the lookup on `limb` and `range_tag`.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &PolicyColumns, mode: RangeMode) -> Self {
        let mut chip = Self { mode, tag: cols.range_tag, limb: cols.limb, table: None, tops: Rc::default() };
        match mode {
            RangeMode::Chain => meta.create_gate("range chain", |m| {
                let on = m.query_fixed(chip.tag, Rotation::cur());
                let step =
                    m.query_advice(chip.limb, Rotation::next()) - m.query_advice(chip.limb, Rotation::cur()) * Expression::Constant(fr(4));
                let digit = (0..4).fold(on, |p, d| p * (step.clone() - Expression::Constant(fr(d))));
                vec![(CHAIN_STEP, digit)]
            }),
            RangeMode::Lookup => {
                let (tag, value) = (meta.lookup_table_column(), meta.lookup_table_column());
                chip.table = Some((tag, value));
                meta.lookup(LOOKUP_NAME, |m| {
                    let t = m.query_fixed(chip.tag, Rotation::cur());
                    let limb = m.query_advice(chip.limb, Rotation::cur());
                    vec![(t, tag), (limb, value)]
                });
            }
        }
        chip
    }

    /// The checked value `t` of a check on the current row: `y[+8] − 4^8·y` (chain) or
    /// `limb + 2^8·limb[+1]` (lookup).
    pub fn checked(&self, m: &mut VirtualCells<'_, Fr>) -> Expression<Fr> {
        let cur = m.query_advice(self.limb, Rotation::cur());
        match self.mode {
            RangeMode::Chain => m.query_advice(self.limb, Rotation(DIGITS as i32)) - cur * Expression::Constant(fr(1 << WINDOW_BITS)),
            RangeMode::Lookup => cur + m.query_advice(self.limb, Rotation::next()) * Expression::Constant(fr(1 << LIMB_BITS)),
        }
    }

    /// Fills the range table (lookup mode) for a circuit without an activation table (with
    /// one, [`crate::chips::table::TableChip::load`] fills both).
    pub fn load_table(&self, layouter: &mut impl Layouter<Fr>) -> Result<(), Error> {
        match self.table {
            Some(table) => Self::load_tables(layouter, table, true, None),
            None => Ok(()),
        }
    }

    /// The range rows (when `range`) and, when the activation lookup is configured, its rows
    /// after them: `extra.1` holds `(tag, x, y)` per row and `extra.0` is the output column,
    /// 0 on the range rows. Without range rows the table starts with `(0, 0, 0)`, what rows
    /// without an activation look up. One assignment, because the columns may be shared.
    pub(crate) fn load_tables(
        layouter: &mut impl Layouter<Fr>,
        (tag, value): (TableColumn, TableColumn),
        range: bool,
        extra: Option<ExtraRows<'_>>,
    ) -> Result<(), Error> {
        let widths = if range { 0..=LIMB_BITS } else { 0..=0 };
        layouter.assign_table(
            || "range and activation tables",
            |mut table| {
                let mut row = 0;
                for bits in widths.clone() {
                    for v in 0..(1i64 << bits) {
                        table.assign_cell(|| "tag", tag, row, || Value::known(fr(bits as i64)))?;
                        table.assign_cell(|| "value", value, row, || Value::known(fr(v)))?;
                        if let Some((out, _)) = extra {
                            table.assign_cell(|| "out", out, row, || Value::known(fr(0)))?;
                        }
                        row += 1;
                    }
                }
                if let Some((out, rows)) = extra {
                    for &(t, x, y) in rows {
                        table.assign_cell(|| "tag", tag, row, || Value::known(fr(t)))?;
                        table.assign_cell(|| "value", value, row, || Value::known(fr(x)))?;
                        table.assign_cell(|| "out", out, row, || Value::known(fr(y)))?;
                        row += 1;
                    }
                }
                Ok(())
            },
        )
    }

    /// Places the check of `t` on the rows from `at` (see the module docs), so that the
    /// check admits exactly `0 <= t < 2^16`. Any other value still assigns, and fails.
    pub fn assign(&self, region: &mut Region<'_, Fr>, at: usize, t: Value<i64>) {
        match self.mode {
            RangeMode::Lookup => {
                let mask = (1i64 << LIMB_BITS) - 1;
                assign(region, self.limb, at, t.map(|v| v & mask));
                assign(region, self.limb, at + 1, t.map(|v| v >> LIMB_BITS));
                assign_fixed(region, self.tag, at, LIMB_BITS as i64);
                assign_fixed(region, self.tag, at + 1, LIMB_BITS as i64);
            }
            RangeMode::Chain => {
                let mut tops = self.tops.borrow_mut();
                let mut y = match tops.get(&at) {
                    Some(top) => *top,
                    None => {
                        region.assign_advice(self.limb, at, Value::known(fr(0)));
                        Value::known(fr(0))
                    }
                };
                // Digits of an out-of-window t: its low 16 bits with the rest added to the
                // last step, so the chain still sums to t and the step gate rejects it.
                let window = (1i64 << WINDOW_BITS) - 1;
                let digits = t.map(|t| {
                    let mut d = arith::digits(t & window).unwrap_or_default();
                    d[DIGITS - 1] += t - (t & window);
                    d
                });
                for j in 0..DIGITS {
                    assign_fixed(region, self.tag, at + j, 1);
                    y = y.zip(digits).map(|(y, d)| y * fr(4) + fr(d[j]));
                    region.assign_advice(self.limb, at + j + 1, y);
                }
                tops.insert(at + DIGITS, y);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::testing::{failures, Harness};

    /// A check of `t` on row 3, with private weights (lookup) or fixed ones (chain).
    fn run(private: bool, t: i64) -> Vec<String> {
        let body = move |chips: &crate::chips::Chips, region: &mut Region<'_, Fr>| chips.range.assign(region, 3, Value::known(t));
        failures(if private { Harness::private(body) } else { Harness::new(body) }.run())
    }

    #[test]
    fn exactly_the_window_is_admitted_in_both_modes() {
        for (private, name) in [(false, CHAIN_STEP), (true, LOOKUP_NAME)] {
            let top = (1i64 << WINDOW_BITS) - 1;
            for t in [0, 1, 255, 256, 4097, top] {
                assert!(run(private, t).is_empty(), "{t}");
            }
            for t in [-1, top + 1, 1 << 40] {
                let f = run(private, t);
                assert!(!f.is_empty() && f.iter().all(|f| f.contains(name)), "{t}: {f:?}");
            }
        }
        assert_eq!(TABLE_ROWS, 511);
    }

    /// Two runs that touch share a cell: the second's bottom is the first's top.
    #[test]
    fn touching_runs_check_both_values() {
        let f = failures(
            Harness::new(|chips, region| {
                chips.range.assign(region, 2, Value::known(0xbeef));
                chips.range.assign(region, 2 + DIGITS, Value::known(0x1234));
            })
            .run(),
        );
        assert!(f.is_empty(), "{f:?}");
    }
}
