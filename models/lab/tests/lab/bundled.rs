//! The bundled model files are exactly what their builders make.

use std::path::PathBuf;

use zkpolicy_lab::synth;
use zkpolicy_model::Model;

/// `models/`, where the bundled files live.
fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn bundled_files_are_reproducible_from_their_builders() {
    let trained = zkpolicy_lab::train::bundled_trained_policy().expect("trains");
    let builders = [
        ("tokenomics-policy", synth::tokenomics_policy()),
        ("policy-m", synth::policy_m().expect("builds")),
        ("policy-l", synth::policy_l().expect("builds")),
        ("trained-policy", trained.quantized.file),
        ("trained-policy-kpi", zkpolicy_lab::train::bundled_kpi_only_policy().expect("trains").quantized.file),
    ];
    for (name, file) in builders {
        let committed = std::fs::read_to_string(dir().join(format!("{name}.json"))).expect("bundled file");
        let fresh = synth::render(&file).expect("renders");
        assert!(committed == fresh, "models/{name}.json drifted: run `cargo run --release -p zkpolicy-lab --example render_bundled`");
        let model = Model::from_json(&committed).expect("bundled model validates");
        assert_eq!(model.name(), name);
    }
    let float = std::fs::read_to_string(dir().join("trained-policy.float.json")).expect("bundled float policy");
    // Compared as text: serde_json's default float parser is not always correctly rounded.
    let fresh = format!("{}\n", serde_json::to_string_pretty(&trained.result.best).expect("json"));
    assert!(float == fresh, "models/trained-policy.float.json drifted: rerun render_bundled");
}

#[test]
fn the_registry_serves_every_bundled_model_and_no_other() {
    for name in zkpolicy_lab::bundled::names() {
        let model = zkpolicy_lab::bundled::model(name).expect("builds").expect("known");
        assert_eq!(model.name(), name);
        if let Some(json) = zkpolicy_lab::bundled::file_json(name) {
            let on_disk = std::fs::read_to_string(dir().join(format!("{name}.json"))).expect("bundled file");
            assert_eq!(json, on_disk, "{name}: the embedded file is the one in models/");
        }
    }
    assert!(zkpolicy_lab::bundled::model("policy-xxl").expect("no error").is_none());
}
