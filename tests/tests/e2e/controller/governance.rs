//! Governance: changes only through the timelock; advisory mode records a decision, timelocked mode queues it.

use alloy_primitives::{FixedBytes, U256};
use alloy_sol_types::{SolCall, SolConstructor, SolInterface};
use zkpolicy_contracts::controller::PolicyController::{self, Mode, PolicyControllerErrors};
use zkpolicy_contracts::controller::{committed_contracts, VerifierStub};
use zkpolicy_lab::sim;
use zkpolicy_prover::evm as prover_evm;

use super::{error_name, guard, initial, Chain, VerifierKind, ADJUSTMENT_DELAY, GOVERNANCE_DELAY};

#[test]
fn governed_changes_go_only_through_the_timelock() {
    let mut chain = Chain::new(Mode::Autonomous, VerifierKind::Stub);
    let (anyone, governance) = (chain.anyone, chain.governance);
    let set_mode = PolicyController::setModeCall { mode_: Mode::Advisory }.abi_encode();
    // Direct calls, from anyone and from governance itself.
    assert_eq!(error_name(&chain.send(anyone, set_mode.clone())), "OnlyThroughTimelock");
    assert_eq!(error_name(&chain.send(governance, set_mode.clone())), "OnlyThroughTimelock");
    // Only governance schedules and executes.
    let schedule = PolicyController::scheduleCall { data: set_mode.clone().into() }.abi_encode();
    assert_eq!(error_name(&chain.send(anyone, schedule.clone())), "NotGovernance");
    assert!(chain.send(governance, schedule).success);
    let execute = PolicyController::executeCall { data: set_mode.into() }.abi_encode();
    assert_eq!(error_name(&chain.send(anyone, execute.clone())), "NotGovernance");
    // Before the delay.
    chain.evm.advance(GOVERNANCE_DELAY - 10);
    assert_eq!(error_name(&chain.send(governance, execute.clone())), "NotYet");
    chain.evm.advance(10);
    assert!(chain.send(governance, execute.clone()).success);
    let out = chain.send(anyone, PolicyController::modeCall {}.abi_encode());
    assert_eq!(PolicyController::modeCall::abi_decode_returns(&out.output).expect("mode"), Mode::Advisory);
    // A scheduled call runs once.
    assert_eq!(error_name(&chain.send(governance, execute)), "NotScheduled");
    // Guardrails that would put a current parameter out of bounds are refused.
    let bad = PolicyController::setGuardrailCall {
        i: U256::from(0),
        g: prover_evm::contract_rail(&sim::Guardrail::new("emission_rate_bps", 600, 600, 900, 5)),
    }
    .abi_encode();
    assert!(chain.send(governance, PolicyController::scheduleCall { data: bad.clone().into() }.abi_encode()).success);
    chain.evm.advance(GOVERNANCE_DELAY);
    assert_eq!(error_name(&chain.send(governance, PolicyController::executeCall { data: bad.into() }.abi_encode())), "CallFailed");
    // A verifier whose model has another number of outputs is refused: its card does not fit.
    let contracts = committed_contracts().expect("the committed artifacts");
    let three_outputs = VerifierStub::constructorCall {
        commitment_: FixedBytes::repeat_byte(0x77),
        kpiCount_: U256::from(8),
        parameterCount_: U256::ZERO,
        outputCount_: U256::from(3),
        ranges_: vec![0u8; 16 * 11].into(),
    }
    .abi_encode();
    let other = chain.evm.deploy([contracts["VerifierStub"].bytecode.clone(), three_outputs].concat()).expect("deploys").address;
    let swap = PolicyController::setVerifierCall { verifier_: other }.abi_encode();
    assert!(chain.send(governance, PolicyController::scheduleCall { data: swap.clone().into() }.abi_encode()).success);
    chain.evm.advance(GOVERNANCE_DELAY);
    let failed = chain.send(governance, PolicyController::executeCall { data: swap.into() }.abi_encode());
    let PolicyControllerErrors::CallFailed(inner) = PolicyControllerErrors::abi_decode(&failed.output).expect("decodes") else {
        panic!("expected CallFailed");
    };
    assert!(matches!(PolicyControllerErrors::abi_decode(&inner.reason), Ok(PolicyControllerErrors::BadModelCard(_))));
}

#[test]
fn advisory_records_and_timelocked_queues() {
    // Advisory: the decision is logged, the parameters stay.
    let mut chain = Chain::new(Mode::Advisory, VerifierKind::Stub);
    assert!(chain.commit(1, &[0; 8]).success);
    assert!(chain.submit(1, &[40, -40, 10, 5], &[]).success);
    assert_eq!(chain.parameters(), initial());

    // Timelocked: queued, not executable before the delay, then applied; governance can cancel.
    let mut chain = Chain::new(Mode::Timelocked, VerifierKind::Stub);
    assert!(chain.commit(1, &[0; 8]).success);
    assert!(chain.submit(1, &[40, -40, 10, 5], &[]).success);
    assert_eq!(chain.parameters(), initial());
    let anyone = chain.anyone;
    let execute = PolicyController::executeAdjustmentCall { epoch: 1 }.abi_encode();
    assert_eq!(error_name(&chain.send(anyone, execute.clone())), "NotYet");
    chain.evm.advance(ADJUSTMENT_DELAY);
    assert!(chain.send(anyone, execute.clone()).success);
    assert_eq!(chain.parameters(), guard(&initial(), &[40, -40, 10, 5]));
    assert_eq!(error_name(&chain.send(anyone, execute)), "NothingQueued");

    chain.next_epoch();
    assert!(chain.commit(2, &[0; 8]).success);
    assert!(chain.submit(2, &[1, 1, 1, 1], &[]).success);
    let cancel = PolicyController::cancelAdjustmentCall { epoch: 2 }.abi_encode();
    assert_eq!(error_name(&chain.send(anyone, cancel.clone())), "NotGovernance");
    let governance = chain.governance;
    assert!(chain.send(governance, cancel).success);
    chain.evm.advance(ADJUSTMENT_DELAY);
    assert_eq!(error_name(&chain.send(anyone, PolicyController::executeAdjustmentCall { epoch: 2 }.abi_encode())), "NothingQueued");
}
