//! Quantization: within its derived error budget, deterministic, deep and sparse policies, no overflow, no wrapped output.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkpolicy_lab::float::{FloatLayer, FloatPolicy};
use zkpolicy_lab::onnx;
use zkpolicy_lab::quantize::{self, InputScale, IoSpec, OutputError, QuantReport, QuantizeOptions, Quantized};
use zkpolicy_lab::LabError;
use zkpolicy_model::{infer, Activation, Model, QuantizedKpis};

use super::{calibration, default_io, fixture, random_kpis};

fn quantize_fixture(scale: InputScale) -> (FloatPolicy, IoSpec, Quantized) {
    let imported = onnx::load_onnx(fixture("policy-8-16-4.onnx")).expect("imports");
    let io = default_io();
    imported.check_output_bounds(&io.outputs).expect("Clip contains the bounds");
    let options = QuantizeOptions { input_scale: scale, ..QuantizeOptions::new("policy-8-16-4") };
    let quantized = quantize::quantize(&imported.policy, &io, &calibration(&io), &options).expect("quantizes");
    (imported.policy, io, quantized)
}

/// A worst-case error bound for a two-layer policy at the scales in `report`,
/// derived from the integer semantics (relu and clamp are 1-Lipschitz, so errors
/// add up through them). In real units, for hidden neuron `j`:
///
/// ```text
/// δh_j = Σ_i |W1_ji|·2^-(s_i+1)          KPI rounding
///      + Σ_i 2^-(e_j−s_i+1)·max|x_i|     weight rounding (|ΔW| <= half a quantum)
///      + 2^-(e_j+1) + 2^-(u_j+1)          bias rounding, requantization (rounds to nearest)
/// ```
///
/// and for output `k`, with the output layer at exponent `e`:
/// `Σ_j |W2_kj|·δh_j + Σ_j 2^-(e−u_j+1)·(H + δh_j) + 2^-(e+1) + 1/2`,
/// where `H` bounds every hidden activation (the report's interval bound).
fn error_budget(policy: &FloatPolicy, io: &IoSpec, report: &QuantReport) -> Vec<f64> {
    let [l1, l2] = &policy.layers[..] else { panic!("two layers") };
    let [r1, r2] = &report.layers[..] else { panic!("two layers") };
    let half = |e: i32| 2f64.powi(-e - 1);
    let s: Vec<i32> = report.input_scale_bits.iter().map(|&b| b as i32).collect();
    let x_max: Vec<f64> = io.inputs.iter().map(|i| i.min.abs().max(i.max.abs())).collect();
    let dh: Vec<f64> = l1
        .weights
        .iter()
        .enumerate()
        .map(|(j, row)| {
            let (e, u) = (r1.accumulator_scale_bits[j], r1.activation_scale_bits[j]);
            let kpi: f64 = row.iter().zip(&s).map(|(w, &s)| w.abs() * half(s)).sum();
            let weights: f64 = s.iter().zip(&x_max).map(|(&s, x)| half(e - s) * x).sum();
            kpi + weights + half(e) + half(u)
        })
        .collect();
    let e = r2.accumulator_scale_bits[0];
    l2.weights
        .iter()
        .map(|row| {
            let propagated: f64 = row.iter().zip(&dh).map(|(w, d)| w.abs() * d).sum();
            let weights: f64 = r1.activation_scale_bits.iter().zip(&dh).map(|(&u, d)| half(e - u) * (r1.interval_max_abs + d)).sum();
            propagated + weights + half(e) + 0.5
        })
        .collect()
}

/// Checks calibration and fresh in-range errors against the derived budget.
fn assert_within_budget(policy: &FloatPolicy, io: &IoSpec, quantized: &Quantized, seed: u64) -> Vec<OutputError> {
    let model = Model::from_file(quantized.file.clone()).expect("the quantized file validates");
    let budget = error_budget(policy, io, &quantized.report);
    let fresh = quantize::measure_error(&model, policy, &random_kpis(io, 2000, seed)).expect("measures");
    for ((calibrated, fresh), budget) in quantized.report.outputs.iter().zip(&fresh).zip(&budget) {
        assert!(calibrated.max_abs_error <= *budget, "{calibrated:?} over budget {budget}");
        assert!(fresh.max_abs_error <= *budget, "{fresh:?} over budget {budget}");
        assert!(calibrated.mean_abs_error <= calibrated.max_abs_error);
    }
    println!("budget {budget:.2?}\nreport {}", serde_json::to_string(&quantized.report).expect("serializes"));
    fresh
}

