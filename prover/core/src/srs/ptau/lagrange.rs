//! The Lagrange basis `[L_i(τ)]₁` halo2's params carry beside the powers.
//!
//! halo2 wants `L_i` over its own domain `{ω_h^i}`, where `ω_h = 7^t` is halo2curves' root of
//! unity (`r − 1 = t·2^28`). Computing it from the powers is an inverse FFT over G1: `k·2^(k−1)`
//! scalar multiplications, minutes at k = 16 and most of an hour at k = 20 on two cores.
//!
//! A file prepared for phase 2 (`snarkjs powersoftau prepare phase2`, as every public file is)
//! already holds the basis: section 12 is, for each `p = 0 … power + 1`, the `2^p` points
//! `[L_j(τ)]₁` over snarkjs' domain `{ω_s^j}`, `ω_s = 5^t`, blocks one after another (the
//! block of size `2^k` starts at point `2^k − 1`). Both roots generate the same group of
//! order `2^k`, so `ω_h = ω_s^m` for one odd `m`, and halo2's `L_i` is snarkjs' `L_{i·m mod 2^k}`.
//!
//! The section is not trusted: with random `rᵢ`, `Σ rᵢ·[L_i(τ)]₁` must equal `Σ cⱼ·[τ^j]₁`
//! where `c` are the coefficients of the polynomial that takes the values `r` on halo2's
//! domain (an inverse FFT over scalars, cheap), the powers being already checked. A wrong point
//! passes with probability `1/|Fr|`.

use halo2_proofs::arithmetic::best_multiexp;
use halo2_proofs::halo2curves::bn256::{Fr, G1Affine};
use halo2_proofs::halo2curves::ff::{Field, PrimeField};
use halo2_proofs::poly::EvaluationDomain;
use rand_chacha::ChaCha20Rng;

use super::PtauError;

/// `t = (r − 1) / 2^28`, little-endian limbs.
const TWO_ADIC_COFACTOR: [u64; 4] = [0x9b97_0914_3e1f_593f, 0x1815_85d2_833e_8487, 0x131a_029b_8504_5b68, 0x3_0644_e72e];

/// snarkjs' primitive `2^28`-th root of unity, `5^t` (5 being the smallest non-residue, which
/// ffjavascript picks).
pub(super) fn snarkjs_root_of_unity() -> Fr {
    Fr::from(5).pow_vartime(TWO_ADIC_COFACTOR)
}

/// The primitive `2^k`-th root of unity from a `2^28`-th one.
fn root_of_order(mut root: Fr, k: u32) -> Fr {
    for _ in k..Fr::S {
        root = root.square();
    }
    root
}

/// The basis in halo2's order from snarkjs' block of size `2^k`: `L_h[i] = L_s[i·m mod 2^k]`.
pub(super) fn to_halo2_order(snarkjs: Vec<G1Affine>, k: u32) -> Vec<G1Affine> {
    let n = 1usize << k;
    let halo2_root = root_of_order(Fr::ROOT_OF_UNITY, k);
    let snarkjs_root = root_of_order(snarkjs_root_of_unity(), k);
    // Both roots have order exactly 2^k, so the search ends before n.
    let mut power = Fr::ONE;
    let mut m = 0usize;
    while power != halo2_root && m < n {
        power *= snarkjs_root;
        m += 1;
    }
    (0..n).map(|i| snarkjs[(i * m) % n]).collect()
}

/// Checks `Σ rᵢ·lagrange[i] = Σ cⱼ·g[j]` with `c` the coefficients of the polynomial of values
/// `r` on halo2's domain of size `2^k = g.len()`.
pub(super) fn check(g: &[G1Affine], lagrange: &[G1Affine], k: u32, rng: &mut ChaCha20Rng) -> Result<(), PtauError> {
    let domain = EvaluationDomain::<Fr>::new(1, k);
    let mut values = domain.empty_lagrange();
    for value in values.iter_mut() {
        *value = Fr::random(&mut *rng);
    }
    let lhs = best_multiexp(&values, lagrange);
    let coefficients = domain.lagrange_to_coeff(values);
    if lhs != best_multiexp(&coefficients, g) {
        return Err(PtauError::LagrangeInconsistent { points: g.len() });
    }
    Ok(())
}
