use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use zkpolicy_chain::{self as chain, Client};

use super::common::{chain_time, load_deployment, print_json, relative, RpcArgs, StatementArgs};

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
        let statement = self.statement.load_for(&self.deployment)?;
        let model = statement.card();
        let client = Client::connect(&self.rpc.rpc, None)?;
        let deployment = load_deployment(&self.deployment, model, &client)?;
        let status = chain::status(&client, &deployment)?;
        if self.json {
            print_json(&json!({
                "controller": deployment.controller.to_checksum(None),
                "kpi_provenance": deployment.kpi_provenance,
                "parameter_names": deployment.parameters,
                "status": status,
            }))?;
        } else {
            println!("controller {} ({} mode{})", deployment.controller, status.mode, if status.paused { ", PAUSED" } else { "" });
            println!(
                "  epoch {} now (one every {}, epoch 1 from {}), last decided {}; chain time {}",
                status.current_epoch,
                relative(status.epoch_length),
                chain_time(status.genesis, status.chain_time),
                status.last_epoch,
                chain_time(status.chain_time, status.chain_time)
            );
            println!("  model {} (verifier {})", status.model_commitment, status.verifier);
            let snapshot = match status.snapshot_posted_at {
                None => "not posted yet".to_string(),
                Some(t) => format!(
                    "posted {}, {}",
                    chain_time(t, status.chain_time),
                    if status.snapshot_fresh { "fresh" } else { "STALE: this epoch can no longer be decided" }
                ),
            };
            println!("  KPI snapshot of epoch {}: {snapshot} (source {})", status.current_epoch, status.kpi_source);
            println!("  KPIs {}", super::common::provenance_words(deployment.kpi_provenance));
            if status.parameters_are_public_inputs {
                println!("  parameters are public inputs: the model reads them, and the controller fills them from its own storage");
            }
            println!("  {:<22} {:>8}   guardrail [min, max], max step", "parameter", "value");
            for ((name, value), rail) in deployment.parameters.iter().zip(&status.parameters).zip(&status.guardrails) {
                let mut extras = String::new();
                if rail.dead_band != 0 {
                    extras += &format!(", steps under {} dropped", rail.dead_band);
                }
                if rail.max_change_bps != 0 {
                    extras += &format!(", at most {} bps per {}", rail.max_change_bps, relative(rail.window));
                    if let Some(a) = &rail.anchor {
                        extras += &format!(" (window from {} at {})", a.value, chain_time(a.since, status.chain_time));
                    }
                }
                if rail.group != 0 {
                    extras += &format!(", moves with group {} or not at all", rail.group);
                }
                println!("  {name:<22} {value:>8}   [{}, {}], ±{}{extras}", rail.min, rail.max, rail.max_step);
            }
            if let Some(q) = &status.queued {
                let values: Vec<String> = q.values.iter().map(i64::to_string).collect();
                let window = if q.expired {
                    format!("EXPIRED at {}: it will never execute", chain_time(q.deadline, status.chain_time))
                } else {
                    format!(
                        "executable after {}, until {}",
                        chain_time(q.eta, status.chain_time),
                        chain_time(q.deadline, status.chain_time)
                    )
                };
                println!("  queued: epoch {} -> [{}], {window}", q.epoch, values.join(", "));
            }
            println!(
                "  governance {} (delay {}), guardian {}; snapshots stay fresh {}, adjustments wait {}",
                status.governance,
                relative(status.governance_delay),
                status.guardian,
                relative(status.max_snapshot_age),
                relative(status.adjustment_delay)
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}
