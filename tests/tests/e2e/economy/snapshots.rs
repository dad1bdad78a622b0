//! The on-chain KPI source: snapshots equal their integer twin on random economies, taken early in an epoch, seeded first.

use alloy_primitives::{Address, I256, U256};
use alloy_sol_types::SolCall;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkpolicy_contracts::controller::PolicyController::Mode;
use zkpolicy_contracts::economy::{
    economy_kpis, ConstantProductPair, EconomyKpiSource, KpiConfig, QuoteToken, StakingVault, TokenEconomy, ZkpToken,
};
use zkpolicy_lab::sim::deployment_guardrails;
use zkpolicy_verifier::evm::Evm;

use super::{economy_for, event, holdings, kpi_source, kpi_state, submit_holders, tokens, try_kpi_source, Economy, ANYONE};
use crate::controller::{error_name, Chain, VerifierKind, EPOCH_LENGTH};

/// A controller and its economy with the on-chain KPI source (snapshots in the first half of
/// each epoch), ten whales beside the staker and the trader holding random balances, and a
/// trader funded to swap both ways.
fn random_economy(rng: &mut ChaCha20Rng) -> (Chain, Economy, Address, KpiConfig, Vec<Address>) {
    let mut chain = Chain::with_rails(Mode::Autonomous, &deployment_guardrails());
    let controller = chain.controller;
    let e = economy_for(&mut chain, controller, [500, 800, 100, 30]);
    let (source, config) = kpi_source(&mut chain.evm, &e, EPOCH_LENGTH / 2);
    let admin = chain.evm.caller();
    // Ten whales beside the staker and the trader.
    let whales: Vec<Address> = (0..10u8).map(|i| Address::repeat_byte(0xc0 + i)).collect();
    for w in &whales {
        let amount = tokens(rng.gen_range(1_000_000..40_000_000));
        e.ok(&mut chain.evm, admin, e.token, ZkpToken::transferCall { to: *w, value: amount }.abi_encode());
        e.ok(&mut chain.evm, *w, e.token, ZkpToken::approveCall { spender: e.vault, value: U256::MAX }.abi_encode());
    }
    e.ok(&mut chain.evm, e.trader, e.token, ZkpToken::approveCall { spender: e.pair, value: U256::MAX }.abi_encode());
    e.ok(&mut chain.evm, admin, e.token, ZkpToken::transferCall { to: e.trader, value: tokens(20_000_000) }.abi_encode());
    e.ok(&mut chain.evm, admin, e.quote, QuoteToken::mintCall { to: e.trader, amount: tokens(100_000_000) }.abi_encode());
    (chain, e, source, config, whales)
}

/// The trader swaps a random amount, either way.
fn random_swap(evm: &mut Evm, e: &Economy, rng: &mut ChaCha20Rng) {
    let swap = ConstantProductPair::swapCall {
        tokenIn: rng.gen_bool(0.5),
        amountIn: tokens(rng.gen_range(1_000..200_000)),
        minOut: U256::ZERO,
        to: e.trader,
    };
    e.ok(evm, e.trader, e.pair, swap.abi_encode());
}

/// A random whale stakes half its balance, or unstakes a third of its stake.
fn random_stake_move(evm: &mut Evm, e: &Economy, rng: &mut ChaCha20Rng, whales: &[Address]) {
    let w = whales[rng.gen_range(0..whales.len())];
    let staked: U256 = e.read(evm, e.vault, StakingVault::stakeOfCall(w));
    let balance = e.balance(evm, e.token, w);
    if rng.gen_bool(0.5) && balance > U256::ZERO {
        e.ok(evm, w, e.vault, StakingVault::stakeCall { amount: balance / U256::from(2u64) + U256::from(1u64) }.abi_encode());
    } else if staked > U256::ZERO {
        e.ok(evm, w, e.vault, StakingVault::unstakeCall { amount: staked / U256::from(3u64) + U256::from(1u64) }.abi_encode());
    }
}

/// One to ten holders drawn from `pool`.
fn random_holder_set(rng: &mut ChaCha20Rng, mut pool: Vec<Address>) -> Vec<Address> {
    let size = rng.gen_range(1..=10);
    let mut set = Vec::new();
    for _ in 0..size {
        set.push(pool.swap_remove(rng.gen_range(0..pool.len())));
    }
    set
}

/// The incumbent that `set` must beat, and whether it does: within the epoch a set must hold
/// more than the incumbent (`standing`); the epoch's first, at least what the previous
/// epoch's final set (`stood`) holds.
fn incumbent_and_beats(
    evm: &mut Evm,
    e: &Economy,
    set: &[Address],
    standing: Option<&[Address]>,
    stood: Option<&[Address]>,
) -> (Vec<Address>, bool) {
    let held = holdings(evm, e, set);
    match (standing, stood) {
        (Some(s), _) => (s.to_vec(), held > holdings(evm, e, s)),
        (None, Some(s)) => (s.to_vec(), held >= holdings(evm, e, s)),
        (None, None) => (Vec::new(), true),
    }
}

/// KPI words as the integers they are.
fn small_ints(words: &[I256]) -> Vec<i64> {
    words.iter().map(|v| i64::try_from(*v).expect("small")).collect()
}

/// Prints takeSnapshot's gas: the seeds', the spread, and the most by kind of snapshot.
fn report_snapshot_gas(gas: &mut [(u64, usize, usize)], seeds: &[u64], steady: &[u64]) {
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
        let (mut chain, e, source, config, whales) = random_economy(&mut rng);
        let admin = chain.evm.caller();
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
            let got = small_ints(&EconomyKpiSource::takeSnapshotCall::abi_decode_returns(&out.output).expect("kpis"));
            assert_eq!(got, want, "seed {seed} epoch {epoch}: contract vs twin, state {state:?}");
            let taken = event::<EconomyKpiSource::SnapshotTaken>(&out).expect("SnapshotTaken");
            assert_eq!(taken.values, values, "seed {seed} epoch {epoch}: the unquantized values, bit for bit");
            assert_eq!(small_ints(&stored.kpis), want);
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
                    0 | 1 => random_swap(&mut chain.evm, &e, &mut rng),
                    2 => random_stake_move(&mut chain.evm, &e, &mut rng, &whales),
                    _ => {
                        let set = random_holder_set(&mut rng, whales.iter().copied().chain([e.staker, e.trader, admin]).collect());
                        let (incumbent, beats) = incumbent_and_beats(&mut chain.evm, &e, &set, standing.as_deref(), stood.as_deref());
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
    report_snapshot_gas(&mut gas, &seeds, &steady);
    for (i, seen) in distinct.iter().enumerate() {
        assert!(seen.len() > 1, "KPI {i} never moved: {seen:?}");
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
    let shares = e.read(&mut evm, e.pair, ConstantProductPair::balanceOfCall { account: admin });
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
