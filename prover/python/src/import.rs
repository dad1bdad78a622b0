//! `zkpolicy import` as a function: an ONNX MLP quantized into a model file, in the IO of a
//! template model, calibrated on a JSONL file or on what the simulator's rule-based
//! controller meets across the scenario suite.

use std::path::{Path, PathBuf};

use pyo3::prelude::*;
use pyo3::types::PyDict;
use zkpolicy_lab::quantize::{InputScale, IoSpec, QuantizeOptions};
use zkpolicy_lab::sim::{self, guardrails::parameter_inputs, kpis::KPI_NAMES, RuleBased, Scenario, SimConfig};
use zkpolicy_lab::{import, onnx, synth, LabError};
use zkpolicy_model::Model;

use crate::convert::{self, serialize};
use crate::ZkPolicyError;

/// Seed and length of the default calibration's runs (one per scenario of the suite).
const CALIBRATION_SEED: u64 = 0;
const CALIBRATION_EPOCHS: usize = 120;

/// Everything an import can refuse, with the file it concerns.
fn refused(context: String) -> impl FnOnce(LabError) -> PyErr {
    move |e| convert::with_context(&context, &e)
}

/// The calibration rows: the JSONL file's (parameters given as the controller's integers,
/// read by the network as `value / 2^scale_bits`), or, without one, the network inputs the
/// rule-based controller meets over the scenario suite, when the template reads the
/// simulator's KPIs and parameters.
fn calibration(io: &IoSpec, path: Option<&Path>) -> PyResult<Vec<Vec<f64>>> {
    if let Some(path) = path {
        return import::read_calibration(path, io).map_err(refused(format!("calibration file {}", path.display())));
    }
    let kpis: Vec<&str> = io.inputs.iter().map(|i| i.name.as_str()).collect();
    let parameters: Vec<String> = io.parameters.iter().map(|p| p.name.clone()).collect();
    let simulated: Vec<String> = parameter_inputs().into_iter().map(|p| p.name).collect();
    if kpis != KPI_NAMES || !(parameters.is_empty() || parameters == simulated) {
        return Err(ZkPolicyError::new_err(format!(
            "no calibration file given, and the template's inputs [{}] are not the simulator's KPIs{}, so it cannot calibrate on the simulator: pass calibration_path",
            kpis.iter().copied().chain(parameters.iter().map(String::as_str)).collect::<Vec<_>>().join(", "),
            if parameters.is_empty() { String::new() } else { " and parameters".into() }
        )));
    }
    let suite = Scenario::suite(CALIBRATION_SEED, CALIBRATION_EPOCHS);
    sim::visited_inputs(&RuleBased::default(), &suite, &SimConfig::default(), &io.parameters)
        .map_err(refused("the simulated calibration".into()))
}

/// Imports an ONNX MLP policy and quantizes it, as `zkpolicy import` does.
///
/// The KPI and parameter names, ranges and scales and the output names and bounds come from
/// `template_model_path` (default: the bundled tokenomics policy). Calibration vectors come
/// from `calibration_path` (JSONL, one `{"kpis": {...}}` per line, plus `"parameters"` for a
/// template that reads them) or, without it, from the simulator: every epoch the rule-based
/// controller meets in the five scenarios (seed 0, 120 epochs each). Returns
/// `(model_json, report)`, where `report` has the model's `name` and `model_commitment`, the
/// chosen `input_scale_bits`, `layers`, and per output `max_abs_error`, `mean_abs_error` and
/// `rms_error` (|quantized − float| over the calibration set, in the output's unit).
///
/// For an RL policy whose head emits normalised actions in [−1, 1] (a tanh head), pass
/// `actions=bits`: the outputs are proven with `bits` fraction bits and applied as
/// `round(action · step)` parameter units, `step` from `action_steps` or, by default, the
/// bundled deployment's `max_step` (the environment's own action map). `table_bits` sets
/// the fraction bits of hidden tanh and sigmoid tables (default 10).
#[pyfunction]
#[pyo3(signature = (onnx_path, template_model_path = None, calibration_path = None, name = None, *, weight_bits = 10, bias_bits = 24, auto_input_scale = false, actions = None, action_steps = None, table_bits = None))]
#[allow(clippy::too_many_arguments)]
pub fn import_onnx<'py>(
    py: Python<'py>,
    onnx_path: PathBuf,
    template_model_path: Option<&Bound<'py, PyAny>>,
    calibration_path: Option<PathBuf>,
    name: Option<String>,
    weight_bits: u32,
    bias_bits: u32,
    auto_input_scale: bool,
    actions: Option<u32>,
    action_steps: Option<Vec<i64>>,
    table_bits: Option<u32>,
) -> PyResult<(String, Bound<'py, PyAny>)> {
    let template = match template_model_path {
        Some(arg) => convert::model(arg)?,
        None => {
            std::sync::Arc::new(Model::from_file(synth::tokenomics_policy()).map_err(|e| convert::with_context("the bundled model", &e))?)
        }
    };
    let io = IoSpec::of_model(template.file());
    let io = match actions {
        Some(bits) => {
            let steps = action_steps.unwrap_or_else(|| sim::deployment_guardrails().iter().map(|g| g.max_step).collect());
            import::as_actions(&io, bits, &steps).map_err(refused("the actions".into()))?
        }
        None => io,
    };
    let onnx_name = onnx_path.display().to_string();
    let imported = onnx::load_onnx(&onnx_path).map_err(refused(format!("ONNX model {onnx_name}")))?;
    import::check_io(&imported, &io)
        .map_err(refused(format!("the template's IO does not fit the ONNX graph {onnx_name} ({:?})", imported.policy.dims())))?;
    let rows = calibration(&io, calibration_path.as_deref())?;
    let stem = onnx_path.file_stem().map_or_else(|| "imported".to_owned(), |s| s.to_string_lossy().into_owned());
    let mut options = QuantizeOptions::new(name.unwrap_or(stem));
    let source = calibration_path.map_or_else(|| "the simulator's rule-based runs".to_owned(), |p| p.display().to_string());
    options.description = format!("Imported from {onnx_name} and quantized on {} calibration vectors ({source}).", rows.len());
    options.weight_bits = weight_bits;
    options.bias_bits = bias_bits;
    if auto_input_scale {
        options.input_scale = InputScale::Auto;
    }
    options.table_scale_bits = table_bits;
    let import::Imported { text, model, report } =
        py.detach(|| import::import(&imported, &io, &rows, &options)).map_err(refused(format!("quantizing {onnx_name}")))?;
    let report_dict = serialize(py, &report)?;
    let dict = report_dict.cast::<PyDict>()?;
    dict.set_item("name", model.name())?;
    dict.set_item("model_commitment", model.commitment().to_string())?;
    Ok((text, report_dict))
}
