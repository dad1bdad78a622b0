//! Refusals before any search: a float policy whose shape, activations or output reach
//! do not fit its IO spec cannot be quantized at any scale.

use super::rounding::pow2;
use super::IoSpec;
use crate::float::FloatPolicy;
use zkpolicy_model::arith::WINDOW_BITS;
use zkpolicy_model::bounds::Interval;
use zkpolicy_model::format::{Activation, InputSpec, ModelFile};

use crate::LabError;

pub(super) fn check_policy(policy: &FloatPolicy, io: &IoSpec) -> Result<(), LabError> {
    let error = |field: String, reason: String| LabError::InvalidPolicy { field, reason };
    if policy.layers.is_empty() {
        return Err(error("layers".into(), "a policy needs at least one layer".into()));
    }
    let last = policy.layers.len() - 1;
    let mut width = io.inputs.len() + io.parameters.len();
    for (l, layer) in policy.layers.iter().enumerate() {
        if layer.weights.is_empty() || layer.bias.len() != layer.weights.len() {
            return Err(error(format!("layers[{l}]"), format!("has {} weight rows and {} biases", layer.weights.len(), layer.bias.len())));
        }
        if let Some(j) = layer.weights.iter().position(|row| row.len() != width) {
            return Err(error(format!("layers[{l}].weights[{j}]"), format!("has {} entries, expected {width}", layer.weights[j].len())));
        }
        let finite = |v: &f64| v.is_finite();
        if let Some(j) = layer.weights.iter().position(|row| !row.iter().all(finite)) {
            return Err(error(format!("layers[{l}].weights[{j}]"), "holds a non-finite weight".into()));
        }
        if let Some(j) = layer.bias.iter().position(|b| !finite(b)) {
            return Err(error(format!("layers[{l}].bias[{j}]"), "is not finite".into()));
        }
        let allowed = match layer.activation {
            Activation::None => l == last,
            Activation::Relu | Activation::LeakyRelu { .. } => l != last,
            Activation::Tanh { .. } | Activation::Sigmoid { .. } => true,
        };
        if !allowed {
            return Err(error(
                format!("layers[{l}].activation"),
                format!(
                    "is {}: hidden layers use relu, leaky_relu, tanh or sigmoid, and the output layer none, tanh or sigmoid",
                    layer.activation.name()
                ),
            ));
        }
        width = layer.weights.len();
    }
    if width != io.outputs.len() {
        return Err(LabError::WrongCount { what: "policy outputs", expected: io.outputs.len(), got: width });
    }
    Ok(())
}

/// Refuses, before any search, a policy whose pre-clamp output can land more than
/// `2^16` output units beyond its bounds: no scale choice changes the output unit,
/// so the circuit's clamp could never compare it.
pub(super) fn check_output_reach(
    policy: &FloatPolicy,
    file: &ModelFile,
    network: &[InputSpec],
    input_ranges: &[Interval],
) -> Result<(), LabError> {
    let mut x: Vec<(f64, f64)> = input_ranges
        .iter()
        .zip(network)
        .map(|(r, spec)| (r.lo as f64 * pow2(-(spec.scale_bits as i32)), r.hi as f64 * pow2(-(spec.scale_bits as i32))))
        .collect();
    for layer in &policy.layers {
        x = layer
            .weights
            .iter()
            .zip(&layer.bias)
            .map(|(row, &b)| {
                let (lo, hi) = row.iter().zip(&x).fold((b, b), |(lo, hi), (w, (a, c))| (lo + (w * a).min(w * c), hi + (w * a).max(w * c)));
                // Every activation is monotone.
                let f = |v: f64| crate::float::FloatPolicy::activate_one(v, layer.activation);
                (f(lo), f(hi))
            })
            .collect();
    }
    let window = (1u64 << WINDOW_BITS) as f64;
    for (j, ((lo, hi), spec)) in x.iter().zip(&file.outputs).enumerate() {
        let scale = pow2(spec.scale_bits as i32);
        let (lo, hi) = (lo * scale, hi * scale);
        if lo < spec.min as f64 - window || hi >= spec.max as f64 + window {
            return Err(LabError::Quantization {
                field: format!("outputs[{j}]"),
                reason: format!(
                    "over the declared input box the policy's pre-clamp output reaches [{lo:.0}, {hi:.0}] {}, more than \
                     2^{WINDOW_BITS} beyond the bounds [{}, {}]; the circuit's clamp cannot compare that far",
                    spec.unit, spec.min, spec.max
                ),
            });
        }
    }
    Ok(())
}
