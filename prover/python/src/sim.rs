//! The simulator: the stepwise [`Episode`], whole runs, backtests, the guard twin, and the
//! declarations (scenarios, KPIs, rails) an environment needs for its spaces.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use zkpolicy_lab::sim::{
    self, Anchor, EpochRecord, Guardrail, IntegerPolicy, Policy, RewardConfig, RuleBased, Scenario, ScenarioKind, SimConfig, StaticPolicy,
};

use crate::convert::{self, from_py, serialize};
use crate::{to_py_err, ZkPolicyError};

/// The scenario named `name` (see `scenarios()`), seeded, with the shock at `shock_start`.
fn scenario(name: &str, seed: u64, epochs: usize, intensity: f64, shock_start: usize) -> PyResult<Scenario> {
    let kind = ScenarioKind::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = ScenarioKind::ALL.iter().map(|k| k.name()).collect();
        ZkPolicyError::new_err(format!("unknown scenario {name:?}; the scenarios are {}", known.join(", ")))
    })?;
    let scenario = Scenario { intensity, shock_start, ..Scenario::new(kind, seed, epochs) };
    scenario.validate().map_err(to_py_err)?;
    Ok(scenario)
}

/// Rails from a Python argument: `None` for the bundled deployment's, else JSON text or a
/// list of dicts with `name`, `initial`, `min`, `max`, `max_step` (and optionally
/// `dead_band`, `max_change_bps`, `window`).
fn rails(arg: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Guardrail>> {
    arg.map_or_else(|| Ok(sim::deployment_guardrails()), |a| from_py(a, "rails"))
}

/// An epoch's record as a dict, with its reward under the default `RewardConfig`.
fn record<'py>(py: Python<'py>, record: &EpochRecord) -> PyResult<Bound<'py, PyAny>> {
    let dict = serialize(py, record)?;
    let reward = RewardConfig::default().epoch_reward(&record.outcome_kpis, record.hit_count());
    dict.set_item("reward", reward)?;
    Ok(dict)
}

/// One scenario run, stepped by the caller's deltas: `Episode(scenario, seed, epochs)` runs the
/// warm-up; `observation()` is what the next decision sees; `step(deltas)` guards the deltas
/// (bps, one per parameter) exactly as the simulator does, advances one epoch and returns its
/// record. The same seed and deltas give the same trajectory bit for bit, and stepping a
/// policy's deltas reproduces `simulate` for that policy.
#[pyclass(module = "zkpolicy._native")]
pub struct Episode {
    inner: sim::Episode,
}

#[pymethods]
impl Episode {
    #[new]
    #[pyo3(signature = (scenario, seed, epochs, *, intensity = 1.0, shock_start = 20))]
    fn new(scenario: &str, seed: u64, epochs: usize, intensity: f64, shock_start: usize) -> PyResult<Self> {
        let scenario = self::scenario(scenario, seed, epochs, intensity, shock_start)?;
        let inner = sim::Episode::new(&scenario, &SimConfig::default()).map_err(to_py_err)?;
        Ok(Self { inner })
    }

    /// `{"kpis": [8 floats, clamped, real values], "params": [4 ints, bps]}` for the next decision.
    fn observation<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let seen = self.inner.observation();
        let dict = PyDict::new(py);
        dict.set_item("kpis", seen.kpis.to_vec())?;
        dict.set_item("params", seen.params.to_vec())?;
        Ok(dict)
    }

    /// Guards `deltas`, runs one epoch, and returns its record as a dict: `epoch`, `kpis`,
    /// `params_before`, `decision` (the deltas), `params` (guarded), `hits`, `hit`,
    /// `outcome_kpis`, `market` and `reward`. Raises once the episode is done.
    fn step<'py>(&mut self, py: Python<'py>, deltas: Vec<i64>) -> PyResult<Bound<'py, PyAny>> {
        let r = self.inner.step(&deltas).map_err(to_py_err)?;
        record(py, &r)
    }

    /// `action_to_deltas` on this episode's rails.
    fn action_to_deltas(&self, actions: Vec<f64>) -> PyResult<Vec<i64>> {
        sim::action_to_deltas(&actions, self.inner.rails()).map_err(to_py_err)
    }

    /// Whether every epoch has been stepped.
    fn done(&self) -> bool {
        self.inner.done()
    }

    /// Epochs stepped so far.
    #[getter]
    fn epoch(&self) -> usize {
        self.inner.epoch()
    }

    /// The scenario: kind, seed, epochs, shock_start, intensity.
    #[getter]
    fn scenario<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        serialize(py, self.inner.scenario())
    }

    /// The market at the end of the warm-up.
    #[getter]
    fn start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        serialize(py, self.inner.start())
    }

    /// The market now.
    fn market<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        serialize(py, &self.inner.market())
    }
}

/// `[(name, description)]` of the scenario suite.
#[pyfunction]
pub fn scenarios() -> Vec<(&'static str, &'static str)> {
    ScenarioKind::ALL.iter().map(|k| (k.name(), k.description())).collect()
}

/// The eight KPIs the policy sees, in vector order: `[{"name", "unit", "min", "max",
/// "scale_bits", "description"}]` (the default model's declarations; the simulator clamps
/// every KPI into `[min, max]`).
#[pyfunction]
pub fn kpi_specs(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    serialize(py, &sim::kpis::kpi_specs())
}

