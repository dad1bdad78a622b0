//! Abuse: every misuse refused by its named error, every alias of an output or KPI mod r refused, front-running gains nothing.

use alloy_primitives::{Address, I256, U256};
use alloy_sol_types::SolCall;
use zkpolicy_contracts::controller::PolicyController::{self, Mode};

use super::{
    decoded, error_name, guard, initial, int, r, sample_kpis, Chain, Prover, SourceKind, VerifierKind, EPOCH_LENGTH, MAX_SNAPSHOT_AGE,
};

/// The controller's encoding before issue 11: `v`, or `r − |v|`, for any int256 (None where
/// the contract's checked arithmetic would have reverted).
fn unchecked_to_field(v: I256) -> Option<U256> {
    let r = r().into_raw();
    if v >= I256::ZERO {
        Some(v.into_raw())
    } else {
        r.checked_sub(v.checked_neg()?.into_raw())
    }
}

/// The int256 values that the unchecked encoding maps onto `v`'s field element, or that
/// stand for `v` in another representation; each must be refused.
fn aliases(v: i64, lo: i64, hi: i64) -> Vec<I256> {
    let (v256, r) = (int(v), r());
    let mut out = vec![
        v256 - r,
        v256 + r,
        v256 - r - r,
        v256 + r + r,
        I256::MIN,
        I256::MAX,
        v256 + I256::try_from(1i128 << 64).expect("fits"),
        v256 - I256::try_from(1i128 << 64).expect("fits"),
        int(lo) - I256::ONE,
        int(hi) + I256::ONE,
    ];
    out.retain(|a| *a != v256);
    out
}

#[test]
fn every_abuse_is_rejected_with_its_named_error() {
    let prover = Prover::new();
    let model = prover.model();
    let mut chain = Chain::new(Mode::Autonomous, VerifierKind::Real);
    let kpis = sample_kpis(model, 2);
    let (outputs, bytes) = prover.prove(&kpis, 1);
    assert!(chain.commit(1, kpis.values()).success);

    // An invalid proof.
    let mut forged = bytes.clone();
    forged[100] ^= 1;
    assert_eq!(error_name(&chain.submit(1, &outputs, &forged)), "InvalidProof");
    // Outputs other than the proven ones, still inside their bounds.
    let mut other = outputs.clone();
    other[0] = if other[0] < 50 { other[0] + 1 } else { other[0] - 1 };
    assert_eq!(error_name(&chain.submit(1, &other, &bytes)), "InvalidProof");
    // Too few outputs.
    assert_eq!(error_name(&chain.submit(1, &outputs[..3], &bytes)), "WrongOutputCount");
    // Epochs other than the current one.
    for epoch in [0, 2, 7, u64::MAX] {
        assert_eq!(
            decoded(&chain.submit(epoch, &outputs, &bytes)),
            format!("NotCurrentEpoch(NotCurrentEpoch {{ epoch: {epoch}, current: 1 }})")
        );
    }
    // The reporter cannot rewrite a snapshot.
    assert!(!chain.commit(1, sample_kpis(model, 3).values()).success);
    // A snapshot older than the allowed age.
    chain.evm.advance(MAX_SNAPSHOT_AGE + 1);
    assert_eq!(error_name(&chain.submit(1, &outputs, &bytes)), "StaleSnapshot");

    // Epoch 2: the epoch-1 proof does not carry over to the same KPIs.
    chain.next_epoch();
    assert_eq!(chain.current_epoch(), 2);
    assert!(chain.commit(2, kpis.values()).success);
    assert_eq!(error_name(&chain.submit(2, &outputs, &bytes)), "InvalidProof");
    // A proof on KPIs other than the snapshot.
    let (outputs_other, bytes_other) = prover.prove(sample_kpis(model, 4), 2);
    assert_eq!(error_name(&chain.submit(2, &outputs_other, &bytes_other)), "InvalidProof");
    // Valid, then replayed.
    let (outputs2, bytes2) = prover.prove(&kpis, 2);
    assert!(chain.submit(2, &outputs2, &bytes2).success);
    assert_eq!(decoded(&chain.submit(2, &outputs2, &bytes2)), "EpochDecided(EpochDecided { epoch: 2 })");

    // Epoch 3 without a snapshot.
    chain.next_epoch();
    let (outputs3, bytes3) = prover.prove(&kpis, 3);
    assert_eq!(error_name(&chain.submit(3, &outputs3, &bytes3)), "NoSnapshot");

    // Paused.
    assert!(chain.commit(3, kpis.values()).success);
    let anyone = chain.anyone;
    assert_eq!(error_name(&chain.send(anyone, PolicyController::pauseCall {}.abi_encode())), "NotGuardian");
    let guardian = chain.guardian;
    assert!(chain.send(guardian, PolicyController::pauseCall {}.abi_encode()).success);
    assert_eq!(error_name(&chain.submit(3, &outputs3, &bytes3)), "ControllerPaused");
    assert_eq!(error_name(&chain.send(guardian, PolicyController::unpauseCall {}.abi_encode())), "NotGovernance");
    let governance = chain.governance;
    assert!(chain.send(governance, PolicyController::unpauseCall {}.abi_encode()).success);
    assert!(chain.submit(3, &outputs3, &bytes3).success);
}

