//! The controller's guardrails: the native twin of `PolicyController.guard`.
//!
//! For parameter `i` with current value `c`, proposed delta `d` and rail
//! `(min, max, max_step)`:
//!
//! ```text
//! step  = clamp(d, −max_step, max_step)
//! value = clamp(c + step, min, max)
//! hit   = hit ∨ (value ≠ c + d)
//! ```
//!
//! The contract computes in `int256`, so nothing overflows; here the inputs are
//! `i64` and the intermediates `i128`, which is exact for every `i64` input.

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// One governed parameter and its rail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guardrail {
    pub name: String,
    pub initial: i64,
    pub min: i64,
    pub max: i64,
    pub max_step: i64,
}

/// The outcome of guarding one adjustment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Guarded {
    /// The values the controller applies.
    pub values: Vec<i64>,
    /// Per parameter: the guarded value differs from `current + delta`.
    pub hits: Vec<bool>,
    /// Any parameter hit its rail: what the contract's `guard` returns.
    pub hit: bool,
}

impl Guardrail {
    /// The contract's `checkedRail` for rail `index`: `min ≤ initial ≤ max` and `max_step ≥ 0`.
    pub fn check(&self, index: usize) -> Result<(), ModelError> {
        let field = || format!("[{index}] ({})", self.name);
        if self.min > self.max || self.max_step < 0 {
            return Err(ModelError::guardrail(
                field(),
                format!("needs min <= max and max_step >= 0, got min {} max {} max_step {}", self.min, self.max, self.max_step),
            ));
        }
        if self.initial < self.min || self.initial > self.max {
            return Err(ModelError::guardrail(field(), format!("initial value {} is outside [{}, {}]", self.initial, self.min, self.max)));
        }
        Ok(())
    }
}

/// Applies `deltas` to `current` through `rails`, exactly as `PolicyController.guard`.
pub fn guard(current: &[i64], deltas: &[i64], rails: &[Guardrail]) -> Result<Guarded, ModelError> {
    if current.len() != rails.len() {
        return Err(ModelError::WrongCount { what: "current parameters", expected: rails.len(), got: current.len() });
    }
    if deltas.len() != rails.len() {
        return Err(ModelError::WrongCount { what: "parameter deltas", expected: rails.len(), got: deltas.len() });
    }
    let mut out = Guarded { values: Vec::with_capacity(rails.len()), hits: Vec::with_capacity(rails.len()), hit: false };
    for (i, ((&c, &d), g)) in current.iter().zip(deltas).zip(rails).enumerate() {
        if g.min > g.max || g.max_step < 0 {
            return Err(ModelError::guardrail(format!("[{i}] ({})", g.name), "needs min <= max and max_step >= 0"));
        }
        let (c, d) = (i128::from(c), i128::from(d));
        let step = d.clamp(-i128::from(g.max_step), i128::from(g.max_step));
        let value = (c + step).clamp(i128::from(g.min), i128::from(g.max));
        let hit = value != c + d;
        // `value` lies in [min, max], both i64.
        let value = i64::try_from(value).map_err(|_| ModelError::guardrail(format!("[{i}]"), "value left i64"))?;
        out.values.push(value);
        out.hits.push(hit);
        out.hit |= hit;
    }
    Ok(out)
}
