//! The Solidity verifier for a model: rendering, compiling, and running a proof through it in revm.

use std::path::Path;

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::VerifyingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkpolicy_circuits::{PolicyCircuit, PublicInputs};
use zkpolicy_verifier_contract::compile::{self, Compiled};
use zkpolicy_verifier_contract::evm::{Deployment, Evm};
use zkpolicy_verifier_contract::solidity::{self, NamedRange, Provenance, CONTRACT_NAME};
use zkpolicy_verifier_contract::{abi, build};

use crate::ProverError;

/// What a model's verifier states about it: the header facts and the public model card.
pub fn provenance(circuit: &PolicyCircuit) -> Provenance {
    let model = circuit.model();
    let file = model.file();
    Provenance {
        model: model.name().into(),
        model_commitment: model.commitment().0,
        k: circuit.shape().k,
        kpis: file
            .inputs
            .iter()
            .zip(model.input_ranges())
            .map(|(spec, r)| NamedRange { name: spec.name.clone(), lo: r.lo, hi: r.hi })
            .collect(),
        outputs: file.outputs.iter().map(|o| NamedRange { name: o.name.clone(), lo: o.min, hi: o.max }).collect(),
    }
}

/// The Solidity source of the verifier for `vk`.
pub fn verifier_source(params: &ParamsKZG<Bn256>, vk: &VerifyingKey<G1Affine>, circuit: &PolicyCircuit) -> Result<String, ProverError> {
    let program = build::build(params, vk, circuit.shape().instances)?;
    Ok(solidity::render(&program, &provenance(circuit)))
}

/// keccak-256 of a verifier source. Artifacts record it, so a deployment can check that
/// their bytecode was compiled from the verifier of this model and this SRS.
pub fn source_keccak(source: &str) -> String {
    format!("0x{}", hex::encode(zkpolicy_verifier_contract::transcript::keccak256(source.as_bytes())))
}

/// Compiles a verifier source with the pinned solc from `solc_dir` (see `compile::bundled_dir`).
pub fn compile_verifier(source: &str, solc_dir: &Path) -> Result<Compiled, ProverError> {
    let mut contracts = compile::compile(solc_dir, &[("ZkPolicyVerifier.sol", source)])?;
    contracts
        .remove(CONTRACT_NAME)
        .ok_or_else(|| ProverError::Artifact { reason: format!("the compiler produced no {CONTRACT_NAME}") })
}

/// The verdict of the EVM verifier on one proof.
#[derive(Clone, Debug)]
pub struct EvmVerdict {
    pub valid: bool,
    pub verify_gas: u64,
    pub deployment: Deployment,
}

/// Deploys a verifier (its creation bytecode) in a fresh in-process EVM and calls `verifyProof`.
pub fn verify_in_evm(creation_code: &[u8], public: &PublicInputs, proof: &[u8]) -> Result<EvmVerdict, ProverError> {
    let mut evm = Evm::new();
    let deployment = evm.deploy(creation_code.to_vec())?;
    let out = evm.call(deployment.address, abi::verify_calldata(proof, &public.to_instance()))?;
    let valid = out.success && abi::decode_bool(&out.output) == Some(true);
    Ok(EvmVerdict { valid, verify_gas: out.gas_used, deployment })
}
