//! The Solidity verifier for a model: rendering, compiling, and running a proof through it in revm.

use std::path::Path;

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::VerifyingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkpolicy_circuits::{PolicyCircuit, PublicInputs};
use zkpolicy_model::ModelCard;
use zkpolicy_verifier::compile::{self, Compiled};
use zkpolicy_verifier::evm::{Deployment, Evm};
use zkpolicy_verifier::recompute::{self, IntegerMlp, MlpLayer};
use zkpolicy_verifier::solidity::{self, NamedRange, OutputMap, Provenance, CONTRACT_NAME};
use zkpolicy_verifier::{abi, build};

use crate::ProverError;

/// What a model's verifier states about it: the header facts and the public model card.
pub fn provenance(card: &ModelCard, k: u32) -> Provenance {
    Provenance {
        model: card.name().into(),
        model_commitment: card.commitment().0,
        k,
        kpis: card
            .inputs()
            .iter()
            .zip(card.input_ranges())
            .map(|(spec, r)| NamedRange { name: spec.name.clone(), lo: r.lo, hi: r.hi })
            .collect(),
        parameters: card.parameters().iter().map(|p| NamedRange { name: p.name.clone(), lo: p.min, hi: p.max }).collect(),
        outputs: card.outputs().iter().map(|o| NamedRange { name: o.name.clone(), lo: o.min, hi: o.max }).collect(),
        output_maps: card.outputs().iter().map(|o| OutputMap { scale_bits: o.scale_bits, step: o.step }).collect(),
    }
}

/// The Solidity source of the verifier for `vk`.
/// `card` is the model's (a model or circuit will do) or a published key's.
pub fn verifier_source(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    card: &(impl AsRef<ModelCard> + ?Sized),
) -> Result<String, ProverError> {
    let card = card.as_ref();
    let program = build::build(params, vk, instance_count(card))?;
    Ok(solidity::render(&program, &provenance(card, vk.get_domain().k())))
}

/// The instance column's length: the epoch, then each KPI, each parameter, each output.
pub fn instance_count(card: &ModelCard) -> usize {
    1 + card.network_width() + card.outputs().len()
}

/// keccak-256 of a verifier source. Artifacts record it, so a deployment can check that
/// their bytecode was compiled from the verifier of this model and this SRS.
pub fn source_keccak(source: &str) -> String {
    format!("0x{}", hex::encode(zkpolicy_verifier::transcript::keccak256(source.as_bytes())))
}

/// Compiles a verifier source with the pinned solc from `solc_dir` (see `compile::bundled_dir`).
pub fn compile_verifier(source: &str, solc_dir: &Path) -> Result<Compiled, ProverError> {
    let mut contracts = compile::compile(solc_dir, &[("ZkPolicyVerifier.sol", source)])?;
    contracts.remove(CONTRACT_NAME).ok_or_else(|| ProverError::Artifact { reason: format!("the compiler produced no {CONTRACT_NAME}") })
}

/// The verdict of the EVM verifier on one proof.
#[derive(Clone, Debug)]
pub struct EvmVerdict {
    /// `verifyProof` returned `true` (a revert or `false` is invalid).
    pub valid: bool,
    /// Gas of the whole `verifyProof` transaction, intrinsic and calldata gas included.
    pub verify_gas: u64,
    /// The verifier's address, deployment gas and runtime size.
    pub deployment: Deployment,
}

/// A rail as the controller's constructor and `setGuardrail` take it.
pub fn contract_rail(g: &zkpolicy_model::Guardrail) -> zkpolicy_contracts::controller::PolicyController::Guardrail {
    let int = |v: i64| alloy_primitives::I256::try_from(v).unwrap_or_default();
    zkpolicy_contracts::controller::PolicyController::Guardrail {
        min: int(g.min),
        max: int(g.max),
        maxStep: int(g.max_step),
        deadBand: int(g.dead_band),
        maxChangeBps: int(g.max_change_bps),
        window: g.window,
        group: g.group,
    }
}

/// Deploys a verifier (its creation bytecode) in a fresh in-process EVM and calls `verifyProof`.
pub fn verify_in_evm(creation_code: &[u8], public: &PublicInputs, proof: &[u8]) -> Result<EvmVerdict, ProverError> {
    let mut evm = Evm::new();
    let deployment = evm.deploy(creation_code.to_vec())?;
    let out = evm.call(deployment.address, abi::verify_calldata(proof, &public.to_instance()))?;
    let valid = out.success && abi::decode_bool(&out.output) == Some(true);
    Ok(EvmVerdict { valid, verify_gas: out.gas_used, deployment })
}

