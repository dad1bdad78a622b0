//! `gen-verifier`, `export-contracts` and `demo`: deployable verifiers and artifacts, also from outside the tree.

use predicates::prelude::*;
use serde_json::Value;

use super::prove;
use crate::common::{edit_json, models, stdout_json, zkpolicy};

#[test]
fn gen_verifier_writes_a_deployable_verifier_and_verify_evm_agrees() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let v = stdout_json(&zkpolicy(d).args(["gen-verifier", "--out-dir", "v", "--json"]).assert().success());
    assert_eq!(v["within_eip170"], true);
    for file in ["ZkPolicyVerifier.sol", "ZkPolicyVerifier.abi.json", "ZkPolicyVerifier.json"] {
        assert!(d.join("v").join(file).metadata().expect(file).len() > 100, "{file}");
    }
    let artifact: Value = serde_json::from_slice(&std::fs::read(d.join("v/ZkPolicyVerifier.json")).expect("artifact")).expect("json");
    assert!(artifact["deployedBytecode"].as_str().expect("hex").len() > 1000);

    prove(d, &models().join("kpis-sample.json"), "proof.json").success();
    let v = stdout_json(
        &zkpolicy(d)
            .args(["verify", "--evm", "--json", "--model"])
            .arg(models().join("tokenomics-policy.json"))
            .args(["--proof", "proof.json"])
            .assert()
            .success(),
    );
    assert_eq!(v["valid"], true);
    assert_eq!(v["evm"]["valid"], true);
    assert!(v["evm"]["verify_gas"].as_u64().expect("gas") > 100_000);

    edit_json(d, "proof.json", "epoch.json", |v| v["epoch"] = 10.into());
    let out = zkpolicy(d)
        .args(["verify", "--evm", "--json", "--model"])
        .arg(models().join("tokenomics-policy.json"))
        .args(["--proof", "epoch.json"])
        .assert()
        .code(1);
    // The refusal is the error document, like every other command's, and says that the EVM
    // verifier agreed with the native one.
    let v = stdout_json(&out);
    assert_eq!(v["error"]["kind"], "rejected", "{v}");
    assert_eq!(v["error"]["exit_code"], 1, "{v}");
    let message = v["error"]["message"].as_str().expect("message");
    assert!(message.contains("invalid proof") && message.contains("the EVM verifier rejected it too"), "{message}");
}

#[test]
fn demo_runs_the_whole_loop_including_the_evm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = stdout_json(&zkpolicy(dir.path()).args(["demo", "--json"]).assert().success());
    assert_eq!(v["verified"], true);
    assert_eq!(v["proof_bytes"], 1184);
    assert!(v["evm"]["verify_gas"].as_u64().expect("gas") > 100_000);
    assert_eq!(v["outputs"].as_array().expect("outputs").len(), 4);
    // The controller applied the proven outputs through the guardrails.
    let c = &v["controller"];
    let ints = |x: &Value| x.as_array().expect("array").iter().map(|n| n.as_i64().expect("int")).collect::<Vec<_>>();
    let outputs: Vec<i64> = v["outputs"].as_array().expect("outputs").iter().map(|o| o["value"].as_i64().expect("int")).collect();
    let rails = zkpolicy_lab::sim::deployment_guardrails();
    assert_eq!(ints(&c["before"]), rails.iter().map(|r| r.initial).collect::<Vec<_>>());
    let expected = zkpolicy_lab::sim::guard(&ints(&c["before"]), &outputs, &rails).expect("guards").values;
    assert_eq!(ints(&c["after"]), expected);
    assert!(c["submit_gas"].as_u64().expect("gas") > c["commit_gas"].as_u64().expect("gas"));
    // The demo writes nothing.
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

