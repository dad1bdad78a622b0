//! Adversaries on a real node: aliased outputs and KPIs, front-running, and epochs decided out of turn, all refused.

use std::path::Path;

use alloy::primitives::{Address, I256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolConstructor};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::Value;
use zkpolicy_chain::{Client, Deployment};
use zkpolicy_contracts::controller::{self, KpiSourceStub, PolicyController};
use zkpolicy_lab::sim::deployment_guardrails;
use zkpolicy_verifier::compile::Compiled;

use super::{guard, initial, ints, write_config_with, write_kpis, CLOCK, HOUR, NEVER};
use crate::common::node::{LocalNode, DEV_KEYS};
use crate::common::{json_run, models, stdout_json, zkpolicy};

/// The field modulus r as an int256, the offset of every alias.
fn r() -> I256 {
    I256::from_raw(U256::from_str_radix("30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001", 16).expect("r"))
}

/// Sends `submitAdjustment` from `client`'s account and returns the controller's verdict:
/// `Ok` when mined, otherwise the named reason.
fn raw_submit(client: &Client, controller: Address, epoch: u64, outputs: Vec<I256>, proof: &[u8]) -> Result<(), String> {
    let call = PolicyController::submitAdjustmentCall { epoch, outputs, proof: proof.to_vec().into() };
    client.send("adjustment", controller, call.abi_encode()).map(|_| ()).map_err(|e| e.to_string())
}

/// Integers as the int256 words the controller takes.
fn words(v: &[i64]) -> Vec<I256> {
    v.iter().map(|x| I256::try_from(*x).expect("fits")).collect()
}

/// The proof file `name` in `d`, its proven outputs and its proof bytes.
fn read_proof(d: &Path, name: &str) -> (Value, Vec<i64>, Vec<u8>) {
    let p: Value = serde_json::from_slice(&std::fs::read(d.join(name)).expect("proof")).expect("json");
    let y: Vec<i64> = p["outputs"].as_array().expect("outputs").iter().map(|o| o["value"].as_i64().expect("int")).collect();
    let proof = hex::decode(p["proof"].as_str().expect("hex").trim_start_matches("0x")).expect("hex");
    (p, y, proof)
}

/// Every alias of every output `y1` proven by `proof1`, and random int256 outputs, sent by
/// `attacker` to `controller`: each refused by the range check, by name.
fn aliased_and_random_outputs_are_refused(
    attacker: &Client,
    controller: Address,
    model: &zkpolicy_model::Model,
    y1: &[i64],
    proof1: &[u8],
) {
    for (j, spec) in model.file().outputs.iter().enumerate() {
        let y = I256::try_from(y1[j]).expect("fits");
        let lo = I256::try_from(spec.min).expect("fits");
        let hi = I256::try_from(spec.max).expect("fits");
        for alias in [y - r(), y + r(), y - r() - r(), I256::MIN, lo - I256::ONE, hi + I256::ONE] {
            let mut claimed = words(y1);
            claimed[j] = alias;
            let refused = raw_submit(attacker, controller, 1, claimed, proof1).expect_err("an alias was accepted");
            assert!(refused.contains(&format!("OutputOutOfRange: output {j} is {alias},")), "output {j}, {alias}: {refused}");
        }
    }
    // Random int256 outputs: all refused by the range check (a random word is in range with
    // probability ~2^-250), none reaches the verifier.
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    for _ in 0..40 {
        let outputs: Vec<I256> = (0..4).map(|_| I256::from_raw(U256::from_limbs(rng.gen::<[u64; 4]>()))).collect();
        let refused = raw_submit(attacker, controller, 1, outputs, proof1).expect_err("random outputs accepted");
        assert!(refused.contains("OutputOutOfRange: output 0 is"), "{refused}");
    }
}

/// A second controller, deployed by `attacker`, that trusts `verifier` but reads a KPI
/// source the attacker serves: the source and the controller.
fn controller_on_a_hostile_source(attacker: &Client, verifier: Address) -> (Address, Address) {
    let contracts = controller::committed_contracts().expect("the committed artifacts");
    let source = attacker.deploy("stub source", contracts["KpiSourceStub"].bytecode.clone()).expect("deploys").address.expect("address");
    let rails = deployment_guardrails();
    let mut code = Compiled::parse_artifact(controller::CONTROLLER_ARTIFACT).expect("artifact").bytecode;
    code.extend(
        PolicyController::constructorCall {
            governance_: attacker.from().expect("account"),
            guardian_: attacker.from().expect("account"),
            verifier_: verifier,
            kpiSource_: source,
            mode_: PolicyController::Mode::Autonomous,
            initial: rails.iter().map(|g| I256::try_from(g.initial).expect("fits")).collect(),
            guardrails_: rails.iter().map(zkpolicy_prover::evm::contract_rail).collect(),
            timing_: PolicyController::Timing { maxSnapshotAge: NEVER, adjustmentDelay: 0 },
            governanceDelay_: 86_400,
            genesis_: 0,
            epochLength_: NEVER,
        }
        .abi_encode(),
    );
    let second = attacker.deploy("controller", code).expect("deploys").address.expect("address");
    (source, second)
}

