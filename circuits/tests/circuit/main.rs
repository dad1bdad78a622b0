//! The policy circuit under MockProver: the reference, every public input, malicious witnesses.
//! One test binary per crate: each file below is a module, linked once.

mod activations;
mod adversary;
mod free_cells;
mod policy;
mod private;
