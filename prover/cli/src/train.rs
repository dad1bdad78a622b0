use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use zkpolicy_lab::quantize::{self, IoSpec, QuantizeOptions};
use zkpolicy_lab::train::{self, TrainConfig};
use zkpolicy_model::{Model, ModelFile};
use zkpolicy_prover::fsutil;

use super::common::{load_model, print_json};
use super::progress;

/// Train a policy in the tokenomics simulator (evolution strategies, rayon), then quantize it.
///
/// Every generation scores antithetic pairs of perturbed policies on each
/// scenario x seed of the suite, in parallel; the reward is documented in
/// `models/lab/src/sim/reward.rs` (price stability, staking ratio in its band,
/// liquidity depth, guardrail-hit penalty). The policy reads the eight KPIs and
/// the controller's four current parameters (public inputs of every proof; the
/// controller supplies them), unless --kpis-only. The best float policy is
/// quantized with the inputs it visited as calibration, in the IO of the bundled
/// default model (its KPIs and outputs). Writes policy.float.json, model.json and
/// train-report.json (generation log, quantization error) to --out-dir.
/// Seeded: the same flags give the same policy on any number of threads.
///
/// Examples:
///   zkpolicy train --out-dir trained/
///   zkpolicy train --generations 10 --population 16 --epochs 96 --out-dir trained/ --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct TrainArgs {
    /// Directory for policy.float.json, model.json and train-report.json (created if missing).
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,

    /// Generations of evolution strategies [default: 60].
    #[arg(long)]
    generations: Option<usize>,

    /// Perturbed policies per generation, even: antithetic pairs [default: 32].
    #[arg(long)]
    population: Option<usize>,

    /// Simulated epochs per episode [default: 180].
    #[arg(long)]
    epochs: Option<usize>,

    /// Hidden layer widths, e.g. 16,16.
    #[arg(long, value_delimiter = ',', default_value = "16")]
    hidden: Vec<usize>,

    /// Seed of the initial policy and of the search.
    #[arg(long, default_value_t = 0)]
    seed: u64,

    /// A full training config (JSON, the fields of TrainConfig); --generations, --population and --epochs override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Train a policy on the KPIs alone, blind to the parameters it adjusts.
    #[arg(long)]
    kpis_only: bool,

    /// Name of the quantized model.
    #[arg(long, default_value = "trained-policy")]
    name: String,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl TrainArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let mut config: TrainConfig = match &self.config {
            Some(path) => {
                let text = super::common::read_text(path, "float policy file")?;
                serde_json::from_str(&text).with_context(|| format!("{} is not a training config", path.display()))?
            }
            None => TrainConfig { seed: self.seed, ..TrainConfig::default() },
        };
        config.generations = self.generations.unwrap_or(config.generations);
        config.population = self.population.unwrap_or(config.population);
        config.epochs_per_episode = self.epochs.unwrap_or(config.epochs_per_episode);
        config.validate()?;

        let mut io = IoSpec::of_model(load_model(None)?.file());
        if !self.kpis_only {
            io.parameters = zkpolicy_lab::sim::guardrails::parameter_inputs();
        }
        let mut options = QuantizeOptions::new(&self.name);
        options.description = format!(
            "Trained in the zkpolicy simulator: ES, {} generations x {} members, seed {}.",
            config.generations, config.population, config.seed
        );
        let bar = progress::bar(config.generations as u64, "training", self.json);
        let trained = train::train_and_quantize(&self.hidden, self.seed, &config, &io, &options, |g| {
            bar.set_message(format!("training (best {:.4})", g.best_reward));
            bar.inc(1);
        })?;
        bar.finish_and_clear();
        let (result, quantized) = (&trained.result, &trained.quantized);
        let model_text = zkpolicy_lab::synth::render(&quantized.file)?;
        // The written file must load as a valid model: the circuit is built from it.
        let model = Model::from_json(&model_text)?;

        let dir = &self.out_dir;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let report = json!({
            "config": config, "initial_reward": result.initial_reward, "best_reward": result.best_reward,
            "generations": result.log, "quantization": &quantized.report,
            "model": model.name(), "model_commitment": model.commitment().to_string(),
        });
        fsutil::write_atomic(&dir.join("policy.float.json"), format!("{}\n", serde_json::to_string_pretty(&result.best)?).as_bytes())?;
        fsutil::write_atomic(&dir.join("train-report.json"), format!("{}\n", serde_json::to_string_pretty(&report)?).as_bytes())?;
        fsutil::write_atomic(&dir.join("model.json"), model_text.as_bytes())?;

        if self.json {
            print_json(&report)?;
        } else {
            println!("reward {:.4} -> {:.4} over {} generations", result.initial_reward, result.best_reward, config.generations);
            print_errors(&quantized.file, &quantized.report);
            println!("wrote {} (policy.float.json, model.json, train-report.json)", dir.display());
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// The per-output quantization error table.
pub fn print_errors(file: &ModelFile, report: &quantize::QuantReport) {
    println!("quantization error over {} calibration vectors:", report.calibration_rows);
    for (o, e) in file.outputs.iter().zip(&report.outputs) {
        println!("  {:<24} max |q - f| {:.3} {unit}, mean {:.3} {unit}", o.name, e.max_abs_error, e.mean_abs_error, unit = o.unit);
    }
}
