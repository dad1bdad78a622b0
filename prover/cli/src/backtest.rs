use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use zkpolicy_lab::backtest::{self, Comparison, PolicyBacktest};
use zkpolicy_lab::float::FloatPolicy;
use zkpolicy_lab::sim::{FloatController, IntegerPolicy, Policy, RewardConfig, RuleBased, Scenario, SimConfig, StaticPolicy};
use zkpolicy_model::Model;
use zkpolicy_prover::fsutil;
use zkpolicy_prover::keys::Prepared;
use zkpolicy_report::backtest::{prove_decisions, trajectory_svg, ProvenDecisions};

use super::common::{circuit, load_model, print_json, KeyArgs};
use super::{progress, EXIT_INVALID};

/// The longest scenario `backtest` runs: about 27 years of daily epochs.
const MAX_EPOCHS: usize = 10_000;

/// Backtest a quantized policy on the scenario suite, and prove every decision.
///
/// Runs the integer model (exactly what is proven), a static schedule, an
/// Ampleforth-style deviation-band controller, with --float the float policy it
/// was quantized from, and with --compare other integer models, through the
/// seeded scenarios (calm, crash,
/// liquidity_drain, demand_surge, slow_bleed). Reports price volatility, time
/// within the staking band, maximum drawdown, guardrail hits and mean reward.
/// Every epoch's decision of the integer model is then proven in one rayon
/// batch, verified, and checked to be the decision the simulation applied
/// (exit 1 if any is not). Writes report.json, report.md and one SVG of
/// trajectories per scenario to --out-dir.
///
/// Examples:
///   zkpolicy backtest --out-dir backtest/
///   zkpolicy backtest --model trained/model.json --float trained/policy.float.json --epochs 96 --out-dir backtest/
///   zkpolicy backtest --model models/trained-policy.json --compare models/trained-policy-kpi.json --out-dir backtest/
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct BacktestArgs {
    /// Model file, or a bundled model's name (default: the bundled tokenomics policy).
    #[arg(long, value_name = "FILE|NAME")]
    model: Option<PathBuf>,

    /// The float policy the model was quantized from (`zkpolicy train` writes policy.float.json).
    #[arg(long, value_name = "FILE")]
    float: Option<PathBuf>,

    /// Other integer models to run beside it (not proven), e.g. a baseline policy.
    #[arg(long, value_name = "FILE")]
    compare: Vec<PathBuf>,

    /// Epochs per scenario (the bundled policies train on 180).
    #[arg(long, default_value_t = 180)]
    epochs: usize,

    /// Seed of the scenario suite: scenario i runs on seed + i (the bundled policies
    /// train on seeds 1000 and 2000, so the default suite is held out).
    #[arg(long, default_value_t = 7)]
    seed: u64,

    /// Directory for report.json, report.md and the SVG plots (created if missing).
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,

    /// Skip proving the decisions (metrics and plots only).
    #[arg(long)]
    no_prove: bool,

    #[command(flatten)]
    keys: KeyArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl BacktestArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        anyhow::ensure!(
            (1..=MAX_EPOCHS).contains(&self.epochs),
            "--epochs must be between 1 and {MAX_EPOCHS} (a scenario's epochs are held in memory)"
        );
        let model = load_model(self.model.as_ref())?;
        let integer = IntegerPolicy::new((*model).clone()).context("the model cannot drive the simulator")?;
        let float = self.float_policy()?;
        let compared = self.compared()?;
        let (fixed, rules) = (StaticPolicy, RuleBased::default());
        let mut policies: Vec<&dyn Policy> = vec![&integer, &fixed, &rules];
        if let Some(float) = &float {
            policies.push(float);
        }
        policies.extend(compared.iter().map(|p| p as &dyn Policy));

        let suite = Scenario::suite(self.seed, self.epochs);
        let (config, reward) = (SimConfig::default(), RewardConfig::default());
        let spinner = progress::spinner("simulating", self.json);
        let backtests = policies.iter().map(|p| backtest::backtest(*p, &suite, &config, &reward)).collect::<Result<Vec<_>, _>>()?;
        spinner.finish_and_clear();
        let comparison = Comparison::from_backtests(&backtests);

        let proven = if self.no_prove { None } else { Some(self.prove(&model, &backtests[0])?) };

        std::fs::create_dir_all(&self.out_dir).with_context(|| format!("cannot create {}", self.out_dir.display()))?;
        let mut plots = Vec::new();
        for (i, scenario) in suite.iter().enumerate() {
            let path = self.out_dir.join(format!("{}.svg", scenario.name()));
            fsutil::write_atomic(&path, trajectory_svg(&backtests, i)?.as_bytes())?;
            plots.push(path);
        }
        let markdown = comparison.to_markdown();
        let report = json!({
            "model": model.name(), "model_commitment": model.commitment().to_string(),
            "seed": self.seed, "epochs_per_scenario": self.epochs,
            "scenarios": suite.iter().map(|s| s.name()).collect::<Vec<_>>(),
            "comparison": comparison, "proven": proven, "plots": plots,
        });
        fsutil::write_atomic(&self.out_dir.join("report.json"), format!("{}\n", serde_json::to_string_pretty(&report)?).as_bytes())?;
        fsutil::write_atomic(&self.out_dir.join("report.md"), markdown.as_bytes())?;

        let all_proven = proven.as_ref().is_none_or(|p| p.verified == p.proofs && p.mismatches.is_empty());
        if self.json {
            print_json(&report)?;
        } else {
            print_text(&self.out_dir, &markdown, proven.as_ref(), plots.len());
        }
        Ok(if all_proven { ExitCode::SUCCESS } else { ExitCode::from(EXIT_INVALID) })
    }

    /// The float policy named by --float, as a controller (none without --float).
    fn float_policy(&self) -> anyhow::Result<Option<FloatController>> {
        Ok(match &self.float {
            Some(path) => {
                let text = super::common::read_text(path, "float policy file")?;
                let policy: FloatPolicy =
                    serde_json::from_str(&text).with_context(|| format!("{} is not a float policy (JSON)", path.display()))?;
                Some(FloatController::new("float", policy).with_context(|| format!("float policy {}", path.display()))?)
            }
            None => None,
        })
    }

    /// The integer models named by --compare, each able to drive the simulator.
    fn compared(&self) -> anyhow::Result<Vec<IntegerPolicy>> {
        self.compare
            .iter()
            .map(|path| {
                let other = load_model(Some(path))?;
                IntegerPolicy::new((*other).clone()).with_context(|| format!("{} cannot drive the simulator", path.display()))
            })
            .collect::<anyhow::Result<Vec<_>>>()
    }

    /// Proves, verifies and checks every epoch's decision of the integer model in `backtest`.
    fn prove(&self, model: &Arc<Model>, backtest: &PolicyBacktest) -> anyhow::Result<ProvenDecisions> {
        let Prepared { circuit, params, pk, .. } = self.keys.prepare(circuit(model.clone())?)?;
        let total = backtest.scenarios.iter().map(|s| s.trajectory.epochs.len()).sum::<usize>();
        let bar = progress::bar(total as u64, "proving decisions", self.json);
        let report = prove_decisions(&params, &pk, pk.get_vk(), &circuit, backtest, 1, &|| bar.inc(1))?;
        bar.finish_and_clear();
        Ok(report)
    }
}

/// Prints the comparison, the proving figures (when proven) and where the files went.
fn print_text(out_dir: &Path, markdown: &str, proven: Option<&ProvenDecisions>, plots: usize) {
    println!("{markdown}");
    if let Some(p) = proven {
        println!(
            "proved {} decisions in {:.1} s ({} bytes each), verified {} in {:.1} s, {} mismatched",
            p.proofs,
            p.prove_ms as f64 / 1e3,
            p.proof_bytes,
            p.verified,
            p.verify_ms as f64 / 1e3,
            p.mismatches.len()
        );
    }
    println!("wrote {} (report.json, report.md, {} plots)", out_dir.display(), plots);
}
