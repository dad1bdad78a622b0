//! Helpers shared by the CLI test binaries.
#![allow(dead_code)]

pub mod node;
pub mod tls;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

pub fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models")
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

/// Parses a command's stdout as JSON.
pub fn stdout_json(assert: &assert_cmd::assert::Assert) -> Value {
    serde_json::from_slice(&assert.get_output().stdout).expect("stdout is JSON")
}
