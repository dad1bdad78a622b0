//! The rendered Solidity verifier in revm: same verdicts as the native verifier.

use std::path::Path;
use std::sync::Arc;

use halo2_proofs::halo2curves::bn256::Fr;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_model::{synth, Model};
use zkpolicy_prover::{keys, proof, srs};
use zkpolicy_verifier_contract::solidity::{render, Provenance, CONTRACT_NAME};
use zkpolicy_verifier_contract::{abi, build, compile, evm};

#[test]
fn default_verifier_accepts_a_valid_proof_in_the_evm() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/tokenomics-policy.json");
    let circuit = PolicyCircuit::new(Arc::new(Model::load(path).expect("model"))).expect("plan");
    let params = srs::dev_params_insecure(circuit.shape().k);
    let pk = keys::keygen(&params, &circuit).expect("keygen");
    let program = build::build(&params, pk.get_vk(), circuit.shape().instances).expect("program");
    let provenance = Provenance { model: "tokenomics-policy".into(), model_commitment: circuit.model().commitment().to_string(), k: circuit.shape().k, instance_order: "[epoch, kpis, outputs]".into() };
    let source = render(&program, &provenance);
    std::fs::write("/tmp/ZkPolicyVerifier.sol", &source).ok();
    let compiled = compile::compile(compile::bundled_dir(), &[("ZkPolicyVerifier.sol", &source)]).expect("compiles");
    let verifier = &compiled[CONTRACT_NAME];
    let mut evm = evm::Evm::new();
    let deployed = evm.deploy(verifier.bytecode.clone()).expect("deploys");
    eprintln!("runtime {} bytes, deploy gas {}", deployed.runtime_bytes, deployed.gas_used);
    let kpis = synth::random_kpis(circuit.model(), &mut ChaCha20Rng::seed_from_u64(4));
    let (public, bytes) = proof::prove(&params, &pk, &circuit, &kpis, 3, ChaCha20Rng::seed_from_u64(5)).expect("prove");
    let out = evm.call(deployed.address, abi::verify_calldata(&bytes, &public.to_instance())).expect("call");
    eprintln!("verify gas {} success {} output {}", out.gas_used, out.success, hex::encode(&out.output));
    assert_eq!(abi::decode_bool(&out.output), Some(true));
    let mut forged = public.to_instance();
    forged[0] += Fr::from(1);
    let out = evm.call(deployed.address, abi::verify_calldata(&bytes, &forged)).expect("call");
    assert_eq!(abi::decode_bool(&out.output), Some(false));
}
