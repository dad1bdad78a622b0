//! The permissionless calls of an epoch after the keeper's decision: the economy's tick,
//! the agents' transactions (claims, liquidity, stakes, round trips, then every directional
//! flow as its own swap), and the watcher's holder set for the next snapshot.

use alloy::primitives::{Address, U256};
use alloy::sol_types::{SolCall, SolEvent};
use zkpolicy_contracts::economy::{ConstantProductPair, EconomyKpiSource, StakingVault, TokenEconomy, ZkpToken};
use zkpolicy_lab::sim::agents::lps;
use zkpolicy_lab::sim::Shocks;

use super::{Live, LiveEpoch, Session};
use crate::attackers::Scene;
use crate::market::{self, wei, whole, Contracts, Memory, Plan, State};
use crate::population::{GasBook, Population, Role};
use crate::LiveError;
use zkpolicy_chain::{self as chain, read, Client, Deployment};

/// Accounts and the whole tokens each sells into the pool this epoch.
type Sales = Vec<(usize, f64)>;

impl Live<'_> {
    /// The economy's tick of a live epoch: an attacker's, if one surrounds it, else the
    /// deployer's. Records the parameters the economy ticked on in `record`, checks them
    /// against the controller's, and returns the quote the buyback spent.
    pub(super) fn checked_tick(&self, s: &mut Session, epoch: u64, record: &mut LiveEpoch, book: &mut GasBook) -> Result<f64, LiveError> {
        let client = self.client;
        let c = &s.contracts;
        let scene = Scene { client, deployment: &s.deployment, contracts: c, epoch };
        let buyback = match s.attackers.tick(&scene, &mut s.population)? {
            // An attacker's transaction surrounded the tick: its buyback is in that receipt.
            Some(mined) if mined.success => ticked_spent(client, c, mined.hash)?,
            _ => self.tick(&mut s.population, c, book)?,
        };
        record.economy_params = read(client, "economy parameters read", c.economy, TokenEconomy::parametersCall {})?
            .iter()
            .map(|v| v.saturating_to::<i64>())
            .collect();
        if record.economy_params != record.guarded {
            s.run.failures.push(format!(
                "epoch {epoch}: the economy ticked on {:?}, not the controller's {:?}",
                record.economy_params, record.guarded
            ));
        }
        Ok(buyback)
    }

    /// Runs the economy's epoch; returns the quote its buyback spent.
    pub(super) fn tick(&self, p: &mut Population, c: &Contracts, book: &mut GasBook) -> Result<f64, LiveError> {
        let treasury = |client| read(client, "treasury read", c.quote, ZkpToken::balanceOfCall { account: c.economy });
        let before = treasury(self.client)?;
        let mined = p.send(self.client, 0, c.economy, TokenEconomy::tickCall {}.abi_encode(), U256::ZERO, book)?;
        if !mined.success {
            return Err(LiveError::Chain(chain::ChainError::Rejected { reason: format!("the economy's tick {} reverted", mined.hash) }));
        }
        Ok(whole(before.saturating_sub(treasury(self.client)?)))
    }

    /// The agents' transactions of one epoch, after the tick (whose buyback spent `buyback` quote).
    pub(super) fn act(
        &self,
        p: &mut Population,
        c: &Contracts,
        memory: &mut Memory,
        shocks: &Shocks,
        buyback: f64,
        book: &mut GasBook,
    ) -> Result<Plan, LiveError> {
        let client = self.client;
        let state = State::read(client, c)?;
        let (emitted, _, _) = read(client, "flows read", c.economy, TokenEconomy::lastFlowsCall {})
            .map(|f| (whole(f.emitted), whole(f.rewarded), whole(f.burned)))?;
        let mut plan = market::plan(memory, &state, shocks, emitted);
        // The quote value of every swap's input (the buyback's included): the pair keeps
        // its fee on it, and the LPs' share of that fee is their income.
        let mut traded = buyback;
        let reward_sales = self.claim(p, c, &plan, book)?;
        let lp_sales = self.move_liquidity(p, c, &plan, &state, book)?;
        self.move_stakes(p, c, &plan, book)?;
        self.round_trips(p, c, &plan, state.price, &mut traded, book)?;
        // Directional flows, scaled together so their net stays within the cap.
        let sells: f64 =
            plan.emission_sells + reward_sales.iter().map(|(_, s)| s).sum::<f64>() + lp_sales.iter().map(|(_, s)| s).sum::<f64>();
        plan.cap(sells, state.price, state.pool_quote);
        let flows = directional_flows(p, &plan, state.price, &reward_sales, &lp_sales);
        self.send_flows(p, c, flows, state.price, &mut traded, book)?;

        let close = read(client, "price read", c.pair, ConstantProductPair::priceCall {})?;
        memory.closes.push(whole(close));
        let fee = state.parameters.get(3).copied().unwrap_or(0) as f64 / 1e4;
        memory.earn(traded * fee * (1.0 - memory.config.protocol_fee_share));
        Ok(plan)
    }

    /// Claims: whales restake everything; stakers restake what they keep and sell the rest.
    /// Returns every claimer's sale (whole tokens).
    fn claim(&self, p: &mut Population, c: &Contracts, plan: &Plan, book: &mut GasBook) -> Result<Sales, LiveError> {
        let client = self.client;
        let mut reward_sales = Vec::new();
        for i in p.with_role(Role::Whale).into_iter().chain(p.with_role(Role::Staker)) {
            let who = p.address(i);
            let earned = read(client, "reward read", c.vault, StakingVault::earnedCall { who })?;
            if earned.is_zero() {
                continue;
            }
            p.send(client, i, c.vault, StakingVault::claimCall {}.abi_encode(), U256::ZERO, book)?;
            let sold = if p.accounts[i].role == Some(Role::Staker) { whole(earned) * plan.reward_sell_share } else { 0.0 };
            let kept = earned.saturating_sub(wei(sold));
            if !kept.is_zero() {
                p.send(client, i, c.vault, StakingVault::stakeCall { amount: kept }.abi_encode(), U256::ZERO, book)?;
            }
            reward_sales.push((i, sold));
        }
        Ok(reward_sales)
    }

    /// Liquidity: deposits at the pool's price, or withdrawals of a share of every LP's
    /// position. Returns the LPs' sales of withdrawn tokens (whole tokens).
    fn move_liquidity(
        &self,
        p: &mut Population,
        c: &Contracts,
        plan: &Plan,
        state: &State,
        book: &mut GasBook,
    ) -> Result<Sales, LiveError> {
        let client = self.client;
        let z = U256::ZERO;
        let price = state.price;
        let mut lp_sales = Vec::new();
        let lps = p.with_role(Role::LiquidityProvider);
        if plan.liquidity_change > 0.0 {
            let value = plan.liquidity_change * 2.0 * state.pool_quote / lps.len() as f64;
            for &i in &lps {
                let call = ConstantProductPair::addLiquidityCall {
                    maxToken: wei(value / 2.0 / price),
                    maxQuote: wei(value / 2.0),
                    minShares: U256::from(1u64),
                };
                p.send(client, i, c.pair, call.abi_encode(), z, book)?;
            }
        } else if plan.withdraw_fraction > 0.0 {
            // The whole pool's fraction, taken from the LPs (the protocol's shares stay).
            let total = wei(plan.withdraw_fraction * state.lp_shares);
            let mut held = Vec::new();
            for &i in &lps {
                held.push(read(client, "LP share read", c.pair, ConstantProductPair::balanceOfCall { account: p.address(i) })?);
            }
            let all: U256 = held.iter().copied().fold(U256::ZERO, |a, b| a + b);
            for (&i, shares) in lps.iter().zip(held) {
                let mine = if all.is_zero() { U256::ZERO } else { (total * shares / all).min(shares) };
                if mine.is_zero() {
                    continue;
                }
                let before = read(client, "balance read", c.token, ZkpToken::balanceOfCall { account: p.address(i) })?;
                let call = ConstantProductPair::removeLiquidityCall { shares: mine, minToken: z, minQuote: z };
                p.send(client, i, c.pair, call.abi_encode(), z, book)?;
                let after = read(client, "balance read", c.token, ZkpToken::balanceOfCall { account: p.address(i) })?;
                lp_sales.push((i, whole(after.saturating_sub(before)) * lps::WITHDRAW_SELL_SHARE));
            }
        }
        Ok(lp_sales)
    }

    /// Stakers move toward their target share, each an equal part (as far as they can).
    fn move_stakes(&self, p: &mut Population, c: &Contracts, plan: &Plan, book: &mut GasBook) -> Result<(), LiveError> {
        let client = self.client;
        let stakers = p.with_role(Role::Staker);
        let part = plan.stake_change / stakers.len() as f64;
        for &i in &stakers {
            let who = p.address(i);
            let (call, have) = if part >= 0.0 {
                (true, read(client, "balance read", c.token, ZkpToken::balanceOfCall { account: who })?)
            } else {
                (false, read(client, "stake read", c.vault, StakingVault::stakeOfCall(who))?)
            };
            let amount = wei(part.abs()).min(have);
            if amount.is_zero() {
                continue;
            }
            let input =
                if call { StakingVault::stakeCall { amount }.abi_encode() } else { StakingVault::unstakeCall { amount }.abi_encode() };
            p.send(client, i, c.vault, input, U256::ZERO, book)?;
        }
        Ok(())
    }

    /// Round-trip volume: each trader buys its part, then sells what it bought. Adds the
    /// quote value of every swap's input to `traded`.
    fn round_trips(
        &self,
        p: &mut Population,
        c: &Contracts,
        plan: &Plan,
        price: f64,
        traded: &mut f64,
        book: &mut GasBook,
    ) -> Result<(), LiveError> {
        let client = self.client;
        let traders = p.with_role(Role::Trader);
        let leg = plan.round_trip / 2.0 / traders.len() as f64;
        for &i in &traders {
            let who = p.address(i);
            let before = read(client, "balance read", c.token, ZkpToken::balanceOfCall { account: who })?;
            let bought = swap(p, client, c, i, false, wei(leg), book)?;
            if bought > 0.0 {
                *traded += bought;
                let after = read(client, "balance read", c.token, ZkpToken::balanceOfCall { account: who })?;
                *traded += price * swap(p, client, c, i, true, after.saturating_sub(before), book)?;
            }
        }
        Ok(())
    }

    /// Sends every directional flow as its own swap (`flows`: account and quote, bought if
    /// positive, sold at `price` if negative). Adds the quote value of every swap's input
    /// to `traded`.
    fn send_flows(
        &self,
        p: &mut Population,
        c: &Contracts,
        flows: Vec<(usize, f64)>,
        price: f64,
        traded: &mut f64,
        book: &mut GasBook,
    ) -> Result<(), LiveError> {
        let client = self.client;
        for (i, quote) in flows {
            if quote > 0.0 {
                *traded += swap(p, client, c, i, false, wei(quote), book)?;
            } else if quote < 0.0 {
                let have = read(client, "balance read", c.token, ZkpToken::balanceOfCall { account: p.address(i) })?;
                *traded += price * swap(p, client, c, i, true, wei(-quote / price).min(have), book)?;
            }
        }
        Ok(())
    }

    /// A watcher's holder set for the next epoch's snapshot: the ten accounts holding the
    /// most (balance plus stake), proposed, then submitted in the next block against the
    /// set standing now. The ecosystem account receives the emission as the economy's
    /// `incentives` address, a protocol address the KPI source refuses as a holder, so it is
    /// never proposed (with few agents it is among the ten largest).
    pub(super) fn submit_holders(
        &self,
        p: &mut Population,
        c: &Contracts,
        deployment: &Deployment,
        book: &mut GasBook,
    ) -> Result<(), LiveError> {
        let client = self.client;
        let protocol = p.with_role(Role::Ecosystem);
        let mut held = Vec::with_capacity(p.accounts.len());
        for i in (0..p.accounts.len()).filter(|i| !protocol.contains(i)) {
            let who = p.address(i);
            let balance = read(client, "balance read", c.token, ZkpToken::balanceOfCall { account: who })?;
            let stake = read(client, "stake read", c.vault, StakingVault::stakeOfCall(who))?;
            held.push((balance + stake, who));
        }
        held.sort_by_key(|h| std::cmp::Reverse(h.0));
        let holders: Vec<Address> = held.iter().take(10).filter(|(h, _)| !h.is_zero()).map(|(_, a)| *a).collect();
        let rejected =
            |what: &str, hash| LiveError::Chain(chain::ChainError::Rejected { reason: format!("the holder set's {what} {hash} reverted") });
        let propose = EconomyKpiSource::proposeHoldersCall { holders: holders.clone() };
        let mined = p.send(client, 0, c.kpi_source, propose.abi_encode(), U256::ZERO, book)?;
        if !mined.success {
            // The proposal's checks do not depend on the sender: replaying it names the reason.
            return Err(match client.call("holder set proposal", c.kpi_source, propose.abi_encode()) {
                Err(chain::ChainError::Rejected { reason }) => LiveError::Chain(chain::ChainError::Rejected {
                    reason: format!("the holder set's proposal {} reverted: {reason}", mined.hash),
                }),
                _ => rejected("proposal", mined.hash),
            });
        }
        let epoch = chain::current_epoch(client, deployment)?;
        let (incumbent, _) = chain::economy::standing_holders(client, deployment, epoch)?;
        let call = EconomyKpiSource::submitHoldersCall { holders, incumbent };
        let mined = p.send(client, 0, c.kpi_source, call.abi_encode(), U256::ZERO, book)?;
        if !mined.success {
            return Err(rejected("submission", mined.hash));
        }
        Ok(())
    }
}

