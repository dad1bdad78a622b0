//! The bundled ONNX fixtures import and match ONNX's reference evaluator; a Clip must contain every declared output range.

use serde::Deserialize;
use zkpolicy_lab::float::FloatPolicy;
use zkpolicy_lab::onnx::{self, ClipRange};
use zkpolicy_lab::LabError;
use zkpolicy_model::Activation;

use super::{default_io, fixture};

#[derive(Deserialize)]
struct Expected {
    inputs: Vec<Vec<f64>>,
    outputs: Vec<Vec<f64>>,
}

fn expected(name: &str) -> Expected {
    let text = std::fs::read_to_string(fixture(name)).expect("expected-output fixture");
    serde_json::from_str(&text).expect("expected-output JSON")
}

/// Rust's f64 forward against the evaluator's float32 arithmetic: relative 1e-5.
fn assert_matches_evaluator(policy: &FloatPolicy, clip: (f64, f64), expected: &Expected) {
    assert_eq!(expected.inputs.len(), expected.outputs.len());
    for (x, want) in expected.inputs.iter().zip(&expected.outputs) {
        let got = policy.forward(x, &vec![clip; want.len()]);
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "input {x:?}: rust {got:?} vs onnx {want:?}");
        }
    }
}

#[test]
fn gemm_clip_fixture_matches_the_onnx_reference_evaluator() {
    let imported = onnx::load_onnx(fixture("policy-8-16-4.onnx")).expect("imports");
    assert_eq!(imported.policy.dims(), vec![8, 16, 4]);
    assert_eq!((imported.input_name.as_str(), imported.output_name.as_str()), ("kpis", "adjustments"));
    assert_eq!(imported.clip, Some(ClipRange { min: -100.0, max: 100.0 }));
    let activations: Vec<Activation> = imported.policy.layers.iter().map(|l| l.activation).collect();
    assert_eq!(activations, vec![Activation::Relu, Activation::None]);
    let expected = expected("policy-8-16-4.expected.json");
    // The fixture is chosen so Clip acts on some rows.
    assert!(expected.outputs.iter().flatten().any(|v| v.abs() == 100.0));
    assert_matches_evaluator(&imported.policy, (-100.0, 100.0), &expected);
}

#[test]
fn matmul_add_fixture_matches_the_onnx_reference_evaluator() {
    let imported = onnx::load_onnx(fixture("policy-8-16-4-matmul.onnx")).expect("imports");
    assert_eq!(imported.policy.dims(), vec![8, 16, 4]);
    assert_eq!(imported.clip, None);
    let expected = expected("policy-8-16-4-matmul.expected.json");
    assert_matches_evaluator(&imported.policy, (f64::NEG_INFINITY, f64::INFINITY), &expected);
}

#[test]
fn clip_must_contain_every_declared_output_range() {
    let imported = onnx::load_onnx(fixture("policy-8-16-4.onnx")).expect("imports");
    let mut io = default_io();
    imported.check_output_bounds(&io.outputs).expect("±50/±100/±50/±20 lie inside the Clip's ±100");
    io.outputs[2].max = 150;
    match imported.check_output_bounds(&io.outputs) {
        Err(LabError::ClipNarrowerThanBounds { output, max, clip_max, .. }) => {
            assert_eq!(output, "burn_rate_delta");
            assert_eq!(max, 150.0);
            assert_eq!(clip_max, 100.0);
        }
        other => panic!("expected a Clip-range error, got {other:?}"),
    }
}
