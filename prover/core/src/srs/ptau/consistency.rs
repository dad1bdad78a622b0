//! That a file's powers are powers of one `τ`, and the params built from them.
//!
//! Given `g₀ = [1]₁`, `h₀ = [1]₂` and `h₁ = [τ]₂` (in the subgroup), the G1 powers are
//! `gᵢ = [τ^i]₁` exactly when `e(gᵢ, h₁) = e(gᵢ₊₁, h₀)` for every consecutive pair. The pairs
//! are checked at once with a random linear combination:
//!
//! `e(Σ rᵢ·gᵢ, h₁) · e(−Σ rᵢ·gᵢ₊₁, h₀) = 1`
//!
//! is two multi-exponentiations and one two-pair pairing. If some pair is wrong, the left side
//! is `e(G1, G2)` raised to a nonzero linear form in the `rᵢ`, which vanishes with probability
//! `1/|Fr|` ≈ 2⁻²⁵⁴ over random `rᵢ`. The `rᵢ` come from a ChaCha20 stream seeded with the
//! keccak-256 of every byte read (Fiat–Shamir): whoever wrote the file fixed them by writing
//! it, so they cannot be chosen to cancel a tampered power, and a run is reproducible. (The
//! Lagrange basis's check draws its scalars from the same stream.)

use halo2_proofs::arithmetic::best_multiexp;
use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine, G2Affine, G2Prepared};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::halo2curves::group::{Curve, Group};
use halo2_proofs::halo2curves::pairing::{MillerLoopResult, MultiMillerLoop};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::PtauError;

/// Checks that `g1[0]` and `g2` are the generators and that `g1` are successive powers of the
/// `τ` of `s_g2`, with scalars drawn from `rng`.
pub(super) fn check(g1: &[G1Affine], g2: &G2Affine, s_g2: &G2Affine, rng: &mut ChaCha20Rng) -> Result<(), PtauError> {
    if g1.first() != Some(&G1Affine::generator()) {
        return Err(PtauError::NotGenerator { section: "tauG1", group: "G1" });
    }
    if *g2 != G2Affine::generator() {
        return Err(PtauError::NotGenerator { section: "tauG2", group: "G2" });
    }
    let generator = G1Affine::generator();
    if g1.get(1).is_some_and(|tau| *tau == generator || *tau == -generator) {
        return Err(PtauError::TrivialTau);
    }
    let pairs = g1.len() - 1;
    let scalars: Vec<Fr> = (0..pairs).map(|_| Fr::random(&mut *rng)).collect();
    let lower = best_multiexp(&scalars, &g1[..pairs]).to_affine();
    let upper = best_multiexp(&scalars, &g1[1..]).to_affine();
    let terms = [(&lower, &G2Prepared::from(*s_g2)), (&-upper, &G2Prepared::from(*g2))];
    if !bool::from(Bn256::multi_miller_loop(&terms).final_exponentiation().is_identity()) {
        return Err(PtauError::Inconsistent { pairs });
    }
    Ok(())
}

/// The params for `2^k` rows from `[τ^i]₁` for `i < 2^k` (`g.len() == 2^k`), `[1]₂`, `[τ]₂`
/// and the Lagrange basis if the file had it (checked); without, it is the inverse FFT of the
/// powers (halo2's `g_to_lagrange`, as `ParamsKZG::downsize` computes it).
pub(super) fn params(k: u32, g: Vec<G1Affine>, g_lagrange: Option<Vec<G1Affine>>, g2: G2Affine, s_g2: G2Affine) -> ParamsKZG<Bn256> {
    // `ParamsKZG::from_parts` takes `&self` and reads nothing of it; the smallest params do.
    let any = ParamsKZG::<Bn256>::setup(0, ChaCha20Rng::seed_from_u64(0));
    any.from_parts(k, g, g_lagrange, g2, s_g2)
}
