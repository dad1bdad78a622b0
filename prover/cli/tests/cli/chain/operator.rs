//! The operator's path: deploy, commit, prove, submit and read back; timelocked decisions; a deployment audited.

use std::path::Path;

use alloy::signers::local::PrivateKeySigner;
use assert_cmd::assert::Assert;
use predicates::prelude::PredicateBooleanExt;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};

use super::{guard, initial, ints, write_config, write_config_with, write_kpis, CLOCK, HOUR, NEVER};
use crate::common::node::{LocalNode, DEV_KEYS};
use crate::common::{edit_json, json_run, models, stdout_json, zkpolicy};

/// `deploy` through `chain`: the development SRS refused without --allow-dev-srs, nothing
/// written; then accepted, the record printed being the one written. Returns the record.
fn deploy_with_the_dev_srs(d: &Path, chain: &dyn Fn(&[&str]) -> Assert) -> Value {
    // The development SRS is refused without --allow-dev-srs, and nothing is written.
    chain(&["deploy", "--config", "config.json", "--out", "deployment.json"])
        .code(2)
        .stderr(predicates::str::contains("INSECURE development SRS").and(predicates::str::contains("--allow-dev-srs")));
    assert!(!d.join("deployment.json").exists());

    let deployed = stdout_json(&chain(&["deploy", "--config", "config.json", "--out", "deployment.json", "--allow-dev-srs"]).success());
    let record: Value = serde_json::from_slice(&std::fs::read(d.join("deployment.json")).expect("record")).expect("json");
    assert_eq!(deployed["deployment"], record);
    assert_eq!(deployed["weights"], "fixed", "{deployed}");
    assert!(record.get("private").is_none(), "a fixed-weight record keeps no card: {record}");
    assert_eq!(record["chain_id"], 31_337);
    assert_eq!(record["insecure_dev_srs"], true);
    assert!(record["gas"]["verifier"].as_u64().expect("gas") > 1_000_000);
    record
}

/// Two epochs of KPIs committed on chain through `chain` (an epoch never decided refused
/// first), proven as a batch into `proofs/`.
fn commit_two_epochs_and_prove(d: &Path, chain: &dyn Fn(&[&str]) -> Assert) {
    // Two epochs of KPIs on chain, proven as a batch.
    std::fs::create_dir(d.join("snapshots")).expect("mkdir");
    write_kpis(d, "snapshots/a.json", 0.30, -0.20);
    write_kpis(d, "snapshots/b.json", 0.70, 0.25);
    // A commitment cannot be replaced: an epoch the controller will never decide, past or
    // far ahead (issue 30's off-by-one), is refused before anything is sent.
    for (epoch, why) in [("0", "epoch 0 can no longer be decided"), ("999999", "more than one epoch ahead")] {
        chain(&["commit-kpis", "--deployment", "deployment.json", "--kpis", "snapshots/a.json", "--epoch", epoch])
            .code(2)
            .stderr(predicates::str::contains(why));
    }
    for (epoch, file) in [("1", "snapshots/a.json"), ("2", "snapshots/b.json")] {
        let committed =
            stdout_json(&chain(&["commit-kpis", "--deployment", "deployment.json", "--kpis", file, "--epoch", epoch]).success());
        assert_eq!(committed["epoch"].to_string(), epoch);
    }
    zkpolicy(d).args(["prove", "--kpis", "snapshots", "--epoch", "1", "--out", "proofs", "--json"]).assert().success();
}

/// Epoch 1's proof tampered, or relabelled for another model: `submit` through `chain`
/// fails with exit 1, each named.
fn tampered_and_foreign_proofs_are_refused(d: &Path, chain: &dyn Fn(&[&str]) -> Assert) {
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
}

/// Account #0's key in a keystore, `keystore/deployer.json`, under the password "correct horse".
fn write_keystore(d: &Path) {
    let keystore_dir = d.join("keystore");
    std::fs::create_dir(&keystore_dir).expect("mkdir");
    let key = hex::decode(DEV_KEYS[0].trim_start_matches("0x")).expect("hex");
    PrivateKeySigner::encrypt_keystore(&keystore_dir, &mut ChaCha20Rng::seed_from_u64(7), key, "correct horse", Some("deployer.json"))
        .expect("keystore");
}

