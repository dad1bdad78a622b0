//! The reference token economy under the controller, in revm: each epoch's tick takes
//! the controller's parameters and mints, rewards, burns and charges fees by them, and
//! no answer from the controller can stop a tick.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use alloy_primitives::{Address, B256, I256, U256};
use alloy_sol_types::{SolCall, SolConstructor, SolEvent, SolInterface};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkpolicy_contracts::controller::PolicyController::Mode;
use zkpolicy_contracts::economy::{
    compile_economy, economy_kpis, ConstantProductPair, EconomyKpiSource, EconomyTimelock, KpiConfig, KpiState, QuoteToken, StakingVault,
    TokenEconomy, ZkpToken,
};
use zkpolicy_lab::sim::{self, deployment_guardrails};
use zkpolicy_model::QuantizedKpis;
use zkpolicy_verifier::compile::{self, Compiled};
use zkpolicy_verifier::evm::{CallOutcome, Evm};

use crate::controller::{error_name, guard, initial, Chain, Prover, SourceKind, VerifierKind, EPOCH_LENGTH};

pub(crate) const E18: u128 = 1_000_000_000_000_000_000;
const PROTOCOL_SHARE_BPS: u64 = 3_333;
/// Reads and permissionless calls come from here.
pub(crate) const ANYONE: Address = Address::repeat_byte(0xa4);

pub(crate) fn tokens(n: u128) -> U256 {
    U256::from(n) * U256::from(E18)
}

pub(crate) fn contracts() -> &'static BTreeMap<String, Compiled> {
    static CONTRACTS: OnceLock<BTreeMap<String, Compiled>> = OnceLock::new();
    CONTRACTS.get_or_init(|| compile_economy(compile::bundled_dir()).expect("the economy compiles"))
}

/// The economy's contracts, wired to a controller, with liquidity, a treasury and a staker.
pub(crate) struct Economy {
    pub(crate) token: Address,
    pub(crate) quote: Address,
    pub(crate) vault: Address,
    pub(crate) pair: Address,
    pub(crate) economy: Address,
    pub(crate) incentives: Address,
    pub(crate) staker: Address,
    pub(crate) trader: Address,
    /// Governance's timelock: the token's admin and the treasury's only spender.
    pub(crate) timelock: Address,
}

/// The economy's governance delay in these tests (as `zkpolicy deploy` sets it: the
/// controller's governance delay).
pub(crate) const TREASURY_DELAY: u64 = 86_400;

impl Economy {
    /// Deploys the economy as `zkpolicy deploy` does, starting with parameters `initial`,
    /// with liquidity, a treasury and a staker; the deployer (the EVM's caller) is
    /// governance, acting only through the timelock. `connect` then names its controller.
    pub(crate) fn deploy(evm: &mut Evm, initial: [u64; 4]) -> Self {
        let c = contracts();
        let admin = evm.caller();
        let (incentives, staker, trader) = (Address::repeat_byte(0xb1), Address::repeat_byte(0xb2), Address::repeat_byte(0xb3));
        let mut deploy = |name: &str, args: Vec<u8>| evm.deploy([c[name].bytecode.clone(), args].concat()).expect(name).address;
        let timelock = deploy(
            "EconomyTimelock",
            EconomyTimelock::constructorCall { minDelay: U256::from(TREASURY_DELAY), governance: admin }.abi_encode(),
        );
        let token =
            deploy("ZkpToken", ZkpToken::constructorCall { admin, holder: admin, initialSupply: tokens(1_000_000_000) }.abi_encode());
        let quote = deploy("QuoteToken", QuoteToken::constructorCall { owner_: admin }.abi_encode());
        let economy = deploy(
            "TokenEconomy",
            TokenEconomy::constructorCall {
                token_: token,
                quote_: quote,
                incentives_: incentives,
                governor_: timelock,
                genesis_: 0,
                epochLength_: EPOCH_LENGTH,
                initial: initial.map(U256::from),
                budgetPayee: Address::ZERO,
                budgetPerEpoch_: U256::ZERO,
            }
            .abi_encode(),
        );
        let pair = deploy(
            "ConstantProductPair",
            ConstantProductPair::constructorCall {
                token_: token,
                quote_: quote,
                feeSource_: economy,
                treasury_: economy,
                protocolShareBps_: U256::from(PROTOCOL_SHARE_BPS),
            }
            .abi_encode(),
        );
        let vault = deploy(
            "StakingVault",
            StakingVault::constructorCall { token_: token, economy_: economy, rewardDuration_: EPOCH_LENGTH }.abi_encode(),
        );
        let e = Self { token, quote, vault, pair, economy, incentives, staker, trader, timelock };
        // The deployer wires the minter, then hands the token's admin role to the timelock.
        let minter = e.read(evm, token, ZkpToken::MINTER_ROLECall {});
        let root = e.read(evm, token, ZkpToken::DEFAULT_ADMIN_ROLECall {});
        e.ok(evm, admin, token, ZkpToken::grantRoleCall { role: minter, account: economy }.abi_encode());
        e.ok(evm, admin, token, ZkpToken::grantRoleCall { role: root, account: timelock }.abi_encode());
        e.ok(evm, admin, token, ZkpToken::renounceRoleCall { role: root, callerConfirmation: admin }.abi_encode());
        // 40M tokens against 40M quote (price 1); a 10M quote treasury; a 400M token stake.
        e.ok(evm, admin, quote, QuoteToken::mintCall { to: admin, amount: tokens(40_000_000) }.abi_encode());
        e.ok(evm, admin, quote, QuoteToken::mintCall { to: economy, amount: tokens(10_000_000) }.abi_encode());
        e.ok(evm, admin, quote, QuoteToken::mintCall { to: trader, amount: tokens(1_000_000) }.abi_encode());
        e.ok(evm, admin, token, ZkpToken::approveCall { spender: pair, amount: U256::MAX }.abi_encode());
        e.ok(evm, admin, quote, ZkpToken::approveCall { spender: pair, amount: U256::MAX }.abi_encode());
        e.ok(
            evm,
            admin,
            pair,
            ConstantProductPair::addLiquidityCall { maxToken: tokens(40_000_000), maxQuote: tokens(40_000_000), minShares: U256::from(1) }
                .abi_encode(),
        );
        e.ok(evm, admin, token, ZkpToken::transferCall { to: staker, amount: tokens(400_000_000) }.abi_encode());
        e.ok(evm, staker, token, ZkpToken::approveCall { spender: vault, amount: U256::MAX }.abi_encode());
        e.ok(evm, staker, vault, StakingVault::stakeCall { amount: tokens(400_000_000) }.abi_encode());
        e.ok(evm, trader, quote, ZkpToken::approveCall { spender: pair, amount: U256::MAX }.abi_encode());
        e
    }

