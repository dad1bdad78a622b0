//! Regenerates `generated/contracts/` (`cargo run -p zkpolicy-contracts --example
//! render_contracts`): the compiled controller, KPI sources and economy that `zkpolicy deploy`
//! ships, the attackers' bundle that `zkpolicy live --attackers` deploys and the test doubles,
//! each as an artifact (`.json`) and its ABI as a Solidity interface (`.abi.sol`), which the
//! Rust bindings are generated from.

use zkpolicy_contracts::controller;
use zkpolicy_verifier::compile;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for (name, text) in zkpolicy_contracts::render_generated(compile::bundled_dir())? {
        let path = controller::artifacts_dir().join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
