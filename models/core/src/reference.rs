//! Integer reference inference: the ground truth the circuit matches bit for bit.

use crate::arith;
use crate::{Model, ModelError, Observation};

/// Every intermediate of one inference, as the circuit lays it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The network inputs: KPIs, then parameters.
    pub inputs: Vec<i64>,
    /// One entry per dense layer, in network order.
    pub layers: Vec<LayerTrace>,
    /// The proven outputs `y`: the last layer's `out`, already clamped to each output's
    /// `[min, max]`. These are the public outputs the controller turns into deltas.
    pub outputs: Vec<i64>,
}

/// The witness values of one dense layer, one entry per output neuron (row of `weights`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerTrace {
    /// `W·x + b`.
    pub z: Vec<i64>,
    /// `floor(z / 2^shift)`.
    pub q: Vec<i64>,
    /// `z - q·2^shift`.
    pub r: Vec<i64>,
    /// After the activation, and for the last layer the output clamp.
    pub out: Vec<i64>,
}

/// Runs the model on an observation: quantized KPIs and, for a model that reads them,
/// the controller's parameters (a [`crate::QuantizedKpis`] converts for one that does not).
///
/// A validated model cannot fail on in-range inputs (the bounds analysis proves
/// it); the `Result` only guards against a model built around the validator.
pub fn infer(model: &Model, input: impl Into<Observation>) -> Result<Trace, ModelError> {
    let input: Observation = input.into();
    let file = model.file();
    if input.parameters().len() != file.parameters.len() {
        return Err(ModelError::WrongCount { what: "parameters", expected: file.parameters.len(), got: input.parameters().len() });
    }
    let last = file.layers.len() - 1;
    let inputs = input.values();
    let mut x = inputs.clone();
    let mut layers = Vec::with_capacity(file.layers.len());
    for (l, layer) in file.layers.iter().enumerate() {
        let bound = |j: usize| ModelError::model(format!("layers[{l}].weights[{j}]"), "an intermediate left its checked bounds");
        let mut t = LayerTrace { z: vec![], q: vec![], r: vec![], out: vec![] };
        for (j, (row, &b)) in layer.weights.iter().zip(&layer.bias).enumerate() {
            let z = row.iter().zip(&x).try_fold(b, |acc, (&w, &xi)| acc.checked_add(w.checked_mul(xi)?));
            let z = z.ok_or_else(|| bound(j))?;
            let (q, r) = arith::requantize(z, layer.shift).ok_or_else(|| bound(j))?;
            let a = layer.activation.apply(q).ok_or_else(|| bound(j))?;
            let out = if l == last { arith::clamp(a, file.outputs[j].min, file.outputs[j].max) } else { Some(a) };
            t.z.push(z);
            t.q.push(q);
            t.r.push(r);
            t.out.push(out.ok_or_else(|| bound(j))?);
        }
        x = t.out.clone();
        layers.push(t);
    }
    Ok(Trace { inputs, layers, outputs: x })
}