    /// Connects the pair, the vault and the controller (once, as the deployer).
    pub(crate) fn connect(&self, evm: &mut Evm, controller: Address) {
        let admin = evm.caller();
        self.ok(
            evm,
            admin,
            self.economy,
            TokenEconomy::connectCall { pair_: self.pair, vault_: self.vault, controller_: controller }.abi_encode(),
        );
    }

    /// The timelock call that schedules `data` to `target` for the minimum delay.
    pub(crate) fn timelock_schedule(&self, target: Address, data: Vec<u8>) -> Vec<u8> {
        let delay = U256::from(TREASURY_DELAY);
        EconomyTimelock::scheduleCall { target, value: U256::ZERO, data: data.into(), predecessor: B256::ZERO, salt: B256::ZERO, delay }
            .abi_encode()
    }

    /// The timelock call that executes a scheduled `data` to `target`.
    pub(crate) fn timelock_execute(&self, target: Address, data: Vec<u8>) -> Vec<u8> {
        EconomyTimelock::executeCall { target, value: U256::ZERO, payload: data.into(), predecessor: B256::ZERO, salt: B256::ZERO }
            .abi_encode()
    }

    pub(crate) fn ok(&self, evm: &mut Evm, from: Address, to: Address, data: Vec<u8>) -> CallOutcome {
        let out = evm.call_from(from, to, data).expect("executes");
        assert!(out.success, "call to {to} reverted: 0x{}", hex::encode(&out.output));
        out
    }

    pub(crate) fn read<C: SolCall>(&self, evm: &mut Evm, to: Address, call: C) -> C::Return {
        let out = self.ok(evm, ANYONE, to, call.abi_encode());
        C::abi_decode_returns(&out.output).expect("decodes")
    }

    pub(crate) fn balance(&self, evm: &mut Evm, asset: Address, who: Address) -> U256 {
        self.read(evm, asset, ZkpToken::balanceOfCall { who })
    }

    pub(crate) fn supply(&self, evm: &mut Evm) -> U256 {
        self.read(evm, self.token, ZkpToken::totalSupplyCall {})
    }

    pub(crate) fn tick(&self, evm: &mut Evm) -> CallOutcome {
        self.ok(evm, ANYONE, self.economy, TokenEconomy::tickCall {}.abi_encode())
    }
}

/// An economy whose parameters come from `controller`, on `chain`'s EVM.
fn economy_for(chain: &mut Chain, controller: Address, initial: [u64; 4]) -> Economy {
    let e = Economy::deploy(&mut chain.evm, initial);
    e.connect(&mut chain.evm, controller);
    e
}

/// The event `E` among a call's logs.
pub(crate) fn event<E: SolEvent>(out: &CallOutcome) -> Option<E> {
    out.logs.iter().find_map(|(topics, data)| E::decode_raw_log(topics.iter().map(|t| B256::from(*t)), data).ok())
}

/// The integer flows of one tick, as the contract computes them.
fn per_epoch(base: U256, bps: u64) -> U256 {
    base * U256::from(bps) / U256::from(10_000u64) / U256::from(365u64)
}

