//! The live loop: deploy, fund the agents, then epoch by epoch move the node's clock, let
//! the keeper snapshot, prove and submit, tick the economy, and let the agents act.
//!
//! Order of one chain epoch (the simulator's order: decide, then step):
//! 1. the clock moves to the epoch's start;
//! 2. the keeper takes the snapshot, proves the adjustment on it and the controller's
//!    parameters, and submits it (warm-up epochs: the driver takes the snapshot, and no
//!    decision is made);
//! 3. the economy ticks: it takes the guarded parameters, mints, rewards and burns;
//! 4. the agents act: stakers and whales claim; LPs add or withdraw; stakers stake or
//!    unstake; traders trade round trips, then every directional flow (traders' demand,
//!    whales', stakers', and the sales of emission, rewards and withdrawn liquidity) is
//!    sent as its own swap;
//! 5. the treasury pays its spending: the epoch's budget is released (`treasury.rs`);
//! 6. a watcher proposes and submits the ten largest holders, the set the next epoch's
//!    snapshot reads for holder_concentration.
//!
//! Deployment (in epoch 1) seeds the KPI source's averages, so epoch 2 is the first with a
//! snapshot; the watcher submits once after funding, for it.

use std::path::Path;
use std::time::Instant;

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolEvent};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::Serialize;
use zkpolicy_contracts::controller::{unpack_int64, PolicyController};
use zkpolicy_contracts::economy::{ConstantProductPair, EconomyKpiSource, QuoteToken, StakingVault, TokenEconomy, ZkpToken};
use zkpolicy_lab::sim::agents::{lps, whales};
use zkpolicy_lab::sim::{guard_at, Anchor, Scenario, Shocks, SimConfig};
use zkpolicy_model::{Model, ModelCard, Observation, QuantizedKpis};

use super::attackers::{Attack, AttackerReport, Attackers, Scene};
use super::market::{self, wei, whole, Contracts, Memory, Plan, State};
use super::population::{GasBook, Population, Role};
use super::LiveError;
use zkpolicy_chain::{self as chain, read, Client, DeployConfig, Deployment, TimingConfig, VerifierCode};
use zkpolicy_keeper::state::{Kind, Stage};
use zkpolicy_prover::artifact::ProofArtifact;
use zkpolicy_prover::keys::Prepared;

/// Seconds per epoch: a day, as in the simulator.
pub const EPOCH_SECONDS: u64 = zkpolicy_lab::sim::EPOCH_SECONDS;

/// What a live run is.
#[derive(Clone, Debug, Serialize)]
pub struct LiveOptions {
    pub scenario: Scenario,
    /// Epochs at the initial parameters before the keeper starts (the simulator's warm-up).
    pub warmup: usize,
    pub agents: usize,
    /// The economy's starting point and the rails, shared with the simulator.
    pub sim: SimConfig,
    /// The attackers that act in the live epochs (`--attackers`; empty: none).
    pub attackers: Vec<Attack>,
}

/// One keeper round, run by the caller (as a child process, so it can be killed).
pub trait KeeperRunner {
    /// Writes the keeper's config for `deployment` (a record file), with state in `state_dir`.
    fn start(&mut self, deployment: &Path, state_dir: &Path) -> Result<(), LiveError>;
    /// Runs one round for `epoch` until its transactions are confirmed; restarts a keeper
    /// that dies, and says how often it had to.
    fn round(&mut self, epoch: u64) -> Result<KeeperRound, LiveError>;
    /// The keeper's signing address (funded by the deployer).
    fn address(&self) -> Address;
}

/// What one keeper round reported.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KeeperRound {
    pub restarts: u32,
    pub snapshot_seconds: f64,
    pub prove_seconds: f64,
    pub submit_seconds: f64,
}

/// Wall time of one epoch, in seconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EpochSeconds {
    /// Holder set, tick and every agent transaction.
    pub agents: f64,
    pub snapshot: f64,
    pub prove: f64,
    pub submit: f64,
    /// Everything else: the keeper's start-up, reads, checks.
    pub other: f64,
}

