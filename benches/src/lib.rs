//! Shared setup for the criterion benches and the `report` binary.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::ProvingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_model::Model;
use zkpolicy_prover::{keys, srs, ProverError};

pub const MODELS: [&str; 3] = ["tokenomics-policy", "policy-m", "policy-l"];

pub fn model_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models").join(format!("{name}.json"))
}

/// A model's circuit, dev params and proving key.
pub struct Setup {
    pub circuit: PolicyCircuit,
    pub params: ParamsKZG<Bn256>,
    pub pk: ProvingKey<G1Affine>,
}

pub fn circuit(name: &str) -> anyhow::Result<PolicyCircuit> {
    let model = Arc::new(Model::load(model_path(name))?);
    Ok(PolicyCircuit::new(model)?)
}

pub fn setup(name: &str) -> anyhow::Result<Setup> {
    let circuit = circuit(name)?;
    let params = srs::dev_params_insecure(circuit.shape().k);
    let pk = keys::keygen(&params, &circuit).map_err(|e: ProverError| anyhow::anyhow!(e))?;
    Ok(Setup { circuit, params, pk })
}

/// Peak resident set size of this process, from `/proc/self/status` (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