#[test]
fn deploy_commit_prove_submit_and_read_back_on_a_local_node() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config_with(d, "config.json", "autonomous", HOUR);
    let chain = |args: &[&str]| {
        let mut cmd = zkpolicy(d);
        cmd.args(args).args(["--rpc", &node.url, "--json"]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0]);
        json_run(&mut cmd)
    };
    let record = deploy_with_the_dev_srs(d, &chain);
    commit_two_epochs_and_prove(d, &chain);
    tampered_and_foreign_proofs_are_refused(d, &chain);

    // Epoch 1, signed from a keystore this time: applied values are the guarded proposal.
    write_keystore(d);
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
    let proven: Vec<i64> =
        proof_outputs["outputs"].as_array().expect("outputs").iter().map(|o| o["value"].as_i64().expect("int")).collect();
    assert_eq!(proposed, proven);
    current = guard(&current, &proposed);
    assert_eq!(ints(&result["applied"]), current);
    assert!(result["gas"].as_u64().expect("gas") > 300_000);

    // The same epoch again is refused by the controller, by name; so is the next epoch, early.
    chain(&["submit", "--deployment", "deployment.json", "--proof", "proofs/a.proof.json"])
        .code(1)
        .stderr(predicates::str::contains("EpochDecided"));
    chain(&["submit", "--deployment", "deployment.json", "--proof", "proofs/b.proof.json"])
        .code(1)
        .stderr(predicates::str::contains("this proof is for epoch 2, but the controller decides only the current epoch, 1"));

    // Epoch 2, then the parameters read back from the chain equal the native guard's.
    node.advance(HOUR);
    let result = stdout_json(&chain(&["submit", "--deployment", "deployment.json", "--proof", "proofs/b.proof.json"]).success());
    current = guard(&current, &ints(&result["result"]["proposed"]));
    let status =
        stdout_json(&zkpolicy(d).args(["status", "--deployment", "deployment.json", "--rpc", &node.url, "--json"]).assert().success());
    assert_eq!(ints(&status["status"]["parameters"]), current);
    assert_eq!(status["status"]["last_epoch"], 2);
    assert_eq!(status["status"]["current_epoch"], 2);
    assert_eq!(status["status"]["epoch_length"], HOUR);
    assert_eq!(status["status"]["model_commitment"], record["model_commitment"]);
    assert_ne!(current, initial(), "the policy moved the parameters");

    // A proof on KPIs other than those committed for its epoch is named before sending.
    node.advance(HOUR);
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
    write_config_with(d, "timelocked.json", "timelocked", NEVER);
    let chain = |args: &[&str]| {
        let mut cmd = zkpolicy(d);
        cmd.args(args).args(["--rpc", &node.url, "--json"]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[1]);
        json_run(&mut cmd)
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
    let status = |d: &Path| {
        stdout_json(&zkpolicy(d).args(["status", "--deployment", "deployment.json", "--rpc", &node.url, "--json"]).assert().success())
    };
    let queued = status(d);
    assert_eq!(ints(&queued["status"]["parameters"]), initial, "queued, not applied");
    // status shows the queued decision, the snapshot, the guardrails and the roles.
    let s = &queued["status"];
    assert_eq!(s["queued"]["epoch"], 1, "{s}");
    assert_eq!(ints(&s["queued"]["values"]), guard(&initial, &ints(&result["proposed"])), "{s}");
    assert_eq!(s["queued"]["eta"], result["queued_until"], "{s}");
    assert_eq!(s["queued"]["deadline"], result["queued_deadline"], "{s}");
    assert_eq!(s["queued"]["deadline"].as_u64(), result["queued_until"].as_u64().map(|eta| eta + NEVER), "one epoch after its delay: {s}");
    assert_eq!(s["queued"]["expired"], false, "{s}");
    assert!(s["snapshot_posted_at"].is_u64() && s["snapshot_fresh"] == true, "{s}");
    assert_eq!(s["guardrails"].as_array().expect("rails").len(), initial.len(), "{s}");
    let operator = DEV_KEYS[1].parse::<PrivateKeySigner>().expect("key").address().to_checksum(None);
    assert_eq!(s["governance"], operator.as_str(), "{s}");
    assert_eq!(s["guardian"], operator.as_str(), "{s}");

    let executed = stdout_json(&chain(&["execute", "--deployment", "deployment.json", "--epoch", "1"]).success());
    let expected = guard(&initial, &ints(&result["proposed"]));
    assert_eq!(ints(&executed["applied"]), expected);
    let after = status(d);
    assert_eq!(ints(&after["status"]["parameters"]), expected);
    assert!(after["status"]["queued"].is_null(), "{after}");
    chain(&["execute", "--deployment", "deployment.json", "--epoch", "1"]).code(1).stderr(predicates::str::contains("NothingQueued"));
    // The text form names the same things.
    let text = zkpolicy(d).args(["status", "--deployment", "deployment.json", "--rpc", &node.url]).assert().success();
    let text = String::from_utf8_lossy(&text.get_output().stdout).to_string();
    assert!(
        text.contains("KPI snapshot of epoch 1: posted") && text.contains("guardrail [min, max]") && text.contains("governance 0x"),
        "{text}"
    );
}

