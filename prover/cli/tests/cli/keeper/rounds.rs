//! `keeper --once` rounds: two deployments decided, a kill at each step resumed, an epoch decided elsewhere, bad configs.

use serde_json::{json, Value};

use super::{
    deploy_onchain, deploy_reporter, keeper, keeper_toml, nonce, once, records, reporter_setup, status, write_kpis, DAY, ONCHAIN, REPORTER,
};
use crate::chain::CLOCK;
use crate::common::node::{LocalNode, DEV_KEYS};
use crate::common::{models, zkpolicy};

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
    let (_clock, node, dir, _) = reporter_setup();
    let d = dir.path();
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
    let (_clock, node, dir, _) = reporter_setup();
    let d = dir.path();
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

/// Concurrent RPC: a round reads every deployment's controller in one JSON-RPC batch, not a
/// request per read per deployment, and the batched reads decide the epochs as before; an
/// endpoint that refuses batches is read call by call.
#[test]
fn a_round_reads_every_controller_in_one_batch() {
    use alloy::sol_types::SolCall;
    use zkpolicy_contracts::controller::PolicyController;
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let names = ["r1", "r2", "r3"];
    let mut deployments = String::new();
    for name in names {
        deploy_reporter(d, &node, name, "autonomous", None);
        deployments.push_str(&REPORTER.replace("\"reporter", &format!("\"{name}")));
    }
    let proxy = crate::common::rpc_proxy::RpcProxy::start(&node.url);
    std::fs::write(d.join("keeper.toml"), keeper_toml(&[&proxy.url], &deployments, "")).expect("write");
    let epoch = status(d, &node, "r1.json", None)["current_epoch"].as_u64().expect("epoch");
    write_kpis(d, epoch);

    let v = once(d);
    for name in names {
        assert_eq!(status(d, &node, &format!("{name}.json"), None)["last_epoch"], epoch, "{name}: {v}");
    }
    let reads = proxy.calls_per_request(PolicyController::currentEpochCall::SELECTOR);
    assert!(reads.contains(&names.len()), "one request read all three controllers: {reads:?}");
    assert!(reads.iter().sum::<usize>() >= 2 * reads.len(), "reads arrive batched, not one by one: {reads:?}");

    // An endpoint that refuses batches (HTTP 400) is read one call at a time, and the next
    // epoch is decided all the same.
    proxy.refuse_batches();
    node.advance(DAY);
    write_kpis(d, epoch + 1);
    let v = once(d);
    for name in names {
        assert_eq!(status(d, &node, &format!("{name}.json"), None)["last_epoch"], epoch + 1, "{name}: {v}");
    }
    let reads = proxy.calls_per_request(PolicyController::currentEpochCall::SELECTOR);
    assert!(!reads.is_empty() && reads.iter().all(|n| *n == 1), "{reads:?}");
}
