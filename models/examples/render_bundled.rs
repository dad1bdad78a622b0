//! Renders the bundled model files: `cargo run -p zkpolicy-model --example render_bundled`.

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in [zkpolicy_model::synth::tokenomics_policy(), zkpolicy_model::synth::policy_m()?, zkpolicy_model::synth::policy_l()?] {
        let model = zkpolicy_model::Model::from_file(file)?;
        let path = dir.join(format!("{}.json", model.name()));
        std::fs::write(&path, zkpolicy_model::synth::render(model.file())?)?;
        println!("{} {}", path.display(), model.commitment());
    }
    Ok(())
}