/// gen-verifier and export-contracts write Foundry- and Hardhat-shaped artifacts that carry
/// exactly the bytecode of the artifacts `deploy` uses, and the verifier interface.
#[test]
fn toolchain_artifacts_carry_the_deployed_bytecode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let read = |path: &str| -> Value { serde_json::from_slice(&std::fs::read(d.join(path)).expect(path)).expect("json") };
    zkpolicy(d).args(["gen-verifier", "--out-dir", "v"]).assert().success();
    let artifact = read("v/ZkPolicyVerifier.json");
    let foundry = read("v/foundry/out/ZkPolicyVerifier.sol/ZkPolicyVerifier.json");
    let hardhat = read("v/hardhat/artifacts/contracts/ZkPolicyVerifier.sol/ZkPolicyVerifier.json");
    assert_eq!(foundry["bytecode"]["object"], artifact["bytecode"]);
    assert_eq!(foundry["deployedBytecode"]["object"], artifact["deployedBytecode"]);
    assert_eq!(hardhat["_format"], "hh-sol-artifact-1");
    assert_eq!(hardhat["bytecode"], artifact["bytecode"]);
    assert_eq!(hardhat["abi"], artifact["abi"]);
    let interface = std::fs::read_to_string(d.join("v/IZkPolicyVerifier.sol")).expect("interface");
    assert!(interface.contains("interface IZkPolicyVerifier") && interface.contains("function verifyProof"));

    let out = stdout_json(&zkpolicy(d).args(["export-contracts", "--out-dir", "c", "--json"]).assert().success());
    assert_eq!(out["files"].as_array().expect("files").len(), 9, "{out}");
    for (contract, file) in [("PolicyController", "PolicyController.sol"), ("ReporterKpiSource", "KpiSource.sol")] {
        let artifact = read(&format!("c/{contract}.json"));
        let hardhat = read(&format!("c/hardhat/artifacts/contracts/{file}/{contract}.json"));
        let foundry = read(&format!("c/foundry/out/{file}/{contract}.json"));
        assert_eq!(hardhat["bytecode"], artifact["bytecode"], "{contract}");
        assert_eq!(foundry["deployedBytecode"]["object"], artifact["deployedBytecode"], "{contract}");
        assert_eq!(read(&format!("c/{contract}.abi.json")), artifact["abi"], "{contract}");
    }
}

/// The binary copied out of the tree, with no solc-js anywhere it looks: the bundled models'
/// commands work (their verifiers are shipped), and a verifier that would need compiling is
/// refused with the way to install the compiler.
#[test]
fn the_binary_runs_outside_its_tree_and_names_how_to_get_a_compiler() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let exe = d.join("zkpolicy");
    std::fs::copy(assert_cmd::cargo::cargo_bin("zkpolicy"), &exe).expect("copy the binary");
    std::fs::write(d.join("kpis.json"), std::fs::read(models().join("kpis-sample.json")).expect("sample")).expect("write");
    let run = |args: &[&str]| {
        let mut cmd = assert_cmd::Command::new(&exe);
        cmd.current_dir(d).args(args).env("ZKPOLICY_SOLC_DIR", d.join("no-solc-here")).env_remove("ZKPOLICY_RPC_URL");
        cmd.assert()
    };
    run(&["demo", "--json"]).success();
    run(&["prove", "--kpis", "kpis.json", "--epoch", "2", "--out", "proof.json"]).success();
    let verdict = stdout_json(&run(&["verify", "--proof", "proof.json", "--evm", "--json"]).success());
    assert_eq!(verdict["evm"]["valid"], true, "{verdict}");
    // policy-m's verifier is shipped too: generating it needs no compiler.
    std::fs::write(d.join("policy-m.json"), std::fs::read(models().join("policy-m.json")).expect("model")).expect("write");
    run(&["gen-verifier", "--model", "policy-m.json", "--out-dir", "m"]).success();
    assert!(d.join("m/ZkPolicyVerifier.json").is_file());
    // So is trained-policy's, and --model takes a bundled model by name, no file needed.
    run(&["gen-verifier", "--model", "trained-policy", "--out-dir", "t"]).success();
    assert!(d.join("t/ZkPolicyVerifier.json").is_file());
    run(&["inspect", "--model", "policy-l"]).success().stdout(predicate::str::contains("policy-l"));
    run(&["inspect", "--model", "no-such-policy"]).code(2).stderr(
        predicate::str::contains("model file no-such-policy does not exist, and it is no bundled model's name")
            .and(predicate::str::contains("trained-policy")),
    );
    // Private weights make a verifier nobody shipped: it needs solc-js, and says how to get it.
    run(&["salt", "--out", "s.salt"]).success();
    run(&["gen-verifier", "--salt", "s.salt", "--out-dir", "p"])
        .code(2)
        .stderr(predicate::str::contains("needs solc-js 0.8.37").and(predicate::str::contains("npm install --prefix DIR solc@0.8.37")));
    assert!(!d.join("p").exists(), "nothing is written");
}
