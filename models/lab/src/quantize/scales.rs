//! The scale choice: for given hidden-layer shifts, each neuron's activation scale
//! `u_j` and accumulator exponent `e_j` under the comparator window and the weight and
//! bias widths, layer by layer, and the error the resulting candidate costs.

use super::calibration::{calibration_max_abs, measure_error};
use super::checks::{check_output_reach, check_policy};
use super::rounding::{max_exponent, pow2, Built};
use super::{IoSpec, LayerReport, OutputError, QuantizeOptions};
use crate::float::{FloatLayer, FloatPolicy};
use zkpolicy_model::arith::{self, MAX_SHIFT, WINDOW_BITS};
use zkpolicy_model::bounds::Interval;
use zkpolicy_model::format::{Activation, InputSpec, LayerSpec, ModelFile, OutputSpec, FORMAT_TAG, FORMAT_VERSION};
use zkpolicy_model::Model;

use crate::LabError;

/// Hidden pre-activation bounds are scaled up to the comparator window; where weight
/// rounding pushes the integer interval past it, the neuron's ceiling drops a bit.
const HIDDEN_CEILING: f64 = (1u64 << WINDOW_BITS) as f64;
/// Scale cap for neurons whose bound is zero or tiny (a dead neuron stays 0 at any scale).
const MAX_ACTIVATION_SCALE: i32 = 40;

/// The validated inputs to every candidate build.
pub(super) struct Plan<'a> {
    policy: &'a FloatPolicy,
    /// Header and IO of the result; `layers` is filled per candidate.
    file: ModelFile,
    /// KPIs then parameters, as real-valued specs.
    pub(super) network_inputs: Vec<InputSpec>,
    /// Their quantized ranges.
    input_ranges: Vec<Interval>,
    /// Largest |pre-activation| per layer over the calibration rows.
    calibration_max: Vec<f64>,
    weight_max: f64,
    bias_max: f64,
    /// Bias room kept for the `2^(shift−1)` rounding offset (0: floor).
    pub(super) rounding_room: f64,
}

/// One quantized candidate with what it costs.
pub(super) struct Candidate {
    pub(super) file: ModelFile,
    pub(super) layers: Vec<LayerReport>,
    pub(super) errors: Vec<OutputError>,
    score: f64,
}

pub(super) fn score(candidate: &Result<Candidate, LabError>) -> f64 {
    candidate.as_ref().map_or(f64::INFINITY, |c| c.score)
}

impl<'a> Plan<'a> {
    pub(super) fn new(policy: &'a FloatPolicy, io: IoSpec, options: &QuantizeOptions, calibration: &[Vec<f64>]) -> Result<Self, LabError> {
        check_policy(policy, &io)?;
        let network_inputs = io.network_inputs();
        let mut file = ModelFile {
            format: FORMAT_TAG.into(),
            version: FORMAT_VERSION,
            name: options.name.clone(),
            description: options.description.clone(),
            weight_bits: options.weight_bits,
            bias_bits: options.bias_bits,
            inputs: io.inputs,
            parameters: io.parameters,
            outputs: io.outputs,
            layers: vec![],
        };
        // Validate header and IO once, through the real validator, on a constant-zero layer.
        let zero = LayerSpec {
            weights: vec![vec![0; network_inputs.len()]; file.outputs.len()],
            bias: vec![0; file.outputs.len()],
            shift: 0,
            activation: Activation::None,
        };
        file.layers = vec![zero];
        let input_ranges = Model::from_file(file.clone())?.network_ranges();
        file.layers.clear();
        check_output_reach(policy, &file, &network_inputs, &input_ranges)?;
        let bias_max = ((1u64 << (options.bias_bits - 1)) - 1) as f64;
        let offset = (1u64 << (MAX_SHIFT - 1)) as f64;
        Ok(Self {
            policy,
            file,
            network_inputs,
            input_ranges,
            calibration_max: calibration_max_abs(policy, calibration),
            weight_max: ((1u64 << (options.weight_bits - 1)) - 1) as f64,
            bias_max,
            rounding_room: if bias_max >= 2.0 * offset { offset } else { 0.0 },
        })
    }

    pub(super) fn evaluate(&self, shifts: &[u32], calibration: &[Vec<f64>]) -> Result<Candidate, LabError> {
        let (layers, reports) = self.build(shifts)?;
        let model = Model::from_file(ModelFile { layers, ..self.file.clone() })?;
        let errors = measure_error(&model, self.policy, calibration)?;
        // Mean square errors relative to each output's range, so no unit dominates the choice.
        let score = errors
            .iter()
            .zip(&self.file.outputs)
            .map(|(e, spec)| (e.rms_error / (spec.real(spec.max) - spec.real(spec.min)).max(spec.real(1))).powi(2))
            .sum();
        Ok(Candidate { file: model.file().clone(), layers: reports, errors, score })
    }

