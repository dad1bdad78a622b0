//! The keeper on a real local node: epochs of two deployments proven and submitted,
//! `kill -9` at each step and a restart, RPC failover and readiness, an epoch someone else
//! decided, `/metrics` against what happened, and bad configs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::signers::local::PrivateKeySigner;
use serde_json::{json, Value};
use zkpolicy_chain::Client;
use zkpolicy_lab::sim::deployment_guardrails;

use crate::chain::CLOCK;
use crate::common::node::{LocalNode, DEV_KEYS};
use crate::common::rpc_proxy::{Lie, RpcProxy};
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

/// The keeper as a daemon in `d` (its logs piped, for the test to read).
fn daemon(d: &Path) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("zkpolicy"))
        .current_dir(d)
        .args(["keeper", "--config", "keeper.toml"])
        .env("KEEPER_KEY", DEV_KEYS[0])
        .env_remove("ZKPOLICY_RPC_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keeper starts")
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

#[test]
fn the_keeper_decides_every_epoch_of_two_deployments_and_executes_timelocked_ones() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // The reporter deployment has private weights (the production mode): the keeper proves with its salt.
    zkpolicy(d).args(["salt", "--out", "reporter.salt"]).assert().success();
    let deployed = deploy_reporter(d, &node, "reporter", "timelocked", Some("reporter.salt"));
    assert_eq!(deployed["weights"], "private", "{deployed}");
    deploy_onchain(d, &node);
    let model = models().join("trained-policy.json");
    let onchain = ONCHAIN.replace("MODEL", model.to_str().expect("utf-8"));
    let reporter = format!("{REPORTER}salt = \"reporter.salt\"\n");
    std::fs::write(d.join("keeper.toml"), keeper_toml(&[&node.url], &format!("{reporter}\n{onchain}"), "")).expect("write");

    // Epoch 1: deployment seeded the on-chain source's averages, so the epoch has no KPIs.
    // The keeper ticks the economy and records the epoch as seeded: no error, no decision.
    // (The reporter's KPI file for epoch 1 is not written: it waits.)
    std::fs::create_dir_all(d.join("kpis")).expect("mkdir");
    let before = nonce(&node);
    let v = once(d);
    let r = &v["round"];
    assert!(r["errors"].as_array().expect("errors").is_empty(), "{v}");
    assert!(
        r["skipped"]
            .as_array()
            .expect("list")
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s.starts_with("onchain#1: ") && s.contains("seeded"))),
        "{r}"
    );
    assert_eq!(nonce(&node) - before, 1, "only the tick: {v}");
    node.advance(DAY);

    let mut decided = Vec::new();
    let mut last = Value::Null;
    for round in 0..3 {
        let epoch = status(d, &node, "reporter.json", None)["current_epoch"].as_u64().expect("epoch");
        write_kpis(d, epoch);
        let before = nonce(&node);
        let v = once(d);
        let r = &v["round"];
        assert!(r["errors"].as_array().expect("errors").is_empty(), "round {round}: {v}");
        for name in ["reporter", "onchain"] {
            assert!(
                r["confirmed"].as_array().expect("list").iter().any(|c| c.as_str().is_some_and(|c| c.starts_with(name))),
                "{round}: {r}"
            );
        }
        // Timelocked with no delay: executed in the same round.
        assert!(r["executed"].as_array().expect("list").iter().any(|c| c == &json!(format!("reporter#{epoch}"))), "{r}");
        let reporter = status(d, &node, "reporter.json", None);
        let onchain = status(d, &node, "onchain.json", Some(&model));
        assert_eq!(reporter["last_epoch"], epoch, "round {round}");
        assert_eq!(onchain["last_epoch"], onchain["current_epoch"], "round {round}");
        assert!(reporter["queued"].is_null(), "executed: {reporter}");
        // reporter: commit, submit, execute; onchain: tick, snapshot, submit. Nothing else.
        assert_eq!(nonce(&node) - before, 6, "round {round}: {v}");
        decided.push(reporter["parameters"].clone());
        // A second run in the same epoch has nothing to do and sends nothing.
        let again = once(d);
        assert!(again["round"]["proven"].as_array().expect("list").is_empty(), "{again}");
        assert_eq!(nonce(&node) - before, 6, "round {round}: nothing sent twice");
        last = again;
        node.advance(DAY);
    }
    assert_ne!(decided[0], decided[2], "the policy moved the parameters");
    for (name, kind) in [("reporter", "submit"), ("reporter", "execute"), ("onchain", "submit")] {
        let steps: Vec<_> = records(&last, name, kind).into_iter().filter(|r| r["epoch"] != 1).collect();
        assert_eq!(steps.len(), 3, "{name} {kind}: {last}");
        assert!(steps.iter().all(|r| r["stage"] == "confirmed" && r["sends"] == 1 && r["gas"].is_u64()), "{last}");
    }
}

