//! The SHPLONK multi-opening, reduced to one MSM and one pairing check.

use std::collections::{BTreeMap, BTreeSet};

use halo2_proofs::halo2curves::bn256::{Bn256, Fr};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::poly::commitment::ParamsProver;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;

use super::{point_const, Builder, Commitment, Query, Reads};
use crate::program::{Op, P, S};

/// SHPLONK: reduce every opening to `e(h2, [s]₂) · e(outer, −[1]₂) = 1`.
#[allow(clippy::too_many_arguments)]
pub(super) fn shplonk(
    bb: &mut Builder,
    r: &Reads,
    commitments: &[Commitment],
    queries: &[Query],
    sets: &[(BTreeSet<i32>, Vec<usize>)],
    u_minus: &BTreeMap<i32, S>,
    z_diff_0_inv: S,
    x_inv: S,
    xn: S,
    w: &dyn Fn(i32) -> Fr,
    params: &ParamsKZG<Bn256>,
) {
    bb.note("SHPLONK: each rotation set's openings, interpolated at u and combined with powers of y and v.");
    let eval_of = |c: usize, rot: i32| queries.iter().find(|q| q.commitment == c && q.rotation == rot).map(|q| q.eval);
    let super_rotations: BTreeSet<i32> = u_minus.keys().copied().collect();
    let mut scalars: Vec<S> = vec![S(u32::MAX); commitments.len()];
    let mut r_outer_terms: Vec<S> = Vec::new();
    let mut v_power: Option<S> = None;
    let mut z_0 = None;
    for (i, (rotations, members)) in sets.iter().enumerate() {
        let rots: Vec<i32> = rotations.iter().copied().collect();
        let z_diff = if i == 0 {
            z_0 = Some({
                let f: Vec<S> = rots.iter().map(|rot| u_minus[rot]).collect();
                bb.product(&f)
            });
            None
        } else {
            let f: Vec<S> = super_rotations.iter().filter(|rot| !rotations.contains(rot)).map(|rot| u_minus[rot]).collect();
            let p = bb.product(&f);
            Some(bb.mul(p, z_diff_0_inv))
        };
        // Lagrange basis of this set's points at u: L_j(u) = Π_{m≠j} (u − p_m) / (p_j − p_m),
        // with p_j − p_m = x (ω^{r_j} − ω^{r_m}).
        let basis: Vec<S> = (0..rots.len())
            .map(|j| {
                let mut factors: Vec<S> = Vec::new();
                let mut constant = Fr::ONE;
                for (_, rot) in rots.iter().enumerate().filter(|(m, _)| *m != j) {
                    factors.push(u_minus[rot]);
                    factors.push(x_inv);
                    let d = w(rots[j]) - w(*rot);
                    constant *= Option::<Fr>::from(d.invert()).unwrap_or(Fr::ZERO);
                }
                let c = bb.konst(constant);
                factors.push(c);
                bb.product(&factors)
            })
            .collect();
        let mut y_power: Option<S> = None;
        let mut r_inner_terms = Vec::new();
        for c in members {
            let evals: Vec<S> = rots.iter().map(|rot| eval_of(*c, *rot).unwrap_or(S(u32::MAX))).collect();
            let terms: Vec<S> = evals.iter().zip(&basis).map(|(e, l)| bb.mul(*e, *l)).collect();
            let r_c = bb.sum(&terms);
            let weighted = match y_power {
                None => r_c,
                Some(yp) => bb.mul(r_c, yp),
            };
            r_inner_terms.push(weighted);
            let mut scale: Vec<S> = y_power.into_iter().chain(v_power).chain(z_diff).collect();
            if scale.is_empty() {
                scale.push(bb.konst(Fr::ONE));
            }
            scalars[*c] = bb.product(&scale);
            y_power = Some(match y_power {
                None => r.y2,
                Some(yp) => bb.mul(yp, r.y2),
            });
        }
        let r_inner = bb.sum(&r_inner_terms);
        let weights: Vec<S> = v_power.into_iter().chain(z_diff).collect();
        let wgt = bb.product(&weights);
        r_outer_terms.push(bb.mul(r_inner, wgt));
        v_power = Some(match v_power {
            None => r.v,
            Some(vp) => bb.mul(vp, r.v),
        });
    }
    let r_outer = bb.sum(&r_outer_terms);
    let zero = bb.konst(Fr::ZERO);
    let neg_r_outer = bb.sub(zero, r_outer);
    let neg_z_0 = bb.sub(zero, z_0.unwrap_or(zero));
    let mut terms: Vec<(S, P)> = Vec::new();
    for (c, s) in commitments.iter().zip(&scalars) {
        match c {
            Commitment::Point(p) => terms.push((*s, *p)),
            Commitment::Quotient => {
                let mut power = *s;
                for (j, h) in r.h.iter().enumerate() {
                    if j > 0 {
                        power = bb.mul(power, xn);
                    }
                    terms.push((power, *h));
                }
            }
        }
    }
    bb.note("One MSM: the combined commitments minus r(u)*G1, minus z_0(u)*h1, plus u*h2.");
    let g1 = point_const(bb, params.get_g()[0]);
    terms.push((neg_r_outer, g1));
    terms.push((neg_z_0, r.h1));
    terms.push((r.u, r.h2));
    let outer = bb.point();
    bb.ops.push(Op::Msm { dst: outer, terms });
    bb.ops.push(Op::PairingCheck { lhs: r.h2, rhs: outer });
}
