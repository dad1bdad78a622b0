//! The economy as the agents see it (read from the chain), and what the simulator's
//! behavioural rules make each population do in an epoch.
//!
//! The rules are the simulator's own functions (`zkpolicy_lab::sim::agents`), fed with
//! the chain's state instead of the simulator's, and the noise is the simulator's stream:
//! the same seed draws the same three normals per epoch, in the same order, so the
//! in-process simulator on the same scenario and seed faces the same shocks. What differs
//! is the mechanics: here the contracts mint, burn, swap and charge fees.

use alloy::primitives::{Address, U256};
use rand_chacha::ChaCha20Rng;
use serde::Serialize;
use zkpolicy_contracts::economy::{ConstantProductPair, StakingVault, TokenEconomy, ZkpToken};
use zkpolicy_lab::sim::agents::{self, fundamental, lps, stakers, traders, whales, EPOCHS_PER_YEAR};
use zkpolicy_lab::sim::economy::LP_INCOME_SMOOTHING;
use zkpolicy_lab::sim::{kpis, standard_normal, EconomyConfig, Shocks};

use super::LiveError;
use zkpolicy_chain::{read, Client, Deployment};

/// Whole tokens (or quote) from wei.
pub fn whole(v: U256) -> f64 {
    let (hi, lo) = (v >> 128u32, v & U256::from(u128::MAX));
    (hi.saturating_to::<u128>() as f64 * 2f64.powi(128) + lo.saturating_to::<u128>() as f64) / 1e18
}

/// Wei from whole tokens (0 for anything not positive and finite).
pub fn wei(v: f64) -> U256 {
    if !(v.is_finite() && v > 0.0) {
        return U256::ZERO;
    }
    let scaled = v * 1e18;
    if scaled >= 2f64.powi(128) {
        U256::from(u128::MAX)
    } else {
        U256::from(scaled as u128)
    }
}

/// The economy's contracts.
#[derive(Clone, Copy, Debug)]
pub struct Contracts {
    /// The economy's token (`ZkpToken`).
    pub token: Address,
    /// The quote asset the token is priced in and the treasury holds.
    pub quote: Address,
    /// The token/quote constant-product pool the agents trade on.
    pub pair: Address,
    /// The staking vault.
    pub vault: Address,
    /// `TokenEconomy`: the tick and the treasury.
    pub economy: Address,
    /// Governance's timelock over the token and the treasury.
    pub timelock: Address,
    /// The on-chain KPI source that takes each epoch's snapshot and holds the holder sets.
    pub kpi_source: Address,
    /// The policy controller.
    pub controller: Address,
}

impl Contracts {
    /// The addresses in a deployment record; a record without an on-chain economy (a
    /// reporter deployment) is refused.
    pub fn of(deployment: &Deployment) -> Result<Self, LiveError> {
        let e = deployment.economy.as_ref().ok_or_else(|| LiveError::Config("the deployment has no on-chain economy".into()))?;
        Ok(Self {
            token: e.token,
            quote: e.quote,
            pair: e.pair,
            vault: e.vault,
            economy: e.economy,
            timelock: e.timelock,
            kpi_source: deployment.kpi_source,
            controller: deployment.controller,
        })
    }
}

/// The economy's aggregate state now (whole tokens and quote).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct State {
    /// The pool's price, quote per token, from its reserves (0 for an empty pool).
    pub price: f64,
    /// The token's total supply.
    pub supply: f64,
    /// Tokens staked in the vault.
    pub staked: f64,
    /// The pool's token reserve.
    pub pool_tokens: f64,
    /// The pool's quote reserve.
    pub pool_quote: f64,
    /// The pool's LP shares outstanding, the protocol's included.
    pub lp_shares: f64,
    /// Quote the treasury (the economy contract) holds.
    pub treasury_quote: f64,
    /// Tokens the treasury holds: the protocol's share of the fees on swaps that paid in tokens.
    pub treasury_tokens: f64,
    /// The economy's parameters in force (bps).
    pub parameters: Vec<i64>,
}

