//! Regenerates `generated/contracts/*.json`, `generated/contracts/economy/*.json` and
//! `generated/contracts/test/*.json`, the compiled controller, KPI sources and economy that
//! `zkpolicy deploy` ships and the attackers' bundle that `zkpolicy live --attackers` deploys: `cargo run -p zkpolicy-verifier-contract --example render_contracts`.

use zkpolicy_verifier_contract::{compile, controller, economy};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let compiled = controller::compile_contracts(compile::bundled_dir())?;
    let dir = controller::artifacts_dir();
    std::fs::create_dir_all(&dir)?;
    for (name, text) in controller::render_artifacts(&compiled)? {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        println!("wrote {}", path.display());
    }
    let compiled = economy::compile_economy(compile::bundled_dir())?;
    let dir = controller::artifacts_dir().join("economy");
    std::fs::create_dir_all(&dir)?;
    for (name, text) in economy::render_artifacts(&compiled)? {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        println!("wrote {}", path.display());
    }
    let dir = controller::artifacts_dir().join("test");
    std::fs::create_dir_all(&dir)?;
    for (name, text) in economy::render_attacker_artifacts(&compiled)? {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
