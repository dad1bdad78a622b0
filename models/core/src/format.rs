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
    /// Must be [`FORMAT_TAG`], so another JSON file is not taken for a model.
    pub format: String,
    /// Must be [`FORMAT_VERSION`].
    pub version: u32,
    /// A non-empty name, shown in cards, reports and artifacts.
    pub name: String,
    /// Free prose for readers; part of the commitment like every other field.
    #[serde(default)]
    pub description: String,
    /// Signed bit width every weight must fit in, e.g. 8 for `[-128, 127]`.
    pub weight_bits: u32,
    /// Signed bit width every bias must fit in.
    pub bias_bits: u32,
    /// The KPIs the network reads first, in input order.
    pub inputs: Vec<InputSpec>,
    /// The controller's current parameters, as inputs after the KPIs: none, or one per
    /// output (parameter `j` is the one output `j` adjusts). Absent from a file, and from
    /// its canonical encoding, when empty, so a KPI-only model keeps its commitment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ParameterSpec>,
    /// The proven outputs, one per row of the last layer, in output order.
    pub outputs: Vec<OutputSpec>,
    /// The dense layers from input to output; at least one.
    pub layers: Vec<LayerSpec>,
}

/// One KPI: a real value in `[min, max]`, quantized to `round(value * 2^scale_bits)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// The key of this KPI in a snapshot's `kpis`; unique among the inputs.
    pub name: String,
    /// The unit of the real value (e.g. `fraction of supply`, `years`), shown in errors and
    /// reports.
    pub unit: String,
    /// The smallest real value accepted; a snapshot below it is refused, not clamped.
    pub min: f64,
    /// The largest real value accepted (strictly above `min`).
    pub max: f64,
    /// Fraction bits of the quantization (at most 24); the quantized span
    /// `max·2^s − min·2^s` must stay below `2^WINDOW_BITS`.
    pub scale_bits: u32,
    /// Free prose for readers.
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
    /// The key of this parameter in a snapshot's `parameters`; unique among the parameters.
    pub name: String,
    /// The unit the controller stores the integer in (e.g. `bps`).
    pub unit: String,
    /// The smallest value the parameter can ever hold, inclusive.
    pub min: i64,
    /// The largest value the parameter can ever hold, inclusive; `max − min` is below
    /// `2^WINDOW_BITS`.
    pub max: i64,
    /// Fraction bits the network reads the integer at (at most 24): it sees `value / 2^scale_bits`.
    pub scale_bits: u32,
    /// Free prose for readers.
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
    /// The output's name, unique among the outputs; with parameters, output `j` adjusts
    /// parameter `j`.
    pub name: String,
    /// The unit of the real value `y / 2^scale_bits`.
    pub unit: String,
    /// The proven `y` is clamped up to this (within ±2^40).
    pub min: i64,
    /// The proven `y` is clamped down to this (at least `min`, within ±2^40).
    pub max: i64,
    /// Fraction bits of the proven output: `y` stands for `y / 2^scale_bits` `unit`s.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub scale_bits: u32,
    /// The controller's parameter units per output `unit` (a positive integer).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub step: i64,
    /// Free prose for readers.
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
    /// One row per output neuron, each with one weight per input of the layer (the
    /// network width for the first layer); every weight fits `weight_bits` signed bits.
    pub weights: Vec<Vec<i64>>,
    /// One bias per row, added to `W·x` before requantization (so at the scale of the
    /// products, `2^(s_x + s_w)`), each fitting `bias_bits` signed bits.
    pub bias: Vec<i64>,
    /// Bits dropped by requantization, at most [`crate::arith::MAX_SHIFT`]; the remainder
    /// is range-checked in the circuit.
    pub shift: u32,
    /// The function applied to the requantized `q`.
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
    LeakyRelu {
        /// The negative-side slope in units of `2^-16`, strictly between 0 and `2^16`.
        slope: i64,
    },
    /// `round(2^s · tanh(q / 2^s))` with `s = scale_bits`, by lookup table.
    Tanh {
        /// Fraction bits of the table's input and output, at most
        /// [`crate::arith::MAX_TABLE_SCALE_BITS`].
        scale_bits: u32,
    },
    /// `round(2^s · sigmoid(q / 2^s))` with `s = scale_bits`, by lookup table.
    Sigmoid {
        /// Fraction bits of the table's input and output; at most 11, so the window fits
        /// the comparator.
        scale_bits: u32,
    },
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
