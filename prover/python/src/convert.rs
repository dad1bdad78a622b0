//! Values across the boundary: Rust values go out through serde as plain Python objects
//! (dicts, lists, numbers, strings); structured Python arguments come in as JSON text, or as
//! Python objects that `json.dumps` turns into it, and are parsed by serde with the crates'
//! own schemas (`deny_unknown_fields` included).

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use pyo3::IntoPyObjectExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use zkpolicy_model::Model;

use crate::ZkPolicyError;

/// `value` as Python objects: objects become dicts (keys in serde's order), arrays lists.
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    match value {
        Value::Null => Ok(py.None().into_bound(py)),
        Value::Bool(b) => b.into_bound_py_any(py),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_bound_py_any(py),
            (None, Some(u)) => u.into_bound_py_any(py),
            // serde_json numbers that are neither integer are finite floats.
            (None, None) => n.as_f64().unwrap_or(f64::NAN).into_bound_py_any(py),
        },
        Value::String(s) => Ok(PyString::new(py, s).into_any()),
        Value::Array(items) => {
            let items = items.iter().map(|v| to_py(py, v)).collect::<PyResult<Vec<_>>>()?;
            Ok(PyList::new(py, items)?.into_any())
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            Ok(dict.into_any())
        }
    }
}

/// Any serializable Rust value as Python objects.
pub fn serialize<'py>(py: Python<'py>, value: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(value).map_err(crate::to_py_err)?;
    to_py(py, &value)
}

/// A structured argument: JSON text, or a Python value (dicts, lists, numbers) that
/// `json.dumps` accepts. `what` names it in errors.
pub fn from_py<T: DeserializeOwned>(arg: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let text = match arg.cast::<PyString>() {
        Ok(s) => s.to_cow()?.into_owned(),
        Err(_) => {
            let dumps = arg.py().import("json")?.getattr("dumps")?;
            dumps
                .call1((arg,))
                .and_then(|t| t.extract::<String>())
                .map_err(|e| ZkPolicyError::new_err(format!("{what}: not JSON-serialisable ({})", e.value(arg.py()))))?
        }
    };
    serde_json::from_str(&text).map_err(|e| ZkPolicyError::new_err(format!("{what}: {e}")))
}

/// A model argument: the model file's JSON text (anything starting with `{`), or a path to it.
/// The model is validated either way.
pub fn model(arg: &Bound<'_, PyAny>) -> PyResult<Arc<Model>> {
    if let Ok(text) = arg.cast::<PyString>() {
        let text = text.to_cow()?;
        if text.trim_start().starts_with('{') {
            return Model::from_json(&text).map(Arc::new).map_err(|e| with_context("model JSON", &e));
        }
    }
    let path: PathBuf = arg.extract()?;
    Model::load(&path).map(Arc::new).map_err(|e| with_context(&format!("model file {}", path.display()), &e))
}

/// A `ZkPolicyError` whose message starts with `context`.
pub fn with_context(context: &str, err: &(dyn std::error::Error + 'static)) -> PyErr {
    ZkPolicyError::new_err(format!("{context}: {}", zkpolicy_prover::describe(err)))
}
