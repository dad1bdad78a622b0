//! The scenario suite: named, seeded market regimes.
//!
//! A scenario is deterministic in shape (its [`Shocks`] per epoch depend only on
//! the config) and random in detail (the seed drives trader noise and the
//! fundamental random walk). Epoch `t` counts from the end of the warm-up.

use serde::{Deserialize, Serialize};

use crate::LabError;

/// The five regimes of the suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioKind {
    /// No shock: only trader noise and the fundamental random walk.
    Calm,
    /// A sudden fall of fundamental value with panic volume and LP flight, partly recovered.
    Crash,
    /// LPs leave the pool for a competing farm while fundamentals stay put.
    LiquidityDrain,
    /// Fundamental demand and volume rise over a few weeks.
    DemandSurge,
    /// Demand and volume fade slowly while treasury spending rises.
    SlowBleed,
}

impl ScenarioKind {
    /// Every regime, in suite order (the order [`Scenario::suite`] seeds them in).
    pub const ALL: [ScenarioKind; 5] = [Self::Calm, Self::Crash, Self::LiquidityDrain, Self::DemandSurge, Self::SlowBleed];

    /// The snake_case name used in the CLI, trajectories and backtest tables, e.g. `liquidity_drain`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Calm => "calm",
            Self::Crash => "crash",
            Self::LiquidityDrain => "liquidity_drain",
            Self::DemandSurge => "demand_surge",
            Self::SlowBleed => "slow_bleed",
        }
    }

    /// One line per regime (magnitudes at intensity 1).
    pub fn description(self) -> &'static str {
        match self {
            Self::Calm => "no shock: trader noise and the slow fundamental random walk only",
            Self::Crash => "fundamental value falls 45% over 5 epochs with doubled (panic) volume, 1.5x noise and 10 epochs of LP flight; a third of the loss recovers over 60 epochs",
            Self::LiquidityDrain => "LPs pull 2.5% of the pool per epoch for 40 epochs (a competing farm) and volume falls 30%; fundamentals unchanged",
            Self::DemandSurge => "fundamental demand rises 60% over 20 epochs with doubled volume",
            Self::SlowBleed => "fundamental demand decays 0.25% per epoch with fading volume and 30% higher treasury spend",
        }
    }

    /// The regime with this [`name`](ScenarioKind::name); `None` for an unknown one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A named, seeded scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The market regime, which fixes the shape of the shocks.
    pub kind: ScenarioKind,
    /// Seeds the ChaCha20 stream of trader noise and fundamental moves.
    pub seed: u64,
    /// Epochs after the warm-up (one epoch is one day).
    pub epochs: usize,
    /// The epoch the shock begins.
    pub shock_start: usize,
    /// Scales the shock's magnitude: 1 is the documented regime, 0 is calm.
    pub intensity: f64,
}

/// Exogenous drivers of one epoch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Shocks {
    /// Fundamental value as a multiple of the target price.
    pub demand: f64,
    /// Multiplies the std of noise-trader flow and of the fundamental walk.
    pub noise: f64,
    /// Multiplies gross trading volume.
    pub volume: f64,
    /// Fraction of the pool LPs withdraw this epoch regardless of yield.
    pub lp_outflow: f64,
    /// Multiplies treasury spending.
    pub spend: f64,
}

impl Shocks {
    /// The drivers of the warm-up and of calm markets.
    pub const BASELINE: Shocks = Shocks { demand: 1.0, noise: 1.0, volume: 1.0, lp_outflow: 0.0, spend: 1.0 };
}

impl Scenario {
    /// A scenario with the shock at epoch 20 and intensity 1.
    pub fn new(kind: ScenarioKind, seed: u64, epochs: usize) -> Self {
        Self { kind, seed, epochs, shock_start: 20, intensity: 1.0 }
    }

    /// All five regimes, seeded `seed, seed + 1, …` so their noise differs.
    pub fn suite(seed: u64, epochs: usize) -> Vec<Self> {
        ScenarioKind::ALL.iter().enumerate().map(|(i, &k)| Self::new(k, seed.wrapping_add(i as u64), epochs)).collect()
    }

