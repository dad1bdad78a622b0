use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use zkpolicy_chain::economy;

use super::common::{print_json, DeploymentArgs};

/// Run the economy's epoch: it takes the controller's parameters, then mints emission and
/// staking rewards and buys back and burns by them (anyone may, once per epoch).
///
/// Only for deployments whose KPIs are computed on chain (`"kpi_source": "onchain"`).
/// When the economy cannot use the controller's parameters (unreadable, wrong length) it
/// says why and runs on the ones it had; a single value out of its range keeps its old
/// value alone. The buyback buys only below its price bound, and says why when it skips.
///
/// Examples:
///   zkpolicy tick --deployment deployment.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct TickArgs {
    #[command(flatten)]
    target: DeploymentArgs,
}

impl TickArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let (client, deployment) = self.target.connect()?;
        let ticked = economy::tick(&client, &deployment)?;
        if self.target.json {
            print_json(&json!({ "parameter_names": deployment.parameters, "result": ticked }))?;
        } else {
            println!("epoch {} ticked: tx {} in block {}, {} gas", ticked.epoch, ticked.tx, ticked.block, ticked.gas);
            match (&ticked.refused, ticked.taken) {
                (Some(reason), true) => println!("  took the controller's parameters, except: {reason}"),
                (Some(reason), false) => {
                    println!("  the controller's parameters were refused ({reason}); the economy ran on the ones it had")
                }
                (None, _) => println!("  took the controller's parameters"),
            }
            for (name, value) in deployment.parameters.iter().zip(&ticked.parameters) {
                println!("  {name:<22} {value}");
            }
            println!("  emitted {} wei, rewarded {} wei, burned {} wei", ticked.emitted, ticked.rewarded, ticked.burned);
            if let Some(why) = &ticked.buyback_skipped {
                println!("  no buyback: {why}");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Take the current epoch's KPI snapshot on chain: the KPI source computes the KPIs from
/// the economy's state (anyone may, once per epoch, in the epoch's snapshot window).
///
/// holder_concentration reads the holder set that stood at the end of the previous
/// epoch, found through the source's holderSet and its HoldersSubmitted log. The source's
/// first call (made by `deploy`) only seeds its time-weighted averages: that epoch has no
/// KPIs and the next is the first that can be decided. Then
/// `zkpolicy prove --deployment ... --epoch N` proves on exactly this snapshot.
///
/// Examples:
///   zkpolicy snapshot --deployment deployment.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SnapshotArgs {
    #[command(flatten)]
    target: DeploymentArgs,
}

impl SnapshotArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let (statement, client, deployment) = self.target.connect_statement()?;
        let snapshot = economy::take_snapshot(&client, &deployment)?;
        if self.target.json {
            print_json(&json!({ "snapshot": snapshot }))?;
        } else if snapshot.seeded {
            println!(
                "epoch {} seeded the KPI source's averages: tx {} in block {}, {} gas",
                snapshot.epoch, snapshot.tx, snapshot.block, snapshot.gas
            );
            println!("  no KPIs this epoch (nothing to decide); epoch {}'s snapshot is the first", snapshot.epoch + 1);
        } else {
            println!("epoch {} snapshot: tx {} in block {}, {} gas", snapshot.epoch, snapshot.tx, snapshot.block, snapshot.gas);
            for (spec, q) in statement.card().inputs().iter().zip(&snapshot.kpis) {
                let value = *q as f64 / (1u64 << spec.scale_bits) as f64;
                println!("  {:<24} {value:>8.4} {}  (quantized {q})", spec.name, spec.unit);
            }
            if snapshot.holders.is_empty() {
                println!("  no holder set stood at the end of the previous epoch: holder_concentration carried over");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Submit a candidate top-holder set for holder_concentration (anyone may, any time); the
/// next epoch's snapshot reads the set standing at the end of this one.
///
/// Up to ten distinct holders, none of them a protocol contract (pair, vault, economy,
/// LP incentive budget). Two transactions: the set is proposed (its balance plus stake
/// recorded), then submitted in a later block, counted as the smaller of its holdings at
/// the two, so a balance borrowed for one transaction does not count. It must count more
/// than the epoch's incumbent holds now, or, as the epoch's first set, at least what the
/// previous epoch's final set holds now (NotBetter otherwise): honest watchers drive it to
/// the true top ten. The snapshot then uses the smaller of what the set was counted with
/// and its holdings at the snapshot.
///
/// Examples:
///   zkpolicy submit-holders --deployment deployment.json --holders 0xabc…,0xdef…
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SubmitHoldersArgs {
    /// Comma-separated holder addresses (at most ten).
    #[arg(long, value_name = "ADDRESS,...", value_delimiter = ',', required = true)]
    holders: Vec<String>,

    #[command(flatten)]
    target: DeploymentArgs,
}

impl SubmitHoldersArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let holders = self
            .holders
            .iter()
            .map(|h| h.trim().parse().map_err(|_| anyhow::anyhow!("--holders: {h:?} is not an address")))
            .collect::<anyhow::Result<Vec<alloy::primitives::Address>>>()?;
        let (client, deployment) = self.target.connect()?;
        let done = economy::submit_holders(&client, &deployment, &holders)?;
        if self.target.json {
            print_json(&json!({ "result": done }))?;
        } else {
            println!(
                "holder set for epoch {}'s snapshot: {} wei held; proposed in tx {}, submitted in tx {} in block {} ({} gas in all)",
                done.snapshot_epoch, done.holdings, done.proposal_tx, done.tx, done.block, done.gas
            );
            if !done.replaced.is_empty() {
                println!("  replaced epoch {}'s set {}", done.epoch, done.replaced.join(", "));
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
