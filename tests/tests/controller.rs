//! The controller contracts in revm: real proofs accepted, every listed abuse rejected
//! with its named error, and the guardrail invariants over 10,000 random proposals.

use std::path::Path;
use std::sync::Arc;

use alloy_primitives::{Address, FixedBytes, I256, U256};
use alloy_sol_types::{SolCall, SolConstructor, SolEvent, SolInterface};
use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::ProvingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_model::{synth, Model, QuantizedKpis};
use zkpolicy_prover::{keys, proof, srs};
use zkpolicy_verifier_contract::compile::{self, Compiled};
use zkpolicy_verifier_contract::controller::PolicyController::{self, Guardrail, Mode, PolicyControllerErrors, Timing};
use zkpolicy_verifier_contract::controller::{compile_contracts, ReporterKpiSource, VerifierStub};
use zkpolicy_verifier_contract::evm::{CallOutcome, Evm};

const MAX_SNAPSHOT_AGE: u64 = 3_600;
const MIN_INTERVAL: u64 = 600;
const ADJUSTMENT_DELAY: u64 = 3_600;
const GOVERNANCE_DELAY: u64 = 86_400;
/// Emission rate, staking reward, burn rate, fee (bps) and their guardrails (min, max, max step).
const INITIAL: [i64; 4] = [500, 800, 100, 30];
const RAILS: [(i64, i64, i64); 4] = [(0, 2_000, 25), (0, 2_000, 60), (0, 1_000, 25), (0, 300, 10)];

fn int(v: i64) -> I256 {
    I256::try_from(v).expect("fits")
}

struct Prover {
    circuit: PolicyCircuit,
    params: ParamsKZG<Bn256>,
    pk: ProvingKey<G1Affine>,
}

impl Prover {
    fn new() -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/tokenomics-policy.json");
        let circuit = PolicyCircuit::new(Arc::new(Model::load(path).expect("model"))).expect("plan");
        let params = srs::dev_params_insecure(circuit.shape().k);
        let pk = keys::keygen(&params, &circuit).expect("keygen");
        Self { circuit, params, pk }
    }

    fn prove(&self, kpis: &QuantizedKpis, epoch: u64) -> (Vec<i64>, Vec<u8>) {
        let (public, bytes) =
            proof::prove(&self.params, &self.pk, &self.circuit, kpis, epoch, ChaCha20Rng::seed_from_u64(epoch)).expect("prove");
        (public.outputs, bytes)
    }
}

struct Chain {
    evm: Evm,
    controller: Address,
    source: Address,
    verifier: Address,
    governance: Address,
    guardian: Address,
    reporter: Address,
    anyone: Address,
}

enum VerifierKind {
    /// The committed default-model verifier.
    Real,
    /// Accepts everything: only for the guardrail property test.
    Stub,
}

impl Chain {
    fn new(mode: Mode, kind: VerifierKind) -> Self {
        let contracts = compile_contracts(compile::bundled_dir()).expect("contracts compile");
        let mut evm = Evm::new();
        let (governance, guardian, reporter, anyone) =
            (Address::repeat_byte(0xa1), Address::repeat_byte(0xa2), Address::repeat_byte(0xa3), Address::repeat_byte(0xa4));
        let verifier_code = match kind {
            VerifierKind::Real => {
                let artifact = include_str!("../../verifier-contract/generated/tokenomics-policy/ZkPolicyVerifier.json");
                Compiled::parse_artifact(artifact).expect("artifact").bytecode
            }
            VerifierKind::Stub => contracts["VerifierStub"].bytecode.clone(),
        };
        let verifier = evm.deploy(verifier_code).expect("verifier deploys").address;
        let source_args = ReporterKpiSource::constructorCall { reporter_: reporter, kpiCount_: U256::from(8) }.abi_encode();
        let source = evm.deploy([contracts["ReporterKpiSource"].bytecode.clone(), source_args].concat()).expect("source").address;
        let args = PolicyController::constructorCall {
            governance_: governance,
            guardian_: guardian,
            verifier_: verifier,
            modelCommitment_: FixedBytes::repeat_byte(0x23),
            kpiSource_: source,
            mode_: mode,
            initial: INITIAL.iter().map(|v| int(*v)).collect(),
            guardrails_: RAILS.iter().map(|(lo, hi, step)| Guardrail { min: int(*lo), max: int(*hi), maxStep: int(*step) }).collect(),
            timing_: Timing { maxSnapshotAge: MAX_SNAPSHOT_AGE, minEpochInterval: MIN_INTERVAL, adjustmentDelay: ADJUSTMENT_DELAY },
            governanceDelay_: GOVERNANCE_DELAY,
        }
        .abi_encode();
        let controller = evm.deploy([contracts["PolicyController"].bytecode.clone(), args].concat()).expect("controller").address;
        Self { evm, controller, source, verifier, governance, guardian, reporter, anyone }
    }

