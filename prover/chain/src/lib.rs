//! Talking to a chain over JSON-RPC (alloy): deploying the verifier, the KPI
//! source and the controller, committing KPIs, submitting proofs, reading state.
//!
//! Calls are blocking: each [`Client`] drives its own single-threaded tokio
//! runtime, so the CLI and tests stay synchronous. Private keys are loaded by
//! [`signer`] and never formatted into any message.
//!
//! Depends on the proving library (`zkpolicy-prover`), the model and the contracts'
//! bindings; never on the keeper, the live runner, the reports or the CLI.

#![deny(missing_docs)]

mod client;
mod deployment;
pub mod economy;
pub mod govern;
pub mod local_node;
mod ops;
pub mod remote_signer;
pub mod safe;
pub mod signer;
pub mod treasury;

pub use client::{redacted, scrub_urls, Client, Sent};
pub use deployment::{
    deploy, DeployConfig, DeployGas, Deployment, KpiProvenance, RecordedStatement, TimingConfig, VerifierCode, DEPLOYMENT_FORMAT,
};
pub use local_node::LocalNode;
pub use ops::{
    cancelled_epoch, commit_kpis, committed_kpis, current_epoch, execute, model_commitment, parameters, status, submit, Status, Submitted,
};
pub use ops::{decode, read};
pub use zkpolicy_contracts::revert_reason;

use std::path::PathBuf;

/// Errors of the chain commands. [`ChainError::Rejected`] means the chain (or the
/// controller's own rules, checked before sending) refused the statement; the
/// others are input, key or connection problems.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The node did not answer: nothing listens at the URL, the connection broke, or a
    /// request got no answer within the client's 60 s timeout. Start the node or fix `--rpc`.
    #[error(
        "cannot reach the JSON-RPC node at {url}: {detail} (is a node running? `verifier-contract/node/local-node.sh` starts a local one)"
    )]
    Unreachable {
        /// The node's URL as messages show it: scheme, host and port only ([`redacted`]).
        url: String,
        /// What the transport said, with every URL in it redacted, or which request timed out.
        detail: String,
    },

    /// The RPC URL given to [`Client::connect`] does not parse; nothing was contacted.
    #[error("the RPC URL is not a valid URL: {detail}")]
    BadUrl {
        /// The parser's complaint (it never quotes the URL, which may carry an API key).
        detail: String,
    },

    /// The node answered a request with a JSON-RPC error that is not a revert: it refused
    /// the transaction or the method; its message says why.
    #[error("the node refused the {what}: {message}")]
    Node {
        /// The request, as the caller named it (`"fee estimate"`, `"eth_sendRawTransaction"`).
        what: String,
        /// The node's own error message.
        message: String,
    },

    /// The pinned local development node ([`LocalNode`]) could not be started, or exited
    /// or stayed silent before it answered JSON-RPC.
    #[error("the local node: {detail}")]
    LocalNode {
        /// What failed (no free port, the launcher would not start, no answer in time), and
        /// the node's log file when there is one.
        detail: String,
    },
    /// The chain refused the statement: a transaction or call reverted (its decoded reason
    /// included), or a check made before sending found that the controller would refuse it
    /// (another epoch, other KPIs or parameters than the chain's).
    #[error("rejected: {reason}")]
    Rejected {
        /// Why, in the operator's terms, with the transaction hash and block when one was mined.
        reason: String,
    },

    /// No usable signing key: the environment variable is unset or malformed, the keystore's
    /// password is missing, or a command that sends was run without a key. The message names
    /// where the key was looked for, never the key.
    #[error("{0}")]
    Key(String),

    /// A file (deployment config, deployment record, keystore) is missing, unreadable, or not
    /// what it should be.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it, and the fix when there is one.
        reason: String,
    },

    /// The deployment config, or a command's request, does not fit the model or the
    /// deployment (a wrong field value, an economy operation on a reporter deployment); the
    /// message names the field and the fix.
    #[error("{0}")]
    Config(String),

    /// The node answered something the client cannot use: an undecodable return value, a
    /// receipt without the expected event or address, a block without a timestamp.
    #[error("unexpected answer from the node: {0}")]
    Answer(String),

    /// Reading or writing a file through the proving library failed (size limit, I/O).
    #[error(transparent)]
    Prover(#[from] zkpolicy_prover::ProverError),
}
