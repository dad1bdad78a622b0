//! Real proofs accepted and applied; the verifier's card; the parameters as public inputs; fixed-point output maps.

use alloy_primitives::{FixedBytes, I256, U256};
use alloy_sol_types::{SolCall, SolEvent};
use zkpolicy_contracts::controller::PolicyController::{self, Mode};
use zkpolicy_contracts::controller::{unpack_int64, IZkPolicyVerifier};
use zkpolicy_lab::sim::{self, deployment_guardrails};
use zkpolicy_model::Observation;
use zkpolicy_prover::evm as prover_evm;
use zkpolicy_verifier::solidity;

use super::{
    bundled_model, decoded, error_name, guard, initial, int, sample_kpis, Chain, Prover, SourceKind, VerifierKind, EPOCH_LENGTH,
    GOVERNANCE_DELAY,
};

#[test]
fn a_real_proof_is_accepted_and_applied_through_the_guardrails() {
    let prover = Prover::new();
    let mut chain = Chain::new(Mode::Autonomous, VerifierKind::Real);
    assert_eq!(chain.current_epoch(), 1, "epoch 1 starts at deployment");
    let kpis = sample_kpis(prover.model(), 1);
    assert!(chain.commit(1, kpis.values()).success);
    let (outputs, bytes) = prover.prove(&kpis, 1);
    let out = chain.submit(1, &outputs, &bytes);
    assert!(out.success, "rejected: {}", decoded(&out));
    eprintln!("submitAdjustment (verification + bookkeeping): {} gas", out.gas_used);
    let expected = guard(&initial(), &outputs);
    assert_eq!(chain.parameters(), expected);
    // The decision log: epoch, the verifier's model commitment, KPI hash, proposal, guarded values, mode.
    let decision = out
        .logs
        .iter()
        .find(|(topics, _)| topics.first() == Some(&PolicyController::Decision::SIGNATURE_HASH.0))
        .expect("a Decision event");
    let event = PolicyController::Decision::decode_raw_log(decision.0.iter().map(|t| FixedBytes::from(*t)), &decision.1).expect("decodes");
    assert_eq!(event.epoch, 1);
    assert_eq!(event.modelCommitment, FixedBytes(prover.model().commitment().0));
    let kpi_words: Vec<I256> = kpis.values().iter().map(|v| int(*v)).collect();
    assert_eq!(event.kpiHash, alloy_primitives::keccak256(alloy_sol_types::SolValue::abi_encode(&kpi_words)));
    assert_eq!(unpack_int64(&event.proposed), Some(outputs.clone()));
    assert_eq!(unpack_int64(&event.guarded), Some(expected.clone()));
    // One event: in autonomous mode the decision is the application.
    assert_eq!(out.logs.len(), 1);
    assert_eq!(event.mode, Mode::Autonomous);
    assert_eq!(event.guardrailHit, sim::guard(&initial(), &outputs, &deployment_guardrails()).expect("guards").hit);
}

/// The generated verifier's model card is the model's: commitment, counts and ranges.
#[test]
fn the_verifier_serves_the_models_card() {
    let prover = Prover::new();
    let mut chain = Chain::new(Mode::Autonomous, VerifierKind::Real);
    let verifier = chain.verifier;
    let out = chain.evm.call(verifier, IZkPolicyVerifier::modelCardCall {}.abi_encode()).expect("executes");
    let card = IZkPolicyVerifier::modelCardCall::abi_decode_returns(&out.output).expect("decodes");
    let want = prover_evm::provenance(prover.circuit.model().card(), prover.circuit.shape().k);
    assert_eq!(card.commitment.0, prover.model().commitment().0);
    assert_eq!((card.kpiCount, card.outputCount), (U256::from(8), U256::from(4)));
    assert_eq!(card.ranges.to_vec(), want.packed_ranges());
    let ranges = prover.model().input_ranges();
    assert_eq!(card.ranges[..8], ranges[0].lo.to_be_bytes());
    assert_eq!(card.ranges[8..16], ranges[0].hi.to_be_bytes());
    let anyone = chain.anyone;
    let out = chain.send(anyone, PolicyController::modelCommitmentCall {}.abi_encode());
    assert_eq!(PolicyController::modelCommitmentCall::abi_decode_returns(&out.output).expect("bytes32").0, prover.model().commitment().0);
}

