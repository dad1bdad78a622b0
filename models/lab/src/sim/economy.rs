//! The token economy: supply, staking, the AMM pool, holders and the treasury,
//! advanced one epoch (one day) at a time.
//!
//! Order of one epoch, given the guarded parameters (all bps):
//! 1. the fundamental value per token moves: the market values the network at
//!    `target · S₀ · demand · exp(u)` (scenario demand, mean-reverting walk `u`),
//!    so per token `F = target · demand · exp(u) · S₀ / S` and inflation dilutes it;
//! 2. minting: emission `e/10⁴/365 · S` to incentive recipients and staking
//!    rewards `r/10⁴/365 · K` to stakers, each partly sold;
//! 3. LPs add or withdraw liquidity (yield versus impermanent loss, plus the
//!    scenario's forced outflow), selling part of what they withdraw;
//! 4. stakers move toward their target share, buying or selling part of the change;
//! 5. the treasury buys back and burns `b/10⁴/365 · S` tokens (burn rate in bps
//!    of supply per year), spending at most 2% of its balance per epoch;
//! 6. all trader, staker, LP and emission flows net into one swap against the pool;
//! 7. the swap fee `f` bps is charged on gross volume plus the net swap: a
//!    `protocol_fee_share` goes to the treasury, the rest is reinvested in the pool;
//! 8. the treasury pays its spending.
//!
//! Each epoch draws exactly three standard normals, whatever the state or
//! parameters, so runs of different policies on one seed see the same noise.

use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use super::agents::{self, fundamental, lps, stakers, traders, whales, EPOCHS_PER_YEAR};
use super::amm::Pool;
use super::guardrails::{BURN_RATE, EMISSION_RATE, FEE, STAKING_REWARD};
use super::scenarios::Shocks;
use super::standard_normal;
use crate::LabError;

/// The starting point and the structural constants of the economy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EconomyConfig {
    /// Initial token supply.
    pub supply: f64,
    /// The target price (quote per token); the pool starts there.
    pub target_price: f64,
    /// Fraction of supply in the pool at start; liquidity depth is `2 × pool_share`.
    pub pool_share: f64,
    /// Fraction of supply staked at start.
    pub staked_share: f64,
    /// Fraction of supply the top-10 holders own at start.
    pub top10_share: f64,
    /// Treasury at start, in years of spending.
    pub treasury_years: f64,
    /// Treasury spending in quote per year.
    pub yearly_spend: f64,
    /// Fee-free daily turnover as a fraction of market cap (gross volume at fee 0).
    pub daily_turnover: f64,
    /// Share of swap fees paid to the treasury; the rest goes to LPs.
    pub protocol_fee_share: f64,
    /// Stakers' outside option (APR).
    pub staking_alternative_yield: f64,
    /// LPs' required yield on top of impermanent loss (APR).
    pub lp_required_yield: f64,
}

impl Default for EconomyConfig {
    fn default() -> Self {
        Self {
            supply: 1e9,
            target_price: 1.0,
            pool_share: 0.04,
            staked_share: 0.5,
            top10_share: 0.35,
            treasury_years: 3.5,
            yearly_spend: 1e7,
            daily_turnover: 0.03,
            protocol_fee_share: 1.0 / 3.0,
            staking_alternative_yield: 0.08,
            lp_required_yield: 0.35,
        }
    }
}

impl EconomyConfig {
    /// Refuses a config the simulator cannot run: amounts must be finite and positive,
    /// shares and yields in their ranges, and the pool non-empty. [`Economy::new`] calls it.
    pub fn validate(&self) -> Result<(), LabError> {
        let positive = [
            ("supply", self.supply),
            ("target_price", self.target_price),
            ("yearly_spend", self.yearly_spend),
            ("daily_turnover", self.daily_turnover),
        ];
        let fractions = [
            ("pool_share", self.pool_share, 0.5),
            ("staked_share", self.staked_share, 1.0),
            ("top10_share", self.top10_share, 1.0),
            ("protocol_fee_share", self.protocol_fee_share, 1.0),
            ("treasury_years", self.treasury_years, 100.0),
            ("staking_alternative_yield", self.staking_alternative_yield, 1.0),
            ("lp_required_yield", self.lp_required_yield, 1.0),
        ];
        for (field, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(LabError::config("economy", field, format!("must be finite and positive, got {v}")));
            }
        }
        for (field, v, hi) in fractions {
            if !(v.is_finite() && (0.0..=hi).contains(&v)) {
                return Err(LabError::config("economy", field, format!("must be in [0, {hi}], got {v}")));
            }
        }
        if self.pool_share == 0.0 {
            return Err(LabError::config("economy", "pool_share", "the pool needs liquidity to price the token"));
        }
        Ok(())
    }
}