/// The promise "only proven adjustments" on a real node, against anyone who watches the
/// mempool: every alias of every output and of every KPI (through a hostile KPI source) is
/// refused by name; a front-runner can only submit the proven decision; nobody decides an
/// epoch out of turn; random int256 outputs never pass.
#[test]
fn aliases_front_running_and_epoch_order_are_refused_on_a_local_node() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config_with(d, "config.json", "autonomous", HOUR);
    let operator = |args: &[&str]| {
        let mut cmd = zkpolicy(d);
        cmd.args(args).args(["--rpc", &node.url, "--json"]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0]);
        json_run(&mut cmd)
    };
    operator(&["deploy", "--config", "config.json", "--out", "deployment.json", "--allow-dev-srs"]).success();
    let deployment = Deployment::load(&d.join("deployment.json")).expect("record");
    write_kpis(d, "k1.json", 0.35, -0.15);
    write_kpis(d, "k2.json", 0.62, 0.20);
    operator(&["commit-kpis", "--deployment", "deployment.json", "--kpis", "k1.json", "--epoch", "1"]).success();
    zkpolicy(d).args(["prove", "--kpis", "k1.json", "--epoch", "1", "--out", "p1.json"]).assert().success();
    let (p1, y1, proof1) = read_proof(d, "p1.json");

    let attacker = Client::connect(&node.url, Some(DEV_KEYS[2].parse::<PrivateKeySigner>().expect("key"))).expect("node");
    let model = zkpolicy_model::Model::load(models().join("tokenomics-policy.json")).expect("model");
    aliased_and_random_outputs_are_refused(&attacker, deployment.controller, &model, &y1, &proof1);

    // A hostile KPI source serving aliases of the committed KPIs, behind a second controller
    // that trusts the same verifier.
    let (source, second) = controller_on_a_hostile_source(&attacker, deployment.verifier);
    let committed: Vec<i64> = p1["kpis"].as_array().expect("kpis").iter().map(|k| k["quantized"].as_i64().expect("int")).collect();
    for (i, range) in model.input_ranges().iter().enumerate() {
        let k = I256::try_from(committed[i]).expect("fits");
        for alias in [k - r(), k + r(), I256::try_from(range.hi + 1).expect("fits")] {
            let mut served = words(&committed);
            served[i] = alias;
            attacker.send("serve", source, KpiSourceStub::setCall { kpis_: served }.abi_encode()).expect("served");
            let refused = raw_submit(&attacker, second, 1, words(&y1), &proof1).expect_err("an aliased KPI was accepted");
            assert!(refused.contains(&format!("KpiOutOfRange: KPI {i} is {alias},")), "KPI {i}, {alias}: {refused}");
        }
    }

    // During epoch 1, epoch 2's snapshot exists too; nobody can decide epoch 2 early.
    operator(&["commit-kpis", "--deployment", "deployment.json", "--kpis", "k2.json", "--epoch", "2"]).success();
    zkpolicy(d).args(["prove", "--kpis", "k2.json", "--epoch", "2", "--out", "p2.json"]).assert().success();
    let (_, y2, proof2) = read_proof(d, "p2.json");
    let early = raw_submit(&attacker, deployment.controller, 2, words(&y2), &proof2).expect_err("epoch 2 decided during epoch 1");
    assert!(early.contains("NotCurrentEpoch: this is for epoch 2, the controller decides epoch 1 now"), "{early}");

    // The front-runner submits the operator's proof first: the decision is the proven one,
    // and the operator's own submission is refused by name.
    raw_submit(&attacker, deployment.controller, 1, words(&y1), &proof1).expect("the front-runner's copy is valid");
    operator(&["submit", "--deployment", "deployment.json", "--proof", "p1.json"])
        .code(1)
        .stderr(predicates::str::contains("EpochDecided"));
    let status = |d: &Path| {
        stdout_json(&zkpolicy(d).args(["status", "--deployment", "deployment.json", "--rpc", &node.url, "--json"]).assert().success())
    };
    let after1 = guard(&initial(), &y1);
    assert_eq!(ints(&status(d)["status"]["parameters"]), after1);

    // In epoch 2, epoch 1 is closed for good and epoch 2 opens.
    node.advance(HOUR);
    let late = raw_submit(&attacker, deployment.controller, 1, words(&y1), &proof1).expect_err("epoch 1 decided in epoch 2");
    assert!(late.contains("NotCurrentEpoch: this is for epoch 1, the controller decides epoch 2 now"), "{late}");
    operator(&["submit", "--deployment", "deployment.json", "--proof", "p2.json"]).success();
    assert_eq!(ints(&status(d)["status"]["parameters"]), guard(&after1, &y2));
}