#[test]
fn each_tick_mints_rewards_burns_and_charges_fees_by_the_controllers_parameters() {
    let mut chain = Chain::with_rails(Mode::Autonomous, &deployment_guardrails());
    let controller = chain.controller;
    let e = economy_for(&mut chain, controller, [0, 0, 0, 0]);
    let initial: Vec<u64> = deployment_guardrails().iter().map(|g| g.initial as u64).collect();

    // Epoch 1, at the connection: the tick takes the controller's initial parameters (500,
    // 800, 100, 30) and emits; no stake has been held since the connection and there is no
    // average price yet, so it rewards nothing and buys nothing, and says why.
    let supply = e.supply(&mut chain.evm);
    let out = e.tick(&mut chain.evm);
    let taken = event::<TokenEconomy::ParametersTaken>(&out).expect("parameters taken");
    assert_eq!(taken.values.map(|v| v.to::<u64>()).to_vec(), initial);
    let ticked = event::<TokenEconomy::Ticked>(&out).expect("ticked");
    assert_eq!(ticked.emitted, per_epoch(supply, 500), "emission: S · 500 bps / 365");
    assert_eq!(e.balance(&mut chain.evm, e.token, e.incentives), ticked.emitted);
    assert_eq!((ticked.rewarded, ticked.burned), (U256::ZERO, U256::ZERO));
    let skipped = event::<TokenEconomy::BuybackSkipped>(&out).expect("the buyback says why it skipped");
    assert_eq!(skipped.reason, "no average price over half an epoch since the last tick");
    // A second tick in the same epoch is refused.
    let again = chain.evm.call_from(chain.anyone, e.economy, TokenEconomy::tickCall {}.abi_encode()).expect("executes");
    assert!(!again.success);

    // The controller decides epoch 1 (the stub verifier accepts): +25, +60, +25, +10.
    let epoch = chain.current_epoch();
    assert!(chain.commit(epoch, &[0; 8]).success);
    assert!(chain.submit(epoch, &[25, 60, 25, 10], &[]).success);
    let decided = chain.parameters();
    assert_eq!(decided, vec![525, 860, 125, 40]);
    // The fee in force is still the tick's (30 bps) until the next tick.
    let swap = |chain: &mut Chain, amount: U256| {
        let before = e.balance(&mut chain.evm, e.quote, e.economy);
        e.ok(
            &mut chain.evm,
            e.trader,
            e.pair,
            ConstantProductPair::swapCall { tokenIn: false, amountIn: amount, minOut: U256::ZERO, to: e.trader }.abi_encode(),
        );
        e.balance(&mut chain.evm, e.quote, e.economy) - before
    };
    let amount = tokens(10_000);
    let fee_30 = amount * U256::from(30u64) / U256::from(10_000u64) * U256::from(PROTOCOL_SHARE_BPS) / U256::from(10_000u64);
    assert_eq!(swap(&mut chain, amount), fee_30, "the treasury's share of a 30 bps fee");

    // Epoch 2, a whole epoch later: the tick obeys the decision. The stake was held the
    // whole epoch, so the reward is K · 860 bps / 365; the price bound leaves the burn whole.
    chain.next_epoch();
    let (supply, treasury) = (e.supply(&mut chain.evm), e.balance(&mut chain.evm, e.quote, e.economy));
    let staked: U256 = e.read(&mut chain.evm, e.vault, StakingVault::totalStakedCall {});
    let out = e.tick(&mut chain.evm);
    let ticked = event::<TokenEconomy::Ticked>(&out).expect("ticked");
    assert_eq!(ticked.emitted, per_epoch(supply, 525));
    assert_eq!(ticked.rewarded, per_epoch(staked, 860), "rewards: K · 860 bps / 365 over a whole epoch of stake");
    let wanted = per_epoch(supply, 125);
    assert!(ticked.burned > U256::ZERO && ticked.burned <= wanted + U256::from(1u64), "burned {} of {wanted}", ticked.burned);
    assert!(wanted - ticked.burned.min(wanted) <= wanted / U256::from(1_000_000u64), "the buyback bought what it wanted");
    assert!(ticked.spent <= treasury * U256::from(200u64) / U256::from(10_000u64), "at most 2 % of the treasury");
    assert_eq!(e.supply(&mut chain.evm), supply + ticked.emitted + ticked.rewarded - ticked.burned, "minted and burned");
    // The reward streams to the staker over the next epoch, per second.
    let earned = |chain: &mut Chain| -> U256 { e.read(&mut chain.evm, e.vault, StakingVault::earnedCall { who: e.staker }) };
    assert_eq!(earned(&mut chain), U256::ZERO, "nothing is paid at the tick itself");
    chain.evm.advance(EPOCH_LENGTH / 4);
    let quarter = earned(&mut chain);
    let expected = ticked.rewarded / U256::from(4u64);
    assert!(quarter <= expected && expected - quarter <= expected / U256::from(1_000_000u64), "a quarter epoch: {quarter} of {expected}");
    chain.evm.advance(EPOCH_LENGTH);
    let all = earned(&mut chain);
    // The accumulator keeps 18 decimals: the staker loses less than a millionth to rounding.
    assert!(all <= ticked.rewarded && ticked.rewarded - all <= ticked.rewarded / U256::from(1_000_000u64), "{all}");
    let fee_40 = amount * U256::from(40u64) / U256::from(10_000u64) * U256::from(PROTOCOL_SHARE_BPS) / U256::from(10_000u64);
    assert_eq!(swap(&mut chain, amount), fee_40, "the treasury's share of a 40 bps fee");
    let params: [U256; 4] = e.read(&mut chain.evm, e.economy, TokenEconomy::parametersCall {});
    assert_eq!(params.map(|v| v.to::<i64>()).to_vec(), decided);
}

#[test]
fn no_answer_from_the_controller_can_stop_a_tick() {
    // A controller whose fee rail reaches 3000 bps, beyond the economy's 10 % cap.
    let mut rails = deployment_guardrails();
    rails[3] = sim::Guardrail::new("fee_bps", 2_000, 0, 3_000, 10);
    let mut chain = Chain::with_rails(Mode::Autonomous, &rails);
    let controller = chain.controller;
    let e = economy_for(&mut chain, controller, [400, 700, 90, 30]);
    let out = e.tick(&mut chain.evm);
    // The fee beyond the economy's cap is refused alone; the three rates are taken.
    let refused = event::<TokenEconomy::ParameterRefused>(&out).expect("refused");
    assert_eq!((refused.index, refused.value), (U256::from(3u64), I256::try_from(2_000i64).expect("fits")));
    assert!(event::<TokenEconomy::ParametersRefused>(&out).is_none(), "the answer as a whole was usable");
    assert!(event::<TokenEconomy::Ticked>(&out).is_some(), "the tick ran");
    let params: [U256; 4] = e.read(&mut chain.evm, e.economy, TokenEconomy::parametersCall {});
    assert_eq!(params.map(|v| v.to::<u64>()), [500, 800, 100, 30]);

    // A "controller" without parameters() (the quote token: the call reverts) and one with
    // no code (an empty answer): refused by name, and the next epoch's tick runs too.
    let quote = e.quote;
    for (controller, reason) in
        [(quote, "the controller's parameters cannot be read"), (Address::ZERO, "the controller does not hold four parameters")]
    {
        let broken = economy_for(&mut chain, controller, [500, 800, 100, 30]);
        for _ in 0..2 {
            let out = broken.tick(&mut chain.evm);
            assert_eq!(event::<TokenEconomy::ParametersRefused>(&out).expect("refused").reason, reason);
            assert!(event::<TokenEconomy::Ticked>(&out).is_some());
            chain.next_epoch();
        }
    }
}

