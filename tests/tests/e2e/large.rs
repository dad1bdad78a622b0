//! The million-parameter policy (`synth::policy_xl`, 64 → 1024 → 1024 → 16).
//!
//! The gas planner cannot fit it in one lane (k would be 21), so it takes two lanes at
//! k = 20. A scaled-down model goes through the same two-lane layout in the suite; the
//! full model's key generation and one proof run under the `slow` feature
//! (`benches/xl.sh`), which checks they fit this machine.

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_lab::synth;
use zkpolicy_model::{Model, QuantizedKpis};
use zkpolicy_prover::{evm, keys, proof};
use zkpolicy_verifier::compile;

#[test]
fn the_million_parameter_policy_is_planned_at_two_lanes_within_k_20() {
    let model = Arc::new(Model::from_file(synth::policy_xl().expect("builds")).expect("validates"));
    assert_eq!(model.parameter_count(), 1_132_560);
    let circuit = PolicyCircuit::new(model).expect("plan");
    let shape = circuit.shape();
    assert_eq!((shape.lanes, shape.k), (2, 20), "{shape:?}");
    assert!(shape.rows <= shape.usable_rows);
}

/// The same two-lane layout on a model small enough to prove in the suite: proven,
/// verified natively and by its generated verifier in the EVM.
#[test]
fn a_scaled_down_wide_model_proves_and_verifies_at_two_lanes() {
    let file = synth::seeded_with_bits("policy-xl-small", &[16, 128, 128, 4], 0x78, 5).expect("builds");
    let model = Arc::new(Model::from_file(file).expect("validates"));
    let circuit = PolicyCircuit::with_lanes(model.clone(), 2).expect("shape");
    let params = crate::common::dev_params(circuit.shape().k);
    let pk = keys::keygen(&params, &circuit).expect("keygen");
    let kpis = QuantizedKpis::random(&model, &mut ChaCha20Rng::seed_from_u64(5));
    let (public, bytes) = proof::prove(&params, &pk, &circuit, &kpis, 1, ChaCha20Rng::seed_from_u64(6)).expect("prove");
    assert_eq!(public.outputs, zkpolicy_model::infer(&model, &kpis).expect("reference").outputs);
    proof::verify(&params, pk.get_vk(), &public, &bytes).expect("verifies");
    let source = evm::verifier_source(&params, pk.get_vk(), &circuit).expect("render");
    let compiled = evm::compile_verifier(&source, compile::bundled_dir()).expect("compiles");
    assert!(evm::verify_in_evm(&compiled.bytecode, &public, &bytes).expect("runs").valid);
}

/// Key generation and one proof of the full million-parameter model fit this 2-core,
/// 24 GiB machine: peak RSS under 4 GiB. Minutes long: `benches/xl.sh` runs it.
#[cfg(feature = "slow")]
#[test]
fn the_million_parameter_policy_keygen_and_one_proof_fit_the_machine() {
    let model = Arc::new(Model::from_file(synth::policy_xl().expect("builds")).expect("validates"));
    let circuit = PolicyCircuit::new(model.clone()).expect("plan");
    let started = std::time::Instant::now();
    let params = crate::common::dev_params(circuit.shape().k);
    let pk = keys::keygen(&params, &circuit).expect("keygen");
    let keygen = started.elapsed();
    let kpis = QuantizedKpis::random(&model, &mut ChaCha20Rng::seed_from_u64(7));
    let started = std::time::Instant::now();
    let (public, bytes) = proof::prove(&params, &pk, &circuit, &kpis, 1, ChaCha20Rng::seed_from_u64(8)).expect("prove");
    let prove = started.elapsed();
    proof::verify(&params, pk.get_vk(), &public, &bytes).expect("verifies");
    let rss = zkpolicy_report::bench::peak_rss_mib().expect("Linux /proc");
    eprintln!("policy-xl: setup and keygen {keygen:?}, prove {prove:?}, peak RSS {rss:.0} MiB, proof {} bytes", bytes.len());
    assert!(rss < 4096.0, "peak RSS {rss:.0} MiB");
}
