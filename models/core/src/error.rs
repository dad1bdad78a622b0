use std::path::PathBuf;

/// Everything that can be wrong with a model file, a model card, a KPI snapshot or a
/// guardrail.
///
/// `field` is a path into the JSON document (`layers[1].weights[3][7]`) so a
/// user can find the offending value without reading code.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A model file or KPI snapshot could not be read: missing, unreadable, or past its
    /// size limit ([`crate::io::MAX_MODEL_BYTES`], [`crate::io::MAX_SNAPSHOT_BYTES`]).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file that was being read.
        path: PathBuf,
        /// Why reading it failed.
        source: std::io::Error,
    },

    /// A document (`what`: "model file", "model card", "KPI snapshot") is not JSON, or
    /// does not match its schema (a missing, unknown or duplicated key, a wrong type).
    #[error("{what} is not valid JSON for its schema: {source}")]
    Json {
        /// Which kind of document failed to parse.
        what: &'static str,
        /// serde_json's account of the failure, with line and column.
        source: serde_json::Error,
    },

    /// The model file (or card) parses but breaks a rule of the format or the bounds
    /// analysis, so no circuit can be built for it.
    #[error("model field `{field}`: {reason}")]
    InvalidModel {
        /// Path of the offending value in the JSON document, e.g. `layers[1].weights[3]`.
        field: String,
        /// The rule it breaks and how to fix it.
        reason: String,
    },

    /// A KPI (in a snapshot, or already quantized as read from a chain) is unknown to the
    /// model, missing, not finite, or outside its declared range: no proof can use it.
    #[error("KPI `{name}`: {reason}")]
    InvalidKpi {
        /// The KPI's name as the model declares it (or as the snapshot spells an unknown one).
        name: String,
        /// What is wrong with its value.
        reason: String,
    },

    /// A controller parameter given to a model that reads parameters is unknown,
    /// missing, or outside its declared `[min, max]`.
    #[error("parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter's name as the model declares it.
        name: String,
        /// What is wrong with its value.
        reason: String,
    },

    /// A vector has the wrong length for the model or the rails it is used with (e.g.
    /// quantized KPIs read from a chain, parameters, outputs or parameter deltas).
    #[error("expected {expected} {what}, got {got}")]
    WrongCount {
        /// What was counted, e.g. "parameters" or "cap anchors".
        what: &'static str,
        /// How many the model or rails declare.
        expected: usize,
        /// How many were given.
        got: usize,
    },

    /// A rail the controller would refuse (`field` names it: `[2] (burn_rate_bps)`).
    #[error("guardrails setting `{field}`: {reason}")]
    InvalidGuardrail {
        /// The rail's index and parameter name, e.g. `[2] (burn_rate_bps)`.
        field: String,
        /// The `checkRail` rule it breaks.
        reason: String,
    },
}

impl ModelError {
    /// An invalid model field; also for the builders that make model files.
    pub fn model(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidModel { field: field.into(), reason: reason.into() }
    }

    /// An invalid KPI `name`; also for the lab's calibration, which reads KPI data sets.
    pub fn kpi(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidKpi { name: name.into(), reason: reason.into() }
    }

    pub(crate) fn guardrail(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidGuardrail { field: field.into(), reason: reason.into() }
    }
}