/// The hole issue 11 closed: `y` and `y − r` (or `r + y`) used to encode to the same field
/// element, so the verifier accepted the honest proof for an aliased output, which the
/// guardrails then applied in the opposite direction. Every alias of every output is now
/// refused by name, and nothing moves.
#[test]
fn every_alias_of_every_output_is_refused_before_verification() {
    let prover = Prover::new();
    let model = prover.model();
    let mut chain = Chain::new(Mode::Autonomous, VerifierKind::Real);
    let kpis = sample_kpis(model, 11);
    let (outputs, bytes) = prover.prove(&kpis, 1);
    assert!(chain.commit(1, kpis.values()).success);
    let honest: Vec<I256> = outputs.iter().map(|v| int(*v)).collect();
    let mut collisions = 0;
    for (j, spec) in model.file().outputs.iter().enumerate() {
        for alias in aliases(outputs[j], spec.min, spec.max) {
            // The attack was real: the unchecked encoding maps y − r and r + y onto y.
            if unchecked_to_field(alias) == unchecked_to_field(honest[j]) {
                collisions += 1;
            }
            let mut claimed = honest.clone();
            claimed[j] = alias;
            let out = chain.submit_raw(chain.anyone, 1, claimed, &bytes);
            assert_eq!(
                decoded(&out),
                format!("OutputOutOfRange(OutputOutOfRange {{ index: {j}, value: {alias} }})"),
                "output {j} alias {alias}"
            );
        }
    }
    assert_eq!(collisions, outputs.len(), "each output has exactly one field alias under the old encoding");
    assert_eq!(chain.parameters(), initial(), "no alias moved a parameter");
    assert!(chain.submit_raw(chain.anyone, 1, honest, &bytes).success, "the honest outputs still verify");
    assert_eq!(chain.parameters(), guard(&initial(), &outputs));
}

/// Whatever the KPI source serves, a KPI outside its declared range (an alias mod r
/// included) is refused by name before it becomes a field element.
#[test]
fn a_hostile_kpi_source_cannot_alias_a_kpi() {
    let prover = Prover::new();
    let model = prover.model();
    let mut chain = Chain::with_source(Mode::Autonomous, VerifierKind::Real, SourceKind::Hostile);
    let kpis = sample_kpis(model, 12);
    let (outputs, bytes) = prover.prove(&kpis, 1);
    let honest: Vec<I256> = kpis.values().iter().map(|v| int(*v)).collect();
    for (i, range) in model.input_ranges().iter().enumerate() {
        for alias in aliases(kpis.values()[i], range.lo, range.hi) {
            let mut served = honest.clone();
            served[i] = alias;
            chain.serve(&served);
            let out = chain.submit(1, &outputs, &bytes);
            assert_eq!(decoded(&out), format!("KpiOutOfRange(KpiOutOfRange {{ index: {i}, value: {alias} }})"), "KPI {i} alias {alias}");
        }
    }
    chain.serve(&honest[..7]);
    assert_eq!(error_name(&chain.submit(1, &outputs, &bytes)), "WrongKpiCount");
    chain.serve(&honest);
    assert!(chain.submit(1, &outputs, &bytes).success);
    assert_eq!(chain.parameters(), guard(&initial(), &outputs));
}

/// Front-running an honest proof gains nothing: the front-runner can only submit the very
/// decision the proof proves, for the current epoch; the operator's transaction then
/// fails by name, and the parameters are what the operator's would have set.
#[test]
fn front_running_and_epoch_choice_change_nothing() {
    let prover = Prover::new();
    let model = prover.model();
    let mut chain = Chain::new(Mode::Autonomous, VerifierKind::Real);
    let (operator, front_runner) = (Address::repeat_byte(0xb1), Address::repeat_byte(0xb2));
    let (k1, k2) = (sample_kpis(model, 21), sample_kpis(model, 22));
    let (y1, p1) = prover.prove(&k1, 1);
    let (y2, p2) = prover.prove(&k2, 2);
    let ints = |v: &[i64]| v.iter().map(|x| int(*x)).collect::<Vec<_>>();
    assert!(chain.commit(1, k1.values()).success);

    // The front-runner copies the operator's pending transaction, aliased or not.
    let mut aliased = ints(&y1);
    aliased[0] -= r();
    assert_eq!(error_name(&chain.submit_raw(front_runner, 1, aliased, &p1)), "OutputOutOfRange");
    assert!(chain.submit_raw(front_runner, 1, ints(&y1), &p1).success);
    assert_eq!(decoded(&chain.submit_raw(operator, 1, ints(&y1), &p1)), "EpochDecided(EpochDecided { epoch: 1 })");
    let after1 = guard(&initial(), &y1);
    assert_eq!(chain.parameters(), after1, "the decision is the proven one, whoever sent it");

    // Late in epoch 1, epoch 2's snapshot exists too; nobody can decide epoch 2 early.
    chain.evm.advance(EPOCH_LENGTH - 600);
    assert!(chain.commit(2, k2.values()).success);
    assert_eq!(decoded(&chain.submit_raw(front_runner, 2, ints(&y2), &p2)), "NotCurrentEpoch(NotCurrentEpoch { epoch: 2, current: 1 })");
    // In epoch 2, epoch 1 can no longer be decided (nor re-decided), and epoch 2 can.
    chain.evm.advance(600);
    assert_eq!(chain.current_epoch(), 2);
    assert_eq!(error_name(&chain.submit_raw(front_runner, 1, ints(&y1), &p1)), "NotCurrentEpoch");
    assert!(chain.submit_raw(operator, 2, ints(&y2), &p2).success);
    assert_eq!(chain.parameters(), guard(&after1, &y2));
}
