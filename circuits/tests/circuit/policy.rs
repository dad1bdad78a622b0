//! The policy circuit against the integer reference, under MockProver.

use std::path::Path;
use std::sync::Arc;

use halo2_proofs::dev::{MockProver, VerifyFailure};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_circuits::adversary::{self, Failure};
use zkpolicy_circuits::chips::public;
use zkpolicy_circuits::field::{fr, Fr};
use zkpolicy_circuits::{Objective, PolicyCircuit, PublicInputs};
use zkpolicy_model::{Model, Observation, QuantizedKpis};

fn bundled(name: &str) -> Arc<Model> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models").join(format!("{name}.json"));
    Arc::new(Model::load(path).expect("bundled model loads"))
}

fn mock(circuit: &PolicyCircuit, instance: Vec<Fr>) -> Result<(), Vec<VerifyFailure>> {
    MockProver::run(circuit.shape().k, circuit, vec![instance]).expect("synthesis").verify()
}

/// `vectors` random input vectors (KPIs, and parameters for a model that reads them), and
/// the two corners of the input box, proven under MockProver at the shape planned for
/// `objective` and checked against the reference.
fn check_random(name: &str, objective: Objective, vectors: usize, seed: u64) {
    let model = bundled(name);
    let circuit = PolicyCircuit::planned(model.clone(), objective).expect("plan");
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let ranges = model.network_ranges();
    let corners = [ranges.iter().map(|r| r.lo).collect::<Vec<_>>(), ranges.iter().map(|r| r.hi).collect()];
    let randoms = (0..vectors).map(|_| Observation::random(&model, &mut rng).values());
    let mut distinct = std::collections::BTreeSet::new();
    let n = model.input_ranges().len();
    for values in corners.into_iter().chain(randoms) {
        let kpis = QuantizedKpis::new(model.card(), values[..n].to_vec()).expect("in range");
        let input = Observation::new(model.card(), kpis, values[n..].to_vec()).expect("in range");
        let public = PublicInputs::honest(&model, 7, &input).expect("reference");
        distinct.insert(public.outputs.clone());
        let result = mock(&circuit.with_input(input.clone()), public.to_instance());
        assert_eq!(result, Ok(()), "{name} ({objective:?}, {} lanes): inputs {:?}", circuit.shape().lanes, input.values());
    }
    // The vectors exercise the model: outputs are not all the same.
    assert!(distinct.len() > vectors / 10, "{name}: only {} distinct outputs", distinct.len());
}

#[test]
fn default_model_matches_the_reference_on_1000_random_kpi_vectors() {
    check_random("tokenomics-policy", Objective::Gas, 1000, 1);
}

#[test]
fn trained_policy_matches_the_reference() {
    check_random("trained-policy", Objective::Gas, 300, 4);
}

/// Both planned shapes of the larger models: one lane (the gas shape, as deployed) and
/// the wide lanes the prover-time shape uses.
#[test]
fn policy_m_matches_the_reference_at_both_shapes() {
    check_random("policy-m", Objective::ProverTime, 200, 2);
    check_random("policy-m", Objective::Gas, 20, 5);
}

#[test]
fn policy_l_matches_the_reference_at_both_shapes() {
    check_random("policy-l", Objective::ProverTime, 40, 3);
    check_random("policy-l", Objective::Gas, 2, 6);
}

/// Both a KPI-only model and one that reads the parameters: every instance row.
#[test]
fn every_public_input_is_constrained() {
    for name in ["tokenomics-policy", "trained-policy"] {
        every_public_input_of(name);
    }
}

fn every_public_input_of(name: &str) {
    let model = bundled(name);
    let circuit = PolicyCircuit::new(model.clone()).expect("plan");
    let input = Observation::random(&model, &mut ChaCha20Rng::seed_from_u64(9));
    let circuit = circuit.with_input(input.clone());
    let honest = PublicInputs::honest(&model, 42, &input).expect("reference").to_instance();
    assert_eq!(mock(&circuit, honest.clone()), Ok(()));
    // A different KPI, parameter or output than the witness's breaks the `public` gate on
    // exactly that instance's row, and nothing else: the gate is what ties each one.
    let placement = circuit.placement();
    let n = model.card().network_width();
    assert_eq!(placement.inputs.iter().map(|k| k.input).collect::<Vec<_>>(), (1..=n).collect::<Vec<_>>());
    assert_eq!(placement.outputs, (n + 1..honest.len()).collect::<Vec<_>>());
    for row in 1..honest.len() {
        let mut forged = honest.clone();
        forged[row] += fr(1);
        let failures = adversary::run(&circuit, forged, &[]).expect("synthesis").failures;
        assert_eq!(failures, [Failure::new(public::CONSTRAINT, row)].into_iter().collect(), "{name} instance {row}");
    }
}

#[test]
fn shapes_meet_the_targets() {
    let default = PolicyCircuit::new(bundled("tokenomics-policy")).expect("plan");
    let s = default.shape();
    assert!(s.k <= 10, "{s:?}");
    assert!(s.rows <= s.usable_rows);
    assert_eq!(s.instances, 1 + 8 + 4);
    for name in ["trained-policy", "policy-m", "policy-l"] {
        let gas = PolicyCircuit::new(bundled(name)).expect("plan").shape().clone();
        let fast = PolicyCircuit::planned(bundled(name), Objective::ProverTime).expect("plan").shape().clone();
        assert!(gas.rows <= gas.usable_rows && fast.rows <= fast.usable_rows, "{name}: {gas:?} {fast:?}");
        // Flat verification: the gas shape has the default model's columns at any size.
        assert_eq!(gas.verifier_msm_terms(), s.verifier_msm_terms(), "{name}: {gas:?}");
        assert!(fast.prover_work() <= gas.prover_work(), "{name}");
        eprintln!("{name}: gas {gas:?}; prover time {fast:?}");
    }
    eprintln!("default: {s:?}");
}
