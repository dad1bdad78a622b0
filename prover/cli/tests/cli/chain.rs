//! The operator's path on a real JSON-RPC node: deploy, commit KPIs, prove,
//! submit, read the parameters back; and every chain command's failure paths.
//! This file holds the clock lock and the config and KPI files the modules below share.

mod adversary;
mod failures;
mod governance;
mod onchain;
mod operator;
mod walkthroughs;

use std::path::Path;
use std::sync::Mutex;

use serde_json::{json, Value};
use zkpolicy_lab::sim::{self, deployment_guardrails};

use crate::common::models;

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
