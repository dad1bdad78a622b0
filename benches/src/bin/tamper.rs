//! The long tamper campaign: random malicious witnesses of every bundled model under
//! MockProver, in parallel, none of which may be accepted with a forged output; and of
//! private-weights circuits (their secret columns and the weight hash's rows included): the
//! default model's, and the padded-lanes fixture's at 2 and 16 lanes.
//!
//! `cargo run --release -p zkpolicy-benches --bin tamper -- [COUNT]` (default 100,000 for
//! the default model; the other models get a share scaled by their proving cost). The suite
//! runs a short version (`circuits/tests/circuit/adversary.rs`). Writes `benches/tamper.json`.

use std::time::Instant;

use anyhow::Context;
use rand::SeedableRng;
use rayon::prelude::*;
use zkpolicy_circuits::adversary::{self, Campaign};
use zkpolicy_circuits::{Objective, PolicyCircuit, Salt};
use zkpolicy_model::{Model, Observation};

/// Tampers per model as a fraction of the default model's count (policy-l's MockProver
/// run costs ~60 default-model runs).
const SHARES: [(&str, usize); 4] = [("tokenomics-policy", 1), ("trained-policy", 4), ("policy-m", 10), ("policy-l", 50)];
/// Private circuits: the model, a lane count (`None`: the planner's), and the share (the
/// default model's private circuit is k = 16, a MockProver run ~100 fixed-mode runs).
const PRIVATE: [(&str, Option<usize>, usize); 3] =
    [("padded-lanes", Some(2), 50), ("padded-lanes", Some(16), 100), ("tokenomics-policy", None, 1_000)];
const CHUNK: usize = 250;

fn main() -> anyhow::Result<()> {
    let count: usize = std::env::args().nth(1).map(|a| a.parse()).transpose().context("COUNT must be a number")?.unwrap_or(100_000);
    let mut rows = Vec::new();
    let salt = Salt::random(rand_chacha::ChaCha20Rng::seed_from_u64(27));
    let mut circuits = Vec::new();
    for (name, share) in SHARES {
        circuits.push((name.to_string(), "fixed", share, PolicyCircuit::new(zkpolicy_benches::bundled(name)?)?));
    }
    for (name, lanes, share) in PRIVATE {
        let model = match name {
            "padded-lanes" => std::sync::Arc::new(Model::load(zkpolicy_benches::models_dir().join("fixtures/padded-lanes.json"))?),
            bundled => zkpolicy_benches::bundled(bundled)?,
        };
        let circuit = match lanes {
            Some(lanes) => PolicyCircuit::private_with_lanes(model, salt, lanes)?,
            None => PolicyCircuit::private(model, salt, Objective::Gas)?,
        };
        let label = format!("{name} ({} lanes)", circuit.shape().lanes);
        circuits.push((label, "private", share, circuit));
    }
    for (name, weights, share, circuit) in circuits {
        let n = (count / share).max(1);
        let input = Observation::random(circuit.model(), &mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
        let circuit = circuit.with_input(input);
        let started = Instant::now();
        let chunks: Vec<(usize, usize)> = (0..n.div_ceil(CHUNK)).map(|i| (i, CHUNK.min(n - i * CHUNK))).collect();
        let report = chunks
            .par_iter()
            .map(|&(i, size)| adversary::campaign(&circuit, 5, size, 1_000 + i as u64))
            .try_reduce(Campaign::default, |a, b| Ok(a.merge(b)))?;
        let seconds = started.elapsed().as_secs_f64();
        println!("{name}, {weights} weights: {report} in {seconds:.0} s");
        anyhow::ensure!(report.forged.is_empty(), "{name}: forged outputs accepted: {:?}", report.forged);
        rows.push(serde_json::json!({
            "model": name,
            "weights": weights,
            "tampers": report.tried,
            "accepted_harmless": report.accepted,
            "forged": report.forged.len(),
            "caught_first_by": report.caught_by,
            "seconds": seconds.round(),
        }));
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tamper.json");
    std::fs::write(&path, serde_json::to_string_pretty(&rows)? + "\n")?;
    println!("wrote {}", path.display());
    Ok(())
}
