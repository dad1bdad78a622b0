//! Attackers in the live loop (`zkpolicy live --attackers LIST`): agents that run the
//! economic attacks of issue 27 with real signed transactions, each through its own
//! `AtomicBundle` (a list of calls in one transaction, all or nothing) where the attack
//! must be atomic, and whose profit and loss the report gives.
//!
//! | attack | when | what it does |
//! |---|---|---|
//! | `pump-snapshot` | first in the epoch | buys a tenth of the pool's quote, takes the snapshot, sells back: one transaction |
//! | `empty-holders` | first in the epoch | proposes ten addresses that hold nothing, then submits them the next block |
//! | `tick-sandwich` | instead of the tick | buys, ticks, sells in one transaction, at the pump size `simulate` prices best |
//! | `jit-stake` | instead of the tick | buys tokens, stakes them, ticks, unstakes, claims and sells, in one transaction |
//! | `stale-decision` | first in the epoch | executes the last epoch's decision |
//! | `wash-trading` | after the agents | buys and sells back a twentieth of the pool's quote, one transaction |
//!
//! `tick-sandwich` and `jit-stake` both need the tick: with both on, they take turns.
//!
//! Profit and loss is counted on the attacker's own balances around each of its
//! transactions: quote, plus tokens at the pool's price after the transaction, minus gas at
//! [`GAS_PRICE_GWEI`] gwei and [`ETH_IN_QUOTE`] quote an ether (stated assumptions: the
//! development node's base fee decays to a few wei, its ether has no price, and the
//! economy's quote is a stablecoin's stand-in; a higher gas price only deepens every loss).
//! A KPI attack also reports how far it moved its KPI: the snapshot it took against what an
//! honest snapshot answered (`eth_call`) in the block before.

use std::collections::BTreeMap;

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolConstructor, SolError, SolInterface};
use serde::Serialize;
use zkpolicy_contracts::controller::PolicyController;
use zkpolicy_contracts::economy::{
    AtomicBundle, ConstantProductPair, EconomyKpiSource, StakingVault, TokenEconomy, ZkpToken, ATOMIC_BUNDLE_ARTIFACT,
};
use zkpolicy_contracts::revert_reason;

use super::market::{wei, whole, Contracts};
use super::population::{GasBook, Mined, Population};
use super::LiveError;
use zkpolicy_chain::{self as chain, read, Client, Deployment};

/// The price of an ether in quote at which the report counts the attackers' gas.
pub const ETH_IN_QUOTE: f64 = 3_000.0;
/// The gas price at which the report counts the attackers' gas.
pub const GAS_PRICE_GWEI: f64 = 1.0;
/// Quote each attacker's bundle is funded with, as a multiple of the pool's quote reserve.
const QUOTE_FUNDING: f64 = 1.0;
/// The gas limit of an attacker's transaction (a bundle with a tick and two swaps uses ~450k).
const GAS_LIMIT: u64 = 2_000_000;

/// One economic attack an agent can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attack {
    /// First in the epoch: buys a tenth of the pool's quote, takes the snapshot and sells
    /// back, in one transaction, to move the price KPIs the snapshot averages.
    PumpSnapshot,
    /// First in the epoch: proposes ten addresses that hold nothing and submits them the
    /// next block, to lower the next snapshot's holder_concentration.
    EmptyHolders,
    /// Instead of the tick: buys, ticks and sells in one transaction, to sell dearer to
    /// the treasury's buyback.
    TickSandwich,
    /// Instead of the tick: buys tokens, stakes them, ticks, unstakes, claims and sells in
    /// one transaction, to take the epoch's staking reward without staying staked.
    JitStake,
    /// First in the epoch: executes the last epoch's decision (`executeAdjustment`), made
    /// for a state that has since moved.
    StaleDecision,
    /// After the agents: buys and sells back a twentieth of the pool's quote in one
    /// transaction, to inflate volume_trend.
    WashTrading,
}

impl Attack {
    /// Every attack, in the order `--attackers all` runs them and the report lists them.
    pub const ALL: [Attack; 6] =
        [Self::PumpSnapshot, Self::EmptyHolders, Self::TickSandwich, Self::JitStake, Self::StaleDecision, Self::WashTrading];

