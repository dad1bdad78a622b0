//! Comparison against a fixed threshold, giving `max(x, th)` or `min(x, th)`.
//!
//! relu is `max(q, 0)`; the output clamp is `min(max(q, lo), hi)`; a KPI is
//! checked to its declared range by clamping it and requiring the result to
//! equal the KPI.
//!
//! | row | op_b | `weight[0]` | `lane[0]` | acc | limb |
//! |---|---|---|---|---|---|
//! | at − 1 | – | – | – | `x` | – |
//! | at | MAX or MIN | `th` | `s` | `out` | the range check of `t` from here |
//!
//! Constraints, with `d = x − th`:
//! - `s·(1 − s) = 0`;
//! - `t = (2s − 1)·d + s − 1`, i.e. `t = d` when `s = 1` and `t = −d − 1` when
//!   `s = 0`, with `0 <= t < 2^16` ([`crate::chips::range`]). So `s = 1` exactly when `d >= 0`,
//!   and `x` lies within `2^16` of `th`: this is also the range check on `x`;
//! - MAX: `out = s·x + (1 − s)·th`; MIN: `out = s·th + (1 − s)·x`.

use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::plonk::{ConstraintSystem, Expression};
use halo2_proofs::poly::Rotation;
use zkpolicy_model::arith;

use super::range::RangeChip;
use crate::columns::{assign, assign_fixed, PolicyColumns, Wire};
use crate::field::{fr, Fr};
use crate::ops::{op_b_any, op_b_is, OP_B_MAX, OP_B_MIN};

/// Which side of the threshold a comparison row keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareMode {
    /// `out = max(x, th)` (`op_b = MAX`): relu, and the lower end of a clamp.
    Max,
    /// `out = min(x, th)` (`op_b = MIN`): the upper end of a clamp.
    Min,
}

/// The witness of one comparison.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompareWitness {
    /// `s`: whether `x >= th`.
    pub ge: bool,
    /// The range-checked distance.
    pub t: i64,
    /// The result written to `acc`: `max(x, th)` or `min(x, th)` per the mode.
    pub out: i64,
}

impl CompareWitness {
    /// The native twin [`arith::compare`] with the result picked by `mode`; `None` when
    /// `x` is outside the comparator window around `th`.
    pub fn honest(x: i64, th: i64, mode: CompareMode) -> Option<Self> {
        let c = arith::compare(x, th)?;
        let out = match (mode, c.ge) {
            (CompareMode::Max, true) | (CompareMode::Min, false) => x,
            _ => th,
        };
        Some(Self { ge: c.ge, t: c.t, out })
    }
}

/// The comparison gate on `op_b ≠ 0` rows: a boolean `s` in `lane[0]`, the gap `t`
/// range-checked to `WINDOW_BITS`, and the max or min in `acc`.
#[derive(Clone, Debug)]
pub struct CompareChip {
    cols: PolicyColumns,
    range: RangeChip,
}

impl CompareChip {
    /// Registers the gate named `compare: …` with its four named constraints.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &PolicyColumns, range: RangeChip) -> Self {
        meta.create_gate("compare: s boolean, t = (2s-1)(x-th) + s - 1, out = max or min", |m| {
            let op_b = m.query_fixed(cols.op_b, Rotation::cur());
            let (any, is_max, is_min) = (op_b_any(&op_b), op_b_is(&op_b, OP_B_MAX), op_b_is(&op_b, OP_B_MIN));
            let one = Expression::Constant(fr(1));
            let s = m.query_advice(cols.lanes[0], Rotation::cur());
            let x = m.query_advice(cols.acc, Rotation::prev());
            let out = m.query_advice(cols.acc, Rotation::cur());
            let th = m.query_fixed(cols.weights[0], Rotation::cur());
            let t = range.checked(m);
            let d = x.clone() - th.clone();
            let signed = (s.clone() * Expression::Constant(fr(2)) - one.clone()) * d + s.clone() - one.clone();
            vec![
                ("s·(1 - s) = 0", any.clone() * s.clone() * (one.clone() - s.clone())),
                ("t = (2s-1)(x-th) + s - 1", any * (t - signed)),
                ("max: out = s·x + (1-s)·th", is_max * (out.clone() - s.clone() * x.clone() - (one.clone() - s.clone()) * th.clone())),
                ("min: out = s·th + (1-s)·x", is_min * (out - s.clone() * th - (one - s) * x)),
            ]
        });
        Self { cols: cols.clone(), range }
    }

    /// Compares `input` (fed into `acc[at - 1]`) with `th`; returns `out` on row `at`.
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        at: usize,
        mode: CompareMode,
        th: i64,
        input: &Wire,
        witness: Value<CompareWitness>,
    ) -> Wire {
        self.cols.feed_acc(region, at - 1, input);
        let code = match mode {
            CompareMode::Max => OP_B_MAX,
            CompareMode::Min => OP_B_MIN,
        };
        assign_fixed(region, self.cols.op_b, at, code);
        assign_fixed(region, self.cols.weights[0], at, th);
        assign(region, self.cols.lanes[0], at, witness.map(|w| i64::from(w.ge)));
        self.range.assign(region, at, witness.map(|w| w.t));
        assign(region, self.cols.acc, at, witness.map(|w| w.out))
    }
}

