/// Errors from building a circuit for a model.
#[derive(Debug, thiserror::Error)]
pub enum CircuitError {
    /// No lane width fits the model in `2^max_k` rows: the planner refuses it (a smaller
    /// model, or a benchmark's larger `max_k`, is the way out).
    #[error("model {model:?} needs {rows} rows, more than the largest supported circuit (k = {max_k})")]
    TooLarge {
        /// The model's name.
        model: String,
        /// Rows the smallest shape tried would need (usable rows, before blinding).
        rows: usize,
        /// The largest `k` allowed, normally [`crate::layout::MAX_K`].
        max_k: u32,
    },

    /// A model construct the circuit has no layout for. Nothing in this crate raises it
    /// today: validation refuses such models before a circuit is built.
    #[error("model {model:?}: {reason} is not supported")]
    Unsupported {
        /// The model's name.
        model: String,
        /// The unsupported construct.
        reason: String,
    },

    /// Claimed public inputs carry a different number of outputs than the model declares.
    #[error("expected {expected} outputs, got {got}")]
    OutputCount {
        /// Outputs the model card declares.
        expected: usize,
        /// Outputs claimed.
        got: usize,
    },

    /// A claimed output lies outside its declared clamp, so no proof of it exists;
    /// refused before any instance is built, as the encoding rule requires.
    #[error("output {name} = {value} is outside its declared bounds [{min}, {max}]: the model cannot produce it")]
    OutputOutOfRange {
        /// The output's name.
        name: String,
        /// The claimed (integer, fixed-point) output.
        value: i64,
        /// The output's declared lower bound.
        min: i64,
        /// The output's declared upper bound.
        max: i64,
    },

    /// The adversary's workbench or the free-cell audit could not start: the circuit has
    /// no input, synthesis failed, or the honest witness itself fails (test-utils only).
    #[error("adversarial run: {0}")]
    Adversary(String),

    /// The model, card, KPIs or parameters were refused by `zkpolicy-model`.
    #[error(transparent)]
    Model(#[from] zkpolicy_model::ModelError),
}