#[test]
fn quantized_fixture_validates_and_stays_within_its_error_budget() {
    let (policy, io, quantized) = quantize_fixture(InputScale::Declared);
    let report = &quantized.report;
    assert_eq!(report.calibration_rows, 256);
    assert_eq!(report.input_scale_bits, io.inputs.iter().map(|i| i.scale_bits).collect::<Vec<_>>());
    assert_eq!(report.layers[1].activation_scale_bits, vec![0; 4]);
    let fresh = assert_within_budget(&policy, &io, &quantized, 7);
    // What the budget means in practice: within 2 bps everywhere, a third of a bps on average.
    for e in report.outputs.iter().chain(&fresh) {
        assert!(e.max_abs_error < 2.0 && e.mean_abs_error < 0.35, "{e:?}");
    }
}

#[test]
fn automatic_input_scales_are_finer_and_stay_within_budget() {
    let (policy, io, declared) = quantize_fixture(InputScale::Declared);
    let (_, _, auto) = quantize_fixture(InputScale::Auto);
    for (a, d) in auto.report.input_scale_bits.iter().zip(&declared.report.input_scale_bits) {
        assert!(a > d, "auto scale {a} should beat declared {d}");
    }
    let budget = error_budget(&policy, &io, &auto.report);
    for (a, d) in budget.iter().zip(error_budget(&policy, &io, &declared.report)) {
        assert!(*a < d, "finer KPIs must tighten the budget: {a} vs {d}");
    }
    assert_within_budget(&policy, &io, &auto, 11);
}

#[test]
fn quantization_is_deterministic() {
    let (_, _, a) = quantize_fixture(InputScale::Declared);
    let (_, _, b) = quantize_fixture(InputScale::Declared);
    assert_eq!(a.file, b.file);
}

#[test]
fn a_deeper_policy_quantizes_within_a_few_output_units() {
    // 8 → 16 → 16 → 4: the first hidden layer feeds a hidden layer, not the output.
    let io = default_io();
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    let span: Vec<f64> = io.inputs.iter().map(|i| i.max - i.min).collect();
    let mut dense = |n_out: usize, n_in: usize, scale: &dyn Fn(usize) -> f64, activation| FloatLayer {
        weights: (0..n_out).map(|_| (0..n_in).map(|i| rng.gen_range(-1.0..1.0) * scale(i)).collect()).collect(),
        bias: (0..n_out).map(|_| rng.gen_range(-0.5..0.5)).collect(),
        activation,
    };
    let policy = FloatPolicy {
        layers: vec![
            dense(16, 8, &|i| 1.0 / span[i], Activation::Relu),
            dense(16, 16, &|_| 0.5, Activation::Relu),
            dense(4, 16, &|_| 15.0, Activation::None),
        ],
    };
    let quantized = quantize::quantize(&policy, &io, &random_kpis(&io, 256, 22), &QuantizeOptions::new("deep")).expect("quantizes");
    let model = Model::from_file(quantized.file.clone()).expect("validates");
    assert_eq!(model.dims(), vec![8, 16, 16, 4]);
    for e in quantize::measure_error(&model, &policy, &random_kpis(&io, 2000, 23)).expect("measures") {
        assert!(e.max_abs_error < 3.0 && e.rms_error < 0.6, "{e:?}");
    }
    println!("{}", serde_json::to_string(&quantized.report).expect("serializes"));
}

#[test]
fn dead_neurons_zero_columns_and_zero_biases_quantize() {
    let imported = onnx::load_onnx(fixture("policy-8-16-4.onnx")).expect("imports");
    let io = default_io();
    let mut policy = imported.policy.clone();
    policy.layers[0].weights[3] = vec![0.0; 8]; // a neuron that is its bias alone
    policy.layers[0].weights[5] = vec![0.0; 8];
    policy.layers[0].bias[5] = -1.0; // ... and one that is always 0
    policy.layers[1].weights.iter_mut().for_each(|row| row[7] = 0.0); // a neuron nobody reads
    policy.layers[1].bias = vec![0.0; 4];
    let quantized = quantize::quantize(&policy, &io, &calibration(&io), &QuantizeOptions::new("sparse")).expect("quantizes");
    let model = Model::from_file(quantized.file.clone()).expect("validates");
    for e in quantize::measure_error(&model, &policy, &random_kpis(&io, 1000, 9)).expect("measures") {
        assert!(e.max_abs_error < 2.0, "{e:?}");
    }
}