/// Finding 12: the treasury's quote leaves only through governance's timelock, after the
/// governance delay: a one-off spend, or the budget stream it sets, which anyone releases
/// once per epoch. An operation left unexecuted past its grace period expires.
#[test]
fn only_governance_spends_the_treasury_and_only_after_its_delay() {
    let mut chain = Chain::with_rails(Mode::Autonomous, &deployment_guardrails());
    let controller = chain.controller;
    let e = economy_for(&mut chain, controller, [500, 800, 100, 30]);
    let governance = chain.evm.caller();
    let payee = Address::repeat_byte(0xc7);
    let spend = |amount| TokenEconomy::spendCall { to: payee, amount: tokens(amount) }.abi_encode();
    let economy_error = |out: &CallOutcome| TokenEconomy::TokenEconomyErrors::abi_decode(&out.output).ok();
    let timelock_error = |out: &CallOutcome| EconomyTimelock::EconomyTimelockErrors::abi_decode(&out.output).ok();
    use EconomyTimelock::EconomyTimelockErrors as T;
    use TokenEconomy::TokenEconomyErrors as E;

    // Directly, nobody spends: not anyone, not governance.
    for who in [ANYONE, governance] {
        let out = chain.evm.call_from(who, e.economy, spend(27_397)).expect("executes");
        assert!(matches!(economy_error(&out), Some(E::NotGovernor(_))), "{who}: {out:?}");
    }
    // Through the timelock only governance schedules, and the call waits for the delay.
    let schedule = e.timelock_schedule(e.economy, spend(27_397));
    let out = chain.evm.call_from(ANYONE, e.timelock, schedule.clone()).expect("executes");
    assert!(matches!(timelock_error(&out), Some(T::AccessControlUnauthorizedAccount(_))), "{out:?}");
    e.ok(&mut chain.evm, governance, e.timelock, schedule);
    let execute = e.timelock_execute(e.economy, spend(27_397));
    chain.evm.advance(TREASURY_DELAY - 1);
    let early = chain.evm.call_from(governance, e.timelock, execute.clone()).expect("executes");
    assert!(matches!(timelock_error(&early), Some(T::TimelockUnexpectedOperationState(_))), "{early:?}");
    chain.evm.advance(1);
    let before = e.balance(&mut chain.evm, e.quote, e.economy);
    let out = e.ok(&mut chain.evm, governance, e.timelock, execute.clone());
    let spent = event::<TokenEconomy::Spent>(&out).expect("a Spent event");
    assert_eq!((spent.to, spent.amount), (payee, tokens(27_397)));
    assert_eq!(e.balance(&mut chain.evm, e.quote, payee), tokens(27_397));
    assert_eq!(e.balance(&mut chain.evm, e.quote, e.economy), before - tokens(27_397));
    assert!(!chain.evm.call_from(governance, e.timelock, execute).expect("executes").success, "an operation runs once");

    // Scheduled, ready, then forgotten past the grace period: expired.
    e.ok(&mut chain.evm, governance, e.timelock, e.timelock_schedule(e.economy, spend(1)));
    let grace: U256 = e.read(&mut chain.evm, e.timelock, EconomyTimelock::GRACE_PERIODCall {});
    chain.evm.advance(TREASURY_DELAY + grace.to::<u64>() + 1);
    let stale = chain.evm.call_from(governance, e.timelock, e.timelock_execute(e.economy, spend(1))).expect("executes");
    assert!(matches!(timelock_error(&stale), Some(T::OperationExpired(_))), "{stale:?}");

    // The budget stream: set through the timelock, released by anyone once per epoch.
    let set = TokenEconomy::setBudgetCall { payee, perEpoch: tokens(5_479) }.abi_encode();
    e.ok(&mut chain.evm, governance, e.timelock, e.timelock_schedule(e.economy, set.clone()));
    chain.evm.advance(TREASURY_DELAY);
    e.ok(&mut chain.evm, governance, e.timelock, e.timelock_execute(e.economy, set));
    let paid_before = e.balance(&mut chain.evm, e.quote, payee);
    let out = e.ok(&mut chain.evm, ANYONE, e.economy, TokenEconomy::releaseBudgetCall {}.abi_encode());
    let released = event::<TokenEconomy::BudgetReleased>(&out).expect("released");
    assert_eq!((released.payee, released.amount), (payee, tokens(5_479)));
    assert_eq!(e.balance(&mut chain.evm, e.quote, payee), paid_before + tokens(5_479));
    let again = chain.evm.call_from(ANYONE, e.economy, TokenEconomy::releaseBudgetCall {}.abi_encode()).expect("executes");
    assert!(matches!(economy_error(&again), Some(E::AlreadyReleased(_))), "once per epoch: {again:?}");
    chain.next_epoch();
    e.ok(&mut chain.evm, ANYONE, e.economy, TokenEconomy::releaseBudgetCall {}.abi_encode());
    assert_eq!(e.balance(&mut chain.evm, e.quote, payee), paid_before + tokens(2 * 5_479));
}

/// The on-chain KPI source over `e`, with the default model's scales and ranges, whose
/// snapshots may be taken in the first `window` seconds of each epoch.
pub(crate) fn kpi_source(evm: &mut Evm, e: &Economy, window: u64) -> (Address, KpiConfig) {
    try_kpi_source(evm, e, window).expect("KPI source")
}

pub(crate) fn try_kpi_source(evm: &mut Evm, e: &Economy, window: u64) -> Result<(Address, KpiConfig), String> {
    let specs = zkpolicy_lab::sim::kpis::kpi_specs();
    let scale_bits: [u8; 8] = std::array::from_fn(|i| specs[i].scale_bits as u8);
    let q = |v: f64, bits: u8| (v * f64::from(1u32 << bits)).round() as i64;
    let ranges: [(i64, i64); 8] = std::array::from_fn(|i| (q(specs[i].min, scale_bits[i]), q(specs[i].max, scale_bits[i])));
    let config = KpiConfig { target_price: tokens(1), yearly_spend: tokens(2_000_000), scale_bits, ranges };
    let args = EconomyKpiSource::constructorCall {
        economy_: e.economy,
        pair_: e.pair,
        vault_: e.vault,
        targetPrice_: config.target_price,
        yearlySpend_: config.yearly_spend,
        scaleBits_: scale_bits,
        lo: ranges.map(|r| I256::try_from(r.0).expect("fits")),
        hi: ranges.map(|r| I256::try_from(r.1).expect("fits")),
        snapshotWindow_: window,
    }
    .abi_encode();
    let address = evm.deploy([contracts()["EconomyKpiSource"].bytecode.clone(), args].concat()).map_err(|e| e.to_string())?.address;
    Ok((address, config))
}

