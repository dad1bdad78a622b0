//! Proving-cost measurements for auditors: one [`BenchRow`] per model, a
//! Markdown table, an SVG plot, and the MSM floor the prover cannot beat.

use std::time::Instant;

use halo2_proofs::arithmetic::best_multiexp;
use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::ProvingKey;
use halo2_proofs::poly::commitment::ParamsProver;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use zkpolicy_circuits::{PolicyCircuit, PublicInputs};
use zkpolicy_model::Observation;
use zkpolicy_verifier::solidity::{self, PrecompileCalls};
use zkpolicy_verifier::{abi, build, compile};

use zkpolicy_prover::{evm, keys, proof, srs, ProverError};

/// Everything measured for one model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchRow {
    /// The model's name, with ` (private)` appended for a private-weights circuit.
    pub model: String,
    /// Whether the weights were private witnesses (salted hash) rather than fixed columns.
    #[serde(default)]
    pub private_weights: bool,
    /// The model's weights and biases, counted.
    pub parameters: usize,
    /// The circuit has `2^k` rows.
    pub k: u32,
    /// Rows the layout uses (the range table excluded).
    pub rows_used: usize,
    /// Multiply-accumulates per dot row.
    pub lanes: usize,
    /// Advice columns of the circuit.
    pub advice_columns: usize,
    /// Fixed columns, each a commitment in the verifying key.
    pub fixed_columns: usize,
    /// Lookup arguments (the range check, and the activation table when configured).
    pub lookups: usize,
    /// Timed proofs behind the percentiles: `runs` asked for, fewer if a large model hit
    /// the three-minute budget.
    pub runs: usize,
    /// Wall time of proving-key generation (development SRS included), in milliseconds.
    pub keygen_ms: f64,
    /// Median proving time over the timed runs, in milliseconds.
    pub prove_p50_ms: f64,
    /// 95th-percentile proving time over the timed runs, in milliseconds.
    pub prove_p95_ms: f64,
    /// Time of the multi-scalar multiplications any prover of this circuit must do
    /// (one per committed polynomial, at 2^k points), measured in the same run.
    pub msm_floor_ms: f64,
    /// Polynomials the prover commits to, each one MSM of the floor.
    pub committed_polynomials: usize,
    /// Size of one proof in bytes.
    pub proof_bytes: usize,
    /// Native verification time of one proof, in milliseconds.
    pub verify_ms: f64,
    /// Peak resident memory of this process in MiB (Linux only, `None` elsewhere).
    pub peak_rss_mib: Option<f64>,
    /// Gas of the whole `verifyProof` transaction in revm (Osaka rules), intrinsic and calldata gas included.
    pub evm_verify_gas: u64,
    /// Gas to deploy the generated Solidity verifier.
    pub evm_deploy_gas: u64,
    /// The verifier contract's runtime bytecode size (EIP-170 caps it at 24,576).
    pub runtime_bytes: usize,
    /// `submitAdjustment` through the bundled controller (autonomous mode), real proof.
    pub submit_gas: u64,
    /// What the verification transaction is made of: its calldata gas and its precompile calls.
    pub calldata_gas: u64,
    /// The BN254 precompile calls one verification makes, to reprice it per chain.
    pub precompiles: PrecompileCalls,
    /// The honest baseline: recomputing the integer model on chain (transaction gas),
    /// and deploying it (its weight data contracts included); `None` when it does not
    /// fit, with the reason.
    pub recompute_gas: Option<u64>,
    /// Gas to deploy the recomputation baseline and its weight data contracts.
    pub recompute_deploy_gas: Option<u64>,
    /// Why the baseline does not fit on chain, with its weight data size; `None` when it fits
    /// or the weights are private.
    pub recompute_note: Option<String>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// Measures one model: keygen, `runs` proofs (after one untimed warm-up), native and EVM
