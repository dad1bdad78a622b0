//! The whole loop on chain with real proofs: the economy ticks on each decision proven on the chain's own snapshot.

use alloy_primitives::U256;
use alloy_sol_types::SolCall;
use zkpolicy_contracts::controller::PolicyController::Mode;
use zkpolicy_contracts::economy::{ConstantProductPair, EconomyKpiSource, TokenEconomy, ZkpToken};
use zkpolicy_model::QuantizedKpis;
use zkpolicy_verifier::evm::Evm;

use super::{event, kpi_source, tokens, Economy, ANYONE};
use crate::controller::{error_name, guard, initial, Chain, Prover, SourceKind, VerifierKind, EPOCH_LENGTH};

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
    e.ok(&mut chain.evm, e.trader, e.token, ZkpToken::approveCall { spender: e.pair, value: U256::MAX }.abi_encode());
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
