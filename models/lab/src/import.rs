//! `zkpolicy import` as a library call, shared by the CLI and the Python package: an
//! ONNX policy checked against a template's IO, its calibration rows, the quantized
//! model and the report of its error.

use std::path::Path;

use zkpolicy_model::{Model, OutputSpec};

use crate::onnx::OnnxPolicy;
use crate::quantize::{self, IoSpec, QuantReport, QuantizeOptions};
use crate::{synth, LabError};

/// The template's outputs as normalised actions, the form RL policies emit: output `j`
/// is a real value in `[−1, 1]` at `scale_bits` fraction bits whose parameter change is
/// `round(a · steps[j])` (the controller's map, and the Gymnasium environment's).
pub fn as_actions(io: &IoSpec, scale_bits: u32, steps: &[i64]) -> Result<IoSpec, LabError> {
    if steps.len() != io.outputs.len() {
        return Err(LabError::WrongCount { what: "action steps", expected: io.outputs.len(), got: steps.len() });
    }
    let one = 1i64.checked_shl(scale_bits).filter(|_| scale_bits <= zkpolicy_model::arith::MAX_OUTPUT_SCALE_BITS).ok_or_else(|| {
        LabError::Quantization {
            field: "outputs.scale_bits".into(),
            reason: format!("{scale_bits} fraction bits: at most {}", zkpolicy_model::arith::MAX_OUTPUT_SCALE_BITS),
        }
    })?;
    let outputs = io
        .outputs
        .iter()
        .zip(steps)
        .map(|(o, &step)| OutputSpec {
            unit: format!("action (1 = {step} {})", o.unit),
            min: -one,
            max: one,
            scale_bits,
            step,
            description: o.description.clone(),
            name: o.name.clone(),
        })
        .collect();
    Ok(IoSpec { outputs, ..io.clone() })
}

/// Checks an imported graph against the IO it will be quantized for: the outputs' bounds
/// inside its final Clip, and as many network inputs as the IO declares.
pub fn check_io(imported: &OnnxPolicy, io: &IoSpec) -> Result<(), LabError> {
    imported.check_output_bounds(&io.outputs)?;
    let width = io.inputs.len() + io.parameters.len();
    if imported.policy.inputs() != width {
        return Err(LabError::InvalidOnnxGraph {
            reason: format!(
                "the IO declares {} KPIs and {} parameters, but the graph reads {} inputs",
                io.inputs.len(),
                io.parameters.len(),
                imported.policy.inputs()
            ),
        });
    }
    Ok(())
}

/// Calibration rows from a JSONL file, in network order: the KPIs, then the parameters,
/// which a line gives as the controller's integers and the network reads as
/// `value / 2^scale_bits`.
pub fn read_calibration(path: &Path, io: &IoSpec) -> Result<Vec<Vec<f64>>, LabError> {
    let network = io.network_inputs();
    let names: Vec<&str> = network.iter().map(|i| i.name.as_str()).collect();
    let mut rows = quantize::read_calibration_jsonl(path, &names)?;
    for row in &mut rows {
        for (v, spec) in row.iter_mut().zip(&network).skip(io.inputs.len()) {
            *v /= 2f64.powi(spec.scale_bits.min(1_000) as i32);
        }
    }
    Ok(rows)
}

/// An imported, quantized and validated model: its canonical file text, the model, and
/// the error report.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The model file as rendered by [`synth::render`], ready to write to disk.
    pub text: String,
    /// The same file parsed back and validated.
    pub model: Model,
    /// The scales the quantizer chose and the error they cost on the calibration rows.
    pub report: QuantReport,
}

/// Quantizes a checked graph for `io` on `rows` (see [`crate::quantize::quantize`]).
pub fn import(imported: &OnnxPolicy, io: &IoSpec, rows: &[Vec<f64>], options: &QuantizeOptions) -> Result<Imported, LabError> {
    check_io(imported, io)?;
    let quantized = quantize::quantize(&imported.policy, io, rows, options)?;
    let text = synth::render(&quantized.file)?;
    let model = Model::from_json(&text)?;
    Ok(Imported { text, model, report: quantized.report })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_carry_the_steps_and_keep_the_real_range() {
        let io = IoSpec::of_model(&synth::tokenomics_policy());
        let actions = as_actions(&io, 12, &[10, 5, 5, 2]).expect("four steps");
        for (o, step) in actions.outputs.iter().zip([10, 5, 5, 2]) {
            assert_eq!((o.min, o.max, o.scale_bits, o.step), (-4096, 4096, 12, step));
            assert_eq!(o.real(o.max), 1.0);
            assert_eq!(o.delta(o.max), Some(step));
            // a = −0.5: round(−step / 2), halves up.
            assert_eq!(o.delta(-2048), Some((-(step as f64) / 2.0 + 0.5).floor() as i64));
        }
        assert!(as_actions(&io, 12, &[1, 2]).is_err());
        assert!(as_actions(&io, 25, &[1, 1, 1, 1]).is_err());
    }
}