/// A model that reads the parameters: the controller rebuilds them from its own storage,
/// so a proof made on any other parameter vector (one bps off, or last epoch's) is refused,
/// a proof on the current ones is applied, and no rail may reach outside the range the
/// model declares for its parameter (else a value could arise that no proof can carry).
#[test]
fn the_parameters_are_public_inputs_the_controller_rebuilds() {
    let (prover, code) = Prover::parameter_aware();
    let model = prover.model().clone();
    let mut chain = Chain::build(Mode::Autonomous, VerifierKind::Code(code.clone()), SourceKind::Reporter, &deployment_guardrails());
    let out = chain.send(chain.anyone, PolicyController::parametersArePublicInputsCall {}.abi_encode());
    assert!(PolicyController::parametersArePublicInputsCall::abi_decode_returns(&out.output).expect("bool"));
    // KPIs on which the policy moves some parameter, so the second epoch reads new ones.
    let (kpis, outputs, bytes) = (1..50)
        .map(|seed| {
            let kpis = sample_kpis(&model, seed);
            let input = Observation::new(&model, kpis.clone(), initial()).expect("the rails lie in the declared ranges");
            let (outputs, bytes) = prover.prove(input, 1);
            (kpis, outputs, bytes)
        })
        .find(|(_, outputs, _)| guard(&initial(), outputs) != initial())
        .expect("some KPI vector moves a parameter");
    assert!(chain.commit(1, kpis.values()).success);
    // Valid proofs of the right KPIs on other parameters: the controller's instance differs.
    for i in 0..4 {
        let mut other = initial();
        other[i] += if other[i] > 0 { -1 } else { 1 };
        let (o, b) = prover.prove(Observation::new(&model, kpis.clone(), other).expect("in range"), 1);
        assert_eq!(error_name(&chain.submit(1, &o, &b)), "InvalidProof", "parameter {i} one bps off");
    }
    let out = chain.submit(1, &outputs, &bytes);
    assert!(out.success, "rejected: {}", decoded(&out));
    eprintln!("submitAdjustment of a model that reads the parameters: {} gas", out.gas_used);
    let moved = guard(&initial(), &outputs);
    assert_eq!(chain.parameters(), moved);

    // Epoch 2: last epoch's parameters no longer prove anything; the current ones do.
    chain.next_epoch();
    let kpis = sample_kpis(&model, 777);
    assert!(chain.commit(2, kpis.values()).success);
    let (o, b) = prover.prove(Observation::new(&model, kpis.clone(), initial()).expect("in range"), 2);
    assert_eq!(error_name(&chain.submit(2, &o, &b)), "InvalidProof", "a proof on the parameters before the last decision");
    let (o, b) = prover.prove(Observation::new(&model, kpis, moved.clone()).expect("in range"), 2);
    let out = chain.submit(2, &o, &b);
    assert!(out.success, "rejected: {}", decoded(&out));
    assert_eq!(chain.parameters(), guard(&moved, &o));

    // No rail may reach outside the declared parameter range: at deployment...
    let mut wide = deployment_guardrails();
    wide[3].max = model.card().parameters()[3].max + 1;
    let refused = Chain::try_build(Mode::Autonomous, VerifierKind::Code(code), SourceKind::Reporter, &wide).err().expect("refused");
    let selector = hex::encode(<PolicyController::RailOutsideModelRange as alloy_sol_types::SolError>::SELECTOR);
    assert!(refused.contains(&selector), "not refused with RailOutsideModelRange: {refused}");
    // ... and through governance.
    let governance = chain.governance;
    let bad = PolicyController::setGuardrailCall { i: U256::from(3), g: prover_evm::contract_rail(&wide[3]) }.abi_encode();
    assert!(chain.send(governance, PolicyController::scheduleCall { data: bad.clone().into() }.abi_encode()).success);
    chain.evm.advance(GOVERNANCE_DELAY);
    let out = chain.send(governance, PolicyController::executeCall { data: bad.into() }.abi_encode());
    assert_eq!(error_name(&out), "CallFailed");
    let reason = zkpolicy_contracts::revert_reason(&out.output);
    assert!(reason.contains("RailOutsideModelRange: guardrail 3 reaches outside [0, 300]"), "{reason}");
}