/// verification, and the MSM floor. Peak RSS is this process's, so run one model per process.
pub fn measure(circuit: &PolicyCircuit, runs: usize) -> Result<BenchRow, ProverError> {
    let shape = circuit.shape().clone();
    let started = Instant::now();
    let params = srs::dev_params_insecure(shape.k);
    let pk = keys::keygen(&params, circuit)?;
    let keygen_ms = ms(started);

    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let TimedProofs { times, public, bytes } = timed_proofs(&params, &pk, circuit, runs, &mut rng)?;
    let started = Instant::now();
    proof::verify(&params, pk.get_vk(), &public, &bytes)?;
    let verify_ms = ms(started);

    let committed = shape.committed_polynomials();
    let msm_floor_ms = msm_floor(&params, committed, &mut rng);
    let peak_rss_mib = peak_rss_mib();

    let source = evm::verifier_source(&params, pk.get_vk(), circuit)?;
    let compiled = evm::compile_verifier(&source, compile::bundled_dir())?;
    let in_evm = evm::verify_in_evm(&compiled.bytecode, &public, &bytes)?;
    if !in_evm.valid {
        return Err(ProverError::InvalidProof { reason: "the EVM verifier rejected a valid proof".into() });
    }
    let controller = evm::run_controller(&compiled.bytecode, &bench_rails(circuit, &public), &public, &bytes)?;
    let program = build::build(&params, pk.get_vk(), shape.instances)?;
    let calldata = abi::verify_calldata(&bytes, &public.to_instance());
    let calldata_gas = calldata.iter().map(|b| if *b == 0 { 4 } else { 16 }).sum();
    let private = circuit.weight_commitment().is_some();
    let recompute = recompute_baseline(circuit, &public, private)?;
    Ok(BenchRow {
        model: if private { format!("{} (private)", circuit.model().name()) } else { circuit.model().name().into() },
        private_weights: private,
        parameters: circuit.model().parameter_count(),
        k: shape.k,
        rows_used: shape.rows,
        lanes: shape.lanes,
        advice_columns: shape.advice_columns,
        fixed_columns: shape.fixed_columns,
        lookups: shape.lookups,
        runs: times.len(),
        keygen_ms,
        prove_p50_ms: percentile(&times, 0.5),
        prove_p95_ms: percentile(&times, 0.95),
        msm_floor_ms,
        committed_polynomials: committed,
        proof_bytes: bytes.len(),
        verify_ms,
        peak_rss_mib,
        evm_verify_gas: in_evm.verify_gas,
        evm_deploy_gas: in_evm.deployment.gas_used,
        runtime_bytes: in_evm.deployment.runtime_bytes,
        submit_gas: controller.submit_gas,
        calldata_gas,
        precompiles: solidity::precompile_calls(&program),
        recompute_gas: recompute.gas,
        recompute_deploy_gas: recompute.deploy_gas,
        recompute_note: recompute.note,
    })
}

/// What [`timed_proofs`] measured: the sorted proving times and the last proof made.
struct TimedProofs {
    /// Proving times in milliseconds, sorted.
    times: Vec<f64>,
    /// The last proof's public inputs.
    public: PublicInputs,
    /// The last proof.
    bytes: Vec<u8>,
}

/// One untimed warm-up proof, then up to `runs` timed ones on random observations: the
/// sorted times in milliseconds and the last proof made.
fn timed_proofs(
    params: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    circuit: &PolicyCircuit,
    runs: usize,
    rng: &mut ChaCha20Rng,
) -> Result<TimedProofs, ProverError> {
    proof::prove(params, pk, circuit, Observation::random(circuit.model(), &mut *rng), 0, ChaCha20Rng::seed_from_u64(0))?;
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    let budget = Instant::now();
    for epoch in 1..=runs.max(1) as u64 {
        // Large models: as many proofs as three minutes allow (at least one).
        if !times.is_empty() && budget.elapsed().as_secs() > 180 {
            break;
        }
        let kpis = Observation::random(circuit.model(), &mut *rng);
        let started = Instant::now();
        last = Some(proof::prove(params, pk, circuit, &kpis, epoch, ChaCha20Rng::seed_from_u64(epoch))?);
        times.push(ms(started));
    }
    times.sort_by(f64::total_cmp);
    let (public, bytes) = last.ok_or_else(|| ProverError::Artifact { reason: "no proof was made".into() })?;
    Ok(TimedProofs { times, public, bytes })
}

