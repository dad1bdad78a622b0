//! Regenerates `generated/contracts/*.json`, `generated/contracts/economy/*.json` and
//! `generated/contracts/test/*.json`, the compiled controller, KPI sources and economy that
//! `zkpolicy deploy` ships and the attackers' bundle that `zkpolicy live --attackers` deploys: `cargo run -p zkpolicy-contracts --example render_contracts`.

use zkpolicy_contracts::{controller, economy};
use zkpolicy_verifier::compile;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let compiled = controller::compile_contracts(compile::bundled_dir())?;
    write(controller::artifacts_dir(), controller::render_artifacts(&compiled)?)?;
    let compiled = economy::compile_economy(compile::bundled_dir())?;
    write(controller::artifacts_dir().join("economy"), economy::render_artifacts(&compiled)?)?;
    write(controller::artifacts_dir().join("test"), economy::render_attacker_artifacts(&compiled)?)?;
    Ok(())
}

/// Writes each `(file name, text)` into `dir`, creating it.
fn write(dir: std::path::PathBuf, artifacts: Vec<(String, String)>) -> std::io::Result<()> {
    std::fs::create_dir_all(&dir)?;
    for (name, text) in artifacts {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