/// Tokens minted and burned in the last epoch (for net emission pressure).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct SupplyFlows {
    /// Tokens minted as emission to incentive recipients (`e/10⁴/365 · S`).
    pub emitted: f64,
    /// Tokens minted as staking rewards (`r/10⁴/365 · K`).
    pub rewarded: f64,
    /// Tokens the treasury bought back from the pool and burned.
    pub burned: f64,
}

/// The observable state after an epoch, recorded in the trajectory.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MarketSnapshot {
    /// The pool's mid price, in quote per token.
    pub price: f64,
    /// The fundamental value per token the market reverts to, in quote.
    pub fundamental: f64,
    /// The epoch's gross trading volume plus its net swap, in quote (0 before any epoch).
    pub volume: f64,
    /// Total token supply.
    pub supply: f64,
    /// Tokens staked.
    pub staked: f64,
    /// Tokens held by the top-10 holders.
    pub top10: f64,
    /// The treasury's balance, in quote.
    pub treasury: f64,
    /// The AMM pool's reserves.
    pub pool: Pool,
    /// Tokens minted and burned in the epoch.
    pub flows: SupplyFlows,
}

/// The economy's state and history.
#[derive(Clone, Debug)]
pub struct Economy {
    pub(crate) config: EconomyConfig,
    pub(crate) supply: f64,
    pub(crate) staked: f64,
    pub(crate) top10: f64,
    pub(crate) treasury: f64,
    pub(crate) pool: Pool,
    /// Log deviation of the fundamental from the scenario's demand level.
    walk: f64,
    pub(crate) fundamental: f64,
    /// Exponential average of LP income per epoch (fees + incentives), in quote.
    lp_income: f64,
    pub(crate) flows: SupplyFlows,
    /// Price after each epoch, starting with the initial price.
    pub(crate) prices: Vec<f64>,
    /// Gross volume of each epoch.
    pub(crate) volumes: Vec<f64>,
}

/// Weight of the newest epoch in the LP income average.
pub const LP_INCOME_SMOOTHING: f64 = 0.1;

impl Economy {
    /// The economy at `config`'s starting point: the pool at the target price, LP income at
    /// its required yield. Fails if the config does not [`validate`](EconomyConfig::validate).
    pub fn new(config: &EconomyConfig) -> Result<Self, LabError> {
        config.validate()?;
        let supply = config.supply;
        let pool_tokens = config.pool_share * supply;
        let pool = Pool::new(pool_tokens, pool_tokens * config.target_price);
        // Start LPs at their required yield so the pool is near equilibrium.
        let lp_income = config.lp_required_yield * pool.value() / EPOCHS_PER_YEAR;
        Ok(Self {
            supply,
            staked: config.staked_share * supply,
            top10: config.top10_share * supply,
            treasury: config.treasury_years * config.yearly_spend,
            pool,
            walk: 0.0,
            fundamental: config.target_price,
            lp_income,
            flows: SupplyFlows::default(),
            prices: vec![config.target_price],
            volumes: Vec::new(),
            config: config.clone(),
        })
    }

    /// The pool's mid price, in quote per token.
    pub fn price(&self) -> f64 {
        self.pool.price()
    }

    /// `ln(p_t / p_{t−n})`, over as much history as exists.
    pub(crate) fn log_return(&self, n: usize) -> f64 {
        let last = self.prices.len() - 1;
        (self.prices[last] / self.prices[last.saturating_sub(n)]).ln()
    }

    /// The observable state now, as recorded after each epoch.
    pub fn snapshot(&self) -> MarketSnapshot {
        MarketSnapshot {
            price: self.price(),
            fundamental: self.fundamental,
            volume: self.volumes.last().copied().unwrap_or(0.0),
            supply: self.supply,
            staked: self.staked,
            top10: self.top10,
            treasury: self.treasury,
            pool: self.pool.clone(),
            flows: self.flows,
        }
    }

