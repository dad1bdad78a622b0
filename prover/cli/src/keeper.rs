use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use zkpolicy_keeper::metrics::{self, Metrics};
use zkpolicy_keeper::state::Store;
use zkpolicy_keeper::{Keeper, KeeperConfig, LogFormat};

use super::common::print_json;

/// Run the keeper: every epoch, for every deployment in the config, take (or commit) the
/// KPI snapshot, prove, submit, confirm and, in timelocked mode, execute.
///
/// State (what was proven, sent and confirmed) is kept in the config's state_dir, so a
/// keeper killed at any point and restarted resends nothing the chain would charge twice
/// and misses no epoch that can still be submitted. SIGTERM or SIGINT stops it after the
/// step in flight (a second one stops it at once). Logs go to stderr (text, or JSON lines
/// with log_format = "json"); /metrics, /healthz and /readyz are served on metrics_addr.
///
/// Examples:
///   zkpolicy keeper --config keeper.toml
///   zkpolicy keeper --config keeper.toml --once --json    # every due step once, then exit (cron, tests)
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct KeeperArgs {
    /// The keeper's config (TOML; see docs/keeper.md).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,

    /// Run every due step once, wait for its transactions, print what happened, and exit.
    #[arg(long)]
    once: bool,

    /// With --once: print the round's summary as JSON.
    #[arg(long)]
    json: bool,
}

impl KeeperArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let config = KeeperConfig::load(&self.config)?;
        init_logs(config.log_format);
        let shutdown = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            // A second signal while the first is being honoured exits at once.
            signal_hook::flag::register_conditional_shutdown(signal, 130, shutdown.clone()).context("signal handler")?;
            signal_hook::flag::register(signal, shutdown.clone()).context("signal handler")?;
        }
        // The state first: a second keeper on the same state directory is refused by name
        // (redb's lock) here, before it can fail on the first one's metrics port.
        let store = Store::open(&config.state_dir)?;
        let metrics = Metrics::new(config.poll_interval_secs);
        if let Some(addr) = config.metrics_addr {
            let bound = metrics::serve(addr, metrics.clone())?;
            tracing::info!(%bound, "serving /metrics, /healthz and /readyz");
        }
        if config.srs.is_none() {
            tracing::warn!("proving with the INSECURE development SRS (no srs in the config): for test chains only");
        }
        let mut keeper = Keeper::start(config, store, metrics, shutdown)?;
        let report = keeper.run(self.once)?;
        if self.once {
            if self.json {
                let records: Vec<_> = keeper
                    .records()?
                    .into_iter()
                    .map(|(_, r)| {
                        json!({
                            "deployment": r.deployment,
                            "kind": r.kind,
                            "epoch": r.epoch,
                            "stage": r.stage,
                            "sends": r.txs.len(),
                            "nonce": r.txs.last().map(|t| t.nonce),
                            "tx": r.tx,
                            "block": r.block,
                            "gas": r.gas,
                            "eta": r.eta,
                            "reason": r.reason,
                            "retries": r.retries,
                            "proof": r.proof,
                        })
                    })
                    .collect();
                print_json(&json!({ "round": report, "records": records }))?;
            } else {
                println!(
                    "proven {}, confirmed {}, executed {}, skipped {}, waiting {}, retried {}, errors {}",
                    report.proven.len(),
                    report.confirmed.len(),
                    report.executed.len(),
                    report.skipped.len(),
                    report.waiting.len(),
                    report.retried.len(),
                    report.errors.len()
                );
                for line in report.skipped.iter().chain(&report.waiting).chain(&report.retried).chain(&report.errors) {
                    println!("  {line}");
                }
            }
            if !report.errors.is_empty() {
                return Ok(ExitCode::from(super::EXIT_INPUT));
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn init_logs(format: LogFormat) {
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
}
