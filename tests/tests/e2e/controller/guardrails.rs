//! Guardrails against their twin: random int256 proposals, random rails (dead bands, caps, groups), malformed rails.

use alloy_primitives::{I256, U256};
use alloy_sol_types::SolCall;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkpolicy_contracts::controller::PolicyController::{self, Mode};
use zkpolicy_contracts::controller::VerifierStub;
use zkpolicy_lab::sim::{self, deployment_guardrails};
use zkpolicy_prover::evm as prover_evm;

use super::{
    bundled_model, decoded, error_name, guard, initial, int, r, Chain, SourceKind, VerifierKind, ADJUSTMENT_DELAY, EPOCH_LENGTH,
    GOVERNANCE_DELAY,
};

/// One proposed output: mostly in range, often a boundary, an alias mod r or an arbitrary
/// int256 — the whole space a submitter can put in calldata.
fn random_output(rng: &mut ChaCha20Rng, lo: i64, hi: i64) -> I256 {
    let in_range = int(rng.gen_range(lo..=hi));
    match rng.gen_range(0..40) {
        0..=27 => in_range,
        28 | 29 => int(lo),
        30 | 31 => int(hi),
        32 => int(lo) - I256::ONE,
        33 => int(hi) + I256::ONE,
        34 => in_range - r(),
        35 => in_range + r(),
        36 => in_range + I256::try_from(1i128 << 64).expect("fits"),
        37 => int(rng.gen::<i64>()),
        _ => I256::from_raw(U256::from_limbs(rng.gen::<[u64; 4]>())),
    }
}

/// With a verifier that accepts anything, random int256 proposals: any output outside its
/// declared bounds is refused by name (the first one, by index) and moves nothing; every
/// other proposal moves the parameters exactly as the native guard twin does, never out
/// of their rails nor more than their maximum step.
#[test]
fn random_int256_proposals_are_refused_or_guarded_like_the_twin() {
    let model = bundled_model();
    let specs = &model.file().outputs;
    let rails = deployment_guardrails();
    let mut chain = Chain::new(Mode::Autonomous, VerifierKind::Stub);
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let mut params = initial();
    let (mut refused, mut applied) = (0, 0);
    for epoch in 1..=1_500u64 {
        assert!(chain.commit(epoch, &[0; 8]).success);
        let outputs: Vec<I256> = specs.iter().map(|s| random_output(&mut rng, s.min, s.max)).collect();
        let out = chain.submit_raw(chain.anyone, epoch, outputs.clone(), &[]);
        let first_bad = outputs.iter().zip(specs).position(|(v, s)| *v < int(s.min) || *v > int(s.max));
        match first_bad {
            Some(j) => {
                assert_eq!(
                    decoded(&out),
                    format!("OutputOutOfRange(OutputOutOfRange {{ index: {j}, value: {} }})", outputs[j]),
                    "epoch {epoch}"
                );
                refused += 1;
            }
            None => {
                assert!(out.success, "epoch {epoch}: {}", decoded(&out));
                let deltas: Vec<i64> = outputs.iter().map(|v| i64::try_from(*v).expect("in bounds")).collect();
                let next = guard(&params, &deltas);
                for (i, ((before, after), g)) in params.iter().zip(&next).zip(&rails).enumerate() {
                    assert!((g.min..=g.max).contains(after), "epoch {epoch}: parameter {i} = {after} left its rail");
                    assert!((after - before).abs() <= g.max_step, "epoch {epoch}: parameter {i} moved {before} -> {after}");
                }
                params = next;
                applied += 1;
            }
        }
        assert_eq!(chain.parameters(), params, "epoch {epoch}: controller and twin disagree");
        chain.next_epoch();
    }
    assert!(refused > 300 && applied > 300, "refused {refused}, applied {applied}");
    let verifier = chain.verifier;
    assert!(chain.evm.call(verifier, VerifierStub::setAcceptCall { accept_: false }.abi_encode()).expect("executes").success);
    let epoch = chain.current_epoch();
    assert!(chain.commit(epoch, &[0; 8]).success);
    assert_eq!(error_name(&chain.submit(epoch, &[1, 1, 1, 1], &[])), "InvalidProof");
}

