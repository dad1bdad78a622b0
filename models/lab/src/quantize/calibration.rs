//! Calibration data: reading KPI snapshots, checking them against the declared
//! inputs, and measuring a quantized model's error on them.

use std::path::Path;

use rayon::prelude::*;
use serde::Deserialize;

use super::{IoSpec, OutputError};
use crate::float::{FloatNet, FloatPolicy};
use ndarray::Array2;
use zkpolicy_model::format::InputSpec;
use zkpolicy_model::{infer, Model, Observation, QuantizedKpis};

use crate::LabError;

/// Per-output error of `model` against `policy` on real network input vectors (KPIs,
/// then any parameters as real values).
pub fn measure_error(model: &Model, policy: &FloatPolicy, kpis: &[Vec<f64>]) -> Result<Vec<OutputError>, LabError> {
    let file = model.file();
    // In the output unit: a fixed-point output's integer is its real value times 2^scale_bits.
    let bounds: Vec<(f64, f64)> = file.outputs.iter().map(|o| (o.real(o.min), o.real(o.max))).collect();
    let net = FloatNet::new(policy);
    let network = IoSpec::of_model(file).network_inputs();
    let diffs = kpis
        .par_iter()
        .map(|x| {
            let values: Vec<i64> = x.iter().zip(&network).map(|(v, spec)| (v * (1u64 << spec.scale_bits) as f64).round() as i64).collect();
            let (k, p) = values.split_at(file.inputs.len().min(values.len()));
            let input = Observation::new(model, QuantizedKpis::new(model, k.to_vec())?, p.to_vec())?;
            let integer = infer(model, &input)?.outputs;
            let float = net.forward(x, &bounds);
            Ok(integer.iter().zip(&float).zip(&file.outputs).map(|((&q, f), o)| (o.real(q) - f).abs()).collect::<Vec<f64>>())
        })
        .collect::<Result<Vec<_>, LabError>>()?;
    let rows = diffs.len().max(1) as f64;
    Ok(file
        .outputs
        .iter()
        .enumerate()
        .map(|(j, spec)| OutputError {
            name: spec.name.clone(),
            unit: spec.unit.clone(),
            max_abs_error: diffs.iter().map(|d| d[j]).fold(0.0, f64::max),
            mean_abs_error: diffs.iter().map(|d| d[j]).sum::<f64>() / rows,
            rms_error: (diffs.iter().map(|d| d[j] * d[j]).sum::<f64>() / rows).sqrt(),
        })
        .collect())
}

/// Reads KPI snapshots, one `{"kpis": {"name": value, …}}` per line (blank lines
/// skipped), into vectors ordered like `input_names`. A line may also carry
/// `"parameters": {"name": integer, …}` for a model that reads the controller's
/// parameters; a name in `input_names` is looked up among the KPIs, then the parameters
/// (whose values are returned as given: the caller scales them).
pub fn read_calibration_jsonl<S: AsRef<str>>(path: impl AsRef<Path>, input_names: &[S]) -> Result<Vec<Vec<f64>>, LabError> {
    let path = path.as_ref();
    let text = zkpolicy_model::io::read_text_limited(path, zkpolicy_model::io::MAX_MODEL_BYTES)
        .map_err(|source| LabError::Io { path: path.to_owned(), source })?;
    parse_calibration_jsonl(&text, path, input_names)
}

/// [`read_calibration_jsonl`] on text already read; `path` names it in errors.
pub fn parse_calibration_jsonl<S: AsRef<str>>(text: &str, path: &Path, input_names: &[S]) -> Result<Vec<Vec<f64>>, LabError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Line {
        #[serde(deserialize_with = "zkpolicy_model::kpis::unique_keys")]
        kpis: std::collections::BTreeMap<String, serde_json::Value>,
        #[serde(default, deserialize_with = "zkpolicy_model::kpis::unique_keys")]
        parameters: std::collections::BTreeMap<String, serde_json::Value>,
    }
    let mut rows = Vec::new();
    for (index, raw) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line = index + 1;
        let kpi_error = |kpi: &str, reason: String| LabError::CalibrationKpi { path: path.to_owned(), line, kpi: kpi.to_owned(), reason };
        let parsed: Line = serde_json::from_str(raw).map_err(|e| LabError::CalibrationLine {
            path: path.to_owned(),
            line,
            reason: format!("not a KPI snapshot: {e}"),
        })?;
        let given = || parsed.kpis.iter().chain(&parsed.parameters);
        if let Some((extra, _)) = given().find(|(k, _)| !input_names.iter().any(|n| n.as_ref() == k.as_str())) {
            return Err(kpi_error(extra, "is not a model input".into()));
        }
        let row = input_names
            .iter()
            .map(|name| {
                let name = name.as_ref();
                let value = parsed.kpis.get(name).or_else(|| parsed.parameters.get(name));
                match value.map(|v| (v, v.as_f64())) {
                    None => Err(kpi_error(name, "is missing".into())),
                    Some((_, Some(v))) if v.is_finite() => Ok(v),
                    Some((raw, _)) => Err(kpi_error(name, format!("{raw} is not a finite number"))),
                }
            })
            .collect::<Result<Vec<f64>, _>>()?;
        rows.push(row);
    }
    Ok(rows)
}

/// Every row has one finite, in-range value per input.
pub(super) fn check_calibration(inputs: &[InputSpec], calibration: &[Vec<f64>]) -> Result<(), LabError> {
    if calibration.is_empty() {
        return Err(LabError::NoCalibration);
    }
    for (row, x) in calibration.iter().enumerate() {
        let error = |kpi: &str, reason: String| LabError::CalibrationRow { row, kpi: kpi.to_owned(), reason };
        if x.len() != inputs.len() {
            let kpi = inputs.get(x.len()).map_or("(extra)", |s| s.name.as_str());
            return Err(error(kpi, format!("the row has {} values but the model has {} inputs", x.len(), inputs.len())));
        }
        for (v, spec) in x.iter().zip(inputs) {
            if !v.is_finite() {
                return Err(error(&spec.name, format!("value {v} is not a finite number")));
            }
            if *v < spec.min || *v > spec.max {
                return Err(error(
                    &spec.name,
                    format!("value {v} is outside the declared range [{}, {}] {}", spec.min, spec.max, spec.unit),
                ));
            }
        }
    }
    Ok(())
}

/// Largest |pre-activation| per layer over the calibration rows.
pub(super) fn calibration_max_abs(policy: &FloatPolicy, calibration: &[Vec<f64>]) -> Vec<f64> {
    let width = policy.inputs();
    let xs = Array2::from_shape_fn((calibration.len(), width), |(r, i)| calibration[r].get(i).copied().unwrap_or(0.0));
    FloatNet::new(policy).pre_activations(xs.view()).iter().map(|z| z.fold(0.0, |m: f64, v| m.max(v.abs()))).collect()
}