#[test]
fn a_keeper_killed_at_each_step_resumes_without_sending_twice_or_missing_an_epoch() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    deploy_reporter(d, &node, "reporter", "autonomous", None);
    std::fs::write(d.join("keeper.toml"), keeper_toml(&[&node.url], REPORTER, "")).expect("write");
    // Killed after sending the KPI commitment, after proving, after sending the submission,
    // and after it was mined but before it was recorded confirmed.
    for point in ["after_send_commit", "after_prove", "after_send_submit", "before_confirm_submit"] {
        let epoch = status(d, &node, "reporter.json", None)["current_epoch"].as_u64().expect("epoch");
        write_kpis(d, epoch);
        let before = nonce(&node);
        let killed =
            keeper(d).args(["keeper", "--config", "keeper.toml", "--once"]).env("ZKPOLICY_KEEPER_FAILPOINT", point).output().expect("runs");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(killed.status.signal(), Some(9), "{point}: killed by SIGKILL: {}", String::from_utf8_lossy(&killed.stderr));
        let proof = d
            .join("state/proofs")
            .read_dir()
            .expect("proofs")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().ends_with(&format!("-{epoch}.proof.json"))));
        let v = if point == "after_send_commit" {
            assert!(proof.is_none(), "{point}: killed before proving");
            let v = once(d);
            assert_eq!(v["round"]["proven"], json!([format!("reporter#{epoch}")]), "{point}: {v}");
            let commit = records(&v, "reporter", "commit").into_iter().find(|r| r["epoch"] == epoch).cloned().expect("record");
            assert_eq!((commit["stage"].as_str(), commit["sends"].as_u64()), (Some("confirmed"), Some(1)), "{point}: {commit}");
            v
        } else {
            let proof = proof.expect("the proof was saved before the crash");
            let written = std::fs::metadata(&proof).expect("proof").modified().expect("mtime");
            let v = once(d);
            assert!(v["round"]["proven"].as_array().expect("list").is_empty(), "{point}: the proof on disk is reused, not redone: {v}");
            assert_eq!(std::fs::metadata(&proof).expect("proof").modified().expect("mtime"), written, "{point}");
            v
        };
        assert_eq!(v["round"]["confirmed"], json!([format!("reporter#{epoch}")]), "{point}: {v}");
        let record = records(&v, "reporter", "submit").into_iter().find(|r| r["epoch"] == epoch).cloned().expect("record");
        assert_eq!((record["stage"].as_str(), record["sends"].as_u64()), (Some("confirmed"), Some(1)), "{point}: {record}");
        // commit + one submission: the crash cost no second transaction.
        assert_eq!(nonce(&node) - before, 2, "{point}: {v}");
        assert_eq!(status(d, &node, "reporter.json", None)["last_epoch"], epoch, "{point}");
        node.advance(DAY);
    }
}

