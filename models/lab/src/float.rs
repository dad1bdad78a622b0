//! A float MLP policy: what ONNX import reads, what the trainer optimises, and
//! what [`crate::quantize`] turns into an integer model file.
//!
//! Inputs are real KPI values (in their declared units, not quantized); outputs
//! are real adjustments in the output unit (e.g. bps), clamped to the declared
//! output bounds exactly as the integer model clamps its last layer.

use ndarray::{Array1, Array2, ArrayView2, ShapeBuilder};
use serde::{Deserialize, Serialize};
use zkpolicy_model::format::Activation;

/// A dense layer `activation(W·x + b)`; `weights[j]` is the row of output `j`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloatLayer {
    /// `outputs × inputs` real weights, one row per output neuron; every row has the
    /// previous layer's width (the network's input count for the first layer).
    pub weights: Vec<Vec<f64>>,
    /// One real bias per output neuron, added before the activation.
    pub bias: Vec<f64>,
    /// The nonlinearity closing the layer. A tanh's or sigmoid's `scale_bits` is its
    /// table's fixed-point scale, unless the quantizer's options or a squashed head override it.
    pub activation: Activation,
}

/// Layers in order; hidden layers use relu, the last none (then the output clamp).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloatPolicy {
    /// The dense layers from the network inputs (KPIs, then any parameters) to the outputs.
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

    /// Every layer's output on `x` (after its activation), before the output clamp.
    /// `x.len()` must equal [`FloatPolicy::inputs`]; a shorter row reads as zeros.
    pub fn activations(&self, x: &[f64]) -> Vec<Vec<f64>> {
        FloatNet::new(self).activations(x).iter().map(|h| h.to_vec()).collect()
    }

    /// The policy's outputs on `x`, clamped to `bounds` (`(min, max)` per output).
    pub fn forward(&self, x: &[f64], bounds: &[(f64, f64)]) -> Vec<f64> {
        FloatNet::new(self).forward(x, bounds)
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

    /// One value through `activation`, as [`FloatNet`] applies it.
    pub fn activate_one(v: f64, activation: Activation) -> f64 {
        activate(ndarray::arr0(v), activation).into_scalar()
    }

    /// Number of trainable values, weights plus biases: the length of [`FloatPolicy::to_flat`].
    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(|l| l.weights.iter().map(Vec::len).sum::<usize>() + l.bias.len()).sum()
    }
}

/// A policy as matrices, built once and evaluated many times (the simulator calls it
/// every epoch). Layer `l` computes `z = W·h + b` and `h' = activation(z)`.
///
/// Each `W` is stored column-major. That changes no result but one: `W·h` for a single
/// vector then sums every row in index order (ndarray's dot over a strided row), exactly
/// as the bundled trained policy was computed, so retraining it reproduces its bits. A
/// batch of inputs is one matrix product per layer.
#[derive(Clone, Debug)]
pub struct FloatNet {
    layers: Vec<Dense>,
}

#[derive(Clone, Debug)]
struct Dense {
    /// `outputs × inputs`, column-major.
    weights: Array2<f64>,
    bias: Array1<f64>,
    activation: Activation,
}

impl FloatNet {
    /// The matrices of `policy`. A ragged row reads as zeros where it is short and is cut
    /// where it is long, as does an input vector of the wrong length.
    pub fn new(policy: &FloatPolicy) -> Self {
        let mut width = policy.inputs();
        let layers = policy
            .layers
            .iter()
            .map(|layer| {
                let rows = layer.weights.len().min(layer.bias.len());
                let weights = Array2::from_shape_fn((rows, width).f(), |(j, i)| layer.weights[j].get(i).copied().unwrap_or(0.0));
                width = rows;
                Dense { weights, bias: Array1::from_iter(layer.bias[..rows].iter().copied()), activation: layer.activation }
            })
            .collect();
        Self { layers }
    }

    fn inputs(&self) -> usize {
        self.layers.first().map_or(0, |l| l.weights.ncols())
    }

    /// Every layer's output on `x` (after its activation), before the output clamp.
    pub fn activations(&self, x: &[f64]) -> Vec<Array1<f64>> {
        let mut h = Array1::from_shape_fn(self.inputs(), |i| x.get(i).copied().unwrap_or(0.0));
        self.layers
            .iter()
            .map(|layer| {
                h = activate(layer.weights.dot(&h) + &layer.bias, layer.activation);
                h.clone()
            })
            .collect()
    }

    /// The outputs on `x`, clamped to `bounds` (`(min, max)` per output).
    pub fn forward(&self, x: &[f64], bounds: &[(f64, f64)]) -> Vec<f64> {
        let last = self.activations(x).pop().unwrap_or_default();
        last.iter().zip(bounds).map(|(v, (lo, hi))| v.clamp(*lo, *hi)).collect()
    }

    /// Every layer's pre-activations on a batch (one input vector per row of `xs`, of
    /// [`FloatPolicy::inputs`] columns): one matrix product per layer.
    pub fn pre_activations(&self, xs: ArrayView2<'_, f64>) -> Vec<Array2<f64>> {
        let mut h = xs.to_owned();
        self.layers
            .iter()
            .map(|layer| {
                let z = h.dot(&layer.weights.t()) + &layer.bias;
                h = activate(z.clone(), layer.activation);
                z
            })
            .collect()
    }
}

/// The real-valued activation: a table activation's `scale_bits` only matters to the
/// integer model, and leaky ReLU's slope is `slope / 2^16` in both.
fn activate<D: ndarray::Dimension>(z: ndarray::Array<f64, D>, activation: Activation) -> ndarray::Array<f64, D> {
    match activation {
        Activation::Relu => z.mapv_into(|v| v.max(0.0)),
        Activation::None => z,
        Activation::LeakyRelu { slope } => {
            let alpha = slope as f64 / (1u64 << zkpolicy_model::arith::LEAKY_SHIFT) as f64;
            z.mapv_into(|v| if v >= 0.0 { v } else { alpha * v })
        }
        Activation::Tanh { .. } => z.mapv_into(f64::tanh),
        Activation::Sigmoid { .. } => z.mapv_into(|v| 1.0 / (1.0 + (-v).exp())),
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
    fn a_batch_is_the_rows_evaluated_one_by_one() {
        let net = FloatNet::new(&tiny());
        let xs = ndarray::array![[3.0, 1.0], [-1.0, 1.0], [0.5, 2.0]];
        let z = net.pre_activations(xs.view());
        assert_eq!(z.len(), 2);
        for (r, x) in xs.rows().into_iter().enumerate() {
            let one = net.activations(x.as_slice().expect("contiguous"));
            assert_eq!(z[1][[r, 0]], one[1][0]);
            assert_eq!(z[0].row(r).mapv(|v| v.max(0.0)), one[0]);
        }
        // A short input reads as zeros.
        assert_eq!(net.forward(&[3.0], &[(-100.0, 100.0)]), net.forward(&[3.0, 0.0], &[(-100.0, 100.0)]));
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
