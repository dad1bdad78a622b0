//! The keeper and the chain commands signing through a remote signer (`eth_signTransaction`,
//! as Web3Signer and Clef answer it): a signer process the test starts
//! (`prover/cli/tests/signer`, ethers), honest and lying.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::daemon::{daemon, wait_for};
use super::{keeper, keeper_toml, nonce, reporter_setup, status, write_kpis, DAY, REPORTER};
use crate::common::node::{LocalNode, DEV_KEYS};
use crate::common::{stdout_json, zkpolicy};

/// A signer process holding account #0's key, answering as `mode` (see signer.mjs); killed on drop.
struct Signer {
    child: Child,
    url: String,
}

impl Signer {
    fn start(mode: &str) -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/signer");
        assert!(
            dir.join("node_modules/ethers").is_dir(),
            "the test signer's packages are not installed: run `npm ci --prefix prover/cli/tests/signer` (.ci/run does)"
        );
        let mut child = Command::new("node")
            .arg(dir.join("signer.mjs"))
            .args(["--mode", mode])
            .env("SIGNER_KEY", DEV_KEYS[0])
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs the signer");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().expect("stdout")).read_line(&mut line).expect("the signer's first line");
        let port = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("the signer said {line:?}"));
        Self { url: format!("http://127.0.0.1:{port}"), child }
    }
}

impl Drop for Signer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// keeper.toml for the reporter deployment, signing through `signer` at a URL that carries
/// credentials and a path, as a gateway's does: neither may be shown.
fn remote_config(d: &Path, node: &LocalNode, signer: &Signer) {
    let url = signer.url.replace("http://", "http://operator:SECRET@") + "/SECRETPATH";
    let config = keeper_toml(&[&node.url], REPORTER, "").replace("env = \"KEEPER_KEY\"", &format!("remote = {url:?}"));
    std::fs::write(d.join("keeper.toml"), config).expect("write");
}

#[test]
fn the_keeper_signs_through_a_remote_signer_and_believes_nothing_it_returns() {
    let (_clock, node, dir, epoch) = reporter_setup();
    let d = dir.path();
    write_kpis(d, epoch);

    // A signer that signs something else, with another key, or nothing at all: refused before
    // anything reaches the node, naming what was wrong.
    let before = nonce(&node);
    for (mode, expected) in [
        ("other-recipient", "it signed a different transaction from the one asked for"),
        ("other-key", "not by 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
        ("garbage", "the signed transaction does not decode"),
    ] {
        let signer = Signer::start(mode);
        remote_config(d, &node, &signer);
        // The round fails (exit 2), its errors naming the signer and what it did.
        let failed = keeper(d).env_remove("KEEPER_KEY").args(["keeper", "--config", "keeper.toml", "--once", "--json"]).assert().code(2);
        let v = stdout_json(&failed);
        let errors = v["round"]["errors"].to_string();
        assert!(errors.contains("the remote signer at http://127.0.0.1:") && errors.contains(expected), "{mode}: {v}");
        let stderr = String::from_utf8_lossy(&failed.get_output().stderr);
        assert!(!errors.contains("SECRET") && !stderr.contains("SECRET"), "{mode}: the URL's credentials and path are shown: {stderr}");
        assert_eq!(nonce(&node), before, "{mode}: nothing was sent");
    }

    // The daemon with a signer that refuses its first request: the refusal costs no nonce,
    // and the epoch is decided with the next signature.
    let signer = Signer::start("fail-first");
    remote_config(d, &node, &signer);
    // (Its KEEPER_KEY is not read: the config names the remote signer.)
    let mut keeper = daemon(d);
    let decided = || status(d, &node, "reporter.json", None)["last_epoch"] == epoch;
    wait_for("the epoch decided through the remote signer", Duration::from_secs(60), decided, &mut keeper);
    let _ = Command::new("kill").args(["-TERM", &keeper.id().to_string()]).status();
    let _ = keeper.wait();
    assert_eq!(nonce(&node) - before, 2, "commit and submit, one nonce each");

    // The chain commands take one too: governance pauses through a Clef-shaped answer.
    node.advance(DAY);
    let clef = Signer::start("clef");
    let out = zkpolicy(d)
        .args(["pause", "--deployment", "reporter.json", "--rpc", &node.url, "--remote-signer", &clef.url, "--json"])
        .env_remove("ZKPOLICY_PRIVATE_KEY")
        .assert()
        .success();
    assert_eq!(stdout_json(&out)["action"], "paused");
    assert_eq!(status(d, &node, "reporter.json", None)["paused"], true);
    // An account the signer does not hold is named before anything is signed.
    let stranger = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    zkpolicy(d)
        .args(["unpause", "--deployment", "reporter.json", "--rpc", &node.url, "--remote-signer", &clef.url])
        .args(["--signer-address", stranger])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!("it does not hold {stranger}")));
}