/// What the demo's controller did with one proof, in the in-process EVM.
#[derive(Clone, Debug)]
pub struct ControllerRun {
    /// The controller's parameters before the submission (the rails' initial values).
    pub before: Vec<i64>,
    /// The parameters after it: the proven deltas applied through the guardrails.
    pub after: Vec<i64>,
    /// Gas of the reporter's `commitKpis` transaction.
    pub commit_gas: u64,
    /// Gas of `submitAdjustment`: rebuilding the instances, verifying, guarding, applying.
    pub submit_gas: u64,
    /// Gas to deploy the controller.
    pub controller_deploy_gas: u64,
}

/// Deploys the verifier (creation code), the bundled reporter KPI source and controller
/// (autonomous mode, `rails`, one-day epochs with `public.epoch` current), commits
/// `public`'s KPIs and submits the proof: the whole on-chain loop, in revm.
pub fn run_controller(
    verifier_code: &[u8],
    rails: &[zkpolicy_model::Guardrail],
    public: &PublicInputs,
    proof: &[u8],
) -> Result<ControllerRun, ProverError> {
    use alloy_primitives::{Address, I256, U256};
    use alloy_sol_types::{SolCall, SolConstructor};
    use zkpolicy_contracts::controller::{self, PolicyController, ReporterKpiSource};

    const DAY: u64 = 86_400;
    let failed = |what: &str, output: &[u8]| ProverError::Artifact {
        reason: format!("the demo's {what} failed: {}", zkpolicy_contracts::revert_reason(output)),
    };
    let int = |v: i64| I256::try_from(v).unwrap_or_default();
    let mut evm = Evm::new();
    let reporter = evm.caller();
    let verifier = evm.deploy(verifier_code.to_vec())?.address;
    let artifact = |text: &str| Compiled::parse_artifact(text).map(|c| c.bytecode).map_err(ProverError::from);
    let source_args = ReporterKpiSource::constructorCall { reporter_: reporter, kpiCount_: U256::from(public.kpis.len()) }.abi_encode();
    let source = evm.deploy([artifact(controller::KPI_SOURCE_ARTIFACT)?, source_args].concat())?.address;
    // Epoch `public.epoch` is the current one: genesis that many days back.
    let genesis = (public.epoch.checked_sub(1).and_then(|e| e.checked_mul(DAY)))
        .and_then(|back| evm.timestamp().checked_sub(back))
        .filter(|g| *g > 0)
        .ok_or_else(|| ProverError::Artifact { reason: format!("epoch {} is too far from the demo's clock", public.epoch) })?;
    let args = PolicyController::constructorCall {
        governance_: Address::repeat_byte(0xa1),
        guardian_: Address::repeat_byte(0xa2),
        verifier_: verifier,
        kpiSource_: source,
        mode_: PolicyController::Mode::Autonomous,
        initial: rails.iter().map(|g| int(g.initial)).collect(),
        guardrails_: rails.iter().map(contract_rail).collect(),
        timing_: PolicyController::Timing { maxSnapshotAge: DAY, adjustmentDelay: 0 },
        governanceDelay_: DAY,
        genesis_: genesis,
        epochLength_: DAY,
    }
    .abi_encode();
    let deployed = evm.deploy([artifact(controller::CONTROLLER_ARTIFACT)?, args].concat())?;
    let parameters = |evm: &mut Evm| -> Result<Vec<i64>, ProverError> {
        let out = evm.call(deployed.address, PolicyController::parametersCall {}.abi_encode())?;
        let values =
            PolicyController::parametersCall::abi_decode_returns(&out.output).map_err(|_| failed("parameters read", &out.output))?;
        Ok(values.iter().map(|v| i64::try_from(*v).unwrap_or_default()).collect())
    };
    let before = parameters(&mut evm)?;
    let commit = ReporterKpiSource::commitKpisCall { epoch: public.epoch, kpis: public.kpis.iter().map(|v| int(*v)).collect() };
    let committed = evm.call(source, commit.abi_encode())?;
    if !committed.success {
        return Err(failed("KPI commitment", &committed.output));
    }
    let submit = PolicyController::submitAdjustmentCall {
        epoch: public.epoch,
        outputs: public.outputs.iter().map(|v| int(*v)).collect(),
        proof: proof.to_vec().into(),
    };
    let submitted = evm.call(deployed.address, submit.abi_encode())?;
    if !submitted.success {
        return Err(failed("submission", &submitted.output));
    }
    Ok(ControllerRun {
        before,
        after: parameters(&mut evm)?,
        commit_gas: committed.gas_used,
        submit_gas: submitted.gas_used,
        controller_deploy_gas: deployed.gas_used,
    })
}

