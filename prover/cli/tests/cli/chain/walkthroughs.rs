//! The docs' chain and on-chain walk-throughs run exactly as written, and what they write is ignored by git.

use std::path::Path;

use serde_json::{json, Value};

use super::{guard, initial, ints, CLOCK};
use crate::common::node::LocalNode;
use crate::common::{stdout_json, zkpolicy};

/// Runs the ```sh block after `<!-- walkthrough:NAME` in the docs (`docs/*.md`) exactly as
/// written, with bash from a checkout-shaped directory, the built `zkpolicy` first on the
/// PATH and the test node as the RPC; returns the directory and stdout.
fn run_docs_block(name: &str, node: &LocalNode) -> (tempfile::TempDir, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut pages: Vec<_> = std::fs::read_dir(root.join("docs")).expect("docs/").flatten().map(|e| e.path()).collect();
    pages.sort();
    let docs: String = pages.iter().map(|p| std::fs::read_to_string(p).expect("a docs page")).collect();
    let block = docs
        .split(&format!("<!-- walkthrough:{name}"))
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|rest| rest.split("\n```").next())
        .unwrap_or_else(|| panic!("the docs' {name} walk-through block"));
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for linked in ["models", "verifier-contract"] {
        std::os::unix::fs::symlink(root.join(linked).canonicalize().expect(linked), d.join(linked)).expect("symlink");
    }
    std::fs::write(d.join("walkthrough.sh"), block).expect("write");
    let bin = assert_cmd::cargo::cargo_bin("zkpolicy");
    let path = format!("{}:{}", bin.parent().expect("bin dir").display(), std::env::var("PATH").unwrap_or_default());
    let out = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "walkthrough.sh"])
        .current_dir(d)
        .env("PATH", path)
        .env("ZKPOLICY_RPC_URL", &node.url)
        .env_remove("ZKPOLICY_PRIVATE_KEY")
        .env_remove("ZKPOLICY_KEYSTORE_PASSWORD")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "the {name} walk-through failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    (dir, stdout)
}

/// The chain walk-through (docs/walkthrough.md), exactly as written, on the test node: deploy; epoch 1;
/// the clock moved a day and epoch 2; timelocked mode through governance, epoch 3 queued
/// and executed after its delay; pause, unpause, a scheduled and cancelled change; audit.
#[test]
fn the_docs_chain_walkthrough_runs_as_written() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let (dir, stdout) = run_docs_block("chain", &node);
    let d = dir.path();
    for step in [
        "weights     private: proofs reveal only their salted commitment",
        "epoch 1 accepted (autonomous mode)",
        "epoch 2 accepted (autonomous mode)",
        "scheduled: mode timelocked",
        "executed: mode timelocked",
        "epoch 3 accepted (timelocked mode)",
        "queued: `zkpolicy execute --epoch 3` applies it after",
        "epoch 3 applied",
        "paused:",
        "unpaused:",
        "cancelled: guardrail of parameter 0",
        "matches: tokenomics-policy",
    ] {
        assert!(stdout.contains(step), "missing {step:?} in:\n{stdout}");
    }

    // The chain agrees: three decisions, each the guard twin of the proven outputs.
    let proven: Value = serde_json::from_slice(&std::fs::read(d.join("proof-1.json")).expect("proof")).expect("json");
    let y: Vec<i64> = proven["outputs"].as_array().expect("outputs").iter().map(|o| o["value"].as_i64().expect("int")).collect();
    let expected = (0..3).fold(initial(), |current, _| guard(&current, &y));
    let status =
        stdout_json(&zkpolicy(d).args(["status", "--deployment", "deployment.json", "--rpc", &node.url, "--json"]).assert().success());
    let s = &status["status"];
    assert_eq!(ints(&s["parameters"]), expected, "{s}");
    assert_eq!(s["last_epoch"], 3, "{s}");
    assert_eq!(s["mode"], "timelocked", "{s}");
    assert_eq!(s["paused"], false, "{s}");
    assert!(s["queued"].is_null(), "{s}");
    assert_eq!(
        s["guardrails"][0],
        json!({"min": 0, "max": 2000, "max_step": 25, "dead_band": 0, "max_change_bps": 0, "window": 0, "anchor": null, "group": 0}),
        "the cancelled change stays unmade: {s}"
    );
}

/// The on-chain block (docs/architecture.md), exactly as written: deploy with the economy (seeding epoch
/// 1), a holder set, a day later the tick, the on-chain snapshot, a proof on it, and the
/// submission.
#[test]
fn the_docs_onchain_walkthrough_runs_as_written() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let (_dir, stdout) = run_docs_block("onchain", &node);
    for step in [
        "epoch 1's call seeded its averages (no KPIs): epoch 2 is the first decidable",
        "holder set for epoch 2's snapshot: 960000000000000000000000000 wei held",
        "epoch 2 ticked",
        "(quantized 246)",
        "epoch 2 accepted (autonomous mode)",
        "KPIs computed on chain from the economy's state",
    ] {
        assert!(stdout.contains(step), "missing {step:?} in:\n{stdout}");
    }
}

/// The docs' walk-throughs run from the repository's root; every file they write is ignored
/// by git, so following them leaves `git status` as it was (issue 30).
#[test]
fn what_the_docs_walkthroughs_write_is_ignored_by_git() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut pages: Vec<_> = std::fs::read_dir(root.join("docs")).expect("docs/").flatten().map(|e| e.path()).collect();
    pages.sort();
    let docs: String = pages.iter().map(|p| std::fs::read_to_string(p).expect("a docs page")).collect();
    let mut written = Vec::new();
    for block in docs.split("<!-- walkthrough:").skip(1) {
        let script = block.split("```sh\n").nth(1).and_then(|rest| rest.split("\n```").next()).expect("a sh block");
        let words: Vec<&str> = script.split_whitespace().collect();
        written.extend(words.windows(2).filter(|w| w[0] == "--out").map(|w| w[1].to_string()));
    }
    assert!(written.len() >= 5, "the walk-throughs write files: {written:?}");
    for file in written {
        let ignored = std::process::Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(["check-ignore", "-q", "--no-index"])
            .arg(&file)
            .status()
            .expect("git runs");
        assert!(ignored.success(), "{file}, which a walk-through writes in the repository's root, is not in .gitignore");
    }
}
