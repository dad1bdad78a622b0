//! The bundled models, compiled in: one registry that the CLI, the benches and the tests
//! all read, so nothing looks for `models/` on disk at run time.
//!
//! The four model files are embedded as written (a test holds each equal to its
//! builder's render); `policy-xl` is built from its seed, its file would be 5 MB.

use zkpolicy_model::Model;

use crate::{synth, LabError};

/// The bundled model files, by name (the file is `models/<name>.json`).
const FILES: [(&str, &str); 4] = [
    ("tokenomics-policy", include_str!("../../tokenomics-policy.json")),
    ("trained-policy", include_str!("../../trained-policy.json")),
    ("policy-m", include_str!("../../policy-m.json")),
    ("policy-l", include_str!("../../policy-l.json")),
];

/// Models built from a seed rather than shipped as a file.
const BUILT: [&str; 1] = ["policy-xl"];

/// The default model's name.
pub const DEFAULT: &str = "tokenomics-policy";

/// The KPI snapshot bundled with the default model (`models/kpis-sample.json`).
pub const DEFAULT_KPIS: &str = include_str!("../../kpis-sample.json");

/// Every bundled name: the files, then the built models.
pub fn names() -> Vec<&'static str> {
    FILES.iter().map(|(name, _)| *name).chain(BUILT).collect()
}

/// The JSON of a bundled model file, if `name` is one.
pub fn file_json(name: &str) -> Option<&'static str> {
    FILES.iter().find(|(n, _)| *n == name).map(|(_, json)| *json)
}

/// A bundled model by name: `Ok(None)` when no bundled model has that name.
pub fn model(name: &str) -> Result<Option<Model>, LabError> {
    if let Some(json) = file_json(name) {
        return Ok(Some(Model::from_json(json)?));
    }
    match name {
        "policy-xl" => Ok(Some(Model::from_file(synth::policy_xl()?)?)),
        _ => Ok(None),
    }
}