/// The model as the recomputation baseline sees it: weights, shifts, and every input's
/// interval from the model's own analysis.
/// The baseline covers relu hidden layers and a linear output layer; any other
/// activation is refused rather than recomputed as something else.
pub fn integer_mlp(circuit: &PolicyCircuit) -> Result<IntegerMlp, recompute::RecomputeError> {
    let model = circuit.model();
    let file = model.file();
    let card = provenance(model.card(), circuit.shape().k);
    let last = file.layers.len() - 1;
    for (l, layer) in file.layers.iter().enumerate() {
        let expected = if l == last { zkpolicy_model::Activation::None } else { zkpolicy_model::Activation::Relu };
        if layer.activation != expected {
            return Err(recompute::RecomputeError::Activation { layer: l, activation: layer.activation.name() });
        }
    }
    let mut bounds: Vec<(i64, i64)> = model.network_ranges().iter().map(|r| (r.lo, r.hi)).collect();
    let layers = file
        .layers
        .iter()
        .zip(model.bounds())
        .enumerate()
        .map(|(l, (layer, b))| {
            let input_bounds = std::mem::replace(&mut bounds, b.out.iter().map(|i| (i.lo, i.hi)).collect());
            MlpLayer { weights: layer.weights.clone(), bias: layer.bias.clone(), shift: layer.shift, relu: l != last, input_bounds }
        })
        .collect();
    Ok(IntegerMlp {
        name: model.name().into(),
        model_commitment: card.model_commitment,
        weight_bits: file.weight_bits,
        inputs: card.kpis.into_iter().chain(card.parameters).collect(),
        layers,
        outputs: card.outputs,
    })
}

/// The recomputation baseline deployed in revm: its address, the gas to deploy it and
/// its weight data contracts, and the EVM it lives in.
pub struct RecomputeDeployment {
    /// The in-process EVM holding the baseline and its data contracts.
    pub evm: Evm,
    /// The baseline contract's address.
    pub address: alloy_primitives::Address,
    /// Gas to deploy the baseline and every data contract.
    pub deploy_gas: u64,
    /// The baseline contract's runtime bytecode size (EIP-170 caps it at 24,576).
    pub runtime_bytes: usize,
    /// Weight data contracts deployed beside it.
    pub data_contracts: usize,
    /// The model's multiply-adds, and the packed words that carry them.
    pub multiply_adds: usize,
    /// The packed weight words, one `MUL` each, whether in code or in data contracts.
    pub packed_words: usize,
}

/// Renders, compiles (solc-js from `solc_dir`) and deploys the baseline for `circuit`'s model.
pub fn deploy_recompute(circuit: &PolicyCircuit, solc_dir: &Path) -> Result<RecomputeDeployment, ProverError> {
    use alloy_sol_types::SolValue;
    let rendered = recompute::render(&integer_mlp(circuit)?)?;
    let mut contracts = compile::compile(solc_dir, &[("ZkPolicyRecompute.sol", &rendered.source)])?;
    let compiled = contracts
        .remove(recompute::CONTRACT_NAME)
        .ok_or_else(|| ProverError::Artifact { reason: format!("the compiler produced no {}", recompute::CONTRACT_NAME) })?;
    let mut evm = Evm::new();
    let mut deploy_gas = 0;
    let mut chunks = Vec::new();
    for chunk in &rendered.chunks {
        let d = evm.deploy(recompute::data_contract_creation(chunk))?;
        deploy_gas += d.gas_used;
        chunks.push(d.address);
    }
    // `address[N]` is static: its words, no offset or length.
    let args: Vec<u8> = chunks.iter().flat_map(|a| a.abi_encode()).collect();
    let d = evm.deploy([compiled.bytecode, args].concat())?;
    Ok(RecomputeDeployment {
        evm,
        address: d.address,
        deploy_gas: deploy_gas + d.gas_used,
        runtime_bytes: d.runtime_bytes,
        data_contracts: chunks.len(),
        multiply_adds: rendered.multiply_adds,
        packed_words: rendered.packed_words,
    })
}

/// What one `recompute` returned: the outputs, or the revert data.
pub type Recomputed = Result<Vec<i64>, Vec<u8>>;

impl RecomputeDeployment {
    /// `recompute(kpis)` as a transaction: the outputs (or the revert data) and its gas.
    /// Runs the baseline on the network inputs (the KPIs, then any parameters the model reads).
    pub fn recompute(&mut self, kpis: &[i64]) -> Result<(Recomputed, u64), ProverError> {
        use alloy_primitives::I256;
        use alloy_sol_types::SolCall;
        use recompute::ZkPolicyRecompute::recomputeCall;
        let call = recomputeCall { kpis: kpis.iter().map(|v| I256::try_from(*v).unwrap_or_default()).collect() };
        let out = self.evm.call(self.address, call.abi_encode())?;
        if !out.success {
            return Ok((Err(out.output), out.gas_used));
        }
        let values = recomputeCall::abi_decode_returns(&out.output).map_err(|e| ProverError::Artifact { reason: e.to_string() })?;
        Ok((Ok(values.iter().map(|v| i64::try_from(*v).unwrap_or(i64::MIN)).collect()), out.gas_used))
    }
}
