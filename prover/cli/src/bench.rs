use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context};
use clap::Args;
use serde::{Deserialize, Serialize};
use zkpolicy_prover::fsutil;
use zkpolicy_report::bench::{self, BenchRow};

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_circuits::{Objective, PolicyCircuit, Salt};
use zkpolicy_model::Model;

use super::common::load_model;

/// The bundled models measured by default (files and the seeded policy-xl).
const MEASURED: [&str; 4] = ["tokenomics-policy", "policy-m", "policy-l", "policy-xl"];

/// Which planned shapes to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Shapes {
    /// The verification-gas shape (what `deploy` uses).
    Gas,
    /// The prover-time shape.
    ProverTime,
    /// Both, where they differ.
    Both,
}

/// Measure proving costs: k, columns, keygen, prove p50/p95 against the MSM floor,
/// proof size, native and EVM verification, deployment gas, runtime size, peak RSS.
///
/// Each model runs in its own process so its peak RSS is its own. Prints a
/// Markdown table, or with --json the figures as one JSON document, like every
/// other command; --out and --svg write the figures and a plot of prove time and
/// gas against parameter count. --from-json re-prints the table of an earlier
/// run without measuring (this is how `benches/update-tables.sh` makes the README
/// and docs tables).
///
/// Examples:
///   zkpolicy bench
///   zkpolicy bench --models tokenomics-policy --runs 1 --out bench.json --svg bench.svg
///   zkpolicy bench --models tokenomics-policy --runs 1 --json
///   zkpolicy bench --from-json benches/results.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct BenchArgs {
    /// Bundled model names or model files, comma-separated (default: all bundled models).
    #[arg(long, value_delimiter = ',', value_name = "MODEL")]
    models: Vec<String>,

    /// Timed proofs per model (fewer when they would take more than three minutes).
    #[arg(long, default_value_t = 10)]
    runs: usize,

    /// The circuit shapes to measure: planned for verification gas, for prover time, or both.
    #[arg(long, value_enum, default_value_t = Shapes::Gas)]
    shapes: Shapes,

    /// Also measure each model with private weights (witnesses bound by a salted in-circuit
    /// hash), where that circuit fits k ≤ --max-k.
    #[arg(long)]
    private: bool,

    /// With --private: measure only the private-weights circuits.
    #[arg(long, requires = "private")]
    only_private: bool,

    /// With --private: plan the private circuits up to this k, past the k ≤ 20 every other
    /// command keeps to (the million-parameter policy's benchmark, `benches/xl-private.sh`).
    #[arg(long, default_value_t = zkpolicy_circuits::layout::MAX_K, value_parser = clap::value_parser!(u32).range(10..=24))]
    max_k: u32,

    /// Also write the figures as JSON to FILE (the document --json prints).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Print the figures as JSON (prover/cli/schemas/bench.schema.json) instead of the table.
    #[arg(long)]
    json: bool,

    /// Write the plot as SVG.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,

    /// Print the table of an earlier run's JSON instead of measuring.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["models", "out", "svg"])]
    from_json: Option<PathBuf>,

    /// Internal: measure one model (a name or a file) and print its row as JSON.
    #[arg(long, hide = true, value_name = "MODEL")]
    single: Option<String>,

    /// Internal: with --single, measure the prover-time shape.
    #[arg(long, hide = true)]
    prover_time: bool,

    /// Internal: with --single, measure the private-weights circuit (gas shape).
    #[arg(long, hide = true)]
    private_single: bool,
}

/// The document `--json` prints and `--out` writes (`prover/cli/schemas/bench.schema.json`).
#[derive(Debug, Serialize, Deserialize)]
struct Report {
    /// Absent in reports written before it was added: those are version 1 too.
    #[serde(default = "schema_version")]
    schema_version: u32,
    /// Always "bench"; absent in reports written before it was added.
    #[serde(default = "command")]
    command: String,
    machine: String,
    runs: usize,
    models: Vec<BenchRow>,
}

fn schema_version() -> u32 {
    super::common::SCHEMA_VERSION
}

fn command() -> String {
    "bench".into()
}

/// A bundled model (compiled in, or built from its seed), or a model file.
fn load(model: &str) -> anyhow::Result<Arc<Model>> {
    if let Some(bundled) = zkpolicy_lab::bundled::model(model)? {
        return Ok(Arc::new(bundled));
    }
    let path = PathBuf::from(model);
    if path.is_file() {
        return load_model(Some(&path));
    }
    bail!("unknown model {model:?}: use one of {} or a model file path", zkpolicy_lab::bundled::names().join(", "))
}