/// The bundled deployment's four rails: `[{"name", "initial", "min", "max", "max_step"}]`.
#[pyfunction]
pub fn deployment_guardrails(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    serialize(py, &sim::deployment_guardrails())
}

/// Deltas (bps) for normalised actions: each clipped to [-1, 1], then
/// `floor(a * max_step + 0.5)`; `rails` as in `guard` (default: the deployment's).
/// Raises on a wrong number of actions or a NaN or infinite one.
#[pyfunction]
#[pyo3(signature = (actions, rails = None))]
pub fn action_to_deltas(actions: Vec<f64>, rails: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<i64>> {
    sim::action_to_deltas(&actions, &self::rails(rails)?).map_err(to_py_err)
}

/// The controller's guard (the twin of `PolicyController.guard`): applies `deltas` to
/// `current` through `rails` at time `now` (seconds) given the cap `anchors`
/// (`[{"value", "since"}]`, default: no window yet). Rails as JSON text or a list of dicts
/// (default: the deployment's). Returns `{"values", "hits", "hit", "anchors"}`.
#[pyfunction]
#[pyo3(signature = (current, deltas, rails = None, anchors = None, now = 0))]
pub fn guard<'py>(
    py: Python<'py>,
    current: Vec<i64>,
    deltas: Vec<i64>,
    rails: Option<&Bound<'py, PyAny>>,
    anchors: Option<&Bound<'py, PyAny>>,
    now: u64,
) -> PyResult<Bound<'py, PyAny>> {
    let rails = self::rails(rails)?;
    let anchors: Vec<Anchor> = match anchors {
        Some(a) => from_py(a, "anchors")?,
        None => vec![Anchor::default(); rails.len()],
    };
    let guarded = sim::guard_at(&current, &deltas, &rails, &anchors, now).map_err(to_py_err)?;
    serialize(py, &guarded)
}

/// The simulator's per-epoch reward (`RewardConfig.epoch_reward`, default weights) for the
/// KPIs observed after an epoch and the number of parameters that hit a guardrail.
#[pyfunction]
pub fn epoch_reward(outcome_kpis: Vec<f64>, hits: usize) -> f64 {
    RewardConfig::default().epoch_reward(&outcome_kpis, hits)
}

/// The policy `simulate` and `backtest` run: `"static"`, `"rule_based"`, or an integer model
/// (its JSON text or file path).
fn policy(arg: &Bound<'_, PyAny>) -> PyResult<Box<dyn Policy>> {
    if let Ok(name) = arg.extract::<String>() {
        match name.as_str() {
            "static" => return Ok(Box::new(StaticPolicy)),
            "rule_based" => return Ok(Box::new(RuleBased::default())),
            _ => {}
        }
    }
    let model = convert::model(arg)?;
    Ok(Box::new(IntegerPolicy::new((*model).clone()).map_err(to_py_err)?))
}

/// `sim::simulate`: runs `policy` (`"static"`, `"rule_based"`, or a model's JSON text or path)
/// through the scenario and returns the whole trajectory as a dict (`epochs` holds each
/// epoch's record, as `Episode.step` returns it but without `reward`).
#[pyfunction]
#[pyo3(signature = (scenario, seed, epochs, policy = None, *, intensity = 1.0, shock_start = 20))]
pub fn simulate<'py>(
    py: Python<'py>,
    scenario: &str,
    seed: u64,
    epochs: usize,
    policy: Option<&Bound<'py, PyAny>>,
    intensity: f64,
    shock_start: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let scenario = self::scenario(scenario, seed, epochs, intensity, shock_start)?;
    let policy: Box<dyn Policy> = match policy {
        Some(p) => self::policy(p)?,
        None => Box::new(StaticPolicy),
    };
    let trajectory = py.detach(|| sim::simulate(policy.as_ref(), &scenario, &SimConfig::default())).map_err(to_py_err)?;
    serialize(py, &trajectory)
}

/// `zkpolicy_lab::backtest` of one scenario with the integer model `model` (JSON text or
/// path): `{"policy", "scenario", "metrics": {"volatility", "staking_in_band", "max_drawdown",
/// "guardrail_hits", "mean_reward"}, "trajectory"}`.
#[pyfunction]
#[pyo3(signature = (model, scenario = "crash", seed = 0, epochs = 120))]
pub fn backtest<'py>(py: Python<'py>, model: &Bound<'py, PyAny>, scenario: &str, seed: u64, epochs: usize) -> PyResult<Bound<'py, PyAny>> {
    let model = convert::model(model)?;
    let policy = IntegerPolicy::new((*model).clone()).map_err(to_py_err)?;
    let scenario = self::scenario(scenario, seed, epochs, 1.0, 20)?;
    let result = py
        .detach(|| zkpolicy_lab::backtest::backtest(&policy, &[scenario], &SimConfig::default(), &RewardConfig::default()))
        .map_err(to_py_err)?;
    let run = result.scenarios.first().ok_or_else(|| ZkPolicyError::new_err("the backtest ran no scenario"))?;
    let dict = PyDict::new(py);
    dict.set_item("policy", &result.policy)?;
    dict.set_item("scenario", &run.scenario)?;
    dict.set_item("metrics", serialize(py, &run.metrics)?)?;
    dict.set_item("trajectory", serialize(py, &run.trajectory)?)?;
    Ok(dict.into_any())
}
