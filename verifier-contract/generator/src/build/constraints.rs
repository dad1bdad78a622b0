//! The value at x of every constraint: the gates, the permutation argument and
//! the lookup arguments, in the order halo2's verifier folds them with y.

use std::cell::RefCell;

use halo2_proofs::halo2curves::bn256::{Fr, G1Affine};
use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_proofs::plonk::{Any, Expression, VerifyingKey};
use halo2_proofs::poly::Rotation;

use super::{Builder, Reads};
use crate::program::S;

/// The value of every constraint at x: gates, then the permutation, then the lookups.
#[allow(clippy::too_many_arguments)]
pub(super) fn constraint_values(
    bb: &mut Builder,
    vk: &VerifyingKey<G1Affine>,
    r: &Reads,
    instance_eval: S,
    l_0: S,
    l_last: S,
    l_blind: S,
) -> Vec<S> {
    let cs = vk.cs();
    let one = bb.konst(Fr::ONE);
    let cell = RefCell::new(&mut *bb);
    let eval = |e: &Expression<Fr>| -> S {
        e.evaluate(
            &|c| cell.borrow_mut().konst(c),
            &|_| unreachable!("selectors are compiled to fixed columns"),
            &|q| r.fixed_evals[query_index(cs.fixed_queries(), q.column_index(), q.rotation())],
            &|q| r.advice_evals[query_index(cs.advice_queries(), q.column_index(), q.rotation())],
            &|_| instance_eval,
            &|_| unreachable!("no challenges"),
            &|a| {
                let mut b = cell.borrow_mut();
                let z = b.konst(Fr::ZERO);
                b.sub(z, a)
            },
            &|a, b| cell.borrow_mut().add(a, b),
            &|a, b| cell.borrow_mut().mul(a, b),
            &|a, c| {
                let mut b = cell.borrow_mut();
                let k = b.konst(c);
                b.mul(a, k)
            },
        )
    };
    let mut out: Vec<S> = Vec::new();
    for gate in cs.gates() {
        cell.borrow_mut().note(format!("Gate {:?}", gate.name()));
        out.extend(gate.polynomials().iter().map(&eval));
    }
    cell.borrow_mut().note("Lookup arguments: compressed input and table expressions.");
    let lookup_inputs: Vec<(S, S)> = cs
        .lookups()
        .iter()
        .map(|a| {
            let compress = |exprs: &[Expression<Fr>]| {
                let values: Vec<S> = exprs.iter().map(&eval).collect();
                let mut b = cell.borrow_mut();
                let zero = b.konst(Fr::ZERO);
                values.iter().fold(zero, |acc, v| {
                    let t = b.mul(acc, r.theta);
                    b.add(t, *v)
                })
            };
            (compress(a.input_expressions()), compress(a.table_expressions()))
        })
        .collect();
    let bb = cell.into_inner();

    let active = {
        let s = bb.add(l_last, l_blind);
        bb.sub(one, s)
    };
    bb.note("Permutation argument: z starts at 1, ends boolean, chunks chain, and each chunk's grand-product step holds.");
    // Permutation.
    let column_eval = |c: &halo2_proofs::plonk::Column<Any>| match c.column_type() {
        Any::Advice(_) => r.advice_evals[query_index(cs.advice_queries(), c.index(), Rotation::cur())],
        Any::Fixed => r.fixed_evals[query_index(cs.fixed_queries(), c.index(), Rotation::cur())],
        Any::Instance => instance_eval,
    };
    let sets = &r.perm_evals;
    if let (Some(first), Some(last)) = (sets.first(), sets.last()) {
        let t = bb.sub(one, first.0);
        out.push(bb.mul(l_0, t));
        let sq = bb.mul(last.0, last.0);
        let t = bb.sub(sq, last.0);
        out.push(bb.mul(t, l_last));
    }
    for k in 1..sets.len() {
        let prev_last = sets[k - 1].2.unwrap_or(one);
        let t = bb.sub(sets[k].0, prev_last);
        out.push(bb.mul(t, l_0));
    }
    let chunk_len = cs.degree() - 2;
    let columns = cs.permutation().get_columns();
    let delta = <Fr as PrimeField>::DELTA;
    for (k, ((set, cols), sigmas)) in sets.iter().zip(columns.chunks(chunk_len)).zip(r.sigma_evals.chunks(chunk_len)).enumerate() {
        let mut left = set.1;
        for (c, sigma) in cols.iter().zip(sigmas) {
            let t = bb.mul(r.beta, *sigma);
            let t = bb.add(column_eval(c), t);
            let t = bb.add(t, r.gamma);
            left = bb.mul(left, t);
        }
        let mut right = set.0;
        let beta_x = bb.mul(r.beta, r.x);
        for (j, c) in cols.iter().enumerate() {
            let d = bb.konst(delta.pow_vartime([(k * chunk_len + j) as u64]));
            let current = bb.mul(beta_x, d);
            let t = bb.add(column_eval(c), current);
            let t = bb.add(t, r.gamma);
            right = bb.mul(right, t);
        }
        let t = bb.sub(left, right);
        out.push(bb.mul(t, active));
    }
    // Lookups.
    bb.note("Lookup argument: z starts at 1 and ends boolean; the product step; a' and s' agree at the start; a' repeats or equals s'.");
    for (e, (input, table)) in r.lookup_evals.iter().zip(lookup_inputs) {
        let [z, z_next, a, a_prev, s] = *e;
        let t = bb.sub(one, z);
        out.push(bb.mul(l_0, t));
        let sq = bb.mul(z, z);
        let t = bb.sub(sq, z);
        out.push(bb.mul(l_last, t));
        let a_beta = bb.add(a, r.beta);
        let s_gamma = bb.add(s, r.gamma);
        let left = {
            let t = bb.mul(z_next, a_beta);
            bb.mul(t, s_gamma)
        };
        let in_beta = bb.add(input, r.beta);
        let tab_gamma = bb.add(table, r.gamma);
        let right = {
            let t = bb.mul(z, in_beta);
            bb.mul(t, tab_gamma)
        };
        let t = bb.sub(left, right);
        out.push(bb.mul(t, active));
        let a_s = bb.sub(a, s);
        out.push(bb.mul(l_0, a_s));
        let a_ap = bb.sub(a, a_prev);
        let t = bb.mul(a_s, a_ap);
        out.push(bb.mul(t, active));
    }
    out
}

fn query_index<C: halo2_proofs::plonk::ColumnType>(
    queries: &[(halo2_proofs::plonk::Column<C>, Rotation)],
    column: usize,
    rotation: Rotation,
) -> usize {
    queries.iter().position(|(c, r)| c.index() == column && *r == rotation).unwrap_or(usize::MAX)
}
