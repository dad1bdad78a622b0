use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use zkpolicy_prover::artifact::ProofArtifact;

use super::common::{chain_time, load_deployment, print_json, SenderArgs, StatementArgs};
use zkpolicy_chain as chain;

/// Submit a proof to the controller as a transaction and wait for the receipt.
///
/// Prints the proposed and guarded values, the parameters applied (autonomous
/// mode) or queued (timelocked), and the gas. The proof is checked against the
/// KPIs committed on chain before sending. Exit code 1 when the controller
/// rejects it (invalid proof, not the current epoch, already decided, paused, ...), named.
///
/// Examples:
///   zkpolicy submit --deployment deployment.json --proof proof.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SubmitArgs {
    /// Deployment record written by `zkpolicy deploy`.
    #[arg(long, value_name = "FILE")]
    deployment: PathBuf,

    /// Proof artifact written by `zkpolicy prove`.
    #[arg(long, value_name = "FILE")]
    proof: PathBuf,

    /// The deployed model, or its exported verifying key.
    #[command(flatten)]
    statement: StatementArgs,

    #[command(flatten)]
    sender: SenderArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl SubmitArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let statement = self.statement.load_for(&self.deployment)?;
        let artifact = ProofArtifact::load(&self.proof)?;
        let public = artifact.public_inputs(statement.card(), statement.k())?;
        let proof = artifact.proof_bytes()?;
        let client = self.sender.connect()?;
        let deployment = load_deployment(&self.deployment, statement.card(), &client)?;
        let result = chain::submit(&client, &deployment, &public, &proof)?;
        if self.json {
            print_json(
                &json!({ "parameter_names": deployment.parameters, "kpi_provenance": deployment.kpi_provenance, "result": result }),
            )?;
        } else {
            println!(
                "epoch {} accepted ({} mode): tx {} in block {}, {} gas",
                result.epoch, result.mode, result.tx, result.block, result.gas
            );
            for (i, name) in deployment.parameters.iter().enumerate() {
                let get = |v: &Vec<i64>| v.get(i).copied().unwrap_or_default();
                print!("  {name:<22} proposed {:+} -> guarded {}", get(&result.proposed), get(&result.guarded));
                match &result.applied {
                    Some(applied) => println!(", applied {}", get(applied)),
                    None => println!(),
                }
            }
            println!("  KPIs {}", super::common::provenance_words(deployment.kpi_provenance));
            if result.guardrail_hit {
                println!("  a guardrail clamped the proposal");
            }
            if let (Some(eta), Some(deadline)) = (result.queued_until, result.queued_deadline) {
                let now = client.chain_time()?;
                println!(
                    "  queued: `zkpolicy execute --epoch {}` applies it after {}, until {} (then it expires)",
                    result.epoch,
                    chain_time(eta, now),
                    chain_time(deadline, now)
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
