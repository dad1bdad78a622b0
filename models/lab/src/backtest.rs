//! Backtests: policies run through the scenario suite, scored on the metrics
//! the issue asks for, with a comparison table (JSON via serde, or markdown).
//!
//! Per scenario run:
//! - `volatility`: std of the epoch log returns of the price × √365 (whole run);
//! - `staking_in_band`: fraction of epochs ending with the staked share in the band;
//! - `max_drawdown`: `max_t (1 − p_t / max_{s≤t} p_s)`, from the price at the
//!   end of the warm-up onwards;
//! - `guardrail_hits`: epochs in which the controller's guard changed the proposal;
//! - `mean_reward`: the episode reward of [`crate::sim::reward`].
//!
//! A policy's summary averages the per-scenario metrics, except hits, which add up.

use rayon::prelude::*;
use serde::Serialize;

use crate::sim::agents::EPOCHS_PER_YEAR;
use crate::sim::kpis::STAKING_RATIO;
use crate::sim::{simulate, Policy, RewardConfig, Scenario, SimConfig, Trajectory};
use crate::LabError;

/// The metrics of one run, or of a policy over the suite.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metrics {
    /// Annualised volatility of the price: the sample std of the epoch log returns × √365.
    pub volatility: f64,
    /// Fraction of epochs, in `[0, 1]`, ending with the staked share inside the reward's band.
    pub staking_in_band: f64,
    /// Largest fall from a running price peak, as a fraction of the peak, in `[0, 1]`.
    pub max_drawdown: f64,
    /// Epochs in which the guard changed the proposal (summed, not averaged, over a suite).
    pub guardrail_hits: usize,
    /// The mean per-epoch reward of [`RewardConfig::episode_reward`].
    pub mean_reward: f64,
}

/// One scenario of a backtest, with its full trajectory (for integer-model runs
/// it carries each epoch's quantized KPIs and model outputs, ready to prove).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScenarioResult {
    /// The scenario's name, e.g. `crash`.
    pub scenario: String,
    /// The run's metrics.
    pub metrics: Metrics,
    /// Every epoch of the run.
    pub trajectory: Trajectory,
}

/// A policy over the suite.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyBacktest {
    /// The policy's name ([`Policy::name`]).
    pub policy: String,
    /// One result per scenario, in suite order.
    pub scenarios: Vec<ScenarioResult>,
    /// The per-scenario metrics combined by [`Metrics::summarise`].
    pub summary: Metrics,
}

/// One row of a comparison table; `scenario` is `"all"` for a policy summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComparisonRow {
    /// The policy's name.
    pub policy: String,
    /// The scenario's name, or `"all"` for the policy's summary.
    pub scenario: String,
    /// The run's (or the summary's) metrics, flattened into the row when serialized.
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// Several policies side by side.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// Per policy, in the order given: one row per scenario, then its `"all"` row.
    pub rows: Vec<ComparisonRow>,
}

/// Annualised volatility of a price series' log returns (sample std); 0 below two returns.
pub fn annualised_volatility(prices: &[f64]) -> f64 {
    let returns: Vec<f64> = prices.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
    if returns.len() < 2 {
        return 0.0;
    }
    let n = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / n;
    let variance = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (variance * EPOCHS_PER_YEAR).sqrt()
}

/// Largest peak-to-trough fall, as a fraction of the peak.
pub fn max_drawdown(prices: &[f64]) -> f64 {
    let mut peak = f64::NEG_INFINITY;
    let mut worst: f64 = 0.0;
    for &p in prices {
        peak = peak.max(p);
        if peak > 0.0 {
            worst = worst.max(1.0 - p / peak);
        }
    }
    worst
}

impl Metrics {
    /// The metrics of one trajectory.
    pub fn of(trajectory: &Trajectory, reward: &RewardConfig) -> Self {
        let prices: Vec<f64> = std::iter::once(trajectory.start.price).chain(trajectory.prices()).collect();
        let epochs = trajectory.epochs.len();
        let in_band =
            trajectory.epochs.iter().filter(|e| e.outcome_kpis.get(STAKING_RATIO).is_some_and(|&s| reward.staking_in_band(s))).count();
        Self {
            volatility: annualised_volatility(&prices),
            staking_in_band: if epochs == 0 { 0.0 } else { in_band as f64 / epochs as f64 },
            max_drawdown: max_drawdown(&prices),
            guardrail_hits: trajectory.hit_count(),
            mean_reward: reward.episode_reward(trajectory),
        }
    }

