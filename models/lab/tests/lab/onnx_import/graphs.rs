//! ONNX graphs built in Rust with tract's protobuf types: activations imported, unsupported ops and malformed graphs refused by name.

use prost::Message;
use tract_onnx::pb::{self, attribute_proto::AttributeType, tensor_proto::DataType};
use zkpolicy_lab::onnx::{self, ClipRange};
use zkpolicy_lab::LabError;

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