/// Every directional flow of the capped `plan`, as (account, quote): traders' demand,
/// whales', stakers' (positive: buys), and the sales of emission, rewards and withdrawn
/// liquidity (negative), each role's flow split equally among its accounts.
fn directional_flows(
    p: &Population,
    plan: &Plan,
    price: f64,
    reward_sales: &[(usize, f64)],
    lp_sales: &[(usize, f64)],
) -> Vec<(usize, f64)> {
    let k = plan.scale;
    let (traders, stakers) = (p.with_role(Role::Trader), p.with_role(Role::Staker));
    let mut flows: Vec<(usize, f64)> = Vec::new();
    flows.extend(traders.iter().map(|&i| (i, k * plan.demand / traders.len() as f64)));
    let whale_list = p.with_role(Role::Whale);
    flows.extend(whale_list.iter().map(|&i| (i, k * plan.whale_flow / whale_list.len() as f64)));
    flows.extend(stakers.iter().map(|&i| (i, k * plan.staking_flow / stakers.len() as f64)));
    let ecosystem = p.with_role(Role::Ecosystem);
    flows.extend(ecosystem.iter().map(|&i| (i, -k * plan.emission_sells * price / ecosystem.len() as f64)));
    flows.extend(reward_sales.iter().chain(lp_sales).map(|&(i, tokens)| (i, -k * tokens * price)));
    flows
}

