//! A float MLP policy: what ONNX import reads, what the trainer optimises, and
//! what [`crate::quantize`] turns into an integer model file.
//!
//! Inputs are real KPI values (in their declared units, not quantized); outputs
//! are real adjustments in the output unit (e.g. bps), clamped to the declared
//! output bounds exactly as the integer model clamps its last layer.

use serde::{Deserialize, Serialize};

use zkpolicy_model::format::Activation;

/// A dense layer `activation(W·x + b)`; `weights[j]` is the row of output `j`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloatLayer {
    pub weights: Vec<Vec<f64>>,
    pub bias: Vec<f64>,
    pub activation: Activation,
}

/// Layers in order; hidden layers use relu, the last none (then the output clamp).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloatPolicy {
    pub layers: Vec<FloatLayer>,
}

impl FloatPolicy {
    /// Input count (0 for an empty policy).
    pub fn inputs(&self) -> usize {
        self.layers.first().and_then(|l| l.weights.first()).map_or(0, Vec::len)
    }

    /// Output count (0 for an empty policy).
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(0, |l| l.bias.len())
    }

    /// `[inputs, hidden..., outputs]`.
    pub fn dims(&self) -> Vec<usize> {
        std::iter::once(self.inputs()).chain(self.layers.iter().map(|l| l.bias.len())).collect()
    }

    /// Every layer's pre-activation and output on `x`, before the output clamp.
    /// `x.len()` must equal [`FloatPolicy::inputs`]; a shorter row reads as zeros.
    pub fn activations(&self, x: &[f64]) -> Vec<Vec<f64>> {
        let mut out = Vec::with_capacity(self.layers.len());
        let mut h = x.to_vec();
        for layer in &self.layers {
            let z: Vec<f64> =
                layer.weights.iter().zip(&layer.bias).map(|(row, b)| row.iter().zip(&h).map(|(w, v)| w * v).sum::<f64>() + b).collect();
            h = match layer.activation {
                Activation::Relu => z.iter().map(|v| v.max(0.0)).collect(),
                Activation::None => z,
            };
            out.push(h.clone());
        }
        out
    }

    /// The policy's outputs on `x`, clamped to `bounds` (`(min, max)` per output).
    pub fn forward(&self, x: &[f64], bounds: &[(f64, f64)]) -> Vec<f64> {
        let last = self.activations(x).pop().unwrap_or_default();
        last.iter().zip(bounds).map(|(v, (lo, hi))| v.clamp(*lo, *hi)).collect()
    }

    /// All weights and biases as one flat vector (layer by layer, rows then bias).
    pub fn to_flat(&self) -> Vec<f64> {
        let mut flat = Vec::new();
        for layer in &self.layers {
            for row in &layer.weights {
                flat.extend_from_slice(row);
            }
            flat.extend_from_slice(&layer.bias);
        }
        flat
    }

    /// A policy of the same shape with its parameters taken from `flat` (see [`FloatPolicy::to_flat`]).
    pub fn with_flat(&self, flat: &[f64]) -> Self {
        let mut it = flat.iter().copied();
        let mut next = || it.next().unwrap_or(0.0);
        let layers = self
            .layers
            .iter()
            .map(|l| FloatLayer {
                weights: l.weights.iter().map(|row| row.iter().map(|_| next()).collect()).collect(),
                bias: l.bias.iter().map(|_| next()).collect(),
                activation: l.activation,
            })
            .collect();
        Self { layers }
    }

    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(|l| l.weights.iter().map(Vec::len).sum::<usize>() + l.bias.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> FloatPolicy {
        FloatPolicy {
            layers: vec![
                FloatLayer { weights: vec![vec![1.0, -1.0], vec![0.5, 0.5]], bias: vec![0.0, -1.0], activation: Activation::Relu },
                FloatLayer { weights: vec![vec![2.0, 3.0]], bias: vec![1.0], activation: Activation::None },
            ],
        }
    }

    #[test]
    fn forward_applies_relu_then_the_output_clamp() {
        let p = tiny();
        assert_eq!(p.dims(), vec![2, 2, 1]);
        // h = relu([3-1, 0.5*4-1]) = [2, 1]; y = 2*2 + 3*1 + 1 = 8.
        assert_eq!(p.forward(&[3.0, 1.0], &[(-100.0, 100.0)]), vec![8.0]);
        assert_eq!(p.forward(&[3.0, 1.0], &[(-5.0, 5.0)]), vec![5.0]);
        // h = relu([-2, -0.5]) = 0; y = bias.
        assert_eq!(p.forward(&[-1.0, 1.0], &[(-100.0, 100.0)]), vec![1.0]);
    }

    #[test]
    fn flat_round_trip() {
        let p = tiny();
        assert_eq!(p.parameter_count(), 9);
        assert_eq!(p.with_flat(&p.to_flat()), p);
        let shifted: Vec<f64> = p.to_flat().iter().map(|v| v + 1.0).collect();
        assert_ne!(p.with_flat(&shifted), p);
    }
}
