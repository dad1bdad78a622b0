//! `inspect`, `prove` and `verify`: proofs verified, tampering and bad input refused, keys cached, batches in order.

use std::path::Path;

use predicates::prelude::*;
use serde_json::Value;

use super::{prove, verify, walk};
use crate::common::{edit_json, models, stdout_json, zkpolicy};

#[test]
fn inspect_reports_the_default_circuit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = stdout_json(&zkpolicy(dir.path()).args(["inspect", "--json"]).assert().success());
    assert_eq!(v["model"], "tokenomics-policy");
    assert_eq!(v["circuit"]["k"], 10);
    assert_eq!(v["parameter_count"], 484);
    assert_eq!(v["instances"]["count"], 13);
    assert!(v["model_commitment"].as_str().expect("hex").starts_with("0x"));
    zkpolicy(dir.path()).arg("inspect").assert().success().stdout(predicates::str::contains("k = 10"));
}

#[test]
fn prove_then_verify_and_reject_tampering() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let summary = stdout_json(&prove(d, &models().join("kpis-sample.json"), "proof.json").success());
    assert_eq!(summary["keys"], "generated");
    assert_eq!(summary["outputs"].as_array().expect("outputs").len(), 4);
    // Second run reuses the cached keys.
    assert_eq!(stdout_json(&prove(d, &models().join("kpis-sample.json"), "proof.json").success())["keys"], "cached");

    verify(d, "tokenomics-policy.json", "proof.json").success();

    // The artifact stores each proven value once, and nothing else that could be edited apart.
    let artifact: Value = serde_json::from_slice(&std::fs::read(d.join("proof.json")).expect("artifact")).expect("json");
    let keys: Vec<&str> = artifact.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["format", "version", "proof_system", "model", "model_commitment", "k", "epoch", "kpis", "outputs", "proof"]);

    // Another epoch, KPI or output: the proof does not hold for it.
    edit_json(d, "proof.json", "epoch.json", |v| v["epoch"] = 10.into());
    // Named as a changed claim, not only as halo2's "constraint system is not satisfied" (issue 30).
    verify(d, "tokenomics-policy.json", "epoch.json")
        .code(1)
        .stdout(predicates::str::contains("INVALID").and(predicates::str::contains("the proof does not prove this claim (epoch 10")));
    edit_json(d, "proof.json", "kpi.json", |v| {
        let q = v["kpis"][0]["quantized"].as_i64().expect("int");
        v["kpis"][0]["quantized"] = (if q > 0 { q - 1 } else { q + 1 }).into();
    });
    verify(d, "tokenomics-policy.json", "kpi.json").code(1).stdout(predicates::str::contains("INVALID"));
    edit_json(d, "proof.json", "output.json", |v| {
        let value = v["outputs"][1]["value"].as_i64().expect("int");
        v["outputs"][1]["value"] = (if value > 0 { value - 1 } else { value + 1 }).into();
    });
    verify(d, "tokenomics-policy.json", "output.json").code(1);

    // Every readable field is checked against the model, each failure named.
    type Edit = fn(&mut Value);
    let relabels: [(&str, Edit, &str); 7] = [
        ("name.json", |v| v["model"] = "other-policy".into(), "names model \"other-policy\""),
        ("k.json", |v| v["k"] = 11.into(), "k = 11"),
        ("kpi-name.json", |v| v["kpis"][0]["name"] = "tvl".into(), "the model's inputs are"),
        ("kpi-order.json", |v| v["kpis"].as_array_mut().expect("kpis").swap(0, 1), "the model's inputs are"),
        ("output-name.json", |v| v["outputs"][0]["name"] = "mint_rate".into(), "\"mint_rate\""),
        ("unit.json", |v| v["outputs"][0]["unit"] = "percent".into(), "(percent)"),
        ("bound.json", |v| v["outputs"][0]["value"] = 51.into(), "outside its declared bounds [-50, 50]"),
    ];
    for (file, edit, named) in relabels {
        edit_json(d, "proof.json", file, edit);
        verify(d, "tokenomics-policy.json", file).code(1).stdout(predicates::str::contains(named));
    }
    // An output aliased by the field modulus is not an i64, so it is not an artifact at all.
    edit_json(d, "proof.json", "alias.json", |v| {
        let r = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
        v["outputs"][0]["value"] = serde_json::from_str::<Value>(r).expect("a JSON number");
    });
    verify(d, "tokenomics-policy.json", "alias.json").code(2).stderr(predicates::str::contains("not a valid proof artifact"));

    // A flipped proof byte.
    edit_json(d, "proof.json", "flipped.json", |v| {
        let mut bytes = hex::decode(v["proof"].as_str().expect("hex").trim_start_matches("0x")).expect("hex");
        bytes[700] ^= 0x80;
        v["proof"] = format!("0x{}", hex::encode(bytes)).into();
    });
    verify(d, "tokenomics-policy.json", "flipped.json").code(1);

    // The right proof checked against the wrong model.
    verify(d, "policy-m.json", "proof.json").code(1).stdout(predicates::str::contains("is for model"));
}

