//! A live run's setup, all in chain epoch 1: the deployment config mirrored from the
//! simulator, the deployment itself, the agents funded as the simulator's starting economy
//! holds its supply, the first holder set, the keeper started and the attackers deployed.

use std::time::Instant;

use alloy::primitives::{Address, U256};
use alloy::sol_types::SolCall;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_contracts::economy::{ConstantProductPair, QuoteToken, StakingVault, TokenEconomy, ZkpToken};
use zkpolicy_lab::sim::agents::{lps, whales};
use zkpolicy_lab::sim::SimConfig;

use super::keeper::Twin;
use super::{KeeperRunner, Live, LiveOptions, LiveRun, Session, EPOCH_SECONDS};
use crate::attackers::Attackers;
use crate::market::{wei, Contracts, Memory};
use crate::population::{GasBook, Population, Role};
use crate::treasury::Budget;
use crate::LiveError;
use zkpolicy_chain::{self as chain, read, DeployConfig, TimingConfig};

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

impl Live<'_> {
    /// Deploys, funds the agents, submits the first holder set, starts the keeper and
    /// deploys the attackers; returns the run as it stands before its first epoch.
    pub(super) fn set_up(&self, options: &LiveOptions, keeper: &mut dyn KeeperRunner) -> Result<Session, LiveError> {
        let client = self.client;
        options.scenario.validate()?;
        let roles = crate::population::roles(options.agents)?;
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
        name_contracts(&mut population, &c);
        let mut setup_gas = GasBook::default();
        self.fund(&mut population, &c, &options.sim, keeper.address(), &mut setup_gas)?;
        self.submit_holders(&mut population, &c, &deployment, &mut setup_gas)?;
        let genesis = read(client, "genesis read", c.economy, TokenEconomy::genesisCall {})?;
        let state_dir = self.out_dir.join("keeper");
        keeper.start(&record, &state_dir)?;
        let attackers = Attackers::deploy(client, &mut population, &c, &options.attackers, options.scenario.seed)?;
        let setup_seconds = started.elapsed().as_secs_f64();
        (self.on_epoch)(&format!("deployed and funded {} agents in {setup_seconds:.0} s", options.agents));
        let budget = Budget::read(client, &c)?;
        let memory = Memory::new(&options.sim.economy, ChaCha20Rng::seed_from_u64(options.scenario.seed));
        let run = LiveRun {
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
        let twin = Twin::new(options.sim.guardrails.clone());
        Ok(Session { run, population, deployment, contracts: c, genesis, state_dir, attackers, budget, memory, twin })
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
        let shares = read(client, "LP share read", c.pair, ConstantProductPair::balanceOfCall { account: deployer })?;
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
                let left = read(client, "balance read", c.token, ZkpToken::balanceOfCall { account: deployer })?;
                let amount = wei(tokens).min(left);
                setup(p, 0, c.token, ZkpToken::transferCall { to: who, value: amount }.abi_encode(), U256::ZERO, "its tokens")?;
            }
            let approve = |spender| ZkpToken::approveCall { spender, value: U256::MAX }.abi_encode();
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
                let call = ConstantProductPair::transferCall { to: who, value: lp_shares };
                setup(p, 0, c.pair, call.abi_encode(), U256::ZERO, "its LP shares")?;
            }
        }
        Ok(())
    }
}

/// Names the deployment's contracts in the population's gas book.
fn name_contracts(population: &mut Population, c: &Contracts) {
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