/// One live epoch, as the chain recorded it.
#[derive(Clone, Debug, Serialize)]
pub struct LiveEpoch {
    /// Index after the warm-up (0: the keeper's first decision).
    pub index: usize,
    /// The chain's epoch.
    pub epoch: u64,
    /// The on-chain snapshot (quantized), and its real values.
    pub kpis: Vec<i64>,
    pub kpi_values: Vec<f64>,
    pub params_before: Vec<i64>,
    /// The proven outputs, and the integer reference on the same snapshot and parameters.
    pub outputs: Vec<i64>,
    pub reference: Vec<i64>,
    /// What the controller applied, and what the guard twin says it must.
    pub guarded: Vec<i64>,
    pub twin: Vec<i64>,
    pub guardrail_hit: bool,
    /// The economy's parameters after its tick.
    pub economy_params: Vec<i64>,
    pub decision_tx: String,
    pub decision_gas: u64,
    /// The controller accepted the proof (its verifier ran in the EVM), and halo2's native
    /// verifier accepts the keeper's proof artifact.
    pub verified_on_chain: bool,
    pub verified_native: bool,
    pub keeper_restarts: u32,
    /// The market after the agents acted.
    pub market: State,
    pub plan: Plan,
    pub transactions: u64,
    pub reverted: u64,
    pub seconds: EpochSeconds,
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct LiveRun {
    pub options: LiveOptions,
    pub model: String,
    pub model_commitment: String,
    pub deployment: Deployment,
    pub roles: Vec<(String, usize)>,
    pub setup_transactions: u64,
    pub setup_seconds: f64,
    /// The market at the end of each warm-up epoch.
    pub warmup: Vec<State>,
    pub epochs: Vec<LiveEpoch>,
    pub gas: GasBook,
    /// Every check that failed (a proven output that is not the reference, a parameter that
    /// is not the twin's, an unverifiable proof): must be empty.
    pub failures: Vec<String>,
    /// Each attacker's ledger (empty without `--attackers`).
    pub attackers: Vec<AttackerReport>,
}

/// The deployment config a live run deploys: autonomous, daily epochs, the simulator's
/// rails and economy, emission to the ecosystem account.
pub fn deploy_config(sim: &SimConfig, ecosystem: Address) -> Result<DeployConfig, LiveError> {
    let e = &sim.economy;
    e.validate()?;
    let whole_u64 = |v: f64, what: &str| -> Result<u64, LiveError> {
        if (1.0..1e18).contains(&v) {
            Ok(v.round() as u64)
        } else {
            Err(LiveError::Config(format!("economy.{what}: {v} does not make a whole number of tokens")))
        }
    };
    let supply = whole_u64(e.supply, "supply")?;
    let liquidity = whole_u64(e.pool_share * e.supply, "pool_share")?;
    Ok(DeployConfig {
        mode: "autonomous".into(),
        governance: None,
        guardian: None,
        reporter: None,
        governance_delay: EPOCH_SECONDS,
        timing: TimingConfig { epoch_length: EPOCH_SECONDS, genesis: None, max_snapshot_age: 3_600, adjustment_delay: 3_600 },
        parameters: sim.guardrails.clone(),
        kpi_source: "onchain".into(),
        economy: Some(chain::economy::EconomyConfig {
            supply,
            liquidity_tokens: liquidity,
            liquidity_quote: whole_u64(e.pool_share * e.supply * e.target_price, "target_price")?,
            treasury_quote: whole_u64(e.treasury_years * e.yearly_spend, "treasury_years")?,
            yearly_spend: whole_u64(e.yearly_spend, "yearly_spend")?,
            target_price_micro: whole_u64(e.target_price * 1e6, "target_price")?,
            // Validated to lie in [0, 1].
            protocol_fee_share_bps: (e.protocol_fee_share * 1e4).round() as u64,
            incentives: Some(ecosystem),
            snapshot_window: Some(3_600),
            budget_payee: None,
        }),
    })
}

/// Everything the loop needs.
pub struct Live<'a> {
    pub client: &'a Client,
    pub deployer: PrivateKeySigner,
    pub verifier: &'a VerifierCode,
    pub prepared: &'a Prepared,
    pub model: &'a Model,
    pub out_dir: &'a Path,
    /// Called after each epoch (progress).
    pub on_epoch: &'a dyn Fn(&str),
}