    /// The attack's name in `--attackers` and in the report (kebab-case).
    pub fn name(self) -> &'static str {
        match self {
            Self::PumpSnapshot => "pump-snapshot",
            Self::EmptyHolders => "empty-holders",
            Self::TickSandwich => "tick-sandwich",
            Self::JitStake => "jit-stake",
            Self::StaleDecision => "stale-decision",
            Self::WashTrading => "wash-trading",
        }
    }

    /// What the attack tries to move.
    pub fn target(self) -> &'static str {
        match self {
            Self::PumpSnapshot => "price_vs_target, liquidity_depth, volatility_30d (the snapshot)",
            Self::EmptyHolders => "holder_concentration (the next snapshot's holder set)",
            Self::TickSandwich => "the treasury's buyback price",
            Self::JitStake => "the epoch's staking reward",
            Self::StaleDecision => "the parameters (an old decision)",
            Self::WashTrading => "volume_trend",
        }
    }

    /// `all`, or a comma-separated list of attack names.
    pub fn parse_list(text: &str) -> Result<Vec<Attack>, LiveError> {
        if text.trim() == "all" {
            return Ok(Self::ALL.to_vec());
        }
        let mut out = Vec::new();
        for name in text.split(',').map(str::trim) {
            let attack = Self::ALL.into_iter().find(|a| a.name() == name).ok_or_else(|| {
                LiveError::Config(format!("--attackers: {name:?} is not one of all, {}", Self::ALL.map(Self::name).join(", ")))
            })?;
            if !out.contains(&attack) {
                out.push(attack);
            }
        }
        Ok(out)
    }
}

/// One attacker's ledger, as the report gives it.
#[derive(Clone, Debug, Serialize)]
pub struct AttackerReport {
    /// The attack it ran.
    pub attack: Attack,
    /// What the attack tries to move ([`Attack::target`]).
    pub target: &'static str,
    /// The attacker's account (EIP-55), which signs and pays the gas.
    pub account: String,
    /// Its `AtomicBundle` contract (EIP-55), which holds its funds and makes its calls.
    pub bundle: String,
    /// Transactions sent.
    pub transactions: u64,
    /// How many of them the chain refused, by the reason it gave.
    pub refused: BTreeMap<String, u64>,
    /// Quote gained (tokens valued at the pool's price after each transaction), before gas.
    pub pnl_before_gas: f64,
    /// Gas used by all its transactions (units).
    pub gas: u64,
    /// The gas paid, in quote at `ETH_IN_QUOTE`.
    pub gas_in_quote: f64,
    /// `pnl_before_gas − gas_in_quote`: must not be positive.
    pub pnl: f64,
    /// For a snapshot attack: the largest move of any KPI against the honest snapshot of the
    /// block before, in quanta, over the run (`None`: the attack targets no snapshot).
    pub kpi_moved_quanta: Option<i64>,
}

struct Attacker {
    attack: Attack,
    /// Its index in the population, and its address.
    account: usize,
    address: Address,
    bundle: Address,
    report: AttackerReport,
}

/// The run's attackers.
pub struct Attackers {
    list: Vec<Attacker>,
    /// Which of the tick attackers has the next tick.
    tick_turn: usize,
}

/// What the loop needs to let attackers act.
pub struct Scene<'a> {
    /// The node.
    pub client: &'a Client,
    /// The run's deployment record.
    pub deployment: &'a Deployment,
    /// The economy's and the controller's addresses.
    pub contracts: &'a Contracts,
    /// The chain's current epoch.
    pub epoch: u64,
}

fn step(target: Address, data: Vec<u8>) -> AtomicBundle::Step {
    AtomicBundle::Step::call(target, data)
}

