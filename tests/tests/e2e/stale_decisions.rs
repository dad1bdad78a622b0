//! Finding 5 of issue 27: a queued Timelocked decision must never outlive what it meant.
//! It used to survive mode switches, verifier swaps and pauses, and to execute at any
//! age. Each scenario of the finding is replayed here by an attacker (anyone may call
//! `executeAdjustment`) who must be refused by name, with no parameter moved.

use alloy_primitives::{FixedBytes, U256};
use alloy_sol_types::{SolCall, SolEvent};
use zkpolicy_contracts::controller::PolicyController::{self, Mode, Timing};
use zkpolicy_lab::sim::deployment_guardrails;
use zkpolicy_prover::evm as prover_evm;

use crate::controller::{decoded, error_name, guard, initial, Chain, VerifierKind, ADJUSTMENT_DELAY, EPOCH_LENGTH, GOVERNANCE_DELAY};

type Logs = Vec<(Vec<[u8; 32]>, Vec<u8>)>;

const DAY: u64 = 86_400;
/// The decision the attacker wants to replay, and a later, opposite one.
const QUEUED: [i64; 4] = [25, -60, 25, 10];
const LATER: [i64; 4] = [-25, 60, -25, -10];

/// A Timelocked controller (stub verifier) with `QUEUED` queued for the current epoch.
fn queued_chain() -> (Chain, u64) {
    let mut chain = Chain::new(Mode::Timelocked, VerifierKind::Stub);
    let epoch = chain.current_epoch();
    assert!(chain.commit(epoch, &[0; 8]).success);
    let out = chain.submit(epoch, &QUEUED, &[]);
    assert!(out.success, "the decision is queued");
    assert_eq!(chain.parameters(), initial(), "queued, not applied");
    (chain, epoch)
}

/// Governance makes `call` through its timelock; returns the executing transaction's logs.
fn governed(chain: &mut Chain, call: Vec<u8>) -> Logs {
    let governance = chain.governance;
    assert!(chain.send(governance, PolicyController::scheduleCall { data: call.clone().into() }.abi_encode()).success);
    chain.evm.advance(GOVERNANCE_DELAY);
    let out = chain.send(governance, PolicyController::executeCall { data: call.into() }.abi_encode());
    assert!(out.success, "{}", zkpolicy_contracts::revert_reason(&out.output));
    out.logs
}

fn execute(chain: &mut Chain, epoch: u64) -> zkpolicy_verifier::evm::CallOutcome {
    let anyone = chain.anyone;
    chain.send(anyone, PolicyController::executeAdjustmentCall { epoch }.abi_encode())
}

/// The epochs whose queued decision `logs` cancel.
fn cancelled(logs: &Logs) -> Vec<u64> {
    logs.iter()
        .filter(|(topics, _)| topics.first() == Some(&PolicyController::AdjustmentCancelled::SIGNATURE_HASH.0))
        .map(|(topics, data)| {
            PolicyController::AdjustmentCancelled::decode_raw_log(topics.iter().map(|t| FixedBytes::<32>::from(*t)), data)
                .expect("decodes")
                .epoch
        })
        .collect()
}

/// The queued decision's (eta, deadline), both 0 when none is queued for `epoch`.
fn queued(chain: &mut Chain, epoch: u64) -> (u64, u64) {
    let anyone = chain.anyone;
    let out = chain.send(anyone, PolicyController::queuedAdjustmentCall { epoch }.abi_encode());
    let q = PolicyController::queuedAdjustmentCall::abi_decode_returns(&out.output).expect("decodes");
    (q.eta, q.deadline)
}

/// Timelocked → Autonomous: the controller decides and applies newer epochs; a month after
/// it was queued, the old decision would undo the latest proven one.
#[test]
fn a_mode_switch_to_autonomous_cancels_the_queued_decision() {
    let (mut chain, epoch) = queued_chain();
    let logs = governed(&mut chain, PolicyController::setModeCall { mode_: Mode::Autonomous }.abi_encode());
    assert_eq!(cancelled(&logs), vec![epoch], "the mode switch cancels, by event");
    assert_eq!(queued(&mut chain, epoch), (0, 0));
    let now = chain.current_epoch();
    assert!(chain.commit(now, &[0; 8]).success);
    assert!(chain.submit(now, &LATER, &[]).success);
    let latest = guard(&initial(), &LATER);
    assert_eq!(chain.parameters(), latest, "the latest proven decision is applied");
    chain.evm.advance(30 * DAY - GOVERNANCE_DELAY);
    let out = execute(&mut chain, epoch);
    assert_eq!(error_name(&out), "NothingQueued", "the month-old decision must not execute");
    assert_eq!(chain.parameters(), latest, "nothing moved");
}

/// Timelocked → Advisory: parameters must no longer move at all.
#[test]
fn a_mode_switch_to_advisory_cancels_the_queued_decision() {
    let (mut chain, epoch) = queued_chain();
    governed(&mut chain, PolicyController::setModeCall { mode_: Mode::Advisory }.abi_encode());
    assert_eq!(error_name(&execute(&mut chain, epoch)), "NothingQueued");
    assert_eq!(chain.parameters(), initial(), "an advisory controller moved a parameter");
}

