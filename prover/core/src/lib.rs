//! The zkpolicy proving library: SRS, keys and the key cache, SHPLONK proofs over an
//! EVM-shaped Keccak transcript, proof artifacts, exported verifying keys, salt files,
//! and the verifier glue with the in-process EVM.
//!
//! Depends on the model (`zkpolicy-model`), the circuits and the verifier generator
//! only: no chain client, no async runtime, no CLI, no ONNX. The chain client
//! (`zkpolicy-chain`), the keeper, the live runner, the reports and the CLI build on it.

#![deny(missing_docs)]

pub mod artifact;
mod error;
pub mod evm;
pub mod fsutil;
pub mod keys;
pub mod proof;
pub mod salt;
pub mod srs;
pub mod vkey;

pub use error::{describe, ProverError};
pub use zkpolicy_verifier::transcript;
