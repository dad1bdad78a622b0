//! Packed weights (private mode): every weight and bias enters the hash as range-checked
//! 16-bit units of a packed field element (the encoding: [`crate::private`]).
//!
//! One unit `c` takes two rows, its bytes in `limb` (each checked to 8 bits by the range
//! lookup, so `0 ≤ c < 2^16`), and carries two running sums on its second row: `p`, the
//! parameter so far, and `e`, the element so far.
//!
//! | row | round | weight[0] | range_tag | limb | lane[0] | acc |
//! |---|---|---|---|---|---|---|
//! | r | 3 | `f`: 1 on a parameter's first unit | 8 | `h` | – | – |
//! | r + 1 | 0 | `s`: 1 on an element's first unit | 8 | `l` | `p` | `e` |
//!
//! With `c = 2^8·h + l`, the gate on row `r` (`round = 3`) holds
//! - `p = (1 − f)·2^16·p[−2] + c − f·2^15` ("pack: parameter"): on a parameter's last unit
//!   `p` is its value, and a copy of the weight cell the dense gate reads;
//! - `e = (1 − s)·2^16·e[−2] + c` ("pack: element"): on an element's last unit `e` is the
//!   element, and a copy of a word of the hash's message.
//!
//! Why this binds: the lookup bounds every unit below `2^16` and an element holds at most 15
//! units (`< 2^240 < r`), so the digest fixes the elements, each element its units, and the
//! units `p + 2^(16u − 1)`, i.e. `p`, for each parameter's `u` units: a weight the dense gate
//! reads can only be the committed one. The gate is switched by the Lagrange selector of the
//! round code 3 over `{0, 1, 2, 3}` ([`round_is`]), which vanishes on the hash's rounds (1, 2)
//! and everywhere else (0), as theirs vanish here.

use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Expression, Fixed};
use halo2_proofs::poly::Rotation;

use super::poseidon::{round_is, StateCell};
use crate::columns::{assign, assign_fixed, PolicyColumns, Wire};
use crate::field::{fr, Fr};
use crate::private::{self, ELEMENT_UNITS, UNIT_BITS};

/// The `round` code of a unit's first row.
pub const ROUND_PACK: i64 = 3;
/// Rows one unit takes.
pub const ROWS_PER_UNIT: usize = 2;

#[derive(Clone, Debug)]
pub struct PackChip {
    round: Column<Fixed>,
    flag: Column<Fixed>,
    tag: Column<Fixed>,
    limb: Column<Advice>,
    parameter: Column<Advice>,
    element: Column<Advice>,
}

