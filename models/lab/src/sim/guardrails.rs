//! The simulator's four governed parameters and the bundled deployment's rails. The guard
//! itself, the twin of `PolicyController.guard`, is `zkpolicy_model::guard`.

pub use zkpolicy_model::guard::{guard, guard_at, Anchor, Guarded, Guardrail};

use zkpolicy_model::{ModelError, ParameterSpec};

use crate::LabError;

/// Parameter indices, in the order of the policy outputs and the contract's rails.
pub const EMISSION_RATE: usize = 0;
/// Index of `staking_reward_bps`, the staking APR minted on the staked amount.
pub const STAKING_REWARD: usize = 1;
/// Index of `burn_rate_bps`, the yearly buyback-and-burn in bps of supply.
pub const BURN_RATE: usize = 2;
/// Index of `fee_bps`, the pool's swap fee.
pub const FEE: usize = 3;
/// Number of governed parameters.
pub const PARAMETER_COUNT: usize = 4;

/// The parameters and rails of `models/tokenomics-deployment.json`, embedded so
/// the library reads no files.
pub fn deployment_guardrails() -> Vec<Guardrail> {
    let rail = Guardrail::new;
    vec![
        rail("emission_rate_bps", 500, 0, 2000, 25),
        rail("staking_reward_bps", 800, 0, 2000, 60),
        rail("burn_rate_bps", 100, 0, 1000, 25),
        rail("fee_bps", 30, 0, 300, 10),
    ]
}

/// Fractional bits of a parameter input: a parameter-aware policy sees `bps / 2^10`.
pub const PARAMETER_SCALE_BITS: u32 = 10;

/// The parameter inputs of a parameter-aware policy: each of the four parameters, named
/// as its rail, over the widest range the bundled deployment's rail allows (a deployment's
/// rails must lie inside these ranges, or the controller refuses the verifier).
pub fn parameter_inputs() -> Vec<ParameterSpec> {
    let descriptions = [
        "yearly emission, bps of supply",
        "yearly staking reward, bps of the staked amount",
        "yearly buyback-and-burn, bps of supply",
        "swap fee, bps of each trade",
    ];
    deployment_guardrails()
        .into_iter()
        .zip(descriptions)
        .map(|(g, description)| ParameterSpec {
            name: g.name,
            unit: "bps".into(),
            min: g.min,
            max: g.max,
            scale_bits: PARAMETER_SCALE_BITS,
            description: format!("the controller's current {description}"),
        })
        .collect()
}

/// [`Guardrail::check`] for each of the simulator's four rails.
pub fn check_guardrails(rails: &[Guardrail]) -> Result<(), LabError> {
    if rails.len() != PARAMETER_COUNT {
        return Err(ModelError::WrongCount { what: "guardrails", expected: PARAMETER_COUNT, got: rails.len() }.into());
    }
    Ok(rails.iter().enumerate().try_for_each(|(i, g)| g.check(i))?)
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
        assert!(matches!(guard(&initial(), &[0; 4], &bad), Err(ModelError::InvalidGuardrail { .. })));
        bad[2].max_step = 5;
        bad[2].initial = 5000;
        match check_guardrails(&bad) {
            Err(LabError::Model(ModelError::InvalidGuardrail { field, .. })) => assert_eq!(field, "[2] (burn_rate_bps)"),
            other => panic!("expected an invalid-config error, got {other:?}"),
        }
    }
}