/// The MSM floor in milliseconds: the fastest of five MSMs over all of `params`' bases,
/// times the `committed` polynomials.
fn msm_floor(params: &ParamsKZG<Bn256>, committed: usize, rng: &mut ChaCha20Rng) -> f64 {
    let bases = params.get_g();
    let scalars: Vec<Fr> = (0..bases.len()).map(|_| Fr::random(&mut *rng)).collect();
    // The fastest of five runs: one MSM's cost, times the polynomials committed.
    let one_msm = (0..5)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(best_multiexp(&scalars, bases));
            ms(started)
        })
        .fold(f64::INFINITY, f64::min);
    one_msm * committed as f64
}

/// The recomputation baseline's figures: its gas and deployment gas when it fits on chain,
/// or why it does not.
struct Recompute {
    gas: Option<u64>,
    deploy_gas: Option<u64>,
    note: Option<String>,
}

/// Deploys the recomputation baseline and recomputes `public`'s decision with it, checking
/// it agrees with the proof; nothing for private weights.
fn recompute_baseline(circuit: &PolicyCircuit, public: &PublicInputs, private: bool) -> Result<Recompute, ProverError> {
    // Nobody but the prover has private weights, so nobody else can recompute.
    let recompute = (!private).then(|| evm::deploy_recompute(circuit, compile::bundled_dir()));
    let (gas, deploy_gas, note) = match recompute {
        None => (None, None, None),
        Some(Ok(mut baseline)) => {
            let (recomputed, gas) = baseline.recompute(&public.input_values())?;
            if recomputed.as_deref() != Ok(public.outputs.as_slice()) {
                return Err(ProverError::Artifact { reason: "the recomputation baseline disagrees with the proof".into() });
            }
            (Some(gas), Some(baseline.deploy_gas), None)
        }
        Some(Err(ProverError::Recompute(e))) => {
            let words =
                evm::integer_mlp(circuit).and_then(|mlp| zkpolicy_verifier::recompute::packed_words(&mlp)).map(|(w, _)| w).unwrap_or(0);
            // Deploying data costs 200 gas a byte, at least.
            let note = format!(
                "does not fit: {e}; its {words} packed weight words ({:.1} MB) would cost over {:.0}M gas to deploy",
                words as f64 * 32e-6,
                words as f64 * 32.0 * 200.0 / 1e6
            );
            (None, None, Some(note))
        }
        Some(Err(e)) => return Err(e),
    };
    Ok(Recompute { gas, deploy_gas, note })
}

/// Guardrails wide enough never to bind, one per output, for measuring submissions (the
/// initial values are nonzero, so the measurement is the steady state a controller runs in).
/// A model that reads the parameters gets rails as wide as its declared parameter ranges,
/// starting from the parameters `public` was proven on.
fn bench_rails(circuit: &PolicyCircuit, public: &PublicInputs) -> Vec<zkpolicy_model::Guardrail> {
    let file = circuit.model().file();
    if !file.parameters.is_empty() {
        return file
            .parameters
            .iter()
            .zip(&public.parameters)
            .map(|(p, &v)| zkpolicy_model::Guardrail::new(p.name.clone(), v, p.min, p.max, 1 << 40))
            .collect();
    }
    file.outputs.iter().map(|o| zkpolicy_model::Guardrail::new(o.name.clone(), 1, -1 << 40, 1 << 40, 1 << 40)).collect()
}

/// A chain's prices for the BN254 precompiles the verifier calls.
#[derive(Clone, Copy, Debug)]
pub struct ChainPrices {
    /// The chain (or pricing proposal) as the table heads its column.
    pub name: &'static str,
    /// Gas of one ecAdd (precompile 0x06).
    pub ec_add: u64,
    /// Gas of one ecMul (precompile 0x07).
    pub ec_mul: u64,
    /// Fixed gas of one ecPairing call (precompile 0x08).
    pub pairing_base: u64,
    /// Gas per pair checked by ecPairing.
    pub pairing_per_pair: u64,
    /// Gas of one modexp call (precompile 0x05) as the verifier makes it: a 32-byte modular inversion.
    pub modexp: u64,
}