/// A deployer who holds only the exported verifying key deploys the verifier; `audit` with
/// the model revealed later finds the verifier on chain to be the one the model generates,
/// and every commitment to name it. With one weight changed: each difference named, exit 1.
#[test]
fn a_deployment_from_the_exported_key_audits_against_the_model_and_names_a_changed_weight() {
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config(d);
    zkpolicy(d).args(["export-vk", "--out", "policy.vk.json"]).assert().success();
    let deployer = tempfile::tempdir().expect("tempdir");
    std::fs::copy(d.join("policy.vk.json"), deployer.path().join("policy.vk.json")).expect("copy");
    std::fs::copy(d.join("config.json"), deployer.path().join("config.json")).expect("copy");
    zkpolicy(deployer.path())
        .args([
            "deploy",
            "--vk",
            "policy.vk.json",
            "--config",
            "config.json",
            "--out",
            "deployment.json",
            "--allow-dev-srs",
            "--rpc",
            &node.url,
        ])
        .env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[1])
        .assert()
        .success();
    std::fs::copy(deployer.path().join("deployment.json"), d.join("deployment.json")).expect("copy");
    let audit = |model: &Path| {
        zkpolicy(d).args(["audit", "--deployment", "deployment.json", "--json", "--rpc", &node.url, "--model"]).arg(model).assert()
    };
    let ok = stdout_json(&audit(&models().join("tokenomics-policy.json")).success());
    assert_eq!(ok["matches"], true, "{ok}");
    let by_key = stdout_json(
        &zkpolicy(deployer.path())
            .args(["audit", "--vk", "policy.vk.json", "--deployment", "deployment.json", "--json", "--rpc", &node.url])
            .assert()
            .success(),
    );
    assert_eq!(by_key["matches"], true, "{by_key}");
    // One weight changed: another commitment, another verifying key, other bytecode.
    edit_json(d, &models().join("tokenomics-policy.json").display().to_string(), "changed.json", |v| {
        let w = v["layers"][0]["weights"][0][0].as_i64().expect("weight");
        v["layers"][0]["weights"][0][0] = json!(if w < 100 { w + 1 } else { w - 1 });
    });
    let changed = stdout_json(&audit(&d.join("changed.json")).code(1));
    let differences: Vec<String> =
        changed["differences"].as_array().expect("array").iter().map(|x| x.as_str().expect("text").to_string()).collect();
    assert_eq!(differences.len(), 3, "{differences:?}");
    assert!(differences[0].contains("the deployment record names model commitment"), "{differences:?}");
    assert!(differences[1].contains("the controller's verifier serves model commitment"), "{differences:?}");
    assert!(differences[2].contains("the verifier's code on chain") && differences[2].contains("differs"), "{differences:?}");
}
