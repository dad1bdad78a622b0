//! Behavioural rules of the agent populations, as pure functions of what each
//! population observes. Every flow is an aggregate over many small agents, so it
//! is a smooth function of its inputs plus the noise the economy passes in.
//!
//! Quote flows are signed: positive buys tokens from the pool, negative sells.

/// Days per year: one epoch is one day.
pub const EPOCHS_PER_YEAR: f64 = 365.0;

/// Stakers: the staked share they converge to.
pub mod stakers {
    /// Share of supply staked when stakers are indifferent is the midpoint of these.
    pub const FLOOR: f64 = 0.2;
    /// The highest staked share stakers converge to, however high the reward (`FLOOR` is the lowest).
    pub const CEILING: f64 = 0.8;
    /// Sensitivity to the reward premium over the alternative yield (per unit APR).
    pub const YIELD_SENSITIVITY: f64 = 20.0;
    /// Sensitivity to the 30-epoch log return of the price.
    pub const MOMENTUM_SENSITIVITY: f64 = 1.5;
    /// Fraction of the gap to the target closed per epoch (unbonding lag).
    pub const ADJUSTMENT_SPEED: f64 = 0.05;
    /// Share of unstaked tokens sold at once, and share of new stake bought on the market.
    pub const UNSTAKE_SELL_SHARE: f64 = 0.05;
    /// Share of new stake bought on the market (the rest comes from tokens already held).
    pub const STAKE_BUY_SHARE: f64 = 0.02;
    /// Share of staking rewards sold each epoch (the rest compounds).
    pub const REWARD_SELL_SHARE: f64 = 0.3;

    /// `s* = FLOOR + (CEILING − FLOOR) · sigmoid(YIELD_SENSITIVITY·(r − r_alt) + MOMENTUM_SENSITIVITY·ret30)`:
    /// stakers compare the reward APR `r` with an outside yield and chase trends.
    pub fn target_share(reward_apr: f64, alternative_yield: f64, return_30: f64) -> f64 {
        let x = YIELD_SENSITIVITY * (reward_apr - alternative_yield) + MOMENTUM_SENSITIVITY * return_30;
        FLOOR + (CEILING - FLOOR) / (1.0 + (-x).exp())
    }
}

/// Liquidity providers: pool value change as a fraction of the pool per epoch.
pub mod lps {
    /// Pool change per epoch per unit of annual excess yield.
    pub const RESPONSE: f64 = 0.1;
    /// Largest voluntary change per epoch (gas, lock-ups, inattention).
    pub const MAX_CHANGE: f64 = 0.03;
    /// Share of withdrawn tokens LPs sell at once.
    pub const WITHDRAW_SELL_SHARE: f64 = 0.3;
    /// Share of emissions paid out as LP incentives.
    pub const INCENTIVE_SHARE: f64 = 0.4;
    /// Tokens (as a share of supply) the protocol itself keeps in the pool: LPs
    /// can withdraw everything above this floor.
    pub const PROTOCOL_OWNED_SHARE: f64 = 0.005;

    /// `clamp(RESPONSE · (yield − σ²/8 − required), ±MAX_CHANGE)`, where `σ²/8` is the
    /// annual loss-versus-rebalancing (impermanent loss) rate of a constant-product
    /// pool at annualised volatility `σ`.
    pub fn liquidity_change(annual_yield: f64, volatility: f64, required_yield: f64) -> f64 {
        let impermanent_loss = volatility * volatility / 8.0;
        (RESPONSE * (annual_yield - impermanent_loss - required_yield)).clamp(-MAX_CHANGE, MAX_CHANGE)
    }
}

/// Traders: gross volume, noise, momentum and fundamental order flow.
pub mod traders {
    /// Gross volume falls as `exp(−fee_bps / FEE_ELASTICITY_BPS)` (traders route
    /// elsewhere), so fee revenue `f·exp(−f/60)` peaks at a 60 bps fee.
    pub const FEE_ELASTICITY_BPS: f64 = 60.0;
    /// Volume rises by this multiple of the last absolute return.
    pub const VOLATILITY_VOLUME: f64 = 5.0;
    /// Log-normal day-to-day volume noise.
    pub const VOLUME_NOISE: f64 = 0.2;
    /// Std of the net noise-trader imbalance as a fraction of the fee-free daily turnover.
    pub const NOISE_IMBALANCE: f64 = 0.02;
    /// Momentum flow per unit 5-epoch log return, as a fraction of the pool's quote reserve.
    pub const MOMENTUM: f64 = 0.02;
    /// Value flow per unit log mispricing `ln(F / p)`, as a fraction of the quote reserve.
    pub const VALUE: f64 = 0.06;
    /// Largest net flow per epoch as a fraction of the quote reserve: larger
    /// orders are split over later epochs, which this model drops.
    pub const MAX_NET_FLOW: f64 = 0.1;

