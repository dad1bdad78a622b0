//! The `zkpolicy` binary and the prover library: commands, chain commands on a local node, the policy path.
//! One test binary per crate: each file below is a module, linked once.

mod chain;
mod cli;
mod common;
mod keeper;
mod live;
mod policy;
mod queued;
mod treasury;