#[test]
fn corrupt_cached_keys_are_regenerated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    prove(d, &models().join("kpis-sample.json"), "proof.json").success();
    let pk = walk(d.join(".zkpolicy")).into_iter().find(|p| p.ends_with("pk.bin")).expect("cached pk");
    let mut bytes = std::fs::read(&pk).expect("pk");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&pk, bytes).expect("write");
    assert_eq!(stdout_json(&prove(d, &models().join("kpis-sample.json"), "proof.json").success())["keys"], "generated");
    verify(d, "tokenomics-policy.json", "proof.json").success();
    // The development SRS is cached beside the keys; a damaged copy is made again, not used.
    let srs = d.join(".zkpolicy/srs/dev-k10.bin");
    let fresh = std::fs::read(&srs).expect("cached development SRS");
    let mut bytes = fresh.clone();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&srs, bytes).expect("write");
    verify(d, "tokenomics-policy.json", "proof.json").success();
    assert_eq!(std::fs::read(&srs).expect("rewritten"), fresh, "the damaged cache is replaced by the real SRS");
}

#[test]
fn bad_input_exits_2_names_the_problem_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let sample: Value = serde_json::from_slice(&std::fs::read(models().join("kpis-sample.json")).expect("sample")).expect("json");
    let cases: Vec<(&str, String, &str)> = vec![
        ("malformed.json", "{ \"kpis\": ".into(), "KPI snapshot"),
        ("nan.json", r#"{"kpis": {"staking_ratio": NaN}}"#.into(), "KPI snapshot"),
        (
            "range.json",
            {
                let mut v = sample.clone();
                v["kpis"]["volatility_30d"] = 9.0.into();
                v.to_string()
            },
            "volatility_30d",
        ),
        (
            "missing.json",
            {
                let mut v = sample.clone();
                v["kpis"].as_object_mut().expect("map").remove("fee");
                v["kpis"].as_object_mut().expect("map").remove("treasury_runway");
                v.to_string()
            },
            "KPI `treasury_runway`: is missing",
        ),
        (
            "unknown.json",
            {
                let mut v = sample.clone();
                v["kpis"]["tvl"] = 1.into();
                v.to_string()
            },
            "tvl",
        ),
    ];
    for (name, text, expected) in cases {
        std::fs::write(d.join(name), text).expect("write");
        prove(d, &d.join(name), "out.json").code(2).stderr(predicates::str::contains(expected));
        assert!(!d.join("out.json").exists(), "{name}: an artifact was written");
    }
    prove(d, &d.join("does-not-exist.json"), "out.json").code(2).stderr(predicates::str::contains("does-not-exist.json"));

    // A bad model file names the field.
    let mut model: Value = serde_json::from_slice(&std::fs::read(models().join("tokenomics-policy.json")).expect("model")).expect("json");
    model["layers"][0]["bias"].as_array_mut().expect("bias").pop();
    std::fs::write(d.join("bad-model.json"), model.to_string()).expect("write");
    zkpolicy(d)
        .args(["prove", "--model", "bad-model.json", "--kpis"])
        .arg(models().join("kpis-sample.json"))
        .args(["--epoch", "1", "--out", "out.json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("layers[0].bias"));
    assert!(!d.join("out.json").exists());

    // A proof artifact that is not JSON, and a usage error.
    std::fs::write(d.join("junk.json"), "junk").expect("write");
    verify(d, "tokenomics-policy.json", "junk.json").code(2).stderr(predicates::str::contains("not a valid proof artifact"));
    zkpolicy(d).args(["prove", "--epoch", "x"]).assert().code(2);

    // Missing SRS / key material: every command that needs keys names the file.
    let sample = models().join("kpis-sample.json");
    let prove_sample = ["prove", "--kpis", sample.to_str().expect("utf-8"), "--epoch", "1", "--out", "out.json"];
    for command in [&["keygen"][..], &prove_sample, &["gen-verifier", "--out-dir", "v"]] {
        zkpolicy(d).args(command).args(["--srs", "no-such-srs.bin"]).assert().code(2).stderr(predicates::str::contains("no-such-srs.bin"));
    }
    assert!(!d.join("v").exists() && !d.join("out.json").exists());
}

#[test]
fn a_directory_of_snapshots_is_proven_in_parallel_and_reported_in_input_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let snapshots = d.join("snapshots");
    std::fs::create_dir(&snapshots).expect("mkdir");
    let sample: Value = serde_json::from_slice(&std::fs::read(models().join("kpis-sample.json")).expect("sample")).expect("json");
    for (name, staking) in [("a-epoch", 0.2), ("b-epoch", 0.5), ("c-epoch", 0.9)] {
        let mut v = sample.clone();
        v["kpis"]["staking_ratio"] = staking.into();
        std::fs::write(snapshots.join(format!("{name}.json")), v.to_string()).expect("write");
    }
    let v =
        stdout_json(&zkpolicy(d).args(["prove", "--kpis", "snapshots", "--epoch", "100", "--out", "proofs", "--json"]).assert().success());
    let proofs = v["proofs"].as_array().expect("array");
    assert_eq!(proofs.len(), 3);
    let mut staking_rewards = vec![];
    for (i, (p, name)) in proofs.iter().zip(["a-epoch", "b-epoch", "c-epoch"]).enumerate() {
        assert_eq!(p["epoch"], 100 + i as u64);
        assert!(p["kpis"].as_str().expect("path").ends_with(&format!("{name}.json")));
        staking_rewards.push(p["outputs"][1]["value"].as_i64().expect("int"));
        zkpolicy(d).args(["verify", "--proof", &format!("proofs/{name}.proof.json")]).assert().success();
    }
    // Staking under target raises the reward, over target lowers it: order preserved.
    assert!(staking_rewards[0] > staking_rewards[1] && staking_rewards[1] > staking_rewards[2], "{staking_rewards:?}");

    // One bad snapshot: refused before proving, nothing written.
    std::fs::write(snapshots.join("d-epoch.json"), "{ broken").expect("write");
    zkpolicy(d)
        .args(["prove", "--kpis", "snapshots", "--epoch", "200", "--out", "more"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("d-epoch.json"));
    assert!(!d.join("more").exists());
}

/// Input that used to be taken silently, hang or crash: each is refused by name, exit 2.
#[test]
fn duplicate_keys_endless_files_and_impossible_sizes_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // `{"kpis": {…, "fee": x, "fee": y}}`: the last one no longer wins silently.
    let sample = std::fs::read_to_string(models().join("kpis-sample.json")).expect("sample");
    let doubled = sample.replacen("\"staking_ratio\"", "\"staking_ratio\": 0.5, \"staking_ratio\"", 1);
    assert_ne!(doubled, sample);
    std::fs::write(d.join("dup.json"), doubled).expect("write");
    prove(d, &d.join("dup.json"), "out.json").code(2).stderr(predicates::str::contains("duplicate key \"staking_ratio\""));
    // An endless file is read only up to its limit.
    prove(d, Path::new("/dev/zero"), "out.json").code(2).stderr(predicates::str::contains("larger than"));
    zkpolicy(d).args(["inspect", "--model", "/dev/zero"]).assert().code(2).stderr(predicates::str::contains("larger than"));
    verify(d, "tokenomics-policy.json", "/dev/zero").code(2).stderr(predicates::str::contains("a proof artifact is at most"));
    zkpolicy(d).args(["bench", "--from-json", "/dev/zero"]).assert().code(2).stderr(predicates::str::contains("a bench report is at most"));
    // No timed proof, no p50 (issue 30): refused, and nothing measured.
    zkpolicy(d).args(["bench", "--runs", "0"]).assert().code(2).stderr(predicates::str::contains("--runs must be at least 1"));
    zkpolicy(d)
        .args(["backtest", "--float", "/dev/zero", "--no-prove", "--out-dir", "b"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("a float policy file is at most"));
    // A powers-of-tau file may be large, so it must be a regular file of a plausible size.
    zkpolicy(d)
        .args(["setup", "--from", "/dev/zero", "--checksum", "0x00", "--k", "4", "--out", "p.bin"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("a powers-of-tau file is a regular file"));
    assert!(!d.join("out.json").exists());
    // An output that names an input would destroy it.
    std::fs::write(d.join("k.json"), &sample).expect("write");
    prove(d, &d.join("k.json"), "k.json").code(2).stderr(predicates::str::contains("is also an input"));
    assert_eq!(std::fs::read_to_string(d.join("k.json")).expect("kept"), sample);
    // Sizes the machine cannot hold.
    zkpolicy(d).args(["setup", "--k", "40", "--out", "p.bin"]).assert().code(2).stderr(predicates::str::contains("1..=28"));
    zkpolicy(d).args(["setup", "--k", "27", "--out", "p.bin"]).assert().code(2).stderr(predicates::str::contains("up to k = 26"));
    zkpolicy(d)
        .args(["backtest", "--epochs", "100000000", "--no-prove", "--out-dir", "b"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--epochs must be between 1 and 10000"));
    assert!(!d.join("p.bin").exists() && !d.join("b").exists());
}
