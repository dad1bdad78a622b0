//! Renders the bundled model files: `cargo run --release -p zkpolicy-lab --example render_bundled`.

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let trained = zkpolicy_lab::train::bundled_trained_policy()?;
    let files = [
        zkpolicy_lab::synth::tokenomics_policy(),
        zkpolicy_lab::synth::policy_m()?,
        zkpolicy_lab::synth::policy_l()?,
        trained.quantized.file,
        zkpolicy_lab::train::bundled_kpi_only_policy()?.quantized.file,
    ];
    for file in files {
        let model = zkpolicy_model::Model::from_file(file)?;
        let path = dir.join(format!("{}.json", model.name()));
        std::fs::write(&path, zkpolicy_lab::synth::render(model.file())?)?;
        println!("{} {}", path.display(), model.commitment());
    }
    let float = dir.join("trained-policy.float.json");
    std::fs::write(&float, format!("{}\n", serde_json::to_string_pretty(&trained.result.best)?))?;
    println!("{}", float.display());
    Ok(())
}
