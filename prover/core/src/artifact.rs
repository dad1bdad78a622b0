//! The proof artifact: one JSON file with everything a verifier or a contract needs.

use std::path::Path;

use serde::{Deserialize, Serialize};
use zkpolicy_circuits::{PolicyCircuit, PublicInputs};
use zkpolicy_model::{Model, ModelCard};

use crate::fsutil;
use crate::ProverError;

/// The `format` tag of every proof artifact, so another JSON file is not taken for one.
pub const ARTIFACT_FORMAT: &str = "zkpolicy-proof";
/// Version 2 stores each proven value once (version 1 also kept real-valued KPIs and the
/// instance words, which a reader could edit apart from what was proven).
pub const ARTIFACT_VERSION: u32 = 2;
/// Names the transcript and opening scheme, so a verifier can refuse others.
pub const PROOF_SYSTEM: &str = "halo2-kzg-bn254-shplonk-keccak256-evm-v1";

/// A KPI as proven: its quantized integer (`round(value · 2^scale_bits)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedKpi {
    /// The KPI's name in the model card, checked against it on read.
    pub name: String,
    /// The quantized value the proof's instance holds.
    pub quantized: i64,
}

/// A controller parameter the model read, in its unit (the integer the controller stores).
pub type NamedParameter = NamedOutput;

/// An output as proven, in its unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedOutput {
    /// The output's (or parameter's) name in the model card, checked against it on read.
    pub name: String,
    /// Its unit in the model card, checked against it on read.
    pub unit: String,
    /// The integer the proof's instance holds: an output's `y` (at its `scale_bits`), or a
    /// parameter's value as the controller stores it.
    pub value: i64,
}

/// A proof and the public inputs it proves, each value stored once. Every readable field
/// (model name, k, names, units) is checked against the model by [`ProofArtifact::public_inputs`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofArtifact {
    /// Always [`ARTIFACT_FORMAT`].
    pub format: String,
    /// [`ARTIFACT_VERSION`] for artifacts this build reads.
    pub version: u32,
    /// [`PROOF_SYSTEM`]; an artifact of another is refused before its proof is read.
    pub proof_system: String,
    /// The model's name, as in its card.
    pub model: String,
    /// The card's commitment as `0x` hex: the weight file's keccak, or in private mode
    /// the salted weight commitment.
    pub model_commitment: String,
    /// The circuit's `k` the proof was made at.
    pub k: u32,
    /// The controller epoch the proof is for (instance 0).
    pub epoch: u64,
    /// In model input order.
    pub kpis: Vec<NamedKpi>,
    /// The controller's parameters, for a model that reads them (absent otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<NamedParameter>,
    /// In model output order.
    pub outputs: Vec<NamedOutput>,
    /// The proof bytes as `0x` hex.
    pub proof: String,
}

impl ProofArtifact {
    /// The artifact of `proof` for `public`, named by `circuit`'s card (a private circuit's
    /// names the weight commitment); `public` is re-checked against the card first.
    pub fn new(circuit: &PolicyCircuit, public: &PublicInputs, proof: &[u8]) -> Result<Self, ProverError> {
        // The circuit's card: a private circuit's names the weight commitment.
        let model: &ModelCard = circuit.as_ref();
        let public = PublicInputs::checked(model, public.epoch, public.kpis.to_vec(), public.parameters.clone(), public.outputs.clone())?;
        Ok(Self {
            format: ARTIFACT_FORMAT.into(),
            version: ARTIFACT_VERSION,
            proof_system: PROOF_SYSTEM.into(),
            model: model.name().into(),
            model_commitment: model.commitment().to_string(),
            k: circuit.shape().k,
            epoch: public.epoch,
            kpis: model
                .inputs()
                .iter()
                .zip(public.kpis.iter())
                .map(|(spec, v)| NamedKpi { name: spec.name.clone(), quantized: *v })
                .collect(),
            parameters: model
                .parameters()
                .iter()
                .zip(&public.parameters)
                .map(|(spec, v)| NamedParameter { name: spec.name.clone(), unit: spec.unit.clone(), value: *v })
                .collect(),
            outputs: model
                .outputs()
                .iter()
                .zip(&public.outputs)
                .map(|(spec, v)| NamedOutput { name: spec.name.clone(), unit: spec.unit.clone(), value: *v })
                .collect(),
            proof: format!("0x{}", hex::encode(proof)),
        })
    }

    /// Reads an artifact file (at most 16 MiB); its claim is checked only by
    /// [`ProofArtifact::public_inputs`].
    pub fn load(path: &Path) -> Result<Self, ProverError> {
        Self::from_json(&fsutil::read_at_most(path, 16 << 20, "proof artifact")?, path)
    }