/// Ethereum L1 since Osaka (EIP-1108, EIP-7883: a 32-byte modular inversion is 4,048),
/// the EIP-7904 draft (ecAdd 314, pairing 45,000 + 34,103 per pair; its opcode changes,
/// MULMOD 8 → 11 and KECCAK256 30 → 45, are not repriced here), and Monad (monad-revm:
/// ecAdd 300, ecMul 30,000, pairing 225,000 + 170,000 per pair; modexp as on L1).
pub const CHAINS: [ChainPrices; 3] = [
    ChainPrices { name: "Ethereum L1 (Osaka)", ec_add: 150, ec_mul: 6_000, pairing_base: 45_000, pairing_per_pair: 34_000, modexp: 4_048 },
    ChainPrices { name: "EIP-7904 draft", ec_add: 314, ec_mul: 6_000, pairing_base: 45_000, pairing_per_pair: 34_103, modexp: 4_048 },
    ChainPrices { name: "Monad", ec_add: 300, ec_mul: 30_000, pairing_base: 225_000, pairing_per_pair: 170_000, modexp: 4_048 },
];

impl ChainPrices {
    /// Gas of the precompile calls `c` at this chain's prices.
    pub fn precompile_gas(&self, c: &PrecompileCalls) -> u64 {
        c.ec_add * self.ec_add
            + c.ec_mul * self.ec_mul
            + c.pairings * self.pairing_base
            + c.pairing_pairs * self.pairing_per_pair
            + c.modexp * self.modexp
    }
}

impl BenchRow {
    /// The verification transaction's gas priced on `chain`: the measured L1 figure with
    /// its precompile share replaced by the chain's.
    pub fn verify_gas_on(&self, chain: &ChainPrices) -> u64 {
        (self.evm_verify_gas + chain.precompile_gas(&self.precompiles)).saturating_sub(CHAINS[0].precompile_gas(&self.precompiles))
    }
}

fn recompute_cell(r: &BenchRow) -> String {
    match (r.recompute_gas, r.recompute_deploy_gas) {
        _ if r.private_weights => "impossible: the weights are private".into(),
        (Some(gas), Some(deploy)) => format!("{gas} ({:.1}M to deploy)", deploy as f64 / 1e6),
        _ => "does not fit (see docs/benchmarks.md)".into(),
    }
}

/// `gas ≈ intercept + slope · parameters`, least squares over the rows' recomputation gas.
pub fn recompute_fit(rows: &[BenchRow]) -> Option<(f64, f64)> {
    let points: Vec<(f64, f64)> = rows.iter().filter_map(|r| Some((r.parameters as f64, r.recompute_gas? as f64))).collect();
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| (my - sxy / sxx * mx, sxy / sxx))
}

