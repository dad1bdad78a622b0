//! The weight and bias rounding: real weights and biases at chosen exponents become
//! integers, and the integer interval each row then produces is computed exactly as the
//! validator computes it.

use super::scales::Plan;
use crate::float::FloatLayer;
use zkpolicy_model::bounds::Interval;
use zkpolicy_model::format::{Activation, LayerSpec};

use crate::LabError;

impl Plan<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn layer_spec(
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
pub(super) struct Built {
    pub(super) spec: LayerSpec,
    /// `u_j` per output.
    pub(super) scales: Vec<i32>,
    /// `e_j` per row.
    pub(super) accumulator: Vec<i32>,
    /// Interval of `floor(z / 2^shift)` per output over the input intervals.
    pub(super) q: Vec<Interval>,
}

pub(super) fn pow2(e: i32) -> f64 {
    2f64.powi(e)
}

/// Largest `e` with `v · 2^e <= limit`; unbounded (`i32::MAX`) when `v == 0`.
pub(super) fn max_exponent(v: f64, limit: f64) -> i32 {
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

/// The native twin of `bounds::analyse` for one row: `floor((W·x + b) / 2^shift)`
/// over the input box, `None` past the validator's accumulator limit.
pub(super) fn requantized_interval(row: &[i64], bias: i64, x: &[Interval], shift: u32) -> Option<Interval> {
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
