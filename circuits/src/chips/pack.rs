//! Packed weights (private mode): every weight and bias enters the hash as range-checked
//! bytes of a packed field element (the encoding: [`crate::private`]).
//!
//! Each element takes a spacer row, then one row per byte (**unit**) `c`, checked to 8 bits
//! by the range lookup, carrying two running sums: `p`, the parameter so far, and `e`, the
//! element so far.
//!
//! | row | round | `weight[0]` | range_tag | limb | `lane[0]` | acc |
//! |---|---|---|---|---|---|---|
//! | spacer | 0 | 0 | 0 | 0 | `p[−1]`, a copy, when a parameter spans two elements | `0`: a copy of `weight[0]` |
//! | r | 3 | `f`: 1 on a parameter's first byte | 8 | `c` | `p` | `e` |
//!
//! On each unit row (`round = 3`):
//! - `p = (1 − f)·2^8·p[−1] + c − f·2^7` ("parameter"): on a parameter's last byte `p` is its
//!   value, and a copy of the weight cell the dense gate reads;
//! - `e = 2^8·e[−1] + c` ("element"): on an element's last byte `e` is the element, and a copy
//!   of a word of the hash's message; the spacer before the element's first byte holds 0.
//!
//! Why this binds: the lookup bounds every byte below `2^8` and an element holds at most 31
//! bytes (`< 2^248 < r`), so the digest fixes the elements, each element its bytes, and the
//! bytes `p + 2^(8u − 1)`, i.e. `p`, for each parameter's `u` bytes: a weight the dense gate
//! reads can only be the committed one. The gate is switched by the Lagrange selector of the
//! round code 3 over `{0, 1, 2, 3}` (`round_is`), which vanishes on the hash's rounds (1, 2)
//! and everywhere else (0), as theirs vanish here.

use halo2_proofs::circuit::{Region, Value};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Expression, Fixed};
use halo2_proofs::poly::Rotation;

use super::poseidon::{round_is, StateCell};
use crate::columns::{assign, assign_fixed, PolicyColumns, Wire};
use crate::field::{fr, Fr};
use crate::private::{self, ELEMENT_UNITS, UNIT_BITS};

/// The `round` code of a unit's row.
pub const ROUND_PACK: i64 = 3;

