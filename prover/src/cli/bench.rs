use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context};
use clap::Args;
use serde::{Deserialize, Serialize};
use zkpolicy_prover::bench::{self, BenchRow};
use zkpolicy_prover::fsutil;

use super::common::{circuit, load_model};

const BUNDLED: [&str; 3] = ["tokenomics-policy", "policy-m", "policy-l"];

/// Measure proving costs: k, columns, keygen, prove p50/p95 against the MSM floor,
/// proof size, native and EVM verification, deployment gas, runtime size, peak RSS.
///
/// Each model runs in its own process so its peak RSS is its own. Prints a
/// Markdown table; --json and --svg write the figures and a plot of prove time
/// and gas against parameter count. --from-json re-prints the table of an
/// earlier run without measuring (this is how the README section is made).
///
/// Examples:
///   zkpolicy bench
///   zkpolicy bench --models tokenomics-policy --runs 1 --json bench.json --svg bench.svg
///   zkpolicy bench --from-json benches/results.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct BenchArgs {
    /// Bundled model names or model files, comma-separated (default: all bundled models).
    #[arg(long, value_delimiter = ',', value_name = "MODEL")]
    models: Vec<String>,

    /// Timed proofs per model.
    #[arg(long, default_value_t = 10)]
    runs: usize,

    /// Write the figures as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,

    /// Write the plot as SVG.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,

    /// Print the table of an earlier run's JSON instead of measuring.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["models", "json", "svg"])]
    from_json: Option<PathBuf>,

    /// Internal: measure one model file and print its row as JSON.
    #[arg(long, hide = true, value_name = "FILE")]
    single: Option<PathBuf>,
}

/// The JSON file `--json` writes.
#[derive(Debug, Serialize, Deserialize)]
struct Report {
    machine: String,
    runs: usize,
    models: Vec<BenchRow>,
}

fn bundled_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
}

/// A bundled model's file, or the argument itself when it names an existing file.
fn resolve(model: &str) -> anyhow::Result<PathBuf> {
    if BUNDLED.contains(&model) {
        return Ok(bundled_dir().join(format!("{model}.json")));
    }
    let path = PathBuf::from(model);
    if path.is_file() {
        return Ok(path);
    }
    bail!("unknown model {model:?}: use one of {} or a model file path", BUNDLED.join(", "))
}

impl BenchArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        if let Some(path) = &self.single {
            let row = bench::measure(&circuit(load_model(Some(path))?)?, self.runs)?;
            println!("{}", serde_json::to_string(&row)?);
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(path) = &self.from_json {
            let report: Report = serde_json::from_slice(&fsutil::read(path)?)
                .with_context(|| format!("{} is not a zkpolicy bench report", path.display()))?;
            print!("{}", bench::markdown(&report.models, &report.machine));
            return Ok(ExitCode::SUCCESS);
        }
        let names: Vec<String> = if self.models.is_empty() { BUNDLED.iter().map(|s| s.to_string()).collect() } else { self.models.clone() };
        // Resolve and validate every model before measuring any.
        let paths = names.iter().map(|m| resolve(m)).collect::<anyhow::Result<Vec<_>>>()?;
        for path in &paths {
            load_model(Some(path))?;
        }
        let exe = std::env::current_exe()?;
        let mut rows = Vec::new();
        for (name, path) in names.iter().zip(&paths) {
            eprintln!("measuring {name} ({} runs)…", self.runs);
            let out = Command::new(&exe).arg("bench").arg("--single").arg(path).args(["--runs", &self.runs.to_string()]).output()?;
            if !out.status.success() {
                bail!("{name}: {}", String::from_utf8_lossy(&out.stderr).trim());
            }
            rows.push(serde_json::from_slice::<BenchRow>(&out.stdout).with_context(|| format!("{name}: unreadable measurement"))?);
        }
        let report = Report { machine: bench::machine(), runs: self.runs, models: rows };
        let table = bench::markdown(&report.models, &report.machine);
        let svg = self.svg.as_ref().map(|_| bench::svg(&report.models)).transpose()?;
        if let Some(path) = &self.json {
            fsutil::write_atomic(path, format!("{}\n", serde_json::to_string_pretty(&report)?).as_bytes())?;
        }
        if let (Some(path), Some(svg)) = (&self.svg, svg) {
            fsutil::write_atomic(path, svg.as_bytes())?;
        }
        print!("{table}");
        Ok(ExitCode::SUCCESS)
    }
}