impl BenchArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        if self.runs == 0 && self.from_json.is_none() {
            bail!("--runs must be at least 1: the table reports the timed proofs' p50 and p95");
        }
        if let Some(model) = &self.single {
            return self.measure_single(model);
        }
        if let Some(path) = &self.from_json {
            return print_from_json(path, self.json);
        }
        let jobs = self.plan()?;
        let exe = std::env::current_exe()?;
        let mut rows = Vec::new();
        for (name, prover_time, private) in jobs {
            rows.push(self.measure_in_child(&exe, &name, prover_time, private)?);
        }
        let report = Report {
            schema_version: super::common::SCHEMA_VERSION,
            command: command(),
            machine: bench::machine(),
            runs: self.runs,
            models: rows,
        };
        let svg = self.svg.as_ref().map(|_| bench::svg(&report.models)).transpose()?;
        if let Some(path) = &self.out {
            fsutil::write_atomic(path, format!("{}\n", serde_json::to_string_pretty(&report)?).as_bytes())?;
        }
        if let (Some(path), Some(svg)) = (&self.svg, svg) {
            fsutil::write_atomic(path, svg.as_bytes())?;
        }
        show(&report, self.json)
    }

    /// `--single`: measures one model in this process and prints its row as JSON.
    fn measure_single(&self, model: &str) -> anyhow::Result<ExitCode> {
        let objective = if self.prover_time { Objective::ProverTime } else { Objective::Gas };
        let circuit = if self.private_single {
            // A fixed salt: the figures do not depend on it, and a bench keeps no secrets.
            PolicyCircuit::private_up_to(load(model)?, Salt::random(ChaCha20Rng::seed_from_u64(1)), objective, self.max_k)?
        } else {
            PolicyCircuit::planned(load(model)?, objective)?
        };
        let mut row = bench::measure(&circuit, self.runs)?;
        if self.prover_time {
            row.model.push_str(" (prover time)");
        }
        println!("{}", serde_json::to_string(&row)?);
        Ok(ExitCode::SUCCESS)
    }

    /// Resolves and validates every model before measuring any, and lists the measurements
    /// to make: (model, prover-time shape, private weights).
    fn plan(&self) -> anyhow::Result<Vec<(String, bool, bool)>> {
        let names: Vec<String> =
            if self.models.is_empty() { MEASURED.iter().map(|s| s.to_string()).collect() } else { self.models.clone() };
        let mut jobs = Vec::new();
        for name in &names {
            let model = load(name)?;
            let gas = PolicyCircuit::new(model.clone())?;
            let fast = PolicyCircuit::planned(model, Objective::ProverTime)?;
            let differ = gas.shape() != fast.shape();
            if self.shapes != Shapes::ProverTime && !self.only_private {
                jobs.push((name.clone(), false, false));
            }
            if !self.only_private && (self.shapes == Shapes::ProverTime || (self.shapes == Shapes::Both && differ)) {
                jobs.push((name.clone(), true, false));
            }
            if self.private {
                match PolicyCircuit::private_up_to(load(name)?, Salt::random(ChaCha20Rng::seed_from_u64(1)), Objective::Gas, self.max_k) {
                    Ok(_) => jobs.push((name.clone(), false, true)),
                    Err(e) => eprintln!("not measuring {name} with private weights: {e}"),
                }
            }
        }
        Ok(jobs)
    }

    /// Measures one planned job in a child `exe bench --single` process (so its peak RSS is
    /// its own) and reads back its row.
    fn measure_in_child(&self, exe: &Path, name: &str, prover_time: bool, private: bool) -> anyhow::Result<BenchRow> {
        let how = if prover_time {
            " at its prover-time shape"
        } else if private {
            " with private weights"
        } else {
            ""
        };
        eprintln!("measuring {name}{how} ({} runs)…", self.runs);
        let mut command = Command::new(exe);
        command.arg("bench").args(["--single", name]).args(["--runs", &self.runs.to_string()]);
        if prover_time {
            command.arg("--prover-time");
        }
        if private {
            command.arg("--private-single").args(["--max-k", &self.max_k.to_string()]);
        }
        let out = command.output()?;
        if !out.status.success() {
            bail!("{name}: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        serde_json::from_slice::<BenchRow>(&out.stdout).with_context(|| format!("{name}: unreadable measurement"))
    }
}

/// `--from-json`: prints the table (or the document) of an earlier run's report without measuring.
fn print_from_json(path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let report: Report = serde_json::from_str(&super::common::read_text(path, "bench report")?)
        .with_context(|| format!("{} is not a zkpolicy bench report", path.display()))?;
    show(&report, json)
}

/// The report on stdout: the Markdown table, or the JSON document.
fn show(report: &Report, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        super::common::print_json(&serde_json::to_value(report)?)?;
    } else {
        print!("{}", bench::markdown(&report.models, &report.machine));
    }
    Ok(ExitCode::SUCCESS)
}