    /// The regime's name ([`ScenarioKind::name`]).
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// Refuses an intensity outside `[0, 2]`; [`super::Episode::new`] calls it before a run.
    pub fn validate(&self) -> Result<(), LabError> {
        if !self.intensity.is_finite() || !(0.0..=2.0).contains(&self.intensity) {
            return Err(LabError::config("scenario", "intensity", format!("must be in [0, 2], got {}", self.intensity)));
        }
        Ok(())
    }

    /// The drivers of epoch `t`.
    pub fn shocks(&self, t: usize) -> Shocks {
        let a = self.intensity;
        // Epochs since the shock began (negative before it).
        let s = t as f64 - self.shock_start as f64;
        // Linear ramp from 0 at `delay` epochs into the shock to 1 after `len` more.
        let ramp_after = |delay: f64, len: f64| ((s - delay) / len).clamp(0.0, 1.0);
        let ramp = |len: f64| ramp_after(0.0, len);
        // 1 during the shock's first epoch, decaying with the given half-life.
        let decay = |half_life: f64| if s < 0.0 { 0.0 } else { 0.5f64.powf(s / half_life) };
        let base = Shocks::BASELINE;
        match self.kind {
            ScenarioKind::Calm => base,
            ScenarioKind::Crash => {
                // Falls over 5 epochs, then a third of the loss recovers over 60.
                let loss = 0.45 * a * ramp(5.0) * (1.0 - ramp_after(5.0, 60.0) / 3.0);
                let in_flight = (0.0..10.0).contains(&s);
                Shocks {
                    demand: 1.0 - loss,
                    noise: 1.0 + 0.5 * a * decay(15.0),
                    volume: 1.0 + a * decay(10.0),
                    lp_outflow: if in_flight { 0.04 * a } else { 0.0 },
                    ..base
                }
            }
            ScenarioKind::LiquidityDrain => {
                let draining = (0.0..40.0).contains(&s);
                Shocks { lp_outflow: if draining { 0.025 * a } else { 0.0 }, volume: 1.0 - 0.3 * a * ramp(20.0), ..base }
            }
            ScenarioKind::DemandSurge => Shocks { demand: 1.0 + 0.6 * a * ramp(20.0), volume: 1.0 + a * ramp(20.0), ..base },
            ScenarioKind::SlowBleed => {
                let epochs = s.max(0.0);
                Shocks {
                    demand: (1.0 - 0.0025 * a).powf(epochs),
                    volume: (1.0 - 0.003 * a).powf(epochs),
                    spend: 1.0 + 0.3 * a * ramp(1.0),
                    ..base
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shocks_start_at_the_configured_epoch() {
        for kind in ScenarioKind::ALL {
            let s = Scenario::new(kind, 1, 100);
            assert_eq!(s.shocks(0), Shocks::BASELINE, "{kind:?} before the shock");
            assert_eq!(ScenarioKind::from_name(kind.name()), Some(kind));
        }
        let crash = Scenario::new(ScenarioKind::Crash, 1, 100);
        assert!((crash.shocks(25).demand - 0.55).abs() < 1e-12);
        assert!((crash.shocks(85).demand - 0.70).abs() < 1e-12);
        assert!((crash.shocks(55).demand - 0.625).abs() < 1e-12);
        let surge = Scenario::new(ScenarioKind::DemandSurge, 1, 100);
        assert!((surge.shocks(40).demand - 1.6).abs() < 1e-12);
    }

    #[test]
    fn zero_intensity_is_calm_and_out_of_range_intensity_is_rejected() {
        let mut s = Scenario::new(ScenarioKind::Crash, 1, 100);
        s.intensity = 0.0;
        assert!((0..100).all(|t| s.shocks(t) == Shocks::BASELINE));
        s.intensity = f64::NAN;
        assert!(matches!(s.validate(), Err(LabError::InvalidConfig { .. })));
    }
}
