//! Interval analysis: the worst-case range of every intermediate value.
//!
//! A model is accepted only if, for every KPI vector inside the declared input
//! ranges, every value stays far from the field modulus and every comparison
//! stays inside the circuit's comparator window. Range checks in the circuit
//! enforce these bounds (soundness); this analysis guarantees an honest prover
//! can always satisfy them (completeness).

use crate::arith::{self, WINDOW_BITS};
use crate::format::{Activation, ModelFile};
use crate::ModelError;

/// Accumulators stay below this magnitude: far below the ~2^253 field modulus
/// and inside `i64`, so the integer reference cannot overflow.
pub const MAX_ACCUMULATOR_BITS: u32 = 62;

/// A closed integer range `[lo, hi]` of quantized values (an input's declared range,
/// or the worst-case range of an intermediate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    /// The smallest value, inclusive.
    pub lo: i64,
    /// The largest value, inclusive.
    pub hi: i64,
}

/// Bounds of one layer, per output neuron.
#[derive(Clone, Debug)]
pub struct LayerBounds {
    /// `W·x + b` before requantization.
    pub z: Vec<Interval>,
    /// After requantization.
    pub q: Vec<Interval>,
    /// After the activation (and the clamp, for the output layer).
    pub out: Vec<Interval>,
}

/// Runs the analysis given the quantized range of each input.
pub fn analyse(file: &ModelFile, inputs: &[Interval]) -> Result<Vec<LayerBounds>, ModelError> {
    let last = file.layers.len().saturating_sub(1);
    let mut x: Vec<Interval> = inputs.to_vec();
    let mut all = Vec::with_capacity(file.layers.len());
    for (l, layer) in file.layers.iter().enumerate() {
        let mut bounds = LayerBounds { z: vec![], q: vec![], out: vec![] };
        for (j, (row, &bias)) in layer.weights.iter().zip(&layer.bias).enumerate() {
            let field = format!("layers[{l}].weights[{j}]");
            let z = dot_interval(row, &x, bias, &field)?;
            let q = Interval { lo: z.lo.div_euclid(1i64 << layer.shift), hi: z.hi.div_euclid(1i64 << layer.shift) };
            let a = activation_interval(q, layer.activation, &field)?;
            let out = if l == last {
                let spec = &file.outputs[j];
                let m = compare_interval(a, spec.min, &field, "output lower bound")?;
                compare_interval_min(m, spec.max, &field, "output upper bound")?
            } else {
                a
            };
            bounds.z.push(z);
            bounds.q.push(q);
            bounds.out.push(out);
        }
        x = bounds.out.clone();
        all.push(bounds);
    }
    Ok(all)
}

/// Interval of an activation's output, after checking its comparisons fit the window.
fn activation_interval(q: Interval, activation: Activation, field: &str) -> Result<Interval, ModelError> {
    let monotone = |x: Interval| -> Result<Interval, ModelError> {
        match (activation.apply(x.lo), activation.apply(x.hi)) {
            (Some(lo), Some(hi)) => Ok(Interval { lo, hi }),
            _ => Err(ModelError::model(field, format!("{} has no value on [{}, {}]", activation.name(), x.lo, x.hi))),
        }
    };
    match activation {
        Activation::None => Ok(q),
        Activation::Relu => compare_interval(q, 0, field, "relu"),
        Activation::LeakyRelu { .. } => {
            check_window(q, 0, field, "leaky_relu")?;
            monotone(q)
        }
        Activation::Tanh { .. } | Activation::Sigmoid { .. } => {
            let Some(table) = activation.table() else { return Ok(q) };
            let clamped = compare_interval(q, table.lo, field, &format!("{} window's lower end", activation.name()))?;
            compare_interval_min(clamped, table.hi, field, &format!("{} window's upper end", activation.name()))?;
            monotone(q)
        }
    }
}

fn dot_interval(row: &[i64], x: &[Interval], bias: i64, field: &str) -> Result<Interval, ModelError> {
    let (mut lo, mut hi) = (bias as i128, bias as i128);
    for (&w, xi) in row.iter().zip(x) {
        let (a, b) = (w as i128 * xi.lo as i128, w as i128 * xi.hi as i128);
        lo += a.min(b);
        hi += a.max(b);
    }
    let limit = 1i128 << MAX_ACCUMULATOR_BITS;
    if lo <= -limit || hi >= limit {
        return Err(ModelError::model(
            field,
            format!("accumulator range [{lo}, {hi}] exceeds ±2^{MAX_ACCUMULATOR_BITS}; lower the weights"),
        ));
    }
    Ok(Interval { lo: lo as i64, hi: hi as i64 })
}

/// Interval of `max(x, th)`, after checking every comparison fits the window.
fn compare_interval(x: Interval, th: i64, field: &str, what: &str) -> Result<Interval, ModelError> {
    check_window(x, th, field, what)?;
    Ok(Interval { lo: x.lo.max(th), hi: x.hi.max(th) })
}

/// Interval of `min(x, th)`, after checking every comparison fits the window.
fn compare_interval_min(x: Interval, th: i64, field: &str, what: &str) -> Result<Interval, ModelError> {
    check_window(x, th, field, what)?;
    Ok(Interval { lo: x.lo.min(th), hi: x.hi.min(th) })
}

fn check_window(x: Interval, th: i64, field: &str, what: &str) -> Result<(), ModelError> {
    // |x - th| is largest at an end of the interval, so checking both ends suffices.
    if arith::compare(x.lo, th).is_none() || arith::compare(x.hi, th).is_none() {
        return Err(ModelError::model(
            field,
            format!(
                "requantized range [{}, {}] is not within 2^{WINDOW_BITS} of the {what} threshold {th}; \
                 lower the weights or raise `shift`",
                x.lo, x.hi
            ),
        ));
    }
    Ok(())
}
