//! The policy circuit against the integer reference, under MockProver.

use std::path::Path;
use std::sync::Arc;

use halo2_proofs::dev::{MockProver, VerifyFailure};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_circuits::field::{fr, Fr};
use zkpolicy_circuits::{PolicyCircuit, PublicInputs};
use zkpolicy_model::{synth, Model};

fn bundled(name: &str) -> Arc<Model> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models").join(format!("{name}.json"));
    Arc::new(Model::load(path).expect("bundled model loads"))
}

fn mock(circuit: &PolicyCircuit, instance: Vec<Fr>) -> Result<(), Vec<VerifyFailure>> {
    MockProver::run(circuit.shape().k, circuit, vec![instance]).expect("synthesis").verify()
}

/// The number of random KPI vectors checked against the reference, per model.
fn check_random(name: &str, vectors: usize, seed: u64) {
    let model = bundled(name);
    let circuit = PolicyCircuit::new(model.clone()).expect("plan");
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut distinct = std::collections::BTreeSet::new();
    for _ in 0..vectors {
        let kpis = synth::random_kpis(&model, &mut rng);
        let public = PublicInputs::honest(&model, 7, &kpis).expect("reference");
        distinct.insert(public.outputs.clone());
        let result = mock(&circuit.with_kpis(kpis.clone()), public.to_instance());
        assert_eq!(result, Ok(()), "{name}: KPIs {:?}", kpis.values());
    }
    // The vectors exercise the model: outputs are not all the same.
    assert!(distinct.len() > vectors / 10, "{name}: only {} distinct outputs", distinct.len());
}

#[test]
fn default_model_matches_the_reference_on_1000_random_kpi_vectors() {
    check_random("tokenomics-policy", 1000, 1);
}

#[test]
fn policy_m_matches_the_reference_on_1000_random_kpi_vectors() {
    check_random("policy-m", 1000, 2);
}

#[test]
fn policy_l_matches_the_reference_on_1000_random_kpi_vectors() {
    check_random("policy-l", 1000, 3);
}

#[test]
fn every_public_input_is_constrained() {
    let model = bundled("tokenomics-policy");
    let circuit = PolicyCircuit::new(model.clone()).expect("plan");
    let kpis = synth::random_kpis(&model, &mut ChaCha20Rng::seed_from_u64(9));
    let circuit = circuit.with_kpis(kpis.clone());
    let honest = PublicInputs::honest(&model, 42, &kpis).expect("reference").to_instance();
    assert_eq!(mock(&circuit, honest.clone()), Ok(()));
    // Each KPI and each output (rows 1..): a different public value breaks a copy constraint.
    for row in 1..honest.len() {
        let mut forged = honest.clone();
        forged[row] += fr(1);
        assert!(mock(&circuit, forged).is_err(), "instance row {row} is unconstrained");
    }
}

#[test]
fn shapes_meet_the_targets() {
    let default = PolicyCircuit::new(bundled("tokenomics-policy")).expect("plan");
    let s = default.shape();
    assert!(s.k <= 10, "{s:?}");
    assert!(s.rows <= s.usable_rows);
    assert_eq!(s.instances, 1 + 8 + 4);
    for name in ["policy-m", "policy-l"] {
        let s = PolicyCircuit::new(bundled(name)).expect("plan").shape().clone();
        assert!(s.rows <= s.usable_rows, "{name}: {s:?}");
        eprintln!("{name}: {s:?}");
    }
    eprintln!("default: {s:?}");
}
