//! Key generation and the on-disk key cache.
//!
//! Keys depend on the model (its weights are fixed columns, or in private mode its weight
//! commitment is), the circuit's constraints and layout, k and the SRS, so the cache
//! directory is named by all of them:
//! `<cache>/<card commitment>/<CIRCUIT_VERSION>-<layout id>-k<k>-w<lanes>[-private]-<srs id>/{vk,pk}.bin`,
//! where the layout id is a digest of the constraint system and of every operation's row
//! ([`layout_id`]): a binary whose circuit differs never reads another's keys, even where
//! nobody bumped [`CIRCUIT_VERSION`].
//! The card commitment is the weight file's keccak in fixed mode and the salted weight
//! commitment in private mode: a private model's cache never names anything computed from
//! the weights alone, which would confirm a guessed model to anyone who can list the directory.
//! Each file starts with the keccak-256 of the rest, so a truncated or edited
//! file is detected and regenerated instead of reaching the deserializer.

use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::Circuit;
use halo2_proofs::plonk::{keygen_pk, keygen_vk_custom, ProvingKey, VerifyingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use zkpolicy_circuits::{private, PolicyCircuit};
use zkpolicy_model::ModelCard;

use crate::fsutil;
use crate::srs::SrsSource;
use crate::ProverError;

/// Bumped whenever what the circuit assigns changes in a way [`layout_id`] cannot see (a
/// constant a gate reads from a fixed column), so stale cached keys are not reused.
pub const CIRCUIT_VERSION: &str = "c2";
/// How keys are written, in the cache and in exported key files.
pub(crate) const KEY_FORMAT: SerdeFormat = SerdeFormat::RawBytes;

/// The verifying key. Keys are built without selector compression: the
/// circuit has no selectors (its gates are switched by op-code fixed columns),
/// and the layout stays exactly as documented for the Solidity generator.
pub fn keygen_vk(params: &ParamsKZG<Bn256>, circuit: &PolicyCircuit) -> Result<VerifyingKey<G1Affine>, ProverError> {
    keygen_vk_custom(params, &circuit.without_witness(), false)
        .map_err(|e| ProverError::Halo2 { stage: "verifying key generation", detail: e.to_string() })
}

/// The proving key (which holds the verifying key [`keygen_vk`] makes), from `circuit`
/// without its witness; `params` must be cut to the circuit's `k`.
pub fn keygen(params: &ParamsKZG<Bn256>, circuit: &PolicyCircuit) -> Result<ProvingKey<G1Affine>, ProverError> {
    let vk = keygen_vk(params, circuit)?;
    keygen_pk(params, vk, &circuit.without_witness())
        .map_err(|e| ProverError::Halo2 { stage: "proving key generation", detail: e.to_string() })
}

/// Whether a key came from the cache or was just generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Read back from the key cache, its checksum intact.
    Cached,
    /// Made by key generation in this run (and written to the cache, if there is one).
    Generated,
}

impl KeyOrigin {
    /// "cached" or "generated", as the CLI prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyOrigin::Cached => "cached",
            KeyOrigin::Generated => "generated",
        }
    }
}

impl std::fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A directory of cached keys.
#[derive(Clone, Debug)]
pub struct KeyCache {
    root: PathBuf,
}

/// The first 8 hex digits of the keccak-256 of `circuit`'s constraint system (its gates,
/// queries, permutation and lookups, as halo2 pins them) and of its placement (the row of
/// every operation): what changes when the circuit's code does.
pub fn layout_id(circuit: &PolicyCircuit) -> String {
    let mut cs = halo2_proofs::plonk::ConstraintSystem::default();
    PolicyCircuit::configure_with_params(&mut cs, circuit.params());
    let text = format!("{:?}\n{:?}", cs.pinned(), circuit.placement());
    let mut digest = [0u8; 32];
    let mut keccak = tiny_keccak::Keccak::v256();
    tiny_keccak::Hasher::update(&mut keccak, text.as_bytes());
    tiny_keccak::Hasher::finalize(keccak, &mut digest);
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

impl KeyCache {
    /// A cache under `root`; nothing is created until a key is written.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory holding one model's keys for one SRS.
    pub fn dir(&self, circuit: &PolicyCircuit, srs: &SrsSource) -> PathBuf {
        let card: &ModelCard = circuit.as_ref();
        let private = if circuit.weight_commitment().is_some() { "-private" } else { "" };
        let shape = circuit.shape();
        let name = format!("{CIRCUIT_VERSION}-{}-k{}-w{}{private}-{}", layout_id(circuit), shape.k, shape.lanes, srs.id());
        self.root.join(card.commitment().to_string()).join(name)
    }

    /// Moves a private model's keys cached under the name earlier versions gave them
    /// (`<weight file keccak>/…-private-<prefix of the weight commitment>-…`, which confirms a
    /// guessed model) to [`KeyCache::dir`], or removes them when that is taken or when they
    /// were made for another circuit (another version or layout). Nothing for fixed mode.
    fn forget_unsalted_name(&self, circuit: &PolicyCircuit, srs: &SrsSource) -> Result<(), ProverError> {
        let Some(weights) = circuit.weight_commitment() else { return Ok(()) };
        let model = self.root.join(circuit.model().commitment().to_string());
        let marker = format!("-private-{}-", &private::hex_be(&weights)[2..18]);
        let Ok(entries) = std::fs::read_dir(&model) else { return Ok(()) };
        let dir = self.dir(circuit, srs);
        let current = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.contains(&marker) {
                continue;
            }
            let legacy = entry.path();
            let err = |source| ProverError::Write { path: legacy.clone(), source };
            if name.replace(&marker, "-private-") == current && !dir.exists() {
                std::fs::create_dir_all(dir.parent().unwrap_or(&self.root)).map_err(err)?;
                std::fs::rename(&legacy, &dir).map_err(err)?;
            } else {
                std::fs::remove_dir_all(&legacy).map_err(err)?;
            }
        }
        // The model's directory too, once nothing else is cached under its name.
        let _ = std::fs::remove_dir(&model);
        Ok(())
    }

    /// The proving key, read from the cache or generated and cached (with its verifying key).
    pub fn proving_key(
        &self,
        params: &ParamsKZG<Bn256>,
        circuit: &PolicyCircuit,
        srs: &SrsSource,
    ) -> Result<(ProvingKey<G1Affine>, KeyOrigin), ProverError> {
        self.forget_unsalted_name(circuit, srs)?;
        let path = self.dir(circuit, srs).join("pk.bin");
        cached(
            &path,
            |bytes| ProvingKey::<G1Affine>::from_bytes::<PolicyCircuit>(bytes, KEY_FORMAT, circuit.params()).ok(),
            || {
                let pk = keygen(params, circuit)?;
                fsutil::write_checked(&path.with_file_name("vk.bin"), &pk.get_vk().to_bytes(KEY_FORMAT))?;
                Ok(pk)
            },
            |pk| pk.to_bytes(KEY_FORMAT),
        )
    }

    /// The verifying key, read from the cache or generated and cached.
    pub fn verifying_key(
        &self,
        params: &ParamsKZG<Bn256>,
        circuit: &PolicyCircuit,
        srs: &SrsSource,
    ) -> Result<(VerifyingKey<G1Affine>, KeyOrigin), ProverError> {
        self.forget_unsalted_name(circuit, srs)?;
        let path = self.dir(circuit, srs).join("vk.bin");
        cached(
            &path,
            |bytes| VerifyingKey::<G1Affine>::from_bytes::<PolicyCircuit>(bytes, KEY_FORMAT, circuit.params()).ok(),
            || keygen_vk(params, circuit),
            |vk| vk.to_bytes(KEY_FORMAT),
        )
    }
}

