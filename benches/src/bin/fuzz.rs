//! The long fuzzing run: a million mutated inputs per parser (both cores), no panic, no
//! broken invariant. `cargo run --release -p zkpolicy-benches --bin fuzz -- [EXECUTIONS]
//! [TARGET...]` (targets by name, e.g. "verifying key file"; default all); writes
//! `benches/fuzz.json`, replacing only the rows of the targets run. The suite runs a short
//! version (`tests/tests/e2e/fuzz.rs`).

use anyhow::Context as _;
use rayon::prelude::*;
use zkpolicy_benches::fuzz::{Context, Fuzzer, Report, TARGETS};

const CHUNK: u64 = 10_000;

fn main() -> anyhow::Result<()> {
    let executions: u64 =
        std::env::args().nth(1).map(|a| a.parse()).transpose().context("EXECUTIONS must be a number")?.unwrap_or(1_000_000);
    let only: Vec<String> = std::env::args().skip(2).collect();
    if let Some(unknown) = only.iter().find(|name| !TARGETS.iter().any(|t| t.name() == name.as_str())) {
        anyhow::bail!("unknown target {unknown:?}: one of {:?}", TARGETS.map(|t| t.name()));
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz.json");
    // Rows of the targets not run this time are kept from the last run.
    let mut rows: Vec<serde_json::Value> = match std::fs::read_to_string(&path) {
        Ok(text) if !only.is_empty() => serde_json::from_str(&text).context("benches/fuzz.json")?,
        _ => Vec::new(),
    };
    let context = Context::new()?;
    let mut failed = false;
    for (t, target) in TARGETS.into_iter().enumerate() {
        if !only.is_empty() && !only.iter().any(|name| name == target.name()) {
            continue;
        }
        let chunks: Vec<u64> = (0..executions.div_ceil(CHUNK)).collect();
        let report = chunks
            .par_iter()
            .map(|&c| Fuzzer::new(((t as u64) << 32) | c).campaign(&context, target, CHUNK.min(executions - c * CHUNK)))
            .reduce(Report::default, |mut a, b| {
                a.executions += b.executions;
                a.accepted += b.accepted;
                a.panics.extend(b.panics);
                a.broken.extend(b.broken);
                if b.slowest > a.slowest {
                    a.slowest = b.slowest;
                    a.slowest_input = b.slowest_input;
                }
                a.elapsed += b.elapsed;
                a
            });
        println!(
            "{:<18} {:>9} inputs  {:>8} accepted  {} panics  {} broken  slowest {:>6.1} ms",
            target.name(),
            report.executions,
            report.accepted,
            report.panics.len(),
            report.broken.len(),
            report.slowest.as_secs_f64() * 1e3
        );
        println!("    slowest input: {} bytes, starting {}", report.slowest_input.0, report.slowest_input.1);
        for (input, why) in report.panics.iter().chain(&report.broken).take(3) {
            println!("    {why}: {}", &input[..input.len().min(200)]);
        }
        failed |= !report.panics.is_empty() || !report.broken.is_empty();
        rows.retain(|row| row["target"] != target.name());
        rows.push(serde_json::json!({
            "target": target.name(),
            "executions": report.executions,
            "accepted": report.accepted,
            "panics": report.panics.len(),
            "broken": report.broken.len(),
            "slowest_ms": (report.slowest.as_secs_f64() * 1e3).round(),
            "cpu_seconds": report.elapsed.as_secs(),
        }));
    }
    rows.sort_by_key(|row| TARGETS.iter().position(|t| row["target"] == t.name()));
    std::fs::write(&path, serde_json::to_string_pretty(&rows)? + "\n")?;
    println!("wrote {}", path.display());
    anyhow::ensure!(!failed, "a parser panicked or broke its invariant");
    Ok(())
}
