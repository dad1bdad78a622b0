//! What the end-to-end tests share: the bundled models and their circuits.
#![allow(dead_code)]

use std::sync::Arc;

use zkpolicy_circuits::{Objective, PolicyCircuit};
use zkpolicy_model::Model;

/// A bundled model, from the compiled-in registry.
pub fn model(name: &str) -> Arc<Model> {
    Arc::new(zkpolicy_lab::bundled::model(name).expect("bundled model builds").expect("a bundled name"))
}

/// The circuit a deployment uses: the shape planned for verification gas.
pub fn deployed_circuit(name: &str) -> PolicyCircuit {
    PolicyCircuit::new(model(name)).expect("plan")
}

/// The deployed shape where it proves quickly (k ≤ 11), otherwise the prover-time shape:
/// one lane on the small models, wide lanes on the large ones, so tests meet both layouts
/// without proving at k = 17 over and over (one smoke test does, in `verifier_evm.rs`).
pub fn test_circuit(name: &str) -> PolicyCircuit {
    let gas = deployed_circuit(name);
    if gas.shape().k <= 11 {
        gas
    } else {
        PolicyCircuit::planned(model(name), Objective::ProverTime).expect("plan")
    }
}