    /// Quantizes every layer given each hidden layer's shift.
    fn build(&self, shifts: &[u32]) -> Result<(Vec<LayerSpec>, Vec<LayerReport>), LabError> {
        let mut scales: Vec<i32> = self.network_inputs.iter().map(|i| i.scale_bits as i32).collect();
        let mut ranges = self.input_ranges.clone();
        let (mut layers, mut reports) = (vec![], vec![]);
        let last = self.policy.layers.len() - 1;
        for (l, layer) in self.policy.layers.iter().enumerate() {
            let bound = interval_bounds(layer, &scales, &ranges);
            let built = if l == last {
                self.output_layer(l, layer, &scales, &ranges)?
            } else {
                let feeds_output = (l + 1 == last).then(|| &self.policy.layers[last]);
                self.hidden_layer(l, layer, &scales, &ranges, &bound, shifts[l], feeds_output)?
            };
            reports.push(LayerReport {
                shift: built.spec.shift,
                activation_scale_bits: built.scales.clone(),
                accumulator_scale_bits: built.accumulator.clone(),
                interval_max_abs: bound.iter().copied().fold(0.0, f64::max),
                calibration_max_abs: self.calibration_max.get(l).copied().unwrap_or(0.0),
            });
            let activation = built.spec.activation;
            ranges = built
                .q
                .iter()
                .map(|q| match (activation.apply(q.lo), activation.apply(q.hi)) {
                    (Some(lo), Some(hi)) => Ok(Interval { lo, hi }),
                    _ => Err(LabError::Quantization {
                        field: format!("layers[{l}]"),
                        reason: format!("{} has no value on [{}, {}]", activation.name(), q.lo, q.hi),
                    }),
                })
                .collect::<Result<_, _>>()?;
            scales = built.scales;
            layers.push(built.spec);
        }
        Ok((layers, reports))
    }

    /// A hidden layer at `shift`; `output` is the output layer when this layer feeds it.
    #[allow(clippy::too_many_arguments)]
    fn hidden_layer(
        &self,
        l: usize,
        layer: &FloatLayer,
        t_in: &[i32],
        x: &[Interval],
        bound: &[f64],
        shift: u32,
        output: Option<&FloatLayer>,
    ) -> Result<Built, LabError> {
        let mut ceiling: Vec<i32> = bound
            .iter()
            .map(|&b| if b > 0.0 { ((HIDDEN_CEILING / b).log2().floor() as i32).min(MAX_ACTIVATION_SCALE) } else { MAX_ACTIVATION_SCALE })
            .collect();
        let caps: Vec<i32> = layer.weights.iter().zip(&layer.bias).map(|(w, &b)| self.weight_cap(w, t_in).min(self.bias_cap(b))).collect();
        if let Some(table) = layer.activation.table() {
            return self.table_layer(l, layer, t_in, x, &caps, shift, table);
        }
        // Each pass lowers one ceiling by a bit; 64 bits per neuron is far past any useful scale.
        for _ in 0..64 * ceiling.len() {
            let highest: Vec<i32> = caps.iter().zip(&ceiling).map(|(&c, &u)| u.min(c.saturating_sub(shift as i32))).collect();
            let scales = match output {
                Some(output) => self.fill_output_columns(output, &highest),
                None => highest,
            };
            let accumulator: Vec<i32> = scales.iter().map(|u| u + shift as i32).collect();
            let built = self.layer_spec(l, layer, t_in, x, &accumulator, shift, layer.activation)?;
            match built.q.iter().position(|q| arith::relu(q.lo).is_none() || arith::relu(q.hi).is_none()) {
                None => return Ok(built),
                Some(j) => ceiling[j] -= 1,
            }
        }
        Err(LabError::Quantization {
            field: format!("layers[{l}]"),
            reason: "no activation scale keeps the layer inside the comparator window".into(),
        })
    }

    /// A tanh or sigmoid layer: every neuron at the table's scale, accumulating at
    /// `scale + shift`, and its pre-activation within the comparator's reach of the window.
    #[allow(clippy::too_many_arguments)]
    fn table_layer(
        &self,
        l: usize,
        layer: &FloatLayer,
        t_in: &[i32],
        x: &[Interval],
        caps: &[i32],
        shift: u32,
        table: zkpolicy_model::arith::Table,
    ) -> Result<Built, LabError> {
        let e = table.scale_bits as i32 + shift as i32;
        if let Some(j) = caps.iter().position(|&c| c < e) {
            return Err(LabError::Quantization {
                field: format!("layers[{l}].weights[{j}]"),
                reason: format!("does not fit {} weight bits at accumulator scale 2^{e}; lower the shift", self.file.weight_bits),
            });
        }
        let built = self.layer_spec(l, layer, t_in, x, &vec![e; caps.len()], shift, layer.activation)?;
        if let Some((j, q)) = built.q.iter().enumerate().find(|(_, q)| table.apply(q.lo).is_none() || table.apply(q.hi).is_none()) {
            return Err(LabError::Quantization {
                field: format!("layers[{l}].weights[{j}]"),
                reason: format!(
                    "the pre-activation reaches [{}, {}] at scale 2^{}, beyond the comparator's reach of the {} window [{}, {}]; \
                     lower its scale_bits",
                    q.lo,
                    q.hi,
                    table.scale_bits,
                    layer.activation.name(),
                    table.lo,
                    table.hi
                ),
            });
        }
        Ok(built)
    }

