//! The benchmark table for the README.
//!
//! `cargo run --release -p zkpolicy-benches --bin report -- [--runs N] [--json out.json]`
//! Each model runs in a child process so its peak RSS is its own.

use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use zkpolicy_benches::{circuit, peak_rss_mib, MODELS};
use zkpolicy_model::synth;
use zkpolicy_prover::{evm, keys, proof, srs};
use zkpolicy_verifier_contract::compile;

#[derive(Debug, Serialize, Deserialize)]
struct Row {
    model: String,
    parameters: usize,
    k: u32,
    rows_used: usize,
    lanes: usize,
    advice_columns: usize,
    fixed_columns: usize,
    lookups: usize,
    keygen_ms: f64,
    prove_p50_ms: f64,
    prove_p95_ms: f64,
    proof_bytes: usize,
    verify_ms: f64,
    peak_rss_mib: f64,
    evm_verify_gas: u64,
    evm_deploy_gas: u64,
    runtime_bytes: usize,
    runs: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn measure(name: &str, runs: usize) -> anyhow::Result<Row> {
    let circuit = circuit(name)?;
    let shape = circuit.shape().clone();
    let started = Instant::now();
    let params = srs::dev_params_insecure(shape.k);
    let pk = keys::keygen(&params, &circuit)?;
    let keygen_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    // One untimed proof first: thread-pool start-up and first-touch page faults are not proving.
    proof::prove(&params, &pk, &circuit, &synth::random_kpis(circuit.model(), &mut rng), 0, ChaCha20Rng::seed_from_u64(0))?;
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for epoch in 0..runs as u64 {
        let kpis = synth::random_kpis(circuit.model(), &mut rng);
        let started = Instant::now();
        last = Some(proof::prove(&params, &pk, &circuit, &kpis, epoch, ChaCha20Rng::seed_from_u64(epoch))?);
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let (public, bytes) = last.context("at least one run")?;
    let started = Instant::now();
    proof::verify(&params, pk.get_vk(), &public, &bytes)?;
    let verify_ms = started.elapsed().as_secs_f64() * 1e3;
    times.sort_by(f64::total_cmp);
    let peak_rss = peak_rss_mib().unwrap_or(f64::NAN);
    let source = evm::verifier_source(&params, pk.get_vk(), &circuit)?;
    let compiled = evm::compile_verifier(&source, compile::bundled_dir())?;
    let in_evm = evm::verify_in_evm(&compiled, &public, &bytes)?;
    if !in_evm.valid {
        bail!("{name}: the EVM verifier rejected a valid proof");
    }
    Ok(Row {
        model: name.into(),
        parameters: circuit.model().parameter_count(),
        k: shape.k,
        rows_used: shape.rows,
        lanes: shape.lanes,
        advice_columns: shape.advice_columns,
        fixed_columns: shape.fixed_columns,
        lookups: shape.lookups,
        keygen_ms,
        prove_p50_ms: percentile(&times, 0.5),
        prove_p95_ms: percentile(&times, 0.95),
        proof_bytes: bytes.len(),
        verify_ms,
        peak_rss_mib: peak_rss,
        evm_verify_gas: in_evm.verify_gas,
        evm_deploy_gas: in_evm.deployment.gas_used,
        runtime_bytes: in_evm.deployment.runtime_bytes,
        runs,
    })
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let runs: usize = flag("--runs").map(|r| r.parse()).transpose().context("--runs takes a number")?.unwrap_or(10).max(1);
    if let Some(name) = flag("--single") {
        println!("{}", serde_json::to_string(&measure(&name, runs)?)?);
        return Ok(());
    }
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    for name in MODELS {
        let out = Command::new(&exe).args(["--single", name, "--runs", &runs.to_string()]).output()?;
        if !out.status.success() {
            bail!("{name}: {}", String::from_utf8_lossy(&out.stderr));
        }
        rows.push(serde_json::from_slice::<Row>(&out.stdout)?);
    }
    println!("| model | params | k | rows used | lanes | advice / fixed / lookup cols | keygen | prove p50 (p95) | proof | verify | peak RSS | EVM verify gas | deploy gas | runtime |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} / {} / {} | {:.0} ms | {:.0} ms ({:.0} ms) | {} B | {:.1} ms | {:.0} MiB | {} | {} | {} B |",
            r.model, r.parameters, r.k, r.rows_used, r.lanes, r.advice_columns, r.fixed_columns, r.lookups,
            r.keygen_ms, r.prove_p50_ms, r.prove_p95_ms, r.proof_bytes, r.verify_ms, r.peak_rss_mib,
            r.evm_verify_gas, r.evm_deploy_gas, r.runtime_bytes
        );
    }
    if let Some(path) = flag("--json") {
        std::fs::write(&path, serde_json::to_vec_pretty(&rows)?).with_context(|| format!("writing {path}"))?;
    }
    Ok(())
}
