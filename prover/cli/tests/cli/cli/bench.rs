//! `bench`: its JSON and SVG for the default model, and an unknown model refused before measuring.

use serde_json::Value;

use crate::common::{stdout_json, zkpolicy};

#[test]
fn bench_writes_json_and_svg_for_the_default_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = zkpolicy(d)
        .args(["bench", "--models", "tokenomics-policy", "--runs", "1", "--out", "b.json", "--svg", "b.svg"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(out).expect("utf-8");
    assert!(table.contains("| tokenomics-policy | 484 | 10 |"), "{table}");
    let report: Value = serde_json::from_slice(&std::fs::read(d.join("b.json")).expect("json written")).expect("json");
    crate::common::check_schema(&report);
    assert!(report["machine"].as_str().expect("machine").contains("cores"));
    let row = &report["models"][0];
    assert_eq!(row["model"], "tokenomics-policy");
    assert_eq!(row["k"], 10);
    assert_eq!(row["runs"], 1);
    assert_eq!(row["proof_bytes"], 1184);
    for field in ["keygen_ms", "prove_p50_ms", "prove_p95_ms", "msm_floor_ms", "verify_ms"] {
        assert!(row[field].as_f64().expect(field) > 0.0, "{field}");
    }
    assert!(row["evm_verify_gas"].as_u64().expect("gas") > 100_000);
    assert!(row["runtime_bytes"].as_u64().expect("size") > 1_000);
    // Submission costs more than verification; the baseline recomputation far less (a small model).
    let (verify, submit, recompute) = (row["evm_verify_gas"].as_u64(), row["submit_gas"].as_u64(), row["recompute_gas"].as_u64());
    assert!(submit > verify && recompute < verify.map(|v| v / 4), "{verify:?} {submit:?} {recompute:?}");
    assert_eq!(row["precompiles"]["ec_mul"], 17);
    assert_eq!(row["precompiles"]["modexp"], 1);
    assert!(table.contains("| Ethereum L1 (Osaka) | EIP-7904 draft | Monad |"), "{table}");
    let svg = std::fs::read_to_string(d.join("b.svg")).expect("svg written");
    assert!(svg.starts_with("<svg") && svg.contains("recompute on chain") && svg.len() > 2_000);
    // The table can be re-made from the JSON alone, and --json prints the document itself.
    zkpolicy(d)
        .args(["bench", "--from-json", "b.json"])
        .assert()
        .success()
        .stdout(predicates::str::contains("| tokenomics-policy | 484 |"));
    assert_eq!(stdout_json(&zkpolicy(d).args(["bench", "--from-json", "b.json", "--json"]).assert().success()), report);
}

#[test]
fn bench_refuses_an_unknown_model_before_measuring() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = zkpolicy(dir.path())
        .args(["bench", "--models", "tokenomics-policy,policy-xxl", "--out", "b.json", "--json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown model \"policy-xxl\""));
    assert_eq!(stdout_json(&out)["error"]["kind"], "input");
    assert!(!dir.path().join("b.json").exists());
}
