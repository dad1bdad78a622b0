//! Artifacts in the shapes the contract toolchains read, so a protocol's Foundry or Hardhat
//! project can deploy, call and test against zkpolicy's contracts without recompiling them.
//!
//! - Foundry: `out/<File>.sol/<Contract>.json` with `abi`, `bytecode.object` and
//!   `deployedBytecode.object` (and empty link references).
//! - Hardhat: `artifacts/contracts/<File>.sol/<Contract>.json`, format `hh-sol-artifact-1`.
//! - `IZkPolicyVerifier.sol`: the interface every generated verifier implements.

use serde_json::{json, Value};

use crate::compile::Compiled;

/// The interface of every generated verifier (`ZkPolicyVerifier`), for contracts that call one.
pub const VERIFIER_INTERFACE: &str = include_str!("../../contracts/IZkPolicyVerifier.sol");

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Foundry's artifact of `contract`.
pub fn foundry(compiled: &Compiled) -> Value {
    json!({
        "abi": compiled.abi,
        "bytecode": { "object": hex0x(&compiled.bytecode), "linkReferences": {} },
        "deployedBytecode": { "object": hex0x(&compiled.deployed_bytecode), "linkReferences": {} },
    })
}

/// Hardhat's artifact of `contract`, compiled from `contracts/<file>`.
pub fn hardhat(compiled: &Compiled, contract: &str, file: &str) -> Value {
    json!({
        "_format": "hh-sol-artifact-1",
        "contractName": contract,
        "sourceName": format!("contracts/{file}"),
        "abi": compiled.abi,
        "bytecode": hex0x(&compiled.bytecode),
        "deployedBytecode": hex0x(&compiled.deployed_bytecode),
        "linkReferences": {},
        "deployedLinkReferences": {},
    })
}

/// The toolchain files of `contract` (from source file `file`): relative path and content.
pub fn files(compiled: &Compiled, contract: &str, file: &str) -> Vec<(String, String)> {
    let pretty = |v: &Value| format!("{}\n", serde_json::to_string_pretty(v).unwrap_or_default());
    vec![
        (format!("{contract}.abi.json"), pretty(&compiled.abi)),
        (format!("foundry/out/{file}/{contract}.json"), pretty(&foundry(compiled))),
        (format!("hardhat/artifacts/contracts/{file}/{contract}.json"), pretty(&hardhat(compiled, contract, file))),
    ]
}
