//! An on-chain KPI deployment runs the whole loop with no reporter: tick, snapshot, prove, submit.

use alloy::signers::local::PrivateKeySigner;
use serde_json::Value;

use super::{guard, initial, ints, CLOCK};
use crate::common::node::{LocalNode, DEV_KEYS};
use crate::common::{json_run, models, stdout_json, zkpolicy};

/// KPIs nobody posts: the bundled on-chain config deploys the economy and its KPI source,
/// whose averages deployment seeds in epoch 1 (no KPIs: a snapshot call there is refused
/// by name); a watcher submits the top holders during epoch 1; over epochs 2 to 4 anyone
/// ticks and snapshots, the operator proves on the chain's own snapshot and submits, and
/// the economy runs each next tick on the decision. status and submit name the
/// provenance, and commit-kpis is refused.
#[test]
fn an_onchain_deployment_runs_the_loop_with_no_reporter() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // The model that reads the controller's parameters: the whole statement is on chain state.
    let model = models().join("trained-policy.json");
    let model = model.to_str().expect("utf-8");
    let chain = |args: &[&str]| {
        let mut cmd = zkpolicy(d);
        cmd.args(args).args(["--model", model, "--rpc", &node.url, "--json"]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0]);
        json_run(&mut cmd)
    };
    let config = models().join("tokenomics-onchain-deployment.json");
    let deployed =
        stdout_json(&chain(&["deploy", "--config", config.to_str().expect("utf-8"), "--out", "d.json", "--allow-dev-srs"]).success());
    assert_eq!(deployed["deployment"]["kpi_provenance"], "onchain");
    assert!(deployed["deployment"]["economy"]["pair"].is_string(), "{deployed}");
    assert_eq!(deployed["deployment"]["economy"]["seeded_epoch"], 1, "deployment seeds epoch 1: {deployed}");
    chain(&["snapshot", "--deployment", "d.json"]).code(1).stderr(predicates::str::contains("AlreadyTaken: epoch 1"));

    // The deployer holds 96 % of the supply: a watcher names it during epoch 1, for epoch
    // 2's snapshot; smaller sets and protocol contracts are refused by name.
    let deployer = DEV_KEYS[0].parse::<PrivateKeySigner>().expect("key").address().to_checksum(None);
    let accepted = stdout_json(&chain(&["submit-holders", "--deployment", "d.json", "--holders", &deployer]).success());
    assert_eq!(accepted["result"]["holdings"], "960000000000000000000000000");
    assert_eq!((accepted["result"]["epoch"].as_u64(), accepted["result"]["snapshot_epoch"].as_u64()), (Some(1), Some(2)));
    let other = DEV_KEYS[1].parse::<PrivateKeySigner>().expect("key").address().to_checksum(None);
    chain(&["submit-holders", "--deployment", "d.json", "--holders", &other]).code(1).stderr(predicates::str::contains("NotBetter"));
    let pair = deployed["deployment"]["economy"]["pair"].as_str().expect("pair").to_string();
    chain(&["submit-holders", "--deployment", "d.json", "--holders", &pair])
        .code(1)
        .stderr(predicates::str::contains("BadHolders: a protocol address is not a holder"));
    node.advance(86_400);

    let mut expected = initial();
    for round in 0..3 {
        let ticked = stdout_json(&chain(&["tick", "--deployment", "d.json"]).success());
        assert_eq!(ticked["result"]["taken"], true, "round {round}: {ticked}");
        assert_eq!(ints(&ticked["result"]["parameters"]), expected, "round {round}: the economy runs on the controller's parameters");
        let snapshot = stdout_json(&chain(&["snapshot", "--deployment", "d.json"]).success());
        assert_eq!(snapshot["snapshot"]["seeded"], false, "round {round}: {snapshot}");
        // holder_concentration (0.96, 8 scale bits): epoch 1's set, then carried over.
        assert_eq!(snapshot["snapshot"]["kpis"][4], 246, "round {round}: {snapshot}");
        assert_eq!(snapshot["snapshot"]["holders"].as_array().map(Vec::len), Some(if round == 0 { 1 } else { 0 }), "{snapshot}");
        let epoch = snapshot["snapshot"]["epoch"].as_u64().expect("epoch").to_string();
        let prove = ["prove", "--model", model, "--deployment", "d.json", "--epoch", &epoch, "--out", "p.json", "--rpc", &node.url];
        zkpolicy(d).args(prove).assert().success();
        let proof: Value = serde_json::from_slice(&std::fs::read(d.join("p.json")).expect("proof")).expect("json");
        let proven: Vec<i64> = proof["kpis"].as_array().expect("kpis").iter().map(|k| k["quantized"].as_i64().expect("int")).collect();
        assert_eq!(proven, ints(&snapshot["snapshot"]["kpis"]), "round {round}: the proof is on the chain's snapshot");
        let read: Vec<i64> =
            proof["parameters"].as_array().expect("parameters").iter().map(|p| p["value"].as_i64().expect("int")).collect();
        assert_eq!(read, expected, "round {round}: the proof is on the controller's current parameters");
        if round == 1 {
            // A proof claiming other parameters is named and refused before it is sent.
            let mut other = proof.clone();
            other["parameters"][0]["value"] = (read[0] + 1).into();
            std::fs::write(d.join("other.json"), other.to_string()).expect("write");
            chain(&["submit", "--deployment", "d.json", "--proof", "other.json"])
                .code(1)
                .stderr(predicates::str::contains("other parameters than the controller holds"));
        }
        let submitted = stdout_json(&chain(&["submit", "--deployment", "d.json", "--proof", "p.json"]).success());
        assert_eq!(submitted["kpi_provenance"], "onchain");
        expected = guard(&expected, &ints(&submitted["result"]["proposed"]));
        assert_eq!(ints(&submitted["result"]["applied"]), expected);
        node.advance(86_400);
    }
    let ticked = stdout_json(&chain(&["tick", "--deployment", "d.json"]).success());
    assert_eq!(ints(&ticked["result"]["parameters"]), expected, "the last decision reaches the economy");

    let status = stdout_json(&chain(&["status", "--deployment", "d.json"]).success());
    assert_eq!(status["kpi_provenance"], "onchain");
    assert_eq!(status["status"]["parameters_are_public_inputs"], true);
    let sample = models().join("kpis-sample.json");
    chain(&["commit-kpis", "--deployment", "d.json", "--kpis", sample.to_str().expect("utf-8"), "--epoch", "5"])
        .code(2)
        .stderr(predicates::str::contains("computed on chain, and nobody posts them"));
}
