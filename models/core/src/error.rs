use std::path::PathBuf;

/// Everything that can be wrong with a model file, a model card, a KPI snapshot or a
/// guardrail.
///
/// `field` is a path into the JSON document (`layers[1].weights[3][7]`) so a
/// user can find the offending value without reading code.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },

    #[error("{what} is not valid JSON for its schema: {source}")]
    Json { what: &'static str, source: serde_json::Error },

    #[error("model field `{field}`: {reason}")]
    InvalidModel { field: String, reason: String },

    #[error("KPI `{name}`: {reason}")]
    InvalidKpi { name: String, reason: String },

    #[error("parameter `{name}`: {reason}")]
    InvalidParameter { name: String, reason: String },

    #[error("expected {expected} {what}, got {got}")]
    WrongCount { what: &'static str, expected: usize, got: usize },

    /// A rail the controller would refuse (`field` names it: `[2] (burn_rate_bps)`).
    #[error("guardrails setting `{field}`: {reason}")]
    InvalidGuardrail { field: String, reason: String },
}

impl ModelError {
    /// An invalid model field; also for the builders that make model files.
    pub fn model(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidModel { field: field.into(), reason: reason.into() }
    }

    pub fn kpi(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidKpi { name: name.into(), reason: reason.into() }
    }

    pub(crate) fn guardrail(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidGuardrail { field: field.into(), reason: reason.into() }
    }
}
