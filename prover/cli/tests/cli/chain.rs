//! The operator's path on a real JSON-RPC node: deploy, commit KPIs, prove,
//! submit, read the parameters back; and every chain command's failure paths.

use std::path::Path;
use std::sync::Mutex;

use alloy::primitives::{Address, I256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolConstructor};
use predicates::prelude::PredicateBooleanExt;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};
use zkpolicy_chain::{Client, Deployment};
use zkpolicy_contracts::controller::{self, KpiSourceStub, PolicyController};
use zkpolicy_lab::sim::{self, deployment_guardrails};
use zkpolicy_verifier::compile::{self, Compiled};

use crate::common::node::{LocalNode, DEV_KEYS};
use crate::common::{edit_json, json_run, models, stdout_json, zkpolicy};

/// Tests on one shared node whose epochs must advance hold this lock, so no other test moves
/// the node's clock under them. The others use epochs (and snapshot ages) far longer than
/// any advance, so the clock moving never changes their current epoch. Every test that
/// sends from account #0 holds it as well, so no two of them race for its nonce.
pub(crate) static CLOCK: Mutex<()> = Mutex::new(());

/// Epochs as long as the clock never reaches, for tests that never advance it.
const NEVER: u64 = 100_000_000;
/// The epoch of tests that advance the clock, holding [`CLOCK`].
const HOUR: u64 = 3_600;

/// The bundled config with the guardrails of `deployment_guardrails()` and one epoch for ever.
fn write_config(dir: &Path) {
    write_config_with(dir, "config.json", "autonomous", NEVER);
}

fn write_config_with(dir: &Path, name: &str, mode: &str, epoch_length: u64) {
    let config = json!({
        "mode": mode,
        "governance_delay": 86_400,
        "timing": {"epoch_length": epoch_length, "max_snapshot_age": 2 * epoch_length, "adjustment_delay": 0},
        "parameters": deployment_guardrails(),
    });
    std::fs::write(dir.join(name), serde_json::to_vec_pretty(&config).expect("json")).expect("write");
}

/// `PolicyController.guard`'s native twin (the simulator's), with the test config's rails.
fn guard(current: &[i64], deltas: &[i64]) -> Vec<i64> {
    sim::guard(current, deltas, &deployment_guardrails()).expect("guards").values
}

fn initial() -> Vec<i64> {
    deployment_guardrails().iter().map(|r| r.initial).collect()
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array().expect("array").iter().map(|x| x.as_i64().expect("integer")).collect()
}

fn write_kpis(dir: &Path, name: &str, staking: f64, price: f64) {
    let mut v: Value = serde_json::from_slice(&std::fs::read(models().join("kpis-sample.json")).expect("sample")).expect("json");
    v["kpis"]["staking_ratio"] = json!(staking);
    v["kpis"]["price_vs_target"] = json!(price);
    std::fs::write(dir.join(name), serde_json::to_vec(&v).expect("json")).expect("write");
}