impl PackChip {
    /// The chip in private mode; `None` for fixed weights, which are not hashed.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &PolicyColumns) -> Option<Self> {
        let chip = Self {
            round: cols.round?,
            flag: cols.weights[0],
            tag: cols.range_tag,
            limb: cols.limb,
            parameter: cols.lanes[0],
            element: cols.acc,
        };
        meta.create_gate("pack: p = (1-f)·2^16·p[-2] + c - f·2^15, e = (1-s)·2^16·e[-2] + c", |m| {
            let on = round_is(&m.query_fixed(chip.round, Rotation::cur()), ROUND_PACK);
            let (f, s) = (m.query_fixed(chip.flag, Rotation::cur()), m.query_fixed(chip.flag, Rotation::next()));
            let c =
                m.query_advice(chip.limb, Rotation::cur()) * Expression::Constant(fr(1 << 8)) + m.query_advice(chip.limb, Rotation::next());
            let one = Expression::Constant(fr(1));
            let base = Expression::Constant(fr(1 << UNIT_BITS));
            let (p, p_prev) = (m.query_advice(chip.parameter, Rotation::next()), m.query_advice(chip.parameter, Rotation::prev()));
            let (e, e_prev) = (m.query_advice(chip.element, Rotation::next()), m.query_advice(chip.element, Rotation::prev()));
            let half = Expression::Constant(fr(1 << (UNIT_BITS - 1)));
            let parameter = p - (one.clone() - f.clone()) * base.clone() * p_prev - c.clone() + f * half;
            let element = e - (one - s) * base * e_prev - c;
            vec![("parameter", on.clone() * parameter), ("element", on * element)]
        });
        Some(chip)
    }

    /// Rows the units of `model`'s parameters take.
    pub fn rows(units: usize) -> usize {
        ROWS_PER_UNIT * units
    }

    /// The units of `parameters` (each a weight cell and its unit count, in the hash's order)
    /// from `row`; returns the packed elements' cells (`acc` on each one's last unit) and the next free row.
    pub fn assign(&self, region: &mut Region<'_, Fr>, row: usize, parameters: &[(Wire, usize)]) -> (Vec<StateCell>, usize) {
        let base = Fr::from(1u64 << UNIT_BITS);
        let units: Vec<(usize, usize)> = parameters.iter().enumerate().flat_map(|(i, (_, u))| (0..*u).map(move |k| (i, k))).collect();
        let mut elements = Vec::new();
        let (mut p, mut e) = (Value::known(0i64), Value::known(Fr::ZERO));
        let mut chunks = Value::unknown();
        for (n, &(i, k)) in units.iter().enumerate() {
            let (wire, count) = &parameters[i];
            let at = row + ROWS_PER_UNIT * n;
            if k == 0 {
                chunks = wire.value.map(|v| private::units_of(v, *count));
            }
            let c = chunks.as_ref().map(|c: &Vec<u64>| c[k] as i64);
            let first_of_element = n % ELEMENT_UNITS == 0;
            assign_fixed(region, self.round, at, ROUND_PACK);
            assign_fixed(region, self.flag, at, i64::from(k == 0));
            assign_fixed(region, self.flag, at + 1, i64::from(first_of_element));
            assign_fixed(region, self.tag, at, 8);
            assign_fixed(region, self.tag, at + 1, 8);
            assign(region, self.limb, at, c.map(|c| c >> 8));
            assign(region, self.limb, at + 1, c.map(|c| c & 0xff));
            p = if k == 0 { c.map(|c| c - (1 << (UNIT_BITS - 1))) } else { p.zip(c).map(|(p, c)| (p << UNIT_BITS) + c) };
            let p_cell = assign(region, self.parameter, at + 1, p).cell;
            if k + 1 == *count {
                region.constrain_equal(p_cell, wire.cell);
            }
            let carried = if first_of_element { Value::known(Fr::ZERO) } else { e.map(|e| e * base) };
            e = carried.zip(c).map(|(e, c)| e + fr(c));
            let e_cell = region.assign_advice(self.element, at + 1, e).cell();
            if (n + 1) % ELEMENT_UNITS == 0 || n + 1 == units.len() {
                elements.push(StateCell { cell: e_cell, value: e });
            }
        }
        (elements, row + ROWS_PER_UNIT * units.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::testing::{failures, Harness};
    use crate::chips::Chips;

    /// Weights and biases at their extremes: 17 units, so two elements.
    const PARAMETERS: [(i64, usize); 11] = [
        (-512, 1),
        (511, 1),
        (0, 1),
        (-(1 << 23), 2),
        ((1 << 23) - 1, 2),
        (-1, 2),
        (-32768, 1),
        (32767, 1),
        ((1 << 39) - 1, 3),
        (7, 2),
        (-3, 1),
    ];

    /// The parameters as secret cells on rows 0.., then their units from row 20 (unit `n` on
    /// rows `20 + 2n`, `21 + 2n`); `tamper` may overwrite cells afterwards.
    fn run(tamper: impl Fn(&Chips, &PackChip, &mut Region<'_, Fr>) + 'static) -> Vec<String> {
        failures(
            Harness::private(move |chips, region| {
                let pack = chips.pack.as_ref().expect("private mode configures packing");
                let cells: Vec<(Wire, usize)> = PARAMETERS
                    .iter()
                    .enumerate()
                    .map(|(i, &(p, u))| (assign(region, chips.cols.secret[0], i, Value::known(p)), u))
                    .collect();
                let (elements, next) = pack.assign(region, 20, &cells);
                assert_eq!(next, 20 + 2 * 17);
                let native = private::pack(&PARAMETERS);
                assert_eq!(elements.len(), native.len());
                for (cell, value) in elements.iter().zip(native) {
                    cell.value.assert_if_known(|v| *v == value);
                }
                tamper(chips, pack, region);
            })
            .run(),
        )
    }

    fn has(f: &[String], name: &str) -> bool {
        f.iter().any(|f| f.contains(&format!("('{name}')")))
    }

    #[test]
    fn the_units_pack_to_the_native_elements() {
        let f = run(|_, _, _| {});
        assert!(f.is_empty(), "{f:?}");
    }

    /// The alias a packing without range checks would admit: the same element and weight
    /// from other units.
    #[test]
    fn a_unit_past_16_bits_fails_the_range_lookup() {
        // Parameter 3 (−2^23: units 0x7f80, 0x0000, unit numbers 3 and 4, rows 26..=29): borrow
        // one from its high unit into the low one, 0x7f7f and 0x1_0000. The weight, the element
        // and every sum but the high unit's own stay as they were; only the low unit's high
        // byte, 256, is out of range.
        let f = run(|_, pack, region| {
            assign(region, pack.limb, 27, Value::known(0x7f));
            assign(region, pack.parameter, 27, Value::known(0x7f7f - (1 << 15)));
            let before = private::pack(&PARAMETERS[..3])[0];
            region.assign_advice(pack.element, 27, Value::known(before * Fr::from(1 << 16) + Fr::from(0x7f7f)));
            assign(region, pack.limb, 28, Value::known(0x100));
        });
        assert_eq!(f, vec!["lookup range: limb < 2^range_tag".to_string()], "{f:?}");
    }

    #[test]
    fn a_wrong_running_sum_fails_its_named_constraint() {
        // Parameter 0's sum (row 21) off by one: its own constraint, and the copy of the weight.
        let f = run(|_, pack, region| {
            assign(region, pack.parameter, 21, Value::known(-511));
        });
        assert!(has(&f, "parameter") && f.contains(&"permutation".to_string()), "{f:?}");
        // The element after unit 0: its own constraint, and the next unit's, which reads it.
        let f = run(|_, pack, region| {
            region.assign_advice(pack.element, 21, Value::known(Fr::from(3)));
        });
        assert!(f.len() == 2 && f.iter().all(|f| f.contains("('element')")), "{f:?}");
    }

    #[test]
    fn a_weight_that_is_not_its_units_fails_the_copy() {
        // The dense gate would read 6 where the hash packs 7 (parameter 9's cell, row 9).
        let f = run(|chips, _, region| {
            assign(region, chips.cols.secret[0], 9, Value::known(6));
        });
        // Both ends of the copy from the weight cell to the parameter's last sum.
        assert!(!f.is_empty() && f.iter().all(|f| f == "permutation"), "{f:?}");
    }
}
