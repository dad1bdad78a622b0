//! Dense layer rows: the bias, then an accumulating inner product.
//!
//! Weights live in fixed columns, so the verifying key binds the model, or in private
//! mode in the advice columns `secret[c]`, bound by the in-circuit hash instead
//! (see [`crate::chips::poseidon`]); the gates are the same with `secret` for `weight`.
//!
//! | row | op_a | `weight[c]` | `lane[c]` | acc |
//! |---|---|---|---|---|
//! | b | BIAS | `bias` (c = 0) | – | `bias` |
//! | b + 1 + i | DOT | `w[iW + c]` | `x[iW + c]` (copies) | `acc[-1] + Σ_c w·x` |
//!
//! After `ceil(n/W)` dot rows the last `acc` is `z = W·x + b`.
//!
//! When `n` is not a multiple of `W`, the last dot row has unused lanes `c ≥ n mod W`. With
//! fixed weights their `weight[c]` is a fixed 0, so `lane[c]` is harmless. With private weights
//! both `secret[c]` and `lane[c]` are advice that nothing else reads, so the product
//! `secret[c]·lane[c]` would be a free addend to `z`: there each unused `lane[c]` is a copy of a
//! zero in `weight[0]` on the same row (a fixed column no gate reads on a dot row in private
//! mode), which pins the product to 0 whatever `secret[c]` holds.

use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::plonk::{ConstraintSystem, Expression, VirtualCells};
use halo2_proofs::poly::Rotation;

use crate::columns::{assign, assign_fixed, PolicyColumns, Wire};
use crate::field::Fr;
use crate::ops::{op_a_is, OP_A_BIAS, OP_A_DOT};

/// The `bias` and `dot` gates that compute a neuron's `z = W·x + b` down the accumulator.
#[derive(Clone, Debug)]
pub struct DenseChip {
    cols: PolicyColumns,
}