#[test]
fn deploy_commit_prove_submit_and_read_back_on_a_local_node() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config_with(d, "config.json", "autonomous", HOUR);
    let chain = |args: &[&str]| {
        let mut cmd = zkpolicy(d);
        cmd.args(args).args(["--rpc", &node.url, "--json"]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0]);
        json_run(&mut cmd)
    };

    // The development SRS is refused without --allow-dev-srs, and nothing is written.
    chain(&["deploy", "--config", "config.json", "--out", "deployment.json"])
        .code(2)
        .stderr(predicates::str::contains("INSECURE development SRS").and(predicates::str::contains("--allow-dev-srs")));
    assert!(!d.join("deployment.json").exists());

    let deployed = stdout_json(&chain(&["deploy", "--config", "config.json", "--out", "deployment.json", "--allow-dev-srs"]).success());
    let record: Value = serde_json::from_slice(&std::fs::read(d.join("deployment.json")).expect("record")).expect("json");
    assert_eq!(deployed["deployment"], record);
    assert_eq!(deployed["weights"], "fixed", "{deployed}");
    assert!(record.get("private").is_none(), "a fixed-weight record keeps no card: {record}");
    assert_eq!(record["chain_id"], 31_337);
    assert_eq!(record["insecure_dev_srs"], true);
    assert!(record["gas"]["verifier"].as_u64().expect("gas") > 1_000_000);

    // Two epochs of KPIs on chain, proven as a batch.
    std::fs::create_dir(d.join("snapshots")).expect("mkdir");
    write_kpis(d, "snapshots/a.json", 0.30, -0.20);
    write_kpis(d, "snapshots/b.json", 0.70, 0.25);
    // A commitment cannot be replaced: an epoch the controller will never decide, past or
    // far ahead (issue 30's off-by-one), is refused before anything is sent.
    for (epoch, why) in [("0", "epoch 0 can no longer be decided"), ("999999", "more than one epoch ahead")] {
        chain(&["commit-kpis", "--deployment", "deployment.json", "--kpis", "snapshots/a.json", "--epoch", epoch])
            .code(2)
            .stderr(predicates::str::contains(why));
    }
    for (epoch, file) in [("1", "snapshots/a.json"), ("2", "snapshots/b.json")] {
        let committed =
            stdout_json(&chain(&["commit-kpis", "--deployment", "deployment.json", "--kpis", file, "--epoch", epoch]).success());
        assert_eq!(committed["epoch"].to_string(), epoch);
    }
    zkpolicy(d).args(["prove", "--kpis", "snapshots", "--epoch", "1", "--out", "proofs", "--json"]).assert().success();

    // A tampered proof is rejected by the on-chain verifier: exit 1, named.
    edit_json(d, "proofs/a.proof.json", "tampered.json", |v| {
        let proof = v["proof"].as_str().expect("hex").to_string();
        let flipped = if &proof[10..11] == "0" { "1" } else { "0" };
        v["proof"] = json!(format!("{}{}{}", &proof[..10], flipped, &proof[11..]));
    });
    chain(&["submit", "--deployment", "deployment.json", "--proof", "tampered.json"])
        .code(1)
        .stderr(predicates::str::contains("InvalidProof"));
    // A proof made for another model never reaches the chain: exit 1.
    edit_json(d, "proofs/a.proof.json", "other-model.json", |v| v["model_commitment"] = json!(format!("0x{}", "11".repeat(32))));
    chain(&["submit", "--deployment", "deployment.json", "--proof", "other-model.json"])
        .code(1)
        .stderr(predicates::str::contains("the proof is for model"));

    // Epoch 1, signed from a keystore this time: applied values are the guarded proposal.
    let keystore_dir = d.join("keystore");
    std::fs::create_dir(&keystore_dir).expect("mkdir");
    let key = hex::decode(DEV_KEYS[0].trim_start_matches("0x")).expect("hex");
    PrivateKeySigner::encrypt_keystore(&keystore_dir, &mut ChaCha20Rng::seed_from_u64(7), key, "correct horse", Some("deployer.json"))
        .expect("keystore");
    let mut current = initial();
    let submitted = zkpolicy(d)
        .args(["submit", "--deployment", "deployment.json", "--proof", "proofs/a.proof.json", "--keystore", "keystore/deployer.json"])
        .args(["--rpc", &node.url, "--json"])
        .env("ZKPOLICY_KEYSTORE_PASSWORD", "correct horse")
        .assert()
        .success();
    let result = &stdout_json(&submitted)["result"];
    let proposed = ints(&result["proposed"]);
    let proof_outputs: Value = serde_json::from_slice(&std::fs::read(d.join("proofs/a.proof.json")).expect("proof")).expect("json");
    let proven: Vec<i64> =
        proof_outputs["outputs"].as_array().expect("outputs").iter().map(|o| o["value"].as_i64().expect("int")).collect();
    assert_eq!(proposed, proven);
    current = guard(&current, &proposed);
    assert_eq!(ints(&result["applied"]), current);
    assert!(result["gas"].as_u64().expect("gas") > 300_000);

    // The same epoch again is refused by the controller, by name; so is the next epoch, early.
    chain(&["submit", "--deployment", "deployment.json", "--proof", "proofs/a.proof.json"])
        .code(1)
        .stderr(predicates::str::contains("EpochDecided"));
    chain(&["submit", "--deployment", "deployment.json", "--proof", "proofs/b.proof.json"])
        .code(1)
        .stderr(predicates::str::contains("this proof is for epoch 2, but the controller decides only the current epoch, 1"));

    // Epoch 2, then the parameters read back from the chain equal the native guard's.
    node.advance(HOUR);
    let result = stdout_json(&chain(&["submit", "--deployment", "deployment.json", "--proof", "proofs/b.proof.json"]).success());
    current = guard(&current, &ints(&result["result"]["proposed"]));
    let status =
        stdout_json(&zkpolicy(d).args(["status", "--deployment", "deployment.json", "--rpc", &node.url, "--json"]).assert().success());
    assert_eq!(ints(&status["status"]["parameters"]), current);
    assert_eq!(status["status"]["last_epoch"], 2);
    assert_eq!(status["status"]["current_epoch"], 2);
    assert_eq!(status["status"]["epoch_length"], HOUR);
    assert_eq!(status["status"]["model_commitment"], record["model_commitment"]);
    assert_ne!(current, initial(), "the policy moved the parameters");

    // A proof on KPIs other than those committed for its epoch is named before sending.
    node.advance(HOUR);
    write_kpis(d, "snapshots/c.json", 0.55, 0.0);
    chain(&["commit-kpis", "--deployment", "deployment.json", "--kpis", "snapshots/c.json", "--epoch", "3"]).success();
    zkpolicy(d).args(["prove", "--kpis", "snapshots/a.json", "--epoch", "3", "--out", "c3.json"]).assert().success();
    chain(&["submit", "--deployment", "deployment.json", "--proof", "c3.json"])
        .code(1)
        .stderr(predicates::str::contains("other KPIs than those committed for epoch 3"));
}