/// The default model's card with fixed-point outputs: `(scale_bits, step)` per output.
fn fixed_point_card(maps: [(u32, i64); 4]) -> (zkpolicy_model::ModelCard, solidity::Provenance) {
    let model = bundled_model();
    let card = model.card();
    let outputs = card
        .outputs()
        .iter()
        .zip(maps)
        .map(|(o, (scale_bits, step))| zkpolicy_model::OutputSpec { scale_bits, step, ..o.clone() })
        .collect();
    let card =
        zkpolicy_model::ModelCard::new(card.name().into(), card.commitment(), card.inputs().to_vec(), card.parameters().to_vec(), outputs)
            .expect("valid card");
    let provenance = prover_evm::provenance(&card, 10);
    (card, provenance)
}

/// The controller applies `round(y · step / 2^scale_bits)` (halves up) for each proven
/// output, exactly as the native twin `ModelCard::deltas` says, negative halves included.
#[test]
fn fixed_point_outputs_reach_the_parameters_through_their_map() {
    let (card, provenance) = fixed_point_card([(4, 3), (6, 1), (0, 2), (2, 1)]);
    let mut chain = Chain::new(Mode::Autonomous, VerifierKind::StubCard(provenance));
    assert!(chain.commit(1, &[0; 8]).success);
    // 37·3/16 = 6.94 -> 7; -96/64 = -1.5 -> -1 (half up); 5·2 = 10; -6/4 = -1.5 -> -1.
    let outputs = [37, -96, 5, -6];
    let deltas = card.deltas(&outputs).expect("four outputs");
    assert_eq!(deltas, vec![7, -1, 10, -1]);
    let out = chain.submit(1, &outputs, &[]);
    assert!(out.success, "rejected: {}", decoded(&out));
    assert_eq!(chain.parameters(), guard(&initial(), &deltas));
    // Every output on a sweep: each epoch's applied change is the twin's.
    let mut params = chain.parameters();
    for (epoch, y) in (2u64..).zip([[-50, 100, -50, 20], [-8, -32, 1, -2], [49, -99, -49, 19], [8, 32, -1, 2]]) {
        chain.evm.advance(EPOCH_LENGTH);
        assert!(chain.commit(epoch, &[0; 8]).success);
        let out = chain.submit(epoch, &y, &[]);
        assert!(out.success, "epoch {epoch}: {}", decoded(&out));
        params = guard(&params, &card.deltas(&y).expect("four outputs"));
        assert_eq!(chain.parameters(), params, "epoch {epoch}");
    }
}

/// A card whose output map the controller cannot apply is refused when the controller is built.
#[test]
fn a_card_with_an_unusable_output_map_is_refused() {
    for maps in [[(25, 1), (0, 1), (0, 1), (0, 1)], [(0, 1), (0, 0), (0, 1), (0, 1)], [(0, 1), (0, 1), (0, (1 << 20) + 1), (0, 1)]] {
        let (_, mut provenance) = fixed_point_card([(0, 1); 4]);
        for (m, (scale_bits, step)) in provenance.output_maps.iter_mut().zip(maps) {
            *m = solidity::OutputMap { scale_bits, step };
        }
        let err = Chain::try_build(Mode::Autonomous, VerifierKind::StubCard(provenance), SourceKind::Reporter, &deployment_guardrails())
            .err()
            .expect("refused");
        let selector = hex::encode(<PolicyController::BadModelCard as alloy_sol_types::SolError>::SELECTOR);
        assert!(err.contains(&format!("0x{selector}")), "{maps:?}: {err}");
    }
}