/// What `takeSnapshot` will read, read from the chain just before it; `holders` is the set
/// that stood at the end of the previous epoch.
pub(crate) fn kpi_state(evm: &mut Evm, e: &Economy, source: Address, holders: Option<&[Address]>) -> KpiState {
    let cum = e.read(evm, e.pair, ConstantProductPair::cumulativesCall {});
    let marks = e.read(evm, source, EconomyKpiSource::stateCall {});
    let k = marks.count as usize;
    let ring = |evm: &mut Evm, back: usize| {
        if back > k {
            return (0, 0, 0);
        }
        let m = e.read(evm, source, EconomyKpiSource::marksAtCall { k: U256::from(k - back) });
        (m.sumReturns, m.sumSquares, m.volume)
    };
    let previous = ring(evm, 1);
    let back = ring(evm, k.min(30));
    let (v30, v60) = (ring(evm, 30).2, ring(evm, 60).2);
    let epoch = e.read(evm, source, EconomyKpiSource::currentEpochCall {});
    let counted = e.read(evm, source, EconomyKpiSource::holderSetCall { epoch: epoch - 1 }).holdings;
    let holders = holders.map(|set| (counted, holdings(evm, e, set)));
    let flows = e.read(evm, e.economy, TokenEconomy::lastFlowsCall {});
    KpiState {
        now: evm.timestamp(),
        supply: e.supply(evm),
        price_cum: cum.priceSeconds,
        reserve_cum: cum.reserveSeconds,
        staked_cum: e.read(evm, e.vault, StakingVault::stakedSecondsCall {}),
        volume_cum: cum.quoteVolume,
        count: marks.count,
        last_at: marks.lastAt,
        last_twap: marks.lastTwap,
        last_price_cum: marks.priceCum,
        last_reserve_cum: marks.reserveCum,
        last_staked_cum: marks.stakedCum,
        last_concentration: marks.lastConcentration,
        sums_previous: (previous.0, previous.1),
        sums_back: (back.0, back.1),
        volume_back_30: v30,
        volume_back_60: v60,
        holders,
        treasury: e.balance(evm, e.quote, e.economy),
        emitted: flows.emitted,
        rewarded: flows.rewarded,
        burned: flows.burned,
    }
}

/// Balance plus stake of each holder.
pub(crate) fn holdings(evm: &mut Evm, e: &Economy, set: &[Address]) -> U256 {
    set.iter().fold(U256::ZERO, |sum, who| {
        let staked: U256 = e.read(evm, e.vault, StakingVault::stakeOfCall { who: *who });
        sum + e.balance(evm, e.token, *who) + staked
    })
}

/// A holder set, as a watcher submits it: proposed, then submitted in the next block.
pub(crate) fn submit_holders(evm: &mut Evm, source: Address, from: Address, set: &[Address], standing: &[Address]) -> CallOutcome {
    let propose = evm.call_from(from, source, EconomyKpiSource::proposeHoldersCall { holders: set.to_vec() }.abi_encode());
    let propose = propose.expect("executes");
    if !propose.success {
        return propose;
    }
    evm.advance(12);
    let call = EconomyKpiSource::submitHoldersCall { holders: set.to_vec(), incumbent: standing.to_vec() };
    evm.call_from(from, source, call.abi_encode()).expect("executes")
}

