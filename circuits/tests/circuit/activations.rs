//! Leaky ReLU, tanh and sigmoid layers and fixed-point outputs, against the integer
//! reference under MockProver, and a malicious witness at each value they introduce.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::json;
use zkpolicy_circuits::adversary::{self, CellRef};
use zkpolicy_circuits::chips::compare::{CompareMode, CompareWitness};
use zkpolicy_circuits::chips::requantize::RequantizeWitness;
use zkpolicy_circuits::chips::table::LOOKUP_NAME;
use zkpolicy_circuits::field::Fr;
use zkpolicy_circuits::witness::{CompareSite, WitnessSource};
use zkpolicy_circuits::{PolicyCircuit, PublicInputs, Salt};
use zkpolicy_model::arith::Table;
use zkpolicy_model::{infer, Model, Observation};

use zkpolicy_circuits::chips::range::CHAIN_STEP as RANGE;

/// Two KPIs; a leaky ReLU layer (slope 0.01), a tanh and a sigmoid layer at 8 bits, and
/// a tanh head at 10 bits whose two outputs are fixed-point actions in [−1, 1].
fn model() -> Arc<Model> {
    let mut rng = ChaCha20Rng::seed_from_u64(18);
    let mut layer = |rows: usize, cols: usize, spread: i64, shift: u32, activation: serde_json::Value| {
        let weights: Vec<Vec<i64>> = (0..rows).map(|_| (0..cols).map(|_| rng.gen_range(-spread..=spread)).collect()).collect();
        let bias: Vec<i64> = (0..rows).map(|_| rng.gen_range(-spread * 64..=spread * 64)).collect();
        json!({"weights": weights, "bias": bias, "shift": shift, "activation": activation})
    };
    let layers = vec![
        layer(4, 2, 100, 5, json!({"leaky_relu": {"slope": 655}})),
        layer(4, 4, 120, 6, json!({"tanh": {"scale_bits": 8}})),
        layer(3, 4, 200, 7, json!({"sigmoid": {"scale_bits": 8}})),
        layer(2, 3, 300, 6, json!({"tanh": {"scale_bits": 10}})),
    ];
    let output = |name: &str| json!({"name": name, "unit": "action", "min": -1024, "max": 1024, "scale_bits": 10, "step": 50});
    let file = json!({
        "format": "zkpolicy-model", "version": 1, "name": "activations", "weight_bits": 10, "bias_bits": 24,
        "inputs": [
            {"name": "a", "unit": "", "min": -1.0, "max": 1.0, "scale_bits": 8},
            {"name": "b", "unit": "", "min": 0.0, "max": 2.0, "scale_bits": 8},
        ],
        "outputs": [output("emission"), output("fee")],
        "layers": layers,
    });
    Arc::new(Model::from_json(&file.to_string()).expect("valid"))
}

/// The names of the checks that reject `circuit`'s witness against `instance` (empty: accepted).
fn failures(circuit: &PolicyCircuit, instance: Vec<Fr>) -> Vec<String> {
    let outcome = adversary::run(circuit, instance, &[]).expect("synthesis");
    let names: std::collections::BTreeSet<String> = outcome.failures.into_iter().map(|f| f.check).collect();
    names.into_iter().collect()
}

fn inputs(model: &Model, n: usize) -> Vec<Observation> {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let ranges = model.network_ranges();
    let corners = [ranges.iter().map(|r| r.lo).collect::<Vec<_>>(), ranges.iter().map(|r| r.hi).collect()];
    corners
        .into_iter()
        .map(|v| {
            Observation::new(model.card(), zkpolicy_model::QuantizedKpis::new(model.card(), v).expect("in range"), vec![]).expect("ok")
        })
        .chain((0..n).map(|_| Observation::random(model, &mut rng)))
        .collect()
}

#[test]
fn every_activation_matches_the_reference_and_reaches_its_saturation() {
    let model = model();
    let circuit = PolicyCircuit::new(model.clone()).expect("plan");
    assert!(circuit.shape().lookups == 1, "the activation lookup (range checks are chains)");
    let mut saturated = [false; 2];
    let mut distinct = std::collections::BTreeSet::new();
    for input in inputs(&model, 40) {
        let public = PublicInputs::honest(&model, 3, &input).expect("reference");
        assert_eq!(failures(&circuit.with_input(input.clone()), public.to_instance()), Vec::<String>::new(), "{:?}", input.values());
        let trace = infer(&model, &input).expect("reference");
        // The tanh layer's inputs reach past its window on both sides somewhere.
        let window = Table::new(zkpolicy_model::arith::TableFn::Tanh, 8);
        saturated[0] |= trace.layers[1].q.iter().any(|&q| q > window.hi);
        saturated[1] |= trace.layers[1].q.iter().any(|&q| q < window.lo);
        distinct.insert(public.outputs);
    }
    assert_eq!(saturated, [true, true], "the clamps before the table are exercised");
    assert!(distinct.len() > 20, "{} distinct outputs", distinct.len());
}

