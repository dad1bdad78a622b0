//! The reference token economy under the controller, in revm: each epoch's tick takes
//! the controller's parameters and mints, rewards, burns and charges fees by them, and
//! no answer from the controller can stop a tick. This file deploys the economy and its
//! KPI source (`Economy`, `kpi_source`) for the modules below and the other e2e modules.

mod closed_loop;
mod snapshots;
mod ticks;
mod treasury;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use alloy_primitives::{Address, B256, I256, U256};
use alloy_sol_types::{SolCall, SolConstructor, SolEvent};
use zkpolicy_contracts::economy::{
    committed_contracts, ConstantProductPair, EconomyKpiSource, EconomyTimelock, KpiConfig, KpiState, QuoteToken, StakingVault,
    TokenEconomy, ZkpToken,
};
use zkpolicy_verifier::compile::Compiled;
use zkpolicy_verifier::evm::{CallOutcome, Evm};

use crate::controller::{Chain, EPOCH_LENGTH};

pub(crate) const E18: u128 = 1_000_000_000_000_000_000;
const PROTOCOL_SHARE_BPS: u64 = 3_333;
/// Reads and permissionless calls come from here.
pub(crate) const ANYONE: Address = Address::repeat_byte(0xa4);

pub(crate) fn tokens(n: u128) -> U256 {
    U256::from(n) * U256::from(E18)
}

pub(crate) fn contracts() -> &'static BTreeMap<String, Compiled> {
    static CONTRACTS: OnceLock<BTreeMap<String, Compiled>> = OnceLock::new();
    CONTRACTS.get_or_init(|| committed_contracts().expect("the committed artifacts"))
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
        e.ok(evm, admin, token, ZkpToken::approveCall { spender: pair, value: U256::MAX }.abi_encode());
        e.ok(evm, admin, quote, ZkpToken::approveCall { spender: pair, value: U256::MAX }.abi_encode());
        e.ok(
            evm,
            admin,
            pair,
            ConstantProductPair::addLiquidityCall { maxToken: tokens(40_000_000), maxQuote: tokens(40_000_000), minShares: U256::from(1) }
                .abi_encode(),
        );
        e.ok(evm, admin, token, ZkpToken::transferCall { to: staker, value: tokens(400_000_000) }.abi_encode());
        e.ok(evm, staker, token, ZkpToken::approveCall { spender: vault, value: U256::MAX }.abi_encode());
        e.ok(evm, staker, vault, StakingVault::stakeCall { amount: tokens(400_000_000) }.abi_encode());
        e.ok(evm, trader, quote, ZkpToken::approveCall { spender: pair, value: U256::MAX }.abi_encode());
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
        self.read(evm, asset, ZkpToken::balanceOfCall { account: who })
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
        let staked: U256 = e.read(evm, e.vault, StakingVault::stakeOfCall(*who));
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