    fn commit(&mut self, epoch: u64, kpis: &[i64]) -> CallOutcome {
        let data = ReporterKpiSource::commitKpisCall { epoch, kpis: kpis.iter().map(|v| int(*v)).collect() }.abi_encode();
        self.evm.call_from(self.reporter, self.source, data).expect("executes")
    }

    fn submit(&mut self, epoch: u64, outputs: &[i64], proof: &[u8]) -> CallOutcome {
        let data = PolicyController::submitAdjustmentCall {
            epoch,
            outputs: outputs.iter().map(|v| int(*v)).collect(),
            proof: proof.to_vec().into(),
        }
        .abi_encode();
        self.evm.call_from(self.anyone, self.controller, data).expect("executes")
    }

    fn send(&mut self, from: Address, data: Vec<u8>) -> CallOutcome {
        let to = self.controller;
        self.evm.call_from(from, to, data).expect("executes")
    }

    fn parameters(&mut self) -> Vec<i64> {
        let out = self.send(self.anyone, PolicyController::parametersCall {}.abi_encode());
        PolicyController::parametersCall::abi_decode_returns(&out.output)
            .expect("int256[]")
            .iter()
            .map(|v| i64::try_from(*v).expect("small"))
            .collect()
    }
}

/// The custom error a reverted call carries, by name.
fn error_name(out: &CallOutcome) -> String {
    assert!(!out.success, "the call succeeded");
    match PolicyControllerErrors::abi_decode(&out.output) {
        Ok(e) => format!("{e:?}").split(['(', ' ', '{']).next().unwrap_or_default().to_string(),
        Err(_) => format!("undecoded 0x{}", hex::encode(&out.output)),
    }
}

/// The controller's guardrails, in plain Rust: the twin the property test checks against.
fn guard(params: &[i64], deltas: &[i64]) -> Vec<i64> {
    params
        .iter()
        .zip(deltas)
        .zip(RAILS)
        .map(|((p, d), (lo, hi, step))| (p + d.clamp(&-step, &step)).clamp(lo, hi))
        .collect()
}

fn sample_kpis(model: &Model, seed: u64) -> QuantizedKpis {
    synth::random_kpis(model, &mut ChaCha20Rng::seed_from_u64(seed))
}

#[test]
fn a_real_proof_is_accepted_and_applied_through_the_guardrails() {
    let prover = Prover::new();
    let mut chain = Chain::new(Mode::Autonomous, VerifierKind::Real);
    let kpis = sample_kpis(prover.circuit.model(), 1);
    assert!(chain.commit(1, kpis.values()).success);
    let (outputs, bytes) = prover.prove(&kpis, 1);
    let out = chain.submit(1, &outputs, &bytes);
    assert!(out.success, "rejected: {}", error_name(&out));
    eprintln!("submitAdjustment (verification + bookkeeping): {} gas", out.gas_used);
    let expected = guard(&INITIAL, &outputs);
    assert_eq!(chain.parameters(), expected);
    // The decision log: epoch, model commitment, KPI hash, proposal, guarded values, mode.
    let decision = out
        .logs
        .iter()
        .find(|(topics, _)| topics.first() == Some(&PolicyController::Decision::SIGNATURE_HASH.0))
        .expect("a Decision event");
    let event = PolicyController::Decision::decode_raw_log(decision.0.iter().map(|t| FixedBytes::from(*t)), &decision.1).expect("decodes");
    assert_eq!(event.epoch, 1);
    assert_eq!(event.modelCommitment, FixedBytes::repeat_byte(0x23));
    let kpi_words: Vec<I256> = kpis.values().iter().map(|v| int(*v)).collect();
    assert_eq!(event.kpiHash, alloy_primitives::keccak256(alloy_sol_types::SolValue::abi_encode(&kpi_words)));
    assert_eq!(event.proposed, outputs.iter().map(|v| int(*v)).collect::<Vec<_>>());
    assert_eq!(event.guarded, expected.iter().map(|v| int(*v)).collect::<Vec<_>>());
    assert_eq!(event.mode, Mode::Autonomous);
    assert_eq!(event.guardrailHit, expected.iter().zip(INITIAL).zip(&outputs).any(|((e, i), o)| *e != i + o));
}

