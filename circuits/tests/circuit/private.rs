//! Private weights under MockProver: the reference, the hash binding, tampered weights.

use std::path::Path;
use std::sync::Arc;

use halo2_proofs::halo2curves::ff::Field;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_circuits::adversary::{self, CellRef, Failure};
use zkpolicy_circuits::field::Fr;
use zkpolicy_circuits::private::{self, Salt};
use zkpolicy_circuits::{Objective, PolicyCircuit, PublicInputs, WeightMode};
use zkpolicy_model::{Model, ModelFile, QuantizedKpis};

fn default_model() -> Arc<Model> {
    Arc::new(Model::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/tokenomics-policy.json")).expect("bundled model loads"))
}

fn salt() -> Salt {
    Salt::random(ChaCha20Rng::seed_from_u64(99))
}

/// The default model with weight `[layer][neuron][input]` moved by one.
fn with_one_weight_changed(model: &Model, at: (usize, usize, usize)) -> Arc<Model> {
    let mut file: ModelFile = model.file().clone();
    file.layers[at.0].weights[at.1][at.2] += 1;
    Arc::new(Model::from_file(file).expect("still a valid model"))
}

fn honest(circuit: &PolicyCircuit, model: &Model, seed: u64) -> (PolicyCircuit, Vec<Fr>) {
    let kpis = QuantizedKpis::random(model, &mut ChaCha20Rng::seed_from_u64(seed));
    let instance = PublicInputs::honest(model, 3, &kpis).expect("reference").to_instance();
    (circuit.with_input(kpis), instance)
}

#[test]
fn the_private_circuit_matches_the_reference_and_states_its_commitment() {
    let model = default_model();
    let circuit = PolicyCircuit::private(model.clone(), salt(), Objective::Gas).expect("plan");
    assert_eq!(circuit.weight_mode(), WeightMode::Private);
    assert_eq!(circuit.weight_commitment(), Some(private::commitment(&model, &salt())));
    // The card names the weight commitment, not the file's hash, which would confirm a guess.
    assert_ne!(circuit.as_ref().commitment(), model.commitment());
    assert_eq!(circuit.as_ref().commitment().0, private::be_bytes(&private::commitment(&model, &salt())));
    for seed in 0..3 {
        let (circuit, instance) = honest(&circuit, &model, seed);
        let outcome = adversary::run(&circuit, instance, &[]).expect("synthesis");
        assert!(outcome.accepted(), "seed {seed}: {:?}", outcome.failures);
    }
}

#[test]
fn another_salt_or_one_changed_weight_gives_another_commitment() {
    let model = default_model();
    let base = private::commitment(&model, &salt());
    assert_ne!(private::commitment(&model, &Salt::random(ChaCha20Rng::seed_from_u64(100))), base);
    for at in [(0, 0, 0), (1, 7, 15), (2, 3, 0)] {
        assert_ne!(private::commitment(&with_one_weight_changed(&model, at), &salt()), base, "{at:?}");
    }
}

/// A prover holding the proving key of the committed model, with other weights in its
/// witness, is rejected by the one copy that ties the digest to the key's constant.
#[test]
fn weights_other_than_the_committed_ones_fail_the_digest_copy() {
    let model = default_model();
    let committed = private::commitment(&model, &salt());
    let other = with_one_weight_changed(&model, (1, 2, 5));
    let forged = PolicyCircuit::private(other.clone(), salt(), Objective::Gas).expect("plan").claiming(committed);
    let (forged, instance) = honest(&forged, &other, 1);
    let outcome = adversary::run(&forged, instance, &[]).expect("synthesis");
    // Exactly the two ends of one copy: the digest (state element 0, `lane[0]`, on the last
    // permutation's output row) and the key's constant (`weight[0]`, on the last row).
    let last = forged.shape().rows - 1;
    let expected = std::collections::BTreeSet::from([
        Failure::new("permutation Column('Advice', 0)", last - 3),
        Failure::new("permutation Column('Fixed', 0)", last),
    ]);
    assert_eq!(outcome.failures, expected);
}

/// A weight cell overwritten in place breaks its dot row and its copy into the hash.
#[test]
fn a_tampered_weight_cell_fails_the_dot_gate_and_the_hash_copy() {
    let model = default_model();
    let circuit = PolicyCircuit::private(model.clone(), salt(), Objective::Gas).expect("plan");
    let (circuit, instance) = honest(&circuit, &model, 2);
    let cols = adversary::columns(&circuit);
    let first_dot = circuit.placement().layers[0][0].bias + 1;
    let cell = CellRef { column: cols.secret[0].index(), row: first_dot };
    let outcome = adversary::run(&circuit, instance, &[(cell, Fr::ONE + Fr::ONE)]).expect("synthesis");
    let checks: Vec<&str> = outcome.failures.iter().map(|f| f.check.as_str()).collect();
    assert!(outcome.failures.contains(&Failure::new("dot", first_dot)), "{checks:?}");
    assert!(checks.iter().any(|c| c.starts_with("permutation Column('Advice'")), "{checks:?}");
}

/// A model of `inputs` KPIs whose layers are `layers` (weights row by row, bias, shift, activation).
fn model_of(inputs: usize, layers: serde_json::Value) -> Model {
    let input = |i: usize| serde_json::json!({"name": format!("k{i}"), "unit": "", "min": -1.0, "max": 1.0, "scale_bits": 6});
    let outputs: Vec<_> = (0..layers.as_array().and_then(|l| l.last()).map_or(0, |l| l["bias"].as_array().map_or(0, Vec::len)))
        .map(|j| serde_json::json!({"name": format!("y{j}"), "unit": "bps", "min": -100, "max": 100}))
        .collect();
    let file = serde_json::json!({
        "format": "zkpolicy-model", "version": 1, "name": "shape", "weight_bits": 8, "bias_bits": 8,
        "inputs": (0..inputs).map(input).collect::<Vec<_>>(), "outputs": outputs, "layers": layers,
    });
    Model::from_json(&file.to_string()).expect("valid")
}

/// Finding 11 of issue 27: the commitment hashed only the flat weight list (its length in the
/// IV), so two architectures with one flat list shared a digest. The IV now binds the shape.
#[test]
fn architectures_sharing_a_flat_weight_list_commit_differently() {
    use serde_json::json;
    // [2, 2, 1] and [8, 1]: both flatten to the nine values 1..=9.
    let deep = model_of(
        2,
        json!([
            {"weights": [[1, 2], [4, 5]], "bias": [3, 6], "shift": 2, "activation": "relu"},
            {"weights": [[7, 8]], "bias": [9], "shift": 2, "activation": "none"},
        ]),
    );
    let wide = model_of(8, json!([{"weights": [[1, 2, 3, 4, 5, 6, 7, 8]], "bias": [9], "shift": 2, "activation": "none"}]));
    assert_eq!(private::message(&deep, &salt()), private::message(&wide, &salt()), "the same flat message");
    assert_ne!(private::commitment(&deep, &salt()), private::commitment(&wide, &salt()));
    // One shape, one flat list, another activation or shift: another commitment too.
    let tanh = model_of(
        2,
        json!([
            {"weights": [[1, 2], [4, 5]], "bias": [3, 6], "shift": 2, "activation": {"tanh": {"scale_bits": 6}}},
            {"weights": [[7, 8]], "bias": [9], "shift": 2, "activation": "none"},
        ]),
    );
    let shifted = model_of(
        2,
        json!([
            {"weights": [[1, 2], [4, 5]], "bias": [3, 6], "shift": 3, "activation": "relu"},
            {"weights": [[7, 8]], "bias": [9], "shift": 2, "activation": "none"},
        ]),
    );
    let all = [&deep, &wide, &tanh, &shifted].map(|m| private::commitment(m, &salt()));
    assert_eq!(all.iter().collect::<std::collections::BTreeSet<_>>().len(), 4, "{all:?}");
    // The circuit hashes what the native commitment says, for each.
    for model in [deep, tanh] {
        let model = Arc::new(model);
        let circuit = PolicyCircuit::private(model.clone(), salt(), Objective::Gas).expect("plan");
        let (circuit, instance) = honest(&circuit, &model, 4);
        let outcome = adversary::run(&circuit, instance, &[]).expect("synthesis");
        assert!(outcome.accepted(), "{:?}", outcome.failures);
    }
}