    /// Means of the rates, sum of the hits.
    pub fn summarise(all: &[Metrics]) -> Self {
        let n = all.len().max(1) as f64;
        let mean = |f: fn(&Metrics) -> f64| all.iter().map(f).sum::<f64>() / n;
        Self {
            volatility: mean(|m| m.volatility),
            staking_in_band: mean(|m| m.staking_in_band),
            max_drawdown: mean(|m| m.max_drawdown),
            guardrail_hits: all.iter().map(|m| m.guardrail_hits).sum(),
            mean_reward: mean(|m| m.mean_reward),
        }
    }
}

/// Runs `policy` through every scenario of `suite` (in parallel, results in suite order).
pub fn backtest(policy: &dyn Policy, suite: &[Scenario], config: &SimConfig, reward: &RewardConfig) -> Result<PolicyBacktest, LabError> {
    let scenarios: Vec<ScenarioResult> = suite
        .par_iter()
        .map(|scenario| {
            let trajectory = simulate(policy, scenario, config)?;
            Ok(ScenarioResult { scenario: scenario.name().to_owned(), metrics: Metrics::of(&trajectory, reward), trajectory })
        })
        .collect::<Result<_, LabError>>()?;
    let summary = Metrics::summarise(&scenarios.iter().map(|s| s.metrics.clone()).collect::<Vec<_>>());
    Ok(PolicyBacktest { policy: policy.name().to_owned(), scenarios, summary })
}

/// Backtests every policy on `suite`; rows per (policy, scenario) then the policy's `"all"` row.
pub fn compare(policies: &[&dyn Policy], suite: &[Scenario], config: &SimConfig, reward: &RewardConfig) -> Result<Comparison, LabError> {
    let backtests = policies.iter().map(|p| backtest(*p, suite, config, reward)).collect::<Result<Vec<_>, _>>()?;
    Ok(Comparison::from_backtests(&backtests))
}

impl Comparison {
    /// The table of finished backtests: each policy's scenario rows, then its summary as `"all"`.
    pub fn from_backtests(backtests: &[PolicyBacktest]) -> Self {
        let row = |policy: &str, scenario: &str, metrics: &Metrics| ComparisonRow {
            policy: policy.to_owned(),
            scenario: scenario.to_owned(),
            metrics: metrics.clone(),
        };
        let rows = backtests
            .iter()
            .flat_map(|b| {
                b.scenarios
                    .iter()
                    .map(|s| row(&b.policy, &s.scenario, &s.metrics))
                    .chain(std::iter::once(row(&b.policy, "all", &b.summary)))
            })
            .collect();
        Self { rows }
    }

    /// A GitHub-flavoured markdown table.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "| policy | scenario | volatility (ann.) | staking in band | max drawdown | guardrail hits | mean reward |\n\
             |---|---|---:|---:|---:|---:|---:|\n",
        );
        for r in &self.rows {
            let m = &r.metrics;
            out.push_str(&format!(
                "| {} | {} | {:.3} | {:.1}% | {:.1}% | {} | {:.4} |\n",
                r.policy,
                r.scenario,
                m.volatility,
                100.0 * m.staking_in_band,
                100.0 * m.max_drawdown,
                m.guardrail_hits,
                m.mean_reward
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawdown_is_the_worst_fall_from_a_running_peak() {
        assert!((max_drawdown(&[1.0, 2.0, 1.5, 3.0, 1.2, 2.5]) - 0.6).abs() < 1e-12);
        assert_eq!(max_drawdown(&[1.0, 1.1, 1.2]), 0.0);
        assert_eq!(max_drawdown(&[]), 0.0);
    }

    #[test]
    fn volatility_of_a_constant_growth_path_is_zero() {
        let prices: Vec<f64> = (0..10).map(|i| 1.01f64.powi(i)).collect();
        assert!(annualised_volatility(&prices) < 1e-9);
        // Alternating ±a log returns over 4 returns: sample var = 4a²/3.
        let a: f64 = 0.02;
        let p = [1.0, a.exp(), 1.0, a.exp(), 1.0];
        assert!((annualised_volatility(&p) - (4.0 / 3.0 * a * a * 365.0).sqrt()).abs() < 1e-12);
    }
}
