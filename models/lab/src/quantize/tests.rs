use super::io::{auto_scale_bits, MAX_INPUT_SCALE_BITS};
use super::rounding::{max_exponent, pow2, requantized_interval};
use super::*;
use crate::float::FloatLayer;
use crate::synth;
use zkpolicy_model::format::{Activation, InputSpec, OutputSpec};
use zkpolicy_model::Model;

#[test]
fn max_exponent_is_exact_at_powers_of_two() {
    assert_eq!(max_exponent(1.0, 511.0), 8);
    assert_eq!(max_exponent(1.0, 512.0), 9);
    assert_eq!(max_exponent(3.0, 511.0), 7);
    assert_eq!(max_exponent(1000.0, 1.0), -10);
    assert_eq!(max_exponent(0.0, 1.0), i32::MAX);
    for e in -40..40 {
        let v = pow2(e);
        assert_eq!(max_exponent(v, 511.0), 8 - e, "v = 2^{e}");
        assert!(v * pow2(max_exponent(v * 1.1, 511.0)) * 1.1 <= 511.0);
    }
}

fn kpi(min: f64, max: f64) -> InputSpec {
    InputSpec { name: "k".into(), unit: "u".into(), min, max, scale_bits: 0, description: String::new() }
}

#[test]
fn auto_scale_is_the_finest_span_below_the_window() {
    // Span · 2^s must stay below 2^16.
    assert_eq!(auto_scale_bits(&kpi(0.0, 1.0)).ok(), Some(15));
    assert_eq!(auto_scale_bits(&kpi(0.0, 8.0)).ok(), Some(12));
    assert_eq!(auto_scale_bits(&kpi(-0.2, 0.3)).ok(), Some(16));
    assert_eq!(auto_scale_bits(&kpi(0.0, 1e-9)).ok(), Some(MAX_INPUT_SCALE_BITS));
    assert!(auto_scale_bits(&kpi(0.0, 1e6)).is_err());
    assert!(auto_scale_bits(&kpi(1.0, 1.0)).is_err());
}

/// `requantized_interval` is the twin of the validator's analysis: on every layer of
/// a validated model it must give exactly the validator's `q` bounds.
#[test]
fn requantized_interval_matches_the_validator() {
    for file in [synth::tokenomics_policy(), synth::policy_m().expect("builds")] {
        let model = Model::from_file(file).expect("validates");
        let mut x = model.input_ranges().to_vec();
        for (layer, bounds) in model.file().layers.iter().zip(model.bounds()) {
            for ((row, &b), q) in layer.weights.iter().zip(&layer.bias).zip(&bounds.q) {
                assert_eq!(requantized_interval(row, b, &x, layer.shift), Some(*q));
            }
            x = bounds.out.clone();
        }
    }
}

#[test]
fn a_single_layer_rounds_to_nearest() {
    // y = 100·x on x ∈ [0, 1] at 8 bits: the exact value is 100·k/256, so rounding
    // to nearest leaves at most 1/2 (the circuit's floor alone would leave up to 1).
    let policy = FloatPolicy { layers: vec![FloatLayer { weights: vec![vec![100.0]], bias: vec![0.0], activation: Activation::None }] };
    let io = IoSpec {
        inputs: vec![InputSpec { scale_bits: 8, ..kpi(0.0, 1.0) }],
        parameters: vec![],
        outputs: vec![OutputSpec::integer("y", "bps", -200, 200)],
    };
    let grid: Vec<Vec<f64>> = (0..=256).map(|k| vec![k as f64 / 256.0]).collect();
    let quantized = quantize(&policy, &io, &grid, &QuantizeOptions::new("line")).expect("quantizes");
    // The widest shift at which 100·2^(shift−8) fits 10-bit weights: 10, weight 400.
    assert_eq!((quantized.file.layers[0].shift, quantized.file.layers[0].weights[0][0]), (10, 400));
    assert!(quantized.report.outputs[0].max_abs_error <= 0.5, "{:?}", quantized.report.outputs);
}