#[test]
fn an_epoch_decided_by_someone_else_is_recorded_and_not_retried() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    deploy_reporter(d, &node, "reporter", "autonomous", None);
    std::fs::write(d.join("keeper.toml"), keeper_toml(&[&node.url], REPORTER, "")).expect("write");
    let epoch = status(d, &node, "reporter.json", None)["current_epoch"].as_u64().expect("epoch");
    write_kpis(d, epoch);
    let file = format!("kpis/{epoch}.json");
    let e = epoch.to_string();
    let run = |args: &[&str]| {
        zkpolicy(d).args(args).args(["--rpc", &node.url]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0]).assert().success();
    };
    run(&["commit-kpis", "--deployment", "reporter.json", "--kpis", &file, "--epoch", &e]);
    zkpolicy(d).args(["prove", "--kpis", &file, "--epoch", &e, "--out", "p.json", "--cache-dir", "cache"]).assert().success();
    run(&["submit", "--deployment", "reporter.json", "--proof", "p.json"]);

    let before = nonce(&node);
    let v = once(d);
    let record = records(&v, "reporter", "submit").into_iter().find(|r| r["epoch"] == epoch).cloned().expect("record");
    assert_eq!(record["stage"], "done_elsewhere", "{v}");
    assert!(v["round"]["proven"].as_array().expect("list").is_empty(), "{v}");
    once(d);
    assert_eq!(nonce(&node), before, "nothing sent for a decided epoch, now or on the next round");
}

/// A TCP forwarder in front of the node that the test can stop and start: an endpoint going down and coming back.
struct Forwarder {
    port: u16,
    upstream: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Forwarder {
    fn new(upstream: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
        Self { port, upstream: upstream.trim_start_matches("http://").to_string(), stop: Default::default(), thread: None }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn start(&mut self) {
        use std::sync::atomic::Ordering;
        self.stop.store(false, Ordering::SeqCst);
        let listener = std::net::TcpListener::bind(("127.0.0.1", self.port)).expect("rebind");
        listener.set_nonblocking(true).expect("nonblocking");
        let (stop, upstream) = (self.stop.clone(), self.upstream.clone());
        self.thread = Some(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                let _ = client.set_nonblocking(false);
                let Ok(server) = TcpStream::connect(&upstream) else { continue };
                for (mut from, mut to) in [(client.try_clone().expect("clone"), server.try_clone().expect("clone")), (server, client)] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        }));
    }

    fn stop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn get(port: u16, path: &str) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return (0, String::new()) };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let code = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

