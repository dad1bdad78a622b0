//! The zkpolicy prover: SRS, keys, proofs over an EVM-shaped Keccak transcript,
//! proof artifacts, and (in `main.rs`) the `zkpolicy` CLI.

pub mod artifact;
pub mod backtest;
pub mod bench;
pub mod chain;
mod error;
pub mod evm;
pub mod fsutil;
pub mod keys;
pub mod proof;
pub mod srs;
pub mod vkey;

pub use error::ProverError;
pub use zkpolicy_verifier_contract::transcript;