impl Live<'_> {
    fn card(&self) -> &ModelCard {
        self.prepared.circuit.as_ref()
    }

    pub fn run(&self, options: &LiveOptions, keeper: &mut dyn KeeperRunner) -> Result<LiveRun, LiveError> {
        let client = self.client;
        options.scenario.validate()?;
        let roles = super::population::roles(options.agents)?;
        let mut population = Population::new(client, self.deployer.clone(), &roles, options.scenario.seed)?;
        let ecosystem = population.address(population.with_role(Role::Ecosystem)[0]);
        let config = deploy_config(&options.sim, ecosystem)?;
        config.validate(self.card())?;
        let started = Instant::now();
        let deployment = chain::deploy(client, self.card(), self.verifier, &config)?;
        let record = self.out_dir.join("deployment.json");
        deployment.save(&record)?;
        // The deployment went through the client, from the deployer's account.
        population.resync(client, 0)?;
        let c = Contracts::of(&deployment)?;
        for (address, name) in [
            (c.token, "token"),
            (c.quote, "quote"),
            (c.pair, "pair"),
            (c.vault, "staking vault"),
            (c.economy, "economy"),
            (c.timelock, "timelock"),
            (c.kpi_source, "KPI source"),
            (c.controller, "controller"),
        ] {
            population.name(address, name);
        }
        let mut setup_gas = GasBook::default();
        self.fund(&mut population, &c, &options.sim, keeper.address(), &mut setup_gas)?;
        self.submit_holders(&mut population, &c, &deployment, &mut setup_gas)?;
        let genesis = read(client, "genesis read", c.economy, TokenEconomy::genesisCall {})?;
        let state_dir = self.out_dir.join("keeper");
        keeper.start(&record, &state_dir)?;
        let mut attackers = Attackers::deploy(client, &mut population, &c, &options.attackers, options.scenario.seed)?;
        let setup_seconds = started.elapsed().as_secs_f64();
        (self.on_epoch)(&format!("deployed and funded {} agents in {setup_seconds:.0} s", options.agents));
        let mut budget = super::treasury::Budget::read(client, &c)?;
        // The simulator's spending in step `j` (warm-up epochs spend at the baseline).
        let spending = |j: usize| {
            let shock = j.checked_sub(options.warmup).map_or(1.0, |t| options.scenario.shocks(t).spend);
            options.sim.economy.yearly_spend * shock / zkpolicy_lab::sim::agents::EPOCHS_PER_YEAR
        };

        let mut memory = Memory::new(&options.sim.economy, ChaCha20Rng::seed_from_u64(options.scenario.seed));
        let mut run = LiveRun {
            options: options.clone(),
            model: self.card().name().to_string(),
            model_commitment: self.card().commitment().to_string(),
            deployment: deployment.clone(),
            roles: [Role::Whale, Role::Ecosystem, Role::Staker, Role::LiquidityProvider, Role::Trader]
                .iter()
                .map(|r| (r.name().to_string(), roles.iter().filter(|x| *x == r).count()))
                .collect(),
            setup_transactions: setup_gas.transactions(),
            setup_seconds,
            warmup: Vec::new(),
            epochs: Vec::new(),
            gas: setup_gas,
            failures: Vec::new(),
            attackers: Vec::new(),
        };
        let mut twin = Twin { rails: options.sim.guardrails.clone(), anchors: vec![Anchor::default(); options.sim.guardrails.len()] };
        // Setup ran in epoch 1; the warm-up starts with epoch 2.
        for step in 0..options.warmup + options.scenario.epochs {
            let epoch = 2 + step as u64;
            let live = step.checked_sub(options.warmup);
            move_clock(client, genesis + (epoch - 1) * EPOCH_SECONDS)?;
            population.refresh_fees(client)?;
            let mut book = GasBook::default();
            let epoch_started = Instant::now();
            let mut agent_seconds = 0.0;
            let shocks = match live {
                Some(t) => options.scenario.shocks(t),
                None => Shocks::BASELINE,
            };
            let Some(index) = live else {
                let mined = population.send(client, 0, c.kpi_source, snapshot_input(client, &deployment)?, U256::ZERO, &mut book)?;
                if !mined.success {
                    return Err(LiveError::Chain(chain::ChainError::Rejected {
                        reason: format!("the warm-up snapshot of epoch {epoch} reverted ({})", mined.hash),
                    }));
                }
                let buyback = self.tick(&mut population, &c, &mut book)?;
                self.act(&mut population, &c, &mut memory, &shocks, buyback, &mut book)?;
                budget.step(client, &mut population, &c, step, &spending, &mut book)?;
                self.submit_holders(&mut population, &c, &deployment, &mut book)?;
                run.warmup.push(State::read(client, &c)?);
                run.gas.merge(&book);
                (self.on_epoch)(&format!("warm-up epoch {}/{}: {} transactions", step + 1, options.warmup, book.transactions()));
                continue;
            };
            let params_before = chain::parameters(client, &deployment)?;
            let scene = Scene { client, deployment: &deployment, contracts: &c, epoch };
            attackers.at_epoch_start(&scene, &mut population)?;
            let round = keeper.round(epoch)?;
            let keeper_seconds = round.snapshot_seconds + round.prove_seconds + round.submit_seconds;
            let mut decided = self.decision(&deployment, &state_dir, epoch, &params_before, &mut twin, &mut run.failures)?;
            book.add("KPI source", decided.snapshot_gas, true);
            book.add("controller", decided.record.decision_gas, decided.record.verified_on_chain);
            let agents_started = Instant::now();
            let buyback = match attackers.tick(&scene, &mut population)? {
                // An attacker's transaction surrounded the tick: its buyback is in that receipt.
                Some(mined) if mined.success => ticked_spent(client, &c, mined.hash)?,
                _ => self.tick(&mut population, &c, &mut book)?,
            };
            decided.record.economy_params = read(client, "economy parameters read", c.economy, TokenEconomy::parametersCall {})?
                .iter()
                .map(|v| v.saturating_to::<i64>())
                .collect();
            if decided.record.economy_params != decided.record.guarded {
                run.failures.push(format!(
                    "epoch {epoch}: the economy ticked on {:?}, not the controller's {:?}",
                    decided.record.economy_params, decided.record.guarded
                ));
            }
            let plan = self.act(&mut population, &c, &mut memory, &shocks, buyback, &mut book)?;
            budget.step(client, &mut population, &c, step, &spending, &mut book)?;
            self.submit_holders(&mut population, &c, &deployment, &mut book)?;
            attackers.after_agents(&scene, &mut population)?;
            agent_seconds += agents_started.elapsed().as_secs_f64();
            let mut record = decided.record;
            record.index = index;
            record.keeper_restarts = round.restarts;
            record.market = State::read(client, &c)?;
            record.plan = plan;
            record.transactions = book.transactions();
            record.reverted = book.reverted();
            let total = epoch_started.elapsed().as_secs_f64();
            record.seconds = EpochSeconds {
                agents: agent_seconds,
                snapshot: round.snapshot_seconds,
                prove: round.prove_seconds,
                submit: round.submit_seconds,
                other: (total - agent_seconds - keeper_seconds).max(0.0),
            };
            (self.on_epoch)(&format!(
                "epoch {}/{} (chain epoch {epoch}): outputs {:?} -> parameters {:?}, {} transactions, {:.1} s",
                index + 1,
                options.scenario.epochs,
                record.outputs,
                record.guarded,
                record.transactions,
                total
            ));
            run.gas.merge(&book);
            run.epochs.push(record);
        }
        run.attackers = attackers.reports();
        Ok(run)
    }

    /// Funds every agent with gas money, tokens and quote as the simulator's starting
    /// economy has them, approves the pair and the vault, and places the initial stakes.
    fn fund(&self, p: &mut Population, c: &Contracts, sim: &SimConfig, keeper: Address, book: &mut GasBook) -> Result<(), LiveError> {
        let client = self.client;
        let e = &sim.economy;
        let s0 = e.supply;
        let count = |role| p.with_role(role).len() as f64;
        let (whales, stakers, lps, traders) =
            (count(Role::Whale), count(Role::Staker), count(Role::LiquidityProvider), count(Role::Trader));
        let whale_stake = whales::STAKED_SHARE * e.top10_share * s0;
        let staker_stake = e.staked_share * s0 - whale_stake;
        // Liquid tokens: stakers a 15 % float, LPs 5 %, traders what is left.
        let (staker_liquid, lp_liquid) = (0.15 * s0, 0.05 * s0);
        let trader_tokens = s0 * (1.0 - e.pool_share - e.top10_share) - staker_stake - staker_liquid - lp_liquid;
        if staker_stake < 0.0 || trader_tokens <= 0.0 {
            return Err(LiveError::Config(format!(
                "the economy's shares do not fit its supply (pool {}, top-10 {}, staked {}): the traders would hold nothing",
                e.pool_share, e.top10_share, e.staked_share
            )));
        }
        let ether = U256::from(10u64).pow(U256::from(19u64));
        p.send(client, 0, keeper, Vec::new(), ether, book)?;
        // Every agent can buy with quote as far as any epoch's flows ask.
        let quote_each = wei(e.supply * e.target_price);
        // The deployer keeps the protocol-owned liquidity; the LPs get the rest of its shares.
        let deployer = p.address(0);
        let shares = read(client, "LP share read", c.pair, ConstantProductPair::balanceOfCall { who: deployer })?;
        let protocol = shares * U256::from((lps::PROTOCOL_OWNED_SHARE / e.pool_share * 1e6) as u64) / U256::from(1_000_000u64);
        let lp_shares = (shares - protocol) / U256::from(lps.max(1.0) as u64);
        for i in 1..p.accounts.len() {
            let who = p.address(i);
            let role = p.accounts[i].role;
            let mut setup = |p: &mut Population, from: usize, to: Address, input: Vec<u8>, value: U256, what: &str| {
                let mined = p.send(client, from, to, input, value, book)?;
                if mined.success {
                    Ok(())
                } else {
                    Err(LiveError::Chain(chain::ChainError::Rejected {
                        reason: format!("setup: {what} for agent {i} reverted ({})", mined.hash),
                    }))
                }
            };
            setup(p, 0, who, Vec::new(), ether, "gas money")?;
            let (tokens, stake) = match role {
                Some(Role::Whale) => (e.top10_share * s0 / whales, whale_stake / whales),
                Some(Role::Staker) => ((staker_stake + staker_liquid) / stakers, staker_stake / stakers),
                Some(Role::LiquidityProvider) => (lp_liquid / lps, 0.0),
                Some(Role::Trader) => (trader_tokens / traders, 0.0),
                _ => (0.0, 0.0),
            };
            if tokens > 0.0 {
                // The traders come last and share what is left, so float rounding never
                // asks the deployer for more than it holds.
                let left = read(client, "balance read", c.token, ZkpToken::balanceOfCall { who: deployer })?;
                let amount = wei(tokens).min(left);
                setup(p, 0, c.token, ZkpToken::transferCall { to: who, amount }.abi_encode(), U256::ZERO, "its tokens")?;
            }
            let approve = |spender| ZkpToken::approveCall { spender, amount: U256::MAX }.abi_encode();
            if role != Some(Role::Ecosystem) {
                setup(p, 0, c.quote, QuoteToken::mintCall { to: who, amount: quote_each }.abi_encode(), U256::ZERO, "its quote")?;
                setup(p, i, c.quote, approve(c.pair), U256::ZERO, "the pair's quote allowance")?;
            }
            setup(p, i, c.token, approve(c.pair), U256::ZERO, "the pair's token allowance")?;
            if matches!(role, Some(Role::Whale) | Some(Role::Staker)) {
                setup(p, i, c.token, approve(c.vault), U256::ZERO, "the vault's allowance")?;
                setup(p, i, c.vault, StakingVault::stakeCall { amount: wei(stake) }.abi_encode(), U256::ZERO, "its stake")?;
            }
            if role == Some(Role::LiquidityProvider) {
                let call = ConstantProductPair::transferCall { to: who, amount: lp_shares };
                setup(p, 0, c.pair, call.abi_encode(), U256::ZERO, "its LP shares")?;
            }
        }
        Ok(())
    }

    /// A watcher's holder set for the next epoch's snapshot: the ten accounts holding the
    /// most (balance plus stake), proposed, then submitted in the next block against the
    /// set standing now. The ecosystem account receives the emission as the economy's
    /// `incentives` address, a protocol address the KPI source refuses as a holder, so it is
    /// never proposed (with few agents it is among the ten largest).
    fn submit_holders(&self, p: &mut Population, c: &Contracts, deployment: &Deployment, book: &mut GasBook) -> Result<(), LiveError> {
        let client = self.client;
        let protocol = p.with_role(Role::Ecosystem);
        let mut held = Vec::with_capacity(p.accounts.len());
        for i in (0..p.accounts.len()).filter(|i| !protocol.contains(i)) {
            let who = p.address(i);
            let balance = read(client, "balance read", c.token, ZkpToken::balanceOfCall { who })?;
            let stake = read(client, "stake read", c.vault, StakingVault::stakeOfCall { who })?;
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

    /// Runs the economy's epoch; returns the quote its buyback spent.
    fn tick(&self, p: &mut Population, c: &Contracts, book: &mut GasBook) -> Result<f64, LiveError> {
        let treasury = |client| read(client, "treasury read", c.quote, ZkpToken::balanceOfCall { who: c.economy });
        let before = treasury(self.client)?;
        let mined = p.send(self.client, 0, c.economy, TokenEconomy::tickCall {}.abi_encode(), U256::ZERO, book)?;
        if !mined.success {
            return Err(LiveError::Chain(chain::ChainError::Rejected { reason: format!("the economy's tick {} reverted", mined.hash) }));
        }
        Ok(whole(before.saturating_sub(treasury(self.client)?)))
    }

    /// The agents' transactions of one epoch, after the tick (whose buyback spent `buyback` quote).
    fn act(
        &self,
        p: &mut Population,
        c: &Contracts,
        memory: &mut Memory,
        shocks: &Shocks,
        buyback: f64,
        book: &mut GasBook,
    ) -> Result<Plan, LiveError> {
        let client = self.client;
        let z = U256::ZERO;
        let state = State::read(client, c)?;
        let (emitted, _, _) = read(client, "flows read", c.economy, TokenEconomy::lastFlowsCall {})
            .map(|f| (whole(f.emitted), whole(f.rewarded), whole(f.burned)))?;
        let mut plan = market::plan(memory, &state, shocks, emitted);
        let price = state.price;
        // The quote value of every swap's input (the buyback's included): the pair keeps
        // its fee on it, and the LPs' share of that fee is their income.
        let mut traded = buyback;

        // Claims: whales restake everything; stakers restake what they keep and sell the rest.
        let mut reward_sales = Vec::new();
        for i in p.with_role(Role::Whale).into_iter().chain(p.with_role(Role::Staker)) {
            let who = p.address(i);
            let earned = read(client, "reward read", c.vault, StakingVault::earnedCall { who })?;
            if earned.is_zero() {
                continue;
            }
            p.send(client, i, c.vault, StakingVault::claimCall {}.abi_encode(), z, book)?;
            let sold = if p.accounts[i].role == Some(Role::Staker) { whole(earned) * plan.reward_sell_share } else { 0.0 };
            let kept = earned.saturating_sub(wei(sold));
            if !kept.is_zero() {
                p.send(client, i, c.vault, StakingVault::stakeCall { amount: kept }.abi_encode(), z, book)?;
            }
            reward_sales.push((i, sold));
        }

        // Liquidity: deposits at the pool's price, or withdrawals of a share of every LP's position.
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
                held.push(read(client, "LP share read", c.pair, ConstantProductPair::balanceOfCall { who: p.address(i) })?);
            }
            let all: U256 = held.iter().copied().fold(U256::ZERO, |a, b| a + b);
            for (&i, shares) in lps.iter().zip(held) {
                let mine = if all.is_zero() { U256::ZERO } else { (total * shares / all).min(shares) };
                if mine.is_zero() {
                    continue;
                }
                let before = read(client, "balance read", c.token, ZkpToken::balanceOfCall { who: p.address(i) })?;
                let call = ConstantProductPair::removeLiquidityCall { shares: mine, minToken: z, minQuote: z };
                p.send(client, i, c.pair, call.abi_encode(), z, book)?;
                let after = read(client, "balance read", c.token, ZkpToken::balanceOfCall { who: p.address(i) })?;
                lp_sales.push((i, whole(after.saturating_sub(before)) * lps::WITHDRAW_SELL_SHARE));
            }
        }

        // Stakers move toward their target share, each an equal part (as far as they can).
        let stakers = p.with_role(Role::Staker);
        let part = plan.stake_change / stakers.len() as f64;
        for &i in &stakers {
            let who = p.address(i);
            let (call, have) = if part >= 0.0 {
                (true, read(client, "balance read", c.token, ZkpToken::balanceOfCall { who })?)
            } else {
                (false, read(client, "stake read", c.vault, StakingVault::stakeOfCall { who })?)
            };
            let amount = wei(part.abs()).min(have);
            if amount.is_zero() {
                continue;
            }
            let input =
                if call { StakingVault::stakeCall { amount }.abi_encode() } else { StakingVault::unstakeCall { amount }.abi_encode() };
            p.send(client, i, c.vault, input, z, book)?;
        }

        // Round-trip volume: each trader buys its part, then sells what it bought.
        let traders = p.with_role(Role::Trader);
        let leg = plan.round_trip / 2.0 / traders.len() as f64;
        for &i in &traders {
            let who = p.address(i);
            let before = read(client, "balance read", c.token, ZkpToken::balanceOfCall { who })?;
            let bought = swap(p, client, c, i, false, wei(leg), book)?;
            if bought > 0.0 {
                traded += bought;
                let after = read(client, "balance read", c.token, ZkpToken::balanceOfCall { who })?;
                traded += price * swap(p, client, c, i, true, after.saturating_sub(before), book)?;
            }
        }

        // Directional flows, scaled together so their net stays within the cap.
        let sells: f64 =
            plan.emission_sells + reward_sales.iter().map(|(_, s)| s).sum::<f64>() + lp_sales.iter().map(|(_, s)| s).sum::<f64>();
        plan.cap(sells, price, state.pool_quote);
        let k = plan.scale;
        let mut flows: Vec<(usize, f64)> = Vec::new();
        flows.extend(traders.iter().map(|&i| (i, k * plan.demand / traders.len() as f64)));
        let whale_list = p.with_role(Role::Whale);
        flows.extend(whale_list.iter().map(|&i| (i, k * plan.whale_flow / whale_list.len() as f64)));
        flows.extend(stakers.iter().map(|&i| (i, k * plan.staking_flow / stakers.len() as f64)));
        let ecosystem = p.with_role(Role::Ecosystem);
        flows.extend(ecosystem.iter().map(|&i| (i, -k * plan.emission_sells * price / ecosystem.len() as f64)));
        flows.extend(reward_sales.iter().chain(&lp_sales).map(|&(i, tokens)| (i, -k * tokens * price)));
        for (i, quote) in flows {
            if quote > 0.0 {
                traded += swap(p, client, c, i, false, wei(quote), book)?;
            } else if quote < 0.0 {
                let have = read(client, "balance read", c.token, ZkpToken::balanceOfCall { who: p.address(i) })?;
                traded += price * swap(p, client, c, i, true, wei(-quote / price).min(have), book)?;
            }
        }

        let close = read(client, "price read", c.pair, ConstantProductPair::priceCall {})?;
        memory.closes.push(whole(close));
        let fee = state.parameters.get(3).copied().unwrap_or(0) as f64 / 1e4;
        memory.earn(traded * fee * (1.0 - memory.config.protocol_fee_share));
        Ok(plan)
    }

    /// The keeper's decision of `epoch`, read back from the chain and checked: the proven
    /// outputs against the integer reference, the applied parameters against the guard twin,
    /// the proof against halo2's native verifier.
    fn decision(
        &self,
        deployment: &Deployment,
        state_dir: &Path,
        epoch: u64,
        params_before: &[i64],
        twin: &mut Twin,
        failures: &mut Vec<String>,
    ) -> Result<Decided, LiveError> {
        let client = self.client;
        let records = zkpolicy_keeper::state::read_records(state_dir)?;
        let find = |kind: Kind| records.iter().map(|(_, r)| r).find(|r| r.epoch == epoch && r.kind == kind);
        let submitted = find(Kind::Submit)
            .filter(|r| r.stage == Stage::Confirmed)
            .ok_or_else(|| LiveError::Keeper(format!("epoch {epoch}: the keeper confirmed no submission")))?;
        let snapshot_gas = find(Kind::Snapshot).and_then(|r| r.gas).unwrap_or(0);
        let tx = submitted.tx.clone().unwrap_or_default();
        let hash = tx.parse().map_err(|_| LiveError::Keeper(format!("epoch {epoch}: the keeper recorded no transaction hash")))?;
        let receipt =
            client.receipt(hash)?.ok_or_else(|| LiveError::Keeper(format!("epoch {epoch}: no receipt for the submission {tx}")))?;
        let decision = receipt
            .inner
            .logs()
            .iter()
            .filter(|l| l.address() == deployment.controller)
            .find_map(|l| PolicyController::Decision::decode_log_data(l.data()).ok())
            .ok_or_else(|| LiveError::Keeper(format!("epoch {epoch}: the submission {tx} logged no Decision")))?;
        let unpack = |b: &[u8]| unpack_int64(b).ok_or_else(|| LiveError::Keeper(format!("epoch {epoch}: a malformed Decision log")));
        let (outputs, guarded) = (unpack(&decision.proposed)?, unpack(&decision.guarded)?);

        let card = self.card();
        let kpis = chain::committed_kpis(client, deployment, epoch)?
            .ok_or_else(|| LiveError::Keeper(format!("epoch {epoch}: no snapshot on chain")))?;
        let kpi_values = card.inputs().iter().zip(&kpis).map(|(spec, &q)| q as f64 / 2f64.powi(spec.scale_bits as i32)).collect();
        let read_params = if card.parameters().is_empty() { Vec::new() } else { params_before.to_vec() };
        let input = Observation::new(card, QuantizedKpis::new(card, kpis.clone())?, read_params)?;
        let reference = zkpolicy_model::infer(self.model, input)?.outputs;
        if outputs != reference {
            failures.push(format!("epoch {epoch}: proven outputs {outputs:?}, the integer reference {reference:?}"));
        }
        let block = receipt.block_number.unwrap_or_default();
        let now = block_time(client, block)?;
        // The controller guards each output's parameter change (its map in the card).
        let guard = guard_at(params_before, &card.deltas(&outputs)?, &twin.rails, &twin.anchors, now)?;
        if guard.values != guarded {
            failures.push(format!("epoch {epoch}: the controller applied {guarded:?}, the guard twin {:?}", guard.values));
        }
        twin.anchors = guard.anchors;

        let verified_native = match &submitted.proof {
            Some(path) => self.verify_native(path, &outputs)?,
            None => false,
        };
        if !verified_native {
            failures.push(format!("epoch {epoch}: the keeper's proof does not verify natively"));
        }
        Ok(Decided {
            snapshot_gas,
            record: LiveEpoch {
                index: 0,
                epoch,
                kpis,
                kpi_values,
                params_before: params_before.to_vec(),
                outputs,
                reference,
                guarded,
                twin: guard.values,
                guardrail_hit: decision.guardrailHit,
                economy_params: Vec::new(),
                decision_tx: tx,
                decision_gas: receipt.gas_used,
                verified_on_chain: receipt.status(),
                verified_native,
                keeper_restarts: 0,
                market: State::default(),
                plan: Plan::default(),
                transactions: 0,
                reverted: 0,
                seconds: EpochSeconds::default(),
            },
        })
    }

    fn verify_native(&self, path: &Path, outputs: &[i64]) -> Result<bool, LiveError> {
        let artifact = ProofArtifact::load(path)?;
        let public = artifact.public_inputs(self.card(), self.prepared.circuit.shape().k)?;
        let bytes = artifact.proof_bytes()?;
        Ok(public.outputs == outputs
            && zkpolicy_prover::proof::verify(&self.prepared.params, self.prepared.pk.get_vk(), &public, &bytes).is_ok())
    }
}