/// Four economies driven by random trades, stakes, holder submissions and ticks for 70
/// epochs each: the first call of each only seeds the averages, and every one of the 276
/// snapshots after it equals its twin (`economy_kpis`) computed from the state the chain
/// held just before it; every KPI took more than one value, and volume_trend began once 60
/// snapshots existed. Holder sets follow the rules the twin assumes: each epoch's
/// snapshot reads the set that stood at the end of the epoch before.
#[test]
fn on_chain_kpis_equal_their_twin_on_random_economy_states() {
    let mut distinct: Vec<std::collections::BTreeSet<i64>> = vec![Default::default(); 8];
    let mut snapshots = 0;
    let mut gas = Vec::new();
    let mut seeds = Vec::new();
    // Once the rings are full their slots are rewritten, not created.
    const RING_FULL: usize = 64;
    let mut steady = Vec::new();
    for seed in 0..4u64 {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut chain = Chain::with_rails(Mode::Autonomous, &deployment_guardrails());
        let controller = chain.controller;
        let e = economy_for(&mut chain, controller, [500, 800, 100, 30]);
        let (source, config) = kpi_source(&mut chain.evm, &e, EPOCH_LENGTH / 2);
        let admin = chain.evm.caller();
        // Ten whales beside the staker and the trader.
        let whales: Vec<Address> = (0..10u8).map(|i| Address::repeat_byte(0xc0 + i)).collect();
        for w in &whales {
            let amount = tokens(rng.gen_range(1_000_000..40_000_000));
            e.ok(&mut chain.evm, admin, e.token, ZkpToken::transferCall { to: *w, amount }.abi_encode());
            e.ok(&mut chain.evm, *w, e.token, ZkpToken::approveCall { spender: e.vault, amount: U256::MAX }.abi_encode());
        }
        e.ok(&mut chain.evm, e.trader, e.token, ZkpToken::approveCall { spender: e.pair, amount: U256::MAX }.abi_encode());
        e.ok(&mut chain.evm, admin, e.token, ZkpToken::transferCall { to: e.trader, amount: tokens(20_000_000) }.abi_encode());
        e.ok(&mut chain.evm, admin, e.quote, QuoteToken::mintCall { to: e.trader, amount: tokens(100_000_000) }.abi_encode());
        let genesis = e.read(&mut chain.evm, e.economy, TokenEconomy::genesisCall {});
        // The set standing in the epoch now running, and that epoch.
        let mut standing: Option<Vec<Address>> = None;
        let mut last_epoch = 0;
        for epoch in 0..70 {
            // To the start of the next epoch (or the one after); the snapshot comes within
            // 1,200 s, the epoch's actions span at most 4,600 s more of its 7,200.
            chain.evm.advance(EPOCH_LENGTH * rng.gen_range(1..=2) - (chain.evm.timestamp() - genesis) % EPOCH_LENGTH);
            e.tick(&mut chain.evm);
            let current = chain.current_epoch();
            // The set that stood at the end of the previous epoch (none if it was skipped).
            let stood = if current == last_epoch + 1 { standing.take() } else { None };
            (standing, last_epoch) = (None, current);
            chain.evm.advance(rng.gen_range(1..1_200));
            let state = kpi_state(&mut chain.evm, &e, source, stood.as_deref());
            let call = EconomyKpiSource::takeSnapshotCall { incumbent: stood.clone().unwrap_or_default() };
            let anyone = chain.anyone;
            let out = e.ok(&mut chain.evm, anyone, source, call.abi_encode());
            let stored = e.read(&mut chain.evm, source, EconomyKpiSource::snapshotCall { epoch: current });
            let Some((want, values)) = economy_kpis(&state, &config) else {
                assert_eq!(epoch, 0, "seed {seed}: only the first call seeds");
                assert!(event::<EconomyKpiSource::SnapshotSeeded>(&out).is_some(), "seed {seed}: the seed is logged");
                assert!(event::<EconomyKpiSource::SnapshotTaken>(&out).is_none(), "seed {seed}: the seed takes no KPIs");
                assert_eq!((stored.kpis.len(), stored.postedAt), (0, 0), "seed {seed}: no snapshot to decide epoch {current} on");
                seeds.push(out.gas_used);
                continue;
            };
            let got: Vec<i64> = EconomyKpiSource::takeSnapshotCall::abi_decode_returns(&out.output)
                .expect("kpis")
                .iter()
                .map(|v| i64::try_from(*v).expect("small"))
                .collect();
            assert_eq!(got, want, "seed {seed} epoch {epoch}: contract vs twin, state {state:?}");
            let taken = event::<EconomyKpiSource::SnapshotTaken>(&out).expect("SnapshotTaken");
            assert_eq!(taken.values, values, "seed {seed} epoch {epoch}: the unquantized values, bit for bit");
            assert_eq!(stored.kpis.iter().map(|v| i64::try_from(*v).expect("small")).collect::<Vec<_>>(), want);
            assert_eq!(stored.postedAt, chain.evm.timestamp());
            for (i, q) in want.iter().enumerate() {
                distinct[i].insert(*q);
            }
            if epoch <= 60 {
                assert_eq!(want[5], 0, "no volume trend before 60 snapshots");
            }
            snapshots += 1;
            gas.push((out.gas_used, stood.as_ref().map_or(0, Vec::len), epoch));
            if epoch > RING_FULL && stood.is_none() {
                steady.push(out.gas_used);
            }

            // The epoch's business, and holder sets for the next epoch's snapshot.
            for _ in 0..rng.gen_range(1..6) {
                chain.evm.advance(rng.gen_range(60..900));
                match rng.gen_range(0..4) {
                    0 | 1 => {
                        let swap = ConstantProductPair::swapCall {
                            tokenIn: rng.gen_bool(0.5),
                            amountIn: tokens(rng.gen_range(1_000..200_000)),
                            minOut: U256::ZERO,
                            to: e.trader,
                        };
                        e.ok(&mut chain.evm, e.trader, e.pair, swap.abi_encode());
                    }
                    2 => {
                        let w = whales[rng.gen_range(0..whales.len())];
                        let staked: U256 = e.read(&mut chain.evm, e.vault, StakingVault::stakeOfCall { who: w });
                        let balance = e.balance(&mut chain.evm, e.token, w);
                        if rng.gen_bool(0.5) && balance > U256::ZERO {
                            e.ok(
                                &mut chain.evm,
                                w,
                                e.vault,
                                StakingVault::stakeCall { amount: balance / U256::from(2u64) + U256::from(1u64) }.abi_encode(),
                            );
                        } else if staked > U256::ZERO {
                            e.ok(
                                &mut chain.evm,
                                w,
                                e.vault,
                                StakingVault::unstakeCall { amount: staked / U256::from(3u64) + U256::from(1u64) }.abi_encode(),
                            );
                        }
                    }
                    _ => {
                        let mut pool: Vec<Address> = whales.iter().copied().chain([e.staker, e.trader, admin]).collect();
                        let size = rng.gen_range(1..=10);
                        let mut set = Vec::new();
                        for _ in 0..size {
                            set.push(pool.swap_remove(rng.gen_range(0..pool.len())));
                        }
                        // Within the epoch a set must hold more than the incumbent; the
                        // epoch's first, at least what the previous epoch's final set holds.
                        let held = holdings(&mut chain.evm, &e, &set);
                        let (incumbent, beats) = match (&standing, &stood) {
                            (Some(s), _) => (s.clone(), held > holdings(&mut chain.evm, &e, s)),
                            (None, Some(s)) => (s.clone(), held >= holdings(&mut chain.evm, &e, s)),
                            (None, None) => (Vec::new(), true),
                        };
                        let out = submit_holders(&mut chain.evm, source, e.trader, &set, &incumbent);
                        assert_eq!(
                            out.success,
                            beats,
                            "seed {seed} epoch {epoch}: a holder set {}",
                            if beats { "that beats the incumbent was refused" } else { "that does not beat the incumbent was accepted" }
                        );
                        if beats {
                            standing = Some(set);
                        }
                    }
                }
            }
        }
    }
    assert_eq!((snapshots, seeds.len()), (276, 4));
    gas.sort_unstable();
    let max_where = |keep: &dyn Fn(&(u64, usize, usize)) -> bool| gas.iter().filter(|g| keep(g)).map(|g| g.0).max();
    eprintln!(
        "takeSnapshot gas (transaction): the seed {seeds:?}; min {}, median {}, max {}; the first snapshot: max {:?}; later, \
         no holder set: max {:?}; with a holder set of 1-3: max {:?}, of 10: max {:?}",
        gas[0].0,
        gas[gas.len() / 2].0,
        gas[gas.len() - 1].0,
        max_where(&|g| g.2 == 1),
        max_where(&|g| g.2 > 1 && g.1 == 0),
        max_where(&|g| g.2 > 1 && (1..=3).contains(&g.1)),
        max_where(&|g| g.2 > 1 && g.1 == 10),
    );
    eprintln!("takeSnapshot gas once the rings are full, no holder set: {steady:?}");
    for (i, seen) in distinct.iter().enumerate() {
        assert!(seen.len() > 1, "KPI {i} never moved: {seen:?}");
    }
}