impl Attackers {
    /// Creates an account and a funded bundle for each attack (keys from `seed`, apart from
    /// the agents'), approved to trade on the pair and stake in the vault.
    pub fn deploy(client: &Client, p: &mut Population, c: &Contracts, attacks: &[Attack], seed: u64) -> Result<Self, LiveError> {
        let mut list = Vec::new();
        let mut book = GasBook::default();
        let code = bundle_code()?;
        let pool_quote = read(client, "reserve read", c.pair, ConstantProductPair::reserveQuoteCall {})?;
        for (j, &attack) in attacks.iter().enumerate() {
            let account = p.add(client, attacker_key(seed, j))?;
            let address = p.address(account);
            let ether = U256::from(10u64).pow(U256::from(19u64));
            ensure(p.send(client, 0, address, Vec::new(), ether, &mut book)?, "gas money")?;
            let init = [code.clone(), AtomicBundle::constructorCall { owner_: address }.abi_encode()].concat();
            let bundle = p.deploy(client, account, init, &mut book)?;
            p.name(bundle, attack.name());
            let quote = wei(whole(pool_quote) * QUOTE_FUNDING);
            let mint = zkpolicy_contracts::economy::QuoteToken::mintCall { to: bundle, amount: quote };
            ensure(p.send(client, 0, c.quote, mint.abi_encode(), U256::ZERO, &mut book)?, "its quote")?;
            let approve = |spender| ZkpToken::approveCall { spender, value: U256::MAX }.abi_encode();
            let steps = vec![step(c.quote, approve(c.pair)), step(c.token, approve(c.pair)), step(c.token, approve(c.vault))];
            ensure(p.send_limited(client, account, bundle, run(steps), GAS_LIMIT, &mut book)?, "its approvals")?;
            list.push(Attacker {
                attack,
                account,
                address,
                bundle,
                report: AttackerReport {
                    attack,
                    target: attack.target(),
                    account: address.to_checksum(None),
                    bundle: bundle.to_checksum(None),
                    transactions: 0,
                    refused: BTreeMap::new(),
                    pnl_before_gas: 0.0,
                    gas: 0,
                    gas_in_quote: 0.0,
                    pnl: 0.0,
                    kpi_moved_quanta: attack_moves_snapshot(attack).then_some(0),
                },
            });
        }
        Ok(Self { list, tick_turn: 0 })
    }

    /// No attack is on (`--attackers` not given).
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Each attacker's ledger so far, in the order the attacks were given.
    pub fn reports(&self) -> Vec<AttackerReport> {
        self.list.iter().map(|a| a.report.clone()).collect()
    }

