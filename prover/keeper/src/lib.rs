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
    #[error("keeper config: {key}: {reason}")]
    Config { key: String, reason: String },

    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },

    #[error("keeper state: {0}")]
    State(String),

    #[error("deployment {deployment}: {reason}")]
    Deployment { deployment: String, reason: String },

    #[error("not sent: every endpoint estimates at least {estimate} gas, above max_gas_limit ({cap})")]
    GasAboveCap { estimate: u64, cap: u64 },

    #[error(transparent)]
    Chain(#[from] zkpolicy_chain::ChainError),

    #[error(transparent)]
    Prover(#[from] zkpolicy_prover::ProverError),
}

/// Test hook: `ZKPOLICY_KEEPER_FAILPOINT=<name>` kills the keeper with SIGKILL when it
/// reaches that point (`after_prove`; `after_send_<step>` and `before_confirm_<step>`, the
/// step being `tick`, `snapshot`, `commit`, `submit` or `execute`), as `kill -9` would;
/// the crash tests restart it and check nothing is lost or sent twice.
pub(crate) fn failpoint(name: &str) {
    if std::env::var("ZKPOLICY_KEEPER_FAILPOINT").is_ok_and(|v| v == name) {
        tracing::warn!("failpoint {name}: killing the keeper (SIGKILL)");
        let _ = signal_hook::low_level::raise(signal_hook::consts::SIGKILL);
    }
}
