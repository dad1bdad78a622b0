//! Free cells in every weight mode and lane count: the free-cell audit
//! ([`zkpolicy_circuits::audit`]) finds no forgery vector, and the one that existed (a private
//! weight times an unused lane on a neuron's last dot row) is reproduced and now refused.

use std::collections::BTreeSet;
use std::sync::Arc;

use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_circuits::adversary::{self, CellRef, Failure};
use zkpolicy_circuits::audit::audit_free_cells;
use zkpolicy_circuits::chips::requantize::RequantizeWitness;
use zkpolicy_circuits::chips::table::LOOKUP_NAME;
use zkpolicy_circuits::field::{fr, to_i64};
use zkpolicy_circuits::witness::WitnessSource;
use zkpolicy_circuits::{PolicyCircuit, PublicInputs, Salt, WeightMode};
use zkpolicy_model::{infer, Activation, Model, Observation};

/// The weight modes and lane counts the suite audits; `benches/audit.sh` runs every mode at
/// 1, 2, 4 and 16 lanes (private at 16 lanes alone takes about 14 s here), and the bundled models.
const SHAPES: [(WeightMode, usize); 7] = [
    (WeightMode::Fixed, 1),
    (WeightMode::Fixed, 2),
    (WeightMode::Fixed, 4),
    (WeightMode::Fixed, 16),
    (WeightMode::Private, 1),
    (WeightMode::Private, 2),
    (WeightMode::Private, 4),
];

/// `models/fixtures/padded-lanes.json`: three inputs per neuron, not a multiple of 2, 4 or 16,
/// so every lane count above leaves unused lanes on every last dot row; its hidden layer's
/// activation replaced by `hidden`.
fn model(hidden: Activation) -> Arc<Model> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/fixtures/padded-lanes.json");
    let mut file = Model::load(path).expect("the fixture loads").file().clone();
    file.layers[0].activation = hidden;
    Arc::new(Model::from_file(file).expect("valid"))
}

fn relu_model() -> Arc<Model> {
    model(Activation::Relu)
}

fn salt() -> Salt {
    Salt::random(ChaCha20Rng::seed_from_u64(27))
}

fn circuit(model: &Arc<Model>, mode: WeightMode, lanes: usize) -> PolicyCircuit {
    let circuit = match mode {
        WeightMode::Fixed => PolicyCircuit::with_lanes(model.clone(), lanes),
        WeightMode::Private => PolicyCircuit::private_with_lanes(model.clone(), salt(), lanes),
    };
    let input = Observation::random(model, &mut ChaCha20Rng::seed_from_u64(lanes as u64));
    circuit.expect("fits").with_input(input)
}

#[test]
fn no_free_cell_is_a_forgery_in_any_weight_mode_or_lane_count() {
    let model = relu_model();
    for (mode, lanes) in SHAPES {
        let circuit = circuit(&model, mode, lanes);
        assert_eq!(circuit.shape().lanes, lanes);
        let audit = audit_free_cells(&circuit, 4, lanes as u64).expect("audit");
        let what = format!("{mode:?}, {lanes} lanes: {audit}");
        assert!(audit.forgeries.is_empty(), "{what}: {:?}", audit.forgeries);
        assert!(audit.unnamed.is_empty(), "{what}: caught by unnamed checks {:?}", audit.unnamed);
        // Most cells are caught alone, and the copies and the dot gate are among the catchers.
        assert!(audit.free.len() < audit.cells, "{what}");
        assert!(audit.caught_by.contains_key("permutation") && audit.caught_by.contains_key("dot"), "{what}");
        if mode == WeightMode::Private && lanes > 1 {
            // The unused lanes of last dot rows are copies of a fixed zero now.
            let cols = adversary::columns(&circuit);
            for neuron in circuit.placement().layers.iter().flatten() {
                let last_dot = neuron.bias + neuron.dots;
                let unused = lanes * neuron.dots - inputs_of(&circuit, neuron.bias);
                for c in lanes - unused..lanes {
                    let cell = CellRef { column: cols.lanes[c].index(), row: last_dot };
                    assert!(!audit.free.contains(&cell), "{what}: lane {c} of row {last_dot} is free");
                }
            }
        }
    }
}

/// The input count of the neuron whose bias row is `bias`.
fn inputs_of(circuit: &PolicyCircuit, bias: usize) -> usize {
    let dims = circuit.model().dims();
    let placement = circuit.placement();
    let layer = placement.layers.iter().position(|l| l.iter().any(|n| n.bias == bias)).expect("a neuron");
    dims[layer]
}

/// Lies at one neuron's requantization: its quotient `q + delta`, the remainder honest, so the
/// requantize gate holds only if `z` grew by `delta · 2^shift`.
#[derive(Debug)]
struct ShiftedQuotient {
    at: (usize, usize),
    delta: i64,
}

impl WitnessSource for ShiftedQuotient {
    fn requantize(&self, layer: usize, neuron: usize, z: i64, shift: u32) -> Option<RequantizeWitness> {
        let honest = RequantizeWitness::honest(z, shift)?;
        Some(if (layer, neuron) == self.at { RequantizeWitness { q: honest.q + self.delta, ..honest } } else { honest })
    }
}