    /// Gross volume in quote, with `D = turnover · market_cap · volume_scale`:
    /// `V = D · exp(−fee/FEE_ELASTICITY_BPS) · (1 + VOLATILITY_VOLUME·|r₁|) · exp(VOLUME_NOISE·z − VOLUME_NOISE²/2)`
    /// (the log-normal factor has mean 1).
    pub fn gross_volume(demand_base: f64, fee_bps: f64, last_abs_return: f64, z: f64) -> f64 {
        let noise = (VOLUME_NOISE * z - VOLUME_NOISE * VOLUME_NOISE / 2.0).exp();
        let fee_factor = (-fee_bps / FEE_ELASTICITY_BPS).exp();
        demand_base * fee_factor * (1.0 + VOLATILITY_VOLUME * last_abs_return) * noise
    }

    /// `NOISE_IMBALANCE · noise_scale · z · D + MOMENTUM · r₅ · y + VALUE · ln(F/p) · y`, where
    /// `D = turnover · market_cap · volume_scale` is the directional demand base. Fees
    /// deter round-trip volume (arbitrage, market making), not this imbalance, so
    /// the fee does not enter here.
    pub fn net_flow(demand_base: f64, noise_scale: f64, z: f64, return_5: f64, mispricing: f64, pool_quote: f64) -> f64 {
        NOISE_IMBALANCE * noise_scale * z * demand_base + MOMENTUM * return_5 * pool_quote + VALUE * mispricing * pool_quote
    }
}

/// The top-10 holders: contrarian value buyers outside a band.
pub mod whales {
    /// Share of their holdings the top-10 keep staked.
    pub const STAKED_SHARE: f64 = 0.7;
    /// Mispricing band `|ln(F/p)|` inside which whales do not trade.
    pub const BAND: f64 = 0.1;
    /// Flow per unit mispricing beyond the band, as a fraction of the quote reserve.
    pub const RESPONSE: f64 = 0.05;

    /// `RESPONSE · (m − BAND·sign(m)) · y` when `|m| > BAND`, else 0, for mispricing `m = ln(F/p)`.
    pub fn flow(mispricing: f64, pool_quote: f64) -> f64 {
        let beyond = if mispricing > BAND {
            mispricing - BAND
        } else if mispricing < -BAND {
            mispricing + BAND
        } else {
            0.0
        };
        RESPONSE * beyond * pool_quote
    }
}

/// The fundamental value process: `F = target · demand · exp(u) · S₀/S`, `u ← PERSISTENCE·u + STEP·noise·z`.
pub mod fundamental {
    /// Per-epoch persistence of the log deviation `u` (mean reversion toward 0).
    pub const PERSISTENCE: f64 = 0.97;
    /// Standard deviation of the walk's daily step at scenario noise 1.
    pub const STEP: f64 = 0.015;
}

/// The treasury's buyback-and-burn: at most this share of the treasury per epoch.
pub const MAX_BUYBACK_SHARE: f64 = 0.02;

/// Share of each epoch's emission its recipients (LPs and the ecosystem) sell at once.
pub const EMISSION_SELL_SHARE: f64 = 0.5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stakers_prefer_higher_rewards_and_rising_prices() {
        let neutral = stakers::target_share(0.08, 0.08, 0.0);
        assert!((neutral - 0.5).abs() < 1e-12);
        assert!(stakers::target_share(0.10, 0.08, 0.0) > neutral);
        assert!(stakers::target_share(0.08, 0.08, -0.3) < neutral);
    }

    #[test]
    fn lps_leave_on_volatility_and_join_on_yield() {
        assert!(lps::liquidity_change(0.5, 0.6, 0.3) > 0.0);
        assert!(lps::liquidity_change(0.3, 1.5, 0.3) < 0.0);
        assert_eq!(lps::liquidity_change(10.0, 0.0, 0.3), lps::MAX_CHANGE);
    }

    #[test]
    fn whales_trade_only_outside_their_band() {
        assert_eq!(whales::flow(0.05, 100.0), 0.0);
        assert!(whales::flow(0.3, 100.0) > 0.0);
        assert!(whales::flow(-0.3, 100.0) < 0.0);
    }
}
