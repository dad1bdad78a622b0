//! Pause and unpause, and governed changes through the timelock, on a local node.

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use serde_json::{json, Value};
use zkpolicy_chain::Client;
use zkpolicy_contracts::controller::PolicyController;

use super::{write_config, CLOCK};
use crate::common::node::{LocalNode, DEV_KEYS};
use crate::common::{assert_valid, json_run, stdout_json, zkpolicy};

/// `govern --safe-tx` writes the call as a Safe Transaction Builder batch and sends nothing
/// (no key is given); the batch names the chain, the controller's governance and the call,
/// which decodes to the change; sent from the governance account, as a Safe would, it
/// schedules the change, and the `execute` batch, after the delay, makes it.
#[test]
fn a_safe_batch_is_written_instead_of_sent_and_governance_executes_it() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config(d);
    let mut deploy = zkpolicy(d);
    deploy.args(["deploy", "--config", "config.json", "--out", "deployment.json", "--allow-dev-srs", "--rpc", &node.url]);
    deploy.env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0]).assert().success();
    let record: Value = serde_json::from_slice(&std::fs::read(d.join("deployment.json")).expect("record")).expect("json");
    let controller: Address = record["controller"].as_str().expect("controller").parse().expect("address");
    let governance = Client::connect(&node.url, Some(DEV_KEYS[0].parse::<PrivateKeySigner>().expect("key"))).expect("node");
    let nonce = || governance.nonce(governance.from().expect("account"), true).expect("nonce");
    let batch_of = |action: &str, file: &str| {
        let before = nonce();
        let mut cmd = zkpolicy(d);
        cmd.args([
            "govern",
            action,
            "--mode",
            "advisory",
            "--safe-tx",
            file,
            "--deployment",
            "deployment.json",
            "--rpc",
            &node.url,
            "--json",
        ]);
        let out = stdout_json(&json_run(cmd.env_remove("ZKPOLICY_PRIVATE_KEY")).success());
        assert_eq!(nonce(), before, "nothing is sent");
        let batch: Value = serde_json::from_slice(&std::fs::read(d.join(file)).expect("the batch")).expect("json");
        assert_valid("safe-batch", &batch);
        assert_eq!(batch["chainId"], governance.chain_id().to_string());
        assert_eq!(batch["meta"]["createdFromSafeAddress"], governance.from().expect("account").to_checksum(None));
        assert_eq!(out["safe_tx"]["data"], batch["transactions"][0]["data"], "{out}");
        let tx = &batch["transactions"][0];
        assert_eq!(tx["to"], controller.to_checksum(None));
        (out, alloy::primitives::hex::decode(tx["data"].as_str().expect("data")).expect("hex"))
    };
    let (scheduled, data) = batch_of("schedule", "schedule.json");
    let call = PolicyController::scheduleCall::abi_decode(&data).expect("a schedule call");
    let change = PolicyController::setModeCall::abi_decode(&call.data).expect("a mode change");
    assert_eq!(change.mode_, PolicyController::Mode::Advisory);
    assert!(scheduled["change"].as_str().is_some_and(|c| c.contains("advisory")), "{scheduled}");
    // The Safe (here its governance account) makes the call.
    governance.send("the Safe's schedule", controller, data).expect("scheduled");
    let eta = PolicyController::scheduledAtCall::abi_decode_returns(
        &governance
            .call("read", controller, PolicyController::scheduledAtCall(alloy::primitives::keccak256(&call.data)).abi_encode())
            .expect("read"),
    )
    .expect("decodes");
    assert!(eta > 0, "scheduled");
    node.advance(86_401);
    let (_, data) = batch_of("execute", "execute.json");
    PolicyController::executeCall::abi_decode(&data).expect("an execute call");
    governance.send("the Safe's execute", controller, data).expect("executed");
    let mode = PolicyController::modeCall::abi_decode_returns(
        &governance.call("read", controller, PolicyController::modeCall {}.abi_encode()).expect("read"),
    )
    .expect("decodes");
    assert_eq!(mode, PolicyController::Mode::Advisory);
    // The batch path is an output: the deployment record is not overwritten.
    zkpolicy(d)
        .args([
            "govern",
            "schedule",
            "--mode",
            "timelocked",
            "--safe-tx",
            "deployment.json",
            "--deployment",
            "deployment.json",
            "--rpc",
            &node.url,
        ])
        .assert()
        .code(2);
}

