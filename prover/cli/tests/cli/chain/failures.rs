//! Chain commands' failure paths: an unreachable node, a missing key, bad files, a foreign verifier, an unknown TLS CA.

use std::path::Path;

use predicates::prelude::PredicateBooleanExt;
use serde_json::{json, Value};

use super::{write_config, CLOCK};
use crate::common::node::{LocalNode, DEV_KEYS};
use crate::common::{edit_json, models, stdout_json, zkpolicy};

/// No trace on a stream of the secrets the unreachable URL carries: its password, the key in
/// its path and the one in its query.
fn no_secret() -> impl predicates::Predicate<str> {
    predicates::str::contains("hunter2")
        .not()
        .and(predicates::str::contains("APIKEY123").not())
        .and(predicates::str::contains("SECRET456").not())
}

/// Every chain command but deploy, commit-kpis and status, against the unreachable `dead`.
fn every_other_chain_command_keeps_the_secrets(d: &Path, dead: &str) {
    let others: [&[&str]; 12] = [
        &["tick", "--deployment", "deployment.json"],
        &["snapshot", "--deployment", "deployment.json"],
        &["submit-holders", "--deployment", "deployment.json", "--holders", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
        &["prove", "--deployment", "deployment.json", "--epoch", "1", "--out", "p.json"],
        &["execute", "--deployment", "deployment.json", "--epoch", "1"],
        &["pause", "--deployment", "deployment.json"],
        &["unpause", "--deployment", "deployment.json"],
        &["govern", "schedule", "--mode", "advisory", "--deployment", "deployment.json"],
        &["govern", "execute", "--mode", "advisory", "--deployment", "deployment.json"],
        &["govern", "cancel", "--mode", "advisory", "--deployment", "deployment.json"],
        &["audit", "--deployment", "deployment.json"],
        &["submit", "--deployment", "deployment.json", "--proof", "missing.json"],
    ];
    for args in others {
        for json in [false, true] {
            let mut cmd = zkpolicy(d);
            cmd.args(args).args(["--rpc", dead]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[1]);
            if json {
                cmd.arg("--json");
            }
            let out = cmd.assert().code(2).stderr(no_secret()).stdout(no_secret());
            if json {
                assert_eq!(stdout_json(&out)["error"]["kind"], "input", "{args:?}");
            }
        }
    }
}

/// `deploy` (its arguments) against `dead` with no key, a malformed one, a missing keystore.
fn a_missing_or_malformed_key_is_named(d: &Path, deploy: &[&str], dead: &str) {
    zkpolicy(d).args(deploy).args(["--rpc", dead]).assert().code(2).stderr(predicates::str::contains("ZKPOLICY_PRIVATE_KEY is not set"));
    let secret = "0xdeadbeefnotakey1234";
    zkpolicy(d)
        .args(deploy)
        .args(["--rpc", dead])
        .env("ZKPOLICY_PRIVATE_KEY", secret)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("does not hold a 32-byte hex private key").and(predicates::str::contains(secret).not()));
    zkpolicy(d)
        .args(deploy)
        .args(["--rpc", dead, "--keystore", "nope.json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nope.json: no such keystore file"));
}

/// A config short of a rail, one with an unknown mode, a missing proof: each refused, nothing written.
fn bad_files_name_the_file_and_the_field(d: &Path, dead: &str) {
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
fn chain_commands_name_an_unreachable_node_a_missing_key_and_bad_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config(d);
    // Nothing listens there; the URL carries credentials, a key in the path and one in the query.
    let dead = "http://user:hunter2@127.0.0.1:1/v3/APIKEY123?key=SECRET456";
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
    deploy.assert().code(2).stderr(predicates::str::contains("cannot reach the JSON-RPC node at http://127.0.0.1:1/…")).stderr(no_secret());
    let mut commit = zkpolicy(d);
    commit.args(commands[1]).arg(&sample).args(["--rpc", dead]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[1]);
    commit.assert().code(2).stderr(predicates::str::contains("cannot reach")).stderr(no_secret());
    zkpolicy(d)
        .args(commands[3])
        .args(["--rpc", dead])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot reach"))
        .stderr(no_secret());

    // Every other chain command, in text and in JSON: exit 2, the node named, no secret
    // on either stream.
    every_other_chain_command_keeps_the_secrets(d, dead);

    // No key: the variable is named. A malformed key: its value is never echoed.
    a_missing_or_malformed_key_is_named(d, commands[0], dead);

    // Bad files name the file and the field.
    bad_files_name_the_file_and_the_field(d, dead);
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

/// HTTPS to the node through a TLS terminator whose certificate a test CA signed: refused
/// while the CA is unknown (named, and without the URL's key), then deploy and status work
/// once `SSL_CERT_FILE` trusts it.
#[test]
fn https_endpoints_work_through_a_private_ca_and_an_unknown_ca_is_refused() {
    // Account #0 sends from the tests that hold the clock; holding it too keeps nonces apart.
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let upstream = node.url.trim_start_matches("http://").trim_end_matches('/').to_string();
    let proxy = crate::common::tls::TlsProxy::start(&upstream);
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config(d);
    std::fs::write(d.join("ca.pem"), &proxy.ca_pem).expect("write");
    let url = format!("https://localhost:{}/v3/SECRETAPIKEY123", proxy.port);
    let chain = |args: &[&str], trust: bool| {
        let mut cmd = zkpolicy(d);
        cmd.args(args).args(["--rpc", &url, "--json"]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0]);
        if trust {
            cmd.env("SSL_CERT_FILE", d.join("ca.pem"));
        } else {
            cmd.env("SSL_CERT_FILE", d.join("config.json"));
        }
        cmd.assert()
    };
    let refused = chain(&["deploy", "--config", "config.json", "--out", "deployment.json", "--allow-dev-srs"], false).code(2);
    let out = refused.get_output();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("https://localhost:") && !text.contains("SECRETAPIKEY123"), "{text}");
    assert!(text.to_lowercase().contains("certificate"), "the refusal does not say why: {text}");
    assert!(!d.join("deployment.json").exists());

    let deployed =
        stdout_json(&chain(&["deploy", "--config", "config.json", "--out", "deployment.json", "--allow-dev-srs"], true).success());
    assert_eq!(deployed["deployment"]["chain_id"], 31_337);
    let status = chain(&["status", "--deployment", "deployment.json"], true).success();
    let out = status.get_output();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains("SECRETAPIKEY123"), "{text}");
    let status: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(status["status"]["paused"], false, "{status}");
    assert!(status["status"]["snapshot_posted_at"].is_null() && status["status"]["snapshot_fresh"] == false, "{status}");
    assert_eq!(status["status"]["model_commitment"], deployed["deployment"]["model_commitment"], "{status}");
}
