//! ONNX import: a single chain of dense layers read into a [`FloatPolicy`].
//!
//! The graph is decoded with tract-onnx's prost-generated protobuf types and
//! walked node by node. Supported ops, each folded into the layer it belongs to:
//!
//! | op | becomes |
//! |---|---|
//! | `Gemm` (`transA = 0`, any `transB`, `alpha`, `beta`) | a layer's weights and bias |
//! | `MatMul`, then optionally `Add` | a layer's weights, then its bias |
//! | `Relu`, `LeakyRelu` (`alpha` in (0, 1), kept to 16 fraction bits) | the activation closing a hidden layer |
//! | `Tanh`, `Sigmoid` | the activation closing a hidden layer or the output layer (a squashed head), tabulated at [`DEFAULT_TABLE_SCALE_BITS`] |
//! | `Clip` (last op only) | the output clamp; its range is returned in [`OnnxPolicy::clip`] |
//! | `Identity`, `Flatten` of a `[n]` or `[1, n]` tensor | nothing (shape bookkeeping) |
//! | `Constant` | a weight tensor, as if it were an initializer |
//!
//! Anything else is refused with an error naming the op and the node: a policy
//! that silently dropped an op would prove a different function than the one trained.

use std::collections::HashMap;
use std::path::Path;

use prost::Message;
use tract_onnx::pb::{self, attribute_proto::AttributeType, tensor_proto, NodeProto, TensorProto};

use crate::float::{FloatLayer, FloatPolicy};
use crate::LabError;
use zkpolicy_model::arith::LEAKY_SHIFT;
use zkpolicy_model::format::{Activation, OutputSpec};

/// The fraction bits of an imported tanh or sigmoid, until the quantizer is told otherwise
/// (`QuantizeOptions::table_scale_bits`): 10 bits resolve 0.001 with tables of 8,519
/// (tanh) and 15,617 (sigmoid) rows.
pub const DEFAULT_TABLE_SCALE_BITS: u32 = 10;

/// An imported ONNX policy and what the caller needs to check it against an IO spec.
#[derive(Clone, Debug, PartialEq)]
pub struct OnnxPolicy {
    /// The graph's dense layers and activations as a float policy (the `Clip` excluded).
    pub policy: FloatPolicy,
    /// The graph input (the KPI vector).
    pub input_name: String,
    /// The graph output (the adjustments).
    pub output_name: String,
    /// The final `Clip`, if the graph ends in one.
    pub clip: Option<ClipRange>,
}

/// `Clip`'s range; an absent bound is infinite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipRange {
    /// Lower bound in the output unit; `-inf` when the Clip has none.
    pub min: f64,
    /// Upper bound in the output unit; `+inf` when the Clip has none.
    pub max: f64,
}

impl OnnxPolicy {
    /// Checks every declared output range lies inside the ONNX `Clip` range.
    ///
    /// Clamping to `[a, b]` and then to `[c, d] ⊆ [a, b]` equals clamping to
    /// `[c, d]` alone, so under this condition the integer model's per-output
    /// clamp computes exactly what the ONNX graph computes, clamped once more.
    pub fn check_output_bounds(&self, outputs: &[OutputSpec]) -> Result<(), LabError> {
        if outputs.len() != self.policy.outputs() {
            return Err(LabError::WrongCount { what: "outputs", expected: self.policy.outputs(), got: outputs.len() });
        }
        let Some(clip) = self.clip else { return Ok(()) };
        match outputs.iter().find(|o| o.real(o.min) < clip.min || o.real(o.max) > clip.max) {
            Some(o) => Err(LabError::ClipNarrowerThanBounds {
                output: o.name.clone(),
                min: o.real(o.min),
                max: o.real(o.max),
                clip_min: clip.min,
                clip_max: clip.max,
            }),
            None => Ok(()),
        }
    }
}