    /// Scales `u_j <= highest[j]` at which every column of the output layer fills the
    /// weight range at the output layer's largest feasible shift `e`: `u_j = e − fill_j`
    /// with `fill_j` the largest exponent at which column `j` fits.
    fn fill_output_columns(&self, output: &FloatLayer, highest: &[i32]) -> Vec<i32> {
        let fill: Vec<i32> = (0..highest.len())
            .map(|j| max_exponent(output.weights.iter().map(|row| row[j].abs()).fold(0.0, f64::max), self.weight_max))
            .collect();
        let e = highest
            .iter()
            .zip(&fill)
            .map(|(u, f)| u.saturating_add(*f))
            .chain(output.bias.iter().map(|&b| self.bias_cap(b)))
            .fold(MAX_SHIFT as i32 + self.output_fraction(), i32::min);
        // A zero column (fill = i32::MAX) reads its neuron at any scale: keep the highest.
        highest.iter().zip(&fill).map(|(&u, &f)| if f == i32::MAX { u } else { u.min(e - f) }).collect()
    }

    /// The fewest fraction bits among the outputs: the output layer accumulates at
    /// `shift + scale_bits`, so its exponent may reach `MAX_SHIFT` plus this.
    fn output_fraction(&self) -> i32 {
        self.file.outputs.iter().map(|o| o.scale_bits as i32).min().unwrap_or(0)
    }

    /// The output layer: row `j` at scale `2^(shift + s_j)`, output `j` in the output unit
    /// with `s_j` fraction bits (its `scale_bits`).
    fn output_layer(&self, l: usize, layer: &FloatLayer, t_in: &[i32], x: &[Interval]) -> Result<Built, LabError> {
        let fraction: Vec<i32> = self.file.outputs.iter().map(|o| o.scale_bits as i32).collect();
        let caps: Vec<i32> = layer
            .weights
            .iter()
            .zip(&layer.bias)
            .zip(&fraction)
            .map(|((w, &b), s)| self.weight_cap(w, t_in).min(self.bias_cap(b)) - s)
            .collect();
        let Some((j, &cap)) = caps.iter().enumerate().min_by_key(|(_, c)| **c) else {
            return Err(LabError::InvalidPolicy { field: format!("layers[{l}]"), reason: "has no rows".into() });
        };
        if cap < 0 {
            return Err(LabError::Quantization {
                field: format!("layers[{l}].weights[{j}]"),
                reason: format!(
                    "needs a negative shift ({cap}) to fit {} weight bits at the previous layer's scales",
                    self.file.weight_bits
                ),
            });
        }
        let shift = cap.min(MAX_SHIFT as i32);
        let accumulator: Vec<i32> = fraction.iter().map(|s| shift + s).collect();
        let built = self.layer_spec(l, layer, t_in, x, &accumulator, shift as u32, layer.activation)?;
        let act = layer.activation;
        let clamp = |q: i64, spec: &OutputSpec| act.apply(q).and_then(|a| arith::clamp(a, spec.min, spec.max));
        for (j, (q, spec)) in built.q.iter().zip(&self.file.outputs).enumerate() {
            if clamp(q.lo, spec).is_none() || clamp(q.hi, spec).is_none() {
                return Err(LabError::Quantization {
                    field: format!("outputs[{j}]"),
                    reason: format!(
                        "over the declared input box the policy's pre-clamp output reaches [{}, {}] {}, more than 2^{WINDOW_BITS} \
                         beyond the bounds [{}, {}]; the circuit's clamp cannot compare that far",
                        q.lo, q.hi, spec.unit, spec.min, spec.max
                    ),
                });
            }
        }
        Ok(built)
    }

    /// Largest accumulator exponent `e` at which row `w` fits the weight width.
    fn weight_cap(&self, w: &[f64], t_in: &[i32]) -> i32 {
        let widest = w.iter().zip(t_in).map(|(w, &t)| w.abs() * pow2(-t)).fold(0.0, f64::max);
        max_exponent(widest, self.weight_max).min(MAX_ACTIVATION_SCALE + MAX_SHIFT as i32)
    }

    /// Largest accumulator exponent `e` at which bias `b` (plus the rounding offset) fits the bias width.
    fn bias_cap(&self, b: f64) -> i32 {
        max_exponent(b.abs(), self.bias_max - self.rounding_room).min(MAX_ACTIVATION_SCALE + MAX_SHIFT as i32)
    }
}

/// Real-valued interval bound of each pre-activation over the integer input intervals.
fn interval_bounds(layer: &FloatLayer, t_in: &[i32], x: &[Interval]) -> Vec<f64> {
    layer
        .weights
        .iter()
        .zip(&layer.bias)
        .map(|(row, &b)| {
            let (mut lo, mut hi) = (b, b);
            for ((w, &t), xi) in row.iter().zip(t_in).zip(x) {
                let (a, c) = (w * xi.lo as f64 * pow2(-t), w * xi.hi as f64 * pow2(-t));
                lo += a.min(c);
                hi += a.max(c);
            }
            lo.abs().max(hi.abs())
        })
        .collect()
}
