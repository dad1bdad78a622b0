//! End-to-end tests across the crates: real proofs, the verifier program and the EVM, the controller, the recomputation baseline, and the parsers' short fuzzing campaign.
//! One test binary per crate: each file below is a module, linked once.

mod attacks_kpi;
mod attacks_treasury;
mod committed_verifier;
mod common;
mod controller;
mod economy;
mod fuzz;
mod joint_guardrails;
mod large;
mod private;
mod proofs;
mod recompute;
mod stale_decisions;
mod verifier_evm;
mod verifier_program;
