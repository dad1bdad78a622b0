//! Builds the verifier program from a verifying key, step for step as
//! halo2-axiom's `verify_proof` with `VerifierSHPLONK` (KZG, `QUERY_INSTANCE = false`).
//!
//! All reads and challenges come first (arithmetic does not touch the
//! transcript), then the vanishing argument's expected `h(x)`, then the SHPLONK
//! multi-opening reduced to one MSM and one pairing check. Query points are
//! `x·ω^r`; the rotation sets are grouped by rotation at build time, which is
//! the grouping halo2 makes at run time (distinct rotations give distinct points).

use std::collections::{BTreeMap, BTreeSet};

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_proofs::plonk::VerifyingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;

use crate::program::{Op, Program, P, S};
use crate::VerifierError;

mod constraints;
mod shplonk;

use constraints::constraint_values;
use shplonk::shplonk;

/// Emits ops, folding constants and reusing any arithmetic already computed
/// (the op-code selectors of different gates share most of their factors).
#[derive(Default)]
struct Builder {
    ops: Vec<Op>,
    scalars: u32,
    points: u32,
    proof_len: usize,
    consts: BTreeMap<[u8; 32], S>,
    values: BTreeMap<S, Fr>,
    memo: BTreeMap<(u8, S, S), S>,
}

const ADD: u8 = 0;
const SUB: u8 = 1;
const MUL: u8 = 2;

impl Builder {
    fn scalar(&mut self) -> S {
        self.scalars += 1;
        S(self.scalars - 1)
    }
    fn point(&mut self) -> P {
        self.points += 1;
        P(self.points - 1)
    }
    fn read_points(&mut self, count: usize) -> Vec<P> {
        let points: Vec<P> = (0..count).map(|_| self.point()).collect();
        if let Some(first) = points.first() {
            self.proof_len += 64 * count;
            self.ops.push(Op::ReadPoints { first: *first, count: count as u32 });
        }
        points
    }
    fn read_point(&mut self) -> P {
        self.read_points(1)[0]
    }
    fn read_scalars(&mut self, count: usize) -> Vec<S> {
        let scalars: Vec<S> = (0..count).map(|_| self.scalar()).collect();
        if let Some(first) = scalars.first() {
            self.proof_len += 32 * count;
            self.ops.push(Op::ReadScalars { first: *first, count: count as u32 });
        }
        scalars
    }
    fn squeeze(&mut self) -> S {
        let dst = self.scalar();
        self.ops.push(Op::Squeeze { dst });
        dst
    }
    fn note(&mut self, text: impl Into<String>) {
        self.ops.push(Op::Note { text: text.into() });
    }
    fn konst(&mut self, value: Fr) -> S {
        let key: [u8; 32] = value.to_repr();
        if let Some(s) = self.consts.get(&key) {
            return *s;
        }
        let dst = self.scalar();
        self.ops.push(Op::Const { dst, value });
        self.consts.insert(key, dst);
        self.values.insert(dst, value);
        dst
    }
    fn arith(&mut self, kind: u8, a: S, b: S) -> S {
        let (ca, cb) = (self.values.get(&a).copied(), self.values.get(&b).copied());
        match (kind, ca, cb) {
            (ADD, Some(x), Some(y)) => return self.konst(x + y),
            (SUB, Some(x), Some(y)) => return self.konst(x - y),
            (MUL, Some(x), Some(y)) => return self.konst(x * y),
            (ADD, Some(z), _) if z == Fr::ZERO => return b,
            (ADD | SUB, _, Some(z)) if z == Fr::ZERO => return a,
            (MUL, Some(o), _) if o == Fr::ONE => return b,
            (MUL, _, Some(o)) if o == Fr::ONE => return a,
            (MUL, Some(z), _) | (MUL, _, Some(z)) if z == Fr::ZERO => return self.konst(Fr::ZERO),
            _ => {}
        }
        // Addition and multiplication commute: one key for both operand orders.
        let key = if kind != SUB && b < a { (kind, b, a) } else { (kind, a, b) };
        if let Some(s) = self.memo.get(&key) {
            return *s;
        }
        let dst = self.scalar();
        self.ops.push(match kind {
            ADD => Op::Add { dst, a, b },
            SUB => Op::Sub { dst, a, b },
            _ => Op::Mul { dst, a, b },
        });
        self.memo.insert(key, dst);
        dst
    }
    fn add(&mut self, a: S, b: S) -> S {
        self.arith(ADD, a, b)
    }
    fn sub(&mut self, a: S, b: S) -> S {
        self.arith(SUB, a, b)
    }
    fn mul(&mut self, a: S, b: S) -> S {
        self.arith(MUL, a, b)
    }
    fn product(&mut self, factors: &[S]) -> S {
        let one = self.konst(Fr::ONE);
        factors.iter().fold(one, |acc, f| if acc == one { *f } else { self.mul(acc, *f) })
    }
    fn sum(&mut self, terms: &[S]) -> S {
        let zero = self.konst(Fr::ZERO);
        terms.iter().fold(zero, |acc, t| if acc == zero { *t } else { self.add(acc, *t) })
    }
}

