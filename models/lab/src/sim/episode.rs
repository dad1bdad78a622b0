//! A run one epoch at a time: the stepwise form of [`super::simulate`], for a caller that
//! decides outside the simulator (a reinforcement-learning environment, an operator).
//!
//! [`Episode::new`] runs the warm-up; then each [`Episode::step`] takes the epoch's deltas,
//! guards them with [`guard_at`] on the controller's one-day clock, advances the economy and
//! returns the epoch's [`EpochRecord`]. The random stream is drawn exactly as `simulate` draws
//! it, so feeding `step` the deltas a policy would have proposed reproduces that policy's
//! trajectory bit for bit (`simulate` is this loop).
//!
//! [`action_to_deltas`] maps a normalised action `a ∈ [−1, 1]⁴` to deltas, `floor(a·max_step + ½)`
//! per parameter: the same map as a model output `y` at `scale_bits = s` with the output map
//! `delta = round(y·step / 2^s)` and `step = max_step`, reading `a = y / 2^s`.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::economy::{Economy, MarketSnapshot};
use super::guardrails::{self, guard_at, Anchor, Guardrail};
use super::kpis;
use super::scenarios::{Scenario, Shocks};
use super::{EpochRecord, SimConfig, EPOCH_SECONDS};
use crate::LabError;

/// One scenario run, advanced by the caller's deltas.
#[derive(Clone, Debug)]
pub struct Episode {
    scenario: Scenario,
    rails: Vec<Guardrail>,
    ranges: Vec<(f64, f64)>,
    economy: Economy,
    rng: ChaCha20Rng,
    /// The parameters in force (bps), in rail order.
    params: Vec<i64>,
    /// The controller's cap windows.
    anchors: Vec<Anchor>,
    /// The KPIs the next decision sees (clamped).
    observed: Vec<f64>,
    /// The market at the end of the warm-up.
    start: MarketSnapshot,
    /// Epochs stepped so far.
    epoch: usize,
}

/// What the next decision sees: the clamped KPIs (real values, [`kpis::KPI_NAMES`] order) and
/// the parameters in force (bps, rail order).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpisodeObservation<'a> {
    /// The eight KPIs as real values, clamped to their declared ranges.
    pub kpis: &'a [f64],
    /// The governed parameters in force, in bps.
    pub params: &'a [i64],
}

impl Episode {
    /// Checks the rails and the scenario, then runs `config.warmup_epochs` calm epochs at the
    /// rails' initial values.
    pub fn new(scenario: &Scenario, config: &SimConfig) -> Result<Self, LabError> {
        guardrails::check_guardrails(&config.guardrails)?;
        scenario.validate()?;
        let ranges = kpis::kpi_ranges();
        let mut economy = Economy::new(&config.economy)?;
        let mut rng = ChaCha20Rng::seed_from_u64(scenario.seed);
        let params: Vec<i64> = config.guardrails.iter().map(|g| g.initial).collect();
        for _ in 0..config.warmup_epochs {
            advance(&mut economy, &params, &Shocks::BASELINE, &mut rng);
        }
        let start = economy.snapshot();
        let observed = kpis::observe(&economy, &ranges);
        Ok(Self {
            scenario: scenario.clone(),
            anchors: vec![Anchor::default(); config.guardrails.len()],
            rails: config.guardrails.clone(),
            ranges,
            economy,
            rng,
            params,
            observed,
            start,
            epoch: 0,
        })
    }

    /// The KPIs and parameters the next decision sees.
    pub fn observation(&self) -> EpisodeObservation<'_> {
        EpisodeObservation { kpis: &self.observed, params: &self.params }
    }

    /// Guards `deltas` (bps, one per rail) exactly as `simulate` does, at `now` = the epoch's
    /// end on a one-day clock, runs the epoch under the guarded parameters and the scenario's
    /// shocks, and returns its record (`quantized_kpis` is `None`: no model decided).
    /// Fails, changing nothing, on a wrong number of deltas or once the episode is [`done`](Self::done).
    pub fn step(&mut self, deltas: &[i64]) -> Result<EpochRecord, LabError> {
        if self.done() {
            return Err(LabError::config(
                "episode",
                "epochs",
                format!("the {} episode ended after {} epochs; start a new one", self.scenario.name(), self.scenario.epochs),
            ));
        }
        let epoch = self.epoch;
        let now = (epoch as u64 + 1) * EPOCH_SECONDS;
        let guarded = guard_at(&self.params, deltas, &self.rails, &self.anchors, now)?;
        self.anchors = guarded.anchors;
        let params_before = std::mem::replace(&mut self.params, guarded.values);
        advance(&mut self.economy, &self.params, &self.scenario.shocks(epoch), &mut self.rng);
        let outcome = kpis::observe(&self.economy, &self.ranges);
        self.epoch += 1;
        Ok(EpochRecord {
            epoch,
            kpis: std::mem::replace(&mut self.observed, outcome.clone()),
            quantized_kpis: None,
            params_before,
            decision: deltas.to_vec(),
            params: self.params.clone(),
            hits: guarded.hits,
            hit: guarded.hit,
            outcome_kpis: outcome,
            market: self.economy.snapshot(),
        })
    }

    /// Whether all of the scenario's epochs have been stepped.
    pub fn done(&self) -> bool {
        self.epoch >= self.scenario.epochs
    }

    /// Epochs stepped so far (the index of the next one).
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// The scenario being run, with its seed and shocks.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The controller's guardrails every step's deltas go through, in parameter order.
    pub fn rails(&self) -> &[Guardrail] {
        &self.rails
    }

    /// The market at the end of the warm-up.
    pub fn start(&self) -> &MarketSnapshot {
        &self.start
    }

    /// The market now.
    pub fn market(&self) -> MarketSnapshot {
        self.economy.snapshot()
    }
}