#[cfg(test)]
mod tests {
    use zkpolicy_model::arith::WINDOW_BITS;

    use super::*;
    use crate::chips::testing::{failures, only_range, Harness};

    /// `x` on row 0, compared on row 1.
    fn run(x: i64, th: i64, mode: CompareMode, witness: CompareWitness) -> Vec<String> {
        failures(
            Harness::new(move |chips, region| {
                let x = assign(region, chips.cols.acc, 0, Value::known(x));
                chips.compare.assign(region, 1, mode, th, &x, Value::known(witness));
            })
            .run(),
        )
    }

    fn honest(x: i64, th: i64, mode: CompareMode) -> CompareWitness {
        CompareWitness::honest(x, th, mode).expect("inside the window")
    }

    #[test]
    fn relu_max_and_min_match_the_native_twins() {
        for x in [-60_000, -300, -1, 0, 1, 77, 60_000] {
            for th in [-50, 0, 20] {
                let max = honest(x, th, CompareMode::Max);
                let min = honest(x, th, CompareMode::Min);
                assert_eq!(Some(max.out), arith::max_with(x, th));
                assert_eq!(Some(min.out), arith::min_with(x, th));
                assert!(run(x, th, CompareMode::Max, max).is_empty(), "max {x} {th}");
                assert!(run(x, th, CompareMode::Min, min).is_empty(), "min {x} {th}");
            }
        }
        assert_eq!(Some(honest(-7, 0, CompareMode::Max).out), arith::relu(-7));
        // The window's edges: x in [th - 2^16, th + 2^16).
        for x in [-(1 << WINDOW_BITS), (1 << WINDOW_BITS) - 1] {
            assert!(run(x, 0, CompareMode::Max, honest(x, 0, CompareMode::Max)).is_empty(), "{x}");
        }
    }

    #[test]
    fn wrong_relu_branch_is_rejected() {
        // x = -5: relu is 0. Claiming x >= 0 and passing x through:
        let lie = CompareWitness { ge: true, t: 1, out: -5 };
        let f = run(-5, 0, CompareMode::Max, lie);
        assert!(f.iter().any(|f| f.contains("t = (2s-1)(x-th) + s - 1")), "{f:?}");
        // The same lie with t chosen to satisfy the gate (t = d = -5) fails the range lookup.
        let f = run(-5, 0, CompareMode::Max, CompareWitness { ge: true, t: -5, out: -5 });
        assert!(only_range(&f), "{f:?}");
        // Claiming x < 0 for x = 5 to zero a positive activation: t = -6.
        let f = run(5, 0, CompareMode::Max, CompareWitness { ge: false, t: -6, out: 0 });
        assert!(only_range(&f), "{f:?}");
    }

    #[test]
    fn non_boolean_sign_is_rejected() {
        let f = run(5, 0, CompareMode::Max, CompareWitness { ge: true, t: 5, out: 5 });
        assert!(f.is_empty());
        // s = 2 can only be expressed through the raw cell; emulate with a forged gate input:
        let f = failures(
            Harness::new(|chips, region| {
                let x = assign(region, chips.cols.acc, 0, Value::known(5));
                chips.compare.assign(region, 1, CompareMode::Max, 0, &x, Value::known(CompareWitness { ge: true, t: 5, out: 5 }));
                assign(region, chips.cols.lanes[0], 1, Value::known(2));
            })
            .run(),
        );
        assert!(f.iter().any(|f| f.contains("s·(1 - s) = 0")), "{f:?}");
    }

    #[test]
    fn output_that_differs_from_the_computed_one_is_rejected() {
        let mut w = honest(-5, 0, CompareMode::Max);
        w.out += 1;
        let f = run(-5, 0, CompareMode::Max, w);
        assert_eq!(f.len(), 1);
        assert!(f[0].contains("max: out = s·x + (1-s)·th"), "{f:?}");
        let mut w = honest(500, 100, CompareMode::Min);
        w.out = 500;
        let f = run(500, 100, CompareMode::Min, w);
        assert!(f[0].contains("min: out = s·th + (1-s)·x"), "{f:?}");
    }

    #[test]
    fn value_outside_the_window_has_no_witness() {
        let far = 1i64 << WINDOW_BITS;
        assert!(CompareWitness::honest(far, 0, CompareMode::Max).is_none());
        let f = run(far, 0, CompareMode::Max, CompareWitness { ge: true, t: far, out: far });
        assert!(only_range(&f), "{f:?}");
    }
}
