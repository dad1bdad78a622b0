//! The pinned local development node (`verifier-contract/node/local-node.sh`, Hardhat) as a
//! child process: started on a free port, waited for until it answers JSON-RPC, stopped when
//! dropped. `zkpolicy live` starts one when no `$ZKPOLICY_RPC_URL` names a node; the tests
//! start theirs with it too, so the launcher is written once.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{ChainError, Client};

/// A local node this process started; killed on drop.
#[derive(Debug)]
pub struct LocalNode {
    url: String,
    child: Child,
}

impl LocalNode {
    /// Runs `script` (the launcher, which installs the pinned node on first use) on a free
    /// port, its output appended to `log` (or discarded, errors to this stderr, without one),
    /// and waits up to `limit` for it to answer.
    pub fn start(script: &Path, log: Option<&Path>, limit: Duration) -> Result<Self, ChainError> {
        let failed = |detail: String| ChainError::LocalNode { detail };
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| failed(format!("no free port: {e}")))?.port();
        let (stdout, stderr) = match log {
            Some(path) => {
                let file = std::fs::File::create(path).map_err(|e| failed(format!("cannot create {}: {e}", path.display())))?;
                let copy = file.try_clone().map_err(|e| failed(format!("{}: {e}", path.display())))?;
                (Stdio::from(file), Stdio::from(copy))
            }
            None => (Stdio::null(), Stdio::inherit()),
        };
        let child = Command::new("bash")
            .arg(script)
            .arg(port.to_string())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| failed(format!("cannot start {}: {e}", script.display())))?;
        let mut node = Self { url: format!("http://127.0.0.1:{port}"), child };
        let see = log.map(|p| format!("; see {}", p.display())).unwrap_or_default();
        wait_until_ready(&node.url, limit, Some(&mut node.child)).map_err(|detail| failed(format!("{detail}{see}")))?;
        Ok(node)
    }

    /// The node's JSON-RPC URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for LocalNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits up to `limit` for a node at `url` to answer; with `child`, stops waiting as soon as
/// that process exits. The error says which happened.
pub fn wait_until_ready(url: &str, limit: Duration, mut child: Option<&mut Child>) -> Result<(), String> {
    let started = Instant::now();
    loop {
        if Client::connect(url, None).is_ok() {
            return Ok(());
        }
        if let Some(child) = child.as_deref_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("the local node exited ({status}) before answering"));
            }
        }
        if started.elapsed() > limit {
            return Err(format!("no JSON-RPC node answered within {} s", limit.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
