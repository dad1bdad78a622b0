use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::common::{print_json, DeploymentArgs};
use zkpolicy_chain as chain;

/// Timelocked mode: apply the adjustment queued for an epoch once its delay has passed.
///
/// `submit` queues a proven adjustment in timelocked mode; after the
/// controller's adjustment delay, and for one epoch more, anyone may execute
/// it (`status` shows both times). A pause or a governed change of the
/// configuration cancels it. The guardrails are applied again against the
/// parameters in force at execution. Exit code 1 when the controller refuses
/// (NothingQueued: none, or cancelled; NotYet; AdjustmentExpired; paused), named.
///
/// Examples:
///   zkpolicy execute --deployment deployment.json --epoch 7
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ExecuteArgs {
    /// The epoch whose queued adjustment to apply.
    #[arg(long)]
    epoch: u64,

    #[command(flatten)]
    target: DeploymentArgs,
}

impl ExecuteArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let (client, deployment) = self.target.connect()?;
        let (sent, applied) = chain::execute(&client, &deployment, self.epoch)?;
        if self.target.json {
            print_json(&json!({
                "epoch": self.epoch, "applied": applied, "parameter_names": deployment.parameters,
                "tx": sent.tx.to_string(), "block": sent.block, "gas": sent.gas,
            }))?;
        } else {
            println!("epoch {} applied: tx {} in block {}, {} gas", self.epoch, sent.tx, sent.block, sent.gas);
            for (name, value) in deployment.parameters.iter().zip(&applied) {
                println!("  {name:<22} {value}");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
