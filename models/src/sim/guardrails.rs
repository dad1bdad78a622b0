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

/// Parameter indices, in the order of the policy outputs and the contract's rails.
pub const EMISSION_RATE: usize = 0;
pub const STAKING_REWARD: usize = 1;
pub const BURN_RATE: usize = 2;
pub const FEE: usize = 3;
/// Number of governed parameters.
pub const PARAMETER_COUNT: usize = 4;

/// One governed parameter (all values in bps) and its rail.
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

/// The parameters and rails of `models/tokenomics-deployment.json`, embedded so
/// the library reads no files.
pub fn deployment_guardrails() -> Vec<Guardrail> {
    let rail = |name: &str, initial, min, max, max_step| Guardrail { name: name.into(), initial, min, max, max_step };
    vec![
        rail("emission_rate_bps", 500, 0, 2000, 25),
        rail("staking_reward_bps", 800, 0, 2000, 60),
        rail("burn_rate_bps", 100, 0, 1000, 25),
        rail("fee_bps", 30, 0, 300, 10),
    ]
}

impl Guardrail {
    /// The contract's `checkedRail` for rail `index`: `min ≤ initial ≤ max` and `max_step ≥ 0`.
    pub fn check(&self, index: usize) -> Result<(), ModelError> {
        let field = || format!("[{index}] ({})", self.name);
        if self.min > self.max || self.max_step < 0 {
            return Err(ModelError::config(
                "guardrails",
                field(),
                format!("needs min <= max and max_step >= 0, got min {} max {} max_step {}", self.min, self.max, self.max_step),
            ));
        }
        if self.initial < self.min || self.initial > self.max {
            return Err(ModelError::config(
                "guardrails",
                field(),
                format!("initial value {} is outside [{}, {}]", self.initial, self.min, self.max),
            ));
        }
        Ok(())
    }
}

/// [`Guardrail::check`] for each of the simulator's four rails.
pub fn check_guardrails(rails: &[Guardrail]) -> Result<(), ModelError> {
    if rails.len() != PARAMETER_COUNT {
        return Err(ModelError::WrongCount { what: "guardrails", expected: PARAMETER_COUNT, got: rails.len() });
    }
    rails.iter().enumerate().try_for_each(|(i, g)| g.check(i))
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
            return Err(ModelError::config("guardrails", format!("[{i}] ({})", g.name), "needs min <= max and max_step >= 0"));
        }
        let (c, d) = (i128::from(c), i128::from(d));
        let step = d.clamp(-i128::from(g.max_step), i128::from(g.max_step));
        let value = (c + step).clamp(i128::from(g.min), i128::from(g.max));
        let hit = value != c + d;
        // `value` lies in [min, max], both i64.
        let value = i64::try_from(value).map_err(|_| ModelError::config("guardrails", format!("[{i}]"), "value left i64"))?;
        out.values.push(value);
        out.hits.push(hit);
        out.hit |= hit;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn initial() -> Vec<i64> {
        deployment_guardrails().iter().map(|g| g.initial).collect()
    }

    #[test]
    fn the_deployment_rails_are_valid() {
        check_guardrails(&deployment_guardrails()).expect("valid");
        assert_eq!(initial(), vec![500, 800, 100, 30]);
    }

    #[test]
    fn steps_inside_the_rails_pass_unchanged() {
        let rails = deployment_guardrails();
        // Exactly ±max_step is allowed and is not a hit.
        let g = guard(&initial(), &[25, -60, 0, 10], &rails).expect("guards");
        assert_eq!(g.values, vec![525, 740, 100, 40]);
        assert_eq!(g.hits, vec![false; 4]);
        assert!(!g.hit);
    }

    #[test]
    fn oversized_steps_are_clamped_and_flagged() {
        let rails = deployment_guardrails();
        // 500+40 → step 25 → 525; 800−61 → step −60 → 740; 100+26 → 125; 30−11 → 20.
        let g = guard(&initial(), &[40, -61, 26, -11], &rails).expect("guards");
        assert_eq!(g.values, vec![525, 740, 125, 20]);
        assert_eq!(g.hits, vec![true; 4]);
        assert!(g.hit);
    }

    #[test]
    fn values_are_clamped_to_the_range_after_the_step() {
        let rails = deployment_guardrails();
        // 1990+20 = 2010 → 2000 (hit); 10−20 → −10 → 0 (hit); 995+5 = 1000 (no hit); 300+0 (no hit).
        let g = guard(&[1990, 10, 995, 300], &[20, -20, 5, 0], &rails).expect("guards");
        assert_eq!(g.values, vec![2000, 0, 1000, 300]);
        assert_eq!(g.hits, vec![true, true, false, false]);
        // A current value outside its range is pulled back in, and that counts as a hit.
        let g = guard(&[2100, 800, 100, 30], &[0, 0, 0, 0], &rails).expect("guards");
        assert_eq!(g.values[0], 2000);
        assert_eq!(g.hits, vec![true, false, false, false]);
    }

    #[test]
    fn extreme_deltas_do_not_overflow() {
        let rails = deployment_guardrails();
        let g = guard(&initial(), &[i64::MAX, i64::MIN, i64::MAX, i64::MIN], &rails).expect("guards");
        assert_eq!(g.values, vec![525, 740, 125, 20]);
        assert!(g.hits.iter().all(|&h| h));
    }

    #[test]
    fn malformed_inputs_are_errors() {
        let rails = deployment_guardrails();
        assert!(matches!(
            guard(&initial(), &[1, 2, 3], &rails),
            Err(ModelError::WrongCount { what: "parameter deltas", expected: 4, got: 3 })
        ));
        let mut bad = rails.clone();
        bad[2].max_step = -1;
        assert!(matches!(guard(&initial(), &[0; 4], &bad), Err(ModelError::InvalidConfig { .. })));
        bad[2].max_step = 5;
        bad[2].initial = 5000;
        match check_guardrails(&bad) {
            Err(ModelError::InvalidConfig { field, .. }) => assert_eq!(field, "[2] (burn_rate_bps)"),
            other => panic!("expected an invalid-config error, got {other:?}"),
        }
    }
}