#[test]
fn timelocked_mode_queues_the_adjustment_and_execute_applies_it() {
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config_with(d, "timelocked.json", "timelocked", NEVER);
    let chain = |args: &[&str]| {
        let mut cmd = zkpolicy(d);
        cmd.args(args).args(["--rpc", &node.url, "--json"]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[1]);
        json_run(&mut cmd)
    };
    chain(&["deploy", "--config", "timelocked.json", "--out", "deployment.json", "--allow-dev-srs"]).success();
    let sample = models().join("kpis-sample.json");
    let sample = sample.to_str().expect("utf-8");
    chain(&["commit-kpis", "--deployment", "deployment.json", "--kpis", sample, "--epoch", "1"]).success();
    zkpolicy(d).args(["prove", "--kpis", sample, "--epoch", "1", "--out", "p1.json"]).assert().success();

    let initial = initial();
    let submitted = stdout_json(&chain(&["submit", "--deployment", "deployment.json", "--proof", "p1.json"]).success());
    let result = &submitted["result"];
    assert_eq!(result["mode"], "timelocked");
    assert!(result["applied"].is_null() && result["queued_until"].is_u64(), "{result}");
    let status = |d: &Path| {
        stdout_json(&zkpolicy(d).args(["status", "--deployment", "deployment.json", "--rpc", &node.url, "--json"]).assert().success())
    };
    let queued = status(d);
    assert_eq!(ints(&queued["status"]["parameters"]), initial, "queued, not applied");
    // status shows the queued decision, the snapshot, the guardrails and the roles.
    let s = &queued["status"];
    assert_eq!(s["queued"]["epoch"], 1, "{s}");
    assert_eq!(ints(&s["queued"]["values"]), guard(&initial, &ints(&result["proposed"])), "{s}");
    assert_eq!(s["queued"]["eta"], result["queued_until"], "{s}");
    assert_eq!(s["queued"]["deadline"], result["queued_deadline"], "{s}");
    assert_eq!(s["queued"]["deadline"].as_u64(), result["queued_until"].as_u64().map(|eta| eta + NEVER), "one epoch after its delay: {s}");
    assert_eq!(s["queued"]["expired"], false, "{s}");
    assert!(s["snapshot_posted_at"].is_u64() && s["snapshot_fresh"] == true, "{s}");
    assert_eq!(s["guardrails"].as_array().expect("rails").len(), initial.len(), "{s}");
    let operator = DEV_KEYS[1].parse::<PrivateKeySigner>().expect("key").address().to_checksum(None);
    assert_eq!(s["governance"], operator.as_str(), "{s}");
    assert_eq!(s["guardian"], operator.as_str(), "{s}");

    let executed = stdout_json(&chain(&["execute", "--deployment", "deployment.json", "--epoch", "1"]).success());
    let expected = guard(&initial, &ints(&result["proposed"]));
    assert_eq!(ints(&executed["applied"]), expected);
    let after = status(d);
    assert_eq!(ints(&after["status"]["parameters"]), expected);
    assert!(after["status"]["queued"].is_null(), "{after}");
    chain(&["execute", "--deployment", "deployment.json", "--epoch", "1"]).code(1).stderr(predicates::str::contains("NothingQueued"));
    // The text form names the same things.
    let text = zkpolicy(d).args(["status", "--deployment", "deployment.json", "--rpc", &node.url]).assert().success();
    let text = String::from_utf8_lossy(&text.get_output().stdout).to_string();
    assert!(
        text.contains("KPI snapshot of epoch 1: posted") && text.contains("guardrail [min, max]") && text.contains("governance 0x"),
        "{text}"
    );
}

