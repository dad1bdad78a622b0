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

/// One output: the integer `y` the circuit proves, clamped to `[min, max]`. It is the real
/// value `y / 2^scale_bits` in `unit`; the controller applies the parameter change
/// [`OutputSpec::delta`]`(y) = round(y · step / 2^scale_bits)`. With both at their defaults
/// (`scale_bits` 0, `step` 1), absent from the file and from its canonical encoding, the
/// output is the integer change itself, as in version-1 files written before they existed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    pub name: String,
    pub unit: String,
    pub min: i64,
    pub max: i64,
    /// Fraction bits of the proven output: `y` stands for `y / 2^scale_bits` `unit`s.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub scale_bits: u32,
    /// The controller's parameter units per output `unit` (a positive integer).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub step: i64,
    #[serde(default)]
    pub description: String,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn one() -> i64 {
    1
}

fn is_one(v: &i64) -> bool {
    *v == 1
}

impl OutputSpec {
    /// An integer output (`scale_bits` 0, `step` 1): the proven value is the parameter change.
    pub fn integer(name: impl Into<String>, unit: impl Into<String>, min: i64, max: i64) -> Self {
        Self { name: name.into(), unit: unit.into(), min, max, scale_bits: 0, step: 1, description: String::new() }
    }

    /// The real value of the proven integer `y`, in `unit`.
    pub fn real(&self, y: i64) -> f64 {
        y as f64 * 2f64.powi(-(self.scale_bits.min(1_000) as i32))
    }

    /// The parameter change the controller applies for the proven output `y`:
    /// `floor((y·step + 2^(scale_bits−1)) / 2^scale_bits)`, i.e. `y·step / 2^scale_bits`
    /// rounded to nearest, halves up (`y·step` when `scale_bits` is 0). The twin of
    /// `PolicyController.deltaOf`. `None` only for a spec the validator refuses
    /// (`step` or `scale_bits` out of range, or `|y·step|` past `i64`).
    pub fn delta(&self, y: i64) -> Option<i64> {
        if self.scale_bits > crate::arith::MAX_OUTPUT_SCALE_BITS || self.step < 1 {
            return None;
        }
        let scaled = y.checked_mul(self.step)?;
        if self.scale_bits == 0 {
            return Some(scaled);
        }
        Some(scaled.checked_add(1i64 << (self.scale_bits - 1))? >> self.scale_bits)
    }
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

/// The activation closing a layer; the output layer's result is then clamped to the
/// declared output bounds. In JSON the parameterless ones are strings (`"relu"`,
/// `"none"`), the others objects: `{"leaky_relu": {"slope": 655}}`,
/// `{"tanh": {"scale_bits": 10}}`, `{"sigmoid": {"scale_bits": 10}}`. Each is the integer
/// function in [`crate::arith`] that the circuit proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(q, 0)`.
    Relu,
    /// The identity (the output layer of a linear head).
    None,
    /// `max(q, 0) + floor(slope · min(q, 0) / 2^16)`: a negative slope of `slope / 2^16`.
    LeakyRelu { slope: i64 },
    /// `round(2^s · tanh(q / 2^s))` with `s = scale_bits`, by lookup table.
    Tanh { scale_bits: u32 },
    /// `round(2^s · sigmoid(q / 2^s))` with `s = scale_bits`, by lookup table.
    Sigmoid { scale_bits: u32 },
}

impl Activation {
    /// The lookup table this activation reads, if it is a table activation.
    pub fn table(self) -> Option<crate::arith::Table> {
        match self {
            Self::Tanh { scale_bits } => Some(crate::arith::Table::new(crate::arith::TableFn::Tanh, scale_bits)),
            Self::Sigmoid { scale_bits } => Some(crate::arith::Table::new(crate::arith::TableFn::Sigmoid, scale_bits)),
            _ => None,
        }
    }

    /// The fixed-point scale of a table activation's input and output.
    pub fn scale_bits(self) -> Option<u32> {
        match self {
            Self::Tanh { scale_bits } | Self::Sigmoid { scale_bits } => Some(scale_bits),
            _ => None,
        }
    }

    /// The integer function the circuit proves (see [`crate::arith`]); `None` where the
    /// circuit has no witness (an input past the comparator's window, a bad parameter).
    pub fn apply(self, q: i64) -> Option<i64> {
        match self {
            Self::Relu => crate::arith::relu(q),
            Self::None => Some(q),
            Self::LeakyRelu { slope } => crate::arith::leaky_relu(q, slope),
            Self::Tanh { .. } | Self::Sigmoid { .. } => self.table()?.apply(q),
        }
    }

    /// The name ONNX and the docs use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Relu => "relu",
            Self::None => "none",
            Self::LeakyRelu { .. } => "leaky_relu",
            Self::Tanh { .. } => "tanh",
            Self::Sigmoid { .. } => "sigmoid",
        }
    }
}
