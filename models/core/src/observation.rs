//! What the policy reads for one decision: the epoch's quantized KPIs, then the
//! controller's current parameters (for a model that declares them).

use crate::{ModelCard, ModelError, QuantizedKpis};

/// The network's input vector, each value inside its declared range: the KPIs in model
/// input order, then one integer per declared parameter, in output order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    kpis: QuantizedKpis,
    parameters: Vec<i64>,
}

impl Observation {
    /// Checks that `parameters` has one value per declared parameter, each inside its range.
    pub fn new(card: &(impl AsRef<ModelCard> + ?Sized), kpis: QuantizedKpis, parameters: Vec<i64>) -> Result<Self, ModelError> {
        let card = card.as_ref();
        let specs = card.parameters();
        if parameters.len() != specs.len() {
            return Err(ModelError::WrongCount { what: "parameters", expected: specs.len(), got: parameters.len() });
        }
        for (spec, &v) in specs.iter().zip(&parameters) {
            if v < spec.min || v > spec.max {
                return Err(ModelError::InvalidParameter {
                    name: spec.name.clone(),
                    reason: format!("value {v} is outside the declared range [{}, {}] {}", spec.min, spec.max, spec.unit),
                });
            }
        }
        Ok(Self { kpis, parameters })
    }

    /// A uniformly random observation inside the card's ranges (tests and benchmarks).
    pub fn random(card: &(impl AsRef<ModelCard> + ?Sized), rng: &mut impl rand::Rng) -> Self {
        let card = card.as_ref();
        let parameters = card.parameter_ranges().iter().map(|r| rng.gen_range(r.lo..=r.hi)).collect();
        Self { kpis: QuantizedKpis::random(card, rng), parameters }
    }

    /// Values taken as given, unchecked: only for adversarial tests (behind the
    /// `test-utils` feature, like `QuantizedKpis::new_unsafe`).
    #[cfg(feature = "test-utils")]
    pub fn new_unsafe(kpis: QuantizedKpis, parameters: Vec<i64>) -> Self {
        Self { kpis, parameters }
    }

    /// The epoch's quantized KPIs, the first inputs of the network.
    pub fn kpis(&self) -> &QuantizedKpis {
        &self.kpis
    }

    /// The controller's current parameter values, in output order, as it stores them
    /// (empty for a model that reads no parameters).
    pub fn parameters(&self) -> &[i64] {
        &self.parameters
    }

    /// The network input vector: KPIs, then parameters.
    pub fn values(&self) -> Vec<i64> {
        self.kpis.values().iter().chain(&self.parameters).copied().collect()
    }
}

/// A KPI-only observation, for a model that declares no parameters (inference and the
/// circuit refuse it for a model that does).
impl From<QuantizedKpis> for Observation {
    fn from(kpis: QuantizedKpis) -> Self {
        Self { kpis, parameters: Vec::new() }
    }
}

impl From<&QuantizedKpis> for Observation {
    fn from(kpis: &QuantizedKpis) -> Self {
        kpis.clone().into()
    }
}

impl From<&Observation> for Observation {
    fn from(observation: &Observation) -> Self {
        observation.clone()
    }
}