#[test]
fn every_abuse_is_rejected_with_its_named_error() {
    let prover = Prover::new();
    let model = prover.circuit.model();
    let mut chain = Chain::new(Mode::Autonomous, VerifierKind::Real);
    let kpis = sample_kpis(model, 2);
    let (outputs, bytes) = prover.prove(&kpis, 1);
    assert!(chain.commit(1, kpis.values()).success);

    // An invalid proof.
    let mut forged = bytes.clone();
    forged[100] ^= 1;
    assert_eq!(error_name(&chain.submit(1, &outputs, &forged)), "InvalidProof");
    // Outputs other than the proven ones.
    let mut other = outputs.clone();
    other[0] += 1;
    assert_eq!(error_name(&chain.submit(1, &other, &bytes)), "InvalidProof");
    // KPIs that were never committed.
    assert_eq!(error_name(&chain.submit(7, &outputs, &bytes)), "NoSnapshot");
    // The same KPIs committed for epoch 2: a proof made for epoch 1 does not carry over.
    assert!(chain.commit(2, kpis.values()).success);
    assert_eq!(error_name(&chain.submit(2, &outputs, &bytes)), "InvalidProof");
    // A snapshot that differs from the KPIs the proof used.
    let other_kpis = sample_kpis(model, 3);
    assert!(chain.commit(3, other_kpis.values()).success);
    let (outputs3, bytes3) = prover.prove(&kpis, 3);
    assert_eq!(error_name(&chain.submit(3, &outputs3, &bytes3)), "InvalidProof");
    // The reporter cannot rewrite a snapshot.
    assert!(!chain.commit(3, kpis.values()).success);

    // Valid, then replayed.
    assert!(chain.submit(1, &outputs, &bytes).success);
    assert_eq!(error_name(&chain.submit(1, &outputs, &bytes)), "EpochNotAfter");
    // Too soon after the previous decision.
    let (outputs4, bytes4) = prover.prove(&kpis, 4);
    assert!(chain.commit(4, kpis.values()).success);
    assert_eq!(error_name(&chain.submit(4, &outputs4, &bytes4)), "TooSoon");
    // A stale snapshot.
    chain.evm.advance(MAX_SNAPSHOT_AGE + 1);
    assert_eq!(error_name(&chain.submit(4, &outputs4, &bytes4)), "StaleSnapshot");

    // Paused.
    let (outputs5, bytes5) = prover.prove(&kpis, 5);
    assert!(chain.commit(5, kpis.values()).success);
    let anyone = chain.anyone;
    assert_eq!(error_name(&chain.send(anyone, PolicyController::pauseCall {}.abi_encode())), "NotGuardian");
    let guardian = chain.guardian;
    assert!(chain.send(guardian, PolicyController::pauseCall {}.abi_encode()).success);
    assert_eq!(error_name(&chain.submit(5, &outputs5, &bytes5)), "ControllerPaused");
    assert_eq!(error_name(&chain.send(guardian, PolicyController::unpauseCall {}.abi_encode())), "NotGovernance");
    let governance = chain.governance;
    assert!(chain.send(governance, PolicyController::unpauseCall {}.abi_encode()).success);
    assert!(chain.submit(5, &outputs5, &bytes5).success);
}

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
    let bad = PolicyController::setGuardrailCall { i: U256::from(0), g: Guardrail { min: int(600), max: int(900), maxStep: int(5) } }.abi_encode();
    assert!(chain.send(governance, PolicyController::scheduleCall { data: bad.clone().into() }.abi_encode()).success);
    chain.evm.advance(GOVERNANCE_DELAY);
    assert_eq!(error_name(&chain.send(governance, PolicyController::executeCall { data: bad.into() }.abi_encode())), "CallFailed");
}

