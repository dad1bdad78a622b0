//! A seeded, deterministic agent-based simulator of the token economy the
//! policy governs.
//!
//! One epoch is one day. Each epoch the simulator observes the eight KPIs
//! ([`kpis`]), asks a [`Policy`] for parameter deltas, passes them through the
//! controller's guardrails ([`guardrails::guard`], the twin of
//! `PolicyController.guard`) and advances the [`economy`] under the guarded
//! parameters and the [`Scenario`]'s shocks.
//!
//! The four parameters, all in bps and governed as in the controller:
//! - `emission_rate_bps`: new supply per year as a fraction of supply, minted
//!   per epoch (`e/10⁴/365 · S`) to incentive recipients; 40% funds LP incentives;
//! - `staking_reward_bps`: staking APR, minted per epoch on the staked amount;
//! - `burn_rate_bps`: buyback-and-burn, in bps **of supply per year**, paid from
//!   the treasury through the pool (so it supports the price and costs runway);
//! - `fee_bps`: the pool's swap fee, split between LPs and the treasury.
//!
//! The agents ([`agents`]): stakers chase reward over an outside yield and the
//! price trend; LPs chase fee and incentive yield net of impermanent loss
//! (`σ²/8`); noise, momentum and value traders trade against a constant-product
//! pool ([`amm`]) that sets the price; the top-10 holders compound their staking
//! rewards and buy dips; the treasury earns fees and pays spending and burns.
//!
//! Determinism: all randomness comes from one ChaCha20 stream seeded by
//! `Scenario::seed`, drawn in a fixed pattern per epoch (see [`economy`]), so a
//! seed fixes the trajectory bit for bit and different policies on one seed
//! face the same noise (common random numbers).
//!
//! Before epoch 0 the economy runs `warmup_epochs` calm epochs at the initial
//! parameters, so the volatility and volume windows are full when the policy
//! first looks.
//!
//! [`simulate`] runs a [`Policy`] through a whole scenario; [`Episode`] is the same run
//! one epoch at a time, for a caller that decides outside the simulator.

pub mod agents;
pub mod amm;
pub mod economy;
mod episode;
pub mod guardrails;
pub mod kpis;
pub mod policy;
pub mod reward;
pub mod scenarios;

use rand::Rng;
use serde::{Deserialize, Serialize};
use zkpolicy_model::ParameterSpec;

pub use economy::{Economy, EconomyConfig, MarketSnapshot};
pub use episode::{action_to_deltas, Episode, EpisodeObservation};
pub use guardrails::{deployment_guardrails, guard, guard_at, Anchor, Guarded, Guardrail};
pub use policy::{Decision, FloatController, IntegerPolicy, Policy, RuleBased, RuleConfig, StaticPolicy};
pub use reward::RewardConfig;
pub use scenarios::{Scenario, ScenarioKind, Shocks};

use crate::LabError;

/// Seconds per simulated epoch: a day, as in the bundled deployment. The controller's cap
/// windows are measured on this clock.
pub const EPOCH_SECONDS: u64 = 86_400;

/// Everything about a run except the policy and the scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// The economy's initial state and behavioural constants.
    pub economy: EconomyConfig,
    /// Rails and initial values of the four parameters (deployment defaults).
    pub guardrails: Vec<Guardrail>,
    /// Calm epochs at the initial parameters before the policy takes over.
    pub warmup_epochs: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self { economy: EconomyConfig::default(), guardrails: deployment_guardrails(), warmup_epochs: 2 * kpis::WINDOW }
    }
}

/// One epoch of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochRecord {
    /// 0-based index of the epoch after the warm-up.
    pub epoch: usize,
    /// The KPIs the policy saw (clamped, real values).
    pub kpis: Vec<f64>,
    /// The quantized KPIs, when the policy is the integer model: the public inputs of its proof.
    pub quantized_kpis: Option<Vec<i64>>,
    /// The parameters before the decision (bps).
    pub params_before: Vec<i64>,
    /// The policy's deltas (bps): for the integer model, its outputs.
    pub decision: Vec<i64>,
    /// The guarded parameters the epoch ran under (bps).
    pub params: Vec<i64>,
    /// Per parameter: the guardrail changed the proposal.
    pub hits: Vec<bool>,
    /// Any parameter hit (the contract's flag).
    pub hit: bool,
    /// The KPIs observed after the epoch (clamped): what the reward scores.
    pub outcome_kpis: Vec<f64>,
    /// The market at the end of the epoch.
    pub market: MarketSnapshot,
}