/// The whole loop with nothing posted by hand, through the real verifier: each epoch the
/// economy ticks on the controller's parameters, trades move the market, anyone takes the
/// on-chain snapshot, the operator proves the default model on exactly the snapshot read
/// back from the chain and submits it, and the next tick obeys the decision. A proof on
/// other KPIs is refused. Submitting against this source costs at most 30k gas more than
/// against the reporter source (the same proof, KPIs and epoch).
#[test]
fn the_loop_closes_on_chain_with_real_proofs() {
    let prover = Prover::new();
    let mut evm = Evm::new();
    let e = Economy::deploy(&mut evm, [0, 0, 0, 0]);
    let (source, _) = kpi_source(&mut evm, &e, EPOCH_LENGTH / 2);
    let mut chain = Chain::on(evm, Mode::Autonomous, VerifierKind::Real, source);
    let controller = chain.controller;
    e.connect(&mut chain.evm, controller);
    e.ok(&mut chain.evm, e.trader, e.token, ZkpToken::approveCall { spender: e.pair, amount: U256::MAX }.abi_encode());
    // Epoch 1's call seeds the averages (as `zkpolicy deploy` does); epoch 2 is the first decided.
    chain.evm.advance(60);
    e.ok(&mut chain.evm, ANYONE, source, EconomyKpiSource::takeSnapshotCall { incumbent: vec![] }.abi_encode());
    chain.evm.advance(EPOCH_LENGTH - 60);
    // The reporter-source twin of this chain, for the gas comparison.
    let mut reporter = Chain::with_source(Mode::Autonomous, VerifierKind::Real, SourceKind::Reporter);
    let mut params = initial();
    let mut gas = Vec::new();
    for round in 0..4 {
        let out = e.tick(&mut chain.evm);
        let taken = event::<TokenEconomy::ParametersTaken>(&out).expect("taken");
        assert_eq!(taken.values.map(|v| v.to::<i64>()).to_vec(), params, "round {round}: the tick takes the decided parameters");
        chain.evm.advance(600);
        let swap =
            ConstantProductPair::swapCall { tokenIn: false, amountIn: tokens(50_000 * (round + 1)), minOut: U256::ZERO, to: e.trader };
        e.ok(&mut chain.evm, e.trader, e.pair, swap.abi_encode());
        chain.evm.advance(600);
        e.ok(&mut chain.evm, ANYONE, source, EconomyKpiSource::takeSnapshotCall { incumbent: vec![] }.abi_encode());
        let epoch = chain.current_epoch();
        let snapshot = e.read(&mut chain.evm, source, EconomyKpiSource::snapshotCall { epoch });
        let kpis: Vec<i64> = snapshot.kpis.iter().map(|v| i64::try_from(*v).expect("small")).collect();
        let quantized = QuantizedKpis::new(prover.model().card(), kpis.clone()).expect("in range");
        let (outputs, proof) = prover.prove(&quantized, epoch);

        // A valid proof on other KPIs than the chain's snapshot: refused by the verifier.
        let mut other = kpis.clone();
        other[0] = if other[0] > 0 { other[0] - 1 } else { 1 };
        let (other_outputs, other_proof) = prover.prove(QuantizedKpis::new(prover.model().card(), other).expect("in range"), epoch);
        assert_eq!(error_name(&chain.submit(epoch, &other_outputs, &other_proof)), "InvalidProof", "round {round}");

        let out = chain.submit(epoch, &outputs, &proof);
        assert!(out.success, "round {round}: {}", error_name(&out));
        params = guard(&params, &outputs);
        assert_eq!(chain.parameters(), params, "round {round}");

        while reporter.current_epoch() < epoch {
            reporter.next_epoch();
        }
        assert!(reporter.commit(epoch, &kpis).success);
        let by_reporter = reporter.submit(epoch, &outputs, &proof);
        assert!(by_reporter.success, "round {round}: {}", error_name(&by_reporter));
        gas.push((out.gas_used, by_reporter.gas_used));
        // To the next epoch's start: its snapshot is taken early in its window.
        chain.evm.advance(EPOCH_LENGTH - 1_200);
    }
    let out = e.tick(&mut chain.evm);
    let taken = event::<TokenEconomy::ParametersTaken>(&out).expect("taken");
    assert_eq!(taken.values.map(|v| v.to::<i64>()).to_vec(), params, "the last decision reaches the economy");
    eprintln!("submitAdjustment gas, on-chain source vs reporter source: {gas:?}");
    for (onchain, by_reporter) in gas {
        assert!(onchain <= by_reporter + 30_000, "{onchain} vs {by_reporter}");
    }
}

/// The snapshot of an epoch can be taken only in its first `snapshotWindow` seconds (at
/// most half an epoch): the first caller chooses where the averaging window ends within
/// that span and no later.
#[test]
fn the_snapshot_is_taken_early_in_its_epoch_or_not_at_all() {
    let mut evm = Evm::new();
    let e = Economy::deploy(&mut evm, [500, 800, 100, 30]);
    let (source, _) = kpi_source(&mut evm, &e, 600);
    let genesis = e.read(&mut evm, e.economy, TokenEconomy::genesisCall {});
    let take = EconomyKpiSource::takeSnapshotCall { incumbent: vec![] }.abi_encode();
    evm.advance(600 - (evm.timestamp() - genesis));
    let out = evm.call_from(ANYONE, source, take.clone()).expect("executes");
    assert!(!out.success);
    let reason = zkpolicy_contracts::revert_reason(&out.output);
    assert!(reason.starts_with("SnapshotWindowClosed: epoch 1's snapshot could be taken only until"), "{reason}");
    // The next epoch, inside its window.
    evm.advance(EPOCH_LENGTH - 600 + 599);
    e.ok(&mut evm, ANYONE, source, take);
    // A window of zero or longer than half an epoch is refused at deployment.
    let selector = hex::encode(<EconomyKpiSource::BadSnapshotWindow as alloy_sol_types::SolError>::SELECTOR);
    for window in [0, EPOCH_LENGTH / 2 + 1] {
        let refused = try_kpi_source(&mut evm, &e, window).expect_err("refused");
        assert!(refused.contains(&selector), "window {window}: {refused}");
    }
}

