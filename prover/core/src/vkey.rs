//! The exported verifying key: everything a verifier needs, and nothing about the weights.
//!
//! `zkpolicy export-vk` writes one JSON file holding the verifying key, the public model
//! card and the circuit's shape. With it (and the SRS the key was made with) anyone can
//! verify proofs, generate the Solidity verifier and deploy the controller without the
//! weight file. What binds the key to the card's commitment is the exporter's word until
//! the weights are revealed; then `zkpolicy audit` checks it.

use std::path::Path;

use halo2_proofs::arithmetic::CurveAffine;
use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::{Circuit, ConstraintSystem, VerifyingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use serde::{Deserialize, Serialize};
use zkpolicy_circuits::layout::LANE_CHOICES;
use zkpolicy_circuits::{PolicyCircuit, PolicyParams, WeightMode};
use zkpolicy_model::ModelCard;
use zkpolicy_verifier::transcript::keccak256;

use crate::artifact::PROOF_SYSTEM;
use crate::keys::{CIRCUIT_VERSION, KEY_FORMAT};
use crate::srs::MAX_FILE_K;
use crate::{fsutil, ProverError};

/// The `format` tag of every verifying key file.
pub const VK_FORMAT: &str = "zkpolicy-verifying-key";
/// The only verifying key file version this build reads.
pub const VK_VERSION: u32 = 1;
/// A verifying key file is a few kilobytes; anything far larger is not one.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// Bytes of one G1 point in [`KEY_FORMAT`].
const POINT_BYTES: usize = 64;

/// The file `export-vk` writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyingKeyFile {
    /// Always [`VK_FORMAT`].
    pub format: String,
    /// [`VK_VERSION`] for files this build reads.
    pub version: u32,
    /// The proof system the key verifies ([`PROOF_SYSTEM`]); another is refused.
    pub proof_system: String,
    /// The circuit layout version ([`CIRCUIT_VERSION`]); a key of another layout is refused.
    pub circuit_version: String,
    /// Names the SRS the key was made with (see [`srs_fingerprint`]).
    pub srs_fingerprint: String,
    /// The circuit has `2^k` rows, `k` in `1..=`[`MAX_FILE_K`].
    pub k: u32,
    /// Multiply-accumulates per dot row, one of the planner's lane choices; with the flags
    /// below it gives the column shape the key is decoded with.
    pub lanes: usize,
    /// Whether the weights are private witnesses (absent in files of fixed-weight keys).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub private_weights: bool,
    /// The circuit has the activation lookup (the model has a tanh or sigmoid).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub activation_tables: bool,
    /// The card; a private key's names the weight commitment, never the weight file's hash.
    pub card: ModelCard,
    /// halo2's raw verifying-key bytes, `0x` hex.
    pub verifying_key: String,
}

/// A verifying key file after every check: its key decoded, its shape known.
#[derive(Clone, Debug)]
pub struct PublishedKey {
    /// The file as read, card included.
    pub file: VerifyingKeyFile,
    /// The decoded key, its commitments checked to lie on the curve.
    pub vk: VerifyingKey<G1Affine>,
}

/// keccak-256 of the SRS's `[s]G2`: the same for every file cut from one ceremony,
/// whatever its size, and different for any other ceremony (or the development SRS).
pub fn srs_fingerprint(params: &ParamsKZG<Bn256>) -> String {
    use halo2_proofs::halo2curves::serde::SerdeObject;
    format!("0x{}", hex::encode(keccak256(&params.s_g2().to_raw_bytes())))
}

