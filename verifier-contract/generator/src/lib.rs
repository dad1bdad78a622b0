//! The verifier for zkpolicy proofs as a straight-line program.
//!
//! [`build::build`] turns a verifying key and the KZG params into a [`Program`]:
//! transcript reads, challenges, field arithmetic, group operations and one
//! pairing check, in the order halo2's SHPLONK verifier performs them, with
//! everything that depends only on the key folded into constants.
//! [`interpret::run`] executes a program on a proof in Rust; tests check that
//! it accepts and rejects exactly what halo2's native verifier does. The
//! Solidity verifier is rendered from the same program, so what the EVM runs is
//! what was checked here.

#![deny(missing_docs)]

pub mod abi;
pub mod build;
pub mod compile;
pub mod evm;
pub mod interpret;
pub mod program;
pub mod recompute;
pub mod solidity;
pub mod toolchain;
pub mod transcript;

pub use program::Program;

/// Errors while building a program from a verifying key.
#[derive(Debug, thiserror::Error)]
pub enum VerifierError {
    /// The verifying key's constraint system has a feature the program cannot express
    /// (more than one instance column, rotated instance queries, several advice phases or
    /// challenges); the message names it.
    #[error("unsupported circuit: {0}")]
    Unsupported(String),
}
