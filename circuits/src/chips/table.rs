//! Table activations (tanh, sigmoid): `y = f(x)` by lookup, for `x` already clamped to
//! the table's window by two comparisons (see [`zkpolicy_model::arith::Table`]).
//!
//! Configured only for models that use a table activation, so every other model keeps
//! its columns, its verifying key and its gas. The rows of every table the model uses
//! are `(tag, tag·x, tag·f(x))`; the tag names the function and its scale. With private
//! weights they follow the range table's rows in the same table columns (the output
//! column is 0 there), and the tag lies above every range tag; with fixed weights, whose
//! range checks need no table, the chip has its own tag and value columns, whose first row
//! is `(0, 0, 0)`.
//!
//! | row | act | acc |
//! |---|---|---|
//! | at − 1 | – | `x` |
//! | at | `tag` | `y` |
//!
//! Lookup: `(act, act·x, act·y) ∈ (table_tag, table_value, table_out)`. On rows where
//! `act = 0` the input is `(0, 0, 0)`, a row of the table (the range table's `(0, 0)` row with
//! output 0, or the first row). On an
//! activation row `act = tag ≠ 0`, so the input matches a row `(tag, tag·x', tag·f(x'))`
//! exactly when `x = x'` and `y = f(x')`: multiplying by the tag (degree 2, which keeps
//! the circuit at degree 5) is what switches the lookup off elsewhere without a selector.

use halo2_proofs::circuit::{Layouter, Region, Value};
use halo2_proofs::plonk::{Column, ConstraintSystem, Error, Fixed, TableColumn};
use halo2_proofs::poly::Rotation;
use zkpolicy_model::arith::Table;

use super::range::RangeChip;
use crate::columns::{assign, assign_fixed, PolicyColumns, Wire};
use crate::field::Fr;

/// The lookup's name, as a failed check reports it.
pub const LOOKUP_NAME: &str = "activation: (x, f(x)) in the table";

/// The activation lookup `(act, act·x, act·y)` into the shared table columns, switched on
/// by the fixed column `act` holding the table's tag.
#[derive(Clone, Debug)]
pub struct TableChip {
    cols: PolicyColumns,
    act: Column<Fixed>,
    /// `(tag, value)`: the range lookup's columns when it has them, else the chip's own.
    table: (TableColumn, TableColumn),
    /// Whether `table` also holds the range rows (they come first).
    shared: bool,
    out: TableColumn,
}

impl TableChip {
    /// Allocates the `act` fixed column and the output table column, and registers the
    /// lookup named [`LOOKUP_NAME`].
    pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &PolicyColumns, range: RangeChip) -> Self {
        let table = range.table.unwrap_or_else(|| (meta.lookup_table_column(), meta.lookup_table_column()));
        let chip =
            Self { cols: cols.clone(), act: meta.fixed_column(), table, shared: range.table.is_some(), out: meta.lookup_table_column() };
        meta.lookup(LOOKUP_NAME, |m| {
            let act = m.query_fixed(chip.act, Rotation::cur());
            let x = m.query_advice(cols.acc, Rotation::prev());
            let y = m.query_advice(cols.acc, Rotation::cur());
            vec![(act.clone(), table.0), (act.clone() * x, table.1), (act * y, chip.out)]
        });
        chip
    }

    /// The range table (when shared) or a `(0, 0, 0)` row, followed by `tables`' rows.
    pub fn load(&self, layouter: &mut impl Layouter<Fr>, tables: &[Table]) -> Result<(), Error> {
        let rows: Vec<(i64, i64, i64)> =
            tables.iter().flat_map(|t| t.entries().map(move |(x, y)| (t.tag(), t.tag() * x, t.tag() * y))).collect();
        RangeChip::load_tables(layouter, self.table, self.shared, Some((self.out, &rows)))
    }

    /// Looks `input` (fed into `acc[at − 1]`) up in `table`; `y` is the claimed output.
    pub fn assign(&self, region: &mut Region<'_, Fr>, at: usize, table: &Table, input: &Wire, y: Value<i64>) -> Wire {
        self.cols.feed_acc(region, at - 1, input);
        assign_fixed(region, self.act, at, table.tag());
        assign(region, self.cols.acc, at, y)
    }
}

#[cfg(test)]
mod tests {
    use zkpolicy_model::arith::TableFn;

    use super::*;
    use crate::chips::testing::{failures, Harness};

    /// `x` on row 0, looked up on row 1 with output `y`.
    fn run(table: Table, x: i64, y: i64) -> Vec<String> {
        failures(
            Harness::with_tables(vec![table], move |chips, region| {
                let x = assign(region, chips.cols.acc, 0, Value::known(x));
                let chip = chips.table.as_ref().expect("configured");
                chip.assign(region, 1, &table, &x, Value::known(y));
            })
            .run(),
        )
    }

    #[test]
    fn every_entry_of_the_window_is_accepted_and_its_neighbours_are_not() {
        for table in [Table::new(TableFn::Tanh, 4), Table::new(TableFn::Sigmoid, 4)] {
            for (x, y) in table.entries() {
                assert!(run(table, x, y).is_empty(), "{table:?} {x}");
            }
            let (x, y) = (table.lo + 3, table.exact(table.lo + 3));
            assert_eq!(run(table, x, y + 1), vec![format!("lookup {LOOKUP_NAME}")]);
            assert_eq!(run(table, x, y - 1), vec![format!("lookup {LOOKUP_NAME}")]);
            // Inputs past the window are not in the table: the clamp must come first.
            assert_eq!(run(table, table.hi + 1, table.exact(table.hi + 1)), vec![format!("lookup {LOOKUP_NAME}")]);
            assert_eq!(run(table, table.lo - 1, table.exact(table.lo - 1)), vec![format!("lookup {LOOKUP_NAME}")]);
        }
    }

    #[test]
    fn one_function_cannot_answer_for_another() {
        let (tanh, sigmoid) = (Table::new(TableFn::Tanh, 4), Table::new(TableFn::Sigmoid, 4));
        let f = failures(
            Harness::with_tables(vec![tanh, sigmoid], move |chips, region| {
                let x = assign(region, chips.cols.acc, 0, Value::known(5));
                let chip = chips.table.as_ref().expect("configured");
                // The tanh row claims sigmoid's value at x = 5.
                chip.assign(region, 1, &tanh, &x, Value::known(sigmoid.exact(5)));
            })
            .run(),
        );
        assert_eq!(f, vec![format!("lookup {LOOKUP_NAME}")]);
    }

    #[test]
    fn rows_without_a_tag_are_unconstrained_by_the_lookup() {
        // acc holds arbitrary values on rows where act = 0: the lookup reads (0, 0, 0).
        let f = failures(
            Harness::with_tables(vec![Table::new(TableFn::Tanh, 4)], |chips, region| {
                assign(region, chips.cols.acc, 0, Value::known(12_345));
                assign(region, chips.cols.acc, 1, Value::known(-777));
            })
            .run(),
        );
        assert!(f.is_empty(), "{f:?}");
    }
}
