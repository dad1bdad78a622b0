//! KZG structured reference strings (powers of tau).
//!
//! **The development SRS is insecure.** Its toxic waste comes from a public
//! seed, so anyone can forge proofs against keys made from it. It exists so
//! that everything works offline and reproducibly; production loads a public
//! ceremony's powers of tau with [`load`], or imports a snarkjs `.ptau` ceremony file
//! with [`ptau::import`].

pub mod ptau;

use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::Bn256;
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use zkpolicy_verifier::transcript::keccak256;

use crate::fsutil;
use crate::ProverError;

/// The public seed of the development SRS.
pub const DEV_SRS_SEED: u64 = 0x7a6b_706f_6c69_6379; // "zkpolicy"

/// Where the SRS comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SrsSource {
    /// Generated from [`DEV_SRS_SEED`]: development only.
    Dev,
    /// The development SRS, kept in this directory once generated (`dev-k<k>.bin`), so
    /// each command does not spend most of its time making it again.
    DevCached(PathBuf),
    /// A powers-of-tau file in halo2's raw `ParamsKZG` format.
    File(PathBuf),
}

impl SrsSource {
    /// A short identifier for key caches: keys made from different SRSs differ,
    /// so a file is named by its content (keccak-256 prefix), not its name.
    pub fn id(&self) -> String {
        match self {
            Self::Dev | Self::DevCached(_) => "dev".into(),
            Self::File(path) => match read_file(path) {
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
            Self::DevCached(dir) => Ok(dev_params_cached(dir, k)),
            Self::File(path) => load(path, k),
        }
    }
}

/// INSECURE development params for `2^k` rows, deterministic from [`DEV_SRS_SEED`].
pub fn dev_params_insecure(k: u32) -> ParamsKZG<Bn256> {
    ParamsKZG::<Bn256>::setup(k, ChaCha20Rng::seed_from_u64(DEV_SRS_SEED))
}

/// The development params for `k` from `dir`, or generated and written there. The file
/// starts with the keccak-256 of the rest, and one that does not check out, or does not
/// read back as the development SRS at this `k`, is made again; a cache that cannot be
/// written costs only the time to regenerate next time.
fn dev_params_cached(dir: &Path, k: u32) -> ParamsKZG<Bn256> {
    let path = dir.join(format!("dev-k{k}.bin"));
    let cached = fsutil::read_checked(&path).ok().flatten().and_then(|bytes| from_bytes(&bytes, k, &path).ok());
    if let Some(params) = cached.filter(|p| p.k() == k && is_dev(p)) {
        return params;
    }
    let params = dev_params_insecure(k);
    if let Ok(bytes) = encode(&params) {
        let _ = fsutil::write_checked(&path, &bytes);
    }
    params
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

/// The largest k of a params file zkpolicy reads: the largest public ceremonies stop at 2^28.
pub const MAX_FILE_K: u32 = 28;

/// Bytes of a raw `ParamsKZG<Bn256>` file of size `k`: the k header, `2^k` G1 points
/// in monomial and in Lagrange form (64 bytes each), then `[1]₂` and `[s]₂` (128 each).
pub fn file_len(k: u32) -> u64 {
    4 + 2 * (1u64 << k) * 64 + 2 * 128
}

/// Loads params from `path` and trims them to `k`.
pub fn load(path: &Path, k: u32) -> Result<ParamsKZG<Bn256>, ProverError> {
    from_bytes(&read_file(path)?, k, path)
}

/// The bytes of a params file: a regular file no larger than one of [`MAX_FILE_K`].
pub fn read_file(path: &Path) -> Result<Vec<u8>, ProverError> {
    fsutil::read_regular(path, file_len(MAX_FILE_K), "powers-of-tau file")
}

/// Reads params from the bytes of a file (`path` names it in errors) and trims them to
/// `k`. The header's k and the length are checked first, so a corrupt header cannot make
/// the reader loop over 2^k points.
pub fn from_bytes(bytes: &[u8], k: u32, path: &Path) -> Result<ParamsKZG<Bn256>, ProverError> {
    let corrupt = |reason: String| ProverError::Corrupt { path: path.to_owned(), what: "KZG params file", reason };
    let header: [u8; 4] = bytes.get(..4).and_then(|h| h.try_into().ok()).ok_or_else(|| corrupt("shorter than its 4-byte header".into()))?;
    let file_k = u32::from_le_bytes(header);
    if file_k > MAX_FILE_K {
        return Err(corrupt(format!("its header says k = {file_k}, more than the largest supported ({MAX_FILE_K})")));
    }
    if bytes.len() as u64 != file_len(file_k) {
        return Err(corrupt(format!("{} bytes, but a k = {file_k} file has {}", bytes.len(), file_len(file_k))));
    }
    let mut params = ParamsKZG::<Bn256>::read_custom(&mut &bytes[..], SerdeFormat::RawBytes).map_err(|e| corrupt(e.to_string()))?;
    if params.k() < k {
        return Err(ProverError::ParamsTooSmall { have: params.k(), need: k });
    }
    if params.k() > k {
        params.downsize(k);
    }
    Ok(params)
}

/// Writes `params` atomically in the raw format [`load`] reads (`zkpolicy setup` uses it).
pub fn save(path: &Path, params: &ParamsKZG<Bn256>) -> Result<(), ProverError> {
    fsutil::write_atomic(path, &encode(params).map_err(|source| ProverError::Write { path: path.to_owned(), source })?)
}

/// The params in the file format [`from_bytes`] reads.
fn encode(params: &ParamsKZG<Bn256>) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    params.write_custom(&mut bytes, SerdeFormat::RawBytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_have_the_documented_length_and_a_lying_header_is_refused() {
        let mut bytes = Vec::new();
        dev_params_insecure(4).write_custom(&mut bytes, SerdeFormat::RawBytes).expect("in memory");
        assert_eq!(bytes.len() as u64, file_len(4));
        let path = Path::new("p.bin");
        assert_eq!(from_bytes(&bytes, 3, path).expect("reads").k(), 3);
        for (header, named) in [(40u32, "k = 40, more than"), (5, "a k = 5 file has")] {
            let mut lying = bytes.clone();
            lying[..4].copy_from_slice(&header.to_le_bytes());
            let err = from_bytes(&lying, 3, path).expect_err("refused").to_string();
            assert!(err.contains(named), "{err}");
        }
        assert!(from_bytes(&bytes[..3], 3, path).expect_err("refused").to_string().contains("4-byte header"));
    }

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
