//! The versioned JSON model format. See `models/README.md` for the prose version.

use serde::{Deserialize, Serialize};

/// The `format` tag every model file carries.
pub const FORMAT_TAG: &str = "zkpolicy-model";
/// The only format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// A model file exactly as it is stored. Field order is the canonical order used
/// for the model commitment, so do not reorder fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub format: String,
    pub version: u32,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Signed bit width every weight must fit in, e.g. 8 for `[-128, 127]`.
    pub weight_bits: u32,
    /// Signed bit width every bias must fit in.
    pub bias_bits: u32,
    pub inputs: Vec<InputSpec>,
    /// The controller's current parameters, as inputs after the KPIs: none, or one per
    /// output (parameter `j` is the one output `j` adjusts). Absent from a file, and from
    /// its canonical encoding, when empty, so a KPI-only model keeps its commitment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ParameterSpec>,
    pub outputs: Vec<OutputSpec>,
    pub layers: Vec<LayerSpec>,
}

/// One KPI: a real value in `[min, max]`, quantized to `round(value * 2^scale_bits)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    pub name: String,
    pub unit: String,
    pub min: f64,
    pub max: f64,
    pub scale_bits: u32,
    #[serde(default)]
    pub description: String,
}

/// One controller parameter the policy reads: an integer in `unit` (as the controller
/// stores it) inside `[min, max]`, the widest range its guardrail may ever allow. The
/// network sees it as the real value `value / 2^scale_bits`, so its quantized value is
/// the integer itself: no rounding between the controller's storage and the proof.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterSpec {
    pub name: String,
    pub unit: String,
    pub min: i64,
    pub max: i64,
    pub scale_bits: u32,
    #[serde(default)]
    pub description: String,
}

impl ParameterSpec {
    /// The real value the network sees for the controller's integer `value`.
    pub fn real(&self, value: i64) -> f64 {
        // powi, not a shift: an unvalidated spec's scale_bits may be any u32.
        value as f64 * 2f64.powi(-(self.scale_bits.min(1_000) as i32))
    }

    /// The parameter as a network input: the real range whose quantization is `[min, max]`.
    pub fn as_input(&self) -> InputSpec {
        InputSpec {
            name: self.name.clone(),
            unit: format!("{} / 2^{}", self.unit, self.scale_bits),
            min: self.real(self.min),
            max: self.real(self.max),
            scale_bits: self.scale_bits,
            description: self.description.clone(),
        }
    }
}

/// One parameter adjustment, an integer in `unit` clamped to `[min, max]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    pub name: String,
    pub unit: String,
    pub min: i64,
    pub max: i64,
    #[serde(default)]
    pub description: String,
}

/// A dense layer `q = floor((W·x + b) / 2^shift)` followed by its activation.
/// `weights[j]` is the row of output `j`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    pub weights: Vec<Vec<i64>>,
    pub bias: Vec<i64>,
    pub shift: u32,
    pub activation: Activation,
}

/// Hidden layers use `relu`; the output layer uses `none` and is clamped to the
/// declared output bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Relu,
    None,
}
