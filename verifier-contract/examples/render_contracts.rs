//! Regenerates `generated/contracts/*.json`, the compiled controller and KPI source that
//! `zkpolicy deploy` ships: `cargo run -p zkpolicy-verifier-contract --example render_contracts`.

use zkpolicy_verifier_contract::{compile, controller};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let compiled = controller::compile_contracts(compile::bundled_dir())?;
    let dir = controller::artifacts_dir();
    std::fs::create_dir_all(&dir)?;
    for (name, text) in controller::render_artifacts(&compiled)? {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