/// What a query opens: a commitment read from the proof or the key, or the
/// quotient `h = Σ xⁿʲ·h_j`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Commitment {
    Point(P),
    Quotient,
}

struct Query {
    commitment: usize,
    rotation: i32,
    eval: S,
}

fn omega_pow(omega: Fr, omega_inv: Fr, r: i32) -> Fr {
    if r >= 0 {
        omega.pow_vartime([r as u64])
    } else {
        omega_inv.pow_vartime([(-r) as u64])
    }
}

/// The proof's registers, in transcript order.
struct Reads {
    instances: Vec<S>,
    advice: Vec<P>,
    theta: S,
    permuted: Vec<(P, P)>,
    beta: S,
    gamma: S,
    perm_z: Vec<P>,
    lookup_z: Vec<P>,
    random: P,
    y: S,
    h: Vec<P>,
    x: S,
    advice_evals: Vec<S>,
    fixed_evals: Vec<S>,
    random_eval: S,
    sigma_evals: Vec<S>,
    /// `(z(x), z(ωx), z(ω^last x))` per permutation chunk; the last chunk has no third.
    perm_evals: Vec<(S, S, Option<S>)>,
    /// `(z(x), z(ωx), a'(x), a'(ω⁻¹x), s'(x))` per lookup.
    lookup_evals: Vec<[S; 5]>,
    y2: S,
    v: S,
    h1: P,
    u: S,
    h2: P,
}

fn read_all(bb: &mut Builder, vk: &VerifyingKey<G1Affine>, num_instances: usize) -> Reads {
    let cs = vk.cs();
    bb.note("Transcript: the verifying key's digest, the public inputs, then the proof in order.");
    let repr = bb.konst(vk.transcript_repr());
    bb.ops.push(Op::Absorb { src: repr });
    let instances: Vec<S> = (0..num_instances).map(|_| bb.scalar()).collect();
    if let Some(first) = instances.first() {
        bb.ops.push(Op::LoadInstances { first: *first, count: num_instances as u32 });
    }
    let advice = bb.read_points(cs.num_advice_columns());
    let theta = bb.squeeze();
    let lookups = cs.lookups().len();
    let permuted = bb.read_points(2 * lookups).chunks(2).map(|c| (c[0], c[1])).collect();
    let beta = bb.squeeze();
    let gamma = bb.squeeze();
    let chunks = cs.permutation().get_columns().len().div_ceil(cs.degree() - 2);
    // Permutation products, lookup products and the random polynomial are consecutive in the proof.
    let mut points = bb.read_points(chunks + lookups + 1);
    let random = points.pop().unwrap_or(P(0));
    let lookup_z = points.split_off(chunks);
    let perm_z = points;
    let y = bb.squeeze();
    let h = bb.read_points(vk.get_domain().get_quotient_poly_degree());
    let x = bb.squeeze();
    // Every evaluation, in transcript order, in one run.
    let perm_eval_count = 3 * chunks - 1;
    let total =
        cs.advice_queries().len() + cs.fixed_queries().len() + 1 + vk.permutation().commitments().len() + perm_eval_count + 5 * lookups;
    let mut evals = bb.read_scalars(total).into_iter();
    let mut take = |n: usize| -> Vec<S> { evals.by_ref().take(n).collect() };
    let advice_evals = take(cs.advice_queries().len());
    let fixed_evals = take(cs.fixed_queries().len());
    let random_eval = take(1)[0];
    let sigma_evals = take(vk.permutation().commitments().len());
    let perm_evals = (0..chunks)
        .map(|k| {
            let e = take(if k + 1 < chunks { 3 } else { 2 });
            (e[0], e[1], e.get(2).copied())
        })
        .collect();
    let lookup_evals = (0..lookups)
        .map(|_| {
            let e = take(5);
            [e[0], e[1], e[2], e[3], e[4]]
        })
        .collect();
    let y2 = bb.squeeze();
    let v = bb.squeeze();
    let h1 = bb.read_point();
    let u = bb.squeeze();
    let h2 = bb.read_point();
    Reads {
        instances,
        advice,
        theta,
        permuted,
        beta,
        gamma,
        perm_z,
        lookup_z,
        random,
        y,
        h,
        x,
        advice_evals,
        fixed_evals,
        random_eval,
        sigma_evals,
        perm_evals,
        lookup_evals,
        y2,
        v,
        h1,
        u,
        h2,
    }
}

