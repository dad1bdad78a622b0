//! KZG structured reference strings (powers of tau).
//!
//! **The development SRS is insecure.** Its toxic waste comes from a public
//! seed, so anyone can forge proofs against keys made from it. It exists so
//! that everything works offline and reproducibly; production loads a public
//! ceremony's powers of tau with [`load`].

use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::Bn256;
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use zkpolicy_verifier_contract::transcript::keccak256;

use crate::fsutil;
use crate::ProverError;

/// The public seed of the development SRS.
pub const DEV_SRS_SEED: u64 = 0x7a6b_706f_6c69_6379; // "zkpolicy"

/// Where the SRS comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SrsSource {
    /// Generated from [`DEV_SRS_SEED`]: development only.
    Dev,
    /// A powers-of-tau file in halo2's raw `ParamsKZG` format.
    File(PathBuf),
}

impl SrsSource {
    /// A short identifier for key caches: keys made from different SRSs differ,
    /// so a file is named by its content (keccak-256 prefix), not its name.
    pub fn id(&self) -> String {
        match self {
            Self::Dev => "dev".into(),
            Self::File(path) => match std::fs::read(path) {
                Ok(bytes) => format!("srs-{}", hex::encode(&keccak256(&bytes)[..8])),
                // `params` reports the read error; no cache entry can match this id.
                Err(_) => "srs-unreadable".into(),
            },
        }
    }

    /// The params for a circuit of size `k`.
    pub fn params(&self, k: u32) -> Result<ParamsKZG<Bn256>, ProverError> {
        match self {
            Self::Dev => Ok(dev_params_insecure(k)),
            Self::File(path) => load(path, k),
        }
    }
}

/// INSECURE development params for `2^k` rows, deterministic from [`DEV_SRS_SEED`].
pub fn dev_params_insecure(k: u32) -> ParamsKZG<Bn256> {
    ParamsKZG::<Bn256>::setup(k, ChaCha20Rng::seed_from_u64(DEV_SRS_SEED))
}

/// Whether `params` are the development SRS, whatever file they came from: its
/// toxic waste `s` is the first scalar drawn from [`DEV_SRS_SEED`] (see
/// `ParamsKZG::setup`), so `[s]G2` identifies it.
pub fn is_dev(params: &ParamsKZG<Bn256>) -> bool {
    use halo2_proofs::halo2curves::bn256::{Fr, G2Affine};
    use halo2_proofs::halo2curves::ff::Field;
    let s = Fr::random(ChaCha20Rng::seed_from_u64(DEV_SRS_SEED));
    let dev_s_g2: G2Affine = (G2Affine::generator() * s).into();
    params.s_g2() == dev_s_g2
}

/// Loads params from `path` and trims them to `k`.
pub fn load(path: &Path, k: u32) -> Result<ParamsKZG<Bn256>, ProverError> {
    let bytes = fsutil::read(path)?;
    let mut params = ParamsKZG::<Bn256>::read_custom(&mut &bytes[..], SerdeFormat::RawBytes).map_err(|e| {
        ProverError::Corrupt { path: path.to_owned(), what: "KZG params file", reason: e.to_string() }
    })?;
    if params.k() < k {
        return Err(ProverError::ParamsTooSmall { have: params.k(), need: k });
    }
    if params.k() > k {
        params.downsize(k);
    }
    Ok(params)
}

pub fn save(path: &Path, params: &ParamsKZG<Bn256>) -> Result<(), ProverError> {
    let mut bytes = Vec::new();
    params
        .write_custom(&mut bytes, SerdeFormat::RawBytes)
        .map_err(|source| ProverError::Write { path: path.to_owned(), source })?;
    fsutil::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dev_srs_is_recognised_by_content_and_another_is_not() {
        assert!(is_dev(&dev_params_insecure(4)));
        // Trimmed from a larger dev SRS: same toxic waste, still dev.
        let mut big = dev_params_insecure(6);
        big.downsize(4);
        assert!(is_dev(&big));
        let other = ParamsKZG::<Bn256>::setup(4, ChaCha20Rng::seed_from_u64(DEV_SRS_SEED + 1));
        assert!(!is_dev(&other));
    }
}