#[test]
fn chain_commands_name_an_unreachable_node_a_missing_key_and_bad_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config(d);
    // Nothing listens there; the URL carries credentials, a key in the path and one in the query.
    let dead = "http://user:hunter2@127.0.0.1:1/v3/APIKEY123?key=SECRET456";
    let no_secret = || {
        predicates::str::contains("hunter2")
            .not()
            .and(predicates::str::contains("APIKEY123").not())
            .and(predicates::str::contains("SECRET456").not())
    };
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

    // No key: the variable is named. A malformed key: its value is never echoed.
    zkpolicy(d)
        .args(commands[0])
        .args(["--rpc", dead])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("ZKPOLICY_PRIVATE_KEY is not set"));
    let secret = "0xdeadbeefnotakey1234";
    zkpolicy(d)
        .args(commands[0])
        .args(["--rpc", dead])
        .env("ZKPOLICY_PRIVATE_KEY", secret)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("does not hold a 32-byte hex private key").and(predicates::str::contains(secret).not()));
    zkpolicy(d)
        .args(commands[0])
        .args(["--rpc", dead, "--keystore", "nope.json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nope.json: no such keystore file"));

    // Bad files name the file and the field.
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
    let p1: Value = serde_json::from_slice(&std::fs::read(d.join("p1.json")).expect("proof")).expect("json");
    let y1: Vec<i64> = p1["outputs"].as_array().expect("outputs").iter().map(|o| o["value"].as_i64().expect("int")).collect();
    let proof1 = hex::decode(p1["proof"].as_str().expect("hex").trim_start_matches("0x")).expect("hex");
    let words = |v: &[i64]| v.iter().map(|x| I256::try_from(*x).expect("fits")).collect::<Vec<_>>();

    let attacker = Client::connect(&node.url, Some(DEV_KEYS[2].parse::<PrivateKeySigner>().expect("key"))).expect("node");
    let model = zkpolicy_model::Model::load(models().join("tokenomics-policy.json")).expect("model");
    for (j, spec) in model.file().outputs.iter().enumerate() {
        let y = I256::try_from(y1[j]).expect("fits");
        let lo = I256::try_from(spec.min).expect("fits");
        let hi = I256::try_from(spec.max).expect("fits");
        for alias in [y - r(), y + r(), y - r() - r(), I256::MIN, lo - I256::ONE, hi + I256::ONE] {
            let mut claimed = words(&y1);
            claimed[j] = alias;
            let refused = raw_submit(&attacker, deployment.controller, 1, claimed, &proof1).expect_err("an alias was accepted");
            assert!(refused.contains(&format!("OutputOutOfRange: output {j} is {alias},")), "output {j}, {alias}: {refused}");
        }
    }
    // Random int256 outputs: all refused by the range check (a random word is in range with
    // probability ~2^-250), none reaches the verifier.
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    for _ in 0..40 {
        let outputs: Vec<I256> = (0..4).map(|_| I256::from_raw(U256::from_limbs(rng.gen::<[u64; 4]>()))).collect();
        let refused = raw_submit(&attacker, deployment.controller, 1, outputs, &proof1).expect_err("random outputs accepted");
        assert!(refused.contains("OutputOutOfRange: output 0 is"), "{refused}");
    }

    // A hostile KPI source serving aliases of the committed KPIs, behind a second controller
    // that trusts the same verifier.
    let contracts = controller::compile_contracts(compile::bundled_dir()).expect("contracts compile");
    let source = attacker.deploy("stub source", contracts["KpiSourceStub"].bytecode.clone()).expect("deploys").address.expect("address");
    let rails = deployment_guardrails();
    let mut code = Compiled::parse_artifact(controller::CONTROLLER_ARTIFACT).expect("artifact").bytecode;
    code.extend(
        PolicyController::constructorCall {
            governance_: attacker.from().expect("account"),
            guardian_: attacker.from().expect("account"),
            verifier_: deployment.verifier,
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
    let p2: Value = serde_json::from_slice(&std::fs::read(d.join("p2.json")).expect("proof")).expect("json");
    let y2: Vec<i64> = p2["outputs"].as_array().expect("outputs").iter().map(|o| o["value"].as_i64().expect("int")).collect();
    let proof2 = hex::decode(p2["proof"].as_str().expect("hex").trim_start_matches("0x")).expect("hex");
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

/// A deployer who holds only the exported verifying key deploys the verifier; `audit` with
/// the model revealed later finds the verifier on chain to be the one the model generates,
/// and every commitment to name it. With one weight changed: each difference named, exit 1.
#[test]
fn a_deployment_from_the_exported_key_audits_against_the_model_and_names_a_changed_weight() {
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config(d);
    zkpolicy(d).args(["export-vk", "--out", "policy.vk.json"]).assert().success();
    let deployer = tempfile::tempdir().expect("tempdir");
    std::fs::copy(d.join("policy.vk.json"), deployer.path().join("policy.vk.json")).expect("copy");
    std::fs::copy(d.join("config.json"), deployer.path().join("config.json")).expect("copy");
    zkpolicy(deployer.path())
        .args([
            "deploy",
            "--vk",
            "policy.vk.json",
            "--config",
            "config.json",
            "--out",
            "deployment.json",
            "--allow-dev-srs",
            "--rpc",
            &node.url,
        ])
        .env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[1])
        .assert()
        .success();
    std::fs::copy(deployer.path().join("deployment.json"), d.join("deployment.json")).expect("copy");
    let audit = |model: &Path| {
        zkpolicy(d).args(["audit", "--deployment", "deployment.json", "--json", "--rpc", &node.url, "--model"]).arg(model).assert()
    };
    let ok = stdout_json(&audit(&models().join("tokenomics-policy.json")).success());
    assert_eq!(ok["matches"], true, "{ok}");
    let by_key = stdout_json(
        &zkpolicy(deployer.path())
            .args(["audit", "--vk", "policy.vk.json", "--deployment", "deployment.json", "--json", "--rpc", &node.url])
            .assert()
            .success(),
    );
    assert_eq!(by_key["matches"], true, "{by_key}");
    // One weight changed: another commitment, another verifying key, other bytecode.
    edit_json(d, &models().join("tokenomics-policy.json").display().to_string(), "changed.json", |v| {
        let w = v["layers"][0]["weights"][0][0].as_i64().expect("weight");
        v["layers"][0]["weights"][0][0] = json!(if w < 100 { w + 1 } else { w - 1 });
    });
    let changed = stdout_json(&audit(&d.join("changed.json")).code(1));
    let differences: Vec<String> =
        changed["differences"].as_array().expect("array").iter().map(|x| x.as_str().expect("text").to_string()).collect();
    assert_eq!(differences.len(), 3, "{differences:?}");
    assert!(differences[0].contains("the deployment record names model commitment"), "{differences:?}");
    assert!(differences[1].contains("the controller's verifier serves model commitment"), "{differences:?}");
    assert!(differences[2].contains("the verifier's code on chain") && differences[2].contains("differs"), "{differences:?}");
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

/// The guardian pauses and governance unpauses; a governed change waits out the delay
/// (NotYet before it), then applies; a cancelled change cannot be executed; another
/// account is refused by name.
#[test]
fn pause_unpause_and_timelocked_governance_on_a_local_node() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_config(d);
    let chain = |args: &[&str], key: &str| {
        let mut cmd = zkpolicy(d);
        cmd.args(args).args(["--deployment", "deployment.json", "--rpc", &node.url, "--json"]).env("ZKPOLICY_PRIVATE_KEY", key);
        json_run(&mut cmd)
    };
    let mut deploy = zkpolicy(d);
    deploy.args(["deploy", "--config", "config.json", "--out", "deployment.json", "--allow-dev-srs", "--rpc", &node.url]);
    deploy.env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0]).assert().success();
    let status = || stdout_json(&chain(&["status"], DEV_KEYS[0]).success())["status"].clone();

    chain(&["pause"], DEV_KEYS[0]).success();
    assert_eq!(status()["paused"], true);
    chain(&["unpause"], DEV_KEYS[1]).code(1).stderr(predicates::str::contains("NotGovernance"));
    chain(&["unpause"], DEV_KEYS[0]).success();
    assert_eq!(status()["paused"], false);

    let rail = ["--guardrail", "0,100,900,50"];
    let scheduled = stdout_json(&chain(&[&["govern", "schedule"], &rail[..]].concat(), DEV_KEYS[0]).success());
    let eta = scheduled["result"]["eta"].as_u64().expect("eta");
    assert_eq!(eta, status()["chain_time"].as_u64().expect("time") + 86_400, "{scheduled}");
    chain(&[&["govern", "execute"], &rail[..]].concat(), DEV_KEYS[0]).code(1).stderr(predicates::str::contains("NotYet"));
    assert_eq!(
        status()["guardrails"][0],
        json!({"min": 0, "max": 2000, "max_step": 25, "dead_band": 0, "max_change_bps": 0, "window": 0, "anchor": null, "group": 0})
    );
    node.advance(86_401);
    let executed = stdout_json(&chain(&[&["govern", "execute"], &rail[..]].concat(), DEV_KEYS[0]).success());
    assert_eq!(executed["result"]["id"], scheduled["result"]["id"]);
    assert_eq!(
        status()["guardrails"][0],
        json!({"min": 100, "max": 900, "max_step": 50, "dead_band": 0, "max_change_bps": 0, "window": 0, "anchor": null, "group": 0})
    );

    // A dead band and a window cap, governed the same way; six numbers name neither.
    let capped = ["--guardrail", "1,0,2000,60,5,1000,172800"];
    let scheduled = stdout_json(&chain(&[&["govern", "schedule"], &capped[..]].concat(), DEV_KEYS[0]).success());
    assert!(scheduled["change"].as_str().expect("change").contains("steps under 5 dropped, at most 1000 bps of change per 172800 s"));
    node.advance(86_401);
    chain(&[&["govern", "execute"], &capped[..]].concat(), DEV_KEYS[0]).success();
    let rail = &status()["guardrails"][1];
    assert_eq!(
        (rail["dead_band"].clone(), rail["max_change_bps"].clone(), rail["window"].clone()),
        (json!(5), json!(1000), json!(172_800))
    );
    assert!(rail["anchor"].is_null(), "no window before the first decision: {rail}");
    chain(&["govern", "schedule", "--guardrail", "1,0,2000,60,5,1000"], DEV_KEYS[0])
        .code(2)
        .stderr(predicates::str::contains("(4, 5 or 7 integers), got 6"));

    // A group: the burn rate moves with group 3 or not at all.
    let grouped = ["--guardrail", "2,0,1000,25", "--group", "3"];
    let scheduled = stdout_json(&chain(&[&["govern", "schedule"], &grouped[..]].concat(), DEV_KEYS[0]).success());
    assert!(scheduled["change"].as_str().expect("change").ends_with("moving with group 3 or not at all"), "{scheduled}");
    node.advance(86_401);
    chain(&[&["govern", "execute"], &grouped[..]].concat(), DEV_KEYS[0]).success();
    assert_eq!(status()["guardrails"][2]["group"], 3);
    chain(&["govern", "schedule", "--mode", "advisory", "--group", "1"], DEV_KEYS[0])
        .code(2)
        .stderr(predicates::str::contains("--group belongs to a rail"));
    chain(&["govern", "schedule", "--guardrail", "2,0,1000,25", "--group", "256"], DEV_KEYS[0]).code(2);

    chain(&["govern", "schedule", "--mode", "timelocked"], DEV_KEYS[0]).success();
    chain(&["govern", "cancel", "--mode", "timelocked"], DEV_KEYS[0]).success();
    node.advance(86_401);
    chain(&["govern", "execute", "--mode", "timelocked"], DEV_KEYS[0]).code(1).stderr(predicates::str::contains("NotScheduled"));
    assert_eq!(status()["mode"], "autonomous");
    chain(&["govern", "schedule", "--mode", "advisory"], DEV_KEYS[1]).code(1).stderr(predicates::str::contains("NotGovernance"));
    // Exactly one change, named.
    chain(&["govern", "schedule"], DEV_KEYS[0]).code(2);
    chain(&["govern", "schedule", "--mode", "advisory", "--guardian", "0x0000000000000000000000000000000000000001"], DEV_KEYS[0]).code(2);
}

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

