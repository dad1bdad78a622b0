//! `zkpolicy live` on a real local node: a short closed loop whose every decision is
//! checked here against the chain (snapshot, reference, guard twin, parameters), and a
//! run whose keeper is killed mid-submission and restarted without losing an epoch.

use std::path::Path;

use serde_json::Value;
use zkpolicy_chain::{self as chain, Client, Deployment};
use zkpolicy_lab::sim::deployment_guardrails;
use zkpolicy_model::{guard, Observation, QuantizedKpis};

use crate::common::node::LocalNode;
use crate::common::{json_run, stdout_json, zkpolicy};

/// Runs `live` for `epochs` epochs after two warm-up epochs with `agents` agents on a node of
/// its own (the run moves the clock a day per epoch), with `attackers` if given; returns the
/// `--json` output and report.json.
fn live(d: &Path, node: &LocalNode, agents: usize, epochs: usize, crash: Option<&str>, attackers: Option<&str>) -> (Value, Value) {
    let mut cmd = zkpolicy(d);
    // The default model, named: the keeper child reads the bundled file written for it.
    cmd.args(["live", "--scenario", "crash", "--warmup", "2", "--out-dir", "run", "--json"])
        .args(["--model", "tokenomics-policy"])
        .args(["--agents", &agents.to_string()])
        .args(["--epochs", &epochs.to_string()])
        .env("ZKPOLICY_RPC_URL", &node.url);
    if let Some(crash) = crash {
        cmd.env("ZKPOLICY_LIVE_KEEPER_CRASH", crash);
    }
    if let Some(list) = attackers {
        cmd.args(["--attackers", list]);
    }
    let out = stdout_json(&json_run(&mut cmd).success());
    let report: Value = serde_json::from_slice(&std::fs::read(d.join("run/report.json")).expect("report.json")).expect("json");
    (out, report)
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array().expect("an array").iter().map(|x| x.as_i64().expect("an integer")).collect()
}

/// Every live epoch was decided on chain by a proof of the integer reference on the
/// chain's own snapshot and parameters, and what the controller and the economy applied
/// is what the guard twin says.
fn check_against_the_chain(d: &Path, node: &LocalNode, report: &Value, agents: u64, epochs: usize) {
    let model = zkpolicy_lab::bundled::model(zkpolicy_lab::bundled::DEFAULT).expect("bundled").expect("default");
    let deployment = Deployment::load(&d.join("run/deployment.json")).expect("the deployment record");
    let client = Client::connect(&node.url, None).expect("the node");
    let live = report["run"]["epochs"].as_array().expect("epochs");
    assert_eq!(live.len(), epochs, "every epoch ran");
    let mut params = deployment_guardrails().iter().map(|r| r.initial).collect::<Vec<_>>();
    for e in live {
        let epoch = e["epoch"].as_u64().expect("epoch");
        assert!(e["decision_tx"].as_str().is_some_and(|t| t.len() == 66), "epoch {epoch} has a decision: {e}");
        assert_eq!(e["verified_on_chain"], true, "epoch {epoch}");
        assert_eq!(e["verified_native"], true, "epoch {epoch}");
        // The snapshot the report names is the chain's.
        let kpis = chain::committed_kpis(&client, &deployment, epoch).expect("read").expect("a snapshot on chain");
        assert_eq!(kpis, ints(&e["kpis"]), "epoch {epoch}");
        assert_eq!(params, ints(&e["params_before"]), "epoch {epoch}: the parameters the decision started from");
        let input = Observation::new(&model, QuantizedKpis::new(&model, kpis).expect("in range"), vec![]).expect("input");
        let reference = zkpolicy_model::infer(&model, input).expect("infer").outputs;
        assert_eq!(ints(&e["outputs"]), reference, "epoch {epoch}: proven outputs against the integer reference");
        params = guard(&params, &reference, &deployment_guardrails()).expect("guard").values;
        assert_eq!(ints(&e["guarded"]), params, "epoch {epoch}: the controller's parameters against the guard twin");
        assert_eq!(ints(&e["economy_params"]), params, "epoch {epoch}: the economy ticked on the controller's parameters");
        assert_eq!(e["reverted"], 0, "epoch {epoch}: no agent transaction reverted");
        let transactions = e["transactions"].as_u64().expect("count");
        assert!(transactions > 2 * agents, "epoch {epoch}: the agents traded ({transactions} transactions)");
    }
    assert_eq!(chain::parameters(&client, &deployment).expect("read"), params, "the controller holds the last guarded values");
    assert_eq!(report["run"]["failures"], serde_json::json!([]));
}