/// Every opening, in the order halo2's verifier lists them; `h_eval` is the expected quotient value.
fn queries(bb: &mut Builder, vk: &VerifyingKey<G1Affine>, r: &Reads, h_eval: S, blinding: i32) -> (Vec<Commitment>, Vec<Query>) {
    let cs = vk.cs();
    let mut commitments: Vec<Commitment> = Vec::new();
    let mut id = |c: Commitment| {
        commitments.push(c);
        commitments.len() - 1
    };
    let advice: Vec<usize> = r.advice.iter().map(|p| id(Commitment::Point(*p))).collect();
    let perm_z: Vec<usize> = r.perm_z.iter().map(|p| id(Commitment::Point(*p))).collect();
    let lookups: Vec<(usize, usize, usize)> = r
        .lookup_z
        .iter()
        .zip(&r.permuted)
        .map(|(z, (input, table))| (id(Commitment::Point(*z)), id(Commitment::Point(*input)), id(Commitment::Point(*table))))
        .collect();
    bb.note("Commitments from the verifying key: fixed columns (weights, op codes, range table), then permutation sigmas.");
    let fixed: Vec<usize> = vk
        .fixed_commitments()
        .iter()
        .map(|c| {
            let p = point_const(bb, *c);
            id(Commitment::Point(p))
        })
        .collect();
    let sigma: Vec<usize> = vk
        .permutation()
        .commitments()
        .iter()
        .map(|c| {
            let p = point_const(bb, *c);
            id(Commitment::Point(p))
        })
        .collect();
    let quotient = id(Commitment::Quotient);
    let random = id(Commitment::Point(r.random));

    let mut q = Vec::new();
    let mut push = |commitment, rotation, eval| q.push(Query { commitment, rotation, eval });
    for (i, (column, rotation)) in cs.advice_queries().iter().enumerate() {
        push(advice[column.index()], rotation.0, r.advice_evals[i]);
    }
    for (z, (eval, next, _)) in perm_z.iter().zip(&r.perm_evals) {
        push(*z, 0, *eval);
        push(*z, 1, *next);
    }
    for (z, (_, _, last)) in perm_z.iter().zip(&r.perm_evals).rev().skip(1) {
        if let Some(last) = last {
            push(*z, -(blinding + 1), *last);
        }
    }
    for ((z, input, table), e) in lookups.iter().zip(&r.lookup_evals) {
        push(*z, 0, e[0]);
        push(*input, 0, e[2]);
        push(*table, 0, e[4]);
        push(*input, -1, e[3]);
        push(*z, 1, e[1]);
    }
    for (i, (column, rotation)) in cs.fixed_queries().iter().enumerate() {
        push(fixed[column.index()], rotation.0, r.fixed_evals[i]);
    }
    for (s, eval) in sigma.iter().zip(&r.sigma_evals) {
        push(*s, 0, *eval);
    }
    push(quotient, 0, h_eval);
    push(random, 0, r.random_eval);
    (commitments, q)
}

fn point_const(bb: &mut Builder, value: G1Affine) -> P {
    let dst = bb.point();
    bb.ops.push(Op::PointConst { dst, value });
    dst
}

/// SHPLONK's grouping: commitments by their set of rotations, sets in order of
/// first appearance, commitments in order of first query.
fn rotation_sets(queries: &[Query]) -> Vec<(BTreeSet<i32>, Vec<usize>)> {
    let mut per_commitment: Vec<(usize, BTreeSet<i32>)> = Vec::new();
    for q in queries {
        match per_commitment.iter_mut().find(|(c, _)| *c == q.commitment) {
            Some((_, set)) => {
                set.insert(q.rotation);
            }
            None => per_commitment.push((q.commitment, BTreeSet::from([q.rotation]))),
        }
    }
    let mut sets: Vec<(BTreeSet<i32>, Vec<usize>)> = Vec::new();
    for (c, rotations) in per_commitment {
        match sets.iter_mut().find(|(set, _)| *set == rotations) {
            Some((_, cs)) => cs.push(c),
            None => sets.push((rotations, vec![c])),
        }
    }
    sets
}

