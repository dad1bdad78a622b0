//! The IO spec: what the model reads and writes, and the scales it fixes before any
//! search — each KPI's `scale_bits` (declared, or the finest its range admits) and the
//! scale of every table activation.

use serde::{Deserialize, Serialize};

use super::QuantizeOptions;
use crate::float::FloatPolicy;
use zkpolicy_model::arith::WINDOW_BITS;
use zkpolicy_model::format::{Activation, InputSpec, ModelFile, OutputSpec, ParameterSpec};

use crate::LabError;

/// `model.rs` limits: the largest input `scale_bits` and quantized input magnitude.
pub(super) const MAX_INPUT_SCALE_BITS: u32 = 24;
const MAX_INPUT_VALUE_BITS: u32 = 40;

/// What the model reads and writes: KPI specs (with their scales), the controller
/// parameters it reads after them (none, or one per output), and output specs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IoSpec {
    /// The KPIs, in network order, with their declared ranges and fixed-point `scale_bits`.
    pub inputs: Vec<InputSpec>,
    /// The controller parameters the network reads after the KPIs, as integers with
    /// `scale_bits` fraction bits; empty for a model that reads KPIs only.
    #[serde(default)]
    pub parameters: Vec<ParameterSpec>,
    /// The adjustments the model outputs, with their bounds (the integer model's clamp) and units.
    pub outputs: Vec<OutputSpec>,
}

impl IoSpec {
    /// The IO of an existing model, e.g. to requantize a retrained policy in its place.
    pub fn of_model(file: &ModelFile) -> Self {
        Self { inputs: file.inputs.clone(), parameters: file.parameters.clone(), outputs: file.outputs.clone() }
    }

    /// Every network input as a real-valued spec: the KPIs, then the parameters (whose
    /// real value is the integer over `2^scale_bits`).
    pub fn network_inputs(&self) -> Vec<InputSpec> {
        self.inputs.iter().cloned().chain(self.parameters.iter().map(ParameterSpec::as_input)).collect()
    }
}

/// Where the KPI `scale_bits` come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputScale {
    /// As declared in [`IoSpec::inputs`].
    Declared,
    /// The finest each KPI's range admits: quantized span below `2^16`.
    Auto,
}

/// The policy with each table activation at the scale it will be quantized at: the
/// outputs' `scale_bits` for a squashed head, `options.table_scale_bits` (if set) elsewhere.
pub(super) fn with_table_scales(policy: &FloatPolicy, io: &IoSpec, options: &QuantizeOptions) -> Result<FloatPolicy, LabError> {
    let mut policy = policy.clone();
    let last = policy.layers.len().saturating_sub(1);
    for (l, layer) in policy.layers.iter_mut().enumerate() {
        let scale = if l == last && layer.activation.table().is_some() {
            let Some(first) = io.outputs.first() else { continue };
            if let Some(o) = io.outputs.iter().find(|o| o.scale_bits != first.scale_bits) {
                return Err(LabError::Quantization {
                    field: format!("outputs.{}.scale_bits", o.name),
                    reason: format!("a {} head gives every output one scale; outputs differ", layer.activation.name()),
                });
            }
            if first.scale_bits == 0 {
                return Err(LabError::Quantization {
                    field: "outputs.scale_bits".into(),
                    reason: format!(
                        "the output layer ends in {} but the outputs are whole integers (scale_bits 0); give them fraction bits \
                         (for example `\"scale_bits\": 12` on each output of the --io model)",
                        layer.activation.name()
                    ),
                });
            }
            first.scale_bits
        } else {
            match options.table_scale_bits {
                Some(bits) => bits,
                None => continue,
            }
        };
        layer.activation = match layer.activation {
            Activation::Tanh { .. } => Activation::Tanh { scale_bits: scale },
            Activation::Sigmoid { .. } => Activation::Sigmoid { scale_bits: scale },
            other => other,
        };
    }
    Ok(policy)
}

/// Finest `scale_bits` whose quantized range passes `Model::from_file`'s input checks.
pub(super) fn auto_scale_bits(spec: &InputSpec) -> Result<u32, LabError> {
    let fits = |bits: u32| {
        let scale = (1u64 << bits) as f64;
        let (lo, hi) = ((spec.min * scale).round(), (spec.max * scale).round());
        let limit = (1u64 << MAX_INPUT_VALUE_BITS) as f64;
        lo.abs() < limit && hi.abs() < limit && hi - lo < (1u64 << WINDOW_BITS) as f64
    };
    if !(spec.min.is_finite() && spec.max.is_finite() && spec.min < spec.max) {
        return Err(LabError::kpi(&spec.name, format!("needs a finite range min < max, got [{}, {}]", spec.min, spec.max)));
    }
    (0..=MAX_INPUT_SCALE_BITS).rev().find(|&b| fits(b)).ok_or_else(|| {
        LabError::kpi(&spec.name, format!("range [{}, {}] is wider than 2^{WINDOW_BITS} even at scale_bits 0", spec.min, spec.max))
    })
}
