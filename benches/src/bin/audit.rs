//! The long free-cell audit: every advice cell of every used row, in every weight mode and at
//! 1, 2, 4 and 16 lanes, of a model that leaves unused lanes at each of them
//! (`models/fixtures/padded-lanes.json`, with relu, tanh and leaky ReLU), and of the bundled default
//! model at every lane count and its planned private shape. No free cell may be a forgery.
//!
//! `cargo run --release -p zkpolicy-benches --bin audit` (about a minute on 2 cores). The
//! suite runs the fixture's fixed shapes and its private ones up to 4 lanes
//! (`circuits/tests/circuit/free_cells.rs`). Writes `benches/audit.json`.

use std::sync::Arc;
use std::time::Instant;

use rand::SeedableRng;
use rayon::prelude::*;
use zkpolicy_circuits::audit::audit_free_cells;
use zkpolicy_circuits::{Objective, PolicyCircuit, Salt, WeightMode};
use zkpolicy_model::{Activation, Model, Observation};

const LANES: [usize; 4] = [1, 2, 4, 16];

/// One shape to audit: a model, its weight mode, and a lane count (`None`: the planner's).
struct Shape {
    label: &'static str,
    model: Arc<Model>,
    mode: WeightMode,
    lanes: Option<usize>,
}

impl Shape {
    fn circuit(&self) -> anyhow::Result<PolicyCircuit> {
        let salt = Salt::random(rand_chacha::ChaCha20Rng::seed_from_u64(27));
        let model = self.model.clone();
        let circuit = match (self.mode, self.lanes) {
            (WeightMode::Fixed, Some(lanes)) => PolicyCircuit::with_lanes(model, lanes)?,
            (WeightMode::Fixed, None) => PolicyCircuit::new(model)?,
            (WeightMode::Private, Some(lanes)) => PolicyCircuit::private_with_lanes(model, salt, lanes)?,
            (WeightMode::Private, None) => PolicyCircuit::private(model, salt, Objective::Gas)?,
        };
        let input = Observation::random(&self.model, &mut rand_chacha::ChaCha20Rng::seed_from_u64(3));
        Ok(circuit.with_input(input))
    }
}

fn padded(hidden: Activation) -> anyhow::Result<Arc<Model>> {
    let mut file = Model::load(zkpolicy_benches::models_dir().join("fixtures/padded-lanes.json"))?.file().clone();
    file.layers[0].activation = hidden;
    Ok(Arc::new(Model::from_file(file)?))
}

fn main() -> anyhow::Result<()> {
    let relu = padded(Activation::Relu)?;
    let tanh = padded(Activation::Tanh { scale_bits: 7 })?;
    let leaky = padded(Activation::LeakyRelu { slope: 655 })?;
    let default = zkpolicy_benches::bundled("tokenomics-policy")?;
    let mut shapes = Vec::new();
    for (label, model) in [("padded-lanes (relu)", &relu), ("padded-lanes (tanh)", &tanh), ("padded-lanes (leaky)", &leaky)] {
        for mode in [WeightMode::Fixed, WeightMode::Private] {
            shapes.extend(LANES.map(|lanes| Shape { label, model: model.clone(), mode, lanes: Some(lanes) }));
        }
    }
    shapes.extend(LANES.map(|lanes| Shape {
        label: "tokenomics-policy",
        model: default.clone(),
        mode: WeightMode::Fixed,
        lanes: Some(lanes),
    }));
    shapes.push(Shape { label: "tokenomics-policy", model: default.clone(), mode: WeightMode::Private, lanes: None });
    let rows = shapes
        .par_iter()
        .map(|shape| {
            let circuit = shape.circuit()?;
            let started = Instant::now();
            let audit = audit_free_cells(&circuit, 5, 27)?;
            let seconds = started.elapsed().as_secs_f64();
            let (lanes, k) = (circuit.shape().lanes, circuit.shape().k);
            println!("{} {:?} {lanes} lanes (k = {k}): {audit} in {seconds:.1} s", shape.label, shape.mode);
            anyhow::ensure!(
                audit.forgeries.is_empty() && audit.unnamed.is_empty(),
                "{} {:?} {lanes} lanes: forgery vectors {:?}, unnamed checks {:?}",
                shape.label,
                shape.mode,
                audit.forgeries,
                audit.unnamed
            );
            Ok(serde_json::json!({
                "model": shape.label,
                "weights": format!("{:?}", shape.mode).to_lowercase(),
                "lanes": lanes,
                "k": k,
                "advice_cells": audit.cells,
                "caught_alone": audit.cells - audit.free.len(),
                "free": audit.free.len(),
                "forgery_vectors": audit.forgeries.len(),
                "caught_by": audit.caught_by,
                "mockprover_runs": audit.runs,
                "seconds": (seconds * 10.0).round() / 10.0,
            }))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("audit.json");
    std::fs::write(&path, serde_json::to_string_pretty(&rows)? + "\n")?;
    println!("wrote {}", path.display());
    Ok(())
}
