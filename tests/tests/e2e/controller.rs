//! The controller contracts in revm: real proofs accepted; every abuse rejected with its
//! named error; every alias of an output or a KPI mod r refused before it becomes a field
//! element; epochs decided only when current; the guardrails against their twin over
//! random int256 proposals.

use std::sync::Arc;

use alloy_primitives::{Address, FixedBytes, I256, U256};
use alloy_sol_types::{SolCall, SolConstructor, SolEvent, SolInterface};
use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::ProvingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_contracts::controller::PolicyController::{self, Mode, PolicyControllerErrors, Timing};
use zkpolicy_contracts::controller::{compile_contracts, unpack_int64, KpiSourceStub, ModelCard, ReporterKpiSource, VerifierStub};
use zkpolicy_lab::sim::{self, deployment_guardrails};
use zkpolicy_model::{Model, Observation, QuantizedKpis};
use zkpolicy_prover::{evm as prover_evm, proof};
use zkpolicy_verifier::compile::{self, Compiled};
use zkpolicy_verifier::evm::{CallOutcome, Evm};
use zkpolicy_verifier::solidity;

pub(crate) const EPOCH_LENGTH: u64 = 7_200;
const MAX_SNAPSHOT_AGE: u64 = 3_600;
pub(crate) const ADJUSTMENT_DELAY: u64 = 3_600;
pub(crate) const GOVERNANCE_DELAY: u64 = 86_400;

pub(crate) fn int(v: i64) -> I256 {
    I256::try_from(v).expect("fits")
}

/// The BN254 scalar field modulus, as the contract's int256 arithmetic sees it.
fn r() -> I256 {
    I256::from_raw(U256::from_str_radix("30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001", 16).expect("r"))
}

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

fn bundled_model() -> Arc<Model> {
    Arc::new(zkpolicy_lab::bundled::model("tokenomics-policy").expect("builds").expect("bundled"))
}

pub(crate) struct Prover {
    circuit: &'static PolicyCircuit,
    params: &'static ParamsKZG<Bn256>,
    pk: &'static ProvingKey<G1Affine>,
}

impl Prover {
    pub(crate) fn new() -> Self {
        // The default model's test shape is its deployed shape (k = 10).
        let p = crate::common::prepared("tokenomics-policy");
        assert_eq!(p.circuit.shape(), PolicyCircuit::new(bundled_model()).expect("plan").shape());
        Self { circuit: &p.circuit, params: &p.params, pk: &p.pk }
    }

    pub(crate) fn model(&self) -> &Model {
        self.circuit.model()
    }

    pub(crate) fn prove(&self, input: impl Into<Observation>, epoch: u64) -> (Vec<i64>, Vec<u8>) {
        let (public, bytes) =
            proof::prove(self.params, self.pk, self.circuit, input, epoch, ChaCha20Rng::seed_from_u64(epoch)).expect("prove");
        (public.outputs, bytes)
    }

    /// The bundled model that reads the parameters, at its deployed shape, and its verifier's
    /// creation code (rendered and compiled here: no committed artifact covers it).
    fn parameter_aware() -> (Self, Vec<u8>) {
        let p = crate::common::prepared("trained-policy");
        assert_eq!(p.circuit.model().card().parameters().len(), 4, "trained-policy reads the four parameters");
        let source = prover_evm::verifier_source(&p.params, p.pk.get_vk(), &p.circuit).expect("renders");
        let code = prover_evm::compile_verifier(&source, compile::bundled_dir()).expect("compiles").bytecode;
        (Self { circuit: &p.circuit, params: &p.params, pk: &p.pk }, code)
    }
}

pub(crate) enum VerifierKind {
    /// The committed default-model verifier.
    Real,
    /// A verifier's creation code (compiled by the test).
    Code(Vec<u8>),
    /// Accepts every proof and serves the default model's card.
    Stub,
    /// Accepts every proof and serves this card.
    StubCard(solidity::Provenance),
}

pub(crate) enum SourceKind {
    /// `ReporterKpiSource`, posted by the reporter.
    Reporter,
    /// Serves whatever int256 vector it is given.
    Hostile,
    /// A source already deployed (on the EVM given to `Chain::on`).
    At(Address),
}

pub(crate) struct Chain {
    pub(crate) evm: Evm,
    pub(crate) controller: Address,
    pub(crate) source: Address,
    pub(crate) verifier: Address,
    pub(crate) governance: Address,
    pub(crate) guardian: Address,
    reporter: Address,
    pub(crate) anyone: Address,
}