/// Finding 1 of issue 27, as the attacker builds it: private weights at two lanes, output
/// neuron 0 (three inputs, so lane 1 of its last dot row is unused). The attacker sets that
/// lane's secret weight to 1 and the lane to `2^shift`, so `z` grows by `2^shift`, the quotient
/// by one, and the output by one, with every gate satisfied. Only the copy that pins an unused
/// lane to zero (at that lane's row) refuses it.
#[test]
fn a_private_weight_times_an_unused_lane_cannot_move_an_output() {
    let model = relu_model();
    let circuit = circuit(&model, WeightMode::Private, 2);
    let input = circuit.input().expect("input").clone();
    let reference = infer(&model, &input).expect("reference").outputs;
    let shift = model.file().layers[1].shift;
    let neuron = &circuit.placement().layers[1][0];
    let last_dot = neuron.bias + neuron.dots;
    let cols = adversary::columns(&circuit);
    let honest_instance = PublicInputs::honest(&model, 4, input.clone()).expect("reference").to_instance();
    let honest = adversary::run(&circuit, honest_instance.clone(), &[]).expect("synthesis");
    assert!(honest.accepted(), "{:?}", honest.failures);
    // Move the quotient to 0 (1 if it is 0), inside the output bounds whatever the clamp did.
    let q = to_i64(&honest.witness[&CellRef { column: cols.acc.index(), row: neuron.requantize }]).expect("small");
    let delta = if q == 0 { 1 } else { -q };
    let lying = circuit.with_witness_source(Arc::new(ShiftedQuotient { at: (1, 0), delta }));
    let z = honest.witness[&CellRef { column: cols.acc.index(), row: last_dot }];
    let overwrites = [
        (CellRef { column: cols.secret[1].index(), row: last_dot }, fr(1)),
        (CellRef { column: cols.lanes[1].index(), row: last_dot }, fr(delta << shift)),
        (CellRef { column: cols.acc.index(), row: last_dot }, z + fr(delta << shift)),
    ];
    // The claim is the tampered witness's own: the KPIs, and the outputs it computed.
    let first = adversary::run(&lying, honest_instance, &overwrites).expect("synthesis");
    let outputs: Vec<i64> = circuit
        .placement()
        .layers
        .last()
        .expect("layers")
        .iter()
        .map(|n| to_i64(&first.witness[&CellRef { column: cols.acc.index(), row: n.output() }]).expect("small"))
        .collect();
    assert_eq!(outputs[0], q + delta, "the lie moved the output");
    assert_ne!(outputs[0], reference[0]);
    let claim = PublicInputs { outputs, ..PublicInputs::honest(&model, 4, input).expect("ok") };
    let outcome = adversary::run(&lying, claim.to_instance(), &overwrites).expect("synthesis");
    // Both ends of the one copy that pins the lane: the lane, and the fixed zero beside it.
    assert_eq!(
        outcome.failures,
        BTreeSet::from([
            Failure::new(format!("permutation Column('Advice', {})", cols.lanes[1].index()), last_dot),
            Failure::new("permutation Column('Fixed', 0)", last_dot),
        ]),
        "only the zero copy of the unused lane may refuse the forgery"
    );
}

#[test]
fn table_activations_leave_no_forgery_either() {
    let model = model(Activation::Tanh { scale_bits: 7 });
    for (mode, lanes) in [(WeightMode::Fixed, 4), (WeightMode::Private, 2)] {
        let audit = audit_free_cells(&circuit(&model, mode, lanes), 4, 9).expect("audit");
        assert!(audit.forgeries.is_empty(), "{mode:?}, {lanes} lanes: {audit}: {:?}", audit.forgeries);
        assert!(audit.caught_by.contains_key(LOOKUP_NAME), "{mode:?}: {audit}: {:?}", audit.caught_by);
    }
}

/// Leaky ReLU's weight cells, advice in private mode and outside the hash, are pinned to
/// fixed constants (issue 28): none of them is free, at one lane or at four.
#[test]
fn leaky_relu_leaves_no_forgery_with_private_weights() {
    let model = model(Activation::LeakyRelu { slope: 655 });
    for lanes in [1, 4] {
        let circuit = circuit(&model, WeightMode::Private, lanes);
        let audit = audit_free_cells(&circuit, 4, 11).expect("audit");
        assert!(audit.forgeries.is_empty(), "{lanes} lanes: {audit}: {:?}", audit.forgeries);
        assert!(audit.unnamed.is_empty(), "{lanes} lanes: {audit}: {:?}", audit.unnamed);
        let cols = adversary::columns(&circuit);
        for neuron in &circuit.placement().layers[0] {
            let leaky = neuron.leaky.expect("leaky rows");
            for row in leaky.bias..=leaky.bias + leaky.dots {
                let cell = CellRef { column: cols.secret[0].index(), row };
                assert!(!audit.free.contains(&cell), "{lanes} lanes: the leaky weight at row {row} is free");
            }
        }
    }
}

/// The random tamper campaign reaches the secret columns and the hash's rows of a private circuit.
#[test]
fn random_malicious_private_witnesses_never_forge_an_output() {
    let circuit = circuit(&relu_model(), WeightMode::Private, 2);
    let report = adversary::campaign(&circuit, 4, 60, 27).expect("campaign");
    assert_eq!(report.tried, 60);
    assert!(report.forged.is_empty(), "{report}: {:?}", report.forged);
}
