//! The committed Solidity verifiers of the bundled model files are exactly what the generator renders.

use std::path::Path;
use std::sync::Arc;

use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_contracts::controller;
use zkpolicy_model::Model;
use zkpolicy_prover::{evm, keys};
use zkpolicy_verifier::{compile, toolchain};

/// The committed verifiers: the bundled model files at their deployed (gas) shape, with the
/// development SRS. The binary ships them, so their commands need no compiler.
const COMMITTED: [&str; 3] = ["tokenomics-policy", "policy-m", "policy-l"];

#[test]
fn committed_verifiers_match_a_fresh_render_and_compile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for name in COMMITTED {
        let regenerate = format!(
            "regenerate with `cargo run --release -- gen-verifier --model models/{name}.json --out-dir verifier-contract/generated/{name}`"
        );
        let circuit = PolicyCircuit::new(Arc::new(Model::load(root.join(format!("models/{name}.json"))).expect("model"))).expect("plan");
        let params = crate::common::dev_params(circuit.shape().k);
        let vk = keys::keygen_vk(&params, &circuit).expect("vk");
        let fresh = evm::verifier_source(&params, &vk, &circuit).expect("render");
        let dir = root.join("verifier-contract/generated").join(name);
        let committed = std::fs::read_to_string(dir.join("ZkPolicyVerifier.sol")).expect("committed source");
        assert!(committed == fresh, "{name}: the committed verifier source drifted; {regenerate}");

        let compiled = evm::compile_verifier(&fresh, compile::bundled_dir()).expect("compiles");
        let artifact: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("ZkPolicyVerifier.json")).expect("committed artifact")).expect("json");
        assert_eq!(
            artifact["deployedBytecode"],
            format!("0x{}", hex::encode(&compiled.deployed_bytecode)),
            "{name}: bytecode drifted; {regenerate}"
        );
        assert_eq!(artifact["sourceKeccak"], evm::source_keccak(&fresh), "{name}: {regenerate}");
        assert_eq!(artifact["modelCommitment"], circuit.model().commitment().to_string());
    }
}

/// `zkpolicy deploy` ships the compiled controller and KPI source; they must be what the
/// sources in `verifier-contract/contracts/` compile to today.
#[test]
fn committed_controller_artifacts_match_a_fresh_compile() {
    let compiled = controller::compile_contracts(compile::bundled_dir()).expect("contracts compile");
    let committed = [controller::CONTROLLER_ARTIFACT, controller::KPI_SOURCE_ARTIFACT];
    for ((name, fresh), committed) in controller::render_artifacts(&compiled).expect("render").into_iter().zip(committed) {
        assert!(
            fresh == committed,
            "generated/contracts/{name} drifted from the sources; regenerate with `cargo run -p zkpolicy-contracts --example render_contracts`"
        );
    }
}

/// `zkpolicy deploy` ships the compiled economy and on-chain KPI source too.
#[test]
fn committed_economy_artifacts_match_a_fresh_compile() {
    let compiled = zkpolicy_contracts::economy::compile_economy(compile::bundled_dir()).expect("the economy compiles");
    let fresh = zkpolicy_contracts::economy::render_artifacts(&compiled).expect("render");
    for ((name, fresh), committed) in fresh.into_iter().zip(zkpolicy_contracts::economy::ECONOMY_ARTIFACTS) {
        assert!(
            fresh == committed,
            "generated/contracts/economy/{name} drifted from the sources; regenerate with `cargo run -p zkpolicy-contracts --example render_contracts`"
        );
    }
    // And the attackers' bundle that `zkpolicy live --attackers` deploys.
    let fresh = zkpolicy_contracts::economy::render_attacker_artifacts(&compiled).expect("render");
    assert_eq!(fresh.len(), 1);
    assert!(
        fresh[0].1 == zkpolicy_contracts::economy::ATOMIC_BUNDLE_ARTIFACT,
        "generated/contracts/test/{} drifted from its source; regenerate with `cargo run -p zkpolicy-contracts --example render_contracts`",
        fresh[0].0
    );
}

/// `IZkPolicyVerifier.sol` (written by gen-verifier and export-contracts) compiles, and every
/// committed verifier implements each of its functions with the same inputs and outputs.
#[test]
fn the_verifier_interface_matches_every_committed_verifier() {
    let compiled = compile::compile(compile::bundled_dir(), &[("IZkPolicyVerifier.sol", toolchain::VERIFIER_INTERFACE)]).expect("compiles");
    let interface = compiled["IZkPolicyVerifier"].abi.as_array().expect("abi").clone();
    let types = |params: &serde_json::Value| -> Vec<String> {
        params.as_array().map(|ps| ps.iter().map(|p| p["type"].as_str().unwrap_or_default().to_string()).collect()).unwrap_or_default()
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../verifier-contract/generated");
    for name in COMMITTED {
        let abi: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join(name).join("ZkPolicyVerifier.abi.json")).expect("abi")).expect("json");
        assert_eq!(interface.len(), 2);
        for function in &interface {
            let found = abi.as_array().expect("abi").iter().find(|f| f["name"] == function["name"]);
            let found = found.unwrap_or_else(|| panic!("{name} lacks {}", function["name"]));
            assert_eq!(types(&found["inputs"]), types(&function["inputs"]), "{name}: {}", function["name"]);
            assert_eq!(types(&found["outputs"]), types(&function["outputs"]), "{name}: {}", function["name"]);
        }
    }
}