/// Builds the program verifying proofs for `vk` with `num_instances` public inputs.
pub fn build(params: &ParamsKZG<Bn256>, vk: &VerifyingKey<G1Affine>, num_instances: usize) -> Result<Program, VerifierError> {
    let cs = vk.cs();
    if cs.num_instance_columns() != 1 || cs.instance_queries().iter().any(|(_, r)| r.0 != 0) {
        return Err(VerifierError::Unsupported("exactly one instance column, queried at the current row only".into()));
    }
    if cs.num_challenges() != 0 || cs.advice_column_phase().iter().any(|p| *p != 0) {
        return Err(VerifierError::Unsupported("a single advice phase and no challenges".into()));
    }
    let domain = vk.get_domain();
    let (omega, omega_inv, n) = (domain.get_omega(), domain.get_omega_inv(), domain.get_n());
    let w = |r: i32| omega_pow(omega, omega_inv, r);
    let blinding = cs.blinding_factors() as i32;

    let mut bb = Builder::default();
    let r = read_all(&mut bb, vk, num_instances);
    let h_eval = bb.scalar();
    let (commitments, queries) = queries(&mut bb, vk, &r, h_eval, blinding);
    let sets = rotation_sets(&queries);
    let super_rotations: BTreeSet<i32> = queries.iter().map(|q| q.rotation).collect();

    // Everything that needs inverting, inverted at once.
    bb.note("x^n, and every denominator of the checks below, inverted together.");
    let one = bb.konst(Fr::ONE);
    let xn = bb.scalar();
    bb.ops.push(Op::Pow { dst: xn, base: r.x, exp: n });
    let xn_minus_one = bb.sub(xn, one);
    let rows: BTreeSet<i32> = (-(blinding + 1)..=0).collect();
    let denominators: Vec<(i32, S)> = rows
        .iter()
        .map(|&i| {
            let c = bb.konst(w(i));
            (i, bb.sub(r.x, c))
        })
        .collect();
    let u_minus: BTreeMap<i32, S> = super_rotations
        .iter()
        .map(|&rot| {
            let c = bb.konst(w(rot));
            let point = bb.mul(r.x, c);
            (rot, bb.sub(r.u, point))
        })
        .collect();
    let diff = |bb: &mut Builder, set: &BTreeSet<i32>| {
        let factors: Vec<S> = super_rotations.iter().filter(|rot| !set.contains(rot)).map(|rot| u_minus[rot]).collect();
        bb.product(&factors)
    };
    let z_diff_0 = diff(&mut bb, &sets[0].0);
    let mut pairs: Vec<(S, S)> = Vec::new();
    let mut invert = |bb: &mut Builder, src: S| {
        let dst = bb.scalar();
        pairs.push((dst, src));
        dst
    };
    let inv_denominators: BTreeMap<i32, S> = denominators.iter().map(|(i, d)| (*i, invert(&mut bb, *d))).collect();
    let inv_xn_minus_one = invert(&mut bb, xn_minus_one);
    let x_inv = invert(&mut bb, r.x);
    let z_diff_0_inv = invert(&mut bb, z_diff_0);
    let instance_inv = r.instances.first().map(|_| {
        let product = bb.scalar();
        bb.ops.push(Op::InstanceDenominator { dst: product, count: num_instances as u32, x: r.x, omega });
        invert(&mut bb, product)
    });
    bb.ops.push(Op::BatchInvert { pairs });

    // l_i(x) = ω^i (xⁿ − 1) / (n (x − ω^i)).
    bb.note("Lagrange basis at x: l_i(x) = w^i (x^n - 1) / (n (x - w^i)) for the last, blinding and first rows.");
    let n_inv = Option::<Fr>::from(Fr::from(n).invert()).unwrap_or(Fr::ZERO);
    let n_inv = bb.konst(n_inv);
    let common = bb.mul(xn_minus_one, n_inv);
    let lagrange: BTreeMap<i32, S> = rows
        .iter()
        .map(|&i| {
            let c = bb.konst(w(i));
            let t = bb.mul(common, c);
            (i, bb.mul(t, inv_denominators[&i]))
        })
        .collect();
    let instance_eval = bb.scalar();
    if let (Some(first), Some(inv)) = (r.instances.first(), instance_inv) {
        bb.ops.push(Op::InstanceEval { dst: instance_eval, first: *first, count: num_instances as u32, x: r.x, common, inv, omega });
    } else {
        bb.ops.push(Op::Const { dst: instance_eval, value: Fr::ZERO });
    }
    let l_last = lagrange[&-(blinding + 1)];
    let blind_terms: Vec<S> = (-blinding..0).map(|i| lagrange[&i]).collect();
    let l_blind = bb.sum(&blind_terms);
    let l_0 = lagrange[&0];

    let constraints = constraint_values(&mut bb, vk, &r, instance_eval, l_0, l_last, l_blind);
    bb.note("Vanishing argument: h(x) = (sum of y^i * constraint_i) / (x^n - 1).");
    let zero = bb.konst(Fr::ZERO);
    let folded = constraints.iter().fold(zero, |acc, c| {
        let t = bb.mul(acc, r.y);
        bb.add(t, *c)
    });
    bb.ops.push(Op::Mul { dst: h_eval, a: folded, b: inv_xn_minus_one });

    shplonk(&mut bb, &r, &commitments, &queries, &sets, &u_minus, z_diff_0_inv, x_inv, xn, &w, params);
    let (g2, s_g2) = (params.g2(), params.s_g2());
    Ok(Program { ops: bb.ops, num_instances, proof_len: bb.proof_len, num_scalars: bb.scalars, num_points: bb.points, g2, s_g2 })
}
