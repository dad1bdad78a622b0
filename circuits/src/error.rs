/// Errors from building a circuit for a model.
#[derive(Debug, thiserror::Error)]
pub enum CircuitError {
    #[error("model {model:?} needs {rows} rows, more than the largest supported circuit (k = {max_k})")]
    TooLarge { model: String, rows: usize, max_k: u32 },

    #[error("model {model:?}: {reason} is not supported")]
    Unsupported { model: String, reason: String },

    #[error("expected {expected} outputs, got {got}")]
    OutputCount { expected: usize, got: usize },

    #[error("output {name} = {value} is outside its declared bounds [{min}, {max}]: the model cannot produce it")]
    OutputOutOfRange { name: String, value: i64, min: i64, max: i64 },

    #[error("adversarial run: {0}")]
    Adversary(String),

    #[error(transparent)]
    Model(#[from] zkpolicy_model::ModelError),
}