/// The guardian pauses and governance unpauses; a governed change waits out the delay
/// (NotYet before it), then applies; a cancelled change cannot be executed; another
/// account is refused by name.
#[test]
fn pause_unpause_and_timelocked_governance_on_a_local_node() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config(d);
    let chain = |args: &[&str], key: &str| {
        let mut cmd = zkpolicy(d);
        cmd.args(args).args(["--deployment", "deployment.json", "--rpc", &node.url, "--json"]).env("ZKPOLICY_PRIVATE_KEY", key);
        json_run(&mut cmd)
    };
    let mut deploy = zkpolicy(d);
    deploy.args(["deploy", "--config", "config.json", "--out", "deployment.json", "--allow-dev-srs", "--rpc", &node.url]);
    deploy.env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0]).assert().success();
    let status = || stdout_json(&chain(&["status"], DEV_KEYS[0]).success())["status"].clone();

    chain(&["pause"], DEV_KEYS[0]).success();
    assert_eq!(status()["paused"], true);
    chain(&["unpause"], DEV_KEYS[1]).code(1).stderr(predicates::str::contains("NotGovernance"));
    chain(&["unpause"], DEV_KEYS[0]).success();
    assert_eq!(status()["paused"], false);

    let rail = ["--guardrail", "0,100,900,50"];
    let scheduled = stdout_json(&chain(&[&["govern", "schedule"], &rail[..]].concat(), DEV_KEYS[0]).success());
    let eta = scheduled["result"]["eta"].as_u64().expect("eta");
    assert_eq!(eta, status()["chain_time"].as_u64().expect("time") + 86_400, "{scheduled}");
    chain(&[&["govern", "execute"], &rail[..]].concat(), DEV_KEYS[0]).code(1).stderr(predicates::str::contains("NotYet"));
    assert_eq!(
        status()["guardrails"][0],
        json!({"min": 0, "max": 2000, "max_step": 25, "dead_band": 0, "max_change_bps": 0, "window": 0, "anchor": null, "group": 0})
    );
    node.advance(86_401);
    let executed = stdout_json(&chain(&[&["govern", "execute"], &rail[..]].concat(), DEV_KEYS[0]).success());
    assert_eq!(executed["result"]["id"], scheduled["result"]["id"]);
    assert_eq!(
        status()["guardrails"][0],
        json!({"min": 100, "max": 900, "max_step": 50, "dead_band": 0, "max_change_bps": 0, "window": 0, "anchor": null, "group": 0})
    );

    // A dead band and a window cap, governed the same way; six numbers name neither.
    let capped = ["--guardrail", "1,0,2000,60,5,1000,172800"];
    let scheduled = stdout_json(&chain(&[&["govern", "schedule"], &capped[..]].concat(), DEV_KEYS[0]).success());
    assert!(scheduled["change"].as_str().expect("change").contains("steps under 5 dropped, at most 1000 bps of change per 172800 s"));
    node.advance(86_401);
    chain(&[&["govern", "execute"], &capped[..]].concat(), DEV_KEYS[0]).success();
    let rail = &status()["guardrails"][1];
    assert_eq!(
        (rail["dead_band"].clone(), rail["max_change_bps"].clone(), rail["window"].clone()),
        (json!(5), json!(1000), json!(172_800))
    );
    assert!(rail["anchor"].is_null(), "no window before the first decision: {rail}");
    chain(&["govern", "schedule", "--guardrail", "1,0,2000,60,5,1000"], DEV_KEYS[0])
        .code(2)
        .stderr(predicates::str::contains("(4, 5 or 7 integers), got 6"));

    // A group: the burn rate moves with group 3 or not at all.
    let grouped = ["--guardrail", "2,0,1000,25", "--group", "3"];
    let scheduled = stdout_json(&chain(&[&["govern", "schedule"], &grouped[..]].concat(), DEV_KEYS[0]).success());
    assert!(scheduled["change"].as_str().expect("change").ends_with("moving with group 3 or not at all"), "{scheduled}");
    node.advance(86_401);
    chain(&[&["govern", "execute"], &grouped[..]].concat(), DEV_KEYS[0]).success();
    assert_eq!(status()["guardrails"][2]["group"], 3);
    chain(&["govern", "schedule", "--mode", "advisory", "--group", "1"], DEV_KEYS[0])
        .code(2)
        .stderr(predicates::str::contains("--group belongs to a rail"));
    chain(&["govern", "schedule", "--guardrail", "2,0,1000,25", "--group", "256"], DEV_KEYS[0]).code(2);

    chain(&["govern", "schedule", "--mode", "timelocked"], DEV_KEYS[0]).success();
    chain(&["govern", "cancel", "--mode", "timelocked"], DEV_KEYS[0]).success();
    node.advance(86_401);
    chain(&["govern", "execute", "--mode", "timelocked"], DEV_KEYS[0]).code(1).stderr(predicates::str::contains("NotScheduled"));
    assert_eq!(status()["mode"], "autonomous");
    chain(&["govern", "schedule", "--mode", "advisory"], DEV_KEYS[1]).code(1).stderr(predicates::str::contains("NotGovernance"));
    // Exactly one change, named.
    chain(&["govern", "schedule"], DEV_KEYS[0]).code(2);
    chain(&["govern", "schedule", "--mode", "advisory", "--guardian", "0x0000000000000000000000000000000000000001"], DEV_KEYS[0]).code(2);
}