/// A whole run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trajectory {
    /// The name of the policy that decided ([`Policy::name`]).
    pub policy: String,
    /// The scenario run, with its seed, so the run can be replayed bit for bit.
    pub scenario: Scenario,
    /// The names of the KPIs, in the order of every record's `kpis` ([`kpis::KPI_NAMES`]).
    pub kpi_names: Vec<String>,
    /// The names of the governed parameters, in rail order.
    pub parameter_names: Vec<String>,
    /// The parameters (bps) the run started from: each rail's `initial`.
    pub initial_params: Vec<i64>,
    /// The market at the end of the warm-up.
    pub start: MarketSnapshot,
    /// One record per epoch, in order.
    pub epochs: Vec<EpochRecord>,
}

impl Trajectory {
    /// The price after each epoch.
    pub fn prices(&self) -> Vec<f64> {
        self.epochs.iter().map(|e| e.market.price).collect()
    }

    /// Epochs where any parameter hit a guardrail.
    pub fn hit_count(&self) -> usize {
        self.epochs.iter().filter(|e| e.hit).count()
    }
}

impl EpochRecord {
    /// How many parameters hit a guardrail: the `h` of [`RewardConfig::epoch_reward`].
    pub fn hit_count(&self) -> usize {
        self.hits.iter().filter(|&&h| h).count()
    }
}

/// Runs `policy` through `scenario`: an [`Episode`] stepped with the policy's deltas.
pub fn simulate(policy: &dyn Policy, scenario: &Scenario, config: &SimConfig) -> Result<Trajectory, LabError> {
    let mut episode = Episode::new(scenario, config)?;
    let mut epochs = Vec::with_capacity(scenario.epochs);
    while !episode.done() {
        let seen = episode.observation();
        let decision = policy.decide(seen.kpis, seen.params)?;
        let mut record = episode.step(&decision.deltas)?;
        record.quantized_kpis = decision.quantized_kpis;
        epochs.push(record);
    }
    Ok(Trajectory {
        policy: policy.name().to_owned(),
        scenario: scenario.clone(),
        kpi_names: kpis::KPI_NAMES.iter().map(|s| (*s).to_owned()).collect(),
        parameter_names: config.guardrails.iter().map(|g| g.name.clone()).collect(),
        initial_params: config.guardrails.iter().map(|g| g.initial).collect(),
        start: episode.start().clone(),
        epochs,
    })
}

/// The network inputs `policy` meets running through `suite`, one row per epoch: the KPIs it
/// saw, then, for each of `parameters`, the parameter the epoch started from as the network
/// reads it (`value / 2^scale_bits`). Calibration data for quantizing a policy in the
/// simulator's IO (`parameters` empty for a KPI-only model).
pub fn visited_inputs(
    policy: &dyn Policy,
    suite: &[Scenario],
    config: &SimConfig,
    parameters: &[ParameterSpec],
) -> Result<Vec<Vec<f64>>, LabError> {
    let mut rows = Vec::new();
    for scenario in suite {
        rows.extend(simulate(policy, scenario, config)?.epochs.into_iter().map(|e| {
            let params = e.params_before.iter().zip(parameters).map(|(&p, spec)| spec.real(p));
            e.kpis.iter().copied().chain(params).collect::<Vec<f64>>()
        }));
    }
    Ok(rows)
}

/// A standard normal draw (Box–Muller, cosine branch): two uniforms per draw,
/// so the stream position depends only on the number of draws.
pub fn standard_normal(rng: &mut impl Rng) -> f64 {
    // u1 ∈ (0, 1] keeps the logarithm finite.
    let u1 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
