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

pub mod agents;
pub mod amm;
pub mod economy;
pub mod guardrails;
pub mod kpis;
pub mod policy;
pub mod reward;
pub mod scenarios;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

pub use economy::{Economy, EconomyConfig, MarketSnapshot};
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
    pub market: MarketSnapshot,
}

/// A whole run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trajectory {
    pub policy: String,
    pub scenario: Scenario,
    pub kpi_names: Vec<String>,
    pub parameter_names: Vec<String>,
    pub initial_params: Vec<i64>,
    /// The market at the end of the warm-up.
    pub start: MarketSnapshot,
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

/// Runs `policy` through `scenario`.
pub fn simulate(policy: &dyn Policy, scenario: &Scenario, config: &SimConfig) -> Result<Trajectory, LabError> {
    guardrails::check_guardrails(&config.guardrails)?;
    scenario.validate()?;
    let ranges = kpis::kpi_ranges();
    let mut economy = Economy::new(&config.economy)?;
    let mut rng = ChaCha20Rng::seed_from_u64(scenario.seed);
    let mut params: Vec<i64> = config.guardrails.iter().map(|g| g.initial).collect();
    for _ in 0..config.warmup_epochs {
        step(&mut economy, &params, &Shocks::BASELINE, &mut rng);
    }
    let start = economy.snapshot();
    let mut observed = kpis::observe(&economy, &ranges);
    let mut epochs = Vec::with_capacity(scenario.epochs);
    // The controller's cap windows, on a clock of one epoch a day (the bundled deployment's).
    let mut anchors = vec![Anchor::default(); config.guardrails.len()];
    for epoch in 0..scenario.epochs {
        let decision = policy.decide(&observed, &params)?;
        let now = (epoch as u64 + 1) * EPOCH_SECONDS;
        let guarded = guard_at(&params, &decision.deltas, &config.guardrails, &anchors, now)?;
        anchors = guarded.anchors;
        let params_before = std::mem::replace(&mut params, guarded.values);
        step(&mut economy, &params, &scenario.shocks(epoch), &mut rng);
        let outcome = kpis::observe(&economy, &ranges);
        epochs.push(EpochRecord {
            epoch,
            kpis: std::mem::replace(&mut observed, outcome.clone()),
            quantized_kpis: decision.quantized_kpis,
            params_before,
            decision: decision.deltas,
            params: params.clone(),
            hits: guarded.hits,
            hit: guarded.hit,
            outcome_kpis: outcome,
            market: economy.snapshot(),
        });
    }
    Ok(Trajectory {
        policy: policy.name().to_owned(),
        scenario: scenario.clone(),
        kpi_names: kpis::KPI_NAMES.iter().map(|s| (*s).to_owned()).collect(),
        parameter_names: config.guardrails.iter().map(|g| g.name.clone()).collect(),
        initial_params: config.guardrails.iter().map(|g| g.initial).collect(),
        start,
        epochs,
    })
}

fn step(economy: &mut Economy, params: &[i64], shocks: &Shocks, rng: &mut ChaCha20Rng) {
    let volatility = kpis::realised_volatility(&economy.prices, kpis::WINDOW);
    economy.step(params, shocks, volatility, rng);
}

/// A standard normal draw (Box–Muller, cosine branch): two uniforms per draw,
/// so the stream position depends only on the number of draws.
pub fn standard_normal(rng: &mut impl Rng) -> f64 {
    // u1 ∈ (0, 1] keeps the logarithm finite.
    let u1 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