/// A random rail for a parameter whose proposals lie in `[lo, hi]`: bounds, a step, and
/// half the time each of a dead band and a window cap.
fn random_rail(rng: &mut ChaCha20Rng, name: &str, lo: i64, hi: i64) -> sim::Guardrail {
    let min = rng.gen_range(-500..=500);
    let max = min + rng.gen_range(0..=3_000);
    let mut rail = sim::Guardrail::new(name, rng.gen_range(min..=max), min, max, rng.gen_range(0..=(hi - lo).max(1)));
    if rng.gen_bool(0.5) {
        rail.dead_band = rng.gen_range(1..=60);
    }
    if rng.gen_bool(0.5) {
        rail.max_change_bps = rng.gen_range(1..=10_000);
        rail.window = rng.gen_range(1..=40 * EPOCH_LENGTH);
    }
    rail
}

/// Governance replaces every rail's dead band and cap (bounds and step kept, so the
/// current values stay inside) through the timelock; the anchors stay as they were.
fn regovern(chain: &mut Chain, rng: &mut ChaCha20Rng, rails: &mut [sim::Guardrail]) {
    let mut calls = Vec::new();
    for (i, rail) in rails.iter_mut().enumerate() {
        rail.dead_band = if rng.gen_bool(0.5) { rng.gen_range(1..=60) } else { 0 };
        (rail.max_change_bps, rail.window) =
            if rng.gen_bool(0.7) { (rng.gen_range(1..=2_000), rng.gen_range(1..=40 * EPOCH_LENGTH)) } else { (0, 0) };
        calls.push(PolicyController::setGuardrailCall { i: U256::from(i), g: prover_evm::contract_rail(rail) }.abi_encode());
    }
    for data in &calls {
        assert!(chain.send(chain.governance, PolicyController::scheduleCall { data: data.clone().into() }.abi_encode()).success);
    }
    chain.evm.advance(GOVERNANCE_DELAY);
    for data in calls {
        let out = chain.send(chain.governance, PolicyController::executeCall { data: data.into() }.abi_encode());
        assert!(out.success, "{}", zkpolicy_contracts::revert_reason(&out.output));
    }
}

/// Random rails with dead bands, window caps and (from case 8 on) groups, random in-range
/// proposals and random gaps between decisions, and governance changing every dead band
/// and cap halfway: after every decision the controller's parameters and cap anchors
/// equal the twin's (`guard_at` at the block's time), in Autonomous mode and, through
/// `executeAdjustment` after the delay, in Timelocked mode.
#[test]
fn dead_bands_window_caps_and_groups_match_the_twin_on_random_rails() {
    let model = bundled_model();
    let specs = &model.file().outputs;
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    // Groups draw from their own stream: the ungrouped cases stay those of before groups.
    let mut group_rng = ChaCha20Rng::seed_from_u64(8);
    let (mut moved, mut capped, mut dropped, mut outside, mut held) = (0, 0, 0, 0, 0);
    for case in 0..24 {
        let mut rails: Vec<sim::Guardrail> = specs.iter().map(|s| random_rail(&mut rng, &s.name, s.min, s.max)).collect();
        if case >= 8 {
            for rail in &mut rails {
                rail.group = [0, 1, 1, 255][group_rng.gen_range(0..4)];
            }
        }
        let mode = if case % 2 == 0 { Mode::Autonomous } else { Mode::Timelocked };
        let mut chain = Chain::with_rails(mode, &rails);
        let mut params: Vec<i64> = rails.iter().map(|g| g.initial).collect();
        let mut anchors = vec![sim::Anchor::default(); rails.len()];
        for step in 0..30 {
            if step == 15 {
                // Mid-window, a tighter or looser cap: values may now sit outside their band.
                regovern(&mut chain, &mut rng, &mut rails);
            }
            chain.evm.advance(rng.gen_range(1..=3) * EPOCH_LENGTH);
            let epoch = chain.current_epoch();
            assert!(chain.commit(epoch, &[0; 8]).success);
            let deltas: Vec<i64> = specs.iter().map(|s| rng.gen_range(s.min..=s.max)).collect();
            let out = chain.submit(epoch, &deltas, &[]);
            assert!(out.success, "case {case} step {step}: {}", decoded(&out));
            let at_submit = sim::guard_at(&params, &deltas, &rails, &anchors, chain.evm.timestamp()).expect("twin");
            let alone: Vec<sim::Guardrail> = rails.iter().map(|g| sim::Guardrail { group: 0, ..g.clone() }).collect();
            let ungrouped = sim::guard_at(&params, &deltas, &alone, &anchors, chain.evm.timestamp()).expect("twin");
            held += usize::from(at_submit.values != ungrouped.values);
            let next = if mode == Mode::Timelocked {
                chain.evm.advance(ADJUSTMENT_DELAY);
                let out = chain.send(chain.anyone, PolicyController::executeAdjustmentCall { epoch }.abi_encode());
                assert!(out.success, "case {case} step {step}: {}", decoded(&out));
                // Executed later, the queued values are guarded again against the windows then.
                let steps: Vec<i64> = at_submit.values.iter().zip(&params).map(|(q, c)| q - c).collect();
                sim::guard_at(&params, &steps, &rails, &anchors, chain.evm.timestamp()).expect("twin")
            } else {
                at_submit
            };
            for (i, g) in rails.iter().enumerate() {
                let (want, c, d) = (next.values[i], params[i], deltas[i]);
                let a = next.anchors[i].value;
                outside += usize::from(g.max_change_bps > 0 && (c - a).abs() > a.abs() * g.max_change_bps / 10_000);
                moved += usize::from(want != c);
                dropped += usize::from(g.dead_band > 0 && d != 0 && d.abs().min(g.max_step) < g.dead_band);
                capped +=
                    usize::from(g.max_change_bps > 0 && next.hits[i] && want != (c + d.clamp(-g.max_step, g.max_step)).clamp(g.min, g.max));
            }
            params = next.values;
            anchors = next.anchors;
            assert_eq!(chain.parameters(), params, "case {case} step {step}: parameters, rails {rails:?}");
            for (i, anchor) in anchors.iter().enumerate() {
                if rails[i].max_change_bps != 0 {
                    assert_eq!(chain.anchor(i), *anchor, "case {case} step {step}: anchor {i}");
                }
            }
        }
    }
    // The random cases exercised every rule, not only the bounds.
    assert!(
        moved > 500 && capped > 20 && dropped > 20 && outside > 5 && held > 20,
        "moved {moved}, capped {capped}, dropped {dropped}, outside their band {outside}, groups held {held}"
    );
}

