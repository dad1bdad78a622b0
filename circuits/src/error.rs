/// Errors from building a circuit for a model.
#[derive(Debug, thiserror::Error)]
pub enum CircuitError {
    #[error("model {model:?} needs {rows} rows, more than the largest supported circuit (k = {max_k})")]
    TooLarge { model: String, rows: usize, max_k: u32 },

    #[error("expected {expected} public inputs, got {got}")]
    InstanceCount { expected: usize, got: usize },

    #[error(transparent)]
    Model(#[from] zkpolicy_model::ModelError),
}
