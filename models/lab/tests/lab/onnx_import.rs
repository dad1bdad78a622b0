//! ONNX import against the official evaluator, refusals that name the op and
//! node, and calibrated quantization that always validates.

use std::path::{Path, PathBuf};

use prost::Message;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::Deserialize;
use tract_onnx::pb::{self, attribute_proto::AttributeType, tensor_proto::DataType};
use zkpolicy_lab::float::{FloatLayer, FloatPolicy};
use zkpolicy_lab::onnx::{self, ClipRange};
use zkpolicy_lab::quantize::{self, InputScale, IoSpec, OutputError, QuantReport, QuantizeOptions, Quantized};
use zkpolicy_lab::LabError;
use zkpolicy_model::{infer, Activation, Model, QuantizedKpis};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("fixtures").join(name)
}

/// The default policy's IO: 8 KPIs, 4 outputs in bps bounded ±50/±100/±50/±20.
fn default_io() -> IoSpec {
    let model = Model::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("tokenomics-policy.json")).expect("bundled model");
    IoSpec::of_model(model.file())
}

fn calibration(io: &IoSpec) -> Vec<Vec<f64>> {
    let names: Vec<&str> = io.inputs.iter().map(|i| i.name.as_str()).collect();
    quantize::read_calibration_jsonl(fixture("calibration-tokenomics.jsonl"), &names).expect("calibration fixture")
}

/// Uniform real KPI vectors inside the declared ranges.
fn random_kpis(io: &IoSpec, rows: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (0..rows).map(|_| io.inputs.iter().map(|i| rng.gen_range(i.min..=i.max)).collect()).collect()
}

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

// ---- ONNX graphs built in Rust with tract's protobuf types ----

