//! What the end-to-end tests share: the bundled models and their circuits.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use halo2_proofs::halo2curves::bn256::Bn256;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;

use zkpolicy_circuits::{Objective, PolicyCircuit};
use zkpolicy_model::{Model, QuantizedKpis};
use zkpolicy_prover::keys::Prepared;
use zkpolicy_prover::srs::SrsSource;

/// The development SRS, kept on disk for every test binary of this build
/// (`CARGO_TARGET_TMPDIR/srs`): making it is most of the cost of keys at large k (about
/// 30 s at k = 17 on 2 cores), and many tests need the same sizes.
pub fn dev_srs() -> SrsSource {
    SrsSource::DevCached(Path::new(env!("CARGO_TARGET_TMPDIR")).join("srs"))
}

/// The development SRS for `k` ([`dev_srs`]), made once: tests that need the same size
/// wait for one of them to make it rather than each making it.
pub fn dev_params(k: u32) -> ParamsKZG<Bn256> {
    static MAKING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = MAKING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    dev_srs().params(k).expect("the development SRS")
}

/// `circuit` with development keys, on the shared development SRS ([`dev_params`]).
pub fn prepare(circuit: PolicyCircuit) -> Prepared {
    let params = dev_params(circuit.shape().k);
    let pk = zkpolicy_prover::keys::keygen(&params, &circuit).expect("keygen");
    Prepared { circuit, params, pk, srs: dev_srs(), origin: zkpolicy_prover::keys::KeyOrigin::Generated }
}

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

/// A bundled model at its test shape ([`test_circuit`]), with development keys: made
/// once per test binary and shared by every test that proves it.
pub fn prepared(name: &str) -> &'static Prepared {
    static MADE: OnceLock<Mutex<HashMap<String, &'static Prepared>>> = OnceLock::new();
    let mut made = MADE.get_or_init(Default::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    made.entry(name.to_string()).or_insert_with(|| Box::leak(Box::new(prepare(test_circuit(name)))))
}

/// A bundled model at its deployed shape ([`deployed_circuit`]), with development keys:
/// [`prepared`] where the two shapes are the same, otherwise made once per test binary.
pub fn prepared_deployed(name: &str) -> &'static Prepared {
    if deployed_circuit(name).shape().k <= 11 {
        return prepared(name);
    }
    static MADE: OnceLock<Mutex<HashMap<String, &'static Prepared>>> = OnceLock::new();
    let mut made = MADE.get_or_init(Default::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    made.entry(name.to_string()).or_insert_with(|| Box::leak(Box::new(prepare(deployed_circuit(name)))))
}

/// The KPIs with KPI `i` changed and not checked: a claim a verifier must refuse.
pub fn changed_kpi(kpis: &QuantizedKpis, i: usize, change: impl Fn(i64) -> i64) -> QuantizedKpis {
    let mut values = kpis.to_vec();
    values[i] = change(values[i]);
    QuantizedKpis::new_unsafe(values)
}
