//! Regenerates `generated/contracts/` (`cargo run -p zkpolicy-contracts --example
//! render_contracts`): the compiled controller, KPI sources and economy that `zkpolicy deploy`
//! ships, the attackers' bundle that `zkpolicy live --attackers` deploys and the test doubles,
//! each as an artifact (`.json`) and its ABI as a Solidity interface (`.abi.sol`), which the
//! Rust bindings are generated from.

use zkpolicy_contracts::{controller, economy};
use zkpolicy_verifier::compile;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut files = controller::render_artifacts(&controller::compile_contracts(compile::bundled_dir())?)?;
    files.extend(economy::render_artifacts(&economy::compile_economy(compile::bundled_dir())?)?);
    for (name, text) in files {
        let path = controller::artifacts_dir().join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