/// Peak resident set size of this process (Linux `VmHWM`).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU model, cores and memory of this machine, for the report header.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|s| s.trim().to_string()))
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<f64>().ok()))
        .map(|kib| format!(", {:.0} GiB", kib / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{cpu}, {cores} cores{mem}")
}

/// The benchmark tables (README.md and docs/benchmarks.md; see `benches/update-tables.sh`).
pub fn markdown(rows: &[BenchRow], machine: &str) -> String {
    let mut out = format!(
        "Machine: {machine}. Development SRS; one process per model; one untimed proof before timing; \
         gas is per transaction (intrinsic and calldata included), revm with Osaka rules.\n\n\
         | model | params | k | rows used | lanes | advice / fixed / lookup cols | keygen | prove p50 (p95) | MSM floor | proof | verify | peak RSS | EVM verify gas | submit gas | recompute on chain | deploy gas | runtime |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    );
    for r in rows {
        let rss = r.peak_rss_mib.map(|m| format!("{m:.0} MiB")).unwrap_or_else(|| "n/a".into());
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} / {} / {} | {:.0} ms | {:.0} ms ({:.0} ms) | {:.0} ms ({:.1}×) | {} B | {:.1} ms | {rss} | {} | {} | {} | {} | {} B |\n",
            r.model, r.parameters, r.k, r.rows_used, r.lanes, r.advice_columns, r.fixed_columns, r.lookups,
            r.keygen_ms, r.prove_p50_ms, r.prove_p95_ms, r.msm_floor_ms, r.prove_p50_ms / r.msm_floor_ms,
            r.proof_bytes, r.verify_ms, r.evm_verify_gas, r.submit_gas, recompute_cell(r), r.evm_deploy_gas, r.runtime_bytes
        ));
    }
    out.push_str("\nVerification gas by chain (the same transaction, its precompiles priced per chain; calldata and the rest as measured):\n\n| model | calldata | ecMul / ecAdd / pairings (pairs) / modexp |");
    for chain in CHAINS {
        out.push_str(&format!(" {} |", chain.name));
    }
    out.push_str("\n|---|---|---|");
    out.push_str(&"---|".repeat(CHAINS.len()));
    out.push('\n');
    for r in rows {
        let c = &r.precompiles;
        out.push_str(&format!(
            "| {} | {} | {} / {} / {} ({}) / {} |",
            r.model, r.calldata_gas, c.ec_mul, c.ec_add, c.pairings, c.pairing_pairs, c.modexp
        ));
        for chain in CHAINS {
            out.push_str(&format!(" {} |", r.verify_gas_on(&chain)));
        }
        out.push('\n');
    }
    if let Some((intercept, slope)) = recompute_fit(rows) {
        out.push_str(&format!(
            "\nRecomputing on chain costs about {intercept:.0} + {slope:.1} gas per parameter (least squares over these models)."
        ));
        if let Some(default) = rows.first() {
            let even = (default.evm_verify_gas as f64 - intercept) / slope;
            out.push_str(&format!(
                " At the default model's verification cost ({} gas), a proof is the cheaper way above about {:.0} parameters.",
                default.evm_verify_gas, even
            ));
        }
        out.push('\n');
    }
    for r in rows {
        if let Some(note) = &r.recompute_note {
            out.push_str(&format!("\n{}: recomputing on chain {note}.\n", r.model));
        }
    }
    out
}

/// One plot panel: title, y-axis unit, and the value plotted per model.
type Series = (&'static str, &'static str, fn(&BenchRow) -> f64);

/// Prove time and verification gas against parameter count (log scale), as SVG.
pub fn svg(rows: &[BenchRow]) -> Result<String, ProverError> {
    use plotters::prelude::*;
    let err = |e: &dyn std::fmt::Display| ProverError::Artifact { reason: format!("plot: {e}") };
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (960, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let panels = root.split_evenly((1, 2));
        let max_params = rows.iter().map(|r| r.parameters).max().unwrap_or(1) as f64 * 2.0;
        let min_params = rows.iter().map(|r| r.parameters).min().unwrap_or(1) as f64 / 2.0;
        let series: [Series; 2] = [
            ("Prove time (p50) and MSM floor", "ms", |r| r.prove_p50_ms),
            ("Gas: verify proof (blue), recompute on chain (red)", "gas", |r| r.evm_verify_gas.max(r.recompute_gas.unwrap_or(0)) as f64),
        ];
        for (panel, (title, unit, value)) in panels.iter().zip(series.iter()) {
            let top = rows.iter().map(value).fold(1.0f64, f64::max) * 1.2;
            let mut chart = ChartBuilder::on(panel)
                .caption(*title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d((min_params..max_params).log_scale(), 0f64..top)
                .map_err(|e| err(&e))?;
            chart.configure_mesh().x_desc("parameters").y_desc(*unit).draw().map_err(|e| err(&e))?;
            let shown = |r: &BenchRow| if *unit == "gas" { r.evm_verify_gas as f64 } else { value(r) };
            let points: Vec<(f64, f64)> = rows.iter().map(|r| (r.parameters as f64, shown(r))).collect();
            chart.draw_series(LineSeries::new(points.clone(), &BLUE)).map_err(|e| err(&e))?;
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, BLUE.filled()))).map_err(|e| err(&e))?;
            let second: Vec<(f64, f64)> = if *unit == "ms" {
                rows.iter().map(|r| (r.parameters as f64, r.msm_floor_ms)).collect()
            } else {
                rows.iter().filter_map(|r| Some((r.parameters as f64, r.recompute_gas? as f64))).collect()
            };
            chart.draw_series(LineSeries::new(second, &RED)).map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
    }
    Ok(out)
}
