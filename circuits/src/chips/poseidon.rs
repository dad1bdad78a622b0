//! The weight hash (private mode): Poseidon rounds as gates over the state columns
//! `s = (lane[0], secret[0], acc)`. Parameters, sponge and the folded constants: [`crate::private`].
//!
//! A full round takes three rows, three partial rounds four:
//!
//! | row | round | `weight[0]` | s | meaning |
//! |---|---|---|---|---|
//! | r | 2 (full) | `c₀` | state | `x = s + c` |
//! | r + 1 | 0 | `c₁` | `u` | `u_j = x_j²` |
//! | r + 2 | 0 | `c₂` | `w` | `w_j = u_j²` |
//! | r + 3 | next | … | `M·t` | `t_j = x_j·w_j = x_j⁵` |
//!
//! | row | round | `weight[0]` | s | meaning |
//! |---|---|---|---|---|
//! | r | 1 (3 partial) | `a` | state `(s₀, s₁, s₂)` | `x = s₀ + a` |
//! | r + 1 | 0 | `b` | `(u, w, o)` | `u = x²`, `w = u²`, `o` element 0 after this round: `(M·(x·w, s₁, s₂))₀` |
//! | r + 2 | 0 | `c` | `(u, w, o)` | the same from `x = o[−1] + b` and the first round's elements 1 and 2 |
//! | r + 3 | 0 | – | `(u, w, –)` | the same from `x = o[−1] + c` |
//! | r + 4 | next | … | `M·t` | the state after the third round |
//!
//! A partial round adds only element 0's constant (the others are folded into later rounds),
//! so three of them fit the one constant column's three rows. Every constraint is of degree 2
//! in the cells, switched by a Lagrange selector of degree 3 over the round codes
//! `{0, 1, 2, 3}` (3 is [`crate::chips::pack`]'s), so the system stays at degree 5. A
//! permutation takes [`ROWS_PER_PERMUTATION`] rows: 8 full rounds, 19 groups of three partial
//! rounds and the output row. The rounds' own twin is the library's permutation
//! ([`crate::private::permute`]) with [`crate::private::folded_constants`].

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, VirtualCells};
use halo2_proofs::poly::Rotation;

use crate::columns::{assign_fixed, PolicyColumns};
use crate::field::{fr, Fr};
use crate::private::{self, constants, folded_constants, is_full_round, PARTIAL_PER_GATE, WIDTH};

/// Rows one full round takes.
const FULL_ROWS: usize = 3;
/// Rows one group of [`PARTIAL_PER_GATE`] partial rounds takes.
const PARTIAL_ROWS: usize = PARTIAL_PER_GATE + 1;
/// Rows one permutation takes.
pub const ROWS_PER_PERMUTATION: usize = FULL_ROWS * private::FULL_ROUNDS + PARTIAL_ROWS * private::PARTIAL_ROUNDS / PARTIAL_PER_GATE + 1;

const ROUND_PARTIAL: i64 = 1;
const ROUND_FULL: i64 = 2;

const FULL_SQUARE: [&str; WIDTH] = ["full: u0 = x0²", "full: u1 = x1²", "full: u2 = x2²"];
const FULL_FOURTH: [&str; WIDTH] = ["full: w0 = u0²", "full: w1 = u1²", "full: w2 = u2²"];
const FULL_MDS: [&str; WIDTH] = ["full: mds 0", "full: mds 1", "full: mds 2"];
const PARTIAL_SQUARE: [&str; PARTIAL_PER_GATE] = ["partial 1: u = x²", "partial 2: u = x²", "partial 3: u = x²"];
const PARTIAL_FOURTH: [&str; PARTIAL_PER_GATE] = ["partial 1: w = u²", "partial 2: w = u²", "partial 3: w = u²"];
const PARTIAL_OUT: [&str; PARTIAL_PER_GATE - 1] = ["partial 1: o = (M·t)0", "partial 2: o = (M·t)0"];
const PARTIAL_MDS: [&str; WIDTH] = ["partial 3: mds 0", "partial 3: mds 1", "partial 3: mds 2"];

/// `Π_{c ≠ code} (round − c) / (code − c)` over the round codes `{0, 1, 2, 3}`: 1 where
/// `round = code`, 0 at the other codes.
pub(crate) fn round_is(round: &Expression<Fr>, code: i64) -> Expression<Fr> {
    (0..4).filter(|&c| c != code).fold(Expression::Constant(fr(1)), |acc, c| {
        let inv = fr(code - c).invert().unwrap_or(Fr::ZERO);
        acc * (round.clone() - Expression::Constant(fr(c))) * Expression::Constant(inv)
    })
}

/// One word of the message the sponge absorbs.
#[derive(Clone, Debug)]
pub enum Word {
    /// A witness with no other use (the salt).
    Witness(Value<Fr>),
    /// A copy of an assigned cell (a packed element of weights).
    Copy(StateCell),
    /// Padding: a zero fixed by the verifying key.
    Zero,
}