/// Honest everywhere except one value.
#[derive(Debug)]
enum Lie {
    /// Leaky ReLU's quotient moved by `dq` at neuron (0, j), the remainder compensating when `fix_r`.
    Leaky { j: usize, dq: i64, fix_r: bool },
    /// A table output moved by `dy` at neuron `(l, j)`.
    Table { l: usize, j: usize, dy: i64 },
    /// The window clamp's max at `(l, j)` claims the other side with a consistent output.
    WindowFlip { l: usize, j: usize },
}

impl WitnessSource for Lie {
    fn leaky(&self, layer: usize, neuron: usize, z: i64) -> Option<RequantizeWitness> {
        let w = RequantizeWitness::honest(z, 16)?;
        match *self {
            Lie::Leaky { j, dq, fix_r } if (layer, neuron) == (0, j) => {
                Some(RequantizeWitness { q: w.q + dq, r: if fix_r { w.r - dq * 65_536 } else { w.r } })
            }
            _ => Some(w),
        }
    }

    fn table(&self, layer: usize, neuron: usize, table: &Table, x: i64) -> Option<i64> {
        match *self {
            Lie::Table { l, j, dy } if (layer, neuron) == (l, j) => Some(table.exact(x) + dy),
            _ => Some(table.exact(x)),
        }
    }

    fn compare(&self, site: CompareSite, x: i64, th: i64, mode: CompareMode) -> Option<CompareWitness> {
        let honest = CompareWitness::honest(x, th, mode)?;
        match *self {
            Lie::WindowFlip { l, j } if site == CompareSite::WindowMax(l, j) => {
                // Claim the other branch; the gate's t follows, so only the range check can object.
                let ge = !honest.ge;
                let d = x - th;
                let t = if ge { d } else { -d - 1 };
                Some(CompareWitness { ge, t, out: if ge { x } else { th } })
            }
            _ => Some(honest),
        }
    }
}

/// The first random input at which `pick` holds of the reference trace.
fn input_where(model: &Model, pick: impl Fn(&zkpolicy_model::Trace) -> bool) -> Observation {
    inputs(model, 200).into_iter().find(|i| pick(&infer(model, i).expect("reference"))).expect("some input qualifies")
}

/// The checks that reject the lie's witness, claimed with the outputs the lie computes
/// (so the instance copies hold and only the lied-about value can object).
fn reject(lie: Lie, input: &Observation) -> Vec<String> {
    let model = model();
    let circuit = PolicyCircuit::new(model.clone()).expect("plan").with_input(input.clone()).with_witness_source(Arc::new(lie));
    let mut instance = PublicInputs::honest(&model, 3, input).expect("reference").to_instance();
    let first = adversary::run(&circuit, instance.clone(), &[]).expect("synthesis");
    let acc = adversary::columns(&circuit).acc.index();
    let outputs = circuit.placement().layers.last().expect("layers").iter().map(|n| n.output()).collect::<Vec<_>>();
    let m = outputs.len();
    let n = instance.len();
    for (slot, row) in instance[n - m..].iter_mut().zip(outputs) {
        *slot = first.witness.get(&CellRef { column: acc, row }).copied().expect("assigned");
    }
    failures(&circuit, instance)
}

#[test]
fn a_forged_leaky_quotient_is_rejected_by_the_named_check() {
    let model = model();
    let input = input_where(&model, |t| t.layers[0].q[1] < 0);
    // q + 1 with the remainder made to fit the gate: the remainder leaves its 16-bit range.
    assert_eq!(reject(Lie::Leaky { j: 1, dq: 1, fix_r: true }, &input), vec![RANGE.to_string()]);
    assert_eq!(reject(Lie::Leaky { j: 1, dq: -1, fix_r: true }, &input), vec![RANGE.to_string()]);
    // q + 1 alone breaks the requantization gate.
    assert_eq!(
        reject(Lie::Leaky { j: 1, dq: 1, fix_r: false }, &input),
        vec![zkpolicy_circuits::chips::requantize::CONSTRAINT.to_string()]
    );
}

#[test]
fn a_forged_table_output_is_rejected_by_the_activation_lookup() {
    let model = model();
    let input = &inputs(&model, 1)[2];
    for (l, j) in [(1, 0), (2, 2), (3, 1)] {
        for dy in [1, -1] {
            let f = reject(Lie::Table { l, j, dy }, input);
            assert_eq!(f, vec![LOOKUP_NAME.to_string()], "({l}, {j}) {dy:+}");
        }
    }
}

#[test]
fn a_clamp_that_lies_about_the_window_is_rejected() {
    let model = model();
    let table = Table::new(zkpolicy_model::arith::TableFn::Tanh, 8);
    // An input whose q lies inside the window: the lie claims it is below it, so the
    // table would see the window's end instead of q.
    let input = input_where(&model, |t| t.layers[1].q[0] > table.lo + 5 && t.layers[1].q[0] < table.hi);
    assert_eq!(reject(Lie::WindowFlip { l: 1, j: 0 }, &input), vec![RANGE.to_string()]);
}