    /// Parses an artifact's bytes; `path` names it in errors.
    pub fn from_json(bytes: &[u8], path: &Path) -> Result<Self, ProverError> {
        serde_json::from_slice(bytes).map_err(|e| ProverError::Corrupt {
            path: path.to_owned(),
            what: "proof artifact",
            reason: e.to_string(),
        })
    }

    /// Writes the artifact as pretty JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<(), ProverError> {
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| ProverError::Artifact { reason: e.to_string() })?;
        json.push(b'\n');
        fsutil::write_atomic(path, &json)
    }

    /// The public inputs this artifact claims, after checking that it uses this proof
    /// system, that every readable field agrees with the model card and the circuit's `k`
    /// (commitment, name, k, KPI and output names and units), and that every value lies where the circuit
    /// could prove it. A claim that fails any check is reported as
    /// [`ProverError::InvalidProof`]: whatever the proof, the artifact does not say what it proves.
    pub fn public_inputs(&self, card: &ModelCard, k: u32) -> Result<PublicInputs, ProverError> {
        if self.format != ARTIFACT_FORMAT || self.version != ARTIFACT_VERSION {
            return Err(ProverError::Artifact {
                reason: format!(
                    "expected format {ARTIFACT_FORMAT:?} version {ARTIFACT_VERSION}, got {:?} version {}; prove it again with this zkpolicy",
                    self.format, self.version
                ),
            });
        }
        if self.proof_system != PROOF_SYSTEM {
            return Err(ProverError::Artifact { reason: format!("unsupported proof system {:?}", self.proof_system) });
        }
        let model = card;
        let invalid = |reason: String| ProverError::InvalidProof { reason };
        if self.model_commitment != model.commitment().to_string() {
            // Two cards of one model name differ in commitment when one has private weights
            // (its commitment is the salted hash): say how to check such a proof.
            let hint = if self.model == model.name() {
                "; a proof of this model with private weights names their salted commitment: check it with the model's --salt, or its key with --vk"
            } else {
                ""
            };
            return Err(invalid(format!(
                "the proof is for model {:?} ({}), not {:?} ({}){hint}",
                self.model,
                self.model_commitment,
                model.name(),
                model.commitment()
            )));
        }
        if self.model != model.name() {
            return Err(invalid(format!("the artifact names model {:?}, but its commitment is that of {:?}", self.model, model.name())));
        }
        if self.k != k {
            return Err(invalid(format!("the artifact says k = {}, but the model's circuit has k = {k}", self.k)));
        }
        let kpi_names: Vec<&str> = self.kpis.iter().map(|k| k.name.as_str()).collect();
        let want: Vec<&str> = model.inputs().iter().map(|i| i.name.as_str()).collect();
        if kpi_names != want {
            return Err(invalid(format!(
                "the artifact's KPIs are [{}], the model's inputs are [{}]",
                kpi_names.join(", "),
                want.join(", ")
            )));
        }
        let parameter_names: Vec<(&str, &str)> = self.parameters.iter().map(|p| (p.name.as_str(), p.unit.as_str())).collect();
        let want: Vec<(&str, &str)> = model.parameters().iter().map(|p| (p.name.as_str(), p.unit.as_str())).collect();
        if parameter_names != want {
            let names = |v: &[(&str, &str)]| v.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
            return Err(invalid(format!(
                "the artifact's parameters are [{}], the model reads [{}]",
                names(&parameter_names),
                names(&want)
            )));
        }
        for (claimed, spec) in self.outputs.iter().zip(model.outputs()) {
            if claimed.name != spec.name || claimed.unit != spec.unit {
                return Err(invalid(format!(
                    "the artifact names output {:?} ({}), the model's output there is {:?} ({})",
                    claimed.name, claimed.unit, spec.name, spec.unit
                )));
            }
        }
        let kpis = self.kpis.iter().map(|k| k.quantized).collect();
        let parameters = self.parameters.iter().map(|p| p.value).collect();
        let outputs = self.outputs.iter().map(|o| o.value).collect();
        PublicInputs::checked(model, self.epoch, kpis, parameters, outputs).map_err(|e| invalid(e.to_string()))
    }

    /// The KPIs' real values (`quantized / 2^scale_bits`), for display.
    pub fn real_kpis(&self, model: &Model) -> Vec<(String, f64)> {
        self.kpis
            .iter()
            .zip(&model.file().inputs)
            .map(|(k, spec)| (k.name.clone(), k.quantized as f64 / (1u64 << spec.scale_bits) as f64))
            .collect()
    }

    /// The proof as bytes, decoded from `proof` (with or without its `0x`).
    pub fn proof_bytes(&self) -> Result<Vec<u8>, ProverError> {
        let hex_str = self.proof.strip_prefix("0x").unwrap_or(&self.proof);
        hex::decode(hex_str).map_err(|e| ProverError::Artifact { reason: format!("`proof` is not hex: {e}") })
    }
}
