//! The operator's path on a real JSON-RPC node: deploy, commit KPIs, prove,
//! submit, read the parameters back; and every chain command's failure paths.

use std::path::Path;

use alloy::signers::local::PrivateKeySigner;
use predicates::prelude::PredicateBooleanExt;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};
use zkpolicy_model::sim::{self, deployment_guardrails};

mod common;
use common::node::{LocalNode, DEV_KEYS};
use common::{edit_json, models, stdout_json, zkpolicy};

/// The bundled config with no minimum interval, so one test can submit several epochs.
fn write_config(dir: &Path) {
    write_config_with(dir, "config.json", "autonomous");
}

fn write_config_with(dir: &Path, name: &str, mode: &str) {
    let config = json!({
        "mode": mode,
        "governance_delay": 86_400,
        "timing": {"max_snapshot_age": 3_600, "min_epoch_interval": 0, "adjustment_delay": 0},
        "parameters": deployment_guardrails(),
    });
    std::fs::write(dir.join(name), serde_json::to_vec_pretty(&config).expect("json")).expect("write");
}

/// `PolicyController.guard`'s native twin (the simulator's), with the test config's rails.
fn guard(current: &[i64], deltas: &[i64]) -> Vec<i64> {
    sim::guard(current, deltas, &deployment_guardrails()).expect("guards").values
}

fn initial() -> Vec<i64> {
    deployment_guardrails().iter().map(|r| r.initial).collect()
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array().expect("array").iter().map(|x| x.as_i64().expect("integer")).collect()
}

fn write_kpis(dir: &Path, name: &str, staking: f64, price: f64) {
    let mut v: Value = serde_json::from_slice(&std::fs::read(models().join("kpis-sample.json")).expect("sample")).expect("json");
    v["kpis"]["staking_ratio"] = json!(staking);
    v["kpis"]["price_vs_target"] = json!(price);
    std::fs::write(dir.join(name), serde_json::to_vec(&v).expect("json")).expect("write");
}