impl VerifyingKeyFile {
    /// The file for `circuit`'s verifying key `vk`, made with `params`.
    pub fn new(circuit: &PolicyCircuit, params: &ParamsKZG<Bn256>, vk: &VerifyingKey<G1Affine>) -> Self {
        Self {
            format: VK_FORMAT.into(),
            version: VK_VERSION,
            proof_system: PROOF_SYSTEM.into(),
            circuit_version: CIRCUIT_VERSION.into(),
            srs_fingerprint: srs_fingerprint(params),
            k: circuit.shape().k,
            lanes: circuit.shape().lanes,
            private_weights: circuit.weight_mode() == WeightMode::Private,
            activation_tables: circuit.params().tables,
            card: circuit.as_ref().clone(),
            verifying_key: format!("0x{}", hex::encode(vk.to_bytes(KEY_FORMAT))),
        }
    }

    /// The circuit's column shape the key was made for.
    pub fn params(&self) -> PolicyParams {
        PolicyParams {
            lanes: self.lanes,
            weights: if self.private_weights { WeightMode::Private } else { WeightMode::Fixed },
            tables: self.activation_tables,
        }
    }

    /// Writes the file as pretty JSON, atomically (what `export-vk` does).
    pub fn save(&self, path: &Path) -> Result<(), ProverError> {
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| ProverError::Artifact { reason: e.to_string() })?;
        json.push(b'\n');
        fsutil::write_atomic(path, &json)
    }
}

impl PublishedKey {
    /// Reads (at most 1 MiB) and checks a verifying key file, as [`PublishedKey::from_json`].
    pub fn load(path: &Path) -> Result<Self, ProverError> {
        let bytes = fsutil::read_at_most(path, MAX_FILE_BYTES, "verifying key file")?;
        Self::from_json(&bytes, path)
    }

    /// Parses and checks a verifying key file; `path` names it in errors.
    pub fn from_json(bytes: &[u8], path: &Path) -> Result<Self, ProverError> {
        let corrupt = |reason: String| ProverError::Corrupt { path: path.to_owned(), what: "verifying key file", reason };
        let file: VerifyingKeyFile = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
        if file.format != VK_FORMAT || file.version != VK_VERSION {
            return Err(corrupt(format!(
                "expected format {VK_FORMAT:?} version {VK_VERSION}, got {:?} version {}",
                file.format, file.version
            )));
        }
        if file.proof_system != PROOF_SYSTEM || file.circuit_version != CIRCUIT_VERSION {
            return Err(corrupt(format!(
                "made for proof system {:?} and circuit {:?}; this zkpolicy verifies {PROOF_SYSTEM:?} and circuit {CIRCUIT_VERSION:?}",
                file.proof_system, file.circuit_version
            )));
        }
        if !(1..=MAX_FILE_K).contains(&file.k) {
            return Err(corrupt(format!("k = {} is outside 1..={MAX_FILE_K}", file.k)));
        }
        if !LANE_CHOICES.contains(&file.lanes) {
            return Err(corrupt(format!("lanes = {} is not one of {LANE_CHOICES:?}", file.lanes)));
        }
        let raw = file.verifying_key.strip_prefix("0x").ok_or_else(|| corrupt("`verifying_key` does not start with 0x".into()))?;
        let raw = hex::decode(raw).map_err(|e| corrupt(format!("`verifying_key` is not hex: {e}")))?;
        let params = file.params();
        check_layout(&raw, file.k, params).map_err(corrupt)?;
        let vk = VerifyingKey::<G1Affine>::from_bytes::<PolicyCircuit>(&raw, KEY_FORMAT, params)
            .map_err(|e| corrupt(format!("`verifying_key`: {e}")))?;
        // halo2curves' raw reader checks each coordinate against the modulus but not the
        // curve equation, whatever its documentation says; check it here.
        let commitments = vk.fixed_commitments().iter().chain(vk.permutation().commitments());
        if let Some(i) = commitments.clone().position(|p| !bool::from(p.is_on_curve())) {
            return Err(corrupt(format!("`verifying_key`: commitment {i} is not a point on BN254's G1")));
        }
        Ok(Self { file, vk })
    }

    /// The public model card the key was exported with.
    pub fn card(&self) -> &ModelCard {
        &self.file.card
    }

    /// The circuit's `k`, which fixes the SRS size a verifier needs.
    pub fn k(&self) -> u32 {
        self.file.k
    }

