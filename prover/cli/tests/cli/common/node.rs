//! A real local Ethereum JSON-RPC node for the end-to-end tests.
//!
//! `ZKPOLICY_RPC_URL` names a running node (`.ci/run` starts one with
//! `verifier-contract/node/local-node.sh`); without it, the test starts its own
//! with that script on a free port (installing the pinned Hardhat on first use)
//! and stops it when dropped.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    child: Option<Child>,
}

impl LocalNode {
    pub fn start() -> Self {
        if let Ok(url) = std::env::var("ZKPOLICY_RPC_URL") {
            wait_until_ready(&url, Duration::from_secs(30), None);
            return Self { url, child: None };
        }
        Self::start_own()
    }

    /// A node of this test's own, never the shared one: for tests that change how it
    /// mines (`evm_setAutomine`), which would stall every other test's transactions.
    pub fn start_own() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../verifier-contract/node/local-node.sh");
        let mut child = Command::new("bash")
            .arg(&script)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("bash runs verifier-contract/node/local-node.sh");
        let url = format!("http://127.0.0.1:{port}");
        // The first start may run `npm ci` for Hardhat.
        wait_until_ready(&url, Duration::from_secs(300), Some(&mut child));
        Self { url, child: Some(child) }
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

fn wait_until_ready(url: &str, limit: Duration, mut child: Option<&mut Child>) {
    let started = Instant::now();
    loop {
        if Client::connect(url, None).is_ok() {
            return;
        }
        if let Some(child) = child.as_deref_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the local node exited ({status}) before answering at {url}");
            }
        }
        assert!(started.elapsed() < limit, "no JSON-RPC node answered at {url} within {limit:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

impl Drop for LocalNode {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
