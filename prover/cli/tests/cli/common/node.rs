//! A real local Ethereum JSON-RPC node for the end-to-end tests.
//!
//! `ZKPOLICY_RPC_URL` names a running node (`.ci/run` starts one with
//! `verifier-contract/node/local-node.sh`); without it, the test starts its own
//! with that script on a free port (installing the pinned Hardhat on first use)
//! and stops it when dropped.

use std::path::Path;
use std::time::Duration;

use zkpolicy_chain::local_node::{self, wait_until_ready};
use zkpolicy_chain::Client;

/// Hardhat's public development keys (accounts #0..#2, funded on every Hardhat node).
/// They are printed by every Hardhat node; never use them on a real network.
pub const DEV_KEYS: [&str; 3] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
];

pub struct LocalNode {
    pub url: String,
    _own: Option<local_node::LocalNode>,
}

impl LocalNode {
    pub fn start() -> Self {
        if let Ok(url) = std::env::var("ZKPOLICY_RPC_URL") {
            if let Err(e) = wait_until_ready(&url, Duration::from_secs(30), None) {
                panic!("$ZKPOLICY_RPC_URL: {e} at {url}");
            }
            return Self { url, _own: None };
        }
        Self::start_own()
    }

    /// A node of this test's own, never the shared one: for tests that change how it
    /// mines (`evm_setAutomine`), which would stall every other test's transactions.
    pub fn start_own() -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../verifier-contract/node/local-node.sh");
        // The first start may run `npm ci` for Hardhat.
        let own = local_node::LocalNode::start(&script, None, Duration::from_secs(300)).expect("the local node starts");
        Self { url: own.url().to_string(), _own: Some(own) }
    }
}

impl LocalNode {
    /// Moves the node's clock forward by `seconds` and mines a block there.
    pub fn advance(&self, seconds: u64) {
        let client = Client::connect(&self.url, None).expect("the node answers");
        client.request("evm_increaseTime", serde_json::json!([seconds])).expect("evm_increaseTime");
        client.request("evm_mine", serde_json::json!([])).expect("evm_mine");
    }
}
