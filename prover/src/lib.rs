//! The zkpolicy prover: SRS, keys, proofs over an EVM-shaped Keccak transcript,
//! proof artifacts, exported verifying keys, and the verifier glue with the in-process
//! EVM. The frontends sit behind features the default build enables for the `zkpolicy`
//! binary (`main.rs`): `chain` (the JSON-RPC client) and `report` (bench reports,
//! backtests, plots). `--no-default-features` is the library alone.

pub mod artifact;
#[cfg(feature = "report")]
pub mod backtest;
#[cfg(feature = "report")]
pub mod bench;
#[cfg(feature = "chain")]
pub mod chain;
mod error;
pub mod evm;
pub mod fsutil;
#[cfg(feature = "keeper")]
pub mod keeper;
pub mod keys;
#[cfg(feature = "keeper")]
pub mod live;
#[cfg(feature = "report")]
pub mod plot;
pub mod proof;
pub mod salt;
pub mod srs;
pub mod vkey;

pub use error::{describe, ProverError};
pub use zkpolicy_verifier_contract::transcript;
