use std::path::PathBuf;

use zkpolicy_model::ModelError;

/// Everything that can go wrong making or studying a policy: ONNX files, calibration
/// data, float policies, simulation, training and backtest settings, and the model
/// files those produce (a [`ModelError`]).
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(transparent)]
    Model(#[from] ModelError),

    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },

    #[error("{what} is not valid JSON for its schema: {source}")]
    Json { what: &'static str, source: serde_json::Error },

    #[error("expected {expected} {what}, got {got}")]
    WrongCount { what: &'static str, expected: usize, got: usize },

    #[cfg(feature = "onnx")]
    #[error("not an ONNX model: {source}")]
    OnnxDecode { source: prost::DecodeError },

    #[error("unsupported ONNX op \"{op_type}\" at node \"{node}\"")]
    UnsupportedOnnxOp { op_type: String, node: String },

    #[error("ONNX node \"{node}\" ({op_type}): attribute `{attribute}` {reason}")]
    UnsupportedOnnxAttribute { node: String, op_type: String, attribute: String, reason: String },

    #[error("ONNX node \"{node}\" ({op_type}): {reason}")]
    InvalidOnnxNode { node: String, op_type: String, reason: String },

    #[error("ONNX tensor \"{tensor}\": {reason}")]
    InvalidOnnxTensor { tensor: String, reason: String },

    #[error("ONNX graph: {reason}")]
    InvalidOnnxGraph { reason: String },

    /// The integer model would clamp more loosely than the ONNX model's Clip.
    #[error("output `{output}` bounds [{min}, {max}] are not inside the ONNX Clip range [{clip_min}, {clip_max}]")]
    ClipNarrowerThanBounds { output: String, min: f64, max: f64, clip_min: f64, clip_max: f64 },

    #[error("float policy field `{field}`: {reason}")]
    InvalidPolicy { field: String, reason: String },

    #[error("cannot quantize `{field}`: {reason}")]
    Quantization { field: String, reason: String },

    #[error("calibration needs at least one KPI vector")]
    NoCalibration,

    /// `row` is the 0-based index into the calibration slice.
    #[error("calibration row {row}, KPI `{kpi}`: {reason}")]
    CalibrationRow { row: usize, kpi: String, reason: String },

    /// `line` is 1-based.
    #[error("{path}:{line}: {reason}")]
    CalibrationLine { path: PathBuf, line: usize, reason: String },

    #[error("{path}:{line}: KPI `{kpi}`: {reason}")]
    CalibrationKpi { path: PathBuf, line: usize, kpi: String, reason: String },

    /// A simulation, training or backtest setting is out of its domain.
    #[error("{what} setting `{field}`: {reason}")]
    InvalidConfig { what: &'static str, field: String, reason: String },
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
