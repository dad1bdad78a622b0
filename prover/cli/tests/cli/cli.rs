//! The `zkpolicy` binary: success paths, invalid proofs (exit 1), bad input (exit 2).

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{assert_valid, edit_json, models, schemas, stdout_json, zkpolicy};

fn prove(dir: &Path, kpis: &Path, out: &str) -> assert_cmd::assert::Assert {
    zkpolicy(dir)
        .args(["prove", "--model"])
        .arg(models().join("tokenomics-policy.json"))
        .arg("--kpis")
        .arg(kpis)
        .args(["--epoch", "9", "--out", out, "--json"])
        .assert()
}

fn verify(dir: &Path, model: &str, proof: &str) -> assert_cmd::assert::Assert {
    zkpolicy(dir).args(["verify", "--model"]).arg(models().join(model)).args(["--proof", proof]).assert()
}

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

fn walk(dir: PathBuf) -> Vec<PathBuf> {
    let mut out = vec![];
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(path));
        } else {
            out.push(path);
        }
    }
    out
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
fn gen_verifier_writes_a_deployable_verifier_and_verify_evm_agrees() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let v = stdout_json(&zkpolicy(d).args(["gen-verifier", "--out-dir", "v", "--json"]).assert().success());
    assert_eq!(v["within_eip170"], true);
    for file in ["ZkPolicyVerifier.sol", "ZkPolicyVerifier.abi.json", "ZkPolicyVerifier.json"] {
        assert!(d.join("v").join(file).metadata().expect(file).len() > 100, "{file}");
    }
    let artifact: Value = serde_json::from_slice(&std::fs::read(d.join("v/ZkPolicyVerifier.json")).expect("artifact")).expect("json");
    assert!(artifact["deployedBytecode"].as_str().expect("hex").len() > 1000);

    prove(d, &models().join("kpis-sample.json"), "proof.json").success();
    let v = stdout_json(
        &zkpolicy(d)
            .args(["verify", "--evm", "--json", "--model"])
            .arg(models().join("tokenomics-policy.json"))
            .args(["--proof", "proof.json"])
            .assert()
            .success(),
    );
    assert_eq!(v["valid"], true);
    assert_eq!(v["evm"]["valid"], true);
    assert!(v["evm"]["verify_gas"].as_u64().expect("gas") > 100_000);

    edit_json(d, "proof.json", "epoch.json", |v| v["epoch"] = 10.into());
    let out = zkpolicy(d)
        .args(["verify", "--evm", "--json", "--model"])
        .arg(models().join("tokenomics-policy.json"))
        .args(["--proof", "epoch.json"])
        .assert()
        .code(1);
    let v = stdout_json(&out);
    assert_eq!(v["evm"]["valid"], false);
}

#[test]
fn demo_runs_the_whole_loop_including_the_evm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = stdout_json(&zkpolicy(dir.path()).args(["demo", "--json"]).assert().success());
    assert_eq!(v["verified"], true);
    assert_eq!(v["proof_bytes"], 1600);
    assert!(v["evm"]["verify_gas"].as_u64().expect("gas") > 100_000);
    assert_eq!(v["outputs"].as_array().expect("outputs").len(), 4);
    // The controller applied the proven outputs through the guardrails.
    let c = &v["controller"];
    let ints = |x: &Value| x.as_array().expect("array").iter().map(|n| n.as_i64().expect("int")).collect::<Vec<_>>();
    let outputs: Vec<i64> = v["outputs"].as_array().expect("outputs").iter().map(|o| o["value"].as_i64().expect("int")).collect();
    let rails = zkpolicy_lab::sim::deployment_guardrails();
    assert_eq!(ints(&c["before"]), rails.iter().map(|r| r.initial).collect::<Vec<_>>());
    let expected = zkpolicy_lab::sim::guard(&ints(&c["before"]), &outputs, &rails).expect("guards").values;
    assert_eq!(ints(&c["after"]), expected);
    assert!(c["submit_gas"].as_u64().expect("gas") > c["commit_gas"].as_u64().expect("gas"));
    // The demo writes nothing.
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

