use super::*;
use crate::synth;

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
        outputs: vec![OutputSpec { name: "y".into(), unit: "bps".into(), min: -200, max: 200, description: String::new() }],
    };
    let grid: Vec<Vec<f64>> = (0..=256).map(|k| vec![k as f64 / 256.0]).collect();
    let quantized = quantize(&policy, &io, &grid, &QuantizeOptions::new("line")).expect("quantizes");
    // The widest shift at which 100·2^(shift−8) fits 10-bit weights: 10, weight 400.
    assert_eq!((quantized.file.layers[0].shift, quantized.file.layers[0].weights[0][0]), (10, 400));
    assert!(quantized.report.outputs[0].max_abs_error <= 0.5, "{:?}", quantized.report.outputs);
}
