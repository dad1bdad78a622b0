//! Requantization: floor division by `2^shift` with a range-checked remainder.
//!
//! | row | op_a | `weight[0]` | acc | limb |
//! |---|---|---|---|---|
//! | at − 1 | – | – | `z` | – |
//! | at | REQUANTIZE | `2^(16 − shift)` | `q` | the range check of `u` from here |
//!
//! Constraint: `2^(16−shift)·z = 2^16·q + u` with `0 <= u < 2^16` (the range check every
//! comparison also uses, see [`crate::chips::range`]). Over the integers that is
//! `z = 2^shift·q + r` with `u = r·2^(16−shift)`, `0 <= r < 2^shift`: one check width serves
//! every shift. Given that `z` is an integer, `q` is its floor quotient only if `q` is also
//! an integer of bounded size; the comparison that always follows bounds it.

use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::plonk::{ConstraintSystem, Expression};
use halo2_proofs::poly::Rotation;
use zkpolicy_model::arith::{self, WINDOW_BITS};

use super::range::RangeChip;
use crate::columns::{assign, assign_fixed, PolicyColumns, Wire};
use crate::field::{fr, Fr};
use crate::ops::{op_a_is, OP_A_REQUANTIZE};

/// The gate's constraint name, as a failed check reports it.
pub const CONSTRAINT: &str = "2^(16-shift)·z = 2^16·q + u";

/// The witness of one requantization: `z = q·2^shift + r`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequantizeWitness {
    /// The quotient, written to `acc` as the requantized value.
    pub q: i64,
    /// The remainder, `0 <= r < 2^shift`, range-checked as `u = r·2^(16−shift)`.
    pub r: i64,
}

impl RequantizeWitness {
    /// The native twin [`arith::requantize`]: floor division; `None` past
    /// [`arith::MAX_SHIFT`].
    pub fn honest(z: i64, shift: u32) -> Option<Self> {
        arith::requantize(z, shift).map(|(q, r)| Self { q, r })
    }
}

/// The gate `2^(16−shift)·z = 2^16·q + u` on `op_a = REQUANTIZE` rows, with `u` range-checked
/// through the [`RangeChip`].
#[derive(Clone, Debug)]
pub struct RequantizeChip {
    cols: PolicyColumns,
    range: RangeChip,
}

impl RequantizeChip {
    /// Registers the gate named `requantize: weight[0]·acc[-1] = 2^16·acc + u`.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &PolicyColumns, range: RangeChip) -> Self {
        meta.create_gate("requantize: weight[0]·acc[-1] = 2^16·acc + u", |m| {
            let on = op_a_is(&m.query_fixed(cols.op_a, Rotation::cur()), OP_A_REQUANTIZE);
            let z = m.query_advice(cols.acc, Rotation::prev());
            let q = m.query_advice(cols.acc, Rotation::cur());
            let pow = m.query_fixed(cols.weights[0], Rotation::cur());
            let u = range.checked(m);
            vec![(CONSTRAINT, on * (pow * z - q * Expression::Constant(fr(1 << WINDOW_BITS)) - u))]
        });
        Self { cols: cols.clone(), range }
    }

    /// Requantizes `z` (fed into `acc[at - 1]`) with the given witness; returns `q`.
    pub fn assign(&self, region: &mut Region<'_, Fr>, at: usize, shift: u32, z: &Wire, witness: Value<RequantizeWitness>) -> Wire {
        self.cols.feed_acc(region, at - 1, z);
        assign_fixed(region, self.cols.op_a, at, OP_A_REQUANTIZE);
        // Past MAX_SHIFT the model is refused before synthesis; its scale would be 1.
        let scale = arith::remainder_scale(shift).unwrap_or(1);
        assign_fixed(region, self.cols.weights[0], at, scale);
        self.range.assign(region, at, witness.map(|w| w.r.wrapping_mul(scale)));
        assign(region, self.cols.acc, at, witness.map(|w| w.q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::testing::{failures, only_range, Harness};

    const SHIFT: u32 = 6;

    /// `z` on row 0, requantized on row 1 with the given witness.
    fn run(z: i64, witness: RequantizeWitness) -> Vec<String> {
        failures(
            Harness::new(move |chips, region| {
                let z = assign(region, chips.cols.acc, 0, Value::known(z));
                chips.requantize.assign(region, 1, SHIFT, &z, Value::known(witness));
            })
            .run(),
        )
    }

    #[test]
    fn honest_witness_matches_the_native_twin() {
        for z in [-100_000, -65, -64, -1, 0, 1, 63, 64, 1000, 123_456] {
            let w = RequantizeWitness::honest(z, SHIFT).expect("shift in range");
            assert_eq!(w.q * 64 + w.r, z);
            assert_eq!(run(z, w), Vec::<String>::new(), "z = {z}");
        }
    }

    #[test]
    fn wrong_quotient_with_compensating_remainder_fails_the_range_lookup() {
        let z = 1000;
        let w = RequantizeWitness::honest(z, SHIFT).expect("in range");
        // q + 1 needs r - 64 < 0; q - 1 needs r + 64 >= 2^6. The gate holds; only the lookup fails.
        for forged in [RequantizeWitness { q: w.q + 1, r: w.r - 64 }, RequantizeWitness { q: w.q - 1, r: w.r + 64 }] {
            let f = run(z, forged);
            assert!(only_range(&f), "{forged:?}: {f:?}");
        }
    }

    #[test]
    fn negative_or_too_wide_remainder_fails_the_range_lookup() {
        // 63 = 1·64 − 1 and 64 = 0·64 + 64 satisfy the gate but not the lookup.
        let f = run(63, RequantizeWitness { q: 1, r: -1 });
        assert!(only_range(&f), "{f:?}");
        let f = run(64, RequantizeWitness { q: 0, r: 64 });
        assert!(only_range(&f), "{f:?}");
    }

    #[test]
    fn wrong_quotient_alone_fails_the_named_gate() {
        let w = RequantizeWitness::honest(1000, SHIFT).expect("in range");
        let f = run(1000, RequantizeWitness { q: w.q + 1, r: w.r });
        assert_eq!(f.len(), 1);
        assert!(f[0].contains(CONSTRAINT), "{f:?}");
    }
}
