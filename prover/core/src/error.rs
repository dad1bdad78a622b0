use std::path::PathBuf;

use zkpolicy_circuits::CircuitError;
use zkpolicy_model::ModelError;

/// Errors of the prover library. `InvalidProof` is the only one that means
/// "the statement was checked and is false"; all others are input or I/O errors.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    /// The model, card, KPI snapshot or guardrails were refused by `zkpolicy-model`.
    #[error(transparent)]
    Model(#[from] ModelError),

    /// The circuit could not be planned for the model, or the claimed public inputs are
    /// outside what it can prove.
    #[error(transparent)]
    Circuit(#[from] CircuitError),

    /// A file the command needs (SRS, key, salt, artifact) could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file being read.
        path: PathBuf,
        /// Why reading it failed.
        source: std::io::Error,
    },

    /// An output file (artifact, key, cache entry, salt) could not be written; no partial
    /// file is left behind.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file being written.
        path: PathBuf,
        /// Why writing it failed.
        source: std::io::Error,
    },

    /// A file was read but is not what it should be: wrong format or version, too large,
    /// not a regular file, or failing its own consistency checks.
    #[error("{path} is not a valid {what}: {reason}")]
    Corrupt {
        /// The offending file.
        path: PathBuf,
        /// What it was read as, e.g. "verifying key file" or "salt file".
        what: &'static str,
        /// The check it fails.
        reason: String,
    },

    /// A file that is never overwritten (a salt) already exists.
    #[error("{path} already exists; {why}")]
    Exists {
        /// The existing file.
        path: PathBuf,
        /// Why it is kept rather than replaced.
        why: &'static str,
    },

    /// A snarkjs powers-of-tau (`.ptau`) file was refused: not the format, not BN254,
    /// truncated, too small for the circuit, or its powers fail a check.
    #[error("{path} is not a usable snarkjs powers-of-tau file: {source}")]
    Ptau {
        /// The file.
        path: PathBuf,
        /// The check it fails.
        source: crate::srs::ptau::PtauError,
    },

    /// The powers-of-tau file is smaller than the circuit's `2^k` rows.
    #[error("the SRS has k = {have}, but the circuit needs k = {need}; use a larger powers-of-tau file")]
    ParamsTooSmall {
        /// The file's `k`.
        have: u32,
        /// The circuit's planned `k`.
        need: u32,
    },

    /// halo2 failed while generating keys or proving (not while verifying, which is
    /// [`ProverError::InvalidProof`]).
    #[error("{stage} failed: {detail}")]
    Halo2 {
        /// Which step failed: "verifying key generation", "proving key generation" or "proving".
        stage: &'static str,
        /// halo2's error message.
        detail: String,
    },

    /// The verifier generator could not build a program for this verifying key.
    #[error(transparent)]
    Verifier(#[from] zkpolicy_verifier::VerifierError),

    /// solc-js could not be found or run, or refused a rendered contract.
    #[error(transparent)]
    Compile(#[from] zkpolicy_verifier::compile::CompileError),

    /// The in-process EVM refused a deployment or transaction.
    #[error(transparent)]
    Evm(#[from] zkpolicy_verifier::evm::EvmError),

    /// The plain-Solidity recomputation baseline (the benchmark's gas comparison) cannot be
    /// rendered for this model.
    #[error("recomputation baseline: {0}")]
    Recompute(#[from] zkpolicy_verifier::recompute::RecomputeError),

    /// The statement was checked and is false: the proof does not verify for these public
    /// inputs, or the artifact's claim does not match the model.
    #[error("invalid proof: {reason}")]
    InvalidProof {
        /// What did not check out, in words a user can act on.
        reason: String,
    },

    /// A step failed for a reason other than a false statement: an artifact of another
    /// format, version or proof system, undecodable proof bytes, a key made with another SRS,
    /// a contract missing from the compiler's output, or a failed call in the in-EVM demo.
    #[error("proof artifact: {reason}")]
    Artifact {
        /// What is wrong with it.
        reason: String,
    },
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