#[test]
fn fixed_point_outputs_are_the_scaled_integers_and_map_to_rounded_deltas() {
    let model = model();
    let input = &inputs(&model, 3)[3];
    let trace = infer(&model, input).expect("reference");
    for (spec, &y) in model.card().outputs().iter().zip(&trace.outputs) {
        assert!(y.abs() <= 1024, "a tanh head at 10 bits");
        let delta = spec.delta(y).expect("valid spec");
        assert_eq!(delta, (y as f64 * 50.0 / 1024.0 + 0.5).floor() as i64);
    }
    assert_eq!(model.card().deltas(&trace.outputs).expect("two outputs").len(), 2);
}

/// Leaky ReLU with private weights (issue 28): the circuit matches the reference at 1, 2 and 4
/// lanes, and each of a leaky neuron's weight cells (advice there, and unhashed: the slope is
/// architecture) is a copy of its fixed constant, so a tampered one is refused by that copy.
#[test]
fn leaky_relu_with_private_weights_pins_its_weights_to_fixed_constants() {
    let model = model();
    let slope = 655;
    let pinned = zkpolicy_circuits::private::pinned_constants(&model);
    assert_eq!(pinned, vec![0, slope, 65_536 - slope]);
    let salt = Salt::random(ChaCha20Rng::seed_from_u64(1));
    for lanes in [1, 2, 4] {
        let circuit = PolicyCircuit::private_with_lanes(model.clone(), salt, lanes).expect("fits");
        let input = inputs(&model, 1).remove(2);
        let instance = PublicInputs::honest(&model, 3, &input).expect("reference").to_instance();
        let circuit = circuit.with_input(input);
        assert_eq!(failures(&circuit, instance.clone()), Vec::<String>::new(), "{lanes} lanes: honest");
        let cols = adversary::columns(&circuit);
        let placement = circuit.placement();
        let leaky = placement.layers[0][1].leaky.expect("a leaky neuron");
        // (cell, the constant it copies): the bias, then the weights on (max(q, 0), q).
        let cells = if lanes == 1 {
            [(0, leaky.bias, 0), (0, leaky.bias + 1, 65_536 - slope), (0, leaky.bias + 2, slope)]
        } else {
            [(0, leaky.bias, 0), (0, leaky.bias + 1, 65_536 - slope), (1, leaky.bias + 1, slope)]
        };
        for (c, row, constant) in cells {
            assert!(pinned.contains(&constant));
            let cell = CellRef { column: cols.secret[c].index(), row };
            let outcome = adversary::run(&circuit, instance.clone(), &[(cell, Fr::from(7))]).expect("synthesis");
            let copy = adversary::Failure::new(format!("permutation Column('Advice', {})", cell.column), row);
            assert!(outcome.failures.contains(&copy), "{lanes} lanes, secret[{c}] row {row}: {:?}", outcome.failures);
        }
    }
}

/// The forgery the pins stop: the whole policy witness of another slope (every gate holds on
/// it) under this model's key, its hash rows honest (the weights are the same). Only the
/// copies to the fixed constants refuse it; without them any slope's outputs were provable.
#[test]
fn a_witness_for_another_slope_is_refused_only_by_the_pinned_constants() {
    let model = model();
    let mut file = model.file().clone();
    file.layers[0].activation = zkpolicy_model::Activation::LeakyRelu { slope: 30_000 };
    let other = Arc::new(Model::from_file(file).expect("valid"));
    let salt = Salt::random(ChaCha20Rng::seed_from_u64(2));
    for lanes in [1, 2] {
        let circuit = PolicyCircuit::private_with_lanes(model.clone(), salt, lanes).expect("fits");
        let forged = PolicyCircuit::private_with_lanes(other.clone(), salt, lanes).expect("fits");
        assert_eq!(circuit.shape(), forged.shape());
        // An input whose outputs the slope moves.
        let input = inputs(&model, 20)
            .into_iter()
            .find(|i| infer(&model, i).expect("reference").outputs != infer(&other, i).expect("reference").outputs)
            .expect("some input reaches a negative pre-activation");
        let claim = PublicInputs::honest(&other, 3, &input).expect("reference").to_instance();
        let witness = adversary::run(&forged.with_input(input.clone()), claim.clone(), &[]).expect("synthesis");
        assert!(witness.accepted(), "the other model's own circuit accepts it");
        let policy_rows = circuit.placement().rows;
        let overwrites: Vec<(CellRef, Fr)> = witness.witness.into_iter().filter(|(cell, _)| cell.row < policy_rows).collect();
        let outcome = adversary::run(&circuit.with_input(input), claim, &overwrites).expect("synthesis");
        assert!(!outcome.accepted(), "{lanes} lanes: another slope's outputs were proven");
        assert!(outcome.failures.iter().all(|f| f.check.starts_with("permutation")), "{lanes} lanes: {:?}", outcome.failures);
    }
}
