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