/// KPIs nobody posts: the bundled on-chain config deploys the economy and its KPI source,
/// whose averages deployment seeds in epoch 1 (no KPIs: a snapshot call there is refused
/// by name); a watcher submits the top holders during epoch 1; over epochs 2 to 4 anyone
/// ticks and snapshots, the operator proves on the chain's own snapshot and submits, and
/// the economy runs each next tick on the decision. status and submit name the
/// provenance, and commit-kpis is refused.
#[test]
fn an_onchain_deployment_runs_the_loop_with_no_reporter() {
    let _clock = CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    let node = LocalNode::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // The model that reads the controller's parameters: the whole statement is on chain state.
    let model = models().join("trained-policy.json");
    let model = model.to_str().expect("utf-8");
    let chain = |args: &[&str]| {
        let mut cmd = zkpolicy(d);
        cmd.args(args).args(["--model", model, "--rpc", &node.url, "--json"]).env("ZKPOLICY_PRIVATE_KEY", DEV_KEYS[0]);
        json_run(&mut cmd)
    };
    let config = models().join("tokenomics-onchain-deployment.json");
    let deployed =
        stdout_json(&chain(&["deploy", "--config", config.to_str().expect("utf-8"), "--out", "d.json", "--allow-dev-srs"]).success());
    assert_eq!(deployed["deployment"]["kpi_provenance"], "onchain");
    assert!(deployed["deployment"]["economy"]["pair"].is_string(), "{deployed}");
    assert_eq!(deployed["deployment"]["economy"]["seeded_epoch"], 1, "deployment seeds epoch 1: {deployed}");
    chain(&["snapshot", "--deployment", "d.json"]).code(1).stderr(predicates::str::contains("AlreadyTaken: epoch 1"));

    // The deployer holds 96 % of the supply: a watcher names it during epoch 1, for epoch
    // 2's snapshot; smaller sets and protocol contracts are refused by name.
    let deployer = DEV_KEYS[0].parse::<PrivateKeySigner>().expect("key").address().to_checksum(None);
    let accepted = stdout_json(&chain(&["submit-holders", "--deployment", "d.json", "--holders", &deployer]).success());
    assert_eq!(accepted["result"]["holdings"], "960000000000000000000000000");
    assert_eq!((accepted["result"]["epoch"].as_u64(), accepted["result"]["snapshot_epoch"].as_u64()), (Some(1), Some(2)));
    let other = DEV_KEYS[1].parse::<PrivateKeySigner>().expect("key").address().to_checksum(None);
    chain(&["submit-holders", "--deployment", "d.json", "--holders", &other]).code(1).stderr(predicates::str::contains("NotBetter"));
    let pair = deployed["deployment"]["economy"]["pair"].as_str().expect("pair").to_string();
    chain(&["submit-holders", "--deployment", "d.json", "--holders", &pair])
        .code(1)
        .stderr(predicates::str::contains("BadHolders: a protocol address is not a holder"));
    node.advance(86_400);

    let mut expected = initial();
    for round in 0..3 {
        let ticked = stdout_json(&chain(&["tick", "--deployment", "d.json"]).success());
        assert_eq!(ticked["result"]["taken"], true, "round {round}: {ticked}");
        assert_eq!(ints(&ticked["result"]["parameters"]), expected, "round {round}: the economy runs on the controller's parameters");
        let snapshot = stdout_json(&chain(&["snapshot", "--deployment", "d.json"]).success());
        assert_eq!(snapshot["snapshot"]["seeded"], false, "round {round}: {snapshot}");
        // holder_concentration (0.96, 8 scale bits): epoch 1's set, then carried over.
        assert_eq!(snapshot["snapshot"]["kpis"][4], 246, "round {round}: {snapshot}");
        assert_eq!(snapshot["snapshot"]["holders"].as_array().map(Vec::len), Some(if round == 0 { 1 } else { 0 }), "{snapshot}");
        let epoch = snapshot["snapshot"]["epoch"].as_u64().expect("epoch").to_string();
        let prove = ["prove", "--model", model, "--deployment", "d.json", "--epoch", &epoch, "--out", "p.json", "--rpc", &node.url];
        zkpolicy(d).args(prove).assert().success();
        let proof: Value = serde_json::from_slice(&std::fs::read(d.join("p.json")).expect("proof")).expect("json");
        let proven: Vec<i64> = proof["kpis"].as_array().expect("kpis").iter().map(|k| k["quantized"].as_i64().expect("int")).collect();
        assert_eq!(proven, ints(&snapshot["snapshot"]["kpis"]), "round {round}: the proof is on the chain's snapshot");
        let read: Vec<i64> =
            proof["parameters"].as_array().expect("parameters").iter().map(|p| p["value"].as_i64().expect("int")).collect();
        assert_eq!(read, expected, "round {round}: the proof is on the controller's current parameters");
        if round == 1 {
            // A proof claiming other parameters is named and refused before it is sent.
            let mut other = proof.clone();
            other["parameters"][0]["value"] = (read[0] + 1).into();
            std::fs::write(d.join("other.json"), other.to_string()).expect("write");
            chain(&["submit", "--deployment", "d.json", "--proof", "other.json"])
                .code(1)
                .stderr(predicates::str::contains("other parameters than the controller holds"));
        }
        let submitted = stdout_json(&chain(&["submit", "--deployment", "d.json", "--proof", "p.json"]).success());
        assert_eq!(submitted["kpi_provenance"], "onchain");
        expected = guard(&expected, &ints(&submitted["result"]["proposed"]));
        assert_eq!(ints(&submitted["result"]["applied"]), expected);
        node.advance(86_400);
    }
    let ticked = stdout_json(&chain(&["tick", "--deployment", "d.json"]).success());
    assert_eq!(ints(&ticked["result"]["parameters"]), expected, "the last decision reaches the economy");

    let status = stdout_json(&chain(&["status", "--deployment", "d.json"]).success());
    assert_eq!(status["kpi_provenance"], "onchain");
    assert_eq!(status["status"]["parameters_are_public_inputs"], true);
    let sample = models().join("kpis-sample.json");
    chain(&["commit-kpis", "--deployment", "d.json", "--kpis", sample.to_str().expect("utf-8"), "--epoch", "5"])
        .code(2)
        .stderr(predicates::str::contains("computed on chain, and nobody posts them"));
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
