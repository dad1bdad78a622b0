//! The KPI vector the policy sees, in the order, units and ranges the default
//! model (`models/tokenomics-policy.json`) declares.
//!
//! | # | KPI | formula |
//! |---|---|---|
//! | 0 | `staking_ratio` | staked / supply |
//! | 1 | `liquidity_depth` | pool value (2 × quote reserve) / market cap; a full-range pool stands in for "liquidity near mid" |
//! | 2 | `volatility_30d` | sample std of the last 30 daily log returns × √365 |
//! | 3 | `price_vs_target` | price / target − 1 |
//! | 4 | `holder_concentration` | top-10 holdings / supply |
//! | 5 | `volume_trend` | volume of the last 30 epochs / volume of the 30 before − 1 (0 until 60 epochs exist) |
//! | 6 | `treasury_runway` | treasury / yearly spend, in years |
//! | 7 | `net_emission_pressure` | (emitted + staking rewards − burned in the last epoch) × 365 / supply |
//!
//! Each value is clamped into its declared `[min, max]`, so every vector is a
//! valid model input.

use super::agents::EPOCHS_PER_YEAR;
use super::economy::Economy;
use crate::synth;
use zkpolicy_model::format::InputSpec;

/// Index of `staking_ratio`: staked / supply.
pub const STAKING_RATIO: usize = 0;
/// Index of `liquidity_depth`: pool value / market cap.
pub const LIQUIDITY_DEPTH: usize = 1;
/// Index of `volatility_30d`: annualised volatility over the last [`WINDOW`] epochs.
pub const VOLATILITY_30D: usize = 2;
/// Index of `price_vs_target`: price / target − 1.
pub const PRICE_VS_TARGET: usize = 3;
/// Index of `holder_concentration`: top-10 holdings / supply.
pub const HOLDER_CONCENTRATION: usize = 4;
/// Index of `volume_trend`: the last [`WINDOW`] epochs' volume over the window before, − 1.
pub const VOLUME_TREND: usize = 5;
/// Index of `treasury_runway`: treasury / yearly spend, in years.
pub const TREASURY_RUNWAY: usize = 6;
/// Index of `net_emission_pressure`: the last epoch's net minting, annualised, over supply.
pub const NET_EMISSION_PRESSURE: usize = 7;
/// Number of KPIs.
pub const KPI_COUNT: usize = 8;

/// The KPI names in vector order.
pub const KPI_NAMES: [&str; KPI_COUNT] = [
    "staking_ratio",
    "liquidity_depth",
    "volatility_30d",
    "price_vs_target",
    "holder_concentration",
    "volume_trend",
    "treasury_runway",
    "net_emission_pressure",
];

/// Epochs in the volatility and volume windows.
pub const WINDOW: usize = 30;

/// The default model's input declarations (names, units, ranges), in vector order.
pub fn kpi_specs() -> Vec<InputSpec> {
    synth::tokenomics_policy().inputs
}

/// `(min, max)` of each KPI.
pub fn kpi_ranges() -> Vec<(f64, f64)> {
    kpi_specs().iter().map(|s| (s.min, s.max)).collect()
}

/// Annualised realised volatility of the last `window` log returns of `prices`
/// (sample std, `n − 1`); 0 with fewer than two returns.
pub fn realised_volatility(prices: &[f64], window: usize) -> f64 {
    let start = prices.len().saturating_sub(window + 1);
    let returns: Vec<f64> = prices[start..].windows(2).map(|w| (w[1] / w[0]).ln()).collect();
    if returns.len() < 2 {
        return 0.0;
    }
    let n = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / n;
    let variance = returns.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / (n - 1.0);
    (variance * EPOCHS_PER_YEAR).sqrt()
}

/// `Σ last window / Σ previous window − 1`; 0 until two full windows exist or
/// when the previous window saw no volume.
pub fn volume_trend(volumes: &[f64], window: usize) -> f64 {
    if window == 0 || volumes.len() < 2 * window {
        return 0.0;
    }
    let n = volumes.len();
    let recent: f64 = volumes[n - window..].iter().sum();
    let previous: f64 = volumes[n - 2 * window..n - window].iter().sum();
    if previous > 0.0 {
        recent / previous - 1.0
    } else {
        0.0
    }
}

/// The raw (unclamped) KPIs of `economy`.
pub fn raw_kpis(economy: &Economy) -> [f64; KPI_COUNT] {
    let price = economy.price();
    let supply = economy.supply;
    let flows = economy.flows;
    [
        economy.staked / supply,
        economy.pool.value() / (price * supply),
        realised_volatility(&economy.prices, WINDOW),
        price / economy.config.target_price - 1.0,
        economy.top10 / supply,
        volume_trend(&economy.volumes, WINDOW),
        economy.treasury / economy.config.yearly_spend,
        (flows.emitted + flows.rewarded - flows.burned) * EPOCHS_PER_YEAR / supply,
    ]
}

/// The KPIs of `economy`, each clamped into `ranges` (a non-finite value reads as
/// the range's lower end).
pub fn observe(economy: &Economy, ranges: &[(f64, f64)]) -> Vec<f64> {
    raw_kpis(economy).iter().zip(ranges).map(|(&v, &(lo, hi))| if v.is_finite() { v.clamp(lo, hi) } else { lo }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vector_order_matches_the_default_model() {
        let names: Vec<String> = kpi_specs().into_iter().map(|s| s.name).collect();
        assert_eq!(names, KPI_NAMES);
    }

    #[test]
    fn volatility_of_alternating_returns() {
        // Log returns alternate ±a: mean 0, sample variance n·a²/(n−1).
        let a: f64 = 0.01;
        let mut prices = vec![1.0];
        for i in 0..40 {
            let last = prices[prices.len() - 1];
            prices.push(last * if i % 2 == 0 { a.exp() } else { (-a).exp() });
        }
        let expected = (30.0 / 29.0 * a * a * 365.0).sqrt();
        assert!((realised_volatility(&prices, 30) - expected).abs() < 1e-12);
        assert_eq!(realised_volatility(&[1.0, 2.0], 30), 0.0);
    }

    #[test]
    fn volume_trend_compares_adjacent_windows() {
        let mut volumes = vec![1.0; 30];
        volumes.extend(vec![1.5; 30]);
        assert!((volume_trend(&volumes, 30) - 0.5).abs() < 1e-12);
        assert_eq!(volume_trend(&volumes[..59], 30), 0.0);
    }
}
