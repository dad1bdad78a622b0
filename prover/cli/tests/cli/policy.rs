//! `zkpolicy import`, `train` and `backtest`: the policy's path from a float
//! network (ONNX or trained in simulation) to proven backtests.

use std::path::Path;

use predicates::prelude::PredicateBooleanExt;
use serde_json::Value;

use crate::common::{models, stdout_json, zkpolicy};

fn fixture(name: &str) -> String {
    models().join("fixtures").join(name).to_str().expect("utf-8").to_owned()
}

fn import(dir: &Path, onnx: &str, calibration: &str) -> assert_cmd::assert::Assert {
    zkpolicy(dir).args(["import", "--onnx", onnx, "--calibration", calibration, "--out", "model.json", "--json"]).assert()
}

#[test]
fn import_quantizes_an_onnx_policy_and_reports_its_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = stdout_json(&import(d, &fixture("policy-8-16-4.onnx"), &fixture("calibration-tokenomics.jsonl")).success());
    assert_eq!(out["dims"], serde_json::json!([8, 16, 4]));
    let outputs = out["report"]["outputs"].as_array().expect("per-output errors");
    assert_eq!(outputs.len(), 4);
    for o in outputs {
        let (max, mean) = (o["max_abs_error"].as_f64().expect("max"), o["mean_abs_error"].as_f64().expect("mean"));
        // Outputs are integers in bps: rounding alone costs up to 0.5; the scales must not cost much more.
        assert!(mean <= max && max < 2.0, "{}: max {max}, mean {mean}", o["name"]);
    }
    // The written model is a valid model the prover plans a circuit for.
    let inspect = stdout_json(&zkpolicy(d).args(["inspect", "--model", "model.json", "--json"]).assert().success());
    assert_eq!(inspect["model_commitment"], out["model_commitment"]);

    // MatMul + Add + Identity + Flatten import too.
    zkpolicy(d)
        .args(["import", "--onnx", &fixture("policy-8-16-4-matmul.onnx"), "--calibration", &fixture("calibration-tokenomics.jsonl")])
        .args(["--out", "matmul.json"])
        .assert()
        .success();
}