/// The source's first call only seeds the averages: it writes no KPIs (the controller
/// cannot decide that epoch: `NoSnapshot`), says so in its log, and takes the epoch's
/// turn (`AlreadyTaken`); the next epoch's snapshot is the first, an average over the
/// time since the seed. An empty pool has no price to average from: the seed is refused.
#[test]
fn the_first_snapshot_only_seeds_the_averages() {
    let mut evm = Evm::new();
    let e = Economy::deploy(&mut evm, [500, 800, 100, 30]);
    let (source, _) = kpi_source(&mut evm, &e, EPOCH_LENGTH / 2);
    let mut chain = Chain::on(evm, Mode::Autonomous, VerifierKind::Stub, source);
    let controller = chain.controller;
    e.connect(&mut chain.evm, controller);
    let take = EconomyKpiSource::takeSnapshotCall { incumbent: vec![] }.abi_encode();
    chain.evm.advance(60);
    let out = e.ok(&mut chain.evm, ANYONE, source, take.clone());
    assert_eq!(event::<EconomyKpiSource::SnapshotSeeded>(&out).map(|s| s.epoch), Some(1));
    assert!(event::<EconomyKpiSource::SnapshotTaken>(&out).is_none());
    assert!(EconomyKpiSource::takeSnapshotCall::abi_decode_returns(&out.output).expect("kpis").is_empty());
    let stored = e.read(&mut chain.evm, source, EconomyKpiSource::snapshotCall { epoch: 1 });
    assert_eq!((stored.kpis.len(), stored.postedAt), (0, 0));
    assert!(e.read(&mut chain.evm, source, EconomyKpiSource::takenCall { epoch: 1 }));
    let marks = e.read(&mut chain.evm, source, EconomyKpiSource::stateCall {});
    assert_eq!((marks.lastAt, marks.count), (chain.evm.timestamp(), 0));
    let again = chain.evm.call_from(ANYONE, source, take.clone()).expect("executes");
    let reason = zkpolicy_contracts::revert_reason(&again.output);
    assert!(!again.success && reason.starts_with("AlreadyTaken: epoch 1"), "{reason}");
    assert_eq!(error_name(&chain.submit(1, &[0, 0, 0, 0], &[])), "NoSnapshot");

    // Epoch 2: the first snapshot, averaged over the time since the seed, decides.
    chain.next_epoch();
    let out = e.ok(&mut chain.evm, ANYONE, source, take.clone());
    assert!(event::<EconomyKpiSource::SnapshotTaken>(&out).is_some());
    let stored = e.read(&mut chain.evm, source, EconomyKpiSource::snapshotCall { epoch: 2 });
    assert_eq!((stored.kpis.len(), stored.postedAt), (8, chain.evm.timestamp()));
    let out = chain.submit(2, &[0, 0, 0, 0], &[]);
    assert!(out.success, "{}", error_name(&out));

    // An economy whose pool was emptied: nothing to seed from.
    let mut evm = Evm::new();
    let e = Economy::deploy(&mut evm, [500, 800, 100, 30]);
    let (source, _) = kpi_source(&mut evm, &e, EPOCH_LENGTH / 2);
    let admin = evm.caller();
    let shares = e.read(&mut evm, e.pair, ConstantProductPair::balanceOfCall { who: admin });
    let all = ConstantProductPair::removeLiquidityCall { shares, minToken: U256::ZERO, minQuote: U256::ZERO };
    e.ok(&mut evm, admin, e.pair, all.abi_encode());
    evm.advance(60);
    let refused = evm.call_from(ANYONE, source, take).expect("executes");
    let reason = zkpolicy_contracts::revert_reason(&refused.output);
    assert!(!refused.success && reason.starts_with("NoLiquidity"), "{reason}");
    assert!(!e.read(&mut evm, source, EconomyKpiSource::takenCall { epoch: 1 }));
}

/// The hand-written `EconomyKpiSource` bindings hold every error and event the committed
/// artifact has (reverts and logs always decode) and no function it lacks.
#[test]
fn kpi_source_bindings_match_the_committed_artifact() {
    use std::collections::BTreeSet;
    let i = zkpolicy_contracts::economy::ECONOMY_CONTRACTS.iter().position(|n| *n == "EconomyKpiSource").expect("listed");
    let json: serde_json::Value = serde_json::from_str(zkpolicy_contracts::economy::ECONOMY_ARTIFACTS[i]).expect("JSON");
    let abi: alloy_json_abi::JsonAbi = serde_json::from_value(json["abi"].clone()).expect("an ABI");
    let set = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let functions: BTreeSet<String> = abi.functions().map(|f| f.signature()).collect();
    let bound = set(EconomyKpiSource::EconomyKpiSourceCalls::SIGNATURES);
    assert!(bound.is_subset(&functions), "bound functions the contract lacks: {:?}", bound.difference(&functions).collect::<Vec<_>>());
    let errors: BTreeSet<String> = abi.errors().map(|e| e.signature()).collect();
    assert_eq!(set(EconomyKpiSource::EconomyKpiSourceErrors::SIGNATURES), errors);
    let events: BTreeSet<String> = abi.events().map(|e| e.signature()).collect();
    assert_eq!(set(EconomyKpiSource::EconomyKpiSourceEvents::SIGNATURES), events);
}
