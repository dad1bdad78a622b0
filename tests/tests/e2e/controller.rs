//! The controller contracts in revm: real proofs accepted; every abuse rejected with its
//! named error; every alias of an output or a KPI mod r refused before it becomes a field
//! element; epochs decided only when current; the guardrails against their twin over
//! random int256 proposals. This file holds the test chain (`Chain`, `Prover`) that the
//! modules below and the other e2e modules share.

mod abuse;
mod governance;
mod guardrails;
mod proofs;

use std::sync::Arc;

use alloy_primitives::{Address, FixedBytes, I256, U256};
use alloy_sol_types::{SolCall, SolConstructor, SolInterface};
use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::ProvingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_contracts::controller::PolicyController::{self, Mode, PolicyControllerErrors, Timing};
use zkpolicy_contracts::controller::{committed_contracts, KpiSourceStub, ReporterKpiSource, VerifierStub};
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
        // The committed artifacts (`committed_contract_artifacts_and_interfaces_match_a_fresh_compile`
        // holds them to the sources), read once per test binary.
        static CONTRACTS: std::sync::OnceLock<std::collections::BTreeMap<String, Compiled>> = std::sync::OnceLock::new();
        let contracts = CONTRACTS.get_or_init(|| committed_contracts().expect("the committed artifacts"));
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
