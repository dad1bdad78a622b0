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
const COMMITTED: [&str; 4] = ["tokenomics-policy", "trained-policy", "policy-m", "policy-l"];

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
        let runtime = compiled.deployed_bytecode.len();
        assert!(runtime <= zkpolicy_verifier::evm::MAX_RUNTIME_BYTES, "{name}: {runtime} bytes of runtime code");
    }
}

/// `generated/contracts/` (what `zkpolicy deploy` and `live` ship, the test doubles, and each
/// one's ABI as the Solidity interface the Rust bindings are generated from) is exactly what the
/// sources in `verifier-contract/contracts/` compile and render to today.
#[test]
fn committed_contract_artifacts_and_interfaces_match_a_fresh_compile() {
    let fresh = zkpolicy_contracts::render_generated(compile::bundled_dir()).expect("the contracts compile and render");
    let mut rendered = std::collections::BTreeSet::new();
    for (name, text) in fresh {
        let committed = std::fs::read_to_string(controller::artifacts_dir().join(&name)).unwrap_or_default();
        assert!(
            text == committed,
            "generated/contracts/{name} drifted from the sources; regenerate with `cargo run -p zkpolicy-contracts --example render_contracts`"
        );
        rendered.insert(name);
    }
    // Every committed file is rendered: none is left over from a removed contract.
    for dir in ["", "economy", "test"] {
        for entry in std::fs::read_dir(controller::artifacts_dir().join(dir)).expect("the directory") {
            let path = entry.expect("an entry").path();
            if path.is_file() {
                let name = path.strip_prefix(controller::artifacts_dir()).expect("under it").to_string_lossy().into_owned();
                assert!(rendered.contains(&name), "generated/contracts/{name} is not rendered from any source");
            }
        }
    }
    // The interfaces declare enums with their members (solc's AST), not as bare uint8s.
    let mode = controller::PolicyController::Mode::Timelocked;
    assert_eq!(mode as u8, 1);
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
