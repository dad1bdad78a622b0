use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use zkpolicy_prover::artifact::ProofArtifact;
use zkpolicy_prover::{evm, proof, ProverError};

use super::common::{print_json, shipped_or_compiled, whole_ms, KeyArgs, SolcArgs, StatementArgs};
use super::EXIT_INVALID;

/// Verify a proof artifact against a model, or against its exported verifying key.
///
/// Exits 0 when the proof is valid, 1 when it is invalid (including a proof
/// made for another model), 2 on a usage or input error. With --json an invalid
/// proof prints the error document (kind "rejected"), as every refusal does.
///
/// Examples:
///   zkpolicy verify --model models/tokenomics-policy.json --proof proof.json
///   zkpolicy verify --vk policy.vk.json --srs params/k10.bin --proof proof.json
///   zkpolicy verify --proof proof.json --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct VerifyArgs {
    #[command(flatten)]
    statement: StatementArgs,

    /// Proof artifact written by `zkpolicy prove`.
    #[arg(long, value_name = "FILE")]
    proof: PathBuf,

    #[command(flatten)]
    keys: KeyArgs,

    /// Also run the proof through the generated Solidity verifier in an in-process EVM and print the gas.
    #[arg(long)]
    evm: bool,

    #[command(flatten)]
    solc: SolcArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl VerifyArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let statement = self.statement.load()?;
        let model = statement.card();
        let artifact = ProofArtifact::load(&self.proof)?;
        let proof_bytes = artifact.proof_bytes().with_context(|| format!("proof artifact {}", self.proof.display()))?;
        let started = Instant::now();
        // A claim that contradicts itself or names another model is an invalid proof, not an
        // input error; it is found before any key is made (a private model's takes seconds).
        let (keys, public, verdict) = match artifact.public_inputs(model, statement.k()) {
            Ok(public) => {
                let (params, vk, _) = statement.verifying_key(&self.keys)?;
                let verdict = proof::verify(&params, &vk, &public, &proof_bytes);
                (Some((params, vk)), Some(public), verdict)
            }
            Err(e) => (None, None, Err(e)),
        };
        let verify_ms = started.elapsed().as_secs_f64() * 1e3;
        let (mut valid, mut reason) = match verdict {
            Ok(()) => (true, None),
            Err(ProverError::InvalidProof { reason }) => (false, Some(reason)),
            Err(other) => return Err(other.into()),
        };
        // The EVM verifier runs even when the native one rejects, so the two can be compared.
        let evm_report = match (&public, &keys, self.evm) {
            (Some(public), Some((params, vk)), true) => {
                let source = evm::verifier_source(params, vk, model)?;
                let compiled = shipped_or_compiled(&source, &self.solc, self.json)?;
                let v = evm::verify_in_evm(&compiled.bytecode, public, &proof_bytes)?;
                if !v.valid {
                    reason = Some(match reason {
                        Some(native) => format!("{native}; the EVM verifier rejected it too ({} gas)", v.verify_gas),
                        None => "the EVM verifier rejected the proof".into(),
                    });
                    valid = false;
                }
                Some(json!({
                    "valid": v.valid,
                    "verify_gas": v.verify_gas,
                    "deploy_gas": v.deployment.gas_used,
                    "runtime_bytes": v.deployment.runtime_bytes,
                }))
            }
            _ => None,
        };
        if self.json {
            if !valid {
                // Like every other command's refusal: the error envelope, exit 1.
                return Err(ProverError::InvalidProof { reason: reason.unwrap_or_default() }.into());
            }
            print_json(&json!({
                "valid": true,
                "model": model.name(),
                "model_commitment": model.commitment().to_string(),
                "epoch": artifact.epoch,
                "outputs": artifact.outputs,
                "verify_ms": whole_ms(verify_ms),
                "evm": evm_report,
            }))?;
        } else {
            if let Some(e) = &evm_report {
                println!(
                    "evm: {} ({} gas to verify, {} gas to deploy, {} bytes runtime)",
                    if e["valid"] == true { "accepted" } else { "rejected" },
                    e["verify_gas"],
                    e["deploy_gas"],
                    e["runtime_bytes"]
                );
            }
            if valid {
                println!("valid: {} epoch {} ({verify_ms:.1} ms)", model.name(), artifact.epoch);
            } else {
                println!("INVALID: {}", reason.unwrap_or_default());
            }
        }
        Ok(if valid { ExitCode::SUCCESS } else { ExitCode::from(EXIT_INVALID) })
    }
}
