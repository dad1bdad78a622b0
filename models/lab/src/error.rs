use std::path::PathBuf;

use zkpolicy_model::ModelError;

/// Everything that can go wrong making or studying a policy: ONNX files, calibration
/// data, float policies, simulation, training and backtest settings, and the model
/// files those produce (a [`ModelError`]).
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// An error from `zkpolicy-model`: a model file the lab built or read breaks the format
    /// or its bounds analysis (every quantized candidate goes through
    /// [`zkpolicy_model::Model::from_file`]), or a KPI, parameter or guardrail is invalid.
    #[error(transparent)]
    Model(#[from] ModelError),

    /// An ONNX file or a calibration file could not be read: missing, unreadable, or past
    /// [`zkpolicy_model::io::MAX_MODEL_BYTES`].
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file that was being read.
        path: PathBuf,
        /// Why reading it failed.
        source: std::io::Error,
    },

    /// A document could not be converted to or from JSON (e.g. rendering a "model file").
    #[error("{what} is not valid JSON for its schema: {source}")]
    Json {
        /// Which kind of document, e.g. "model file".
        what: &'static str,
        /// serde_json's account of the failure.
        source: serde_json::Error,
    },

    /// A vector has the wrong length for the policy or the rails it meets: KPIs,
    /// actions, the policy's outputs against the IO spec, or the ONNX graph's outputs.
    #[error("expected {expected} {what}, got {got}")]
    WrongCount {
        /// What was counted, e.g. "policy outputs" or "actions".
        what: &'static str,
        /// How many the policy, IO spec or rails declare.
        expected: usize,
        /// How many were given.
        got: usize,
    },

    /// The bytes given to ONNX import are not a protobuf `ModelProto`.
    #[cfg(feature = "onnx")]
    #[error("not an ONNX model: {source}")]
    OnnxDecode {
        /// prost's account of the decoding failure.
        source: prost::DecodeError,
    },

    /// The ONNX graph uses an op outside the supported chain of dense layers (see the
    /// `onnx` module's table); importing it anyway would prove a different function.
    #[error("unsupported ONNX op \"{op_type}\" at node \"{node}\"")]
    UnsupportedOnnxOp {
        /// The ONNX op type, e.g. `Conv`.
        op_type: String,
        /// The name of the node that uses it.
        node: String,
    },

    /// A supported ONNX op carries an attribute the import does not handle, or one of
    /// the wrong type or value (e.g. `Gemm` with `transA = 1`).
    #[error("ONNX node \"{node}\" ({op_type}): attribute `{attribute}` {reason}")]
    UnsupportedOnnxAttribute {
        /// The name of the node.
        node: String,
        /// Its op type.
        op_type: String,
        /// The attribute's name.
        attribute: String,
        /// What about it is not supported.
        reason: String,
    },

    /// A supported ONNX node does not fit the layer chain at its position (wrong
    /// inputs, shapes or order).
    #[error("ONNX node \"{node}\" ({op_type}): {reason}")]
    InvalidOnnxNode {
        /// The name of the node.
        node: String,
        /// Its op type.
        op_type: String,
        /// Why it cannot be folded into the chain.
        reason: String,
    },

    /// An ONNX tensor (a weight, bias or Clip bound, or the graph's input or output) has
    /// an unsupported data type, external data, a non-finite value or a shape the chain
    /// cannot use.
    #[error("ONNX tensor \"{tensor}\": {reason}")]
    InvalidOnnxTensor {
        /// The tensor's name in the graph.
        tensor: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The ONNX graph as a whole is not one chain of dense layers from one input to one
    /// output, or reads a different number of inputs than the IO spec declares.
    #[error("ONNX graph: {reason}")]
    InvalidOnnxGraph {
        /// What is wrong with the graph.
        reason: String,
    },

    /// The integer model would clamp more loosely than the ONNX model's Clip.
    #[error("output `{output}` bounds [{min}, {max}] are not inside the ONNX Clip range [{clip_min}, {clip_max}]")]
    ClipNarrowerThanBounds {
        /// The output's name in the IO spec.
        output: String,
        /// Its declared lower bound, in the output's unit (real, not fixed point).
        min: f64,
        /// Its declared upper bound, in the output's unit.
        max: f64,
        /// The Clip's lower bound (`-inf` when absent).
        clip_min: f64,
        /// The Clip's upper bound (`+inf` when absent).
        clip_max: f64,
    },

    /// A float policy cannot be quantized as given: no layers, ragged or mismatched
    /// weight rows, a non-finite weight or bias, or an activation in a place the circuit
    /// does not support.
    #[error("float policy field `{field}`: {reason}")]
    InvalidPolicy {
        /// Path of the offending value, e.g. `layers[1].weights[3]`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },

    /// No choice of scales fits the policy into the weight and bias widths and the
    /// comparator window for the declared input ranges.
    #[error("cannot quantize `{field}`: {reason}")]
    Quantization {
        /// The layer, weight row or output that does not fit, e.g. `outputs[0]`.
        field: String,
        /// Why it does not fit, and usually what to change.
        reason: String,
    },

    /// Quantization was given an empty calibration set; the scale search needs rows to
    /// measure error on.
    #[error("calibration needs at least one KPI vector")]
    NoCalibration,

    /// A calibration row has the wrong length, or a value that is not finite or lies
    /// outside its input's declared range. `row` is the 0-based index into the calibration slice.
    #[error("calibration row {row}, KPI `{kpi}`: {reason}")]
    CalibrationRow {
        /// 0-based index of the row in the calibration slice.
        row: usize,
        /// The input (KPI or parameter) whose value is wrong.
        kpi: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A line of a calibration JSONL file is not a KPI snapshot. `line` is 1-based.
    #[error("{path}:{line}: {reason}")]
    CalibrationLine {
        /// The calibration file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The parse error.
        reason: String,
    },

    /// A calibration line names an input the model does not have, misses one it has, or
    /// gives a value that is not a finite number.
    #[error("{path}:{line}: KPI `{kpi}`: {reason}")]
    CalibrationKpi {
        /// The calibration file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The KPI or parameter name.
        kpi: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A simulation, training or backtest setting is out of its domain.
    #[error("{what} setting `{field}`: {reason}")]
    InvalidConfig {
        /// Which settings, e.g. "economy", "scenario", "training", "action".
        what: &'static str,
        /// The setting's name.
        field: String,
        /// Its allowed domain and the value given.
        reason: String,
    },
}

impl LabError {
    pub(crate) fn model(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ModelError::model(field, reason).into()
    }

    pub(crate) fn config(what: &'static str, field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidConfig { what, field: field.into(), reason: reason.into() }
    }

    pub(crate) fn kpi(name: impl Into<String>, reason: impl Into<String>) -> Self {
        ModelError::kpi(name, reason).into()
    }
}