#[test]
fn a_short_live_run_decides_every_epoch_on_chain_with_checked_proofs() {
    let node = LocalNode::start_own();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Five agents, the fewest `--help` allows: the ecosystem account (the emission's recipient)
    // is then among the ten largest holders, and a protocol address is no holder.
    let (out, report) = live(d, &node, 5, 3, None, None);
    check_against_the_chain(d, &node, &report, 5, 3);
    let totals = &out["totals"];
    assert_eq!((totals["decisions"].as_u64(), totals["keeper_restarts"].as_u64()), (Some(3), Some(0)));
    // The simulator ran beside it on the same scenario and seed, and the report compares them.
    assert_eq!(report["simulator"]["epochs"].as_array().map(Vec::len), Some(3));
    let kpis = out["fidelity"]["kpis"].as_array().expect("per KPI");
    assert_eq!(kpis.len(), 8);
    // Staking and liquidity follow the same rules on both sides: within rounding of each other.
    for k in kpis.iter().filter(|k| k["name"] == "staking_ratio" || k["name"] == "liquidity_depth") {
        assert!(k["mean_abs"].as_f64() <= k["quantum"].as_f64().map(|q| 2.0 * q), "{k}");
    }
    for name in ["report.md", "trajectories.svg", "keeper.toml", "deployment.json", "model.json"] {
        assert!(d.join("run").join(name).is_file(), "{name} written");
    }
    let svg = std::fs::read_to_string(d.join("run/trajectories.svg")).expect("svg");
    assert!(svg.contains("staking ratio") && svg.contains("simulator"), "the plot has its panels and legend");
    // The keeper's config names its key's variable, never the key.
    let toml = std::fs::read_to_string(d.join("run/keeper.toml")).expect("toml");
    assert!(toml.contains("env = \"ZKPOLICY_LIVE_KEEPER_KEY\""), "{toml}");
    assert!(!toml.split(|c: char| !c.is_ascii_hexdigit()).any(|word| word.len() >= 64), "no key in the config: {toml}");

    // A second run into the same directory is refused before anything is sent.
    let again =
        zkpolicy(d).args(["live", "--epochs", "1", "--out-dir", "run", "--json"]).env("ZKPOLICY_RPC_URL", &node.url).assert().code(2);
    let error = stdout_json(&again);
    assert!(error["error"]["message"].as_str().is_some_and(|e| e.contains("holds a previous run")), "{error}");
}

/// A hostile epoch: every attacker acts (the snapshot taken inside a pump and dump, an empty
/// holder set first in the epoch, the tick sandwiched or surrounded by a stake and an unstake,
/// a stale execution, wash trades), and the keeper dies mid-submission. Every epoch is still
/// decided by a checked proof, no honest transaction reverts, and every attacker loses.
#[test]
fn a_keeper_killed_mid_submission_among_attackers_loses_no_epoch_and_no_attacker_gains() {
    let node = LocalNode::start_own();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Live epoch 1: the keeper dies by SIGKILL right after broadcasting its submission.
    let (out, report) = live(d, &node, 12, 3, Some("1:after_send_submit"), Some("all"));
    check_against_the_chain(d, &node, &report, 12, 3);
    let restarts: Vec<u64> =
        report["run"]["epochs"].as_array().expect("epochs").iter().map(|e| e["keeper_restarts"].as_u64().expect("n")).collect();
    assert_eq!(restarts, [0, 1, 0], "the killed keeper was restarted once, in epoch 1");
    assert_eq!(out["totals"]["decisions"], 3);
    let log = std::fs::read_to_string(d.join("run/keeper.log")).expect("keeper.log");
    assert!(log.contains("failpoint after_send_submit"), "the failpoint fired");

    let attackers = out["attackers"].as_array().expect("the attackers' ledgers");
    let names: Vec<&str> = attackers.iter().map(|a| a["attack"].as_str().expect("name")).collect();
    assert_eq!(names, ["pump-snapshot", "empty-holders", "tick-sandwich", "jit-stake", "stale-decision", "wash-trading"]);
    for a in attackers {
        assert!(a["transactions"].as_u64() > Some(0), "every attacker acted: {a}");
        assert!(a["pnl"].as_f64().expect("P&L") <= 0.0, "no attacker gains, gas included: {a}");
    }
    let by_name = |name: &str| attackers.iter().find(|a| a["attack"] == name).expect("present");
    // The snapshot the pump took is the honest one within a quantum; the empty set, and the
    // stale execution, are refused by name.
    assert!(by_name("pump-snapshot")["kpi_moved_quanta"].as_i64() <= Some(1), "{}", by_name("pump-snapshot"));
    assert!(by_name("empty-holders")["refused"].as_object().is_some_and(|r| r.contains_key("NotBetter")), "{}", by_name("empty-holders"));
    assert!(
        by_name("stale-decision")["refused"].as_object().is_some_and(|r| r.contains_key("NothingQueued")),
        "{}",
        by_name("stale-decision")
    );
    assert_eq!(out["failures"], serde_json::json!([]));
}