/// One swap from account `i` (`token_in`: sells `amount` tokens; else spends `amount`
/// quote). Skips amounts too small to trade; returns the input (whole tokens or quote)
/// when it was mined successfully, else 0.
fn swap(
    p: &mut Population,
    client: &Client,
    c: &Contracts,
    i: usize,
    token_in: bool,
    amount: U256,
    book: &mut GasBook,
) -> Result<f64, LiveError> {
    // Below a millionth of a token the pool's integer arithmetic pays out nothing.
    if amount < U256::from(1_000_000_000_000u64) {
        return Ok(0.0);
    }
    let call = ConstantProductPair::swapCall { tokenIn: token_in, amountIn: amount, minOut: U256::ZERO, to: p.address(i) };
    Ok(if p.send(client, i, c.pair, call.abi_encode(), U256::ZERO, book)?.success { whole(amount) } else { 0.0 })
}

/// The quote the tick in transaction `hash` spent on its buyback (its `Ticked` event).
fn ticked_spent(client: &Client, c: &Contracts, hash: alloy::primitives::B256) -> Result<f64, LiveError> {
    let receipt = client.receipt(hash)?.ok_or_else(|| LiveError::Keeper(format!("no receipt for {hash}")))?;
    receipt
        .inner
        .logs()
        .iter()
        .filter(|l| l.address() == c.economy)
        .find_map(|l| TokenEconomy::Ticked::decode_log_data(l.data()).ok())
        .map(|t| whole(t.spent))
        .ok_or_else(|| LiveError::Keeper(format!("the transaction {hash} that ticked logged no Ticked")))
}