impl DenseChip {
    /// Registers the gates named `bias: acc = weight[0]` and
    /// `dot: acc = acc[-1] + Σ weight[c]·lane[c]`.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &PolicyColumns) -> Self {
        let chip = Self { cols: cols.clone() };
        meta.create_gate("bias: acc = weight[0]", |m| {
            let on = op_a_is(&m.query_fixed(cols.op_a, Rotation::cur()), OP_A_BIAS);
            let acc = m.query_advice(cols.acc, Rotation::cur());
            let bias = chip.weight(m, 0);
            vec![("bias", on * (acc - bias))]
        });
        meta.create_gate("dot: acc = acc[-1] + Σ weight[c]·lane[c]", |m| {
            let on = op_a_is(&m.query_fixed(cols.op_a, Rotation::cur()), OP_A_DOT);
            let acc = m.query_advice(cols.acc, Rotation::cur());
            let prev = m.query_advice(cols.acc, Rotation::prev());
            let sum =
                cols.lanes.iter().enumerate().fold(Expression::Constant(crate::field::fr(0)), |s, (c, x)| {
                    s + chip.weight(m, c) * m.query_advice(*x, Rotation::cur())
                });
            vec![("dot", on * (acc - prev - sum))]
        });
        chip
    }

    /// Weight `c` of the current row: a fixed cell, or a witness in private mode.
    fn weight(&self, m: &mut VirtualCells<'_, Fr>, c: usize) -> Expression<Fr> {
        match self.cols.secret.get(c) {
            Some(secret) => m.query_advice(*secret, Rotation::cur()),
            None => m.query_fixed(self.cols.weights[c], Rotation::cur()),
        }
    }

    /// Places weight `c` of `row`; in private mode returns its cell, which the hash copies.
    fn assign_weight(&self, region: &mut Region<'_, Fr>, row: usize, c: usize, value: i64) -> Option<Wire> {
        match self.cols.secret.get(c) {
            Some(secret) => Some(assign(region, *secret, row, Value::known(value))),
            None => {
                assign_fixed(region, self.cols.weights[c], row, value);
                None
            }
        }
    }

    /// Multiply-accumulates per dot row (`W`).
    pub fn lanes(&self) -> usize {
        self.cols.lanes.len()
    }

    /// Dot rows one neuron needs for `n` inputs.
    pub fn dot_rows(&self, n: usize) -> usize {
        n.div_ceil(self.lanes())
    }

    /// The bias row; in private mode also returns the bias cell.
    pub fn assign_bias(&self, region: &mut Region<'_, Fr>, row: usize, bias: i64) -> (Wire, Option<Wire>) {
        assign_fixed(region, self.cols.op_a, row, OP_A_BIAS);
        let cell = self.assign_weight(region, row, 0, bias);
        (assign(region, self.cols.acc, row, Value::known(bias)), cell)
    }

    /// One dot row: copies `inputs` into the lanes and writes `acc` as given,
    /// so a test can hand in a wrong running sum. In private mode also returns the weight cells.
    pub fn assign_dot_row(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        weights: &[i64],
        inputs: &[Wire],
        acc: Value<i64>,
    ) -> (Wire, Vec<Wire>) {
        assign_fixed(region, self.cols.op_a, row, OP_A_DOT);
        let mut cells = Vec::new();
        for (c, ((w, x), input)) in weights.iter().zip(&self.cols.lanes).zip(inputs).enumerate() {
            cells.extend(self.assign_weight(region, row, c, *w));
            let copy = assign(region, *x, row, input.value);
            region.constrain_equal(copy.cell, input.cell);
        }
        if self.cols.private() {
            self.zero_unused_lanes(region, row, inputs.len());
        }
        (assign(region, self.cols.acc, row, acc), cells)
    }

    /// Private mode: lanes `used..W` of a dot row become copies of a fixed zero (see the module docs).
    fn zero_unused_lanes(&self, region: &mut Region<'_, Fr>, row: usize, used: usize) {
        let Some(unused) = self.cols.lanes.get(used..).filter(|l| !l.is_empty()) else {
            return;
        };
        let zero = region.assign_fixed(self.cols.weights[0], row, crate::field::fr(0));
        for lane in unused {
            let cell = assign(region, *lane, row, Value::known(0)).cell;
            region.constrain_equal(cell, zero);
        }
    }

    /// `z = weights·inputs + bias` on rows `row ..= row + dot_rows`; returns `z`
    /// (on the last of those rows), the next free row and, in private mode, the weight
    /// cells in the order the hash reads them: the weights, then the bias.
    pub fn assign_neuron(
        &self,
        region: &mut Region<'_, Fr>,
        row: usize,
        weights: &[i64],
        bias: i64,
        inputs: &[Wire],
    ) -> (Wire, usize, Vec<Wire>) {
        let (mut acc, bias_cell) = self.assign_bias(region, row, bias);
        let lanes = self.lanes();
        let mut cells = Vec::new();
        for (i, (w, x)) in weights.chunks(lanes).zip(inputs.chunks(lanes)).enumerate() {
            let sum = x.iter().zip(w).fold(acc.value, |s, (xi, wi)| s.zip(xi.value).map(|(s, v)| s + wi * v));
            let (next, row_cells) = self.assign_dot_row(region, row + 1 + i, w, x, sum);
            acc = next;
            cells.extend(row_cells);
        }
        cells.extend(bias_cell);
        (acc, row + 1 + self.dot_rows(inputs.len()), cells)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::testing::{failures, Harness};

    const WEIGHTS: [i64; 5] = [3, -7, 0, 127, -128];
    const BIAS: i64 = -1000;
    const X: [i64; 5] = [12, -4, 99, 255, 17];

    fn native() -> i64 {
        WEIGHTS.iter().zip(X).map(|(w, x)| w * x).sum::<i64>() + BIAS
    }

    /// Inputs on acc rows 0..5, the neuron from row 5; `tamper` edits the running sums.
    fn run(tamper: impl Fn(usize, i64) -> i64 + 'static) -> Vec<String> {
        failures(
            Harness::new(move |chips, region| {
                let inputs: Vec<Wire> = X.iter().enumerate().map(|(i, x)| assign(region, chips.cols.acc, i, Value::known(*x))).collect();
                let dense = &chips.dense;
                let mut acc = dense.assign_bias(region, 5, BIAS).0.value;
                for (i, (w, x)) in WEIGHTS.chunks(2).zip(inputs.chunks(2)).enumerate() {
                    let sum = x.iter().zip(w).fold(acc, |s, (xi, wi)| s.zip(xi.value).map(|(s, v)| s + wi * v));
                    acc = dense.assign_dot_row(region, 6 + i, w, x, sum.map(|s| tamper(i, s))).0.value;
                }
            })
            .run(),
        )
    }

    #[test]
    fn neuron_matches_the_native_dot_product() {
        assert!(run(|_, s| s).is_empty());
        // assign_neuron computes the same sums.
        let f = failures(
            Harness::new(|chips, region| {
                let inputs: Vec<Wire> = X.iter().enumerate().map(|(i, x)| assign(region, chips.cols.acc, i, Value::known(*x))).collect();
                let (z, next, cells) = chips.dense.assign_neuron(region, 5, &WEIGHTS, BIAS, &inputs);
                assert!(cells.is_empty(), "fixed weights have no cells");
                assert_eq!(next, 5 + 1 + 3);
                z.value.assert_if_known(|z| *z == native());
            })
            .run(),
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn wrong_running_sum_fails_the_dot_gate() {
        let f = run(|i, s| if i == 1 { s + 1 } else { s });
        // Row 7 is off by one, and row 8 then disagrees with its predecessor too.
        assert!(!f.is_empty() && f.iter().all(|f| f.contains("dot")), "{f:?}");
    }

    #[test]
    fn lane_that_is_not_a_copy_of_its_input_fails_the_permutation() {
        let f = failures(
            Harness::new(|chips, region| {
                let inputs: Vec<Wire> = X.iter().enumerate().map(|(i, x)| assign(region, chips.cols.acc, i, Value::known(*x))).collect();
                chips.dense.assign_neuron(region, 5, &WEIGHTS, BIAS, &inputs);
                // Overwrite lane 0 of the first dot row and fix up the sum so the gate holds.
                assign(region, chips.cols.lanes[0], 6, Value::known(X[0] + 1));
                let z = BIAS + WEIGHTS[0] * (X[0] + 1) + WEIGHTS[1] * X[1];
                assign(region, chips.cols.acc, 6, Value::known(z));
                let z2 = z + WEIGHTS[2] * X[2] + WEIGHTS[3] * X[3];
                assign(region, chips.cols.acc, 7, Value::known(z2));
                assign(region, chips.cols.acc, 8, Value::known(z2 + WEIGHTS[4] * X[4]));
            })
            .run(),
        );
        assert!(!f.is_empty() && f.iter().all(|f| f == "permutation"), "{f:?}");
    }
}