#[test]
fn deploy_commit_prove_submit_and_read_back_on_a_local_node() {
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config(d);
    let chain = |args: &[&str]| {
        let mut cmd = zkpolicy(d);
        cmd.args(args).args(["--rpc", &node.url, "--json"]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0]);
        cmd.assert()
    };

    // The development SRS is refused without --allow-dev-srs, and nothing is written.
    chain(&["deploy", "--config", "config.json", "--out", "deployment.json"])
        .code(2)
        .stderr(predicates::str::contains("INSECURE development SRS").and(predicates::str::contains("--allow-dev-srs")));
    assert!(!d.join("deployment.json").exists());

    let deployed = stdout_json(&chain(&["deploy", "--config", "config.json", "--out", "deployment.json", "--allow-dev-srs"]).success());
    let record: Value = serde_json::from_slice(&std::fs::read(d.join("deployment.json")).expect("record")).expect("json");
    assert_eq!(deployed["deployment"], record);
    assert_eq!(record["chain_id"], 31_337);
    assert_eq!(record["insecure_dev_srs"], true);
    assert!(record["gas"]["verifier"].as_u64().expect("gas") > 1_000_000);

    // Two epochs of KPIs on chain, proven as a batch.
    std::fs::create_dir(d.join("snapshots")).expect("mkdir");
    write_kpis(d, "snapshots/a.json", 0.30, -0.20);
    write_kpis(d, "snapshots/b.json", 0.70, 0.25);
    for (epoch, file) in [("1", "snapshots/a.json"), ("2", "snapshots/b.json")] {
        let committed = stdout_json(&chain(&["commit-kpis", "--deployment", "deployment.json", "--kpis", file, "--epoch", epoch]).success());
        assert_eq!(committed["epoch"].to_string(), epoch);
    }
    zkpolicy(d).args(["prove", "--kpis", "snapshots", "--epoch", "1", "--out", "proofs", "--json"]).assert().success();

    // A tampered proof is rejected by the on-chain verifier: exit 1, named.
    edit_json(d, "proofs/a.proof.json", "tampered.json", |v| {
        let proof = v["proof"].as_str().expect("hex").to_string();
        let flipped = if &proof[10..11] == "0" { "1" } else { "0" };
        v["proof"] = json!(format!("{}{}{}", &proof[..10], flipped, &proof[11..]));
    });
    chain(&["submit", "--deployment", "deployment.json", "--proof", "tampered.json"])
        .code(1)
        .stderr(predicates::str::contains("InvalidProof"));
    // A proof made for another model never reaches the chain: exit 1.
    edit_json(d, "proofs/a.proof.json", "other-model.json", |v| v["model_commitment"] = json!(format!("0x{}", "11".repeat(32))));
    chain(&["submit", "--deployment", "deployment.json", "--proof", "other-model.json"])
        .code(1)
        .stderr(predicates::str::contains("the proof is for model"));

    // Epoch 1, signed from a keystore this time: applied values are the guarded proposal.
    let keystore_dir = d.join("keystore");
    std::fs::create_dir(&keystore_dir).expect("mkdir");
    let key = hex::decode(DEV_KEYS[0].trim_start_matches("0x")).expect("hex");
    PrivateKeySigner::encrypt_keystore(&keystore_dir, &mut ChaCha20Rng::seed_from_u64(7), key, "correct horse", Some("deployer.json"))
        .expect("keystore");
    let mut current = initial();
    let submitted = zkpolicy(d)
        .args(["submit", "--deployment", "deployment.json", "--proof", "proofs/a.proof.json", "--keystore", "keystore/deployer.json"])
        .args(["--rpc", &node.url, "--json"])
        .env("ZKPOLICY_KEYSTORE_PASSWORD", "correct horse")
        .assert()
        .success();
    let result = &stdout_json(&submitted)["result"];
    let proposed = ints(&result["proposed"]);
    let proof_outputs: Value = serde_json::from_slice(&std::fs::read(d.join("proofs/a.proof.json")).expect("proof")).expect("json");
    let proven: Vec<i64> = proof_outputs["outputs"].as_array().expect("outputs").iter().map(|o| o["value"].as_i64().expect("int")).collect();
    assert_eq!(proposed, proven);
    current = guard(&current, &proposed);
    assert_eq!(ints(&result["applied"]), current);
    assert!(result["gas_used"].as_u64().expect("gas") > 300_000);

    // The same epoch again is refused by the controller, by name.
    chain(&["submit", "--deployment", "deployment.json", "--proof", "proofs/a.proof.json"])
        .code(1)
        .stderr(predicates::str::contains("EpochNotAfter"));

    // Epoch 2, then the parameters read back from the chain equal the native guard's.
    let result = stdout_json(&chain(&["submit", "--deployment", "deployment.json", "--proof", "proofs/b.proof.json"]).success());
    current = guard(&current, &ints(&result["result"]["proposed"]));
    let status = stdout_json(&zkpolicy(d).args(["status", "--deployment", "deployment.json", "--rpc", &node.url, "--json"]).assert().success());
    assert_eq!(ints(&status["status"]["parameters"]), current);
    assert_eq!(status["status"]["last_epoch"], 2);
    assert_ne!(current, initial(), "the policy moved the parameters");

    // A proof on KPIs other than those committed for its epoch is named before sending.
    write_kpis(d, "snapshots/c.json", 0.55, 0.0);
    chain(&["commit-kpis", "--deployment", "deployment.json", "--kpis", "snapshots/c.json", "--epoch", "3"]).success();
    zkpolicy(d).args(["prove", "--kpis", "snapshots/a.json", "--epoch", "3", "--out", "c3.json"]).assert().success();
    chain(&["submit", "--deployment", "deployment.json", "--proof", "c3.json"])
        .code(1)
        .stderr(predicates::str::contains("other KPIs than those committed for epoch 3"));
}

#[test]
fn timelocked_mode_queues_the_adjustment_and_execute_applies_it() {
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config_with(d, "timelocked.json", "timelocked");
    let chain = |args: &[&str]| {
        let mut cmd = zkpolicy(d);
        cmd.args(args).args(["--rpc", &node.url, "--json"]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[1]);
        cmd.assert()
    };
    chain(&["deploy", "--config", "timelocked.json", "--out", "deployment.json", "--allow-dev-srs"]).success();
    let sample = models().join("kpis-sample.json");
    let sample = sample.to_str().expect("utf-8");
    chain(&["commit-kpis", "--deployment", "deployment.json", "--kpis", sample, "--epoch", "1"]).success();
    zkpolicy(d).args(["prove", "--kpis", sample, "--epoch", "1", "--out", "p1.json"]).assert().success();

    let initial = initial();
    let submitted = stdout_json(&chain(&["submit", "--deployment", "deployment.json", "--proof", "p1.json"]).success());
    let result = &submitted["result"];
    assert_eq!(result["mode"], "timelocked");
    assert!(result["applied"].is_null() && result["queued_until"].is_u64(), "{result}");
    let status = |d: &Path| stdout_json(&zkpolicy(d).args(["status", "--deployment", "deployment.json", "--rpc", &node.url, "--json"]).assert().success());
    assert_eq!(ints(&status(d)["status"]["parameters"]), initial, "queued, not applied");

    let executed = stdout_json(&chain(&["execute", "--deployment", "deployment.json", "--epoch", "1"]).success());
    let expected = guard(&initial, &ints(&result["proposed"]));
    assert_eq!(ints(&executed["applied"]), expected);
    assert_eq!(ints(&status(d)["status"]["parameters"]), expected);
    chain(&["execute", "--deployment", "deployment.json", "--epoch", "1"]).code(1).stderr(predicates::str::contains("NothingQueued"));
}