impl Chain {
    pub(crate) fn new(mode: Mode, verifier: VerifierKind) -> Self {
        Self::with_source(mode, verifier, SourceKind::Reporter)
    }

    pub(crate) fn with_source(mode: Mode, kind: VerifierKind, source_kind: SourceKind) -> Self {
        Self::build(mode, kind, source_kind, &deployment_guardrails())
    }

    /// A controller on the default model's card (stub verifier) with `rails`.
    pub(crate) fn with_rails(mode: Mode, rails: &[sim::Guardrail]) -> Self {
        Self::build(mode, VerifierKind::Stub, SourceKind::Reporter, rails)
    }

    pub(crate) fn build(mode: Mode, kind: VerifierKind, source_kind: SourceKind, rails: &[sim::Guardrail]) -> Self {
        Self::try_build(mode, kind, source_kind, rails).expect("the controller deploys")
    }

    /// A controller (the bundled rails) on `evm`, reading the KPI source at `source`.
    pub(crate) fn on(evm: Evm, mode: Mode, kind: VerifierKind, source: Address) -> Self {
        Self::try_build_on(evm, mode, kind, SourceKind::At(source), &deployment_guardrails()).expect("the controller deploys")
    }

    fn try_build(mode: Mode, kind: VerifierKind, source_kind: SourceKind, rails: &[sim::Guardrail]) -> Result<Self, String> {
        Self::try_build_on(Evm::new(), mode, kind, source_kind, rails)
    }

    fn try_build_on(
        mut evm: Evm,
        mode: Mode,
        kind: VerifierKind,
        source_kind: SourceKind,
        rails: &[sim::Guardrail],
    ) -> Result<Self, String> {
        // Compiled once per test binary: solc-js takes seconds.
        static CONTRACTS: std::sync::OnceLock<std::collections::BTreeMap<String, Compiled>> = std::sync::OnceLock::new();
        let contracts = CONTRACTS.get_or_init(|| compile_contracts(compile::bundled_dir()).expect("contracts compile"));
        let (governance, guardian, reporter, anyone) =
            (Address::repeat_byte(0xa1), Address::repeat_byte(0xa2), Address::repeat_byte(0xa3), Address::repeat_byte(0xa4));
        let verifier_code = match kind {
            VerifierKind::Real => {
                let artifact = include_str!("../../../verifier-contract/generated/tokenomics-policy/ZkPolicyVerifier.json");
                Compiled::parse_artifact(artifact).expect("artifact").bytecode
            }
            VerifierKind::Code(code) => code,
            VerifierKind::Stub => [contracts["VerifierStub"].bytecode.clone(), default_card_args()].concat(),
            VerifierKind::StubCard(card) => [contracts["VerifierStub"].bytecode.clone(), card_args(&card)].concat(),
        };
        let verifier = evm.deploy(verifier_code).expect("verifier deploys").address;
        let source = match source_kind {
            SourceKind::Reporter => {
                let args = ReporterKpiSource::constructorCall { reporter_: reporter, kpiCount_: U256::from(8) }.abi_encode();
                evm.deploy([contracts["ReporterKpiSource"].bytecode.clone(), args].concat()).expect("source").address
            }
            SourceKind::Hostile => evm.deploy(contracts["KpiSourceStub"].bytecode.clone()).expect("stub source").address,
            SourceKind::At(address) => address,
        };
        let args = PolicyController::constructorCall {
            governance_: governance,
            guardian_: guardian,
            verifier_: verifier,
            kpiSource_: source,
            mode_: mode,
            initial: rails.iter().map(|g| int(g.initial)).collect(),
            guardrails_: rails.iter().map(prover_evm::contract_rail).collect(),
            timing_: Timing { maxSnapshotAge: MAX_SNAPSHOT_AGE, adjustmentDelay: ADJUSTMENT_DELAY },
            governanceDelay_: GOVERNANCE_DELAY,
            genesis_: 0,
            epochLength_: EPOCH_LENGTH,
        }
        .abi_encode();
        let controller = evm.deploy([contracts["PolicyController"].bytecode.clone(), args].concat()).map_err(|e| e.to_string())?.address;
        Ok(Self { evm, controller, source, verifier, governance, guardian, reporter, anyone })
    }

    /// Moves the clock to the start of the next epoch.
    pub(crate) fn next_epoch(&mut self) {
        self.evm.advance(EPOCH_LENGTH);
    }

    pub(crate) fn current_epoch(&mut self) -> u64 {
        let out = self.send(self.anyone, PolicyController::currentEpochCall {}.abi_encode());
        PolicyController::currentEpochCall::abi_decode_returns(&out.output).expect("uint64")
    }