/// Reads an `.onnx` file.
pub fn load_onnx(path: impl AsRef<Path>) -> Result<OnnxPolicy, LabError> {
    let path = path.as_ref();
    let bytes = zkpolicy_model::io::read_limited(path, zkpolicy_model::io::MAX_MODEL_BYTES)
        .map_err(|source| LabError::Io { path: path.to_owned(), source })?;
    from_onnx_bytes(&bytes)
}

/// Decodes a serialized `ModelProto` and imports its graph.
pub fn from_onnx_bytes(bytes: &[u8]) -> Result<OnnxPolicy, LabError> {
    let model = pb::ModelProto::decode(bytes).map_err(|source| LabError::OnnxDecode { source })?;
    let graph = model.graph.ok_or_else(|| graph_error("the model has no graph"))?;
    import_graph(&graph)
}

fn import_graph(graph: &pb::GraphProto) -> Result<OnnxPolicy, LabError> {
    // Decoded on use, so an initializer the chain never reads cannot fail the import.
    let mut constants: HashMap<String, TensorProto> = graph.initializer.iter().map(|t| (t.name.clone(), t.clone())).collect();
    // Before IR version 4 initializers are listed as graph inputs too.
    let inputs: Vec<&pb::ValueInfoProto> = graph.input.iter().filter(|i| !constants.contains_key(&i.name)).collect();
    let [input] = inputs.as_slice() else {
        return Err(graph_error(format!("expected exactly one non-constant input, found {}", inputs.len())));
    };
    let [output] = graph.output.as_slice() else {
        return Err(graph_error(format!("expected exactly one output, found {}", graph.output.len())));
    };
    let (rank, width) = declared_shape(input)?;
    let mut chain = Chain { tensor: input.name.clone(), rank, width, layers: vec![], stage: Stage::Features, clip: None };
    for node in &graph.node {
        chain.apply(node, &mut constants)?;
    }
    if chain.tensor != output.name {
        return Err(graph_error(format!("the output \"{}\" is not the end of the layer chain \"{}\"", output.name, chain.tensor)));
    }
    let declared_width = declared_shape(output)?.1;
    let (policy, clip) = chain.finish()?;
    if declared_width.is_some_and(|w| w != policy.outputs()) {
        return Err(tensor_error(
            &output.name,
            format!("declares width {declared_width:?} but the last layer has {} outputs", policy.outputs()),
        ));
    }
    Ok(OnnxPolicy { policy, input_name: input.name.clone(), output_name: output.name.clone(), clip })
}

/// Rank and last dimension of a graph input or output, where declared. A
/// symbolic or zero leading dimension is a batch dimension.
fn declared_shape(info: &pb::ValueInfoProto) -> Result<(Option<usize>, Option<usize>), LabError> {
    use pb::tensor_shape_proto::dimension::Value;
    let Some(pb::type_proto::Value::TensorType(tensor)) = info.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Ok((None, None));
    };
    let float = [tensor_proto::DataType::Float as i32, tensor_proto::DataType::Double as i32];
    if !float.contains(&tensor.elem_type) {
        return Err(tensor_error(
            &info.name,
            format!("has element type {}; only FLOAT and DOUBLE are supported", type_name(tensor.elem_type)),
        ));
    }
    let Some(shape) = &tensor.shape else { return Ok((None, None)) };
    let dims: Vec<Option<i64>> = shape
        .dim
        .iter()
        .map(|d| match d.value {
            Some(Value::DimValue(v)) => Some(v),
            _ => None,
        })
        .collect();
    let width = |n: &Option<i64>| match *n {
        Some(v) if v <= 0 => Err(tensor_error(&info.name, format!("has a dimension of {v}"))),
        v => Ok(v.map(|v| v as usize)),
    };
    match dims.as_slice() {
        [n] => Ok((Some(1), width(n)?)),
        [batch, n] if batch.is_none_or(|b| b <= 1) => Ok((Some(2), width(n)?)),
        _ => Err(tensor_error(&info.name, format!("has shape {dims:?}; a policy reads and writes one vector, [n] or [1, n]"))),
    }
}