    /// Advances one epoch under `params` (bps, in guardrail order) and `shocks`.
    pub fn step(&mut self, params: &[i64], shocks: &Shocks, volatility: f64, rng: &mut ChaCha20Rng) {
        let bps = |i: usize| params.get(i).copied().unwrap_or(0) as f64 / 1e4;
        let (z_walk, z_flow, z_volume) = (standard_normal(rng), standard_normal(rng), standard_normal(rng));
        self.walk = fundamental::PERSISTENCE * self.walk + fundamental::STEP * shocks.noise * z_walk;
        self.fundamental = self.config.target_price * shocks.demand * self.walk.exp() * self.config.supply / self.supply;
        let price = self.price();

        let mut sell_tokens = self.mint(bps(EMISSION_RATE), bps(STAKING_REWARD), price);
        sell_tokens += self.move_liquidity(shocks.lp_outflow, volatility);
        let staking_flow = self.restake(bps(STAKING_REWARD));
        let fee = bps(FEE);
        let buyback = self.buy_back_and_burn(bps(BURN_RATE), fee);

        let demand_base = self.config.daily_turnover * price * self.supply * shocks.volume;
        let volume = traders::gross_volume(demand_base, fee * 1e4, self.log_return(1).abs(), z_volume);
        let mispricing = (self.fundamental / price).ln();
        let whale_flow = whales::flow(mispricing, self.pool.quote);
        let demand = traders::net_flow(demand_base, shocks.noise, z_flow, self.log_return(5), mispricing, self.pool.quote);
        let net = demand + whale_flow + staking_flow - sell_tokens * price;
        let cap = traders::MAX_NET_FLOW * self.pool.quote;
        // Flows beyond the cap are dropped pro rata, whales' share included.
        let scale = if net.abs() > cap { cap / net.abs() } else { 1.0 };
        let trade = if net >= 0.0 { self.pool.buy(net * scale, fee) } else { self.pool.sell(-net * scale / price, fee) };
        self.top10 = (self.top10 + whale_flow * scale / price).clamp(0.0, self.supply);

        let fees = fee * volume + trade.fee_value + buyback;
        self.collect_fees(fees);
        self.treasury = (self.treasury - self.config.yearly_spend * shocks.spend / EPOCHS_PER_YEAR).max(0.0);
        self.prices.push(self.price());
        self.volumes.push(volume + trade.quote.abs());
    }

    /// Mints emission and staking rewards; returns the tokens their recipients sell.
    fn mint(&mut self, emission_rate: f64, reward_rate: f64, price: f64) -> f64 {
        let emitted = emission_rate.max(0.0) / EPOCHS_PER_YEAR * self.supply;
        let rewarded = reward_rate.max(0.0) / EPOCHS_PER_YEAR * self.staked;
        let whale_staked = (whales::STAKED_SHARE * self.top10).min(self.staked);
        let whale_rewards = reward_rate.max(0.0) / EPOCHS_PER_YEAR * whale_staked;
        let reward_sells = stakers::REWARD_SELL_SHARE * (rewarded - whale_rewards);
        self.supply += emitted + rewarded;
        self.staked += rewarded - reward_sells;
        // The top-10 compound their rewards; emission goes to the broad base.
        self.top10 += whale_rewards;
        self.lp_income += LP_INCOME_SMOOTHING * (lps::INCENTIVE_SHARE * emitted * price - self.lp_income);
        self.flows = SupplyFlows { emitted, rewarded, burned: 0.0 };
        agents::EMISSION_SELL_SHARE * emitted + reward_sells
    }

    /// LPs adjust the pool; returns the withdrawn tokens they sell.
    fn move_liquidity(&mut self, forced_outflow: f64, volatility: f64) -> f64 {
        let annual_yield = self.lp_income * EPOCHS_PER_YEAR / self.pool.value();
        let change = lps::liquidity_change(annual_yield, volatility, self.config.lp_required_yield) - forced_outflow;
        if change >= 0.0 {
            self.pool.deposit(change * self.pool.value());
            return 0.0;
        }
        let floor = lps::PROTOCOL_OWNED_SHARE * self.supply;
        let fraction = (-change).min(((self.pool.tokens - floor) / self.pool.tokens).max(0.0));
        let (tokens, _quote) = self.pool.withdraw(fraction);
        lps::WITHDRAW_SELL_SHARE * tokens
    }

    /// Stakers move toward their target share; returns their net market flow in quote.
    fn restake(&mut self, reward_rate: f64) -> f64 {
        let target = stakers::target_share(reward_rate, self.config.staking_alternative_yield, self.log_return(30));
        let change = stakers::ADJUSTMENT_SPEED * (target * self.supply - self.staked);
        self.staked = (self.staked + change).clamp(0.0, self.supply);
        let share = if change >= 0.0 { stakers::STAKE_BUY_SHARE } else { stakers::UNSTAKE_SELL_SHARE };
        share * change * self.price()
    }

    /// Buys back and burns `rate/365 · S` tokens; returns the swap fee paid.
    fn buy_back_and_burn(&mut self, burn_rate: f64, fee: f64) -> f64 {
        let wanted = burn_rate.max(0.0) / EPOCHS_PER_YEAR * self.supply * self.price();
        let budget = wanted.min(agents::MAX_BUYBACK_SHARE * self.treasury);
        if budget <= 0.0 {
            return 0.0;
        }
        let trade = self.pool.buy(budget, fee);
        self.treasury -= budget;
        self.supply -= trade.tokens;
        self.flows.burned = trade.tokens;
        trade.fee_value
    }

    /// Splits swap fees between the treasury and the LPs (reinvested in the pool).
    fn collect_fees(&mut self, fees: f64) {
        let protocol = self.config.protocol_fee_share * fees;
        self.treasury += protocol;
        self.pool.deposit(fees - protocol);
        self.lp_income += LP_INCOME_SMOOTHING * (fees - protocol);
    }
}