#[test]
fn bench_writes_json_and_svg_for_the_default_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = zkpolicy(d)
        .args(["bench", "--models", "tokenomics-policy", "--runs", "1", "--json", "b.json", "--svg", "b.svg"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(out).expect("utf-8");
    assert!(table.contains("| tokenomics-policy | 484 | 10 |"), "{table}");
    let report: Value = serde_json::from_slice(&std::fs::read(d.join("b.json")).expect("json written")).expect("json");
    assert!(report["machine"].as_str().expect("machine").contains("cores"));
    let row = &report["models"][0];
    assert_eq!(row["model"], "tokenomics-policy");
    assert_eq!(row["k"], 10);
    assert_eq!(row["runs"], 1);
    assert_eq!(row["proof_bytes"], 1600);
    for field in ["keygen_ms", "prove_p50_ms", "prove_p95_ms", "msm_floor_ms", "verify_ms"] {
        assert!(row[field].as_f64().expect(field) > 0.0, "{field}");
    }
    assert!(row["evm_verify_gas"].as_u64().expect("gas") > 100_000);
    assert!(row["runtime_bytes"].as_u64().expect("size") > 1_000);
    // Submission costs more than verification; the baseline recomputation far less (a small model).
    let (verify, submit, recompute) = (row["evm_verify_gas"].as_u64(), row["submit_gas"].as_u64(), row["recompute_gas"].as_u64());
    assert!(submit > verify && recompute < verify.map(|v| v / 4), "{verify:?} {submit:?} {recompute:?}");
    assert_eq!(row["precompiles"]["ec_mul"], 23);
    assert!(table.contains("| Ethereum L1 (Osaka) | EIP-7904 draft | Monad |"), "{table}");
    let svg = std::fs::read_to_string(d.join("b.svg")).expect("svg written");
    assert!(svg.starts_with("<svg") && svg.contains("recompute on chain") && svg.len() > 2_000);
    // The table can be re-made from the JSON alone.
    zkpolicy(d)
        .args(["bench", "--from-json", "b.json"])
        .assert()
        .success()
        .stdout(predicates::str::contains("| tokenomics-policy | 484 |"));
}

#[test]
fn bench_refuses_an_unknown_model_before_measuring() {
    let dir = tempfile::tempdir().expect("tempdir");
    zkpolicy(dir.path())
        .args(["bench", "--models", "tokenomics-policy,policy-xxl", "--json", "b.json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown model \"policy-xxl\""));
    assert!(!dir.path().join("b.json").exists());
}

#[test]
fn setup_writes_dev_params_and_imports_only_a_matching_checksum() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let v = stdout_json(&zkpolicy(d).args(["setup", "--k", "10", "--out", "dev.bin", "--json"]).assert().success());
    assert_eq!(v["k"], 10);
    assert!(v["source"].as_str().expect("source").contains("INSECURE"));
    let checksum = v["keccak256"].as_str().expect("checksum").to_string();
    let sidecar: Value = serde_json::from_slice(&std::fs::read(d.join("dev.bin.json")).expect("sidecar")).expect("json");
    assert_eq!(sidecar["keccak256"], checksum.as_str());

    // Import with the right checksum: usable for proving and verifying.
    zkpolicy(d).args(["setup", "--from", "dev.bin", "--checksum", &checksum, "--k", "10", "--out", "imported.bin"]).assert().success();
    zkpolicy(d)
        .args(["prove", "--srs", "imported.bin", "--kpis"])
        .arg(models().join("kpis-sample.json"))
        .args(["--epoch", "3", "--out", "p.json"])
        .assert()
        .success();
    zkpolicy(d).args(["verify", "--srs", "imported.bin", "--proof", "p.json"]).assert().success();
    // Keys are cached by the SRS's content: a different file under the same name gets its own keys.
    std::fs::create_dir(d.join("other")).expect("mkdir");
    zkpolicy(d).args(["setup", "--k", "11", "--out", "other/imported.bin"]).assert().success();
    assert_eq!(stdout_json(&zkpolicy(d).args(["keygen", "--json", "--srs", "other/imported.bin"]).assert().success())["keys"], "generated");

    // A wrong checksum, and a file that is not params, are refused with nothing written.
    let wrong = format!("0x{}", "00".repeat(32));
    zkpolicy(d)
        .args(["setup", "--from", "dev.bin", "--checksum", &wrong, "--out", "bad.bin"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("checksum mismatch"));
    assert!(!d.join("bad.bin").exists());
    std::fs::write(d.join("junk.bin"), b"not params").expect("write");
    let junk_sum = format!("0x{}", hex::encode(zkpolicy_verifier::transcript::keccak256(b"not params")));
    zkpolicy(d).args(["setup", "--from", "junk.bin", "--checksum", &junk_sum, "--out", "bad.bin"]).assert().code(2);
    assert!(!d.join("bad.bin").exists());
    // A checksum without a file to check is a usage error, not a silent dev setup.
    zkpolicy(d).args(["setup", "--checksum", &checksum, "--out", "bad.bin"]).assert().code(2);
    assert!(!d.join("bad.bin").exists());
    // A model whose k is larger than the imported params.
    zkpolicy(d)
        .args(["keygen", "--srs", "imported.bin", "--model"])
        .arg(models().join("policy-m.json"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("k = 10"));
}

#[test]
fn keygen_generates_then_reuses_cached_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = || stdout_json(&zkpolicy(dir.path()).args(["keygen", "--json"]).assert().success());
    let first = run();
    assert_eq!(first["keys"], "generated");
    let second = run();
    assert_eq!(second["keys"], "cached");
    assert_eq!(first["verifying_key_digest"], second["verifying_key_digest"]);
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

/// A verifier who never sees the weights: `export-vk` writes the key and the public card,
/// and `verify --vk` accepts the operator's proof from another directory (no key cache,
/// no model file). A key file that was edited is refused with the field named.
#[test]
fn an_exported_verifying_key_verifies_without_the_weights_and_refuses_edits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let exported = stdout_json(&zkpolicy(d).args(["export-vk", "--out", "policy.vk.json", "--json"]).assert().success());
    assert_eq!(exported["model"], "tokenomics-policy");
    let text = std::fs::read_to_string(d.join("policy.vk.json")).expect("vk file");
    let file: Value = serde_json::from_str(&text).expect("json");
    assert!(!text.contains("layers") && !text.contains("weights") && !text.contains("bias"), "the key file holds no weights");
    assert_eq!(file["card"]["model_commitment"], exported["model_commitment"]);
    assert_eq!(file["card"]["outputs"].as_array().expect("outputs").len(), 4);
    prove(d, &models().join("kpis-sample.json"), "proof.json").success();

    let verifier = tempfile::tempdir().expect("tempdir");
    let v = verifier.path();
    std::fs::copy(d.join("policy.vk.json"), v.join("policy.vk.json")).expect("copy");
    std::fs::copy(d.join("proof.json"), v.join("proof.json")).expect("copy");
    let verdict =
        stdout_json(&zkpolicy(v).args(["verify", "--vk", "policy.vk.json", "--proof", "proof.json", "--json"]).assert().success());
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert!(!v.join(".zkpolicy/keys").exists(), "verifying with a published key generates no keys");
    zkpolicy(v).args(["verify", "--vk", "policy.vk.json", "--model", "m.json", "--proof", "proof.json"]).assert().code(2);

    // Another output for the same proof: invalid, exactly as against the model.
    edit_json(v, "proof.json", "output.json", |p| {
        let value = p["outputs"][1]["value"].as_i64().expect("int");
        p["outputs"][1]["value"] = (if value > 0 { value - 1 } else { value + 1 }).into();
    });
    zkpolicy(v)
        .args(["verify", "--vk", "policy.vk.json", "--proof", "output.json"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("INVALID"));

    // A card that names another commitment no longer matches the artifact.
    edit_json(v, "policy.vk.json", "commitment.vk.json", |f| f["card"]["model_commitment"] = format!("0x{}", "11".repeat(32)).into());
    zkpolicy(v)
        .args(["verify", "--vk", "commitment.vk.json", "--proof", "proof.json"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("not \"tokenomics-policy\""));

    // Edited key material is refused before halo2 reads it, each naming what is wrong.
    let hex_key = file["verifying_key"].as_str().expect("hex").to_string();
    type Edit = Box<dyn Fn(&mut Value)>;
    let flipped = {
        let mut h = hex_key.clone();
        let at = h.len() - 10;
        let c = if &h[at..=at] == "0" { "1" } else { "0" };
        h.replace_range(at..=at, c);
        h
    };
    let edits: Vec<(&str, Edit, &str)> = vec![
        ("k.vk.json", Box::new(|f: &mut Value| f["k"] = 11.into()), "is for k = 10, but the file says k = 11"),
        ("huge-k.vk.json", Box::new(|f: &mut Value| f["k"] = 4_000_000_000u64.into()), "outside 1..=28"),
        ("lanes.vk.json", Box::new(|f: &mut Value| f["lanes"] = 3.into()), "lanes = 3"),
        ("wide.vk.json", Box::new(|f: &mut Value| f["lanes"] = 2.into()), "the 2-lane circuit's key has"),
        (
            "short.vk.json",
            {
                let h = hex_key[..hex_key.len() - 2].to_string();
                Box::new(move |f: &mut Value| f["verifying_key"] = h.clone().into())
            },
            "bytes; the 1-lane circuit's key has",
        ),
        ("point.vk.json", Box::new(move |f: &mut Value| f["verifying_key"] = flipped.clone().into()), "is not a point on BN254's G1"),
        ("circuit.vk.json", Box::new(|f: &mut Value| f["circuit_version"] = "c0".into()), "circuit \"c0\""),
        ("card.vk.json", Box::new(|f: &mut Value| f["card"]["outputs"][0]["min"] = 99.into()), "outputs[0]"),
        ("extra.vk.json", Box::new(|f: &mut Value| f["weights"] = Value::Array(vec![])), "unknown field"),
    ];
    for (name, edit, named) in edits {
        edit_json(v, "policy.vk.json", name, edit);
        zkpolicy(v)
            .args(["verify", "--vk", name, "--proof", "proof.json"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("verifying key file"))
            .stderr(predicates::str::contains(named));
    }
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

/// Private weights through the binary: a salt made once and never replaced, a proof whose
/// artifact and exported key name only the weight commitment, verified from the key alone;
/// a salt-less verifier of the same model calls it a proof for another model.
#[test]
fn private_weights_prove_and_verify_from_the_key_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    zkpolicy(d).args(["salt", "--out", "policy.salt"]).assert().success();
    let salt = std::fs::read_to_string(d.join("policy.salt")).expect("salt");
    let again = zkpolicy(d).args(["salt", "--out", "policy.salt"]).assert().code(2);
    let err = String::from_utf8_lossy(&again.get_output().stderr).to_string();
    assert!(err.contains("policy.salt already exists") && !err.contains(salt.trim()), "{err}");
    assert_eq!(std::fs::read_to_string(d.join("policy.salt")).expect("salt"), salt, "the salt was replaced");

    let proved = stdout_json(
        &zkpolicy(d)
            .args(["prove", "--salt", "policy.salt", "--kpis"])
            .arg(models().join("kpis-sample.json"))
            .args(["--epoch", "4", "--out", "proof.json", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(proved["private_weights"], true);
    let exported =
        stdout_json(&zkpolicy(d).args(["export-vk", "--salt", "policy.salt", "--out", "policy.vk.json", "--json"]).assert().success());
    assert_eq!(exported["private_weights"], true);
    assert_eq!(exported["model_commitment"], proved["model_commitment"]);
    let fixed = stdout_json(&zkpolicy(d).args(["inspect", "--json"]).assert().success());
    assert_ne!(exported["model_commitment"], fixed["model_commitment"]);
    for file in ["proof.json", "policy.vk.json"] {
        let text = std::fs::read_to_string(d.join(file)).expect("written");
        let file_hash = fixed["model_commitment"].as_str().expect("hex");
        assert!(!text.contains(&file_hash[2..]) && !text.contains(&salt.trim()[2..]), "{file} names the weight file or the salt");
    }

    let verifier = tempfile::tempdir().expect("tempdir");
    let v = verifier.path();
    for file in ["proof.json", "policy.vk.json"] {
        std::fs::copy(d.join(file), v.join(file)).expect("copy");
    }
    let verdict =
        stdout_json(&zkpolicy(v).args(["verify", "--vk", "policy.vk.json", "--proof", "proof.json", "--json"]).assert().success());
    assert_eq!(verdict["valid"], true, "{verdict}");
    zkpolicy(v).args(["verify", "--vk", "policy.vk.json", "--salt", "policy.salt", "--proof", "proof.json"]).assert().code(2);
    zkpolicy(v).args(["verify", "--proof", "proof.json"]).assert().code(1).stdout(
        predicates::str::contains("INVALID")
            .and(predicates::str::contains("the proof is for model"))
            .and(predicates::str::contains("check it with the model's --salt, or its key with --vk")),
    );
    // Found before any key is made (issue 30: 27 s for a private key before).
    assert!(!v.join(".zkpolicy/keys").exists(), "keys were made for a proof of another model");

    // A salt file that is not one is named, without its content.
    std::fs::write(d.join("bad.salt"), "0x1234\n").expect("write");
    zkpolicy(d)
        .args(["keygen", "--salt", "bad.salt"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("bad.salt is not a valid salt file").and(predicates::str::contains("64 hex digits")));
}

/// The binary copied out of the tree, with no solc-js anywhere it looks: the bundled models'
/// commands work (their verifiers are shipped), and a verifier that would need compiling is
/// refused with the way to install the compiler.
#[test]
fn the_binary_runs_outside_its_tree_and_names_how_to_get_a_compiler() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let exe = d.join("zkpolicy");
    std::fs::copy(assert_cmd::cargo::cargo_bin("zkpolicy"), &exe).expect("copy the binary");
    std::fs::write(d.join("kpis.json"), std::fs::read(models().join("kpis-sample.json")).expect("sample")).expect("write");
    let run = |args: &[&str]| {
        let mut cmd = assert_cmd::Command::new(&exe);
        cmd.current_dir(d).args(args).env("ZKPOLICY_SOLC_DIR", d.join("no-solc-here")).env_remove("ZKPOLICY_RPC_URL");
        cmd.assert()
    };
    run(&["demo", "--json"]).success();
    run(&["prove", "--kpis", "kpis.json", "--epoch", "2", "--out", "proof.json"]).success();
    let verdict = stdout_json(&run(&["verify", "--proof", "proof.json", "--evm", "--json"]).success());
    assert_eq!(verdict["evm"]["valid"], true, "{verdict}");
    // policy-m's verifier is shipped too: generating it needs no compiler.
    std::fs::write(d.join("policy-m.json"), std::fs::read(models().join("policy-m.json")).expect("model")).expect("write");
    run(&["gen-verifier", "--model", "policy-m.json", "--out-dir", "m"]).success();
    assert!(d.join("m/ZkPolicyVerifier.json").is_file());
    // Private weights make a verifier nobody shipped: it needs solc-js, and says how to get it.
    run(&["salt", "--out", "s.salt"]).success();
    run(&["gen-verifier", "--salt", "s.salt", "--out-dir", "p"])
        .code(2)
        .stderr(predicate::str::contains("needs solc-js 0.8.37").and(predicate::str::contains("npm install --prefix DIR solc@0.8.37")));
    assert!(!d.join("p").exists(), "nothing is written");
}

/// With --json a failure is one JSON document on stdout (kind, message, exit code), the exit
/// code unchanged; and a cause is stated once, not once per layer.
#[test]
fn failures_under_json_are_one_json_document_and_state_each_cause_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("file"), "not a directory").expect("write");
    let out = zkpolicy(d)
        .args(["prove", "--kpis"])
        .arg(models().join("kpis-sample.json"))
        .args(["--epoch", "1", "--out", "file/proof.json", "--json"])
        .assert()
        .code(2);
    let error = stdout_json(&out);
    assert_eq!(error["error"]["kind"], "input", "{error}");
    assert_eq!(error["error"]["exit_code"], 2, "{error}");
    let message = error["error"]["message"].as_str().expect("message");
    assert!(message.contains("file/proof.json"), "{message}");
    assert_eq!(message.matches("(os error").count(), 1, "the cause is repeated: {message}");

    // A corrupt artifact: the same envelope, naming the file.
    std::fs::write(d.join("proof.json"), "{}").expect("write");
    let out = zkpolicy(d).args(["verify", "--proof", "proof.json", "--json"]).assert().code(2);
    let error = stdout_json(&out);
    assert_eq!(error["error"]["kind"], "input", "{error}");
    assert!(error["error"]["message"].as_str().expect("message").contains("proof.json is not a valid proof artifact"), "{error}");

    // A usage error names what is missing (clap puts the names on the lines after its
    // first), in the envelope as on stderr.
    let out = zkpolicy(d).args(["submit", "--json"]).assert().code(2);
    let error = stdout_json(&out);
    let message = error["error"]["message"].as_str().expect("message");
    assert!(message.contains("required arguments were not provided") && message.contains("--proof"), "{message}");
}

/// Every command has a strict schema for its `--json` output in `prover/cli/schemas/` (and no
/// schema names a command that does not exist); real outputs validate against them,
/// failures included. Every other test's `--json` output is validated too, by `stdout_json`.
#[test]
fn json_outputs_validate_against_their_schemas() {
    let help = zkpolicy(Path::new(".")).arg("--help").assert().success();
    let help = String::from_utf8_lossy(&help.get_output().stdout).to_string();
    let commands: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .and_then(|rest| rest.split("Options:").next())
        .expect("a command list")
        .lines()
        .filter(|line| line.starts_with("  ") && !line.starts_with("    "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    assert!(commands.len() > 20, "{commands:?}");
    let mut documented: Vec<String> = std::fs::read_dir(schemas())
        .expect("schemas")
        .map(|e| e.expect("entry").file_name().to_string_lossy().trim_end_matches(".schema.json").to_string())
        .collect();
    documented.sort();
    // bench writes its figures to a file (`--json FILE`), described by bench-report.
    let mut expected: Vec<String> =
        commands.iter().map(|c| if *c == "bench" { "bench-report".to_string() } else { c.to_string() }).collect();
    expected.push("error".into());
    expected.sort();
    assert_eq!(documented, expected, "one schema per command, plus the error envelope");
    let report: Value =
        serde_json::from_slice(&std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/results.json")).expect("results"))
            .expect("json");
    assert_valid("bench-report", &report);

    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let json = |args: &[&str], code: i32| stdout_json(&zkpolicy(d).args(args).arg("--json").assert().code(code));
    json(&["salt", "--out", "p.salt"], 0);
    json(&["keygen"], 0);
    let kpis = models().join("kpis-sample.json");
    let kpis = kpis.to_str().expect("utf-8");
    json(&["prove", "--kpis", kpis, "--epoch", "3", "--out", "proof.json"], 0);
    std::fs::create_dir(d.join("snapshots")).expect("mkdir");
    std::fs::copy(kpis, d.join("snapshots/a.json")).expect("copy");
    let batch = json(&["prove", "--kpis", "snapshots", "--epoch", "3", "--out", "proofs"], 0);
    assert_eq!(batch["proofs"][0]["epoch"], 3, "{batch}");
    json(&["verify", "--proof", "proof.json", "--evm"], 0);
    json(&["export-vk", "--out", "vk.json"], 0);
    json(&["setup", "--k", "10", "--out", "k10.bin"], 0);
    json(&["import", "--onnx"], 2);
    // An invalid proof is a verdict, not an error: the verify schema, exit 1.
    edit_json(d, "proof.json", "edited.json", |p| p["epoch"] = 4.into());
    assert_eq!(json(&["verify", "--proof", "edited.json"], 1)["command"], "verify");
    let error = json(&["verify", "--proof", "missing.json"], 2);
    assert_eq!(error["command"], "verify", "{error}");
    json(&["salt", "--out", "p.salt"], 2);

    // A document that breaks its schema is caught: an unknown field, a float time.
    let mut keygen = json(&["keygen"], 0);
    keygen["keygen_ms"] = 1.5.into();
    let validator = jsonschema::validator_for(
        &serde_json::from_slice::<Value>(&std::fs::read(schemas().join("keygen.schema.json")).expect("schema")).expect("json"),
    )
    .expect("schema");
    assert!(!validator.is_valid(&keygen), "a fractional keygen_ms passed");
}

/// gen-verifier and export-contracts write Foundry- and Hardhat-shaped artifacts that carry
/// exactly the bytecode of the artifacts `deploy` uses, and the verifier interface.
#[test]
fn toolchain_artifacts_carry_the_deployed_bytecode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let read = |path: &str| -> Value { serde_json::from_slice(&std::fs::read(d.join(path)).expect(path)).expect("json") };
    zkpolicy(d).args(["gen-verifier", "--out-dir", "v"]).assert().success();
    let artifact = read("v/ZkPolicyVerifier.json");
    let foundry = read("v/foundry/out/ZkPolicyVerifier.sol/ZkPolicyVerifier.json");
    let hardhat = read("v/hardhat/artifacts/contracts/ZkPolicyVerifier.sol/ZkPolicyVerifier.json");
    assert_eq!(foundry["bytecode"]["object"], artifact["bytecode"]);
    assert_eq!(foundry["deployedBytecode"]["object"], artifact["deployedBytecode"]);
    assert_eq!(hardhat["_format"], "hh-sol-artifact-1");
    assert_eq!(hardhat["bytecode"], artifact["bytecode"]);
    assert_eq!(hardhat["abi"], artifact["abi"]);
    let interface = std::fs::read_to_string(d.join("v/IZkPolicyVerifier.sol")).expect("interface");
    assert!(interface.contains("interface IZkPolicyVerifier") && interface.contains("function verifyProof"));

    let out = stdout_json(&zkpolicy(d).args(["export-contracts", "--out-dir", "c", "--json"]).assert().success());
    assert_eq!(out["files"].as_array().expect("files").len(), 9, "{out}");
    for (contract, file) in [("PolicyController", "PolicyController.sol"), ("ReporterKpiSource", "KpiSource.sol")] {
        let artifact = read(&format!("c/{contract}.json"));
        let hardhat = read(&format!("c/hardhat/artifacts/contracts/{file}/{contract}.json"));
        let foundry = read(&format!("c/foundry/out/{file}/{contract}.json"));
        assert_eq!(hardhat["bytecode"], artifact["bytecode"], "{contract}");
        assert_eq!(foundry["deployedBytecode"]["object"], artifact["deployedBytecode"], "{contract}");
        assert_eq!(read(&format!("c/{contract}.abi.json")), artifact["abi"], "{contract}");
    }
}

/// A private model's keys are cached, and `keygen --salt` reports them, under names made of
/// the salted commitment only: nothing computed from the weights alone (the file's keccak,
/// the fixed-mode verifying key), which would confirm a guessed model to whoever sees the
/// output or lists the cache. A cache an earlier version left under the unsalted name is moved.
#[test]
fn keygen_with_a_salt_names_nothing_computed_from_the_weights_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // The default model cut to one hidden layer of two neurons: private keys at k = 12, in seconds.
    let mut tiny: Value = serde_json::from_slice(&std::fs::read(models().join("tokenomics-policy.json")).expect("model")).expect("json");
    let layers = tiny["layers"].as_array_mut().expect("layers");
    layers.remove(1);
    for field in ["weights", "bias"] {
        layers[0][field].as_array_mut().expect(field).truncate(2);
    }
    for row in layers[1]["weights"].as_array_mut().expect("weights") {
        row.as_array_mut().expect("row").truncate(2);
    }
    std::fs::write(d.join("tiny.json"), tiny.to_string()).expect("write");
    let keygen = |args: &[&str]| {
        let mut cmd = zkpolicy(d);
        cmd.args(["keygen", "--model", "tiny.json"]).args(args);
        cmd
    };
    zkpolicy(d).args(["salt", "--out", "p.salt"]).assert().success();
    let fixed = stdout_json(&keygen(&["--json", "--cache-dir", "fixed-cache"]).assert().success());
    let unsalted: Vec<String> = ["model_commitment", "verifying_key_digest"]
        .iter()
        .map(|field| fixed[field].as_str().expect("hex").trim_start_matches("0x").to_string())
        .collect();
    let leaks = |text: &str| unsalted.iter().any(|digest| text.contains(digest.as_str()));

    let private = stdout_json(&keygen(&["--salt", "p.salt", "--json"]).assert().success());
    assert_eq!((private["private_weights"].as_bool(), private["keys"].as_str()), (Some(true), Some("generated")), "{private}");
    let text = keygen(&["--salt", "p.salt"]).assert().success();
    let text = String::from_utf8_lossy(&text.get_output().stdout).to_string();
    assert!(text.starts_with("keys cached"), "{text}");
    for output in [private.to_string(), text] {
        assert!(!leaks(&output), "the output names an unsalted digest: {output}");
    }
    let cache = d.join(".zkpolicy");
    let names = |root: &Path| -> Vec<String> { walk(root.to_path_buf()).iter().map(|p| p.display().to_string()).collect() };
    assert!(names(&cache).iter().any(|p| p.ends_with("pk.bin")), "{:?}", names(&cache));
    assert!(names(&cache).iter().all(|p| !leaks(p)), "a cached path names an unsalted digest: {:?}", names(&cache));

    // Keys an earlier version cached as <file keccak>/…-private-<commitment prefix>-…: moved
    // to the salted name (reused, not regenerated), and the unsalted name is gone.
    let salted = private["model_commitment"].as_str().expect("hex").to_string();
    let current = PathBuf::from(private["dir"].as_str().expect("dir"));
    let leaf = current.file_name().expect("leaf").to_string_lossy().replace("-private-", &format!("-private-{}-", &salted[2..18]));
    let legacy = cache.join("keys").join(format!("0x{}", unsalted[0])).join(leaf);
    std::fs::create_dir_all(legacy.parent().expect("parent")).expect("mkdir");
    std::fs::rename(d.join(&current), &legacy).expect("move to the old name");
    let again = stdout_json(&keygen(&["--salt", "p.salt", "--json"]).assert().success());
    assert_eq!(again["keys"], "cached", "{again}");
    assert!(!legacy.exists() && !legacy.parent().expect("parent").exists(), "the unsalted name is left");
    assert!(names(&cache).iter().all(|p| !leaks(p)), "{:?}", names(&cache));
}

/// `zkpolicy CMD | head -1`: a reader that goes away ends the command quietly, as SIGPIPE
/// would (no panic, no exit 101), after any artifact it wrote is whole.
#[test]
fn a_reader_that_goes_away_ends_a_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let bin = assert_cmd::cargo::cargo_bin("zkpolicy");
    let kpis = models().join("kpis-sample.json");
    let kpis = kpis.to_str().expect("utf-8");
    let commands: [&[&str]; 3] =
        [&["inspect"], &["inspect", "--json"], &["prove", "--kpis", kpis, "--epoch", "3", "--out", "proof.json", "--json"]];
    for args in commands {
        // A pipe whose reader is gone before the command writes: every write fails (EPIPE).
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = std::process::Command::new(&bin)
            .args(args)
            .current_dir(d)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.signal(), Some(13), "{args:?}: ends as SIGPIPE would, not {}: {err}", out.status);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // The proof was written whole before its summary was printed, and nothing else.
    let proof: Value = serde_json::from_slice(&std::fs::read(d.join("proof.json")).expect("proof")).expect("a whole artifact");
    assert!(proof.is_object());
    assert!(std::fs::read_dir(d).expect("dir").flatten().all(|e| !e.file_name().to_string_lossy().ends_with(".tmp")));

    // A real pipeline. Whether `head` is gone before the second line is written is a race:
    // either way, no panic, and the status is success or SIGPIPE's.
    for _ in 0..3 {
        let script = format!("{:?} inspect | head -1; echo \"status ${{PIPESTATUS[0]}}\" >&2", bin.display().to_string());
        let out = std::process::Command::new("bash").arg("-c").arg(&script).current_dir(d).output().expect("bash");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(stdout.starts_with("model        tokenomics-policy") && stdout.lines().count() == 1, "{stdout}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.contains("status 0") || stderr.contains("status 141"), "{stderr}");
    }
}

/// A salt path that is a FIFO is refused at once (its open would wait for a writer for
/// ever), and so is a salt of zero (a salt anyone can guess), each by name.
#[test]
fn a_fifo_or_zero_salt_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    assert!(std::process::Command::new("mkfifo").arg(d.join("salt.fifo")).status().expect("mkfifo").success());
    zkpolicy(d)
        .args(["keygen", "--salt", "salt.fifo"])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("salt.fifo").and(predicates::str::contains("a salt file is a regular file")));
    std::fs::write(d.join("zero.salt"), format!("0x{}\n", "0".repeat(64))).expect("write");
    zkpolicy(d)
        .args(["keygen", "--salt", "zero.salt"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("zero.salt is not a valid salt file").and(predicates::str::contains("the salt is zero")));
    assert!(!d.join(".zkpolicy").exists(), "nothing cached for a refused salt");
}