impl State {
    /// Reads the state from the chain's latest block.
    pub fn read(client: &Client, c: &Contracts) -> Result<Self, LiveError> {
        let pool_tokens = whole(read(client, "reserve read", c.pair, ConstantProductPair::reserveTokenCall {})?);
        let pool_quote = whole(read(client, "reserve read", c.pair, ConstantProductPair::reserveQuoteCall {})?);
        let params = read(client, "economy parameters read", c.economy, TokenEconomy::parametersCall {})?;
        Ok(Self {
            price: if pool_tokens > 0.0 { pool_quote / pool_tokens } else { 0.0 },
            supply: whole(read(client, "supply read", c.token, ZkpToken::totalSupplyCall {})?),
            staked: whole(read(client, "stake read", c.vault, StakingVault::totalStakedCall {})?),
            pool_tokens,
            pool_quote,
            lp_shares: whole(read(client, "LP share supply read", c.pair, ConstantProductPair::totalSupplyCall {})?),
            treasury_quote: whole(read(client, "treasury read", c.quote, ZkpToken::balanceOfCall { account: c.economy })?),
            treasury_tokens: whole(read(client, "treasury read", c.token, ZkpToken::balanceOfCall { account: c.economy })?),
            parameters: params.iter().map(|v| v.saturating_to::<i64>()).collect(),
        })
    }
}

/// What the driver remembers between epochs, as the simulator's economy does: the
/// fundamental's walk, the LPs' income average, the closing prices and volumes, and the
/// noise stream.
pub struct Memory {
    /// The fundamental's log-deviation, an AR(1) walk driven by the noise stream (starts at 0).
    pub walk: f64,
    /// The LPs' income average, quote an epoch (fees and the incentives they receive).
    pub lp_income: f64,
    /// Closing price of each epoch, starting with the initial price.
    pub closes: Vec<f64>,
    /// The simulator's noise stream: three standard normals an epoch, in the simulator's order.
    pub rng: ChaCha20Rng,
    /// The economy's starting point and the agents' preferences, as the simulator has them.
    pub config: EconomyConfig,
}

impl Memory {
    /// The memory at the simulator's start: no walk yet, the LPs' income at exactly their
    /// required yield on the initial pool, the closes at the target price.
    pub fn new(config: &EconomyConfig, rng: ChaCha20Rng) -> Self {
        let pool_value = 2.0 * config.pool_share * config.supply * config.target_price;
        Self {
            walk: 0.0,
            lp_income: config.lp_required_yield * pool_value / EPOCHS_PER_YEAR,
            closes: vec![config.target_price],
            rng,
            config: config.clone(),
        }
    }

    /// The LPs' fee income of the epoch (quote), into their income average, as the
    /// simulator books it after the epoch's trades.
    pub fn earn(&mut self, fees: f64) {
        self.lp_income += LP_INCOME_SMOOTHING * fees;
    }

    /// `ln(p_t / p_{t−n})` over the closes, over as much history as exists.
    fn log_return(&self, n: usize) -> f64 {
        let last = self.closes.len() - 1;
        (self.closes[last] / self.closes[last.saturating_sub(n)]).ln()
    }
}

/// One epoch's flows, in whole tokens or quote, before the cap on the net flow is applied
/// (the `scale` applies to every directional flow, as the simulator scales the net swap).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Plan {
    /// The fundamental price (quote per token) the whales trade toward: the target price
    /// moved by the demand shock and the walk, diluted by the supply's growth.
    pub fundamental: f64,
    /// Tokens the ecosystem sells (half the emission).
    pub emission_sells: f64,
    /// Share of their claimed rewards non-whale stakers sell.
    pub reward_sell_share: f64,
    /// Liquidity change as a fraction of the pool (negative: withdrawn).
    pub liquidity_change: f64,
    /// Fraction of the LP shares withdrawn (after the protocol-owned floor).
    pub withdraw_fraction: f64,
    /// Tokens stakers stake (negative: unstake).
    pub stake_change: f64,
    /// Quote stakers spend buying (negative: tokens' worth they sell).
    pub staking_flow: f64,
    /// Gross (round-trip) volume in quote: half bought, then sold back.
    pub round_trip: f64,
    /// Traders' net demand (quote; negative: sells).
    pub demand: f64,
    /// The whales' net demand (quote; negative: sells), from the price's gap to the fundamental.
    pub whale_flow: f64,
    /// Multiplies every directional flow so their net stays within the cap.
    pub scale: f64,
    /// The treasury's spending this epoch (quote).
    pub spend: f64,
}