    /// Refuses `params` from another ceremony than the key's: proofs could never verify.
    pub fn check_srs(&self, params: &ParamsKZG<Bn256>) -> Result<(), ProverError> {
        let have = srs_fingerprint(params);
        if have != self.file.srs_fingerprint {
            return Err(ProverError::Artifact {
                reason: format!(
                    "the verifying key was made with the SRS whose fingerprint is {}, but the SRS given has {have}; pass the key's SRS with --srs",
                    self.file.srs_fingerprint
                ),
            });
        }
        Ok(())
    }
}

/// Checks the header and length of raw key bytes against the circuit shape before halo2
/// decodes them (its reader trusts the header's `k` and column counts, and would allocate
/// accordingly): version 2, this `k`, no compressed selectors, and exactly one point per
/// fixed column and per permutation column.
fn check_layout(raw: &[u8], k: u32, params: PolicyParams) -> Result<(), String> {
    let lanes = params.lanes;
    let mut cs = ConstraintSystem::<Fr>::default();
    PolicyCircuit::configure_with_params(&mut cs, params);
    let fixed = cs.num_fixed_columns() + cs.num_selectors();
    let permutation = cs.permutation().get_columns().len();
    let want = 1 + 4 + 1 + 4 + (fixed + permutation) * POINT_BYTES;
    if raw.len() != want {
        return Err(format!("`verifying_key` has {} bytes; the {lanes}-lane circuit's key has {want}", raw.len()));
    }
    if raw[0] != 2 {
        return Err(format!("`verifying_key` starts with version byte {}, not 2", raw[0]));
    }
    let key_k = u32::from_le_bytes([raw[1], raw[2], raw[3], raw[4]]);
    if key_k != k {
        return Err(format!("`verifying_key` is for k = {key_k}, but the file says k = {k}"));
    }
    if raw[5] != 0 {
        return Err("`verifying_key` uses compressed selectors; zkpolicy keys never do".into());
    }
    let columns = u32::from_le_bytes([raw[6], raw[7], raw[8], raw[9]]) as usize;
    if columns != fixed {
        return Err(format!("`verifying_key` has {columns} fixed columns; the {lanes}-lane circuit has {fixed}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use zkpolicy_model::Model;

    use super::*;
    use crate::{evm, keys, srs};

    fn default_circuit() -> PolicyCircuit {
        let model = Model::from_json(include_str!("../../../models/tokenomics-policy.json")).expect("bundled model");
        PolicyCircuit::new(Arc::new(model)).expect("circuit")
    }

    /// The published key reads back as the same key, and renders the same Solidity
    /// verifier as the model it came from; another ceremony's SRS is refused by name.
    #[test]
    fn a_published_key_is_the_models_key_and_knows_its_srs() {
        let circuit = default_circuit();
        let params = srs::dev_params_insecure(circuit.shape().k);
        let vk = keys::keygen_vk(&params, &circuit).expect("vk");
        let file = VerifyingKeyFile::new(&circuit, &params, &vk);
        let json = serde_json::to_vec(&file).expect("json");
        let published = PublishedKey::from_json(&json, Path::new("vk.json")).expect("reads back");
        assert_eq!(published.vk.transcript_repr(), vk.transcript_repr());
        assert_eq!(published.card(), circuit.model().card());
        assert_eq!(
            evm::verifier_source(&params, &published.vk, published.card()).expect("from the key"),
            evm::verifier_source(&params, &vk, &circuit).expect("from the model")
        );
        published.check_srs(&params).expect("its own SRS");
        let other = ParamsKZG::<Bn256>::setup(circuit.shape().k, ChaCha20Rng::seed_from_u64(7));
        let err = published.check_srs(&other).expect_err("another ceremony");
        assert!(err.to_string().contains(&file.srs_fingerprint), "{err}");
        assert_ne!(srs_fingerprint(&other), file.srs_fingerprint);
    }
}