    pub(crate) fn commit(&mut self, epoch: u64, kpis: &[i64]) -> CallOutcome {
        let data = ReporterKpiSource::commitKpisCall { epoch, kpis: kpis.iter().map(|v| int(*v)).collect() }.abi_encode();
        self.evm.call_from(self.reporter, self.source, data).expect("executes")
    }

    /// Sets what the hostile KPI source serves.
    pub(crate) fn serve(&mut self, kpis: &[I256]) {
        let data = KpiSourceStub::setCall { kpis_: kpis.to_vec() }.abi_encode();
        assert!(self.evm.call(self.source, data).expect("executes").success);
    }

    pub(crate) fn submit(&mut self, epoch: u64, outputs: &[i64], proof: &[u8]) -> CallOutcome {
        self.submit_raw(self.anyone, epoch, outputs.iter().map(|v| int(*v)).collect(), proof)
    }

    pub(crate) fn submit_raw(&mut self, from: Address, epoch: u64, outputs: Vec<I256>, proof: &[u8]) -> CallOutcome {
        let data = PolicyController::submitAdjustmentCall { epoch, outputs, proof: proof.to_vec().into() }.abi_encode();
        self.evm.call_from(from, self.controller, data).expect("executes")
    }

    pub(crate) fn send(&mut self, from: Address, data: Vec<u8>) -> CallOutcome {
        let to = self.controller;
        self.evm.call_from(from, to, data).expect("executes")
    }

    /// Parameter `i`'s cap anchor, as the twin keeps it.
    pub(crate) fn anchor(&mut self, i: usize) -> sim::Anchor {
        let out = self.send(self.anyone, PolicyController::anchorCall { i: U256::from(i) }.abi_encode());
        let a = PolicyController::anchorCall::abi_decode_returns(&out.output).expect("anchor");
        sim::Anchor { value: i64::try_from(a.anchorValue).expect("int64"), since: a.since }
    }

    pub(crate) fn parameters(&mut self) -> Vec<i64> {
        let out = self.send(self.anyone, PolicyController::parametersCall {}.abi_encode());
        PolicyController::parametersCall::abi_decode_returns(&out.output)
            .expect("int256[]")
            .iter()
            .map(|v| i64::try_from(*v).expect("small"))
            .collect()
    }
}

/// `VerifierStub`'s constructor arguments: the default model's card.
fn default_card_args() -> Vec<u8> {
    let circuit = PolicyCircuit::new(bundled_model()).expect("plan");
    card_args(&prover_evm::provenance(circuit.model().card(), circuit.shape().k))
}

/// `VerifierStub`'s constructor arguments for `card`.
fn card_args(card: &solidity::Provenance) -> Vec<u8> {
    VerifierStub::constructorCall {
        commitment_: FixedBytes(card.model_commitment),
        kpiCount_: U256::from(card.kpis.len()),
        parameterCount_: U256::from(card.parameters.len()),
        outputCount_: U256::from(card.outputs.len()),
        ranges_: card.packed_ranges().into(),
    }
    .abi_encode()
}

/// The custom error a reverted call carries, by name.
pub(crate) fn error_name(out: &CallOutcome) -> String {
    decoded(out).split(['(', ' ', '{']).next().unwrap_or_default().to_string()
}

/// The custom error a reverted call carries, with its arguments.
pub(crate) fn decoded(out: &CallOutcome) -> String {
    assert!(!out.success, "the call succeeded");
    match PolicyControllerErrors::abi_decode(&out.output) {
        Ok(e) => format!("{e:?}"),
        Err(_) => format!("undecoded 0x{}", hex::encode(&out.output)),
    }
}

/// The controller's guardrails, by their native twin (`zkpolicy_lab::sim::guard`).
pub(crate) fn guard(params: &[i64], deltas: &[i64]) -> Vec<i64> {
    sim::guard(params, deltas, &deployment_guardrails()).expect("guards").values
}

pub(crate) fn initial() -> Vec<i64> {
    deployment_guardrails().iter().map(|g| g.initial).collect()
}

fn sample_kpis(model: &Model, seed: u64) -> QuantizedKpis {
    QuantizedKpis::random(model, &mut ChaCha20Rng::seed_from_u64(seed))
}

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
    let out = chain.evm.call(verifier, ModelCard::modelCardCall {}.abi_encode()).expect("executes");
    let card = ModelCard::modelCardCall::abi_decode_returns(&out.output).expect("decodes");
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
    let contracts = compile_contracts(compile::bundled_dir()).expect("contracts compile");
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
