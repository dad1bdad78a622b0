//! Calibrated quantization of a [`FloatPolicy`] into an integer [`ModelFile`].
//!
//! Each layer computes `q_j = floor((Σ_i Wq[j][i]·x_i + bq[j]) / 2^shift)`. With
//! input `i` at scale `2^t_i` (the KPI's `scale_bits` for the first layer) and
//! output `j` at scale `2^u_j`, row `j` accumulates at scale `2^e_j` with
//! `e_j = u_j + shift`, so
//!
//! ```text
//! Wq[j][i] = round(W[j][i] · 2^(e_j − t_i))      bq[j] = round(b[j] · 2^e_j) + 2^(shift−1)
//! ```
//!
//! (the `2^(shift−1)` turns the circuit's floor into round-to-nearest). The output
//! layer has `u_j` = output `j`'s `scale_bits`: its `q` is the output in its unit, in
//! fixed point (`u_j = 0`, an integer, unless the IO spec asks for fraction bits).
//!
//! Table activations (tanh, sigmoid) fix their layer's scales: every `u_j` is the
//! table's `scale_bits`, and so is the next layer's input scale, and a table closing the
//! output layer is at the outputs' `scale_bits`. ReLU and leaky ReLU commute with
//! scaling, so their layers choose `u_j` as below.
//!
//! How the exponents are chosen, layer by layer, for a given hidden-layer `shift`:
//! - A hidden neuron's *ceiling* caps `u_j`: the interval bound of its
//!   pre-activation over the whole declared input box, times `2^u_j`, stays within
//!   the comparator window. `Model::from_file` proves the window by the same
//!   interval analysis, so a calibration maximum (which covers only the rows seen)
//!   cannot set the cap; if rounding still pushes a neuron out of the window its
//!   ceiling drops a bit and the layer is redone.
//! - `e_j = u_j + shift` must leave row `j`'s weights and bias inside their bit widths.
//! - Under those caps, a hidden layer feeding another hidden layer takes the largest
//!   `u_j`. The last hidden layer instead sets `u_j` so that column `j` of the output
//!   layer exactly fills the weight range: the output layer has one accumulator
//!   exponent (`= its shift <= 16`), so one neuron at too fine a scale would
//!   otherwise overflow its column and coarsen every output weight.
//! - The output layer takes the largest shift at which all rows fit.
//!
//! Each hidden layer's `shift` trades its own weight precision against its
//! neurons' scales. It is the one free choice, and the calibration set makes it:
//! every value in `0..=16` is tried per layer (a coordinate sweep, twice) and the
//! one with the smallest mean square error relative to each output's range wins.
//!
//! Every candidate is checked by [`Model::from_file`]; the result always validates.

use serde::{Deserialize, Serialize};

use crate::float::{FloatLayer, FloatPolicy};
use zkpolicy_model::arith::{self, MAX_SHIFT, WINDOW_BITS};
use zkpolicy_model::bounds::Interval;
use zkpolicy_model::format::{Activation, InputSpec, LayerSpec, ModelFile, OutputSpec, ParameterSpec, FORMAT_TAG, FORMAT_VERSION};
use zkpolicy_model::Model;

use crate::LabError;

mod calibration;

use calibration::{calibration_max_abs, check_calibration};
pub use calibration::{measure_error, parse_calibration_jsonl, read_calibration_jsonl};

/// Hidden pre-activation bounds are scaled up to the comparator window; where weight
/// rounding pushes the integer interval past it, the neuron's ceiling drops a bit.
const HIDDEN_CEILING: f64 = (1u64 << WINDOW_BITS) as f64;
/// Scale cap for neurons whose bound is zero or tiny (a dead neuron stays 0 at any scale).
const MAX_ACTIVATION_SCALE: i32 = 40;
/// `model.rs` limits: the largest input `scale_bits` and quantized input magnitude.
const MAX_INPUT_SCALE_BITS: u32 = 24;
const MAX_INPUT_VALUE_BITS: u32 = 40;
/// Sweeps of the per-layer shift search; the second lets an earlier layer react to a later one.
const SEARCH_SWEEPS: usize = 2;