/// A parameter input enters the integer model as the controller's integer itself: the
/// float policy sees `p / 2^scale_bits`, and the quantized model's output on integer `p`
/// is the float policy's on that real value, within rounding.
#[test]
fn a_parameter_input_is_read_as_the_controllers_integer() {
    use zkpolicy_model::{infer, Model, Observation, ParameterSpec, QuantizedKpis};
    // y = 10·x − 50·p_real, with p_real = p / 1024 (p in bps).
    let layer = FloatLayer { weights: vec![vec![10.0, -50.0]], bias: vec![0.0], activation: Activation::None };
    let policy = FloatPolicy { layers: vec![layer] };
    let parameter =
        ParameterSpec { name: "fee_bps".into(), unit: "bps".into(), min: 0, max: 300, scale_bits: 10, description: String::new() };
    let io = IoSpec {
        inputs: vec![InputSpec { scale_bits: 8, ..kpi(0.0, 1.0) }],
        parameters: vec![parameter.clone()],
        outputs: vec![OutputSpec::integer("fee_delta", "bps", -20, 20)],
    };
    let grid: Vec<Vec<f64>> = (0..=16).flat_map(|k| (0..=300).step_by(25).map(move |p| vec![k as f64 / 16.0, parameter_real(p)])).collect();
    let quantized = quantize(&policy, &io, &grid, &QuantizeOptions::new("with-parameter")).expect("quantizes");
    let model = Model::from_file(quantized.file).expect("valid");
    assert_eq!(model.card().parameter_ranges()[0].lo, 0);
    assert_eq!(model.card().parameter_ranges()[0].hi, 300);
    for p in [0, 150, 300] {
        let kpis = QuantizedKpis::new(&model, vec![128]).expect("in range");
        let y = infer(&model, Observation::new(&model, kpis, vec![p]).expect("in range")).expect("infers").outputs[0];
        let want = 10.0 * 0.5 - 50.0 * parameter_real(p);
        assert!((y as f64 - want).abs() <= 1.0, "p = {p}: {y} vs {want}");
    }
    // The integer model refuses a parameter outside its declared range, and a missing one.
    let kpis = QuantizedKpis::new(&model, vec![128]).expect("in range");
    assert!(Observation::new(&model, kpis.clone(), vec![301]).is_err());
    assert!(infer(&model, &kpis).is_err());
}

fn parameter_real(p: i64) -> f64 {
    p as f64 / 1024.0
}

/// A calibration line for a model that reads the parameters names them beside the KPIs;
/// an unknown, missing or non-numeric name is refused with its line.
#[test]
fn calibration_lines_carry_parameters_by_name() {
    use std::path::Path;
    let names = ["staking_ratio", "fee_bps"];
    let text = "{\"kpis\": {\"staking_ratio\": 0.5}, \"parameters\": {\"fee_bps\": 30}}\n\n{\"kpis\": {\"staking_ratio\": 0.25}, \"parameters\": {\"fee_bps\": 0}}\n";
    let rows = parse_calibration_jsonl(text, Path::new("c.jsonl"), &names).expect("parses");
    assert_eq!(rows, vec![vec![0.5, 30.0], vec![0.25, 0.0]]);
    let missing = parse_calibration_jsonl("{\"kpis\": {\"staking_ratio\": 0.5}}", Path::new("c.jsonl"), &names);
    assert!(matches!(missing, Err(LabError::CalibrationKpi { kpi, line: 1, .. }) if kpi == "fee_bps"));
    let extra = "{\"kpis\": {\"staking_ratio\": 0.5}, \"parameters\": {\"fee_bps\": 1, \"tax_bps\": 2}}";
    assert!(
        matches!(parse_calibration_jsonl(extra, Path::new("c.jsonl"), &names), Err(LabError::CalibrationKpi { kpi, .. }) if kpi == "tax_bps")
    );
    let text_value = "{\"kpis\": {\"staking_ratio\": 0.5}, \"parameters\": {\"fee_bps\": \"30\"}}";
    assert!(parse_calibration_jsonl(text_value, Path::new("c.jsonl"), &names).is_err());
}
