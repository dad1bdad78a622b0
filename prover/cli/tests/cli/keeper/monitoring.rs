//! The keeper's monitoring as operators run it: the shipped alert rules checked and unit-tested
//! by `promtool`, and a real Prometheus (Debian's `prometheus` package, which `.ci/run`
//! installs) scraping a running keeper with those rules loaded.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::daemon::{fast_daemon, get, reporter_with_kpis, wait_for};
use crate::chain::CLOCK;
use crate::common::node::LocalNode;

fn monitoring_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../keeper/monitoring")
}

/// `tool` from Debian's `prometheus` package, named if it is missing.
fn prometheus_tool(tool: &str) -> Command {
    let found = Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    assert!(found, "{tool} is not installed: `apt-get install prometheus` (Debian's package; .ci/run installs it)");
    Command::new(tool)
}

/// The names of the keeper's metrics a rule or a dashboard query reads.
fn metric_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .match_indices("zkpolicy_keeper_")
        .map(|(at, _)| text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect())
        .filter(|name: &String| name.len() > "zkpolicy_keeper_".len())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn the_alert_rules_pass_promtool_and_their_unit_tests() {
    let dir = monitoring_dir();
    let out = prometheus_tool("promtool").current_dir(&dir).args(["check", "rules", "alerts.yml"]).output().expect("promtool runs");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("SUCCESS: 5 rules found"));
    let out = prometheus_tool("promtool").current_dir(&dir).args(["test", "rules", "alerts.test.yml"]).output().expect("promtool runs");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let out = prometheus_tool("promtool").current_dir(&dir).args(["check", "config", "prometheus.yml"]).output().expect("promtool runs");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // The dashboard is a Grafana dashboard whose every panel queries the keeper's job.
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("dashboard.json")).expect("dashboard")).expect("JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 8, "{} panels", panels.len());
    for panel in panels {
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty() && targets.iter().all(|t| t["expr"].as_str().is_some_and(|e| e.contains("zkpolicy"))), "{panel}");
    }
}

/// GET over HTTP/1.0 (so Prometheus answers without chunking), the body as JSON.
fn api(port: u16, path: &str) -> Option<Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.split_once("\r\n\r\n")?.1).ok()
}

/// The value of an instant query's only sample.
fn query(port: u16, expr: &str) -> Option<f64> {
    let encoded: String =
        expr.bytes().map(|b| if b.is_ascii_alphanumeric() || b == b'_' { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    let v = api(port, &format!("/api/v1/query?query={encoded}"))?;
    v["data"]["result"].as_array()?.first()?["value"][1].as_str()?.parse().ok()
}

struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_real_prometheus_scrapes_a_running_keeper_and_loads_the_rules() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    reporter_with_kpis(d, &node);
    let (metrics_port, mut keeper) = fast_daemon(d, &node, "");

    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let rules = monitoring_dir().join("alerts.yml");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: zkpolicy-keeper\n    static_configs:\n      - targets: [\"127.0.0.1:{metrics_port}\"]\n",
        rules.display()
    );
    std::fs::write(d.join("prometheus.yml"), config).expect("write");
    let _prometheus = Prometheus(
        prometheus_tool("prometheus")
            .current_dir(d)
            .args(["--config.file=prometheus.yml", "--storage.tsdb.path=tsdb", &format!("--web.listen-address=127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts"),
    );

    // Prometheus scrapes the keeper, which decides its epoch.
    let decided = || {
        query(port, "up{job=\"zkpolicy-keeper\"}") == Some(1.0)
            && query(port, "zkpolicy_keeper_ready") == Some(1.0)
            && query(port, "zkpolicy_keeper_current_epoch - zkpolicy_keeper_decided_epoch") == Some(0.0)
            && query(port, "zkpolicy_keeper_epochs_submitted_total") == Some(1.0)
    };
    wait_for("Prometheus to see the keeper decide its epoch", Duration::from_secs(120), decided, &mut keeper);
    // The rules are loaded and evaluate without error on the keeper's series; none fires.
    let groups = api(port, "/api/v1/rules").expect("rules")["data"]["groups"].clone();
    let rules: Vec<&Value> = groups.as_array().expect("groups").iter().flat_map(|g| g["rules"].as_array().expect("rules")).collect();
    assert_eq!(rules.len(), 5, "{groups}");
    for rule in &rules {
        assert_eq!(rule["health"], "ok", "{rule}");
        assert_eq!(rule["state"], "inactive", "{rule}");
    }
    // Every keeper metric the rules and the dashboard read is one the keeper registers (an
    // empty family, such as executions on an autonomous controller, is not in the scrape).
    let registered = std::fs::read_to_string(monitoring_dir().join("../src/metrics.rs")).expect("metrics.rs");
    assert!(get(metrics_port, "/metrics").1.contains("zkpolicy_keeper_ready"), "the keeper exports its metrics");
    let shipped = std::fs::read_to_string(monitoring_dir().join("alerts.yml")).expect("rules")
        + &std::fs::read_to_string(monitoring_dir().join("dashboard.json")).expect("dashboard");
    for name in metric_names(&shipped) {
        let base = ["_total", "_bucket"].iter().fold(name.trim_start_matches("zkpolicy_keeper_"), |n, s| n.trim_end_matches(s));
        assert!(
            registered.contains(&format!("register(\"{base}\"")) || registered.contains(&format!("\"{base}\",")),
            "{name} is read by the monitoring files but not registered"
        );
    }
    Command::new("kill").args(["-TERM", &keeper.id().to_string()]).status().expect("kill");
    assert!(keeper.wait().expect("exits").success());
}