/// What the model reads and writes: KPI specs (with their scales), the controller
/// parameters it reads after them (none, or one per output), and output specs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IoSpec {
    pub inputs: Vec<InputSpec>,
    #[serde(default)]
    pub parameters: Vec<ParameterSpec>,
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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantizeOptions {
    pub name: String,
    pub description: String,
    /// Signed weight width, 2..=16.
    pub weight_bits: u32,
    /// Signed bias width, 2..=40; from 18 bits on, requantization rounds to nearest.
    pub bias_bits: u32,
    pub input_scale: InputScale,
    /// The fraction bits of every hidden tanh or sigmoid (the float policy's own choice
    /// when `None`). A table closing the output layer always takes the outputs' `scale_bits`.
    #[serde(default)]
    pub table_scale_bits: Option<u32>,
}

impl QuantizeOptions {
    /// The bundled models' widths: 10-bit weights, 24-bit biases, declared input scales.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: String::new(),
            weight_bits: 10,
            bias_bits: 24,
            input_scale: InputScale::Declared,
            table_scale_bits: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Quantized {
    pub file: ModelFile,
    pub report: QuantReport,
}

/// The chosen scales and the error they cost on the calibration set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuantReport {
    pub calibration_rows: usize,
    pub input_scale_bits: Vec<u32>,
    pub layers: Vec<LayerReport>,
    /// `|integer model − float policy|` per output, both clamped to the output bounds.
    pub outputs: Vec<OutputError>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerReport {
    pub shift: u32,
    /// `u_j`: output `j` is the real value times `2^u_j` (0 for the output layer).
    pub activation_scale_bits: Vec<i32>,
    /// `e_j`: row `j`'s weights are the real weights times `2^(e_j − t_i)`.
    pub accumulator_scale_bits: Vec<i32>,
    /// Largest |pre-activation| over the declared input box (interval bound) and over the calibration rows.
    pub interval_max_abs: f64,
    pub calibration_max_abs: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutputError {
    pub name: String,
    pub unit: String,
    pub max_abs_error: f64,
    pub mean_abs_error: f64,
    /// Root mean square error: the search minimises it, because the output's own
    /// rounding adds a constant `1/12` to the mean square but blurs the mean absolute error.
    pub rms_error: f64,
}

/// Quantizes `policy` for `io`, choosing scales by error on `calibration`
/// (KPI vectors in input order, inside the declared ranges).
pub fn quantize(policy: &FloatPolicy, io: &IoSpec, calibration: &[Vec<f64>], options: &QuantizeOptions) -> Result<Quantized, LabError> {
    let mut io = io.clone();
    if options.input_scale == InputScale::Auto {
        for spec in &mut io.inputs {
            spec.scale_bits = auto_scale_bits(spec)?;
        }
    }
    check_calibration(&io.network_inputs(), calibration)?;
    let policy = &with_table_scales(policy, &io, options)?;
    let plan = Plan::new(policy, io, options, calibration)?;
    let hidden = policy.layers.len() - 1;
    let mut shifts = vec![MAX_SHIFT / 2; hidden];
    let mut best = plan.evaluate(&shifts, calibration);
    for _ in 0..SEARCH_SWEEPS {
        for l in 0..hidden {
            let current = shifts[l];
            for shift in (0..=MAX_SHIFT).filter(|&s| s != current) {
                let mut trial = shifts.clone();
                trial[l] = shift;
                let candidate = plan.evaluate(&trial, calibration);
                if score(&candidate) < score(&best) {
                    (best, shifts) = (candidate, trial);
                }
            }
        }
    }
    let best = best?;
    let report = QuantReport {
        calibration_rows: calibration.len(),
        input_scale_bits: plan.network_inputs.iter().map(|i| i.scale_bits).collect(),
        layers: best.layers,
        outputs: best.errors,
    };
    Ok(Quantized { file: best.file, report })
}

/// The policy with each table activation at the scale it will be quantized at: the
/// outputs' `scale_bits` for a squashed head, `options.table_scale_bits` (if set) elsewhere.
fn with_table_scales(policy: &FloatPolicy, io: &IoSpec, options: &QuantizeOptions) -> Result<FloatPolicy, LabError> {
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
fn auto_scale_bits(spec: &InputSpec) -> Result<u32, LabError> {
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

fn check_policy(policy: &FloatPolicy, io: &IoSpec) -> Result<(), LabError> {
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
fn check_output_reach(policy: &FloatPolicy, file: &ModelFile, network: &[InputSpec], input_ranges: &[Interval]) -> Result<(), LabError> {
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

/// The validated inputs to every candidate build.
struct Plan<'a> {
    policy: &'a FloatPolicy,
    /// Header and IO of the result; `layers` is filled per candidate.
    file: ModelFile,
    /// KPIs then parameters, as real-valued specs.
    network_inputs: Vec<InputSpec>,
    /// Their quantized ranges.
    input_ranges: Vec<Interval>,
    /// Largest |pre-activation| per layer over the calibration rows.
    calibration_max: Vec<f64>,
    weight_max: f64,
    bias_max: f64,
    /// Bias room kept for the `2^(shift−1)` rounding offset (0: floor).
    rounding_room: f64,
}

/// One quantized candidate with what it costs.
struct Candidate {
    file: ModelFile,
    layers: Vec<LayerReport>,
    errors: Vec<OutputError>,
    score: f64,
}

fn score(candidate: &Result<Candidate, LabError>) -> f64 {
    candidate.as_ref().map_or(f64::INFINITY, |c| c.score)
}

impl<'a> Plan<'a> {
    fn new(policy: &'a FloatPolicy, io: IoSpec, options: &QuantizeOptions, calibration: &[Vec<f64>]) -> Result<Self, LabError> {
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

    fn evaluate(&self, shifts: &[u32], calibration: &[Vec<f64>]) -> Result<Candidate, LabError> {
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

    #[allow(clippy::too_many_arguments)]
    fn layer_spec(
        &self,
        l: usize,
        layer: &FloatLayer,
        t_in: &[i32],
        x: &[Interval],
        e: &[i32],
        shift: u32,
        activation: Activation,
    ) -> Result<Built, LabError> {
        let offset = if shift > 0 && self.rounding_room > 0.0 { 1i64 << (shift - 1) } else { 0 };
        let weights: Vec<Vec<i64>> = layer
            .weights
            .iter()
            .zip(e)
            .map(|(row, &e)| row.iter().zip(t_in).map(|(w, &t)| (w * pow2(e - t)).round() as i64).collect())
            .collect();
        let bias: Vec<i64> = layer.bias.iter().zip(e).map(|(b, &e)| (b * pow2(e)).round() as i64 + offset).collect();
        let q = weights
            .iter()
            .zip(&bias)
            .enumerate()
            .map(|(j, (row, &b))| {
                requantized_interval(row, b, x, shift).ok_or_else(|| LabError::Quantization {
                    field: format!("layers[{l}].weights[{j}]"),
                    reason: "the accumulator exceeds the validator's bound; the KPI ranges are too wide for these weights".into(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let scales = e.iter().map(|&e| e - shift as i32).collect();
        Ok(Built { spec: LayerSpec { weights, bias, shift, activation }, scales, accumulator: e.to_vec(), q })
    }
}

/// One quantized layer and the facts the next layer is built from.
struct Built {
    spec: LayerSpec,
    /// `u_j` per output.
    scales: Vec<i32>,
    /// `e_j` per row.
    accumulator: Vec<i32>,
    /// Interval of `floor(z / 2^shift)` per output over the input intervals.
    q: Vec<Interval>,
}

fn pow2(e: i32) -> f64 {
    2f64.powi(e)
}

/// Largest `e` with `v · 2^e <= limit`; unbounded (`i32::MAX`) when `v == 0`.
fn max_exponent(v: f64, limit: f64) -> i32 {
    if v == 0.0 {
        return i32::MAX;
    }
    if limit < v * pow2(-1000) {
        return -1000;
    }
    let mut e = (limit / v).log2().floor().clamp(-1000.0, 1000.0) as i32;
    // log2 is inexact near powers of two: settle e exactly.
    while v * pow2(e) > limit {
        e -= 1;
    }
    while v * pow2(e + 1) <= limit {
        e += 1;
    }
    e
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

/// The native twin of `bounds::analyse` for one row: `floor((W·x + b) / 2^shift)`
/// over the input box, `None` past the validator's accumulator limit.
fn requantized_interval(row: &[i64], bias: i64, x: &[Interval], shift: u32) -> Option<Interval> {
    let (mut lo, mut hi) = (bias as i128, bias as i128);
    for (&w, xi) in row.iter().zip(x) {
        let (a, b) = (w as i128 * xi.lo as i128, w as i128 * xi.hi as i128);
        lo += a.min(b);
        hi += a.max(b);
    }
    let limit = 1i128 << zkpolicy_model::bounds::MAX_ACCUMULATOR_BITS;
    if lo <= -limit || hi >= limit {
        return None;
    }
    Some(Interval { lo: (lo as i64).div_euclid(1 << shift), hi: (hi as i64).div_euclid(1 << shift) })
}

#[cfg(test)]
mod tests;