/// An RL-style policy (tanh layers, a tanh head emitting actions in [-1, 1]) imports as a
/// fixed-point model whose outputs map to the deployment's max steps.
#[test]
fn a_tanh_policy_imports_with_fixed_point_actions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    zkpolicy(d)
        .args(["import", "--onnx", &fixture("policy-8-16-16-4-tanh.onnx"), "--calibration", &fixture("calibration-tokenomics.jsonl")])
        .args(["--actions", "10", "--table-bits", "10", "--weight-bits", "16", "--bias-bits", "32", "--auto-input-scale"])
        .args(["--out", "tanh.json"])
        .assert()
        .success();
    let model: Value = serde_json::from_str(&std::fs::read_to_string(d.join("tanh.json")).expect("written")).expect("json");
    let steps: Vec<i64> = zkpolicy_lab::sim::deployment_guardrails().iter().map(|g| g.max_step).collect();
    for (o, step) in model["outputs"].as_array().expect("outputs").iter().zip(steps) {
        assert_eq!(
            (o["scale_bits"].as_u64(), o["step"].as_i64(), o["min"].as_i64(), o["max"].as_i64()),
            (Some(10), Some(step), Some(-1024), Some(1024))
        );
    }
    assert_eq!(model["layers"][2]["activation"], serde_json::json!({"tanh": {"scale_bits": 10}}));
    // --action-steps needs --actions, and needs one step per output.
    zkpolicy(d)
        .args(["import", "--onnx", &fixture("policy-8-16-16-4-tanh.onnx"), "--calibration", &fixture("calibration-tokenomics.jsonl")])
        .args(["--actions", "10", "--action-steps", "1,2", "--out", "bad.json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("action steps"));
    assert!(!d.join("bad.json").exists());
}

#[test]
fn import_refuses_unsupported_ops_and_bad_calibration_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // The same graph with its Relu renamed to Selu (same length, so the protobuf stays well formed).
    let bytes = std::fs::read(fixture("policy-8-16-4.onnx")).expect("fixture");
    let at = bytes.windows(4).position(|w| w == b"Relu").expect("a Relu node");
    let mut patched = bytes.clone();
    patched[at..at + 4].copy_from_slice(b"Selu");
    std::fs::write(d.join("selu.onnx"), patched).expect("write");
    import(d, "selu.onnx", &fixture("calibration-tokenomics.jsonl"))
        .code(2)
        .stderr(predicates::str::contains("\"Selu\"").and(predicates::str::contains("node")));
    // An IO spec of another shape (policy-m: 8 KPIs, 8 outputs) is named.
    zkpolicy(d)
        .args(["import", "--onnx", &fixture("policy-8-16-4.onnx"), "--calibration", &fixture("calibration-tokenomics.jsonl")])
        .args(["--io", models().join("policy-m.json").to_str().expect("utf-8"), "--out", "model.json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("policy-m.json (--io) does not fit the ONNX graph"));
    std::fs::write(d.join("junk.onnx"), b"not a protobuf").expect("write");
    import(d, "junk.onnx", &fixture("calibration-tokenomics.jsonl")).code(2).stderr(predicates::str::contains("junk.onnx"));

    let lines = std::fs::read_to_string(fixture("calibration-tokenomics.jsonl")).expect("calibration");
    let first: Vec<&str> = lines.lines().take(3).collect();
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut v: Value = serde_json::from_str(first[2]).expect("json line");
        edit(&mut v);
        v.to_string()
    };
    let cases = [
        ("nan.jsonl", first[1].replacen("\"volatility_30d\": ", "\"volatility_30d\": NaN, \"x\": ", 1), "nan.jsonl:2"),
        ("range.jsonl", edited(&|v| v["kpis"]["staking_ratio"] = 7.into()), "staking_ratio"),
        (
            "missing.jsonl",
            edited(&|v| {
                v["kpis"].as_object_mut().expect("map").remove("treasury_runway");
            }),
            "treasury_runway",
        ),
    ];
    for (name, bad, expected) in cases {
        std::fs::write(d.join(name), format!("{}\n{bad}\n", first[0])).expect("write");
        import(d, &fixture("policy-8-16-4.onnx"), name).code(2).stderr(predicates::str::contains(expected));
    }
    assert!(!d.join("model.json").exists());
}

#[test]
fn train_is_deterministic_and_its_model_backtests_with_every_decision_proven() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let train = |out: &str| {
        zkpolicy(d).args(["train", "--generations", "3", "--population", "8", "--epochs", "24", "--out-dir", out, "--json"]).assert()
    };
    let report = stdout_json(&train("a").success());
    train("b").success();
    let read = |p: &str| std::fs::read(d.join(p)).expect("written");
    assert_eq!(read("a/model.json"), read("b/model.json"), "same seed, same model");
    assert_eq!(read("a/policy.float.json"), read("b/policy.float.json"));
    let generations = report["generations"].as_array().expect("log");
    assert_eq!(generations.len(), 3, "one log entry per generation");
    assert!(report["best_reward"].as_f64() >= report["initial_reward"].as_f64());
    // The policy reads the controller's four parameters after the eight KPIs, unless told not to.
    let trained: Value = serde_json::from_slice(&read("a/model.json")).expect("json");
    let names: Vec<&str> =
        trained["parameters"].as_array().expect("parameters").iter().map(|p| p["name"].as_str().expect("name")).collect();
    assert_eq!(names, ["emission_rate_bps", "staking_reward_bps", "burn_rate_bps", "fee_bps"]);
    assert_eq!(trained["layers"][0]["weights"][0].as_array().expect("row").len(), 12);
    zkpolicy(d)
        .args(["train", "--kpis-only", "--generations", "1", "--population", "2", "--epochs", "8", "--out-dir", "k", "--json"])
        .assert()
        .success();
    let blind: Value = serde_json::from_slice(&read("k/model.json")).expect("json");
    assert!(blind.get("parameters").is_none(), "a KPI-only model declares no parameters");

    let baseline = models().join("trained-policy-kpi.json");
    let backtest = zkpolicy(d)
        .args(["backtest", "--model", "a/model.json", "--float", "a/policy.float.json", "--epochs", "2", "--out-dir", "bt", "--json"])
        .args(["--compare", baseline.to_str().expect("utf-8")])
        .assert()
        .success();
    let bt = stdout_json(&backtest);
    let proven = &bt["proven"];
    assert_eq!(proven["proofs"], 10, "two epochs in each of five scenarios");
    assert_eq!(proven["verified"], 10);
    assert_eq!(proven["mismatches"], Value::Array(vec![]));
    let policies: Vec<&str> =
        bt["comparison"]["rows"].as_array().expect("rows").iter().map(|r| r["policy"].as_str().expect("name")).collect();
    for policy in ["trained-policy", "static", "rule_based", "float", "trained-policy-kpi"] {
        assert!(policies.contains(&policy), "{policy} missing from {policies:?}");
    }
    for scenario in ["calm", "crash", "liquidity_drain", "demand_surge", "slow_bleed"] {
        let svg = std::fs::read_to_string(d.join("bt").join(format!("{scenario}.svg"))).expect("plot");
        assert!(svg.starts_with("<svg") && svg.contains("staking ratio"), "{scenario}.svg");
    }
    assert!(std::fs::read_to_string(d.join("bt/report.md")).expect("report").contains("| rule_based | all |"));
}

#[test]
fn backtest_refuses_a_model_that_does_not_read_the_simulated_kpis() {
    let dir = tempfile::tempdir().expect("tempdir");
    zkpolicy(dir.path())
        .args(["backtest", "--model", models().join("policy-m.json").to_str().expect("utf-8"), "--no-prove", "--out-dir", "bt"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot drive the simulator"));
    assert!(!dir.path().join("bt").exists());
}
