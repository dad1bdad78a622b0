//! Feature unification for the Python extension's build; see this crate's `Cargo.toml`.
//!
//! It has no code: depending on it turns on, in the extension's own dependency tree, the
//! third-party features the workspace build already turns on, so both builds share compiled
//! dependencies.