/// A weight tensor from an initializer or a `Constant` node, row-major.
#[derive(Clone, Debug)]
struct Constant {
    dims: Vec<usize>,
    values: Vec<f64>,
}

impl Constant {
    fn from_proto(t: &TensorProto) -> Result<Self, LabError> {
        if t.data_location == Some(tensor_proto::DataLocation::External as i32) {
            return Err(tensor_error(&t.name, "stores its data in an external file; embed the weights in the model"));
        }
        let dims = t
            .dims
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| tensor_error(&t.name, format!("has negative dimension {d}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let values = tensor_values(t)?;
        let expected: usize = dims.iter().product();
        if values.len() != expected {
            return Err(tensor_error(&t.name, format!("has {} values but shape {dims:?} needs {expected}", values.len())));
        }
        if let Some(k) = values.iter().position(|v| !v.is_finite()) {
            return Err(tensor_error(&t.name, format!("value {k} is {}, not a finite number", values[k])));
        }
        Ok(Self { dims, values })
    }

    /// `M[r][c]` of a 2-D tensor.
    fn at(&self, r: usize, c: usize) -> f64 {
        self.values[r * self.dims[1] + c]
    }
}

/// Float32 or float64 values from `raw_data` (little-endian) or the typed field.
fn tensor_values(t: &TensorProto) -> Result<Vec<f64>, LabError> {
    use tensor_proto::DataType;
    fn raw<const N: usize>(t: &TensorProto, decode: fn([u8; N]) -> f64) -> Result<Vec<f64>, LabError> {
        let chunks = t.raw_data.chunks_exact(N);
        if !chunks.remainder().is_empty() {
            return Err(tensor_error(&t.name, format!("raw_data length {} is not a multiple of {N}", t.raw_data.len())));
        }
        Ok(chunks.map(|c| decode(c.try_into().unwrap_or([0; N]))).collect())
    }
    match DataType::try_from(t.data_type) {
        Ok(DataType::Float) if !t.raw_data.is_empty() => raw::<4>(t, |b| f32::from_le_bytes(b) as f64),
        Ok(DataType::Float) => Ok(t.float_data.iter().map(|&v| v as f64).collect()),
        Ok(DataType::Double) if !t.raw_data.is_empty() => raw::<8>(t, f64::from_le_bytes),
        Ok(DataType::Double) => Ok(t.double_data.clone()),
        _ => Err(tensor_error(&t.name, format!("has data type {}; only FLOAT and DOUBLE weights are supported", type_name(t.data_type)))),
    }
}

fn type_name(data_type: i32) -> String {
    tensor_proto::DataType::try_from(data_type).map_or_else(|_| format!("#{data_type}"), |d| d.as_str_name().to_owned())
}

/// Where the walk is inside the current layer.
#[derive(Clone, Debug)]
enum Stage {
    /// The running tensor is the input or a hidden layer's relu output: a layer may start.
    Features,
    /// A `Gemm`/`MatMul` produced the running tensor: a bias `Add`, `Relu` or `Clip` may follow.
    Affine(FloatLayer),
    /// `Clip` closed the output layer: only `Identity` may follow.
    Clipped,
}

/// The walk's state: the one tensor every next node must consume, and the layers so far.
struct Chain {
    tensor: String,
    rank: Option<usize>,
    width: Option<usize>,
    layers: Vec<FloatLayer>,
    stage: Stage,
    clip: Option<ClipRange>,
}

impl Chain {
    fn apply(&mut self, node: &NodeProto, constants: &mut HashMap<String, TensorProto>) -> Result<(), LabError> {
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(unsupported(node, &format!("{}.{}", node.domain, node.op_type)));
        }
        if node.op_type == "Constant" {
            return constant_node(node, constants);
        }
        if matches!(self.stage, Stage::Clipped) && node.op_type != "Identity" {
            return Err(node_error(node, "follows the Clip, which must be the graph's final op"));
        }
        if node.output.len() != 1 {
            return Err(node_error(node, format!("has {} outputs; only single-output nodes are supported", node.output.len())));
        }
        match node.op_type.as_str() {
            "Gemm" => self.gemm(node, constants),
            "MatMul" => self.matmul(node, constants),
            "Add" => self.add(node, constants),
            "Relu" => self.activation(node, Activation::Relu),
            "LeakyRelu" => {
                let alpha = attr_float(node, "alpha", 0.01)?;
                let slope = (alpha * (1u64 << LEAKY_SHIFT) as f64).round();
                if !(slope >= 1.0 && slope < (1u64 << LEAKY_SHIFT) as f64) {
                    return Err(bad_attribute(node, "alpha", format!("= {alpha} must lie in (0, 1) with 16 fraction bits")));
                }
                self.activation(node, Activation::LeakyRelu { slope: slope as i64 })
            }
            "Tanh" => self.activation(node, Activation::Tanh { scale_bits: DEFAULT_TABLE_SCALE_BITS }),
            "Sigmoid" => self.activation(node, Activation::Sigmoid { scale_bits: DEFAULT_TABLE_SCALE_BITS }),
            "Clip" => self.clip(node, constants),
            "Identity" => self.pass_through(node, &[]),
            "Flatten" => self.flatten(node),
            other => Err(unsupported(node, other)),
        }
    }

    /// Checks input `index` is the running tensor and moves the chain to the node's output.
    fn consume(&mut self, node: &NodeProto, index: usize) -> Result<(), LabError> {
        let input = node.input.get(index).map_or("", String::as_str);
        if input != self.tensor {
            return Err(node_error(
                node,
                format!(
                    "input {index} is \"{input}\", not the running activation \"{}\"; only a single chain of layers is supported",
                    self.tensor
                ),
            ));
        }
        self.tensor = node.output[0].clone();
        Ok(())
    }

    fn pass_through(&mut self, node: &NodeProto, attributes: &[&str]) -> Result<(), LabError> {
        check_attributes(node, attributes)?;
        expect_inputs(node, 1, 1)?;
        self.consume(node, 0)
    }

    fn flatten(&mut self, node: &NodeProto) -> Result<(), LabError> {
        let axis = attr_int(node, "axis", 1)?;
        // Flatten gives (prod(dims[..axis]), prod(dims[axis..])): a row [1, n] stays a
        // row for axis 0 or 1 (2 would make it a column), a vector [n] becomes a row
        // only for axis 0. Negative axes count from the end.
        let row = match self.rank {
            Some(1) => axis == 0 || axis == -1,
            Some(2) => (-2..=1).contains(&axis),
            _ => (-1..=1).contains(&axis),
        };
        if !row {
            return Err(bad_attribute(node, "axis", format!("= {axis} does not flatten {:?}-D input to a [1, n] row", self.rank)));
        }
        self.pass_through(node, &["axis"])?;
        self.rank = Some(2);
        Ok(())
    }

    fn gemm(&mut self, node: &NodeProto, constants: &HashMap<String, TensorProto>) -> Result<(), LabError> {
        check_attributes(node, &["alpha", "beta", "transA", "transB"])?;
        expect_inputs(node, 2, 3)?;
        if attr_int(node, "transA", 0)? != 0 {
            return Err(bad_attribute(node, "transA", "must be 0: transposing the activation row makes it a column"));
        }
        let trans_b = match attr_int(node, "transB", 0)? {
            0 => false,
            1 => true,
            other => return Err(bad_attribute(node, "transB", format!("must be 0 or 1, got {other}"))),
        };
        let (alpha, beta) = (attr_float(node, "alpha", 1.0)?, attr_float(node, "beta", 1.0)?);
        if self.rank == Some(1) {
            return Err(node_error(node, "Gemm needs a 2-D [1, n] input; add a Flatten before it"));
        }
        let b = constant_input(node, 1, constants)?;
        let mut layer = self.linear(node, &b, trans_b, alpha)?;
        if let Some(c) = optional_constant(node, 2, constants)? {
            let bias = broadcast_bias(node, 2, &c, layer.bias.len())?;
            layer.bias = bias.iter().map(|v| beta * v).collect();
        }
        self.consume(node, 0)?;
        self.rank = Some(2);
        self.stage = Stage::Affine(layer);
        Ok(())
    }

    fn matmul(&mut self, node: &NodeProto, constants: &HashMap<String, TensorProto>) -> Result<(), LabError> {
        check_attributes(node, &[])?;
        expect_inputs(node, 2, 2)?;
        let b = constant_input(node, 1, constants)?;
        let layer = self.linear(node, &b, false, 1.0)?;
        self.consume(node, 0)?;
        self.stage = Stage::Affine(layer);
        Ok(())
    }

    /// The layer `y = alpha · x · B` (or `x · Bᵀ`), after checking a layer may start here.
    fn linear(&mut self, node: &NodeProto, b: &Constant, trans_b: bool, alpha: f64) -> Result<FloatLayer, LabError> {
        match self.stage {
            Stage::Features => {}
            _ => return Err(node_error(node, "starts a layer right after another; put a Relu between linear layers")),
        }
        let tensor = &node.input[1];
        let [rows @ 1..=usize::MAX, cols @ 1..=usize::MAX] = b.dims[..] else {
            return Err(tensor_error(tensor, format!("has shape {:?}; a weight matrix is 2-D and not empty", b.dims)));
        };
        let (n_in, n_out) = if trans_b { (cols, rows) } else { (rows, cols) };
        if let Some(width) = self.width.filter(|&w| w != n_in) {
            return Err(tensor_error(
                tensor,
                format!("has shape {:?}, which takes {n_in} inputs, but node \"{}\" receives {width}", b.dims, node.name),
            ));
        }
        let weights = (0..n_out).map(|j| (0..n_in).map(|i| alpha * if trans_b { b.at(j, i) } else { b.at(i, j) }).collect()).collect();
        self.width = Some(n_out);
        Ok(FloatLayer { weights, bias: vec![0.0; n_out], activation: Activation::None })
    }

    fn add(&mut self, node: &NodeProto, constants: &HashMap<String, TensorProto>) -> Result<(), LabError> {
        check_attributes(node, &[])?;
        expect_inputs(node, 2, 2)?;
        if !node.input.contains(&self.tensor) {
            return Err(node_error(node, format!("neither input is the running activation \"{}\"", self.tensor)));
        }
        let running = if node.input[0] == self.tensor { 0 } else { 1 };
        let c = constant_input(node, 1 - running, constants)?;
        let Stage::Affine(layer) = &mut self.stage else {
            return Err(node_error(node, "Add must directly follow a MatMul or Gemm: it is folded into that layer's bias"));
        };
        let bias = broadcast_bias(node, 1 - running, &c, layer.bias.len())?;
        layer.bias.iter_mut().zip(&bias).for_each(|(b, c)| *b += c);
        if c.dims.len() == 2 {
            self.rank = Some(2);
        }
        self.consume(node, running)
    }

    fn activation(&mut self, node: &NodeProto, activation: Activation) -> Result<(), LabError> {
        let Stage::Affine(layer) = std::mem::replace(&mut self.stage, Stage::Features) else {
            return Err(node_error(node, format!("{} must follow a MatMul or Gemm layer", node.op_type)));
        };
        self.layers.push(FloatLayer { activation, ..layer });
        let attributes: &[&str] = if node.op_type == "LeakyRelu" { &["alpha"] } else { &[] };
        self.pass_through(node, attributes)
    }

    fn clip(&mut self, node: &NodeProto, constants: &HashMap<String, TensorProto>) -> Result<(), LabError> {
        check_attributes(node, &["min", "max"])?;
        expect_inputs(node, 1, 3)?;
        // Opset 11 moved the bounds from attributes to optional inputs.
        let bound = |index: usize, attribute: &str, default: f64| -> Result<f64, LabError> {
            match optional_constant(node, index, constants)? {
                Some(c) if c.values.len() == 1 => Ok(c.values[0]),
                Some(c) => Err(tensor_error(&node.input[index], format!("has shape {:?}; a Clip bound is a scalar", c.dims))),
                None => attr_float(node, attribute, default),
            }
        };
        let range = ClipRange { min: bound(1, "min", f64::NEG_INFINITY)?, max: bound(2, "max", f64::INFINITY)? };
        if range.min.is_nan() || range.max.is_nan() || range.min > range.max {
            return Err(node_error(node, format!("has an empty range [{}, {}]", range.min, range.max)));
        }
        match std::mem::replace(&mut self.stage, Stage::Clipped) {
            Stage::Affine(layer) => self.layers.push(layer),
            // A squashed head: the Clip follows its Tanh or Sigmoid.
            Stage::Features if self.layers.last().is_some_and(|l| l.activation.table().is_some()) => {}
            _ => return Err(node_error(node, "Clip must follow the output layer's MatMul or Gemm (and bias), or its Tanh or Sigmoid")),
        }
        self.clip = Some(range);
        self.consume(node, 0)
    }

    fn finish(mut self) -> Result<(FloatPolicy, Option<ClipRange>), LabError> {
        match std::mem::replace(&mut self.stage, Stage::Clipped) {
            Stage::Affine(layer) => self.layers.push(layer),
            Stage::Features if self.layers.is_empty() => return Err(graph_error("the graph has no Gemm or MatMul layer")),
            // A Tanh or Sigmoid head is the output layer's activation.
            Stage::Features if self.layers.last().is_some_and(|l| l.activation.table().is_some()) => {}
            Stage::Features => {
                return Err(graph_error(
                    "the graph ends in Relu or LeakyRelu; the output layer must be linear, or squashed by Tanh or Sigmoid \
                     (the model clamps it instead)",
                ))
            }
            Stage::Clipped => {}
        }
        Ok((FloatPolicy { layers: self.layers }, self.clip))
    }
}

fn constant_node(node: &NodeProto, constants: &mut HashMap<String, TensorProto>) -> Result<(), LabError> {
    let [output] = node.output.as_slice() else {
        return Err(node_error(node, "a Constant has exactly one output"));
    };
    let [attribute] = node.attribute.as_slice() else {
        return Err(node_error(node, "a Constant has exactly one value attribute"));
    };
    let float = |dims: Vec<i64>, float_data: Vec<f32>| TensorProto {
        dims,
        data_type: tensor_proto::DataType::Float as i32,
        float_data,
        ..Default::default()
    };
    let value = match attribute.name.as_str() {
        "value" => attribute.t.clone().ok_or_else(|| bad_attribute(node, "value", "has no tensor"))?,
        "value_float" => float(vec![], vec![attribute.f]),
        "value_floats" => float(vec![attribute.floats.len() as i64], attribute.floats.clone()),
        other => return Err(bad_attribute(node, other, "is not supported; use value, value_float or value_floats")),
    };
    // Named after the output, so errors point at the tensor the graph uses.
    constants.insert(output.clone(), TensorProto { name: output.clone(), ..value });
    Ok(())
}

/// A bias for `n` outputs from a tensor broadcastable to `[1, n]`.
fn broadcast_bias(node: &NodeProto, index: usize, c: &Constant, n: usize) -> Result<Vec<f64>, LabError> {
    let fits = matches!(c.dims[..], [] | [1] | [1, 1]) || c.dims == [n] || c.dims == [1, n];
    if !fits {
        return Err(tensor_error(&node.input[index], format!("has shape {:?}; a bias for {n} outputs is [{n}] or [1, {n}]", c.dims)));
    }
    Ok(if c.values.len() == n { c.values.clone() } else { vec![c.values[0]; n] })
}

fn constant_input(node: &NodeProto, index: usize, constants: &HashMap<String, TensorProto>) -> Result<Constant, LabError> {
    optional_constant(node, index, constants)?
        .ok_or_else(|| node_error(node, format!("input {index} is missing; it must be a weight tensor")))
}

/// Input `index` as a constant; `None` when absent (ONNX marks a skipped optional input with "").
fn optional_constant(node: &NodeProto, index: usize, constants: &HashMap<String, TensorProto>) -> Result<Option<Constant>, LabError> {
    match node.input.get(index).map(String::as_str) {
        None | Some("") => Ok(None),
        Some(name) => match constants.get(name) {
            Some(t) => Constant::from_proto(t).map(Some),
            None => Err(node_error(node, format!("input {index} \"{name}\" is not an initializer or Constant; weights must be constant"))),
        },
    }
}

fn expect_inputs(node: &NodeProto, min: usize, max: usize) -> Result<(), LabError> {
    if (min..=max).contains(&node.input.len()) {
        Ok(())
    } else {
        Err(node_error(node, format!("has {} inputs, expected {min} to {max}", node.input.len())))
    }
}

/// Refuses attributes the importer does not interpret: ignoring one could change the function.
fn check_attributes(node: &NodeProto, known: &[&str]) -> Result<(), LabError> {
    match node.attribute.iter().find(|a| !known.contains(&a.name.as_str())) {
        Some(a) => Err(bad_attribute(node, &a.name, "is not supported")),
        None => Ok(()),
    }
}

fn attribute<'a>(node: &'a NodeProto, name: &str, kind: AttributeType) -> Result<Option<&'a pb::AttributeProto>, LabError> {
    match node.attribute.iter().find(|a| a.name == name) {
        Some(a) if a.r#type == kind as i32 || a.r#type == AttributeType::Undefined as i32 => Ok(Some(a)),
        Some(a) => Err(bad_attribute(node, name, format!("has type {}, expected {}", a.r#type, kind.as_str_name()))),
        None => Ok(None),
    }
}

fn attr_int(node: &NodeProto, name: &str, default: i64) -> Result<i64, LabError> {
    Ok(attribute(node, name, AttributeType::Int)?.map_or(default, |a| a.i))
}

fn attr_float(node: &NodeProto, name: &str, default: f64) -> Result<f64, LabError> {
    Ok(attribute(node, name, AttributeType::Float)?.map_or(default, |a| a.f as f64))
}

fn unsupported(node: &NodeProto, op_type: &str) -> LabError {
    LabError::UnsupportedOnnxOp { op_type: op_type.to_owned(), node: node.name.clone() }
}

fn bad_attribute(node: &NodeProto, attribute: &str, reason: impl Into<String>) -> LabError {
    LabError::UnsupportedOnnxAttribute {
        node: node.name.clone(),
        op_type: node.op_type.clone(),
        attribute: attribute.to_owned(),
        reason: reason.into(),
    }
}

fn node_error(node: &NodeProto, reason: impl Into<String>) -> LabError {
    LabError::InvalidOnnxNode { node: node.name.clone(), op_type: node.op_type.clone(), reason: reason.into() }
}

fn tensor_error(tensor: &str, reason: impl Into<String>) -> LabError {
    LabError::InvalidOnnxTensor { tensor: tensor.to_owned(), reason: reason.into() }
}

fn graph_error(reason: impl Into<String>) -> LabError {
    LabError::InvalidOnnxGraph { reason: reason.into() }
}