/// The value of the sample `name{labels}` in a Prometheus text exposition (labels as written, or none).
fn sample(text: &str, name: &str, labels: &str) -> Option<f64> {
    let series = if labels.is_empty() { name.to_string() } else { format!("{name}{{{labels}}}") };
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (s, v) = l.rsplit_once(' ')?;
        (s == series).then(|| v.parse().ok()).flatten()
    })
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool, child: &mut Child) {
    let started = Instant::now();
    while !ok() {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
            panic!("the keeper exited ({status}) while waiting for {what}: {err}");
        }
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_daemon_fails_over_reports_readiness_and_metrics_and_stops_on_sigterm() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    deploy_reporter(d, &node, "reporter", "autonomous", None);
    let epoch = status(d, &node, "reporter.json", None)["current_epoch"].as_u64().expect("epoch");
    write_kpis(d, epoch);
    write_kpis(d, epoch + 1);
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let mut forwarder = Forwarder::new(&node.url);
    // The first endpoint is dead; the second is the forwarder, down at first.
    let dead = "http://127.0.0.1:1/v3/SECRETKEY";
    let extra = format!("metrics_addr = \"127.0.0.1:{metrics_port}\"\nlog_format = \"json\"");
    std::fs::write(d.join("keeper.toml"), keeper_toml(&[dead, &forwarder.url()], REPORTER, &extra)).expect("write");
    let mut child = daemon(d);

    // All endpoints down: alive, not ready, and it says why.
    let down = || {
        let (code, body) = get(metrics_port, "/readyz");
        code == 503 && body.contains("no endpoint answers")
    };
    wait_for("not ready, naming why", Duration::from_secs(120), down, &mut child);
    assert_eq!(get(metrics_port, "/healthz").0, 200);
    // The node comes back (through the second endpoint): ready, and the epoch is decided.
    forwarder.start();
    wait_for("ready", Duration::from_secs(60), || get(metrics_port, "/readyz").0 == 200, &mut child);
    // A second keeper on the same state is refused by name, not by the first one's metrics port (issue 30).
    keeper(d)
        .args(["keeper", "--config", "keeper.toml", "--once"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("another keeper is running on this state directory"));
    let submitted = |port| {
        let (_, text) = get(port, "/metrics");
        sample(&text, "zkpolicy_keeper_epochs_submitted_total", "deployment=\"reporter\"").unwrap_or(0.0)
    };
    wait_for("epoch submitted", Duration::from_secs(120), || submitted(metrics_port) >= 1.0, &mut child);
    node.advance(DAY);
    wait_for("next epoch submitted", Duration::from_secs(120), || submitted(metrics_port) >= 2.0, &mut child);

    let (code, text) = get(metrics_port, "/metrics");
    assert_eq!(code, 200);
    let label = "deployment=\"reporter\"";
    assert_eq!(sample(&text, "zkpolicy_keeper_epochs_proven_total", label), Some(2.0), "{text}");
    assert_eq!(sample(&text, "zkpolicy_keeper_last_submitted_epoch", label), Some((epoch + 1) as f64), "{text}");
    assert_eq!(sample(&text, "zkpolicy_keeper_prove_seconds_count", ""), Some(2.0), "{text}");
    assert_eq!(sample(&text, "zkpolicy_keeper_submit_gas_count", ""), Some(2.0), "{text}");
    let gas = sample(&text, "zkpolicy_keeper_submit_gas_sum", "").expect("gas");
    assert!((600_000.0..1_200_000.0).contains(&gas), "two submissions' gas: {gas}");
    assert!(sample(&text, "zkpolicy_keeper_seconds_since_last_submission", label).is_some_and(|s| (0.0..120.0).contains(&s)), "{text}");
    assert_eq!(sample(&text, "zkpolicy_keeper_ready", ""), Some(1.0), "{text}");
    // Failures of the dead endpoint are counted, under its redacted URL.
    let dead_errors = sample(&text, "zkpolicy_keeper_rpc_errors_total", "chain=\"local\",endpoint=\"0:http://127.0.0.1:1/…\"");
    assert!(dead_errors.is_some_and(|n| n >= 1.0), "{text}");
    assert!(!text.contains("SECRETKEY"));
    assert_eq!(status(d, &node, "reporter.json", None)["last_epoch"], epoch + 1);

    // SIGTERM: a clean exit, logs as JSON lines naming the deployment and epoch, no secret in them.
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the keeper did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
    let mut logs = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut logs).expect("logs");
    assert!(!logs.contains("SECRETKEY") && !logs.contains(&DEV_KEYS[0][2..]), "a secret in the logs");
    let confirmed: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["message"] == "confirmed" && l["kind"] == "submit")
        .collect();
    assert_eq!(confirmed.len(), 2, "{logs}");
    assert!(confirmed.iter().all(|l| l["deployment"] == "reporter" && l["epoch"].is_u64()), "{confirmed:?}");

    // Restarted, it reports the last submission from its state before it submits again.
    let mut child = daemon(d);
    let last = || sample(&get(metrics_port, "/metrics").1, "zkpolicy_keeper_last_submitted_epoch", label);
    wait_for("the last submission, from the state", Duration::from_secs(60), || last().is_some(), &mut child);
    assert_eq!(last(), Some((epoch + 1) as f64));
    let text = get(metrics_port, "/metrics").1;
    assert_eq!(sample(&text, "zkpolicy_keeper_epochs_submitted_total", label).unwrap_or(0.0), 0.0, "{text}");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(child.wait().expect("exits").success());
    forwarder.stop();
}

