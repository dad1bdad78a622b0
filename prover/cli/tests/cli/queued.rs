//! A Timelocked decision's window on a real node (issue 27, finding 5): `submit` and
//! `status` show when it expires, `execute` names an expired one, a pause cancels the
//! queued one (and says so), and the keeper records an expired decision as skipped.

use std::path::Path;

use serde_json::{json, Value};
use zkpolicy_lab::sim::deployment_guardrails;

use crate::chain::CLOCK;
use crate::common::node::{LocalNode, DEV_KEYS};
use crate::common::{json_run, models, stdout_json, zkpolicy};

const HOUR: u64 = 3_600;
const DELAY: u64 = 600;

/// A timelocked reporter deployment with one-hour epochs and a ten-minute adjustment delay,
/// deployed (and governed, guarded, reported) by account #0; emission and staking reward
/// form a group of correlated rails (the config's optional `group`).
fn deploy(d: &Path, node: &LocalNode) {
    let mut rails = serde_json::to_value(deployment_guardrails()).expect("json");
    (rails[0]["group"], rails[1]["group"]) = (json!(1), json!(1));
    let config = json!({
        "mode": "timelocked",
        "governance_delay": 86_400,
        "timing": {"epoch_length": HOUR, "max_snapshot_age": 2 * HOUR, "adjustment_delay": DELAY},
        "parameters": rails,
    });
    std::fs::write(d.join("config.json"), config.to_string()).expect("write");
    let mut cmd = zkpolicy(d);
    cmd.args(["deploy", "--config", "config.json", "--out", "deployment.json", "--allow-dev-srs", "--json", "--rpc", &node.url]);
    json_run(cmd.env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0])).success();
}

fn status(d: &Path, node: &LocalNode) -> Value {
    let mut cmd = zkpolicy(d);
    stdout_json(&cmd.args(["status", "--deployment", "deployment.json", "--rpc", &node.url, "--json"]).assert().success())["status"].clone()
}

#[test]
fn an_expired_decision_is_named_and_a_pause_cancels_the_queued_one() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    deploy(d, &node);
    let run = |args: &[&str]| {
        let mut cmd = zkpolicy(d);
        cmd.args(args).args(["--deployment", "deployment.json", "--rpc", &node.url]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0]);
        cmd
    };
    let json = |args: &[&str]| {
        let mut cmd = run(args);
        json_run(cmd.arg("--json"))
    };
    let sample = models().join("kpis-sample.json");
    let sample = sample.to_str().expect("utf-8");
    let decide = |epoch: u64| {
        let e = epoch.to_string();
        json(&["commit-kpis", "--kpis", sample, "--epoch", &e]).success();
        zkpolicy(d).args(["prove", "--kpis", sample, "--epoch", &e, "--out", &format!("p{e}.json")]).assert().success();
        stdout_json(&json(&["submit", "--proof", &format!("p{e}.json")]).success())["result"].clone()
    };
    let initial: Vec<i64> = deployment_guardrails().iter().map(|g| g.initial).collect();
    let groups: Vec<Value> = status(d, &node)["guardrails"].as_array().expect("rails").iter().map(|r| r["group"].clone()).collect();
    assert_eq!(groups, [json!(1), json!(1), json!(0), json!(0)], "the config's groups reach the controller");

    let queued = decide(1);
    let (eta, deadline) = (queued["queued_until"].as_u64().expect("eta"), queued["queued_deadline"].as_u64().expect("deadline"));
    assert_eq!(deadline, eta + HOUR, "one epoch to execute after the delay: {queued}");
    let s = status(d, &node);
    assert_eq!(
        (s["queued"]["epoch"].clone(), s["queued"]["deadline"].clone(), s["queued"]["expired"].clone()),
        (json!(1), json!(deadline), json!(false))
    );
    let text = run(&["status"]).assert().success();
    assert!(String::from_utf8_lossy(&text.get_output().stdout).contains(", until "), "status shows the deadline");

    // Past its deadline: status says so, and execute names it (exit 1) and moves nothing.
    node.advance(DELAY + HOUR + 1);
    assert_eq!(status(d, &node)["queued"]["expired"], true);
    let text = run(&["status"]).assert().success();
    assert!(String::from_utf8_lossy(&text.get_output().stdout).contains("EXPIRED at"), "status names the expiry");
    json(&["execute", "--epoch", "1"]).code(1).stderr(predicates::str::contains("AdjustmentExpired: the adjustment queued for epoch 1"));
    assert_eq!(status(d, &node)["parameters"], json!(initial));

    // The next epoch's decision is queued; the guardian's pause cancels it, by name.
    let epoch = status(d, &node)["current_epoch"].as_u64().expect("epoch");
    decide(epoch);
    let paused = stdout_json(&json(&["pause"]).success());
    assert_eq!(paused["cancelled_epoch"], epoch, "{paused}");
    assert!(status(d, &node)["queued"].is_null());
    json(&["unpause"]).success();
    node.advance(DELAY);
    json(&["execute", "--epoch", &epoch.to_string()]).code(1).stderr(predicates::str::contains("NothingQueued"));
    assert_eq!(status(d, &node)["parameters"], json!(initial), "no queued decision ever executed");
}

/// The keeper's execute step meets a decision whose deadline passed (the keeper was down):
/// recorded as skipped with the controller's reason, and never sent.
#[test]
fn the_keeper_records_an_expired_decision_as_skipped() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    deploy(d, &node);
    let toml = format!(
        "state_dir = \"state\"\ncache_dir = \"cache\"\npoll_interval_secs = 1\n\n[signer]\nenv = \"KEEPER_KEY\"\n\n\
         [chains.local]\nrpc = [{:?}]\nmax_fee_gwei = 500\nresend_after_secs = 30\n\n\
         [[deployment]]\nname = \"reporter\"\nchain = \"local\"\nrecord = \"deployment.json\"\nkpis_dir = \"kpis\"\n",
        node.url
    );
    std::fs::write(d.join("keeper.toml"), toml).expect("write");
    let epoch = status(d, &node)["current_epoch"].as_u64().expect("epoch");
    std::fs::create_dir_all(d.join("kpis")).expect("mkdir");
    std::fs::copy(models().join("kpis-sample.json"), d.join(format!("kpis/{epoch}.json"))).expect("copy");
    let once = || {
        let mut cmd = zkpolicy(d);
        let assert = cmd.env("KEEPER_KEY", DEV_KEYS[0]).args(["keeper", "--config", "keeper.toml", "--once", "--json"]).assert();
        assert!(assert.get_output().status.success(), "{}", String::from_utf8_lossy(&assert.get_output().stderr));
        stdout_json(&assert)
    };
    let first = once();
    assert!(first["round"]["confirmed"].as_array().expect("list").contains(&json!(format!("reporter#{epoch}"))), "{first}");
    assert!(status(d, &node)["queued"].is_object(), "queued, waiting for its delay");

    node.advance(DELAY + HOUR + 1);
    let v = once();
    let execute = v["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["kind"] == "execute" && r["epoch"] == epoch)
        .unwrap_or_else(|| panic!("an execute record: {v}"));
    assert_eq!(execute["stage"], "skipped", "{execute}");
    assert!(execute["reason"].as_str().is_some_and(|r| r.starts_with("AdjustmentExpired")), "{execute}");
    assert_eq!(execute["sends"], 0, "never sent: {execute}");
    assert_eq!(status(d, &node)["parameters"], json!(deployment_guardrails().iter().map(|g| g.initial).collect::<Vec<_>>()));
}
