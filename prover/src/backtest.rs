//! Proven backtests: every decision the integer model took in a simulated run is
//! proven (one rayon batch), verified, and checked to be the decision the
//! simulator applied; trajectories are drawn as SVG.

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::{ProvingKey, VerifyingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rayon::prelude::*;
use serde::Serialize;
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_lab::backtest::PolicyBacktest;
use zkpolicy_model::{Observation, QuantizedKpis};

use crate::proof::{self, BatchJob};
use crate::ProverError;

/// What proving a backtest's decisions showed.
#[derive(Clone, Debug, Serialize)]
pub struct ProvenDecisions {
    pub proofs: usize,
    pub verified: usize,
    /// Epochs whose proven outputs differ from the applied decision: must be empty.
    pub mismatches: Vec<Mismatch>,
    /// Wall time of the batch, in whole milliseconds.
    pub prove_ms: u64,
    pub verify_ms: u64,
    pub proof_bytes: usize,
}

/// A backtest epoch whose proof does not carry the decision the simulator applied.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Mismatch {
    pub scenario: String,
    /// The epoch's index within its scenario.
    pub index: usize,
}

/// One proof per epoch of every scenario of an integer-model backtest, proven in
/// parallel, each verified and compared with the decision the simulator applied.
/// Epoch numbers run from `first_epoch` across the scenarios in order.
pub fn prove_decisions(
    params: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    vk: &VerifyingKey<G1Affine>,
    circuit: &PolicyCircuit,
    backtest: &PolicyBacktest,
    first_epoch: u64,
    on_done: &(dyn Fn() + Sync),
) -> Result<ProvenDecisions, ProverError> {
    let mut jobs = Vec::new();
    let mut applied = Vec::new();
    for scenario in &backtest.scenarios {
        for (t, record) in scenario.trajectory.epochs.iter().enumerate() {
            let kpis = record.quantized_kpis.clone().ok_or_else(|| ProverError::Artifact {
                reason: format!(
                    "{} epoch {t}: the policy {} is not the integer model; only its decisions can be proven",
                    scenario.scenario, backtest.policy
                ),
            })?;
            let epoch = first_epoch + jobs.len() as u64;
            // A model that reads the parameters read the ones the epoch started from.
            let model = circuit.model();
            let parameters = if model.file().parameters.is_empty() { vec![] } else { record.params_before.clone() };
            let input = Observation::new(model, QuantizedKpis::new(model, kpis)?, parameters)?;
            jobs.push(BatchJob { epoch, input });
            applied.push((scenario.scenario.clone(), t, record.decision.clone()));
        }
    }

    let started = std::time::Instant::now();
    let proven = proof::prove_batch(params, pk, circuit, &jobs, on_done).into_iter().collect::<Result<Vec<_>, _>>()?;
    let prove_ms = whole_ms(started.elapsed());

    let started = std::time::Instant::now();
    let verified = proven.par_iter().filter(|(public, bytes)| proof::verify(params, vk, public, bytes).is_ok()).count();
    let verify_ms = whole_ms(started.elapsed());

    let mismatches = proven
        .iter()
        .zip(&applied)
        .filter(|((public, _), (_, _, decision))| &public.outputs != decision)
        .map(|(_, (scenario, t, _))| Mismatch { scenario: scenario.clone(), index: *t })
        .collect();
    Ok(ProvenDecisions {
        proofs: proven.len(),
        verified,
        mismatches,
        prove_ms,
        verify_ms,
        proof_bytes: proven.first().map_or(0, |(_, bytes)| bytes.len()),
    })
}

/// One scenario's trajectories under each policy: price, staking ratio, and the
/// four parameters, one line per policy.
pub fn trajectory_svg(backtests: &[PolicyBacktest], scenario: usize) -> Result<String, ProverError> {
    use plotters::prelude::*;
    let err = |e: &dyn std::fmt::Display| ProverError::Artifact { reason: format!("plot: {e}") };
    let colours = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
    let title = backtests.first().and_then(|b| b.scenarios.get(scenario)).map_or("", |s| s.scenario.as_str()).to_owned();
    type Series = fn(&zkpolicy_lab::sim::EpochRecord) -> f64;
    let panels: [(&str, Series); 6] = [
        ("price", |e| e.market.price),
        ("staking ratio", |e| e.market.staked / e.market.supply.max(f64::MIN_POSITIVE)),
        ("emission rate (bps)", |e| e.params.first().copied().unwrap_or_default() as f64),
        ("staking reward (bps)", |e| e.params.get(1).copied().unwrap_or_default() as f64),
        ("burn rate (bps)", |e| e.params.get(2).copied().unwrap_or_default() as f64),
        ("fee (bps)", |e| e.params.get(3).copied().unwrap_or_default() as f64),
    ];
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (1200, 720)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let root = root.titled(&format!("scenario: {title}"), ("sans-serif", 22)).map_err(|e| err(&e))?;
        for (panel, (area, (name, value))) in root.split_evenly((2, 3)).iter().zip(panels).enumerate() {
            let lines: Vec<(String, Vec<(f64, f64)>)> = backtests
                .iter()
                .filter_map(|b| b.scenarios.get(scenario).map(|s| (b, s)))
                .map(|(b, s)| (b.policy.clone(), s.trajectory.epochs.iter().enumerate().map(|(i, e)| (i as f64, value(e))).collect()))
                .collect();
            let all = lines.iter().flat_map(|(_, l)| l.iter().map(|p| p.1));
            let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
            let (lo, hi) = if lo.is_finite() && hi > lo { (lo, hi) } else { (lo.min(0.0) - 1.0, hi.max(0.0) + 1.0) };
            let pad = (hi - lo) * 0.08;
            let epochs = lines.iter().map(|(_, l)| l.len()).max().unwrap_or(1).max(2) as f64;
            let mut chart = ChartBuilder::on(area)
                .caption(name, ("sans-serif", 16))
                .margin(8)
                .x_label_area_size(28)
                .y_label_area_size(56)
                .build_cartesian_2d(0f64..epochs - 1.0, (lo - pad)..(hi + pad))
                .map_err(|e| err(&e))?;
            let y_format = |v: &f64| if name.ends_with("(bps)") { format!("{v:.0}") } else { format!("{v:.2}") };
            chart
                .configure_mesh()
                .x_desc("epoch")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&y_format)
                .draw()
                .map_err(|e| err(&e))?;
            for (i, (policy, points)) in lines.into_iter().enumerate() {
                let colour = colours[i % colours.len()];
                chart
                    .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                    .map_err(|e| err(&e))?
                    .label(policy)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour));
            }
            // One legend for the figure: every panel has the same policies in the same colours.
            if panel == 0 {
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperRight)
                    .background_style(WHITE.mix(0.8))
                    .border_style(BLACK)
                    .draw()
                    .map_err(|e| err(&e))?;
            }
        }
        root.present().map_err(|e| err(&e))?;
    }
    Ok(out)
}

fn whole_ms(elapsed: std::time::Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}