/// A reporter deployment in `d` on `node` and the KPIs of its current epoch, which it returns.
fn reporter_with_kpis(d: &Path, node: &LocalNode) -> u64 {
    deploy_reporter(d, node, "reporter", "autonomous", None);
    let epoch = status(d, node, "reporter.json", None)["current_epoch"].as_u64().expect("epoch");
    write_kpis(d, epoch);
    epoch
}

/// The keeper daemon serving it, re-pricing after 2 s, with `chain_extra` in its chain table
/// and metrics on a free port, which it returns.
fn fast_daemon(d: &Path, node: &LocalNode, chain_extra: &str) -> (u16, Child) {
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let extra = format!("metrics_addr = \"127.0.0.1:{metrics_port}\"");
    let toml =
        keeper_toml(&[&node.url], REPORTER, &extra).replace("resend_after_secs = 30", &format!("resend_after_secs = 2{chain_extra}"));
    std::fs::write(d.join("keeper.toml"), toml).expect("write");
    (metrics_port, daemon(d))
}

#[test]
fn a_transaction_not_mined_in_time_is_repriced_and_resent_with_the_same_nonce() {
    // A node of its own: with automatic mining off, no other test's transaction would be mined.
    let node = LocalNode::start_own();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let epoch = reporter_with_kpis(d, &node);
    let file = format!("kpis/{epoch}.json");
    zkpolicy(d)
        .args(["commit-kpis", "--deployment", "reporter.json", "--kpis", &file, "--epoch", &epoch.to_string(), "--rpc", &node.url])
        .env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0])
        .assert()
        .success();
    // A fresh connection per request: the node closes idle ones.
    let request = |method: &'static str, params: Value| Client::connect(&node.url, None).expect("node").request(method, params);
    request("evm_setAutomine", json!([false])).expect("automine off");
    let before = nonce(&node);

    let (metrics_port, mut child) = fast_daemon(d, &node, "");
    let metric = |name: &str| sample(&get(metrics_port, "/metrics").1, name, "deployment=\"reporter\"").unwrap_or(0.0);
    wait_for("a resend", Duration::from_secs(120), || metric("zkpolicy_keeper_transactions_resent_total") >= 2.0, &mut child);
    assert_eq!(metric("zkpolicy_keeper_epochs_submitted_total"), 0.0, "nothing is mined yet");
    // Mining resumes: the latest price is mined, once.
    request("evm_setAutomine", json!([true])).expect("automine on");
    request("evm_mine", json!([])).expect("mine");
    wait_for("confirmed", Duration::from_secs(60), || metric("zkpolicy_keeper_epochs_submitted_total") >= 1.0, &mut child);
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(child.wait().expect("exits").success());
    assert_eq!(nonce(&node) - before, 1, "one nonce: the resends replaced each other");
    assert_eq!(status(d, &node, "reporter.json", None)["last_epoch"], epoch);
    let v = once(d);
    let record = records(&v, "reporter", "submit").into_iter().find(|r| r["epoch"] == epoch).cloned().expect("record");
    assert!(record["stage"] == "confirmed" && record["sends"].as_u64().is_some_and(|n| n >= 3), "{record}");
}

/// A node that mines only when a transaction arrives never gives a transaction its second
/// confirmation: with `confirmations = 2` the keeper says so and turns not ready (503, the
/// reason named) instead of waiting silently; a new block confirms it and it is ready again
/// (issue 30).
#[test]
fn a_confirmation_the_node_never_mines_turns_the_keeper_not_ready_naming_why() {
    // A node of its own: another test's transaction would mine the block it waits for.
    let node = LocalNode::start_own();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    reporter_with_kpis(d, &node);
    let (metrics_port, mut child) = fast_daemon(d, &node, "\nconfirmations = 2");
    let stalled = || {
        let (code, body) = get(metrics_port, "/readyz");
        code == 503 && body.contains("no new block") && body.contains("set confirmations = 1")
    };
    wait_for("not ready, naming the stalled confirmation", Duration::from_secs(120), stalled, &mut child);
    assert_eq!(get(metrics_port, "/healthz").0, 200, "alive all the same");
    // A block comes: the commitment is confirmed, and the keeper is ready again.
    let client = Client::connect(&node.url, None).expect("node");
    let ready = || {
        let _ = client.request("evm_mine", json!([]));
        get(metrics_port, "/readyz").0 == 200
    };
    wait_for("ready once blocks come", Duration::from_secs(120), ready, &mut child);
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(child.wait().expect("exits").success());
}

