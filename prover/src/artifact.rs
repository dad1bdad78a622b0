//! The proof artifact: one JSON file with everything a verifier or a contract needs.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use zkpolicy_circuits::PublicInputs;
use zkpolicy_model::{Model, QuantizedKpis};

use crate::fsutil;
use crate::transcript::scalar_to_be;
use crate::ProverError;

pub const ARTIFACT_FORMAT: &str = "zkpolicy-proof";
pub const ARTIFACT_VERSION: u32 = 1;
/// Names the transcript and opening scheme, so a verifier can refuse others.
pub const PROOF_SYSTEM: &str = "halo2-kzg-bn254-shplonk-keccak256-evm-v1";

/// A named output value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedOutput {
    pub name: String,
    pub unit: String,
    pub value: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofArtifact {
    pub format: String,
    pub version: u32,
    pub proof_system: String,
    pub model: String,
    pub model_commitment: String,
    pub k: u32,
    pub epoch: u64,
    /// Real KPI values (`q / 2^scale_bits`), for reading; the quantized ones are proven.
    pub kpis: BTreeMap<String, f64>,
    pub kpis_quantized: Vec<i64>,
    pub outputs: Vec<NamedOutput>,
    /// The instance column, `[epoch, kpis…, outputs…]`, as 32-byte big-endian hex.
    pub instances: Vec<String>,
    /// The proof bytes as `0x` hex.
    pub proof: String,
}

impl ProofArtifact {
    pub fn new(model: &Model, k: u32, public: &PublicInputs, proof: &[u8]) -> Result<Self, ProverError> {
        let kpis = QuantizedKpis::new(model, public.kpis.clone())?;
        Ok(Self {
            format: ARTIFACT_FORMAT.into(),
            version: ARTIFACT_VERSION,
            proof_system: PROOF_SYSTEM.into(),
            model: model.name().into(),
            model_commitment: model.commitment().to_string(),
            k,
            epoch: public.epoch,
            kpis: kpis.dequantize(model),
            kpis_quantized: public.kpis.clone(),
            outputs: model
                .file()
                .outputs
                .iter()
                .zip(&public.outputs)
                .map(|(spec, v)| NamedOutput { name: spec.name.clone(), unit: spec.unit.clone(), value: *v })
                .collect(),
            instances: instance_hex(public),
            proof: format!("0x{}", hex::encode(proof)),
        })
    }

    pub fn load(path: &Path) -> Result<Self, ProverError> {
        let bytes = fsutil::read(path)?;
        serde_json::from_slice(&bytes).map_err(|e| ProverError::Corrupt {
            path: path.to_owned(),
            what: "proof artifact",
            reason: e.to_string(),
        })
    }

    pub fn save(&self, path: &Path) -> Result<(), ProverError> {
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| ProverError::Artifact { reason: e.to_string() })?;
        json.push(b'\n');
        fsutil::write_atomic(path, &json)
    }

    /// The public inputs this artifact claims, after checking it is for `model`,
    /// uses this proof system, and that its fields agree with its instances.
    /// A mismatch is an invalid claim, reported as [`ProverError::InvalidProof`].
    pub fn public_inputs(&self, model: &Model) -> Result<PublicInputs, ProverError> {
        if self.format != ARTIFACT_FORMAT || self.version != ARTIFACT_VERSION {
            return Err(ProverError::Artifact {
                reason: format!("expected format {ARTIFACT_FORMAT:?} version {ARTIFACT_VERSION}, got {:?} version {}", self.format, self.version),
            });
        }
        if self.proof_system != PROOF_SYSTEM {
            return Err(ProverError::Artifact { reason: format!("unsupported proof system {:?}", self.proof_system) });
        }
        let invalid = |reason: String| ProverError::InvalidProof { reason };
        if self.model_commitment != model.commitment().to_string() {
            return Err(invalid(format!(
                "the proof is for model {:?} ({}), not {:?} ({})",
                self.model,
                self.model_commitment,
                model.name(),
                model.commitment()
            )));
        }
        let public = PublicInputs {
            epoch: self.epoch,
            kpis: QuantizedKpis::new(model, self.kpis_quantized.clone())?.values().to_vec(),
            outputs: self.outputs.iter().map(|o| o.value).collect(),
        };
        if public.outputs.len() != model.file().outputs.len() {
            return Err(invalid(format!("{} outputs, the model has {}", public.outputs.len(), model.file().outputs.len())));
        }
        if self.instances != instance_hex(&public) {
            return Err(invalid("the `instances` field disagrees with epoch, kpis_quantized and outputs".into()));
        }
        Ok(public)
    }

    pub fn proof_bytes(&self) -> Result<Vec<u8>, ProverError> {
        let hex_str = self.proof.strip_prefix("0x").unwrap_or(&self.proof);
        hex::decode(hex_str).map_err(|e| ProverError::Artifact { reason: format!("`proof` is not hex: {e}") })
    }
}

fn instance_hex(public: &PublicInputs) -> Vec<String> {
    public.to_instance().iter().map(|f| format!("0x{}", hex::encode(scalar_to_be(f)))).collect()
}