/// The controller's rails and cap anchors, as the guard twin tracks them.
struct Twin {
    rails: Vec<zkpolicy_model::Guardrail>,
    anchors: Vec<Anchor>,
}

struct Decided {
    snapshot_gas: u64,
    record: LiveEpoch,
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

/// The `takeSnapshot` call of the current epoch, with the holder set that stood at the
/// end of the previous one.
fn snapshot_input(client: &Client, deployment: &Deployment) -> Result<Vec<u8>, LiveError> {
    Ok(chain::economy::snapshot_call(client, deployment)?.0)
}

/// Moves a development node's clock to `at` and mines a block there.
fn move_clock(client: &Client, at: u64) -> Result<(), LiveError> {
    let now = client.chain_time()?;
    if at <= now {
        return Err(LiveError::Config(format!(
            "the node's clock is already at {now}, past the next epoch's start {at}: an epoch's transactions took more than a day of chain time"
        )));
    }
    let moved = client
        .request("evm_setNextBlockTimestamp", serde_json::json!([at]))
        .and_then(|_| client.request("evm_mine", serde_json::json!([])));
    moved.map_err(|e| {
        LiveError::Config(format!(
            "live moves the node's clock a day per epoch, which needs a development node (evm_setNextBlockTimestamp): {e}"
        ))
    })?;
    Ok(())
}

/// The timestamp of block `number`.
fn block_time(client: &Client, number: u64) -> Result<u64, LiveError> {
    let block = client.request("eth_getBlockByNumber", serde_json::json!([format!("0x{number:x}"), false]))?;
    block["timestamp"]
        .as_str()
        .and_then(|t| u64::from_str_radix(t.trim_start_matches("0x"), 16).ok())
        .ok_or_else(|| LiveError::Chain(chain::ChainError::Answer(format!("block {number} has no timestamp"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkpolicy_lab::sim::deployment_guardrails;

    #[test]
    fn the_deployment_mirrors_the_simulators_economy_and_rails() {
        let config = deploy_config(&SimConfig::default(), Address::repeat_byte(7)).expect("the default deploys");
        assert_eq!((config.mode.as_str(), config.kpi_source.as_str()), ("autonomous", "onchain"));
        assert_eq!(config.parameters, deployment_guardrails());
        let e = config.economy.expect("an economy");
        assert_eq!(
            (e.supply, e.liquidity_tokens, e.liquidity_quote, e.treasury_quote, e.yearly_spend),
            (1_000_000_000, 40_000_000, 40_000_000, 35_000_000, 10_000_000)
        );
        assert_eq!((e.target_price_micro, e.protocol_fee_share_bps, e.incentives), (1_000_000, 3_333, Some(Address::repeat_byte(7))));

        // Less than a whole token of supply cannot be deployed; an invalid economy is refused by name.
        let mut tiny = SimConfig::default();
        tiny.economy.supply = 0.5;
        assert!(matches!(deploy_config(&tiny, Address::ZERO), Err(LiveError::Config(m)) if m.contains("supply")));
        let mut bad = SimConfig::default();
        bad.economy.protocol_fee_share = 2.0;
        assert!(matches!(deploy_config(&bad, Address::ZERO), Err(LiveError::Lab(_))));
    }
}
