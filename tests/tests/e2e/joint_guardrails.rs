//! Guardrails as production controllers learned them (issue 27): correlated parameters
//! move together by their proven steps or not at all, and a decision is applied in full
//! in one transaction or not at all — every revert leaves every parameter, cap anchor and
//! the queue as they were.

use std::collections::BTreeSet;

use alloy_primitives::{FixedBytes, I256};
use alloy_sol_types::{SolCall, SolEvent};
use zkpolicy_contracts::controller::PolicyController::{self, Mode};
use zkpolicy_contracts::controller::{unpack_int64, VerifierStub};
use zkpolicy_lab::sim::{self, deployment_guardrails};

use crate::controller::{decoded, error_name, int, Chain, SourceKind, VerifierKind, ADJUSTMENT_DELAY, EPOCH_LENGTH};

/// The bundled rails with emission and staking reward as one group (the reward is paid
/// out of emission: one must not move without the other) and the fee alone in a group
/// of its own (it moves by exactly its proven step or not at all); the burn rate is
/// ungrouped and clamped alone, as every rail was before groups.
fn grouped_rails() -> Vec<sim::Guardrail> {
    let mut rails = deployment_guardrails();
    (rails[0].group, rails[1].group, rails[3].group) = (1, 1, 2);
    rails
}

/// Decides `outputs` for the current epoch (committing zero KPIs first) and, in Timelocked
/// mode, executes it after the delay; returns the guarded values the decision logged.
fn decide(chain: &mut Chain, mode: Mode, outputs: &[i64]) -> (Vec<i64>, bool) {
    let epoch = chain.current_epoch();
    assert!(chain.commit(epoch, &[0; 8]).success);
    let out = chain.submit(epoch, outputs, &[]);
    assert!(out.success, "{}", decoded(&out));
    let (topics, data) = out
        .logs
        .iter()
        .find(|(topics, _)| topics.first() == Some(&PolicyController::Decision::SIGNATURE_HASH.0))
        .expect("a Decision event");
    let decision = PolicyController::Decision::decode_raw_log(topics.iter().map(|t| FixedBytes::<32>::from(*t)), data).expect("decodes");
    if mode == Mode::Timelocked {
        chain.evm.advance(ADJUSTMENT_DELAY);
        let anyone = chain.anyone;
        let out = chain.send(anyone, PolicyController::executeAdjustmentCall { epoch }.abi_encode());
        assert!(out.success, "{}", decoded(&out));
    }
    (unpack_int64(&decision.guarded).expect("packed"), decision.guardrailHit)
}

#[test]
fn correlated_rails_move_together_by_their_proven_steps_or_not_at_all() {
    let rails = grouped_rails();
    for mode in [Mode::Autonomous, Mode::Timelocked] {
        let mut chain = Chain::with_rails(mode, &rails);
        let mut params: Vec<i64> = rails.iter().map(|g| g.initial).collect();
        // (proposal, what the controller must do with it)
        for (outputs, want) in [
            // Every step inside its rail: all move, the burn rate too.
            ([10, 20, 5, 5], [510, 820, 105, 35]),
            // Emission's step is clamped (30 > 25): its group holds, staking included; the
            // burn rate is clamped alone (30 → 25); the fee's step fits.
            ([30, 20, 30, 5], [510, 820, 130, 40]),
            // The fee's own step is clamped (11 > 10): its one-member group holds.
            ([-5, 10, 0, 11], [505, 830, 130, 40]),
            // Only staking would be clamped (-61): emission holds with it.
            ([25, -61, -25, -10], [505, 830, 105, 30]),
        ] {
            let twin = sim::guard(&params, &outputs, &rails).expect("twin");
            let (guarded, hit) = decide(&mut chain, mode, &outputs);
            assert_eq!(twin.values, want, "{mode:?} {outputs:?}: the twin");
            assert_eq!(guarded, want, "{mode:?} {outputs:?}: the decision log");
            assert_eq!(hit, twin.hit, "{mode:?} {outputs:?}: guardrailHit");
            assert_eq!(chain.parameters(), want, "{mode:?} {outputs:?}: applied");
            params = want.to_vec();
            chain.next_epoch();
        }
    }
}

/// Everything a revert could leave half-done: the parameters, every cap anchor, the queued
/// decision (values, eta, deadline), the last decided epoch and the pause flag.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    queued_epoch: u64,
    parameters: Vec<i64>,
    anchors: Vec<sim::Anchor>,
    queued: (Vec<I256>, u64, u64),
    last_epoch: u64,
    paused: bool,
}

fn observe(chain: &mut Chain, queued_epoch: u64) -> Observed {
    let anyone = chain.anyone;
    let mut read = |data: Vec<u8>| chain.send(anyone, data).output;
    let queued = read(PolicyController::queuedAdjustmentCall { epoch: queued_epoch }.abi_encode());
    let queued = PolicyController::queuedAdjustmentCall::abi_decode_returns(&queued).expect("queued");
    let last = read(PolicyController::lastEpochCall {}.abi_encode());
    let paused = read(PolicyController::pausedCall {}.abi_encode());
    Observed {
        queued_epoch,
        parameters: chain.parameters(),
        anchors: (0..4).map(|i| chain.anchor(i)).collect(),
        queued: (queued.values, queued.eta, queued.deadline),
        last_epoch: PolicyController::lastEpochCall::abi_decode_returns(&last).expect("uint64"),
        paused: PolicyController::pausedCall::abi_decode_returns(&paused).expect("bool"),
    }
}

/// Grouped and capped rails, so that a half-applied decision would show in values, groups
/// and anchors alike.
fn capped_rails() -> Vec<sim::Guardrail> {
    let mut rails = grouped_rails();
    (rails[0].max_change_bps, rails[0].window) = (300, 10 * EPOCH_LENGTH);
    (rails[2].max_change_bps, rails[2].window) = (5_000, 3 * EPOCH_LENGTH);
    rails
}

