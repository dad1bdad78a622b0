//! Shared setup for the criterion benches. The auditors' table comes from
//! `zkpolicy bench` (see `benches/update-readme.sh`).

pub mod fuzz;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::ProvingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_model::Model;
use zkpolicy_prover::{keys, srs};

pub const MODELS: [&str; 3] = ["tokenomics-policy", "policy-m", "policy-l"];

/// `models/`, for the fuzzer's seed files.
pub fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
}

/// A model's circuit, dev params and proving key.
pub struct Setup {
    pub circuit: PolicyCircuit,
    pub params: ParamsKZG<Bn256>,
    pub pk: ProvingKey<G1Affine>,
}

/// A bundled model by name, from the compiled-in registry.
pub fn bundled(name: &str) -> anyhow::Result<Arc<Model>> {
    let model = zkpolicy_lab::bundled::model(name)?.ok_or_else(|| anyhow::anyhow!("{name} is not a bundled model"))?;
    Ok(Arc::new(model))
}

pub fn setup(name: &str) -> anyhow::Result<Setup> {
    let model = bundled(name)?;
    let circuit = PolicyCircuit::new(model)?;
    let params = srs::dev_params_insecure(circuit.shape().k);
    let pk = keys::keygen(&params, &circuit)?;
    Ok(Setup { circuit, params, pk })
}
