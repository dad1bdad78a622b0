use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use zkpolicy_model::KpiSnapshot;

use super::common::{load_deployment, print_json, SenderArgs, StatementArgs};
use zkpolicy_chain as chain;

/// Commit an epoch's KPI snapshot to the deployment's KPI source (as its reporter).
///
/// The snapshot is checked and quantized with the deployed model, exactly as
/// `prove` does, so the proof and the chain see the same integers.
///
/// Examples:
///   zkpolicy commit-kpis --deployment deployment.json --kpis models/kpis-sample.json --epoch 1
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CommitKpisArgs {
    /// Deployment record written by `zkpolicy deploy`.
    #[arg(long, value_name = "FILE")]
    deployment: PathBuf,

    /// The deployed model, or its exported verifying key.
    #[command(flatten)]
    statement: StatementArgs,

    /// KPI snapshot {"kpis": {"<input name>": <value>, ...}}.
    #[arg(long, value_name = "FILE")]
    kpis: PathBuf,

    /// The epoch these KPIs are for: the controller's current epoch, or the next one.
    #[arg(long)]
    epoch: u64,

    #[command(flatten)]
    sender: SenderArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl CommitKpisArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let statement = self.statement.load_for(&self.deployment)?;
        let model = statement.card();
        let kpis = KpiSnapshot::load(&self.kpis)
            .and_then(|s| s.quantize(model))
            .with_context(|| format!("KPI snapshot {}", self.kpis.display()))?;
        let client = self.sender.connect()?;
        let deployment = load_deployment(&self.deployment, model, &client)?;
        if deployment.kpi_provenance == chain::KpiProvenance::Onchain {
            anyhow::bail!(
                "this deployment's KPIs are computed on chain, and nobody posts them: take the epoch's snapshot with `zkpolicy snapshot`"
            );
        }
        // A commitment cannot be replaced, so an epoch the controller will never decide (a
        // past one, or an off-by-one far ahead) is refused before anything is sent.
        let current = chain::current_epoch(&client, &deployment)?;
        if self.epoch < current {
            anyhow::bail!(
                "epoch {} can no longer be decided (the controller's current epoch is {current}); commit --epoch {current}",
                self.epoch
            );
        }
        if self.epoch > current + 1 {
            anyhow::bail!(
                "epoch {} is more than one epoch ahead of the controller's current epoch, {current}, and a commitment cannot be \
                 replaced; commit --epoch {current} (or {} ahead of time)",
                self.epoch,
                current + 1
            );
        }
        let sent = chain::commit_kpis(&client, &deployment, self.epoch, &kpis)?;
        if self.json {
            print_json(&json!({
                "epoch": self.epoch, "kpis_quantized": kpis.values(), "tx": sent.tx.to_string(),
                "block": sent.block, "gas": sent.gas,
            }))?;
        } else {
            println!("committed KPIs for epoch {} {:?}", self.epoch, kpis.values());
            println!("  tx {} in block {}, {} gas", sent.tx, sent.block, sent.gas);
        }
        Ok(ExitCode::SUCCESS)
    }
}
