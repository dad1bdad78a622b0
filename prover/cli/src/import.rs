use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use zkpolicy_lab::quantize::{InputScale, IoSpec, QuantizeOptions};
use zkpolicy_lab::{import, onnx};
use zkpolicy_prover::fsutil;

use super::common::{distinct_output, load_model, print_json};
use super::train::print_errors;

/// Import an ONNX MLP policy and quantize it, calibrated on sample KPI vectors.
///
/// Supported ops: Gemm, MatMul + Add, Relu, LeakyRelu, Tanh, Sigmoid (hidden, or a
/// squashed head), Clip (last), Identity, Flatten of a 1-D input; any other op is
/// refused by name and node. The KPI names, ranges
/// and scales and the output names and bounds come from --io (a model file whose
/// inputs, parameters and outputs are reused; default: the bundled tokenomics
/// policy). With an --io model that reads the controller's parameters, the graph
/// reads the KPIs then the parameters (each as value / 2^scale_bits), and each
/// calibration line also carries {"parameters": {...}} as integers. Scales
/// are chosen so nothing overflows the declared bit widths over the whole KPI
/// range, and as fine as that allows on the calibration vectors (JSONL, one
/// {"kpis": {...}} per line). Prints, per output, the maximum and mean
/// |quantized - float| over the calibration set. Nothing is written on error.
///
/// Examples:
///   zkpolicy import --onnx net.onnx --calibration kpis.jsonl --out model.json
///   zkpolicy import --onnx net.onnx --calibration kpis.jsonl --io models/tokenomics-policy.json --name my-policy --out model.json --json
///   zkpolicy import --onnx ppo-actor.onnx --calibration kpis.jsonl --actions 12 --weight-bits 16 --bias-bits 32 --auto-input-scale --out model.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ImportArgs {
    /// The ONNX model (a float MLP).
    #[arg(long, value_name = "FILE")]
    onnx: PathBuf,

    /// Calibration KPI vectors, one JSON snapshot per line.
    #[arg(long, value_name = "FILE")]
    calibration: PathBuf,

    /// Where to write the quantized model file.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,

    /// A model file whose inputs and outputs (names, units, ranges, scales) the import reuses.
    #[arg(long, value_name = "FILE")]
    io: Option<PathBuf>,

    /// Name of the quantized model (default: the ONNX file's stem).
    #[arg(long)]
    name: Option<String>,

    /// Signed bit width of the weights.
    #[arg(long, default_value_t = 10)]
    weight_bits: u32,

    /// Signed bit width of the biases.
    #[arg(long, default_value_t = 24)]
    bias_bits: u32,

    /// Choose each KPI's scale as fine as its range allows, instead of the declared one.
    #[arg(long)]
    auto_input_scale: bool,

    /// The graph outputs normalised actions in [-1, 1] (an RL policy's head): prove them
    /// with BITS fraction bits, each applied as round(action * step) parameter units.
    #[arg(long, value_name = "BITS")]
    actions: Option<u32>,

    /// The step of each action, in output order (default: the bundled deployment's
    /// max_step per parameter, as the Gymnasium environment uses).
    #[arg(long, value_name = "STEPS", value_delimiter = ',', requires = "actions")]
    action_steps: Option<Vec<i64>>,

    /// Fraction bits of every hidden tanh or sigmoid table (default 10; tanh up to 12,
    /// sigmoid up to 11). A squashed head takes the outputs' fraction bits.
    #[arg(long, value_name = "BITS")]
    table_bits: Option<u32>,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl ImportArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        distinct_output(&self.out, &[Some(&self.onnx), Some(&self.calibration), self.io.as_deref()])?;
        let imported = onnx::load_onnx(&self.onnx).with_context(|| format!("ONNX model {}", self.onnx.display()))?;
        let io_model = load_model(self.io.as_ref())?;
        let io = IoSpec::of_model(io_model.file());
        let io_name = self.io.as_ref().map_or_else(|| "the bundled model".to_string(), |p| p.display().to_string());
        let io = match self.actions {
            Some(bits) => {
                let steps = match &self.action_steps {
                    Some(steps) => steps.clone(),
                    None => zkpolicy_lab::sim::deployment_guardrails().iter().map(|g| g.max_step).collect(),
                };
                import::as_actions(&io, bits, &steps)?
            }
            None => io,
        };
        import::check_io(&imported, &io).with_context(|| {
            format!("the IO of {io_name} (--io) does not fit the ONNX graph {} ({:?})", self.onnx.display(), imported.policy.dims())
        })?;
        let calibration =
            import::read_calibration(&self.calibration, &io).with_context(|| format!("calibration file {}", self.calibration.display()))?;

        let stem = self.onnx.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "imported".into());
        let mut options = QuantizeOptions::new(self.name.clone().unwrap_or(stem));
        options.description = format!("Imported from {} and quantized on {} calibration vectors.", self.onnx.display(), calibration.len());
        options.weight_bits = self.weight_bits;
        options.bias_bits = self.bias_bits;
        if self.auto_input_scale {
            options.input_scale = InputScale::Auto;
        }
        options.table_scale_bits = self.table_bits;
        let import::Imported { text, model, report } = import::import(&imported, &io, &calibration, &options)?;
        fsutil::write_atomic(&self.out, text.as_bytes())?;

        if self.json {
            print_json(&json!({
                "out": self.out, "model": model.name(), "model_commitment": model.commitment().to_string(),
                "dims": model.dims(), "parameter_count": model.parameter_count(), "report": report,
            }))?;
        } else {
            println!("imported {} ({:?}, {} parameters)", self.onnx.display(), model.dims(), model.parameter_count());
            print_errors(model.file(), &report);
            println!("wrote {} (commitment {})", self.out.display(), model.commitment());
        }
        Ok(ExitCode::SUCCESS)
    }
}
