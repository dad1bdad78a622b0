//! ONNX import against the official evaluator, refusals that name the op and
//! node, and calibrated quantization that always validates. This file holds the
//! fixtures, the default IO and the calibration rows the modules below share.

mod activations;
mod calibration;
mod evaluator;
mod graphs;
mod quantization;

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkpolicy_lab::quantize::{self, IoSpec};
use zkpolicy_model::Model;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("fixtures").join(name)
}

/// The default policy's IO: 8 KPIs, 4 outputs in bps bounded ±50/±100/±50/±20.
fn default_io() -> IoSpec {
    let model = Model::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("tokenomics-policy.json")).expect("bundled model");
    IoSpec::of_model(model.file())
}

fn calibration(io: &IoSpec) -> Vec<Vec<f64>> {
    let names: Vec<&str> = io.inputs.iter().map(|i| i.name.as_str()).collect();
    quantize::read_calibration_jsonl(fixture("calibration-tokenomics.jsonl"), &names).expect("calibration fixture")
}

/// Uniform real KPI vectors inside the declared ranges.
fn random_kpis(io: &IoSpec, rows: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (0..rows).map(|_| io.inputs.iter().map(|i| rng.gen_range(i.min..=i.max)).collect()).collect()
}
