//! The treasury's quote leaves only through governance's timelock, after its delay: a one-off spend or the budget stream.

use alloy_primitives::{Address, U256};
use alloy_sol_types::{SolCall, SolInterface};
use zkpolicy_contracts::controller::PolicyController::Mode;
use zkpolicy_contracts::economy::{EconomyTimelock, TokenEconomy};
use zkpolicy_lab::sim::deployment_guardrails;
use zkpolicy_verifier::evm::CallOutcome;

use super::{economy_for, event, tokens, ANYONE, TREASURY_DELAY};
use crate::controller::Chain;

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
