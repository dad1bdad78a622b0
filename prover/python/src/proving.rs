//! Proving and verifying, as `zkpolicy prove` and `zkpolicy verify` do, on the KZG SRS of a
//! file or, by default, the INSECURE development SRS.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use rand::rngs::OsRng;
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_model::{KpiSnapshot, Model, ModelError, Observation};
use zkpolicy_prover::artifact::ProofArtifact;
use zkpolicy_prover::keys::{self, KeyCache, Prepared};
use zkpolicy_prover::srs::SrsSource;
use zkpolicy_prover::{proof, ProverError};

use crate::convert;
use crate::{error, InvalidProofError};

/// KPIs by name (`{"staking_ratio": 0.41, ...}`) or in model input order.
#[derive(FromPyObject)]
pub enum KpiArg {
    Named(BTreeMap<String, f64>),
    Ordered(Vec<f64>),
}

/// Parameters by name (`{"emission_rate_bps": 500, ...}`) or in the model's order.
#[derive(FromPyObject)]
pub enum ParameterArg {
    Named(BTreeMap<String, i64>),
    Ordered(Vec<i64>),
}

/// Where the SRS and keys come from: `srs` a powers-of-tau file; otherwise the development
/// SRS, kept under `cache_dir/srs` when a cache is given (`zkpolicy`'s layout, so the CLI's
/// `.zkpolicy` directory can be shared).
fn srs(srs: Option<PathBuf>, cache_dir: Option<&PathBuf>) -> SrsSource {
    match (srs, cache_dir) {
        (Some(path), _) => SrsSource::File(path),
        (None, Some(dir)) => SrsSource::DevCached(dir.join("srs")),
        (None, None) => SrsSource::Dev,
    }
}

/// The observation `kpis` and `parameters` give `model`: checked names, finite values inside
/// the declared ranges, quantized as the model declares.
fn observation(model: &Model, kpis: KpiArg, parameters: Option<ParameterArg>) -> Result<Observation, ModelError> {
    let card = model.card();
    let kpis = match kpis {
        KpiArg::Named(map) => map,
        KpiArg::Ordered(values) => {
            if values.len() != card.inputs().len() {
                return Err(ModelError::WrongCount { what: "KPIs", expected: card.inputs().len(), got: values.len() });
            }
            card.inputs().iter().map(|i| i.name.clone()).zip(values).collect()
        }
    };
    let parameters = match parameters {
        None => BTreeMap::new(),
        Some(ParameterArg::Named(map)) => map,
        Some(ParameterArg::Ordered(values)) => {
            if values.len() != card.parameters().len() {
                return Err(ModelError::WrongCount { what: "parameters", expected: card.parameters().len(), got: values.len() });
            }
            card.parameters().iter().map(|p| p.name.clone()).zip(values).collect()
        }
    };
    KpiSnapshot { kpis, parameters }.observe(card)
}

/// The model's outputs on `kpis` and `parameters`, by the integer reference inference the
/// circuit proves bit for bit: the values a proof's artifact states (for a fixed-point output,
/// `y` before the controller's `round(y·step / 2^scale_bits)`).
#[pyfunction]
#[pyo3(signature = (model, kpis, parameters = None))]
pub fn infer(model: &Bound<'_, PyAny>, kpis: KpiArg, parameters: Option<ParameterArg>) -> PyResult<Vec<i64>> {
    let model = convert::model(model)?;
    let input = observation(&model, kpis, parameters).map_err(|e| convert::with_context("KPI snapshot", &e))?;
    let trace = zkpolicy_model::infer(&model, &input).map_err(|e| error(&e))?;
    Ok(trace.outputs)
}

/// Proves the model's adjustment for one KPI snapshot and returns the proof artifact's JSON
/// text (what `zkpolicy prove` writes; `outputs` holds the proven adjustments).
///
/// `model` is the model file's JSON text or its path; `kpis` real values by name or in input
/// order; `parameters` the controller's current integers, for a model that reads them.
/// Without `srs` (a powers-of-tau file in halo2's raw format) the **INSECURE development SRS**
/// is used: its toxic waste comes from a public seed, so anyone can forge proofs against it.
/// Keys are generated on each call, or read from and kept in `cache_dir` when given.
#[pyfunction]
#[pyo3(signature = (model, kpis, parameters = None, epoch = 0, *, srs = None, cache_dir = None))]
pub fn prove(
    py: Python<'_>,
    model: &Bound<'_, PyAny>,
    kpis: KpiArg,
    parameters: Option<ParameterArg>,
    epoch: u64,
    srs: Option<PathBuf>,
    cache_dir: Option<PathBuf>,
) -> PyResult<String> {
    let model = convert::model(model)?;
    let input = observation(&model, kpis, parameters).map_err(|e| convert::with_context("KPI snapshot", &e))?;
    let source = self::srs(srs, cache_dir.as_ref());
    let artifact = py
        .detach(|| -> Result<ProofArtifact, ProverError> {
            let circuit = PolicyCircuit::new(model)?;
            let Prepared { circuit, params, pk, .. } = match &cache_dir {
                Some(dir) => Prepared::cached(circuit, source, &KeyCache::new(dir.join("keys")))?,
                None => Prepared::fresh(circuit, source)?,
            };
            let (public, bytes) = proof::prove(&params, &pk, &circuit, input, epoch, OsRng)?;
            ProofArtifact::new(&circuit, &public, &bytes)
        })
        .map_err(|e| error(&e))?;
    let mut text = serde_json::to_string_pretty(&artifact).map_err(crate::to_py_err)?;
    text.push('\n');
    Ok(text)
}

/// Verifies a proof artifact (its JSON text, as `prove` returns and `zkpolicy prove` writes)
/// against `model` (JSON text or path). Returns `True` for a valid proof; raises
/// `InvalidProofError` naming what is wrong when the proof or its claim is false (another
/// model, a changed KPI or output, corrupted proof bytes), and `ZkPolicyError` for unreadable
/// input. `srs` and `cache_dir` as in `prove`: the SRS must be the one the proof was made with.
#[pyfunction]
#[pyo3(signature = (model, artifact, *, srs = None, cache_dir = None))]
pub fn verify(
    py: Python<'_>,
    model: &Bound<'_, PyAny>,
    artifact: &str,
    srs: Option<PathBuf>,
    cache_dir: Option<PathBuf>,
) -> PyResult<bool> {
    let model: Arc<Model> = convert::model(model)?;
    let artifact = ProofArtifact::from_json(artifact.as_bytes(), std::path::Path::new("<artifact>")).map_err(|e| error(&e))?;
    let proof_bytes = artifact.proof_bytes().map_err(|e| error(&e))?;
    let source = self::srs(srs, cache_dir.as_ref());
    let verdict = py.detach(|| -> Result<(), ProverError> {
        let circuit = PolicyCircuit::new(model)?;
        let k = circuit.shape().k;
        // A claim that contradicts the model is refused before any key is made.
        let public = artifact.public_inputs(circuit.as_ref(), k)?;
        let params = source.params(k)?;
        let vk = match &cache_dir {
            Some(dir) => KeyCache::new(dir.join("keys")).verifying_key(&params, &circuit, &source)?.0,
            None => keys::keygen_vk(&params, &circuit)?,
        };
        proof::verify(&params, &vk, &public, &proof_bytes)
    });
    match verdict {
        Ok(()) => Ok(true),
        Err(e @ ProverError::InvalidProof { .. }) => Err(InvalidProofError::new_err(e.to_string())),
        Err(e) => Err(error(&e)),
    }
}