#[test]
fn advisory_records_and_timelocked_queues() {
    // Advisory: the decision is logged, the parameters stay.
    let mut chain = Chain::new(Mode::Advisory, VerifierKind::Stub);
    assert!(chain.commit(1, &[0; 8]).success);
    assert!(chain.submit(1, &[40, -40, 10, 5], &[]).success);
    assert_eq!(chain.parameters(), INITIAL.to_vec());

    // Timelocked: queued, not executable before the delay, then applied; governance can cancel.
    let mut chain = Chain::new(Mode::Timelocked, VerifierKind::Stub);
    assert!(chain.commit(1, &[0; 8]).success);
    assert!(chain.submit(1, &[40, -40, 10, 5], &[]).success);
    assert_eq!(chain.parameters(), INITIAL.to_vec());
    let anyone = chain.anyone;
    let execute = PolicyController::executeAdjustmentCall { epoch: 1 }.abi_encode();
    assert_eq!(error_name(&chain.send(anyone, execute.clone())), "NotYet");
    chain.evm.advance(ADJUSTMENT_DELAY);
    assert!(chain.send(anyone, execute.clone()).success);
    assert_eq!(chain.parameters(), guard(&INITIAL, &[40, -40, 10, 5]));
    assert_eq!(error_name(&chain.send(anyone, execute)), "NothingQueued");

    assert!(chain.commit(2, &[0; 8]).success);
    assert!(chain.submit(2, &[1, 1, 1, 1], &[]).success);
    let cancel = PolicyController::cancelAdjustmentCall { epoch: 2 }.abi_encode();
    assert_eq!(error_name(&chain.send(anyone, cancel.clone())), "NotGovernance");
    let governance = chain.governance;
    assert!(chain.send(governance, cancel).success);
    chain.evm.advance(ADJUSTMENT_DELAY);
    assert_eq!(error_name(&chain.send(anyone, PolicyController::executeAdjustmentCall { epoch: 2 }.abi_encode())), "NothingQueued");
}

/// With a verifier that accepts anything, 10,000 random proposals never push a
/// parameter out of its bounds or move it more than its maximum step in one epoch.
#[test]
fn guardrails_hold_over_10000_random_proposals() {
    let mut chain = Chain::new(Mode::Autonomous, VerifierKind::Stub);
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let mut params = INITIAL.to_vec();
    for epoch in 1..=10_000u64 {
        chain.evm.advance(MIN_INTERVAL);
        assert!(chain.commit(epoch, &[0; 8]).success);
        // Mostly small moves, sometimes huge ones, sometimes a long push in one direction.
        let outputs: Vec<i64> = (0..4)
            .map(|_| match rng.gen_range(0..10) {
                0 => rng.gen_range(-1_000_000..=1_000_000),
                1..=3 => if epoch % 500 < 250 { 500 } else { -500 },
                _ => rng.gen_range(-80..=80),
            })
            .collect();
        let out = chain.submit(epoch, &outputs, &[]);
        assert!(out.success, "epoch {epoch}: {}", error_name(&out));
        let next = chain.parameters();
        for (i, ((before, after), (lo, hi, step))) in params.iter().zip(&next).zip(RAILS).enumerate() {
            assert!((lo..=hi).contains(after), "epoch {epoch}: parameter {i} = {after} left [{lo}, {hi}]");
            assert!((after - before).abs() <= step, "epoch {epoch}: parameter {i} moved {before} -> {after}");
        }
        assert_eq!(next, guard(&params, &outputs), "epoch {epoch}: controller and twin disagree");
        params = next;
    }
    let _ = chain.verifier;
    let stub_off = VerifierStub::setAcceptCall { accept_: false }.abi_encode();
    let verifier = chain.verifier;
    assert!(chain.evm.call(verifier, stub_off).expect("executes").success);
    chain.evm.advance(MIN_INTERVAL);
    assert!(chain.commit(10_001, &[0; 8]).success);
    assert_eq!(error_name(&chain.submit(10_001, &[1, 1, 1, 1], &[])), "InvalidProof");
}