/// The `pack` gate (constraints "parameter" and "element") on `round = 3` rows, which
/// ties every secret weight cell to the range-checked bytes of the hashed elements.
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
        meta.create_gate("pack: p = (1-f)·2^8·p[-1] + c - f·2^7, e = 2^8·e[-1] + c", |m| {
            let on = round_is(&m.query_fixed(chip.round, Rotation::cur()), ROUND_PACK);
            let f = m.query_fixed(chip.flag, Rotation::cur());
            let c = m.query_advice(chip.limb, Rotation::cur());
            let base = Expression::Constant(fr(1 << UNIT_BITS));
            let half = Expression::Constant(fr(1 << (UNIT_BITS - 1)));
            let (p, p_prev) = (m.query_advice(chip.parameter, Rotation::cur()), m.query_advice(chip.parameter, Rotation::prev()));
            let (e, e_prev) = (m.query_advice(chip.element, Rotation::cur()), m.query_advice(chip.element, Rotation::prev()));
            let parameter = p - (Expression::Constant(fr(1)) - f.clone()) * base.clone() * p_prev - c.clone() + f * half;
            let element = e - base * e_prev - c;
            vec![("parameter", on.clone() * parameter), ("element", on * element)]
        });
        Some(chip)
    }

    /// Rows `units` bytes take: one each, and a spacer per element.
    pub fn rows(units: usize) -> usize {
        units + units.div_ceil(ELEMENT_UNITS)
    }

    /// The bytes of `parameters` (each a weight cell and its byte count, in the hash's order)
    /// from `row`; returns the packed elements' cells (`acc` on each one's last byte) and the
    /// next free row.
    pub fn assign(&self, region: &mut Region<'_, Fr>, row: usize, parameters: &[(Wire, usize)]) -> (Vec<StateCell>, usize) {
        let base = Fr::from(1u64 << UNIT_BITS);
        let units: Vec<(usize, usize)> = parameters.iter().enumerate().flat_map(|(i, (_, u))| (0..*u).map(move |k| (i, k))).collect();
        let mut elements = Vec::new();
        let (mut p, mut e) = (Value::known(0i64), Value::known(Fr::ZERO));
        let mut bytes = Value::unknown();
        let mut at = row;
        let mut p_cell = None;
        for (n, &(i, k)) in units.iter().enumerate() {
            if n % ELEMENT_UNITS == 0 {
                let zero = region.assign_fixed(self.flag, at, Fr::ZERO);
                let spacer = region.assign_advice(self.element, at, Value::known(Fr::ZERO)).cell();
                region.constrain_equal(spacer, zero);
                e = Value::known(Fr::ZERO);
                // A parameter split across two elements carries its sum over the spacer.
                if let (Some(previous), true) = (p_cell, k > 0) {
                    let carried = assign(region, self.parameter, at, p).cell;
                    region.constrain_equal(carried, previous);
                }
                at += 1;
            }
            let (wire, count) = &parameters[i];
            if k == 0 {
                bytes = wire.value.map(|v| private::units_of(v, *count));
            }
            let c = bytes.as_ref().map(|b: &Vec<u64>| b[k] as i64);
            assign_fixed(region, self.round, at, ROUND_PACK);
            assign_fixed(region, self.flag, at, i64::from(k == 0));
            assign_fixed(region, self.tag, at, i64::from(UNIT_BITS));
            assign(region, self.limb, at, c);
            p = if k == 0 { c.map(|c| c - (1 << (UNIT_BITS - 1))) } else { p.zip(c).map(|(p, c)| (p << UNIT_BITS) + c) };
            let cell = assign(region, self.parameter, at, p).cell;
            if k + 1 == *count {
                region.constrain_equal(cell, wire.cell);
            }
            p_cell = Some(cell);
            e = e.zip(c).map(|(e, c)| e * base + fr(c));
            let e_cell = region.assign_advice(self.element, at, e).cell();
            if (n + 1) % ELEMENT_UNITS == 0 || n + 1 == units.len() {
                elements.push(StateCell { cell: e_cell, value: e });
            }
            at += 1;
        }
        (elements, at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::testing::{failures, Harness};
    use crate::chips::Chips;

    /// Weights and biases at their extremes, one to five bytes each: 36 bytes, so two
    /// elements (31 bytes, then 5).
    const PARAMETERS: [(i64, usize); 16] = [
        (-512, 2),
        (511, 2),
        (0, 1),
        (-128, 1),
        (127, 1),
        (-(1 << 23), 3),
        ((1 << 23) - 1, 3),
        (-1, 3),
        (-32768, 2),
        (32767, 2),
        ((1 << 39) - 1, 5),
        (-(1 << 39), 5),
        (-300, 2),
        (-3, 1),
        (99, 2),
        (-100, 1),
    ];
    /// Where the units start, and the row of byte `n` (a spacer before bytes 0 and 31).
    const FROM: usize = 20;
    fn row_of(n: usize) -> usize {
        FROM + n + n / ELEMENT_UNITS + 1
    }

    /// The parameters as secret cells on rows 0.., then their bytes from row [`FROM`]; `tamper`
    /// may overwrite cells afterwards.
    fn run(tamper: impl Fn(&Chips, &PackChip, &mut Region<'_, Fr>) + 'static) -> Vec<String> {
        failures(
            Harness::private(move |chips, region| {
                let pack = chips.pack.as_ref().expect("private mode configures packing");
                let cells: Vec<(Wire, usize)> = PARAMETERS
                    .iter()
                    .enumerate()
                    .map(|(i, &(p, u))| (assign(region, chips.cols.secret[0], i, Value::known(p)), u))
                    .collect();
                let (elements, next) = pack.assign(region, FROM, &cells);
                assert_eq!(next, FROM + 36 + 2);
                assert_eq!(PackChip::rows(36), 38);
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
    fn the_bytes_pack_to_the_native_elements() {
        let f = run(|_, _, _| {});
        assert!(f.is_empty(), "{f:?}");
    }

    /// Parameter 12 (−300: 0x7e 0xd4, bytes 30 and 31) spans the two elements: its sum is
    /// carried over the spacer as a copy.
    #[test]
    fn a_parameter_across_two_elements_carries_its_sum_over_the_spacer() {
        let f = run(|_, pack, region| {
            assign(region, pack.parameter, row_of(31) - 1, Value::known(0));
        });
        assert!(has(&f, "parameter") && f.contains(&"permutation".to_string()), "{f:?}");
    }

    /// The alias a packing without range checks would admit: the same element and weight
    /// from other bytes.
    #[test]
    fn a_byte_past_8_bits_fails_the_range_lookup() {
        // Parameter 7 (−1 in three bytes, 0x7f 0xff 0xff, bytes 13..=15): borrow one from its
        // middle byte into the last, 0x7f 0xfe 0x1ff. The weight, the element and every sum but
        // the middle byte's stay as they were; only the last byte, 511, is out of range.
        let f = run(|_, pack, region| {
            let (middle, last) = (row_of(14), row_of(15));
            assign(region, pack.limb, middle, Value::known(0xfe));
            assign(region, pack.parameter, middle, Value::known((0x7f - (1 << 7)) * 256 + 0xfe));
            let before = private::pack(&PARAMETERS[..7])[0];
            region.assign_advice(pack.element, middle, Value::known(before * Fr::from(1 << 16) + Fr::from(0x7ffe)));
            assign(region, pack.limb, last, Value::known(0x1ff));
        });
        assert_eq!(f, vec!["lookup range: limb < 2^range_tag".to_string()], "{f:?}");
    }

    #[test]
    fn a_wrong_running_sum_fails_its_named_constraint() {
        // Parameter 2 (0, one byte): its sum off by one fails its own constraint and the copy
        // of the weight (the next parameter starts afresh and does not read it).
        let f = run(|_, pack, region| {
            assign(region, pack.parameter, row_of(4), Value::known(1));
        });
        assert!(has(&f, "parameter") && f.iter().all(|f| f.contains("('parameter')") || f == "permutation"), "{f:?}");
        // The element after byte 0: its own constraint, and the next byte's, which reads it.
        let f = run(|_, pack, region| {
            region.assign_advice(pack.element, row_of(0), Value::known(Fr::from(3)));
        });
        assert!(f.len() == 2 && f.iter().all(|f| f.contains("('element')")), "{f:?}");
        // The second element's spacer is a copy of a fixed zero.
        let f = run(|_, pack, region| {
            region.assign_advice(pack.element, row_of(31) - 1, Value::known(Fr::from(3)));
        });
        assert!(has(&f, "element") && f.contains(&"permutation".to_string()), "{f:?}");
    }

    #[test]
    fn a_weight_that_is_not_its_bytes_fails_the_copy() {
        // The dense gate would read 6 where the hash packs −300 (parameter 12's cell, row 12).
        let f = run(|chips, _, region| {
            assign(region, chips.cols.secret[0], 12, Value::known(6));
        });
        // Both ends of the copy from the weight cell to the parameter's last sum.
        assert!(!f.is_empty() && f.iter().all(|f| f == "permutation"), "{f:?}");
    }
}
