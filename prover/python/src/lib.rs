//! `zkpolicy._native`: the Python bindings of zkpolicy. Conversion and error mapping only;
//! every computation is a call into `zkpolicy-lab`, `zkpolicy-model` or `zkpolicy-prover`.
//!
//! Every Rust error reaches Python as [`ZkPolicyError`] (a `ValueError`) carrying the error's
//! message and its causes; a proof that was checked and is false raises [`InvalidProofError`],
//! a subclass. No input a caller controls makes this module panic.

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

mod convert;
mod import;
mod proving;
mod sim;

create_exception!(
    zkpolicy,
    ZkPolicyError,
    PyValueError,
    "An input zkpolicy refused (a bad scenario, action, rail, model or file), with the Rust error's message."
);
create_exception!(
    zkpolicy,
    InvalidProofError,
    ZkPolicyError,
    "A proof that was checked and is false: for another model, or for other public inputs than its artifact claims."
);

/// The Python error for a Rust error: its message followed by each cause that says something new.
pub(crate) fn error(err: &(dyn std::error::Error + 'static)) -> PyErr {
    ZkPolicyError::new_err(zkpolicy_prover::describe(err))
}

/// [`error`] for an owned error, for `map_err`.
pub(crate) fn to_py_err<E: std::error::Error + 'static>(err: E) -> PyErr {
    error(&err)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ZkPolicyError", py.get_type::<ZkPolicyError>())?;
    m.add("InvalidProofError", py.get_type::<InvalidProofError>())?;
    m.add("EPOCH_SECONDS", zkpolicy_lab::sim::EPOCH_SECONDS)?;
    m.add_class::<sim::Episode>()?;
    m.add_function(wrap_pyfunction!(sim::scenarios, m)?)?;
    m.add_function(wrap_pyfunction!(sim::kpi_specs, m)?)?;
    m.add_function(wrap_pyfunction!(sim::deployment_guardrails, m)?)?;
    m.add_function(wrap_pyfunction!(sim::action_to_deltas, m)?)?;
    m.add_function(wrap_pyfunction!(sim::guard, m)?)?;
    m.add_function(wrap_pyfunction!(sim::epoch_reward, m)?)?;
    m.add_function(wrap_pyfunction!(sim::simulate, m)?)?;
    m.add_function(wrap_pyfunction!(sim::backtest, m)?)?;
    m.add_function(wrap_pyfunction!(import::import_onnx, m)?)?;
    m.add_function(wrap_pyfunction!(proving::infer, m)?)?;
    m.add_function(wrap_pyfunction!(proving::prove, m)?)?;
    m.add_function(wrap_pyfunction!(proving::verify, m)?)?;
    Ok(())
}