#[test]
fn a_bad_keeper_config_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("reporter.json"), "{}").expect("write");
    let good = keeper_toml(&["http://127.0.0.1:1"], REPORTER.replace("kpis_dir = \"kpis\"\n", "").as_str(), "");
    let cases = [
        (good.replace("poll_interval_secs = 1", "poll_interval_secs = 1\npoll = 2"), "keeper config: poll: unknown field `poll`"),
        (good.replace("env = \"KEEPER_KEY\"", ""), "keeper config: signer: no signer"),
        (good.replace("max_fee_gwei = 500", ""), "keeper config: chains.local: missing field `max_fee_gwei`"),
        (good.replace("state_dir = \"state\"", "state_dir = \"/proc/no-such/state\""), "keeper config: state_dir: cannot create"),
        (good.replace("chain = \"local\"", "chain = \"mainnet\""), "keeper config: deployment[0].chain: \"mainnet\" is not a chain"),
    ];
    for (text, expected) in cases {
        std::fs::write(d.join("keeper.toml"), text).expect("write");
        keeper(d).args(["keeper", "--config", "keeper.toml", "--once"]).assert().code(2).stderr(predicates::str::contains(expected));
    }
    // A signer variable that is not set is named; the key never is.
    std::fs::write(d.join("keeper.toml"), &good).expect("write");
    zkpolicy(d)
        .args(["keeper", "--config", "keeper.toml", "--once"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("the environment variable KEEPER_KEY is not set"));
}

/// Finding 7: a snapshot whose first attempts revert is tried again, its call and gas read
/// again each time, until the epoch is decided. The endpoint answers the first estimate with
/// a revert that proves nothing final (`WrongIncumbent`: the holder set the keeper read was
/// replaced before it sent) and the second with too little gas (the transaction is mined
/// and runs out of gas); only then the truth.
#[test]
fn a_snapshot_that_reverts_is_retried_until_the_epoch_is_decided() {
    use alloy::sol_types::SolCall;
    use zkpolicy_contracts::economy::EconomyKpiSource;
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    deploy_onchain(d, &node);
    // An epoch on: the first decidable one whether or not deployment seeds the KPI source.
    node.advance(DAY);
    let proxy = RpcProxy::start(&node.url);
    let snapshot = Some(EconomyKpiSource::takeSnapshotCall::SELECTOR);
    let wrong_incumbent = alloy::primitives::keccak256(b"WrongIncumbent()")[..4].to_vec();
    proxy.lie(snapshot, Some(1), Lie::Revert(wrong_incumbent));
    proxy.lie(snapshot, Some(1), Lie::Gas(30_000));
    let model = models().join("trained-policy.json");
    let onchain = ONCHAIN.replace("MODEL", model.to_str().expect("utf-8"));
    std::fs::write(d.join("keeper.toml"), keeper_toml(&[&proxy.url], &onchain, "")).expect("write");
    let epoch = status(d, &node, "onchain.json", Some(&model))["current_epoch"].as_u64().expect("epoch");
    let before = nonce(&node);

    let v = once(d);
    assert_eq!(status(d, &node, "onchain.json", Some(&model))["last_epoch"], epoch, "the epoch is decided: {v}");
    assert_eq!(proxy.lies(), 2, "both lies were told");
    let r = &v["round"];
    let retried: Vec<&str> = r["retried"].as_array().expect("list").iter().filter_map(Value::as_str).collect();
    assert_eq!(retried.len(), 2, "{r}");
    assert!(retried[0].contains("snapshot") && retried[0].contains("reverts"), "{retried:?}");
    assert!(retried[1].contains("snapshot") && retried[1].contains("out of gas"), "{retried:?}");
    let step = records(&v, "onchain", "snapshot").into_iter().find(|s| s["epoch"] == epoch).cloned().expect("snapshot step");
    assert_eq!((step["stage"].as_str(), step["retries"].as_u64()), (Some("confirmed"), Some(2)), "{step}");
    assert_eq!(r["confirmed"], json!([format!("onchain#{epoch}")]), "{v}");
    // tick, the snapshot that ran out of gas, the snapshot, the submission.
    assert_eq!(nonce(&node) - before, 4, "{v}");
}

