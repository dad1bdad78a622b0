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
//! Every candidate is checked by [`Model::from_file`](zkpolicy_model::Model::from_file); the result always validates.

use serde::{Deserialize, Serialize};

use crate::float::FloatPolicy;
use zkpolicy_model::arith::MAX_SHIFT;
use zkpolicy_model::format::ModelFile;

use crate::LabError;

mod calibration;
mod checks;
mod io;
mod rounding;
mod scales;

use calibration::check_calibration;
pub use calibration::{measure_error, parse_calibration_jsonl, read_calibration_jsonl};
use io::{auto_scale_bits, with_table_scales};
pub use io::{InputScale, IoSpec};
use scales::{score, Plan};

/// Sweeps of the per-layer shift search; the second lets an earlier layer react to a later one.
const SEARCH_SWEEPS: usize = 2;

/// The choices [`quantize`] does not search: the model file's name and description, the
/// weight and bias widths, and where the input and table scales come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantizeOptions {
    /// The model file's `name`, shown in cards, reports and artifacts.
    pub name: String,
    /// The model file's `description`: free prose, committed like every other field.
    pub description: String,
    /// Signed weight width, 2..=16.
    pub weight_bits: u32,
    /// Signed bias width, 2..=40; from 18 bits on, requantization rounds to nearest.
    pub bias_bits: u32,
    /// Whether the KPI `scale_bits` are taken as declared in the IO spec or chosen as
    /// the finest each range admits.
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

/// The result of [`quantize`]: a model file that passes [`Model::from_file`](zkpolicy_model::Model::from_file),
/// and how its scales were chosen.
#[derive(Clone, Debug)]
pub struct Quantized {
    /// The integer model: the IO spec, the widths from the options, and the quantized layers.
    pub file: ModelFile,
    /// The chosen scales and their error on the calibration set.
    pub report: QuantReport,
}

/// The chosen scales and the error they cost on the calibration set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuantReport {
    /// How many calibration vectors the error was measured on.
    pub calibration_rows: usize,
    /// `t_i` per network input (KPIs, then parameters): the fixed-point scale bits the
    /// model reads it at, after [`InputScale::Auto`] if asked for.
    pub input_scale_bits: Vec<u32>,
    /// One report per layer, input side first.
    pub layers: Vec<LayerReport>,
    /// `|integer model − float policy|` per output, both clamped to the output bounds.
    pub outputs: Vec<OutputError>,
}

/// The scales one quantized layer ended at.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerReport {
    /// The requantization shift, `0..=MAX_SHIFT` (16): the searched value for a hidden
    /// layer, the largest shift at which every row fits for the output layer.
    pub shift: u32,
    /// `u_j`: output `j` is the real value times `2^u_j` (0 for the output layer).
    pub activation_scale_bits: Vec<i32>,
    /// `e_j`: row `j`'s weights are the real weights times `2^(e_j − t_i)`.
    pub accumulator_scale_bits: Vec<i32>,
    /// Largest |pre-activation| over the declared input box (interval bound) and over the calibration rows.
    pub interval_max_abs: f64,
    /// Largest |pre-activation| of the float policy over the calibration rows, in real
    /// units. Scales are capped by `interval_max_abs` instead, so a wide gap is precision
    /// spent on inputs the rows never reach.
    pub calibration_max_abs: f64,
}

/// How far one output of the integer model lands from the float policy over a set of
/// input vectors, in the output's unit (a fixed-point output's integer read as its real value).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutputError {
    /// The output's name in the IO spec.
    pub name: String,
    /// The output's unit, e.g. `bps`.
    pub unit: String,
    /// Largest absolute error over the vectors.
    pub max_abs_error: f64,
    /// Mean absolute error over the vectors.
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

#[cfg(test)]
mod tests;
