//! The keeper as a daemon: failover, readiness and metrics, SIGTERM, re-pricing, a confirmation that never comes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use zkpolicy_chain::Client;

use super::{deploy_reporter, keeper, keeper_toml, nonce, once, records, reporter_setup, status, write_kpis, DAY, REPORTER};
use crate::common::node::{LocalNode, DEV_KEYS};
use crate::common::zkpolicy;

/// The keeper as a daemon in `d` (its logs piped, for the test to read).
pub(super) fn daemon(d: &Path) -> Child {
    daemon_killed_at(d, "")
}

/// The daemon, killed with SIGKILL at the failpoint `point` (none when empty).
fn daemon_killed_at(d: &Path, point: &str) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("zkpolicy"))
        .current_dir(d)
        .args(["keeper", "--config", "keeper.toml"])
        .env("KEEPER_KEY", DEV_KEYS[0])
        .env("ZKPOLICY_KEEPER_FAILPOINT", point)
        .env_remove("ZKPOLICY_RPC_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keeper starts")
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

pub(super) fn get(port: u16, path: &str) -> (u16, String) {
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

pub(super) fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool, child: &mut Child) {
    let started = Instant::now();
    while !ok() {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
            panic!("the keeper exited ({status}) while waiting for {what}: {err}");
        }
        if started.elapsed() >= limit {
            // SIGTERM, so that the keeper's buffered logs are written: the failure shows them.
            // They are read while it stops (a full pipe would block it), and it is killed if
            // it has not stopped within 10 s.
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let stderr = child.stderr.take();
            let reader = std::thread::spawn(move || {
                let mut logs = String::new();
                let _ = stderr.map(|mut e| e.read_to_string(&mut logs));
                logs
            });
            let stop_by = Instant::now() + Duration::from_secs(10);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < stop_by {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
            let logs = reader.join().unwrap_or_default();
            panic!("{what}: not within {limit:?}; the keeper's logs:\n{logs}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_daemon_fails_over_reports_readiness_and_metrics_and_stops_on_sigterm() {
    let (_clock, node, dir, epoch) = reporter_setup();
    let d = dir.path();
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

    // Restarted, it reports the last submission from its state before it submits again, and
    // its counters go on from the last run's (two confirmed submissions), not from zero.
    let mut child = daemon(d);
    let last = || sample(&get(metrics_port, "/metrics").1, "zkpolicy_keeper_last_submitted_epoch", label);
    wait_for("the last submission, from the state", Duration::from_secs(60), || last().is_some(), &mut child);
    assert_eq!(last(), Some((epoch + 1) as f64));
    let text = get(metrics_port, "/metrics").1;
    assert_eq!(sample(&text, "zkpolicy_keeper_epochs_submitted_total", label), Some(2.0), "{text}");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(child.wait().expect("exits").success());
    forwarder.stop();
}

/// A reporter deployment in `d` on `node` and the KPIs of its current epoch, which it returns.
pub(super) fn reporter_with_kpis(d: &Path, node: &LocalNode) -> u64 {
    deploy_reporter(d, node, "reporter", "autonomous", None);
    let epoch = status(d, node, "reporter.json", None)["current_epoch"].as_u64().expect("epoch");
    write_kpis(d, epoch);
    epoch
}

/// The keeper daemon serving it, re-pricing after 2 s, with `chain_extra` in its chain table
/// and metrics on a free port, which it returns.
pub(super) fn fast_daemon(d: &Path, node: &LocalNode, chain_extra: &str) -> (u16, Child) {
    fast_daemon_killed_at(d, node, chain_extra, "")
}

/// [`fast_daemon`], killed with SIGKILL at the failpoint `point` (none when empty).
fn fast_daemon_killed_at(d: &Path, node: &LocalNode, chain_extra: &str, point: &str) -> (u16, Child) {
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let extra = format!("metrics_addr = \"127.0.0.1:{metrics_port}\"");
    let toml =
        keeper_toml(&[&node.url], REPORTER, &extra).replace("resend_after_secs = 30", &format!("resend_after_secs = 2{chain_extra}"));
    std::fs::write(d.join("keeper.toml"), toml).expect("write");
    (metrics_port, daemon_killed_at(d, point))
}

/// A JSON-RPC request to `node` on a fresh connection (the node closes idle ones).
fn rpc(node: &LocalNode, method: &'static str, params: Value) -> Result<Value, zkpolicy_chain::ChainError> {
    Client::connect(&node.url, None).expect("node").request(method, params)
}

/// A node of its own with a reporter deployment whose current epoch's KPIs are committed on
/// chain (the keeper then only proves and submits), and automatic mining off (no other test's
/// transaction would be mined): the node, the directory, the epoch and the keeper's nonce.
fn unmined_reporter() -> (LocalNode, tempfile::TempDir, u64, u64) {
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
    rpc(&node, "evm_setAutomine", json!([false])).expect("automine off");
    let before = nonce(&node);
    (node, dir, epoch, before)
}

#[test]
fn a_transaction_not_mined_in_time_is_repriced_and_resent_with_the_same_nonce() {
    let (node, dir, epoch, before) = unmined_reporter();
    let d = dir.path();
    let request = |method: &'static str, params: Value| rpc(&node, method, params);
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

/// A submission still pending when its epoch ends can only revert: the keeper replaces it by
/// a no-op with the same nonce and higher fees, which is mined instead; the epoch is skipped
/// (`epoch_passed`), no transaction reverts and the controller stays undecided (issue 30).
/// The keeper is killed (SIGKILL) just after broadcasting the no-op, and its restart
/// confirms the pending no-op rather than sending anything more.
#[test]
fn a_submission_pending_at_the_epochs_end_is_replaced_by_a_no_op() {
    let (node, dir, epoch, before) = unmined_reporter();
    let d = dir.path();
    let request = |method: &'static str, params: Value| rpc(&node, method, params);
    let (metrics_port, mut child) = fast_daemon_killed_at(d, &node, "", "after_replace");
    let metric = |port: u16, name: &str, labels: &str| sample(&get(port, "/metrics").1, name, labels).unwrap_or(0.0);
    // Sent (and re-priced once): the submission waits in the pool.
    wait_for(
        "a pending submission",
        Duration::from_secs(120),
        || metric(metrics_port, "zkpolicy_keeper_transactions_resent_total", "deployment=\"reporter\"") >= 1.0,
        &mut child,
    );
    // The epoch ends: a block a day later whose base fee (10 gwei) is above the submission's
    // fee cap, so it stays pending.
    request("hardhat_setNextBlockBaseFeePerGas", json!(["0x2540be400"])).expect("a 10 gwei base fee");
    request("evm_increaseTime", json!([DAY])).expect("time");
    request("evm_mine", json!([])).expect("an empty block");
    // Killed once the no-op is broadcast, with both transactions still pending.
    let stop_by = Instant::now() + Duration::from_secs(120);
    let killed = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < stop_by, "the keeper was not killed at after_replace");
        std::thread::sleep(Duration::from_millis(200));
    };
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(killed.signal(), Some(9), "killed by SIGKILL at after_replace");
    let (metrics_port, mut child) = fast_daemon(d, &node, "");
    let skipped = "deployment=\"reporter\",reason=\"epoch_passed\"";
    let mine = || {
        let _ = request("evm_mine", json!([]));
        metric(metrics_port, "zkpolicy_keeper_epochs_skipped_total", skipped) >= 1.0
    };
    wait_for("the no-op mined and the epoch skipped", Duration::from_secs(120), mine, &mut child);
    assert_eq!(metric(metrics_port, "zkpolicy_keeper_epochs_submitted_total", "deployment=\"reporter\""), 0.0);
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(child.wait().expect("exits").success());
    assert_eq!(nonce(&node) - before, 1, "one nonce: the no-op took the submission's");
    let status = status(d, &node, "reporter.json", None);
    assert!(status["last_epoch"].as_u64() < Some(epoch), "undecided: {status}");
    let v = once(d);
    let record = records(&v, "reporter", "submit").into_iter().find(|r| r["epoch"] == epoch).cloned().expect("record");
    assert_eq!(record["stage"], "skipped", "{record}");
    assert!(record["reason"].as_str().is_some_and(|r| r.contains("replaced by the no-op")), "{record}");
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