    /// The attacks made first in an epoch, before the keeper's round.
    pub fn at_epoch_start(&mut self, s: &Scene<'_>, p: &mut Population) -> Result<(), LiveError> {
        for a in &mut self.list {
            match a.attack {
                Attack::PumpSnapshot => a.pump_snapshot(s, p)?,
                Attack::EmptyHolders => a.empty_holders(s, p)?,
                Attack::StaleDecision => {
                    let call = PolicyController::executeAdjustmentCall { epoch: s.epoch.saturating_sub(1) };
                    a.send(s, p, s.deployment.controller, call.abi_encode())?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The tick, made by an attacker whose attack surrounds it, if one is on: the receipt of
    /// the transaction that ticked (refused or not), for the loop to read the buyback from.
    pub fn tick(&mut self, s: &Scene<'_>, p: &mut Population) -> Result<Option<Mined>, LiveError> {
        let tickers: Vec<usize> =
            (0..self.list.len()).filter(|&i| matches!(self.list[i].attack, Attack::TickSandwich | Attack::JitStake)).collect();
        let Some(&i) = tickers.get(self.tick_turn % tickers.len().max(1)) else {
            return Ok(None);
        };
        self.tick_turn += 1;
        let a = &mut self.list[i];
        let steps = match a.attack {
            Attack::TickSandwich => a.best_sandwich(s)?,
            _ => a.jit_stake(s)?,
        };
        Ok(Some(a.send(s, p, a.bundle, run(steps))?))
    }

    /// The attacks made after the agents acted.
    pub fn after_agents(&mut self, s: &Scene<'_>, p: &mut Population) -> Result<(), LiveError> {
        for a in &mut self.list {
            if a.attack == Attack::WashTrading {
                let pool = read(s.client, "reserve read", s.contracts.pair, ConstantProductPair::reserveQuoteCall {})?;
                let steps = vec![buy(s.contracts, a.bundle, pool / U256::from(20u64)), sell_all(s.contracts, a.bundle)];
                a.send(s, p, a.bundle, run(steps))?;
            }
        }
        Ok(())
    }
}

impl Attacker {
    /// Sends one of this attacker's transactions and books its gas and its profit or loss.
    fn send(&mut self, s: &Scene<'_>, p: &mut Population, to: Address, input: Vec<u8>) -> Result<Mined, LiveError> {
        // The reason the chain will give, if it refuses: an attacker sends anyway, and pays.
        let refusal = s.client.estimate_gas(self.address, to, input.clone())?.err();
        let before = self.worth(s)?;
        let mut book = GasBook::default();
        let mined = p.send_limited(s.client, self.account, to, input, GAS_LIMIT, &mut book)?;
        let gained = self.worth(s)? - before;
        let r = &mut self.report;
        r.transactions += 1;
        r.gas += mined.gas;
        r.gas_in_quote += mined.gas as f64 * GAS_PRICE_GWEI * 1e-9 * ETH_IN_QUOTE;
        r.pnl_before_gas += gained;
        r.pnl = r.pnl_before_gas - r.gas_in_quote;
        if !mined.success {
            let reason = refusal.map_or_else(|| "reverted".to_string(), |data| reason_of(&data));
            *r.refused.entry(reason).or_default() += 1;
        }
        Ok(mined)
    }

    /// The attacker's account and bundle, valued: quote, plus tokens (held and staked) at the
    /// pool's price now.
    fn worth(&self, s: &Scene<'_>) -> Result<f64, LiveError> {
        let c = s.contracts;
        let price = whole(read(s.client, "price read", c.pair, ConstantProductPair::priceCall {})?);
        let mut total = 0.0;
        for who in [self.bundle, self.address] {
            let quote = read(s.client, "balance read", c.quote, ZkpToken::balanceOfCall { account: who })?;
            let tokens = read(s.client, "balance read", c.token, ZkpToken::balanceOfCall { account: who })?;
            let staked = read(s.client, "stake read", c.vault, StakingVault::stakeOfCall(who))?;
            total += whole(quote) + whole(tokens + staked) * price;
        }
        Ok(total)
    }

    /// Pump, snapshot, dump, in one transaction, first in the epoch; the move is measured
    /// against the honest snapshot an `eth_call` answers in the block before.
    fn pump_snapshot(&mut self, s: &Scene<'_>, p: &mut Population) -> Result<(), LiveError> {
        let (input, _) = chain::economy::snapshot_call(s.client, s.deployment)?;
        let honest = s.client.call("honest snapshot", s.contracts.kpi_source, input.clone())?;
        let honest = EconomyKpiSource::takeSnapshotCall::abi_decode_returns(&honest)
            .map_err(|e| LiveError::Keeper(format!("the honest snapshot's answer: {e}")))?;
        let pool = read(s.client, "reserve read", s.contracts.pair, ConstantProductPair::reserveQuoteCall {})?;
        let steps = vec![
            buy(s.contracts, self.bundle, pool / U256::from(10u64)),
            step(s.contracts.kpi_source, input),
            sell_all(s.contracts, self.bundle),
        ];
        let mined = self.send(s, p, self.bundle, run(steps))?;
        if mined.success {
            let (taken, _) = read(s.client, "snapshot read", s.contracts.kpi_source, EconomyKpiSource::snapshotCall { epoch: s.epoch })
                .map(|r| (r.kpis, r.postedAt))?;
            let moved = taken.iter().zip(&honest).map(|(a, b)| (*a - *b).unsigned_abs().saturating_to::<i64>()).max().unwrap_or(0);
            let worst = self.report.kpi_moved_quanta.get_or_insert(0);
            *worst = (*worst).max(moved);
        }
        Ok(())
    }

    /// Ten addresses that hold nothing, proposed and then submitted a block later.
    fn empty_holders(&mut self, s: &Scene<'_>, p: &mut Population) -> Result<(), LiveError> {
        let nobody: Vec<Address> = (1..=10u8).map(|i| Address::repeat_byte(0xd0 + i)).collect();
        let source = s.contracts.kpi_source;
        let (standing, _) = chain::economy::standing_holders(s.client, s.deployment, s.epoch)?;
        self.send(s, p, source, EconomyKpiSource::proposeHoldersCall { holders: nobody.clone() }.abi_encode())?;
        let submit = EconomyKpiSource::submitHoldersCall { holders: nobody, incumbent: standing };
        self.send(s, p, source, submit.abi_encode())?;
        Ok(())
    }

    /// The sandwich `simulate` prices best among a few pump sizes (the smallest if none gains).
    fn best_sandwich(&self, s: &Scene<'_>) -> Result<Vec<AtomicBundle::Step>, LiveError> {
        let pool = read(s.client, "reserve read", s.contracts.pair, ConstantProductPair::reserveQuoteCall {})?;
        let price = read(s.client, "price read", s.contracts.pair, ConstantProductPair::priceCall {})?;
        let mut best: Option<(f64, Vec<AtomicBundle::Step>)> = None;
        // The smallest first: it is the one sent when no size simulates at all.
        for per_mille in [1u64, 5, 10, 20, 50] {
            let pump = pool * U256::from(per_mille) / U256::from(1_000u64);
            let steps = vec![
                buy(s.contracts, self.bundle, pump),
                step(s.contracts.economy, TokenEconomy::tickCall {}.abi_encode()),
                sell_all(s.contracts, self.bundle),
            ];
            let gain = self.simulate(s, &steps, price)?;
            if best.as_ref().is_none_or(|(g, _)| gain > *g) {
                best = Some((gain, steps));
            }
        }
        Ok(best.map(|(_, steps)| steps).unwrap_or_default())
    }

    /// Buys a fiftieth of the pool's quote in tokens, stakes them, ticks, unstakes, claims and
    /// sells everything, in one transaction.
    fn jit_stake(&self, s: &Scene<'_>) -> Result<Vec<AtomicBundle::Step>, LiveError> {
        let c = s.contracts;
        let pool = read(s.client, "reserve read", c.pair, ConstantProductPair::reserveQuoteCall {})?;
        let held = ZkpToken::balanceOfCall { account: self.bundle }.abi_encode();
        let staked = StakingVault::stakeOfCall(self.bundle).abi_encode();
        Ok(vec![
            buy(c, self.bundle, pool / U256::from(50u64)),
            step(c.vault, StakingVault::stakeCall { amount: U256::ZERO }.abi_encode()).filled(c.token, held, 0),
            step(c.economy, TokenEconomy::tickCall {}.abi_encode()),
            step(c.vault, StakingVault::unstakeCall { amount: U256::ZERO }.abi_encode()).filled(c.vault, staked, 0),
            step(c.vault, StakingVault::claimCall {}.abi_encode()),
            sell_all(c, self.bundle),
        ])
    }

    /// What `steps` would gain (quote, tokens at `price`), from the bundle's `simulate`; a
    /// bundle that would revert gains nothing.
    fn simulate(&self, s: &Scene<'_>, steps: &[AtomicBundle::Step], price: U256) -> Result<f64, LiveError> {
        let assets = vec![s.contracts.quote, s.contracts.token];
        let input = AtomicBundle::simulateCall { steps: steps.to_vec(), assets }.abi_encode();
        let Err(data) = s.client.estimate_gas(self.address, self.bundle, input)? else {
            return Ok(f64::NEG_INFINITY);
        };
        Ok(match AtomicBundle::Simulated::abi_decode(&data) {
            Ok(sim) if sim.moved.len() == 2 => signed(sim.moved[0]) + signed(sim.moved[1]) * whole(price),
            _ => f64::NEG_INFINITY,
        })
    }
}

fn attack_moves_snapshot(attack: Attack) -> bool {
    attack == Attack::PumpSnapshot
}

/// An `int256` of wei as whole units.
fn signed(v: alloy::primitives::I256) -> f64 {
    let magnitude = whole(v.unsigned_abs());
    if v.is_negative() {
        -magnitude
    } else {
        magnitude
    }
}

fn run(steps: Vec<AtomicBundle::Step>) -> Vec<u8> {
    AtomicBundle::runCall { steps, assets: Vec::new() }.abi_encode()
}

fn buy(c: &Contracts, bundle: Address, quote: U256) -> AtomicBundle::Step {
    step(c.pair, ConstantProductPair::swapCall { tokenIn: false, amountIn: quote, minOut: U256::ZERO, to: bundle }.abi_encode())
}

/// A swap of every token the bundle holds when the step runs.
fn sell_all(c: &Contracts, bundle: Address) -> AtomicBundle::Step {
    let call = ConstantProductPair::swapCall { tokenIn: true, amountIn: U256::ZERO, minOut: U256::ZERO, to: bundle };
    step(c.pair, call.abi_encode()).filled(c.token, ZkpToken::balanceOfCall { account: bundle }.abi_encode(), 1)
}

/// The name of the error a refused transaction gave: the step's own reason inside a bundle.
fn reason_of(data: &[u8]) -> String {
    let text = match AtomicBundle::AtomicBundleErrors::abi_decode(data) {
        Ok(AtomicBundle::AtomicBundleErrors::StepFailed(failed)) => revert_reason(&failed.reason),
        _ => revert_reason(data),
    };
    text.split([':', ' ', '(']).next().unwrap_or_default().to_string()
}

fn ensure(mined: Mined, what: &str) -> Result<(), LiveError> {
    if mined.success {
        Ok(())
    } else {
        Err(LiveError::Chain(chain::ChainError::Rejected { reason: format!("attacker setup: {what} reverted ({})", mined.hash) }))
    }
}

/// Attacker `j`'s key, apart from every agent's.
fn attacker_key(seed: u64, j: usize) -> PrivateKeySigner {
    super::population::agent_key(seed ^ 0xa77a_c4e5, 1_000_000 + j)
}

fn bundle_code() -> Result<Vec<u8>, LiveError> {
    let artifact: serde_json::Value =
        serde_json::from_str(ATOMIC_BUNDLE_ARTIFACT).map_err(|e| LiveError::Config(format!("the shipped AtomicBundle artifact: {e}")))?;
    let hex = artifact["bytecode"].as_str().unwrap_or_default().trim_start_matches("0x");
    hex::decode(hex).map_err(|e| LiveError::Config(format!("the shipped AtomicBundle bytecode: {e}")))
}

/// The checks an attacked run must pass: no attacker profits, and no snapshot attack moves a
/// KPI by more than one quantum.
pub fn failures(reports: &[AttackerReport]) -> Vec<String> {
    let mut out = Vec::new();
    for r in reports {
        if r.pnl > 0.0 {
            out.push(format!("the {} attacker gained {:.2} quote (gas included)", r.attack.name(), r.pnl));
        }
        if r.kpi_moved_quanta.is_some_and(|q| q > 1) {
            out.push(format!("the {} attacker moved a KPI by {} quanta", r.attack.name(), r.kpi_moved_quanta.unwrap_or(0)));
        }
    }
    out
}

/// The report's section on the attackers.
pub fn markdown(reports: &[AttackerReport]) -> String {
    let mut md = format!(
        "## Attackers\n\nEach attacker is its own account and `AtomicBundle`, funded with the pool's quote reserve; \
         profit and loss counts its quote and tokens (at the pool's price) around each of its transactions, gas at \
         {GAS_PRICE_GWEI} gwei and {ETH_IN_QUOTE:.0} quote an ether. A KPI move is against the honest snapshot of the \
         block before.\n\n\
         | attacker | tries to move | transactions | refused | P&L before gas | gas | P&L | KPI moved |\n\
         |---|---|---:|---|---:|---:|---:|---:|\n"
    );
    for r in reports {
        let refused = if r.refused.is_empty() {
            "none".to_string()
        } else {
            r.refused.iter().map(|(why, n)| format!("{n} `{why}`")).collect::<Vec<_>>().join(", ")
        };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {:.2} | {:.2} ({} gas) | {:.2} | {} |\n",
            r.attack.name(),
            r.target,
            r.transactions,
            refused,
            r.pnl_before_gas,
            r.gas_in_quote,
            r.gas,
            r.pnl,
            r.kpi_moved_quanta.map_or("–".to_string(), |q| format!("{q} quanta")),
        ));
    }
    md.push('\n');
    md
}
