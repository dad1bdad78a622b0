//! Shared setup for the criterion benches. The auditors' table comes from
//! `zkpolicy bench` (see `benches/update-tables.sh`).

pub mod fuzz;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_model::Model;
use zkpolicy_prover::keys::Prepared;
use zkpolicy_prover::srs::SrsSource;

pub const MODELS: [&str; 3] = ["tokenomics-policy", "policy-m", "policy-l"];

/// `models/`, for the fuzzer's seed files.
pub fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
}

/// A bundled model by name, from the compiled-in registry.
pub fn bundled(name: &str) -> anyhow::Result<Arc<Model>> {
    let model = zkpolicy_lab::bundled::model(name)?.ok_or_else(|| anyhow::anyhow!("{name} is not a bundled model"))?;
    Ok(Arc::new(model))
}

/// A bundled model's circuit at its deployed shape, with development params and keys.
pub fn setup(name: &str) -> anyhow::Result<Prepared> {
    Ok(Prepared::fresh(PolicyCircuit::new(bundled(name)?)?, SrsSource::Dev)?)
}
