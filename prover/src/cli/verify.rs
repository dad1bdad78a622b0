use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use zkpolicy_prover::artifact::ProofArtifact;
use zkpolicy_prover::{proof, ProverError};

use super::common::{circuit, load_model, print_json, KeyArgs};
use super::EXIT_INVALID;

/// Verify a proof artifact against a model.
///
/// Exits 0 when the proof is valid, 1 when it is invalid (including a proof
/// made for another model), 2 on a usage or input error.
///
/// Examples:
///   zkpolicy verify --model models/tokenomics-policy.json --proof proof.json
///   zkpolicy verify --proof proof.json --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct VerifyArgs {
    /// Model file (default: the bundled tokenomics policy).
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,

    /// Proof artifact written by `zkpolicy prove`.
    #[arg(long, value_name = "FILE")]
    proof: PathBuf,

    #[command(flatten)]
    keys: KeyArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl VerifyArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let model = load_model(self.model.as_ref())?;
        let artifact = ProofArtifact::load(&self.proof)?;
        let proof_bytes = artifact.proof_bytes().with_context(|| format!("proof artifact {}", self.proof.display()))?;
        let circuit = circuit(model.clone())?;
        let srs = self.keys.srs();
        let started = Instant::now();
        let verdict = artifact.public_inputs(&model).and_then(|public| {
            let params = srs.params(circuit.shape().k)?;
            let (vk, _) = self.keys.cache().verifying_key(&params, &circuit, &srs)?;
            proof::verify(&params, &vk, &public, &proof_bytes)
        });
        let verify_ms = started.elapsed().as_secs_f64() * 1e3;
        let (valid, reason) = match verdict {
            Ok(()) => (true, None),
            Err(ProverError::InvalidProof { reason }) => (false, Some(reason)),
            Err(other) => return Err(other.into()),
        };
        if self.json {
            print_json(&json!({
                "valid": valid,
                "reason": reason,
                "model": model.name(),
                "model_commitment": model.commitment().to_string(),
                "epoch": artifact.epoch,
                "outputs": artifact.outputs,
                "verify_ms": verify_ms,
            }))?;
        } else if valid {
            println!("valid: {} epoch {} ({verify_ms:.1} ms)", model.name(), artifact.epoch);
        } else {
            println!("INVALID: {}", reason.unwrap_or_default());
        }
        Ok(if valid { ExitCode::SUCCESS } else { ExitCode::from(EXIT_INVALID) })
    }
}