/// Each named revert of `submitAdjustment` and `executeAdjustment`, with a decision queued
/// and windows running: the call is refused by that name and the controller's whole
/// observable state is what it was before.
#[test]
fn every_refused_decision_leaves_every_parameter_anchor_and_the_queue_unchanged() {
    let mut chain = Chain::build(Mode::Timelocked, VerifierKind::Stub, SourceKind::Reporter, &capped_rails());
    let anyone = chain.anyone;
    decide(&mut chain, Mode::Timelocked, &[10, -40, 20, 8]);
    chain.evm.advance(EPOCH_LENGTH - ADJUSTMENT_DELAY);
    // Epoch 2, queued and waiting for its delay.
    assert!(chain.commit(2, &[0; 8]).success);
    assert!(chain.submit(2, &[-10, 30, -10, -5], &[]).success);
    let mut refusals = BTreeSet::new();
    let mut refused = |chain: &mut Chain, out: zkpolicy_verifier::evm::CallOutcome, name: &str, before: &Observed| {
        assert_eq!(error_name(&out), name);
        assert_eq!(&observe(chain, before.queued_epoch), before, "after {name}");
        refusals.insert(name.to_string());
    };
    let execute = |epoch: u64| PolicyController::executeAdjustmentCall { epoch }.abi_encode();
    let before = observe(&mut chain, 2);
    assert!(before.queued.1 != 0 && before.anchors.iter().any(|a| a.since != 0), "a queue and a window to keep: {before:?}");

    let out = chain.send(anyone, execute(1));
    refused(&mut chain, out, "NothingQueued", &before);
    let out = chain.send(anyone, execute(2));
    refused(&mut chain, out, "NotYet", &before);
    let out = chain.submit(2, &[1, 1, 1, 1], &[]);
    refused(&mut chain, out, "EpochDecided", &before);
    let out = chain.submit(3, &[1, 1, 1, 1], &[]);
    refused(&mut chain, out, "NotCurrentEpoch", &before);

    // Epoch 3: the queued decision of epoch 2 is executable, and is left alone.
    chain.next_epoch();
    let out = chain.submit(3, &[1, 1, 1, 1], &[]);
    refused(&mut chain, out, "NoSnapshot", &before);
    assert!(chain.commit(3, &[0; 8]).success);
    let out = chain.submit(3, &[1, 1, 1], &[]);
    refused(&mut chain, out, "WrongOutputCount", &before);
    let out = chain.submit_raw(anyone, 3, vec![int(1), int(1), I256::MAX, int(1)], &[]);
    refused(&mut chain, out, "OutputOutOfRange", &before);
    let verifier = chain.verifier;
    assert!(chain.evm.call(verifier, VerifierStub::setAcceptCall { accept_: false }.abi_encode()).expect("executes").success);
    let out = chain.submit(3, &[1, 1, 1, 1], &[]);
    refused(&mut chain, out, "InvalidProof", &before);
    assert!(chain.evm.call(verifier, VerifierStub::setAcceptCall { accept_: true }.abi_encode()).expect("executes").success);

    // Past the queued decision's deadline and the snapshot's age.
    chain.evm.advance(EPOCH_LENGTH / 2 + 1);
    let out = chain.send(anyone, execute(2));
    refused(&mut chain, out, "AdjustmentExpired", &before);
    let out = chain.submit(3, &[1, 1, 1, 1], &[]);
    refused(&mut chain, out, "StaleSnapshot", &before);

    // A pause cancels the queue (its own effect); nothing refused while paused changes more.
    let guardian = chain.guardian;
    assert!(chain.send(guardian, PolicyController::pauseCall {}.abi_encode()).success);
    let paused = observe(&mut chain, 2);
    assert_eq!((paused.queued.1, paused.paused, &paused.parameters), (0, true, &before.parameters));
    let out = chain.send(anyone, execute(2));
    refused(&mut chain, out, "ControllerPaused", &paused);
    let out = chain.submit(3, &[1, 1, 1, 1], &[]);
    refused(&mut chain, out, "ControllerPaused", &paused);

    // A hostile KPI source: the KPI checks refuse before anything is written.
    let mut hostile = Chain::build(Mode::Timelocked, VerifierKind::Stub, SourceKind::Hostile, &capped_rails());
    hostile.serve(&[I256::ZERO; 8]);
    assert!(hostile.submit(1, &[10, -40, 20, 8], &[]).success);
    let before = observe(&mut hostile, 1);
    hostile.next_epoch();
    hostile.serve(&[I256::ZERO; 7]);
    let out = hostile.submit(2, &[1, 1, 1, 1], &[]);
    refused(&mut hostile, out, "WrongKpiCount", &before);
    hostile.serve(&[I256::ZERO, I256::MIN, I256::ZERO, I256::ZERO, I256::ZERO, I256::ZERO, I256::ZERO, I256::ZERO]);
    let out = hostile.submit(2, &[1, 1, 1, 1], &[]);
    refused(&mut hostile, out, "KpiOutOfRange", &before);
    let every: BTreeSet<String> = [
        "ControllerPaused",
        "NotCurrentEpoch",
        "EpochDecided",
        "NoSnapshot",
        "StaleSnapshot",
        "WrongOutputCount",
        "WrongKpiCount",
        "KpiOutOfRange",
        "OutputOutOfRange",
        "InvalidProof",
        "NothingQueued",
        "NotYet",
        "AdjustmentExpired",
    ]
    .map(String::from)
    .into();
    assert_eq!(refusals, every, "every revert of submitAdjustment and executeAdjustment");
}
