//! Endpoints that lie: a snapshot whose estimates revert is retried, a gas estimate over the
//! cap fails over, a stale head is passed over and hidden receipts are found elsewhere.

use serde_json::{json, Value};

use super::{deploy_onchain, keeper_toml, nonce, once, records, reporter_setup, status, write_kpis, DAY, ONCHAIN, REPORTER};
use crate::chain::CLOCK;
use crate::common::models;
use crate::common::node::LocalNode;
use crate::common::rpc_proxy::{Lie, RpcProxy};

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
    let (_clock, node, dir, _) = reporter_setup();
    let d = dir.path();
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

/// An endpoint whose head is stale (it answers block 1) is passed over as lagging, and one that
/// hides every receipt is found out by the next endpoint's receipt and passed over: the epoch
/// is decided with one transaction per step, each recorded confirmed, not taken for another's.
#[test]
fn a_stale_head_and_hidden_receipts_cost_no_transaction_and_no_epoch() {
    let (_clock, node, dir, _) = reporter_setup();
    let d = dir.path();
    let stale = RpcProxy::start(&node.url);
    stale.always("eth_blockNumber", json!("0x1"));
    let hiding = RpcProxy::start(&node.url);
    hiding.always("eth_getTransactionReceipt", Value::Null);
    std::fs::write(d.join("keeper.toml"), keeper_toml(&[&stale.url, &hiding.url, &node.url], REPORTER, "")).expect("write");
    let epoch = status(d, &node, "reporter.json", None)["current_epoch"].as_u64().expect("epoch");
    write_kpis(d, epoch);
    let before = nonce(&node);

    let v = once(d);
    assert_eq!(status(d, &node, "reporter.json", None)["last_epoch"], epoch, "decided: {v}");
    assert!(stale.lies() > 0 && hiding.lies() > 0, "both endpoints lied: {} {}: {v}", stale.lies(), hiding.lies());
    for kind in ["commit", "submit"] {
        let step = records(&v, "reporter", kind).into_iter().find(|r| r["epoch"] == epoch).cloned().expect("step");
        assert_eq!((step["stage"].as_str(), step["sends"].as_u64()), (Some("confirmed"), Some(1)), "{kind}: {step}");
    }
    assert_eq!(nonce(&node) - before, 2, "the commitment and the submission: {v}");
}