/// An assigned state element.
#[derive(Clone, Copy, Debug)]
pub struct StateCell {
    /// Where the element sits, for copy constraints.
    pub cell: Cell,
    /// The field element it holds (unknown during key generation).
    pub value: Value<Fr>,
}

/// The Poseidon full-round and partial-round gates over the state columns
/// `(lane[0], secret[0], acc)`, and the sponge that hashes the salt and packed weights to
/// the commitment fixed in `weight[0]`.
#[derive(Clone, Debug)]
pub struct PoseidonChip {
    state: [Column<Advice>; WIDTH],
    constant: Column<Fixed>,
    round: Column<Fixed>,
}

impl PoseidonChip {
    /// The chip in private mode; `None` for fixed weights, which have no hash.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, cols: &PolicyColumns) -> Option<Self> {
        let chip = Self { state: [cols.lanes[0], *cols.secret.first()?, cols.acc], constant: cols.weights[0], round: cols.round? };
        let mds = constants().mds;
        // `Σ_j M_ij·t_j` for row `i` of the matrix.
        let mix = |i: usize, t: &[Expression<Fr>]| {
            t.iter().zip(&mds[i]).fold(Expression::Constant(fr(0)), |acc, (t, m)| acc + Expression::Constant(*m) * t.clone())
        };
        meta.create_gate("poseidon full round: u = x², w = u², next = M·(x·w)", |m| {
            let on = round_is(&m.query_fixed(chip.round, Rotation::cur()), ROUND_FULL);
            let x: Vec<Expression<Fr>> = (0..WIDTH).map(|j| chip.at(m, j, 0) + m.query_fixed(chip.constant, Rotation(j as i32))).collect();
            let u: Vec<Expression<Fr>> = (0..WIDTH).map(|j| chip.at(m, j, 1)).collect();
            let w: Vec<Expression<Fr>> = (0..WIDTH).map(|j| chip.at(m, j, 2)).collect();
            let next: Vec<Expression<Fr>> = (0..WIDTH).map(|j| chip.at(m, j, 3)).collect();
            let t: Vec<Expression<Fr>> = x.iter().zip(&w).map(|(x, w)| x.clone() * w.clone()).collect();
            let mut constraints = vec![];
            for j in 0..WIDTH {
                constraints.push((FULL_SQUARE[j], on.clone() * (u[j].clone() - x[j].clone() * x[j].clone())));
                constraints.push((FULL_FOURTH[j], on.clone() * (w[j].clone() - u[j].clone() * u[j].clone())));
            }
            for (i, name) in FULL_MDS.iter().enumerate() {
                constraints.push((*name, on.clone() * (next[i].clone() - mix(i, &t))));
            }
            constraints
        });
        meta.create_gate("poseidon partial rounds: u = x², w = u², state = M·(x·w, s₁, s₂), three times", |m| {
            let on = round_is(&m.query_fixed(chip.round, Rotation::cur()), ROUND_PARTIAL);
            let mut state: Vec<Expression<Fr>> = (0..WIDTH).map(|j| chip.at(m, j, 0)).collect();
            let mut constraints = vec![];
            for k in 0..PARTIAL_PER_GATE {
                let row = k as i32 + 1;
                let x = state[0].clone() + m.query_fixed(chip.constant, Rotation(k as i32));
                let (u, w) = (chip.at(m, 0, row), chip.at(m, 1, row));
                constraints.push((PARTIAL_SQUARE[k], on.clone() * (u.clone() - x.clone() * x.clone())));
                constraints.push((PARTIAL_FOURTH[k], on.clone() * (w.clone() - u.clone() * u)));
                let t = [x * w, state[1].clone(), state[2].clone()];
                let mixed: Vec<Expression<Fr>> = (0..WIDTH).map(|i| mix(i, &t)).collect();
                if k + 1 < PARTIAL_PER_GATE {
                    // Element 0 is a cell (the next round squares it); 1 and 2 stay expressions.
                    let o = chip.at(m, 2, row);
                    constraints.push((PARTIAL_OUT[k], on.clone() * (o.clone() - mixed[0].clone())));
                    state = vec![o, mixed[1].clone(), mixed[2].clone()];
                } else {
                    for (i, name) in PARTIAL_MDS.iter().enumerate() {
                        let next = chip.at(m, i, PARTIAL_PER_GATE as i32 + 1);
                        constraints.push((*name, on.clone() * (next - mixed[i].clone())));
                    }
                }
            }
            constraints
        });
        Some(chip)
    }

    /// State column `j` at `rotation`.
    fn at(&self, m: &mut VirtualCells<'_, Fr>, j: usize, rotation: i32) -> Expression<Fr> {
        m.query_advice(self.state[j], Rotation(rotation))
    }

    /// Rows the sponge takes for a message of `len` elements (even): the permutations, then
    /// three rows whose `weight[0]` holds the constants the sponge copies (IV, zero, digest).
    pub fn rows(len: usize) -> usize {
        len.div_ceil(2) * ROWS_PER_PERMUTATION + 3
    }

    /// The sponge over `message` (even length) from `row` and capacity `iv`, its digest
    /// constrained to equal `commitment`; returns the next free row.
    pub fn assign_sponge(&self, region: &mut Region<'_, Fr>, row: usize, message: &[Word], iv: Fr, commitment: Fr) -> Result<usize, Error> {
        // The constants sit in `weight[0]` after the permutations, where no gate reads them.
        let end = row + message.len().div_ceil(2) * ROWS_PER_PERMUTATION;
        let iv_cell = region.assign_fixed(self.constant, end, iv);
        let zero_cell = region.assign_fixed(self.constant, end + 1, Fr::ZERO);
        let digest_cell = region.assign_fixed(self.constant, end + 2, commitment);
        let mut row = row;
        let mut capacity: Option<StateCell> = None;
        let mut out = None;
        for pair in message.chunks(2) {
            let mut input = Vec::with_capacity(WIDTH);
            for (j, word) in pair.iter().enumerate() {
                input.push(self.assign_word(region, row, j, word, zero_cell));
            }
            let cap = match capacity {
                None => {
                    let cell = region.assign_advice(self.state[2], row, Value::known(iv)).cell();
                    region.constrain_equal(cell, iv_cell);
                    StateCell { cell, value: Value::known(iv) }
                }
                Some(previous) => {
                    let cell = region.assign_advice(self.state[2], row, previous.value).cell();
                    region.constrain_equal(cell, previous.cell);
                    StateCell { cell, value: previous.value }
                }
            };
            input.push(cap);
            let state = self.assign_permutation(region, row, [input[0], input[1], input[2]]);
            capacity = Some(state[2]);
            out = Some(state[0]);
            row += ROWS_PER_PERMUTATION;
        }
        if let Some(digest) = out {
            region.constrain_equal(digest.cell, digest_cell);
        }
        Ok(row + 3)
    }

    fn assign_word(&self, region: &mut Region<'_, Fr>, row: usize, j: usize, word: &Word, zero: Cell) -> StateCell {
        match word {
            Word::Witness(value) => StateCell { cell: region.assign_advice(self.state[j], row, *value).cell(), value: *value },
            Word::Copy(source) => {
                let cell = region.assign_advice(self.state[j], row, source.value).cell();
                region.constrain_equal(cell, source.cell);
                StateCell { cell, value: source.value }
            }
            Word::Zero => {
                let cell = region.assign_advice(self.state[j], row, Value::known(Fr::ZERO)).cell();
                region.constrain_equal(cell, zero);
                StateCell { cell, value: Value::known(Fr::ZERO) }
            }
        }
    }

    /// The 65 rounds from the state already assigned on `row`; returns the output state.
    fn assign_permutation(&self, region: &mut Region<'_, Fr>, row: usize, input: [StateCell; WIDTH]) -> [StateCell; WIDTH] {
        let (c, folded) = (constants(), &folded_constants().rounds);
        let mut state: [Value<Fr>; WIDTH] = input.map(|s| s.value);
        let mut cells = input;
        let mix = |t: &[Value<Fr>; WIDTH], i: usize| {
            t.iter().zip(&c.mds[i]).fold(Value::known(Fr::ZERO), |acc, (t, m)| acc.zip(*t).map(|(a, t)| a + *m * t))
        };
        let mut at = row;
        let mut i = 0;
        while i < folded.len() {
            if is_full_round(i) {
                assign_fixed(region, self.round, at, ROUND_FULL);
                for (j, constant) in folded[i].iter().enumerate() {
                    region.assign_fixed(self.constant, at + j, *constant);
                }
                let x: Vec<Value<Fr>> = state.iter().zip(&folded[i]).map(|(s, c)| s.map(|s| s + c)).collect();
                let u: Vec<Value<Fr>> = x.iter().map(|x| x.map(|x| x.square())).collect();
                let w: Vec<Value<Fr>> = u.iter().map(|u| u.map(|u| u.square())).collect();
                for j in 0..WIDTH {
                    region.assign_advice(self.state[j], at + 1, u[j]);
                    region.assign_advice(self.state[j], at + 2, w[j]);
                }
                let t = [0, 1, 2].map(|j| x[j].zip(w[j]).map(|(x, w)| x * w));
                for j in 0..WIDTH {
                    state[j] = mix(&t, j);
                    cells[j] = StateCell { cell: region.assign_advice(self.state[j], at + FULL_ROWS, state[j]).cell(), value: state[j] };
                }
                at += FULL_ROWS;
                i += 1;
            } else {
                assign_fixed(region, self.round, at, ROUND_PARTIAL);
                for k in 0..PARTIAL_PER_GATE {
                    region.assign_fixed(self.constant, at + k, folded[i + k][0]);
                    let x = state[0].map(|s| s + folded[i + k][0]);
                    let u = x.map(|x| x.square());
                    let w = u.map(|u| u.square());
                    region.assign_advice(self.state[0], at + k + 1, u);
                    region.assign_advice(self.state[1], at + k + 1, w);
                    let t = [x.zip(w).map(|(x, w)| x * w), state[1], state[2]];
                    state = [0, 1, 2].map(|j| mix(&t, j));
                    if k + 1 < PARTIAL_PER_GATE {
                        region.assign_advice(self.state[2], at + k + 1, state[0]);
                    }
                }
                for j in 0..WIDTH {
                    cells[j] = StateCell { cell: region.assign_advice(self.state[j], at + PARTIAL_ROWS, state[j]).cell(), value: state[j] };
                }
                at += PARTIAL_ROWS;
                i += PARTIAL_PER_GATE;
            }
        }
        debug_assert_eq!(at + 1, row + ROWS_PER_PERMUTATION);
        cells
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::testing::{failures, Harness};

    /// The sponge over `message` from row 0, with one state cell optionally overwritten after.
    fn run(message: &[Fr], commitment: Fr, tamper: Option<(usize, usize, Fr)>) -> Vec<String> {
        let message = message.to_vec();
        failures(
            Harness::private(move |chips, region| {
                let hash = chips.poseidon.as_ref().expect("private mode configures the hash");
                let words: Vec<Word> = message.iter().map(|v| Word::Witness(Value::known(*v))).collect();
                hash.assign_sponge(region, 0, &words, IV, commitment).expect("assigns");
                if let Some((row, j, value)) = tamper {
                    region.assign_advice(hash.state[j], row, Value::known(value));
                }
            })
            .run(),
        )
    }

    const IV: Fr = Fr::from_raw([0, 4, 0, 0]);

    fn message() -> Vec<Fr> {
        vec![Fr::from(11), -Fr::from(5), Fr::from(127), Fr::from(0)]
    }

    #[test]
    fn the_circuit_computes_the_native_sponge() {
        let f = run(&message(), private::sponge(&message(), IV), None);
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn a_wrong_commitment_fails_the_copy_to_the_constant() {
        let f = run(&message(), private::sponge(&message(), IV) + Fr::ONE, None);
        assert!(!f.is_empty() && f.iter().all(|f| f == "permutation"), "{f:?}");
    }

    #[test]
    fn each_tampered_round_value_fails_its_named_constraint() {
        let digest = private::sponge(&message(), IV);
        let has = |f: &[String], name: &str| f.iter().any(|f| f.contains(&format!("('{name}')")));
        // Full round 0: the square of element 1 (its own constraint and the fourth power read from it).
        let f = run(&message(), digest, Some((1, 1, Fr::from(9))));
        assert!(has(&f, "full: u1 = x1²") && has(&f, "full: w1 = u1²"), "{f:?}");
        // Element 2 of round 1's state, which round 0's mixing computed.
        let f = run(&message(), digest, Some((3, 2, Fr::from(9))));
        assert!(has(&f, "full: mds 2"), "{f:?}");
        // The first group of partial rounds (row 12): element 0 after its first round, which
        // the second round squares.
        let partial = FULL_ROWS * (private::FULL_ROUNDS / 2);
        let f = run(&message(), digest, Some((partial + 1, 2, Fr::from(2))));
        assert!(has(&f, "partial 1: o = (M·t)0") && has(&f, "partial 2: u = x²"), "{f:?}");
        // The third round's fourth power, then the state after the group.
        let f = run(&message(), digest, Some((partial + 3, 1, Fr::from(2))));
        assert!(has(&f, "partial 3: w = u²") && has(&f, "partial 3: mds 0"), "{f:?}");
        let f = run(&message(), digest, Some((partial + PARTIAL_ROWS, 1, Fr::from(2))));
        assert!(has(&f, "partial 3: mds 1"), "{f:?}");
        // The group's one spare cell is read by nothing: overwriting it changes nothing.
        assert!(run(&message(), digest, Some((partial + 3, 2, Fr::from(2)))).is_empty());
        // The second block's capacity is a copy of the first block's output.
        let f = run(&message(), digest, Some((ROWS_PER_PERMUTATION, 2, Fr::from(3))));
        assert!(f.contains(&"permutation".to_string()), "{f:?}");
    }

    #[test]
    fn a_permutation_takes_101_rows() {
        assert_eq!(ROWS_PER_PERMUTATION, 101);
    }
}
