//! Each tick mints, rewards, burns and charges fees by the controller's parameters, and no answer from the controller stops it.

use alloy_primitives::{Address, I256, U256};
use alloy_sol_types::SolCall;
use zkpolicy_contracts::controller::PolicyController::Mode;
use zkpolicy_contracts::economy::{ConstantProductPair, StakingVault, TokenEconomy};
use zkpolicy_lab::sim::{self, deployment_guardrails};

use super::{economy_for, event, tokens, PROTOCOL_SHARE_BPS};
use crate::controller::{Chain, EPOCH_LENGTH};

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
