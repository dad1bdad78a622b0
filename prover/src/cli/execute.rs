use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use zkpolicy_prover::chain;

use super::common::{load_deployment, print_json, SenderArgs, StatementArgs};

/// Timelocked mode: apply the adjustment queued for an epoch once its delay has passed.
///
/// `submit` queues a proven adjustment in timelocked mode; after the
/// controller's adjustment delay anyone may execute it. The guardrails are
/// applied again against the parameters in force at execution. Exit code 1
/// when the controller refuses (nothing queued, not yet, paused), named.
///
/// Examples:
///   zkpolicy execute --deployment deployment.json --epoch 7
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ExecuteArgs {
    /// Deployment record written by `zkpolicy deploy`.
    #[arg(long, value_name = "FILE")]
    deployment: PathBuf,

    /// The epoch whose queued adjustment to apply.
    #[arg(long)]
    epoch: u64,

    /// The deployed model, or its exported verifying key.
    #[command(flatten)]
    statement: StatementArgs,

    #[command(flatten)]
    sender: SenderArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl ExecuteArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let statement = self.statement.load()?;
        let model = statement.card();
        let client = self.sender.connect()?;
        let deployment = load_deployment(&self.deployment, model, &client)?;
        let (sent, applied) = chain::execute(&client, &deployment, self.epoch)?;
        if self.json {
            print_json(&json!({
                "epoch": self.epoch, "applied": applied, "parameters": deployment.parameters,
                "tx": sent.tx.to_string(), "block": sent.block, "gas_used": sent.gas_used,
            }))?;
        } else {
            println!("epoch {} applied: tx {} in block {}, {} gas", self.epoch, sent.tx, sent.block, sent.gas_used);
            for (name, value) in deployment.parameters.iter().zip(&applied) {
                println!("  {name:<22} {value}");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