/// A guardian's pause cancels; sixty days later, after the unpause, nothing executes.
#[test]
fn a_pause_cancels_the_queued_decision() {
    let (mut chain, epoch) = queued_chain();
    let (guardian, governance) = (chain.guardian, chain.governance);
    let paused = chain.send(guardian, PolicyController::pauseCall {}.abi_encode());
    assert!(paused.success);
    assert_eq!(cancelled(&paused.logs), vec![epoch], "the pause cancels, by event");
    chain.evm.advance(60 * DAY);
    assert!(chain.send(governance, PolicyController::unpauseCall {}.abi_encode()).success);
    assert_eq!(error_name(&execute(&mut chain, epoch)), "NothingQueued");
    assert_eq!(chain.parameters(), initial());
}

/// With no governance change at all, a decision expires one epoch after it became executable.
#[test]
fn a_queued_decision_expires_one_epoch_after_its_delay() {
    let (mut chain, epoch) = queued_chain();
    let (eta, deadline) = queued(&mut chain, epoch);
    assert_eq!((eta, deadline), (chain.evm.timestamp() + ADJUSTMENT_DELAY, chain.evm.timestamp() + ADJUSTMENT_DELAY + EPOCH_LENGTH));
    chain.evm.advance(ADJUSTMENT_DELAY + EPOCH_LENGTH + 1);
    assert_eq!(
        decoded(&execute(&mut chain, epoch)),
        format!("AdjustmentExpired(AdjustmentExpired {{ epoch: {epoch}, deadline: {deadline} }})")
    );
    assert_eq!(chain.parameters(), initial());
    // Nothing else could revive it: a newer decision replaces it, as before.
    let now = chain.current_epoch();
    assert!(chain.commit(now, &[0; 8]).success);
    let out = chain.submit(now, &LATER, &[]);
    assert_eq!(cancelled(&out.logs), vec![epoch]);
    assert_eq!(queued(&mut chain, epoch), (0, 0));
}

/// Inside its window (from its delay to its deadline, both ends included) it still executes.
#[test]
fn a_queued_decision_executes_inside_its_window() {
    for wait in [ADJUSTMENT_DELAY, ADJUSTMENT_DELAY + EPOCH_LENGTH / 2, ADJUSTMENT_DELAY + EPOCH_LENGTH] {
        let (mut chain, epoch) = queued_chain();
        chain.evm.advance(wait);
        let out = execute(&mut chain, epoch);
        assert!(out.success, "after {wait} s: {}", error_name(&out));
        assert_eq!(chain.parameters(), guard(&initial(), &QUEUED), "after {wait} s");
    }
}

/// Every governed change that alters what the decision meant cancels it.
#[test]
fn every_governed_change_of_meaning_cancels_the_queued_decision() {
    let rails = deployment_guardrails();
    let (verifier, source) = {
        let chain = Chain::new(Mode::Timelocked, VerifierKind::Stub);
        (chain.verifier, chain.source)
    };
    let changes: Vec<(&str, Vec<u8>)> = vec![
        // The same addresses as deployed (each chain deploys identically): a change in name only still cancels.
        ("setVerifier", PolicyController::setVerifierCall { verifier_: verifier }.abi_encode()),
        ("setKpiSource", PolicyController::setKpiSourceCall { kpiSource_: source }.abi_encode()),
        ("setGuardrail", PolicyController::setGuardrailCall { i: U256::from(1), g: prover_evm::contract_rail(&rails[1]) }.abi_encode()),
        (
            "setTiming",
            PolicyController::setTimingCall { timing_: Timing { maxSnapshotAge: 3_600, adjustmentDelay: ADJUSTMENT_DELAY } }.abi_encode(),
        ),
        ("setMode", PolicyController::setModeCall { mode_: Mode::Timelocked }.abi_encode()),
    ];
    for (what, call) in changes {
        let (mut chain, epoch) = queued_chain();
        assert_eq!((chain.verifier, chain.source), (verifier, source), "deployments are deterministic");
        let logs = governed(&mut chain, call);
        assert_eq!(cancelled(&logs), vec![epoch], "{what}: the change cancels, by event");
        assert_eq!(error_name(&execute(&mut chain, epoch)), "NothingQueued", "{what} left the decision queued");
        assert_eq!(chain.parameters(), initial(), "{what}");
    }
}

/// The guardian is no party to what a decision means: a new guardian leaves it queued.
#[test]
fn a_new_guardian_leaves_the_queued_decision_alone() {
    let (mut chain, epoch) = queued_chain();
    let anyone = chain.anyone;
    let logs = governed(&mut chain, PolicyController::setGuardianCall { guardian_: anyone }.abi_encode());
    assert!(cancelled(&logs).is_empty());
    // The governance delay (a day) outlasts the decision's window: it has expired meanwhile.
    assert_eq!(error_name(&execute(&mut chain, epoch)), "AdjustmentExpired");
}
