use std::path::PathBuf;

use zkpolicy_circuits::CircuitError;
use zkpolicy_model::ModelError;

/// Errors of the prover library. `InvalidProof` is the only one that means
/// "the statement was checked and is false"; all others are input or I/O errors.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    #[error(transparent)]
    Model(#[from] ModelError),

    #[error(transparent)]
    Circuit(#[from] CircuitError),

    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },

    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },

    #[error("{path} is not a valid {what}: {reason}")]
    Corrupt { path: PathBuf, what: &'static str, reason: String },

    #[error("{path} already exists; {why}")]
    Exists { path: PathBuf, why: &'static str },

    #[error("the SRS has k = {have}, but the circuit needs k = {need}; use a larger powers-of-tau file")]
    ParamsTooSmall { have: u32, need: u32 },

    #[error("{stage} failed: {detail}")]
    Halo2 { stage: &'static str, detail: String },

    #[error(transparent)]
    Verifier(#[from] zkpolicy_verifier::VerifierError),

    #[error(transparent)]
    Compile(#[from] zkpolicy_verifier::compile::CompileError),

    #[error(transparent)]
    Evm(#[from] zkpolicy_verifier::evm::EvmError),

    #[error("recomputation baseline: {0}")]
    Recompute(#[from] zkpolicy_verifier::recompute::RecomputeError),

    #[error("invalid proof: {reason}")]
    InvalidProof { reason: String },

    #[error("proof artifact: {reason}")]
    Artifact { reason: String },
}

/// An error's message followed by each underlying cause that says something new, each once:
/// a cause whose text an outer message already quotes is not repeated (libraries often put
/// their source in their own message), while one it hides (why a request failed: a refused
/// connection, an unknown certificate authority) is shown.
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(e) = cause {
        let message = e.to_string();
        if !message.is_empty() && !text.contains(&message) {
            text = if text.is_empty() { message } else { format!("{text}: {message}") };
        }
        cause = e.source();
    }
    text
}