#[test]
fn the_matmul_fixture_quantizes_end_to_end() {
    let imported = onnx::load_onnx(fixture("policy-8-16-4-matmul.onnx")).expect("imports");
    let io = default_io();
    imported.check_output_bounds(&io.outputs).expect("no Clip: nothing to contradict");
    let quantized = quantize::quantize(&imported.policy, &io, &calibration(&io), &QuantizeOptions::new("matmul")).expect("quantizes");
    let model = Model::from_file(quantized.file).expect("validates");
    for e in quantize::measure_error(&model, &imported.policy, &random_kpis(&io, 1000, 13)).expect("measures") {
        assert!(e.max_abs_error < 2.0, "{e:?}");
    }
}

/// An 8 → 16 → 4 policy whose hidden activations reach ~10^7: the hidden scale must go negative.
fn large_policy(io: &IoSpec, seed: u64) -> FloatPolicy {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let span: Vec<f64> = io.inputs.iter().map(|i| i.max - i.min).collect();
    let hidden = FloatLayer {
        weights: (0..16).map(|_| span.iter().map(|s| rng.gen_range(-1e6..1e6) / s).collect()).collect(),
        bias: (0..16).map(|_| rng.gen_range(-1e6..1e6)).collect(),
        activation: Activation::Relu,
    };
    let output = FloatLayer {
        weights: (0..4).map(|_| (0..16).map(|_| rng.gen_range(-1e-5..1e-5)).collect()).collect(),
        bias: (0..4).map(|_| rng.gen_range(-10.0..10.0)).collect(),
        activation: Activation::None,
    };
    FloatPolicy { layers: vec![hidden, output] }
}

/// Every corner of the declared input box, quantized.
fn corners(model: &Model) -> Vec<QuantizedKpis> {
    let ranges = model.input_ranges();
    (0..1u32 << ranges.len())
        .map(|mask| {
            let values = ranges.iter().enumerate().map(|(i, r)| if mask >> i & 1 == 1 { r.hi } else { r.lo }).collect();
            QuantizedKpis::new(model, values).expect("corners are in range")
        })
        .collect()
}

#[test]
fn large_weights_never_overflow() {
    let io = default_io();
    for (seed, weight_bits, bias_bits) in [(1, 10, 24), (2, 6, 12), (3, 16, 40), (4, 3, 6)] {
        let policy = large_policy(&io, seed);
        let options = QuantizeOptions { weight_bits, bias_bits, ..QuantizeOptions::new("large") };
        let quantized = quantize::quantize(&policy, &io, &random_kpis(&io, 64, seed), &options).expect("quantizes");
        let model = Model::from_file(quantized.file.clone()).expect("validates");
        assert!(quantized.report.layers[0].activation_scale_bits.iter().any(|&u| u < 0), "hidden scales must go negative");
        for kpis in corners(&model) {
            let trace = infer(&model, &kpis).expect("a validated model infers on every corner");
            assert_eq!(trace.outputs.len(), 4);
        }
    }
}

#[test]
fn an_output_beyond_the_comparator_window_is_refused_not_wrapped() {
    let io = default_io();
    let mut policy = large_policy(&io, 5);
    // Outputs of ~10^8 bps before the clamp: the circuit's comparator cannot reach the bounds.
    policy.layers[1].weights.iter_mut().flatten().for_each(|w| *w *= 1e5);
    match quantize::quantize(&policy, &io, &random_kpis(&io, 8, 5), &QuantizeOptions::new("huge")) {
        Err(LabError::Quantization { field, .. }) => assert!(field.starts_with("outputs["), "{field}"),
        other => panic!("expected a quantization error, got {other:?}"),
    }
}

#[test]
fn a_policy_that_does_not_fit_the_io_is_refused() {
    let imported = onnx::load_onnx(fixture("policy-8-16-4.onnx")).expect("imports");
    let mut io = default_io();
    let rows = random_kpis(&io, 4, 1);
    let mut nan = imported.policy.clone();
    nan.layers[1].weights[2][5] = f64::NAN;
    match quantize::quantize(&nan, &io, &rows, &QuantizeOptions::new("p")) {
        Err(LabError::InvalidPolicy { field, .. }) => assert_eq!(field, "layers[1].weights[2]"),
        other => panic!("expected a policy error, got {other:?}"),
    }
    io.outputs.pop();
    assert!(matches!(
        quantize::quantize(&imported.policy, &io, &rows, &QuantizeOptions::new("p")),
        Err(LabError::WrongCount { expected: 3, got: 4, .. })
    ));
}