fn float_tensor(name: &str, dims: &[i64], values: &[f32]) -> pb::TensorProto {
    pb::TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Float as i32,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

fn int_attr(name: &str, i: i64) -> pb::AttributeProto {
    pb::AttributeProto { name: name.into(), r#type: AttributeType::Int as i32, i, ..Default::default() }
}

fn float_attr(name: &str, f: f32) -> pb::AttributeProto {
    pb::AttributeProto { name: name.into(), r#type: AttributeType::Float as i32, f, ..Default::default() }
}

fn node(op: &str, name: &str, inputs: &[&str], output: &str, attribute: Vec<pb::AttributeProto>) -> pb::NodeProto {
    pb::NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute,
        ..Default::default()
    }
}

fn value_info(name: &str) -> pb::ValueInfoProto {
    pb::ValueInfoProto { name: name.into(), ..Default::default() }
}

/// A 2 → 3 → 1 graph from input "x" through `nodes` to `output`, weights W1 [3, 2]
/// (for transB = 1), B1 [3], W2 [3, 1], B2 [1].
fn graph_bytes(nodes: Vec<pb::NodeProto>, output: &str) -> Vec<u8> {
    let initializer = vec![
        float_tensor("W1", &[3, 2], &[1.0, -1.0, 0.5, 0.5, 2.0, 0.0]),
        float_tensor("B1", &[3], &[0.0, -1.0, 0.25]),
        float_tensor("W2", &[3, 1], &[2.0, 3.0, -1.0]),
        float_tensor("B2", &[1], &[1.0]),
        float_tensor("W2_wrong", &[4, 1], &[1.0; 4]),
        pb::TensorProto {
            name: "W_int".into(),
            dims: vec![3, 1],
            data_type: DataType::Int64 as i32,
            int64_data: vec![1, 2, 3],
            ..Default::default()
        },
    ];
    let graph = pb::GraphProto {
        node: nodes,
        name: "test".into(),
        initializer,
        input: vec![value_info("x")],
        output: vec![value_info(output)],
        ..Default::default()
    };
    pb::ModelProto { ir_version: 8, graph: Some(graph), ..Default::default() }.encode_to_vec()
}

fn fc1() -> pb::NodeProto {
    node("Gemm", "fc1", &["x", "W1", "B1"], "h", vec![int_attr("transB", 1)])
}

fn fc2(input: &str) -> pb::NodeProto {
    node("Gemm", "fc2", &[input, "W2", "B2"], "y", vec![])
}

#[test]
fn a_rust_built_graph_imports_with_attribute_clip_bounds() {
    // Opset-6 style Clip: bounds as attributes.
    let clip = node("Clip", "clip", &["y"], "out", vec![float_attr("min", -4.0), float_attr("max", 8.0)]);
    let bytes = graph_bytes(vec![fc1(), node("Relu", "relu", &["h"], "a", vec![]), fc2("a"), clip], "out");
    let imported = onnx::from_onnx_bytes(&bytes).expect("imports");
    assert_eq!(imported.clip, Some(ClipRange { min: -4.0, max: 8.0 }));
    // h = relu([3 - 1, 1.5 + 0.5 - 1, 6 + 0.25]) = [2, 1, 6.25]; y = 4 + 3 - 6.25 + 1.
    let y = imported.policy.forward(&[3.0, 1.0], &[(-4.0, 8.0)]);
    assert_eq!(y, vec![1.75]);
}

#[test]
fn unsupported_op_is_refused_naming_op_and_node() {
    let bytes = graph_bytes(vec![fc1(), node("Elu", "act1", &["h"], "a", vec![]), fc2("a")], "y");
    let err = onnx::from_onnx_bytes(&bytes).expect_err("Elu is not supported");
    assert_eq!(err.to_string(), r#"unsupported ONNX op "Elu" at node "act1""#);
    assert!(matches!(err, LabError::UnsupportedOnnxOp { ref op_type, ref node } if op_type == "Elu" && node == "act1"));
}

#[test]
fn tanh_sigmoid_and_leaky_relu_import_as_their_activations() {
    use zkpolicy_model::Activation;
    let graph = |hidden: pb::NodeProto, head: Option<pb::NodeProto>| {
        let mut nodes = vec![fc1(), hidden, fc2("a")];
        let out = match head {
            Some(h) => {
                nodes.push(h);
                "out"
            }
            None => "y",
        };
        onnx::from_onnx_bytes(&graph_bytes(nodes, out))
    };
    let tanh_head = || Some(node("Tanh", "head", &["y"], "out", vec![]));
    let imported = graph(node("LeakyRelu", "act1", &["h"], "a", vec![float_attr("alpha", 0.25)]), tanh_head()).expect("imports");
    let activations: Vec<Activation> = imported.policy.layers.iter().map(|l| l.activation).collect();
    assert_eq!(activations, vec![Activation::LeakyRelu { slope: 1 << 14 }, Activation::Tanh { scale_bits: 10 }]);
    // h = leaky([3 - 1, 1.5 + 0.5 - 1, 6 + 0.25]) at x = (3, 1) = [2, 1, 6.25]; at x = (-3, 1): [-4, -2, -5.75]·0.25.
    let y = imported.policy.forward(&[-3.0, 1.0], &[(-1.0, 1.0)]);
    let h = [-1.0, -0.5, -5.75 * 0.25];
    let want = (2.0 * h[0] + 3.0 * h[1] - h[2] + 1.0f64).tanh();
    assert!((y[0] - want).abs() < 1e-12, "{y:?} vs {want}");
    let imported = graph(node("Sigmoid", "act1", &["h"], "a", vec![]), None).expect("imports");
    assert_eq!(imported.policy.layers[0].activation, Activation::Sigmoid { scale_bits: 10 });
    // A Relu head is still refused: the output layer is linear or squashed.
    let err = graph(node("Relu", "act1", &["h"], "a", vec![]), Some(node("Relu", "head", &["y"], "out", vec![]))).expect_err("relu head");
    assert!(err.to_string().contains("squashed by Tanh or Sigmoid"), "{err}");
    for alpha in [0.0, 1.0, -0.5, 1e-9] {
        let err = graph(node("LeakyRelu", "act1", &["h"], "a", vec![float_attr("alpha", alpha)]), None).expect_err("bad alpha");
        assert!(err.to_string().contains("alpha"), "{alpha}: {err}");
    }
}

fn import_error(nodes: Vec<pb::NodeProto>, output: &str) -> LabError {
    onnx::from_onnx_bytes(&graph_bytes(nodes, output)).expect_err("the graph must be refused")
}

#[test]
fn unsupported_attributes_are_refused_by_name() {
    let relu = || node("Relu", "relu", &["h"], "a", vec![]);
    let trans_a = node("Gemm", "fc1", &["x", "W1", "B1"], "h", vec![int_attr("transA", 1), int_attr("transB", 1)]);
    match import_error(vec![trans_a, relu(), fc2("a")], "y") {
        LabError::UnsupportedOnnxAttribute { node, attribute, .. } => assert_eq!((node.as_str(), attribute.as_str()), ("fc1", "transA")),
        other => panic!("expected an attribute error, got {other}"),
    }
    let unknown = node("Relu", "relu", &["h"], "a", vec![int_attr("fused", 1)]);
    match import_error(vec![fc1(), unknown, fc2("a")], "y") {
        LabError::UnsupportedOnnxAttribute { node, attribute, .. } => assert_eq!((node.as_str(), attribute.as_str()), ("relu", "fused")),
        other => panic!("expected an attribute error, got {other}"),
    }
}

#[test]
fn malformed_graphs_are_refused_naming_the_node_or_tensor() {
    let relu = || node("Relu", "relu", &["h"], "a", vec![]);
    // W2_wrong takes 4 inputs but the hidden layer has 3.
    match import_error(vec![fc1(), relu(), node("Gemm", "fc2", &["a", "W2_wrong"], "y", vec![])], "y") {
        LabError::InvalidOnnxTensor { tensor, reason } => {
            assert_eq!(tensor, "W2_wrong");
            assert!(reason.contains("receives 3"), "{reason}");
        }
        other => panic!("expected a shape error, got {other}"),
    }
    let clip = node("Clip", "clip", &["y"], "c", vec![]);
    let after_clip = node("Relu", "late_relu", &["c"], "out", vec![]);
    match import_error(vec![fc1(), relu(), fc2("a"), clip, after_clip], "out") {
        LabError::InvalidOnnxNode { node, reason, .. } => {
            assert_eq!(node, "late_relu");
            assert!(reason.contains("final op"), "{reason}");
        }
        other => panic!("expected Clip-not-last, got {other}"),
    }
    match import_error(vec![fc1(), fc2("h")], "y") {
        LabError::InvalidOnnxNode { node, .. } => assert_eq!(node, "fc2"),
        other => panic!("expected linear-after-linear, got {other}"),
    }
    assert!(matches!(import_error(vec![fc1(), relu()], "a"), LabError::InvalidOnnxGraph { .. }));
    // A second branch reading the input instead of the running activation.
    match import_error(vec![fc1(), node("Relu", "branch", &["x"], "a", vec![]), fc2("a")], "y") {
        LabError::InvalidOnnxNode { node, .. } => assert_eq!(node, "branch"),
        other => panic!("expected a branch error, got {other}"),
    }
    match import_error(vec![fc1(), relu(), node("MatMul", "fc2", &["a", "W_int"], "y", vec![])], "y") {
        LabError::InvalidOnnxTensor { tensor, reason } => {
            assert_eq!(tensor, "W_int");
            assert!(reason.contains("INT64"), "{reason}");
        }
        other => panic!("expected a data-type error, got {other}"),
    }
    assert!(matches!(onnx::from_onnx_bytes(b"\xff\xff not protobuf"), Err(LabError::OnnxDecode { .. })));
}

// ---- quantization ----

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
fn calibration_rows_are_checked_naming_row_and_kpi() {
    let imported = onnx::load_onnx(fixture("policy-8-16-4.onnx")).expect("imports");
    let io = default_io();
    let options = QuantizeOptions::new("p");
    let run = |rows: Vec<Vec<f64>>| quantize::quantize(&imported.policy, &io, &rows, &options).map(|_| ());
    let mut rows = random_kpis(&io, 5, 3);
    rows[3][6] = 9.0;
    match run(rows.clone()) {
        Err(LabError::CalibrationRow { row: 3, kpi, reason }) => {
            assert_eq!(kpi, "treasury_runway");
            assert!(reason.contains("outside"), "{reason}");
        }
        other => panic!("expected a calibration-row error, got {other:?}"),
    }
    rows[3][6] = 1.0;
    rows[1][0] = f64::NAN;
    assert!(matches!(run(rows.clone()), Err(LabError::CalibrationRow { row: 1, ref kpi, .. }) if kpi == "staking_ratio"));
    rows[1][0] = 0.5;
    rows[2].pop();
    assert!(matches!(run(rows.clone()), Err(LabError::CalibrationRow { row: 2, ref kpi, .. }) if kpi == "net_emission_pressure"));
    assert!(matches!(run(vec![]), Err(LabError::NoCalibration)));
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

// ---- calibration JSONL ----

fn jsonl_error(name: &str, lines: &[&str]) -> LabError {
    let path = std::env::temp_dir().join(format!("zkpolicy-calibration-{}-{name}.jsonl", std::process::id()));
    std::fs::write(&path, lines.join("\n")).expect("temp file");
    let result = quantize::read_calibration_jsonl(&path, &["a", "b"]);
    std::fs::remove_file(&path).ok();
    result.expect_err("the file must be refused")
}

#[test]
fn calibration_jsonl_errors_name_line_and_kpi() {
    let good = r#"{"kpis": {"a": 1.0, "b": 2}}"#;
    let kpi_error = |err: LabError| match err {
        LabError::CalibrationKpi { line, kpi, reason, .. } => (line, kpi, reason),
        other => panic!("expected a KPI error, got {other}"),
    };
    let (line, kpi, reason) = kpi_error(jsonl_error("missing", &[good, "", r#"{"kpis": {"a": 1.0}}"#]));
    assert_eq!((line, kpi.as_str()), (3, "b"), "blank lines still count");
    assert!(reason.contains("missing"));
    let (line, kpi, _) = kpi_error(jsonl_error("extra", &[good, r#"{"kpis": {"a": 1, "b": 2, "c": 3}}"#]));
    assert_eq!((line, kpi.as_str()), (2, "c"));
    let (line, kpi, reason) = kpi_error(jsonl_error("null", &[r#"{"kpis": {"a": null, "b": 2}}"#]));
    assert_eq!((line, kpi.as_str()), (1, "a"));
    assert!(reason.contains("not a finite number"), "{reason}");
    assert_eq!(kpi_error(jsonl_error("string", &[good, r#"{"kpis": {"a": 1, "b": "NaN"}}"#])).1, "b");
    for (name, bad) in [("nan", r#"{"kpis": {"a": NaN, "b": 2}}"#), ("shape", r#"{"a": 1, "b": 2}"#), ("truncated", r#"{"kpis": {"a": 1"#)]
    {
        match jsonl_error(name, &[good, good, bad]) {
            LabError::CalibrationLine { line: 3, .. } => {}
            other => panic!("{name}: expected a line-3 error, got {other}"),
        }
    }
    // A KPI given twice on one line is refused, not resolved to the last value.
    match jsonl_error("duplicate", &[good, r#"{"kpis": {"a": 1, "b": 2, "a": 3}}"#]) {
        LabError::CalibrationLine { line: 2, reason, .. } => assert!(reason.contains("duplicate key \"a\""), "{reason}"),
        other => panic!("expected a line-2 duplicate-key error, got {other}"),
    }
}

#[test]
fn calibration_fixture_reads_in_input_order() {
    let io = default_io();
    let rows = calibration(&io);
    assert_eq!(rows.len(), 256);
    for row in &rows {
        for (v, spec) in row.iter().zip(&io.inputs) {
            assert!((spec.min..=spec.max).contains(v), "{} = {v}", spec.name);
        }
    }
}

/// `make_onnx.py`'s float-output policies, one per activation, with the outputs of ONNX's
/// own reference evaluator.
fn activation_fixture(stem: &str) -> (onnx::OnnxPolicy, Vec<Vec<f64>>, Vec<Vec<f64>>) {
    #[derive(Deserialize)]
    struct Reference {
        inputs: Vec<Vec<f64>>,
        outputs: Vec<Vec<f64>>,
    }
    let imported = onnx::load_onnx(fixture(&format!("{stem}.onnx"))).expect("imports");
    let text = std::fs::read_to_string(fixture(&format!("{stem}.expected.json"))).expect("expected outputs");
    let reference: Reference = serde_json::from_str(&text).expect("json");
    (imported, reference.inputs, reference.outputs)
}

/// The default IO with four fixed-point outputs in [−1, 1] at `bits` fraction bits.
fn action_io(bits: u32) -> IoSpec {
    let mut io = default_io();
    for o in &mut io.outputs {
        let one = 1i64 << bits;
        *o = zkpolicy_model::OutputSpec { scale_bits: bits, ..zkpolicy_model::OutputSpec::integer(o.name.clone(), "action", -one, one) };
    }
    io
}

#[test]
fn float_output_policies_with_each_activation_match_the_reference_evaluator_within_the_stated_error() {
    // Sigmoid's table is twice as wide as tanh's: 11 bits is its finest.
    for (stem, activations, table_bits) in [
        ("policy-8-16-16-4-tanh", ["tanh", "tanh", "tanh"], 12),
        ("policy-8-16-16-4-sigmoid", ["sigmoid", "sigmoid", "none"], 11),
        ("policy-8-16-16-4-leaky", ["leaky_relu", "leaky_relu", "tanh"], 12),
    ] {
        let (imported, inputs, reference) = activation_fixture(stem);
        let names: Vec<&str> = imported.policy.layers.iter().map(|l| l.activation.name()).collect();
        assert_eq!(names, activations, "{stem}");
        // The float network is the ONNX graph (float32 weights, float64 arithmetic).
        let wide = vec![(-10.0, 10.0); 4];
        for (x, want) in inputs.iter().zip(&reference) {
            let got = imported.policy.forward(x, &wide);
            let worst = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            // LeakyRelu's alpha 0.01 is kept as 655 / 2^16 = 0.0099945, a 5.5e-4 relative change
            // on the negative side only.
            let tolerance = if stem.ends_with("leaky") { 1e-4 } else { 1e-5 };
            assert!(worst < tolerance, "{stem}: float forward off the reference by {worst}");
        }
        if stem.ends_with("leaky") {
            // Known limit: after unbounded (leaky ReLU) layers the interval bound of the tanh
            // head's pre-activation passes the comparator's reach of its window at every useful
            // scale, so the quantizer finds no faithful model; the circuit and the twins cover
            // leaky ReLU (circuits/tests/circuit/activations.rs), the import its float function.
            continue;
        }
        let io = action_io(12);
        // The finest settings: 16-bit weights, inputs as fine as their ranges allow, 12-bit tables.
        let options = QuantizeOptions {
            weight_bits: 16,
            bias_bits: 32,
            input_scale: InputScale::Auto,
            table_scale_bits: Some(table_bits),
            ..QuantizeOptions::new(stem)
        };
        let quantized = quantize::quantize(&imported.policy, &io, &calibration(&io), &options).expect("quantizes");
        let stated = quantized.report.outputs.iter().map(|e| e.max_abs_error).fold(0.0, f64::max);
        let model = Model::from_file(quantized.file).expect("validates");
        // The integer model against the reference evaluator, in the output unit.
        let mut worst: f64 = 0.0;
        for (x, want) in inputs.iter().zip(&reference) {
            let kpis: Vec<i64> =
                x.iter().zip(model.card().inputs()).map(|(v, s)| (v * (1u64 << s.scale_bits) as f64).round() as i64).collect();
            let y = infer(&model, QuantizedKpis::new(&model, kpis).expect("in range")).expect("infers").outputs;
            for ((y, spec), r) in y.iter().zip(model.card().outputs()).zip(want) {
                worst = worst.max((spec.real(*y) - r.clamp(-1.0, 1.0)).abs());
            }
        }
        // Within the error the import report states on its calibration rows (plus one output
        // quantum for rows the calibration set did not contain), and small in absolute terms.
        assert!(worst <= stated + 1.0 / 4096.0, "{stem}: {worst} against the reference, {stated} stated");
        assert!(stated < 2e-3, "{stem}: stated error {stated}");
        eprintln!("{stem}: max error {worst:.2e} against the reference evaluator, {stated:.2e} stated");
    }
}

#[test]
fn a_squashed_head_needs_fraction_bits_on_its_outputs() {
    let (imported, _, _) = activation_fixture("policy-8-16-16-4-tanh");
    let io = default_io();
    let err = quantize::quantize(&imported.policy, &io, &calibration(&io), &QuantizeOptions::new("t")).expect_err("integer outputs");
    assert!(err.to_string().contains("give them fraction bits"), "{err}");
}
