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

use crate::plot::{panels_svg, Panel};
use zkpolicy_prover::proof::{self, BatchJob};
use zkpolicy_prover::ProverError;

/// What proving a backtest's decisions showed.
#[derive(Clone, Debug, Serialize)]
pub struct ProvenDecisions {
    /// Proofs made: one per epoch of every scenario.
    pub proofs: usize,
    /// How many of them the verifier accepted: equal to `proofs` in a sound run.
    pub verified: usize,
    /// Epochs whose proven outputs differ from the applied decision: must be empty.
    pub mismatches: Vec<Mismatch>,
    /// Wall time of the batch, in whole milliseconds.
    pub prove_ms: u64,
    /// Wall time of verifying every proof (in parallel), in whole milliseconds.
    pub verify_ms: u64,
    /// Size of one proof in bytes (every proof of a circuit has the same size; 0 with no epochs).
    pub proof_bytes: usize,
}

/// A backtest epoch whose proof does not carry the decision the simulator applied.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Mismatch {
    /// The scenario's name, e.g. `crash`.
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
    let title = backtests.first().and_then(|b| b.scenarios.get(scenario)).map_or("", |s| s.scenario.as_str()).to_owned();
    type Series = fn(&zkpolicy_lab::sim::EpochRecord) -> f64;
    let series: [(&str, Series); 6] = [
        ("price", |e| e.market.price),
        ("staking ratio", |e| e.market.staked / e.market.supply.max(f64::MIN_POSITIVE)),
        ("emission rate (bps)", |e| e.params.first().copied().unwrap_or_default() as f64),
        ("staking reward (bps)", |e| e.params.get(1).copied().unwrap_or_default() as f64),
        ("burn rate (bps)", |e| e.params.get(2).copied().unwrap_or_default() as f64),
        ("fee (bps)", |e| e.params.get(3).copied().unwrap_or_default() as f64),
    ];
    let panels: Vec<Panel> = series
        .into_iter()
        .map(|(name, value)| Panel {
            title: name.to_string(),
            lines: backtests
                .iter()
                .filter_map(|b| b.scenarios.get(scenario).map(|s| (b, s)))
                .map(|(b, s)| (b.policy.clone(), s.trajectory.epochs.iter().map(value).collect()))
                .collect(),
            band: None,
            bounds: None,
            decimals: if name.ends_with("(bps)") { 0 } else { 2 },
        })
        .collect();
    // The report numbers a scenario's epochs from 0.
    panels_svg(&format!("scenario: {title}"), &panels, 0, (2, 3), (1200, 720))
}

fn whole_ms(elapsed: std::time::Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}