/// Finding 10: an endpoint that lies about gas can neither make the keeper sign above its
/// cap nor cost it the epoch. Estimates of 30,000,000 are above `max_gas_limit`: refused,
/// and the honest endpoint asked. An estimate of 21,000 for the submission gives a
/// transaction the node refuses (its calldata alone costs more): it is estimated again on
/// the next endpoint and re-signed with the same nonce, not re-broadcast as it was.
#[test]
fn a_lying_gas_estimate_is_capped_and_the_keeper_fails_over_to_an_honest_endpoint() {
    use alloy::sol_types::SolCall;
    use zkpolicy_contracts::controller::PolicyController;
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    deploy_reporter(d, &node, "reporter", "autonomous", None);
    let (liar, honest) = (RpcProxy::start(&node.url), RpcProxy::start(&node.url));
    let cap = 2_000_000;
    let toml = keeper_toml(&[&liar.url, &honest.url], REPORTER, "")
        .replace("resend_after_secs = 30", &format!("resend_after_secs = 30\nmax_gas_limit = {cap}"));
    std::fs::write(d.join("keeper.toml"), toml).expect("write");
    let decide = |what: &str| {
        let epoch = status(d, &node, "reporter.json", None)["current_epoch"].as_u64().expect("epoch");
        write_kpis(d, epoch);
        let before = nonce(&node);
        let v = once(d);
        assert_eq!(v["round"]["confirmed"], json!([format!("reporter#{epoch}")]), "{what}: {v}");
        assert_eq!(status(d, &node, "reporter.json", None)["last_epoch"], epoch, "{what}");
        assert_eq!(nonce(&node) - before, 2, "{what}: the commitment and the submission, nothing else mined: {v}");
        v
    };

    liar.lie(None, None, Lie::Gas(30_000_000));
    decide("estimates above the cap");
    assert!(liar.lies() >= 1);
    assert!(liar.gas_limits().is_empty(), "nothing was sent through the lying endpoint");

    liar.honest();
    liar.lie(Some(PolicyController::submitAdjustmentCall::SELECTOR), None, Lie::Gas(21_000));
    node.advance(DAY);
    let told = liar.lies();
    let v = decide("an estimate the node refuses");
    assert_eq!(liar.lies(), told + 1, "one lie, then the next endpoint");
    let submit = records(&v, "reporter", "submit").into_iter().last().cloned().expect("submit step");
    assert_eq!((submit["stage"].as_str(), submit["sends"].as_u64()), (Some("confirmed"), Some(2)), "re-signed once: {submit}");
    let retried = v["round"]["retried"].as_array().expect("list");
    assert!(retried.iter().any(|l| l.as_str().is_some_and(|l| l.contains("submit") && l.contains("refused"))), "{v}");

    let limits: Vec<u64> = liar.gas_limits().into_iter().chain(honest.gas_limits()).collect();
    assert!(limits.len() >= 4, "{limits:?}");
    assert!(limits.iter().all(|g| *g <= cap), "a transaction above the cap: {limits:?}");
    assert!(limits.contains(&25_200), "the refused submission went out as the lie made it: {limits:?}");
}
