//! The keeper: a long-running operator daemon that, for every deployment it serves,
//! takes (or commits) each epoch's KPI snapshot, proves the adjustment, submits it,
//! waits for confirmations and, in timelocked mode, executes it; and survives crashes.
//!
//! Depends on the proving library, the chain client (`zkpolicy-chain`) and the lab's
//! bundled models (built without ONNX import); never on the reports, the live runner or
//! the CLI, so an operator's build has no tract, plotters or clap.
//!
//! | file | job |
//! |---|---|
//! | `config.rs` | `keeper.toml`, checked before anything starts |
//! | `state.rs` | the durable step records (redb) |
//! | `rpc.rs` | a chain's endpoints with failover |
//! | `tx.rs` | signing, nonces, broadcasting, re-pricing |
//! | `run/` | the epoch loop (`mod.rs`), what each round must do and proving (`plan.rs`), the transactions (`send.rs`) |
//! | `retry.rs` | which failures of a step are final, and which are retried |
//! | `metrics.rs` | Prometheus metrics, `/healthz`, `/readyz` |

#![deny(missing_docs)]

pub mod config;
pub mod metrics;
mod retry;
mod rpc;
mod run;
pub mod state;
mod tx;

use std::path::PathBuf;

pub use config::{KeeperConfig, LogFormat};
pub use run::{Keeper, RoundReport};

/// Errors that stop the keeper (a bad config, an unusable state directory or model).
/// Errors inside a round (a node down, a reverted call) are logged, counted and retried.
#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    /// A key of `keeper.toml` is unknown, missing, mistyped or breaks a rule, or the config
    /// does not fit what it serves (a record deployed for another model or SRS, a `kpis_dir`
    /// for on-chain KPIs, a `metrics_addr` that cannot be bound). The keeper does not start.
    #[error("keeper config: {key}: {reason}")]
    Config {
        /// The key's dotted path (`chains.mainnet.rpc[1]`, `deployment[0].record`), or
        /// `(top level)` when the parser cannot place it.
        key: String,
        /// What is wrong: the TOML parser's message with its line, or the rule broken.
        reason: String,
    },

    /// A file or directory the keeper needs cannot be used: the config file (unreadable, over
    /// 1 MiB, not UTF-8), the state directory, or its database `keeper.redb`, which is locked
    /// while another keeper runs on the same `state_dir`.
    #[error("{path}: {reason}")]
    File {
        /// The file or directory.
        path: PathBuf,
        /// The system's error, or what to do (stop the other keeper, or give this one another
        /// `state_dir`).
        reason: String,
    },

    /// The state database failed (redb cannot read, write or commit, or a record does not
    /// decode), a record lacks what its step needs (a submission without its proof), or the
    /// metrics server's thread cannot start.
    #[error("keeper state: {0}")]
    State(String),

    /// A deployment cannot be served: its model does not load, its chain's endpoints serve
    /// another chain id than the one it was deployed on (both stop the keeper), or an epoch's
    /// KPI file or snapshot does not fit its model (reported in the round's errors and tried
    /// again next round).
    #[error("deployment {deployment}: {reason}")]
    Deployment {
        /// The deployment's `name` in the config.
        deployment: String,
        /// What is wrong, naming the file or the epoch.
        reason: String,
    },

    /// Every endpoint of the chain estimated a step's call above the chain's `max_gas_limit`,
    /// so nothing was signed or sent: the step stays ready, is counted in
    /// `step_retries_total{cause="gas_above_cap"}`, reported in the round's errors and tried
    /// again later.
    #[error("not sent: every endpoint estimates at least {estimate} gas, above max_gas_limit ({cap})")]
    GasAboveCap {
        /// The lowest estimate any endpoint gave, in gas.
        estimate: u64,
        /// The chain's `max_gas_limit`, in gas.
        cap: u64,
    },

    /// The chain client failed: the signer or a deployment record does not load, a JSON-RPC
    /// request failed on every endpoint, or a node answered with an error. At start
    /// it stops the keeper; inside a round it is logged and listed in
    /// [`RoundReport::errors`], and the step is taken up again next round.
    #[error(transparent)]
    Chain(#[from] zkpolicy_chain::ChainError),

    /// Proving, or what it needs, failed: the SRS file, the salt, the proving keys in
    /// `cache_dir`, the model's circuit, or a proof artifact in the state directory.
    #[error(transparent)]
    Prover(#[from] zkpolicy_prover::ProverError),
}

/// Test hook: `ZKPOLICY_KEEPER_FAILPOINT=<name>` kills the keeper with SIGKILL when it
/// reaches that point (`after_prove`; `after_send_<step>` and `before_confirm_<step>`, the
/// step being `tick`, `snapshot`, `commit`, `submit` or `execute`; `after_replace`, once a
/// pending submission's no-op replacement is broadcast), as `kill -9` would;
/// the crash tests restart it and check nothing is lost or sent twice.
pub(crate) fn failpoint(name: &str) {
    if std::env::var("ZKPOLICY_KEEPER_FAILPOINT").is_ok_and(|v| v == name) {
        tracing::warn!("failpoint {name}: killing the keeper (SIGKILL)");
        let _ = signal_hook::low_level::raise(signal_hook::consts::SIGKILL);
    }
}
