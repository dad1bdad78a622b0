//! Helpers shared by the CLI test binaries.
#![allow(dead_code)]

pub mod node;
pub mod rpc_proxy;
pub mod tls;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

pub fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models")
}

/// The `zkpolicy` binary, run in `dir`, with no signing key or RPC URL inherited from the caller.
pub fn zkpolicy(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("zkpolicy").expect("binary built");
    cmd.current_dir(dir).env_remove("ZKPOLICY_PRIVATE_KEY").env_remove("ZKPOLICY_KEYSTORE_PASSWORD").env_remove("ZKPOLICY_RPC_URL");
    cmd
}

/// Rewrites a JSON file (`from` → `to`, both in `dir`) through `edit`.
pub fn edit_json(dir: &Path, from: &str, to: &str, edit: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_slice(&std::fs::read(dir.join(from)).expect("json file")).expect("json");
    edit(&mut v);
    std::fs::write(dir.join(to), serde_json::to_vec_pretty(&v).expect("json")).expect("write");
}

/// Parses a command's `--json` stdout, and checks it against its schema: every JSON
/// document a test sees is validated (see [`check_schema`]).
pub fn stdout_json(assert: &assert_cmd::assert::Assert) -> Value {
    let value = serde_json::from_slice(&assert.get_output().stdout).expect("stdout is JSON");
    check_schema(&value);
    value
}

/// Runs a `--json` command and checks that its stdout is exactly one JSON document valid
/// against its schema, failures included; returns the assertion for the exit code.
pub fn json_run(cmd: &mut Command) -> assert_cmd::assert::Assert {
    let assert = cmd.assert();
    stdout_json(&assert);
    assert
}

/// `prover/cli/schemas/`, one strict JSON Schema per command's `--json` output.
pub fn schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// Validates a `--json` document against `prover/cli/schemas/<command>.schema.json`, the
/// command being the one the document names (`error.schema.json` for a failure). The
/// schemas forbid unknown fields, so a renamed or added field fails until its schema says so.
pub fn check_schema(output: &Value) {
    let name = if output.get("error").is_some() {
        "error"
    } else {
        output["command"].as_str().unwrap_or_else(|| panic!("a --json document names its command: {output}"))
    };
    assert_valid(name, output);
}

/// Validates `document` against `prover/cli/schemas/<name>.schema.json`.
pub fn assert_valid(name: &str, document: &Value) {
    let path = schemas().join(format!("{name}.schema.json"));
    let schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name}: not a valid schema: {e}"));
    let errors: Vec<String> = validator.iter_errors(document).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{name}: {errors:?}\n{document}");
}
