//! The objective the trainer maximises and the backtest reports.
//!
//! Per epoch, on the KPIs observed after the epoch (`Δp` = price_vs_target,
//! `σ` = volatility_30d, `s` = staking_ratio, `L` = liquidity_depth,
//! `R` = treasury_runway) and the number `h` of parameters that hit a guardrail:
//!
//! ```text
//! r_t = − w_p·|Δp| − w_σ·σ − w_s·dist(s, [s_lo, s_hi]) − w_L·max(0, 1 − L/L*)
//!       − w_R·max(0, 1 − R/R*) − w_h·h
//! ```
//!
//! where `dist` is the distance to the band (0 inside). Every term is a penalty,
//! so 0 is perfect. An episode's reward is the mean of `r_t` over its epochs.
//!
//! The runway term keeps a policy from buying price stability with the
//! treasury (maximal buyback-and-burn) until the protocol cannot pay its bills.

use serde::{Deserialize, Serialize};

use super::kpis::{LIQUIDITY_DEPTH, PRICE_VS_TARGET, STAKING_RATIO, TREASURY_RUNWAY, VOLATILITY_30D};
use super::Trajectory;

/// Weights and targets of the reward.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardConfig {
    /// `w_p`, per unit of relative price deviation.
    pub price_weight: f64,
    /// `w_σ`, per unit of annualised volatility.
    pub volatility_weight: f64,
    /// `w_s`, per unit of staked share outside the band.
    pub staking_weight: f64,
    /// `[s_lo, s_hi]`.
    pub staking_band: (f64, f64),
    /// `w_L`, per unit of relative depth shortfall.
    pub depth_weight: f64,
    /// `L*`, the liquidity depth (fraction of market cap) below which the shortfall counts.
    pub depth_target: f64,
    /// `w_R`, per unit of relative runway shortfall.
    pub runway_weight: f64,
    /// `R*`, the treasury runway (years) below which the shortfall counts.
    pub runway_floor: f64,
    /// `w_h`, per parameter that hit a guardrail. At 0.05 the trainer learned to
    /// pin emission at its rail (a hit every epoch); at 0.2 it stays off the rails.
    pub hit_weight: f64,
}

impl Default for RewardConfig {
    fn default() -> Self {
        Self {
            price_weight: 2.0,
            volatility_weight: 1.0,
            staking_weight: 4.0,
            staking_band: (0.45, 0.60),
            depth_weight: 0.5,
            depth_target: 0.08,
            runway_weight: 1.0,
            runway_floor: 1.5,
            hit_weight: 0.2,
        }
    }
}

impl RewardConfig {
    /// `r_t` for one epoch's outcome KPIs and guardrail hit count.
    pub fn epoch_reward(&self, kpis: &[f64], hits: usize) -> f64 {
        let get = |i: usize| kpis.get(i).copied().unwrap_or(0.0);
        let (lo, hi) = self.staking_band;
        let staking = get(STAKING_RATIO);
        let outside = (lo - staking).max(0.0) + (staking - hi).max(0.0);
        // max(0, 1 − v/target), 0 for a non-positive target.
        let shortfall = |v: f64, target: f64| if target > 0.0 { (1.0 - v / target).max(0.0) } else { 0.0 };
        -self.price_weight * get(PRICE_VS_TARGET).abs()
            - self.volatility_weight * get(VOLATILITY_30D)
            - self.staking_weight * outside
            - self.depth_weight * shortfall(get(LIQUIDITY_DEPTH), self.depth_target)
            - self.runway_weight * shortfall(get(TREASURY_RUNWAY), self.runway_floor)
            - self.hit_weight * hits as f64
    }

    /// Mean of `r_t` over the trajectory (0 for an empty one).
    pub fn episode_reward(&self, trajectory: &Trajectory) -> f64 {
        let epochs = &trajectory.epochs;
        if epochs.is_empty() {
            return 0.0;
        }
        let total: f64 = epochs.iter().map(|e| self.epoch_reward(&e.outcome_kpis, e.hits.iter().filter(|&&h| h).count())).sum();
        total / epochs.len() as f64
    }

    /// Whether `staking_ratio` lies in the band.
    pub fn staking_in_band(&self, staking_ratio: f64) -> bool {
        (self.staking_band.0..=self.staking_band.1).contains(&staking_ratio)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reward_terms_match_the_formula() {
        let r = RewardConfig::default();
        let perfect = [0.5, 0.08, 0.0, 0.0, 0.35, 0.0, 3.0, 0.05];
        assert_eq!(r.epoch_reward(&perfect, 0), 0.0);
        // −2·0.1 − 1·0.6 − 4·(0.45 − 0.40) − 0.5·(1 − 0.04/0.08) − 1·(1 − 0.75/1.5) − 0.2·2 = −2.15
        let k = [0.40, 0.04, 0.6, -0.1, 0.35, 0.0, 0.75, 0.05];
        assert!((r.epoch_reward(&k, 2) + 2.15).abs() < 1e-12);
    }
}
