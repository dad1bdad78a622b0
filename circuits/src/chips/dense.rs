//! Dense layer rows: the bias, then an accumulating inner product.
//!
//! Weights live in fixed columns, so the verifying key binds the model.
//!
//! | row | op_a | weight[c] | lane[c] | acc |
//! |---|---|---|---|---|
//! | b | BIAS | `bias` (c = 0) | – | `bias` |
//! | b + 1 + i | DOT | `w[iW + c]` | `x[iW + c]` (copies) | `acc[-1] + Σ_c w·x` |
//!
//! After `ceil(n/W)` dot rows the last `acc` is `z = W·x + b`.

use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::plonk::{ConstraintSystem, Expression};
use halo2_proofs::poly::Rotation;

use crate::columns::{assign, assign_fixed, PolicyColumns, Wire};
use crate::field::Fr;
use crate::ops::{op_a_is, OP_A_BIAS, OP_A_DOT};

#[derive(Clone, Debug)]
pub struct DenseChip {
    cols: PolicyColumns,
}

impl DenseChip {
    pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &PolicyColumns) -> Self {
        meta.create_gate("bias: acc = weight[0]", |m| {
            let on = op_a_is(&m.query_fixed(cols.op_a, Rotation::cur()), OP_A_BIAS);
            let acc = m.query_advice(cols.acc, Rotation::cur());
            let bias = m.query_fixed(cols.weights[0], Rotation::cur());
            vec![("bias", on * (acc - bias))]
        });
        meta.create_gate("dot: acc = acc[-1] + Σ weight[c]·lane[c]", |m| {
            let on = op_a_is(&m.query_fixed(cols.op_a, Rotation::cur()), OP_A_DOT);
            let acc = m.query_advice(cols.acc, Rotation::cur());
            let prev = m.query_advice(cols.acc, Rotation::prev());
            let sum = cols.lanes.iter().zip(&cols.weights).fold(Expression::Constant(crate::field::fr(0)), |s, (x, w)| {
                s + m.query_fixed(*w, Rotation::cur()) * m.query_advice(*x, Rotation::cur())
            });
            vec![("dot", on * (acc - prev - sum))]
        });
        Self { cols: cols.clone() }
    }

    pub fn lanes(&self) -> usize {
        self.cols.lanes.len()
    }

    /// Dot rows one neuron needs for `n` inputs.
    pub fn dot_rows(&self, n: usize) -> usize {
        n.div_ceil(self.lanes())
    }

    pub fn assign_bias(&self, region: &mut Region<'_, Fr>, row: usize, bias: i64) -> Wire {
        assign_fixed(region, self.cols.op_a, row, OP_A_BIAS);
        assign_fixed(region, self.cols.weights[0], row, bias);
        assign(region, self.cols.acc, row, Value::known(bias))
    }

    /// One dot row: copies `inputs` into the lanes and writes `acc` as given,
    /// so a test can hand in a wrong running sum.
    pub fn assign_dot_row(&self, region: &mut Region<'_, Fr>, row: usize, weights: &[i64], inputs: &[Wire], acc: Value<i64>) -> Wire {
        assign_fixed(region, self.cols.op_a, row, OP_A_DOT);
        for ((lane, w), (x, input)) in self.cols.weights.iter().zip(weights).zip(self.cols.lanes.iter().zip(inputs)) {
            assign_fixed(region, *lane, row, *w);
            let copy = assign(region, *x, row, input.value);
            region.constrain_equal(copy.cell, input.cell);
        }
        assign(region, self.cols.acc, row, acc)
    }

    /// `z = weights·inputs + bias` on rows `row ..= row + dot_rows`; returns `z`
    /// (on the last of those rows) and the next free row.
    pub fn assign_neuron(&self, region: &mut Region<'_, Fr>, row: usize, weights: &[i64], bias: i64, inputs: &[Wire]) -> (Wire, usize) {
        let mut acc = self.assign_bias(region, row, bias);
        let lanes = self.lanes();
        for (i, (w, x)) in weights.chunks(lanes).zip(inputs.chunks(lanes)).enumerate() {
            let sum = x.iter().zip(w).fold(acc.value, |s, (xi, wi)| s.zip(xi.value).map(|(s, v)| s + wi * v));
            acc = self.assign_dot_row(region, row + 1 + i, w, x, sum);
        }
        (acc, row + 1 + self.dot_rows(inputs.len()))
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
                let mut acc = dense.assign_bias(region, 5, BIAS).value;
                for (i, (w, x)) in WEIGHTS.chunks(2).zip(inputs.chunks(2)).enumerate() {
                    let sum = x.iter().zip(w).fold(acc, |s, (xi, wi)| s.zip(xi.value).map(|(s, v)| s + wi * v));
                    acc = dense.assign_dot_row(region, 6 + i, w, x, sum.map(|s| tamper(i, s))).value;
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
                let (z, next) = chips.dense.assign_neuron(region, 5, &WEIGHTS, BIAS, &inputs);
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