/// One epoch of the economy under `params`, with the realised volatility it reacts to.
fn advance(economy: &mut Economy, params: &[i64], shocks: &Shocks, rng: &mut ChaCha20Rng) {
    let volatility = kpis::realised_volatility(&economy.prices, kpis::WINDOW);
    economy.step(params, shocks, volatility, rng);
}

/// Deltas (bps) for normalised actions: `a_i` clipped to `[−1, 1]`, then
/// `floor(a_i · max_step_i + ½)` (round half up, in `f64`).
///
/// This is the model output map `delta = round(y·step / 2^scale_bits)` with `step = max_step`
/// and `a = y / 2^scale_bits`, so a policy trained on actions is deployed by a model whose
/// outputs carry that step. Every delta lies in `[−max_step, max_step]`: the guard's step
/// clamp never trims it (the range and window caps still may). Fails on a wrong number of
/// actions or a NaN or infinite one.
pub fn action_to_deltas(actions: &[f64], rails: &[Guardrail]) -> Result<Vec<i64>, LabError> {
    if actions.len() != rails.len() {
        return Err(LabError::WrongCount { what: "actions", expected: rails.len(), got: actions.len() });
    }
    actions
        .iter()
        .zip(rails)
        .map(|(&a, rail)| {
            if !a.is_finite() {
                return Err(LabError::config("action", rail.name.clone(), format!("must be a finite number in [-1, 1], got {a}")));
            }
            // `as` saturates, so an absurd max_step cannot wrap.
            Ok((a.clamp(-1.0, 1.0) * rail.max_step as f64 + 0.5).floor() as i64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{deployment_guardrails, simulate, Policy, RuleBased, ScenarioKind};

    #[test]
    fn actions_map_to_rounded_steps_within_max_step() {
        let rails = deployment_guardrails(); // max_step 25, 60, 25, 10
        assert_eq!(action_to_deltas(&[1.0, -1.0, 0.0, 0.5], &rails).expect("maps"), vec![25, -60, 0, 5]);
        // 0.5·25 + ½ = 13 (half up); −0.5·25 + ½ = −12 (half up); 0.75·60 = 45; −0.05·10 + ½ = 0.
        assert_eq!(action_to_deltas(&[0.5, 0.75, -0.5, -0.05], &rails).expect("maps"), vec![13, 45, -12, 0]);
        // Clipped to [−1, 1] first.
        assert_eq!(action_to_deltas(&[7.0, -3.5, 1e300, -1e300], &rails).expect("maps"), vec![25, -60, 25, -10]);
        // Every integer delta within ±max_step is reached exactly from delta / max_step.
        for rail in &rails {
            for d in -rail.max_step..=rail.max_step {
                let a = d as f64 / rail.max_step as f64;
                let got = action_to_deltas(&[a; 4], &[rail.clone(), rail.clone(), rail.clone(), rail.clone()]).expect("maps");
                assert_eq!(got, vec![d; 4], "{} delta {d}", rail.name);
            }
        }
    }

    #[test]
    fn bad_actions_are_errors_naming_the_parameter() {
        let rails = deployment_guardrails();
        let err = action_to_deltas(&[0.0, f64::NAN, 0.0, 0.0], &rails).expect_err("NaN");
        assert!(matches!(&err, LabError::InvalidConfig { field, .. } if field == "staking_reward_bps"), "{err}");
        assert!(action_to_deltas(&[0.0, 0.0, f64::INFINITY, 0.0], &rails).is_err());
        assert!(matches!(action_to_deltas(&[0.0; 3], &rails), Err(LabError::WrongCount { what: "actions", expected: 4, got: 3 })));
    }

    #[test]
    fn stepping_a_policys_deltas_reproduces_simulate() {
        let policy = RuleBased::default();
        let config = SimConfig::default();
        let scenario = Scenario::new(ScenarioKind::Crash, 9, 40);
        let trajectory = simulate(&policy, &scenario, &config).expect("simulates");
        let mut episode = Episode::new(&scenario, &config).expect("starts");
        assert_eq!(*episode.start(), trajectory.start);
        for expected in &trajectory.epochs {
            let seen = episode.observation();
            let decision = policy.decide(seen.kpis, seen.params).expect("decides");
            let record = episode.step(&decision.deltas).expect("steps");
            assert_eq!(&record, expected);
        }
        assert!(episode.done());
        let err = episode.step(&[0; 4]).expect_err("ended");
        assert!(err.to_string().contains("ended after 40 epochs"), "{err}");
    }

    #[test]
    fn a_rejected_step_changes_nothing() {
        let config = SimConfig::default();
        let scenario = Scenario::new(ScenarioKind::Calm, 1, 5);
        let mut episode = Episode::new(&scenario, &config).expect("starts");
        let mut twin = episode.clone();
        assert!(matches!(episode.step(&[1, 2, 3]), Err(LabError::Model(_))));
        assert_eq!(episode.epoch(), 0);
        assert_eq!(episode.step(&[5, 5, 5, 5]).expect("steps"), twin.step(&[5, 5, 5, 5]).expect("steps"));
    }
}
