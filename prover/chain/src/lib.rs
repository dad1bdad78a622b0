//! Talking to a chain over JSON-RPC (alloy): deploying the verifier, the KPI
//! source and the controller, committing KPIs, submitting proofs, reading state.
//!
//! Calls are blocking: each [`Client`] drives its own single-threaded tokio
//! runtime, so the CLI and tests stay synchronous. Private keys are loaded by
//! [`signer`] and never formatted into any message.
//!
//! Depends on the proving library (`zkpolicy-prover`), the model and the contracts'
//! bindings; never on the keeper, the live runner, the reports or the CLI.

mod client;
mod deployment;
pub mod economy;
pub mod govern;
pub mod local_node;
mod ops;
pub mod signer;
pub mod treasury;

pub use client::{redacted, scrub_urls, Client, Sent};
pub use deployment::{deploy, DeployConfig, DeployGas, Deployment, KpiProvenance, RecordedStatement, TimingConfig, VerifierCode};
pub use local_node::LocalNode;
pub use ops::read;
pub use ops::{
    cancelled_epoch, commit_kpis, committed_kpis, current_epoch, execute, model_commitment, parameters, status, submit, Status, Submitted,
};
pub use zkpolicy_contracts::revert_reason;

use std::path::PathBuf;

/// Errors of the chain commands. [`ChainError::Rejected`] means the chain (or the
/// controller's own rules, checked before sending) refused the statement; the
/// others are input, key or connection problems.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(
        "cannot reach the JSON-RPC node at {url}: {detail} (is a node running? `verifier-contract/node/local-node.sh` starts a local one)"
    )]
    Unreachable { url: String, detail: String },

    #[error("the RPC URL is not a valid URL: {detail}")]
    BadUrl { detail: String },

    #[error("the node refused the {what}: {message}")]
    Node { what: String, message: String },

    #[error("the local node: {detail}")]
    LocalNode { detail: String },
    #[error("rejected: {reason}")]
    Rejected { reason: String },

    #[error("{0}")]
    Key(String),

    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },

    #[error("{0}")]
    Config(String),

    #[error("unexpected answer from the node: {0}")]
    Answer(String),

    #[error(transparent)]
    Prover(#[from] zkpolicy_prover::ProverError),
}