/// The simulator's rules on the chain's state after the tick (`emitted`: what the tick
/// minted as emission). The tokens sold from claimed rewards and withdrawn liquidity are
/// known only as the stakers and LPs act (they depend on the chain's answers), so the cap
/// on the net flow is set afterwards, by [`Plan::cap`].
pub fn plan(memory: &mut Memory, state: &State, shocks: &Shocks, emitted: f64) -> Plan {
    let volatility = kpis::realised_volatility(&memory.closes, kpis::WINDOW);
    let rng = &mut memory.rng;
    let (z_walk, z_flow, z_volume) = (standard_normal(rng), standard_normal(rng), standard_normal(rng));
    let config = &memory.config;
    memory.walk = fundamental::PERSISTENCE * memory.walk + fundamental::STEP * shocks.noise * z_walk;
    let fundamental = config.target_price * shocks.demand * memory.walk.exp() * config.supply / state.supply;
    let price = state.price;
    let bps = |i: usize| state.parameters.get(i).copied().unwrap_or(0) as f64 / 1e4;

    memory.lp_income += LP_INCOME_SMOOTHING * (lps::INCENTIVE_SHARE * emitted * price - memory.lp_income);
    let pool_value = 2.0 * state.pool_quote;
    let annual_yield = memory.lp_income * EPOCHS_PER_YEAR / pool_value.max(f64::MIN_POSITIVE);
    let liquidity_change = lps::liquidity_change(annual_yield, volatility, config.lp_required_yield) - shocks.lp_outflow;
    let floor = lps::PROTOCOL_OWNED_SHARE * state.supply;
    let withdraw_fraction =
        if liquidity_change < 0.0 { (-liquidity_change).min(((state.pool_tokens - floor) / state.pool_tokens).max(0.0)) } else { 0.0 };

    let target = stakers::target_share(bps(1), config.staking_alternative_yield, memory.log_return(30));
    let stake_change = stakers::ADJUSTMENT_SPEED * (target * state.supply - state.staked);
    let share = if stake_change >= 0.0 { stakers::STAKE_BUY_SHARE } else { stakers::UNSTAKE_SELL_SHARE };
    let staking_flow = share * stake_change * price;

    let demand_base = config.daily_turnover * price * state.supply * shocks.volume;
    let round_trip = traders::gross_volume(demand_base, bps(3) * 1e4, memory.log_return(1).abs(), z_volume);
    let mispricing = (fundamental / price).ln();
    let whale_flow = whales::flow(mispricing, state.pool_quote);
    let demand = traders::net_flow(demand_base, shocks.noise, z_flow, memory.log_return(5), mispricing, state.pool_quote);
    Plan {
        fundamental,
        emission_sells: agents::EMISSION_SELL_SHARE * emitted,
        reward_sell_share: stakers::REWARD_SELL_SHARE,
        liquidity_change,
        withdraw_fraction,
        stake_change,
        staking_flow,
        round_trip,
        demand,
        whale_flow,
        scale: 1.0,
        spend: config.yearly_spend * shocks.spend / EPOCHS_PER_YEAR,
    }
}

impl Plan {
    /// Sets `scale` once the tokens to be sold (emission, rewards, withdrawn liquidity) are
    /// known: the net of every directional flow is capped at 10 % of the quote reserve, and
    /// flows beyond it are dropped pro rata, as in the simulator.
    pub fn cap(&mut self, sell_tokens: f64, price: f64, pool_quote: f64) {
        let net = self.demand + self.whale_flow + self.staking_flow - sell_tokens * price;
        let cap = traders::MAX_NET_FLOW * pool_quote;
        self.scale = if net.abs() > cap { cap / net.abs() } else { 1.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wei_and_whole_are_inverse_within_rounding() {
        for v in [0.0, 1e-9, 1.5, 40_000_000.0, 1e9, 3.3e20] {
            let back = whole(wei(v));
            assert!((back - v).abs() <= v * 1e-15 + 1e-18, "{v} -> {back}");
        }
        assert_eq!(wei(f64::NAN), U256::ZERO);
        assert_eq!(wei(-3.0), U256::ZERO);
        assert_eq!(whole(U256::from(10u64).pow(U256::from(18u64))), 1.0);
    }
}
