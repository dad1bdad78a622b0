//! The keeper on a real local node: epochs of two deployments proven and submitted,
//! `kill -9` at each step and a restart, RPC failover and readiness, an epoch someone else
//! decided, `/metrics` against what happened, and bad configs. This file deploys and
//! configures the keeper and reads its state for the modules below.

mod daemon;
mod lying_endpoints;
mod monitoring;
mod remote_signer;
mod rounds;

use std::path::Path;

use alloy::signers::local::PrivateKeySigner;
use serde_json::{json, Value};
use zkpolicy_chain::Client;
use zkpolicy_lab::sim::deployment_guardrails;

use crate::common::node::{LocalNode, DEV_KEYS};
use crate::common::{json_run, models, stdout_json, zkpolicy};

const DAY: u64 = 86_400;

/// A reporter deployment (`mode`) of the default model, one-day epochs, deployed from
/// account #0; with private weights when `salt` names a salt file in `d`.
fn deploy_reporter(d: &Path, node: &LocalNode, name: &str, mode: &str, salt: Option<&str>) -> Value {
    let config = json!({
        "mode": mode,
        "governance_delay": DAY,
        "timing": {"epoch_length": DAY, "max_snapshot_age": 2 * DAY, "adjustment_delay": 0},
        "parameters": deployment_guardrails(),
    });
    std::fs::write(d.join(format!("{name}-config.json")), config.to_string()).expect("write");
    let out = format!("{name}.json");
    let mut cmd = zkpolicy(d);
    cmd.args(["deploy", "--config", &format!("{name}-config.json"), "--out", &out, "--allow-dev-srs", "--json"])
        .args(["--rpc", &node.url])
        .args(salt.map(|s| ["--salt", s]).into_iter().flatten())
        .env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0]);
    stdout_json(&json_run(&mut cmd).success())
}

/// The shared node and, in a directory of its own, an autonomous reporter deployment named
/// `reporter`, with the node's clock held for the test (the keeper tests move time): the
/// clock's guard, the node, the directory and the deployment's current epoch.
fn reporter_setup() -> (std::sync::MutexGuard<'static, ()>, LocalNode, tempfile::TempDir, u64) {
    let clock = crate::chain::CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    deploy_reporter(dir.path(), &node, "reporter", "autonomous", None);
    let epoch = status(dir.path(), &node, "reporter.json", None)["current_epoch"].as_u64().expect("epoch");
    (clock, node, dir, epoch)
}

/// The on-chain deployment (economy and KPI source) of the parameter-aware model.
fn deploy_onchain(d: &Path, node: &LocalNode) -> Value {
    let config = models().join("tokenomics-onchain-deployment.json");
    let model = models().join("trained-policy.json");
    let mut cmd = zkpolicy(d);
    cmd.args(["deploy", "--config", config.to_str().expect("utf-8"), "--model", model.to_str().expect("utf-8")])
        .args(["--out", "onchain.json", "--allow-dev-srs", "--json", "--rpc", &node.url])
        .env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0]);
    stdout_json(&json_run(&mut cmd).success())
}

/// A KPI file for epoch `epoch` in `kpis/`, varied so each epoch's decision differs.
fn write_kpis(d: &Path, epoch: u64) {
    let mut v: Value = serde_json::from_slice(&std::fs::read(models().join("kpis-sample.json")).expect("sample")).expect("json");
    v["kpis"]["staking_ratio"] = json!(0.3 + 0.1 * (epoch % 4) as f64);
    v["kpis"]["price_vs_target"] = json!(-0.2 + 0.1 * (epoch % 5) as f64);
    std::fs::create_dir_all(d.join("kpis")).expect("mkdir");
    std::fs::write(d.join(format!("kpis/{epoch}.json")), v.to_string()).expect("write");
}

fn keeper_toml(rpc: &[&str], deployments: &str, extra: &str) -> String {
    let rpc: Vec<String> = rpc.iter().map(|u| format!("{u:?}")).collect();
    format!(
        r#"state_dir = "state"
cache_dir = "cache"
poll_interval_secs = 1
{extra}

[signer]
env = "KEEPER_KEY"

[chains.local]
rpc = [{}]
max_fee_gwei = 500
resend_after_secs = 30

{deployments}"#,
        rpc.join(", ")
    )
}

const REPORTER: &str = r#"[[deployment]]
name = "reporter"
chain = "local"
record = "reporter.json"
kpis_dir = "kpis"
"#;

const ONCHAIN: &str = r#"[[deployment]]
name = "onchain"
chain = "local"
record = "onchain.json"
model = "MODEL"
"#;

fn keeper(d: &Path) -> assert_cmd::Command {
    let mut cmd = zkpolicy(d);
    cmd.env("KEEPER_KEY", DEV_KEYS[0]).env("RUST_LOG", "info");
    cmd
}

/// `keeper --once --json`: the round and the records.
fn once(d: &Path) -> Value {
    let mut cmd = keeper(d);
    cmd.args(["keeper", "--config", "keeper.toml", "--once", "--json"]);
    let assert = cmd.assert();
    let out = assert.get_output();
    assert!(out.status.success(), "keeper --once failed: {}", String::from_utf8_lossy(&out.stderr));
    stdout_json(&assert)
}

/// `status --json` of `record`, for `model` (default: the bundled one, or the card a
/// private-weights record holds).
fn status(d: &Path, node: &LocalNode, record: &str, model: Option<&Path>) -> Value {
    let mut cmd = zkpolicy(d);
    cmd.args(["status", "--deployment", record, "--rpc", &node.url, "--json"]);
    if let Some(m) = model {
        cmd.args(["--model", m.to_str().expect("utf-8")]);
    }
    stdout_json(&cmd.assert().success())["status"].clone()
}

fn records<'a>(v: &'a Value, deployment: &str, kind: &str) -> Vec<&'a Value> {
    v["records"].as_array().expect("records").iter().filter(|r| r["deployment"] == deployment && r["kind"] == kind).collect()
}

fn nonce(node: &LocalNode) -> u64 {
    let from = DEV_KEYS[0].parse::<PrivateKeySigner>().expect("key").address();
    Client::connect(&node.url, None).expect("node").nonce(from, false).expect("nonce")
}
