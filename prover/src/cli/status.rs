use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use zkpolicy_prover::chain::{self, Client};

use super::common::{load_deployment, print_json, RpcArgs, StatementArgs};

/// Read the controller's parameters, epochs, mode, pause flag and model from the chain.
///
/// Examples:
///   zkpolicy status --deployment deployment.json --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct StatusArgs {
    /// Deployment record written by `zkpolicy deploy`.
    #[arg(long, value_name = "FILE")]
    deployment: PathBuf,

    /// The deployed model, or its exported verifying key.
    #[command(flatten)]
    statement: StatementArgs,

    #[command(flatten)]
    rpc: RpcArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl StatusArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let statement = self.statement.load()?;
        let model = statement.card();
        let client = Client::connect(&self.rpc.rpc, None)?;
        let deployment = load_deployment(&self.deployment, model, &client)?;
        let status = chain::status(&client, &deployment)?;
        if self.json {
            print_json(&json!({ "controller": deployment.controller, "names": deployment.parameters, "status": status }))?;
        } else {
            println!("controller {} ({} mode{})", deployment.controller, status.mode, if status.paused { ", PAUSED" } else { "" });
            println!(
                "  epoch {} now (one every {} s from {}), last decided {}",
                status.current_epoch, status.epoch_length, status.genesis, status.last_epoch
            );
            println!("  model {}", status.model_commitment);
            for (name, value) in deployment.parameters.iter().zip(&status.parameters) {
                println!("  {name:<22} {value}");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
