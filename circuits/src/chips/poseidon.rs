//! The weight hash (private mode): Poseidon rounds as gates over the state columns
//! `s = (lane[0], secret[0], acc)`, three rows a round. Parameters and sponge: [`crate::private`].
//!
//! | row | round | weight[0] | s | meaning |
//! |---|---|---|---|---|
//! | r | 2 (full) or 1 (partial) | `c₀` | state | `x = s + c` |
//! | r + 1 | 0 | `c₁` | `u` | `u_j = x_j²` (full); `u₀ = x₀²`, `u₁ = u₂ = 1` (partial) |
//! | r + 2 | 0 | `c₂` | – | |
//! | r + 3 | next round | … | `M·t` | `t_j = x_j·u_j²`: `x⁵` where the S-box applies, `x` elsewhere |
//!
//! The round code selects with `round·(3 − round)/2` (degree 2) and tells full from partial
//! rounds by `round − 1`, so every constraint stays within degree 5. A permutation takes
//! [`ROWS_PER_PERMUTATION`] rows: 65 rounds and the output row. The rounds' own twin is the
//! library's permutation ([`crate::private::permute`]).

use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed};
use halo2_proofs::poly::Rotation;

use crate::columns::{assign_fixed, PolicyColumns, Wire};
use crate::field::{fr, Fr};
use crate::private::{self, constants, is_full_round, WIDTH};

/// Rows one permutation takes.
pub const ROWS_PER_PERMUTATION: usize = 3 * (private::FULL_ROUNDS + private::PARTIAL_ROUNDS) + 1;

const ROUND_PARTIAL: i64 = 1;
const ROUND_FULL: i64 = 2;

/// One word of the message the sponge absorbs.
#[derive(Clone, Debug)]
pub enum Word {
    /// A witness with no other use (the salt).
    Witness(Value<Fr>),
    /// A copy of a weight cell of the dense rows.
    Copy(Wire),
    /// Padding: a zero fixed by the verifying key.
    Zero,
}

/// An assigned state element.
#[derive(Clone, Copy, Debug)]
pub struct StateCell {
    pub cell: Cell,
    pub value: Value<Fr>,
}

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
        meta.create_gate("poseidon round", |m| {
            let round = m.query_fixed(chip.round, Rotation::cur());
            let half = Expression::Constant(Fr::from(2).invert().unwrap_or(Fr::ZERO));
            let on = round.clone() * (Expression::Constant(fr(3)) - round.clone()) * half;
            let full = round - Expression::Constant(fr(1));
            let one = Expression::Constant(fr(1));
            let x: Vec<Expression<Fr>> = (0..WIDTH)
                .map(|j| m.query_advice(chip.state[j], Rotation::cur()) + m.query_fixed(chip.constant, Rotation(j as i32)))
                .collect();
            let u: Vec<Expression<Fr>> = (0..WIDTH).map(|j| m.query_advice(chip.state[j], Rotation::next())).collect();
            let next: Vec<Expression<Fr>> = (0..WIDTH).map(|j| m.query_advice(chip.state[j], Rotation(3))).collect();
            let mut constraints = vec![("sbox square 0", on.clone() * (u[0].clone() - x[0].clone() * x[0].clone()))];
            for j in 1..WIDTH {
                let square = full.clone() * x[j].clone() * x[j].clone() + (one.clone() - full.clone());
                constraints.push((["sbox square 1", "sbox square 2"][j - 1], on.clone() * (u[j].clone() - square)));
            }
            for (i, row) in mds.iter().enumerate() {
                let mixed = (0..WIDTH).fold(Expression::Constant(fr(0)), |acc, j| {
                    acc + Expression::Constant(row[j]) * x[j].clone() * u[j].clone() * u[j].clone()
                });
                constraints.push((["mds 0", "mds 1", "mds 2"][i], on.clone() * (next[i].clone() - mixed)));
            }
            constraints
        });
        Some(chip)
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
            Word::Copy(wire) => {
                let value = wire.value.map(fr);
                let cell = region.assign_advice(self.state[j], row, value).cell();
                region.constrain_equal(cell, wire.cell);
                StateCell { cell, value }
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
        let c = constants();
        let mut state: [Value<Fr>; WIDTH] = input.map(|s| s.value);
        let mut cells = input;
        for (i, rc) in c.rounds.iter().enumerate() {
            let at = row + 3 * i;
            let full = is_full_round(i);
            assign_fixed(region, self.round, at, if full { ROUND_FULL } else { ROUND_PARTIAL });
            for (j, constant) in rc.iter().enumerate() {
                region.assign_fixed(self.constant, at + j, *constant);
            }
            let x: Vec<Value<Fr>> = state.iter().zip(rc).map(|(s, c)| s.map(|s| s + c)).collect();
            let u: Vec<Value<Fr>> =
                x.iter().enumerate().map(|(j, x)| if j == 0 || full { x.map(|x| x.square()) } else { Value::known(Fr::ONE) }).collect();
            for (j, u) in u.iter().enumerate() {
                region.assign_advice(self.state[j], at + 1, *u);
            }
            let t: Vec<Value<Fr>> = x.iter().zip(&u).map(|(x, u)| x.zip(*u).map(|(x, u)| x * u.square())).collect();
            for (j, row_m) in c.mds.iter().enumerate() {
                let value = t.iter().zip(row_m).fold(Value::known(Fr::ZERO), |acc, (t, m)| acc.zip(*t).map(|(a, t)| a + *m * t));
                state[j] = value;
                cells[j] = StateCell { cell: region.assign_advice(self.state[j], at + 3, value).cell(), value };
            }
        }
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
        // Full round 0: the square of element 1, then element 2 of the next state.
        let has = |f: &[String], name: &str| f.iter().any(|f| f.contains(&format!("('{name}')")));
        // Full round 0: the square of element 1 (its own constraint and the mixing that reads it).
        let f = run(&message(), digest, Some((1, 1, Fr::from(9))));
        assert!(has(&f, "sbox square 1") && has(&f, "mds 1"), "{f:?}");
        // Element 2 of round 1's state, which round 0's mixing computed.
        let f = run(&message(), digest, Some((3, 2, Fr::from(9))));
        assert!(has(&f, "mds 2"), "{f:?}");
        // A partial round's pass-through element must be 1, not its square.
        let partial = 3 * (private::FULL_ROUNDS / 2);
        let f = run(&message(), digest, Some((partial + 1, 2, Fr::from(2))));
        assert!(has(&f, "sbox square 2"), "{f:?}");
        // The second block's capacity is a copy of the first block's output.
        let f = run(&message(), digest, Some((ROWS_PER_PERMUTATION, 2, Fr::from(3))));
        assert!(f.contains(&"permutation".to_string()), "{f:?}");
    }
}