/// The value cached at `path` if it reads back, otherwise a freshly made one, written there.
fn cached<T>(
    path: &Path,
    decode: impl FnOnce(&[u8]) -> Option<T>,
    make: impl FnOnce() -> Result<T, ProverError>,
    encode: impl FnOnce(&T) -> Vec<u8>,
) -> Result<(T, KeyOrigin), ProverError> {
    if let Some(value) = fsutil::read_checked(path)?.as_deref().and_then(decode) {
        return Ok((value, KeyOrigin::Cached));
    }
    let value = make()?;
    fsutil::write_checked(path, &encode(&value))?;
    Ok((value, KeyOrigin::Generated))
}

/// A model made ready to prove: its circuit at the planned shape, the SRS at that size,
/// and the proving key. Every command and fixture that proves goes through here.
pub struct Prepared {
    /// The circuit at its planned shape, without a witness.
    pub circuit: PolicyCircuit,
    /// The SRS cut to the circuit's `k`.
    pub params: ParamsKZG<Bn256>,
    /// The proving key for `circuit` under `params`.
    pub pk: ProvingKey<G1Affine>,
    /// Where `params` came from (it also names the key cache entry).
    pub srs: SrsSource,
    /// Whether the proving key came from the cache (always `Generated` for [`Prepared::fresh`]).
    pub origin: KeyOrigin,
}

impl Prepared {
    /// With keys from `cache`, generated and cached on first use.
    pub fn cached(circuit: PolicyCircuit, srs: SrsSource, cache: &KeyCache) -> Result<Self, ProverError> {
        let params = srs.params(circuit.shape().k)?;
        let (pk, origin) = cache.proving_key(&params, &circuit, &srs)?;
        Ok(Self { circuit, params, pk, srs, origin })
    }

    /// With freshly generated keys and nothing written (tests, benches).
    pub fn fresh(circuit: PolicyCircuit, srs: SrsSource) -> Result<Self, ProverError> {
        let params = srs.params(circuit.shape().k)?;
        let pk = keygen(&params, &circuit)?;
        Ok(Self { circuit, params, pk, srs, origin: KeyOrigin::Generated })
    }

    /// The verifying key inside the proving key: what the Solidity verifier is rendered from.
    pub fn vk(&self) -> &VerifyingKey<G1Affine> {
        self.pk.get_vk()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use zkpolicy_model::Model;

    use super::*;

    fn model() -> Arc<Model> {
        Arc::new(Model::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/tokenomics-policy.json")).expect("the bundled model"))
    }

    /// The cache names each circuit's layout: a deterministic digest in the directory's name,
    /// and another for another constraint system (here, another lane count).
    #[test]
    fn the_cache_directory_names_the_circuits_layout() {
        let circuit = PolicyCircuit::new(model()).expect("plan");
        let id = layout_id(&circuit);
        assert_eq!(id.len(), 8);
        assert_eq!(layout_id(&PolicyCircuit::new(model()).expect("plan")), id, "deterministic");
        let dir = KeyCache::new("cache").dir(&circuit, &SrsSource::Dev);
        assert!(dir.ends_with(format!("{CIRCUIT_VERSION}-{id}-k10-w1-dev")), "{dir:?}");
        assert_ne!(layout_id(&PolicyCircuit::with_lanes(model(), 2).expect("plan")), id);
    }
}