#[test]
fn chain_commands_name_an_unreachable_node_a_missing_key_and_bad_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config(d);
    let dead = "http://127.0.0.1:1";
    std::fs::write(d.join("deployment.json"), b"{\"format\": \"zkpolicy-deployment\"").expect("write");
    let commands: [&[&str]; 4] = [
        &["deploy", "--config", "config.json", "--out", "deployment.json", "--allow-dev-srs"],
        &["commit-kpis", "--deployment", "deployment.json", "--epoch", "1", "--kpis"],
        &["submit", "--deployment", "deployment.json", "--proof", "missing.json"],
        &["status", "--deployment", "deployment.json"],
    ];
    let sample = models().join("kpis-sample.json");

    // An unreachable RPC: exit 2, naming the URL, and no record written.
    let mut deploy = zkpolicy(d);
    deploy.args(commands[0]).args(["--rpc", dead]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[1]);
    deploy.assert().code(2).stderr(predicates::str::contains("cannot reach the JSON-RPC node at http://127.0.0.1:1"));
    let mut commit = zkpolicy(d);
    commit.args(commands[1]).arg(&sample).args(["--rpc", dead]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[1]);
    commit.assert().code(2).stderr(predicates::str::contains("cannot reach"));
    zkpolicy(d).args(commands[3]).args(["--rpc", dead]).assert().code(2).stderr(predicates::str::contains("cannot reach"));

    // No key: the variable is named. A malformed key: its value is never echoed.
    zkpolicy(d).args(commands[0]).args(["--rpc", dead]).assert().code(2).stderr(predicates::str::contains("ZKPOLICY_PRIVATE_KEY is not set"));
    let secret = "0xdeadbeefnotakey1234";
    zkpolicy(d)
        .args(commands[0])
        .args(["--rpc", dead])
        .env("ZKPOLICY_PRIVATE_KEY", secret)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("does not hold a 32-byte hex private key").and(predicates::str::contains(secret).not()));
    zkpolicy(d)
        .args(commands[0])
        .args(["--rpc", dead, "--keystore", "nope.json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nope.json: no such keystore file"));

    // Bad files name the file and the field.
    edit_json(d, "config.json", "short.json", |v| {
        v["parameters"].as_array_mut().expect("array").pop();
    });
    zkpolicy(d)
        .args(["deploy", "--config", "short.json", "--out", "x.json", "--allow-dev-srs", "--rpc", dead])
        .env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[1])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("short.json").and(predicates::str::contains("parameters: 3 entries")));
    edit_json(d, "config.json", "badmode.json", |v| v["mode"] = json!("yolo"));
    zkpolicy(d)
        .args(["deploy", "--config", "badmode.json", "--out", "x.json", "--allow-dev-srs", "--rpc", dead])
        .env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[1])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("mode: \"yolo\""));
    zkpolicy(d)
        .args(["submit", "--deployment", "deployment.json", "--proof", "missing.json", "--rpc", dead])
        .env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[1])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("missing.json"));
    assert!(!d.join("x.json").exists());
}

#[test]
fn deploy_refuses_a_verifier_artifact_of_another_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config(d);
    let artifact = models().join("../verifier-contract/generated/tokenomics-policy/ZkPolicyVerifier.json");
    std::fs::copy(artifact, d.join("bundled.json")).expect("copy");
    edit_json(d, "bundled.json", "other.json", |v| v["sourceKeccak"] = json!(format!("0x{}", "22".repeat(32))));
    zkpolicy(d)
        .args(["deploy", "--config", "config.json", "--out", "x.json", "--allow-dev-srs", "--verifier", "other.json"])
        .args(["--rpc", "http://127.0.0.1:1"])
        .env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[2])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("is not the verifier of this model and SRS"));
}
