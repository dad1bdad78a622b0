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