/// Rails the twin refuses, the controller refuses too (`BadGuardrail`), through the
/// constructor and through governance.
#[test]
fn malformed_dead_bands_and_caps_are_refused_like_the_twin() {
    let base = deployment_guardrails();
    let bad = |edit: &dyn Fn(&mut sim::Guardrail)| {
        let mut rails = base.clone();
        edit(&mut rails[2]);
        rails
    };
    for (what, rails) in [
        ("negative dead band", bad(&|g| g.dead_band = -1)),
        ("cap over 100 %", bad(&|g| (g.max_change_bps, g.window) = (10_001, 60))),
        ("cap without a window", bad(&|g| g.max_change_bps = 100)),
        ("window without a cap", bad(&|g| g.window = 60)),
    ] {
        assert!(rails[2].check(2).is_err(), "{what}: the twin accepts it");
        let mut chain = Chain::new(Mode::Autonomous, VerifierKind::Stub);
        let data = PolicyController::setGuardrailCall { i: U256::from(2), g: prover_evm::contract_rail(&rails[2]) }.abi_encode();
        assert!(chain.send(chain.governance, PolicyController::scheduleCall { data: data.clone().into() }.abi_encode()).success);
        chain.evm.advance(GOVERNANCE_DELAY);
        let out = chain.send(chain.governance, PolicyController::executeCall { data: data.into() }.abi_encode());
        let reason = zkpolicy_contracts::revert_reason(&out.output);
        assert!(!out.success && reason.contains("BadGuardrail: guardrail 2"), "{what}: {reason}");
        let deployed = Chain::try_build(Mode::Autonomous, VerifierKind::Stub, SourceKind::Reporter, &rails);
        // The constructor reverts with BadGuardrail(2): its selector and index in the revert data.
        let selector = hex::encode(<PolicyController::BadGuardrail as alloy_sol_types::SolError>::SELECTOR);
        let refusal = deployed.err().unwrap_or_else(|| panic!("{what}: the constructor accepted it"));
        assert!(refusal.contains(&format!("0x{selector}{:064x}", 2)), "{what}: {refusal}");
    }
}
