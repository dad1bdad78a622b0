//! The model card: what a model states publicly. It is enough to check a proof's claim
//! (KPI and output names, units and ranges), to quantize a KPI snapshot and to deploy a
//! controller, and it says nothing about the weights, so a protocol can publish it (with
//! the verifying key) while the weights stay with the operator.

use serde::{Deserialize, Serialize};

use crate::bounds::Interval;
use crate::format::{InputSpec, OutputSpec, ParameterSpec};
use crate::model::{check_inputs, check_outputs, check_parameters};
use crate::{Model, ModelCommitment, ModelError};

/// A validated model card. Its quantized KPI ranges are derived from the input
/// specifications exactly as the model's are, so the two can never disagree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CardFile", into = "CardFile")]
pub struct ModelCard {
    name: String,
    commitment: ModelCommitment,
    inputs: Vec<InputSpec>,
    parameters: Vec<ParameterSpec>,
    outputs: Vec<OutputSpec>,
    input_ranges: Vec<Interval>,
    parameter_ranges: Vec<Interval>,
}

/// The card as JSON: `{"name", "model_commitment", "inputs", "parameters"?, "outputs"}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CardFile {
    name: String,
    model_commitment: String,
    inputs: Vec<InputSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    parameters: Vec<ParameterSpec>,
    outputs: Vec<OutputSpec>,
}

impl ModelCard {
    /// A card from its parts, with the same checks a model file's inputs and outputs get.
    pub fn new(
        name: String,
        commitment: ModelCommitment,
        inputs: Vec<InputSpec>,
        parameters: Vec<ParameterSpec>,
        outputs: Vec<OutputSpec>,
    ) -> Result<Self, ModelError> {
        if name.trim().is_empty() {
            return Err(ModelError::model("name", "must not be empty"));
        }
        let input_ranges = check_inputs(&inputs)?;
        check_outputs(&outputs)?;
        let parameter_ranges = check_parameters(&parameters, &outputs)?;
        Ok(Self { name, commitment, inputs, parameters, outputs, input_ranges, parameter_ranges })
    }

    /// For [`Model`], which has already run the checks.
    pub(crate) fn checked(
        name: String,
        commitment: ModelCommitment,
        inputs: Vec<InputSpec>,
        parameters: Vec<ParameterSpec>,
        outputs: Vec<OutputSpec>,
        input_ranges: Vec<Interval>,
        parameter_ranges: Vec<Interval>,
    ) -> Self {
        Self { name, commitment, inputs, parameters, outputs, input_ranges, parameter_ranges }
    }

    /// The same card naming the model by another commitment (a private model's weight
    /// commitment, which, unlike the file's hash, cannot confirm a guessed model).
    pub fn with_commitment(&self, commitment: ModelCommitment) -> Self {
        Self { commitment, ..self.clone() }
    }

    /// Parses a card's JSON and runs the same checks as [`ModelCard::new`]; an operator
    /// publishes this file so verifiers can check claims without the weights.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        serde_json::from_str(text).map_err(|source| ModelError::Json { what: "model card", source })
    }

    /// The model's human-readable name, as in its model file.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The commitment naming the model in artifacts, events and the controller.
    pub fn commitment(&self) -> ModelCommitment {
        self.commitment
    }

    /// The KPIs, in input order.
    pub fn inputs(&self) -> &[InputSpec] {
        &self.inputs
    }

    /// The controller parameters the model reads after the KPIs (empty for a KPI-only model).
    pub fn parameters(&self) -> &[ParameterSpec] {
        &self.parameters
    }

    /// `[min, max]` of each parameter input.
    pub fn parameter_ranges(&self) -> &[Interval] {
        &self.parameter_ranges
    }

    /// How many values the network reads: the KPIs, then the parameters.
    pub fn network_width(&self) -> usize {
        self.inputs.len() + self.parameters.len()
    }

    /// `[min, max]` of every network input, KPIs first.
    pub fn network_ranges(&self) -> Vec<Interval> {
        self.input_ranges.iter().chain(&self.parameter_ranges).copied().collect()
    }

    /// The outputs, in output order.
    pub fn outputs(&self) -> &[OutputSpec] {
        &self.outputs
    }

    /// The parameter changes the controller applies for proven `outputs`: each output's
    /// [`OutputSpec::delta`], the twin of `PolicyController.deltaOf`.
    pub fn deltas(&self, outputs: &[i64]) -> Result<Vec<i64>, ModelError> {
        if outputs.len() != self.outputs.len() {
            return Err(ModelError::WrongCount { what: "outputs", expected: self.outputs.len(), got: outputs.len() });
        }
        self.outputs
            .iter()
            .zip(outputs)
            .map(|(spec, &y)| {
                spec.delta(y).ok_or_else(|| ModelError::model(format!("outputs.{}", spec.name), format!("{y} has no parameter change")))
            })
            .collect()
    }

    /// Quantized `[min, max]` of each KPI.
    pub fn input_ranges(&self) -> &[Interval] {
        &self.input_ranges
    }
}

impl AsRef<ModelCard> for ModelCard {
    fn as_ref(&self) -> &ModelCard {
        self
    }
}

impl AsRef<ModelCard> for Model {
    fn as_ref(&self) -> &ModelCard {
        self.card()
    }
}

impl AsRef<ModelCard> for std::sync::Arc<Model> {
    fn as_ref(&self) -> &ModelCard {
        self.card()
    }
}

impl TryFrom<CardFile> for ModelCard {
    type Error = String;

    fn try_from(file: CardFile) -> Result<Self, String> {
        let commitment = file.model_commitment.parse().map_err(|e| format!("model_commitment: {e}"))?;
        Self::new(file.name, commitment, file.inputs, file.parameters, file.outputs).map_err(|e| e.to_string())
    }
}

impl From<ModelCard> for CardFile {
    fn from(card: ModelCard) -> Self {
        Self {
            name: card.name,
            model_commitment: card.commitment.to_string(),
            inputs: card.inputs,
            parameters: card.parameters,
            outputs: card.outputs,
        }
    }
}
