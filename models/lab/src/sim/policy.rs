//! Policies: what decides the per-epoch parameter deltas.
//!
//! Every policy maps the clamped KPI vector (real values, [`super::kpis`] order)
//! and the current parameters (bps, guardrail order) to integer deltas in bps,
//! which the simulator then passes through the guardrails.

use serde::{Deserialize, Serialize};

use super::guardrails::{
    deployment_guardrails, guard, parameter_inputs, Guardrail, BURN_RATE, EMISSION_RATE, PARAMETER_COUNT, STAKING_REWARD,
};
use super::kpis::{KPI_COUNT, KPI_NAMES, PRICE_VS_TARGET, STAKING_RATIO};
use crate::float::{FloatNet, FloatPolicy};
use zkpolicy_model::{infer, KpiSnapshot, Model, Observation};

use crate::synth;
use crate::LabError;

/// One decision: the integer deltas, plus the quantized KPIs when the policy is
/// the integer model (the exact public inputs a proof of this decision uses).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The proposed parameter changes in bps, one per parameter in rail order, before the guard.
    pub deltas: Vec<i64>,
    /// The KPIs as the integer model read them (fixed point at each KPI's `scale_bits`);
    /// `None` for every other policy.
    pub quantized_kpis: Option<Vec<i64>>,
}

impl Decision {
    fn deltas(deltas: Vec<i64>) -> Self {
        Self { deltas, quantized_kpis: None }
    }
}

/// A controller of the four parameters. `Sync` so runs can be spread over threads.
pub trait Policy: Sync {
    /// The name trajectories, backtests and tables show for this policy.
    fn name(&self) -> &str;

    /// Deltas (bps) for `params` given `kpis`; one per parameter.
    fn decide(&self, kpis: &[f64], params: &[i64]) -> Result<Decision, LabError>;
}

fn check_kpis(kpis: &[f64]) -> Result<(), LabError> {
    if kpis.len() != KPI_COUNT {
        return Err(LabError::WrongCount { what: "KPIs", expected: KPI_COUNT, got: kpis.len() });
    }
    Ok(())
}

/// The static schedule: parameters never change.
#[derive(Clone, Copy, Debug, Default)]
pub struct StaticPolicy;

impl Policy for StaticPolicy {
    fn name(&self) -> &str {
        "static"
    }

    fn decide(&self, _kpis: &[f64], params: &[i64]) -> Result<Decision, LabError> {
        Ok(Decision::deltas(vec![0; params.len()]))
    }
}

/// A float MLP on the real KPIs (and, with 12 inputs, on the parameters as
/// [`parameter_inputs`] declares them); its clamped outputs are rounded to integers.
#[derive(Clone, Debug)]
pub struct FloatController {
    name: String,
    policy: FloatPolicy,
    net: FloatNet,
    bounds: Vec<(f64, f64)>,
    /// `2^-scale_bits` per parameter input; empty for a KPI-only policy.
    parameter_scales: Vec<f64>,
}

/// The network inputs a policy of `width` inputs reads: the 8 KPIs, or the 8 KPIs and
/// the 4 parameters.
pub fn reads_parameters(width: usize) -> Result<bool, LabError> {
    match width {
        KPI_COUNT => Ok(false),
        w if w == KPI_COUNT + PARAMETER_COUNT => Ok(true),
        got => Err(LabError::WrongCount { what: "float policy inputs", expected: KPI_COUNT, got }),
    }
}

impl FloatController {
    /// Wraps `policy` (8 or 8 + 4 inputs, 4 outputs) with the default model's output bounds.
    pub fn new(name: impl Into<String>, policy: FloatPolicy) -> Result<Self, LabError> {
        let parameter_scales = match reads_parameters(policy.inputs())? {
            true => parameter_inputs().iter().map(|p| p.real(1)).collect(),
            false => vec![],
        };
        if policy.outputs() != PARAMETER_COUNT {
            return Err(LabError::WrongCount { what: "float policy outputs", expected: PARAMETER_COUNT, got: policy.outputs() });
        }
        Ok(Self { name: name.into(), net: FloatNet::new(&policy), policy, bounds: output_bounds(), parameter_scales })
    }

    /// The wrapped float network, e.g. to quantize it.
    pub fn policy(&self) -> &FloatPolicy {
        &self.policy
    }
}

/// `(min, max)` of each output of the default model, in bps.
pub fn output_bounds() -> Vec<(f64, f64)> {
    synth::tokenomics_policy().outputs.iter().map(|o| (o.min as f64, o.max as f64)).collect()
}

impl Policy for FloatController {
    fn name(&self) -> &str {
        &self.name
    }

    fn decide(&self, kpis: &[f64], params: &[i64]) -> Result<Decision, LabError> {
        check_kpis(kpis)?;
        let mut x = kpis.to_vec();
        if !self.parameter_scales.is_empty() {
            if params.len() != PARAMETER_COUNT {
                return Err(LabError::WrongCount { what: "parameters", expected: PARAMETER_COUNT, got: params.len() });
            }
            x.extend(params.iter().zip(&self.parameter_scales).map(|(&p, s)| p as f64 * s));
        }
        // A non-finite output (only from non-finite weights) saturates to 0 in the cast.
        let deltas = self.net.forward(&x, &self.bounds).iter().map(|v| v.round() as i64).collect();
        Ok(Decision::deltas(deltas))
    }
}

/// The integer model: KPIs quantized as [`KpiSnapshot::quantize`] does (and, for a model
/// that reads them, the current parameters as they are), then [`zkpolicy_model::infer`]: exactly
/// what gets proven.
#[derive(Clone, Debug)]
pub struct IntegerPolicy {
    model: Model,
}

impl IntegerPolicy {
    /// Accepts a model whose inputs are the eight KPIs by name and order, which has four
    /// outputs, and which reads the four parameters or none.
    pub fn new(model: Model) -> Result<Self, LabError> {
        let inputs = &model.file().inputs;
        if inputs.len() != KPI_COUNT {
            return Err(LabError::WrongCount { what: "model inputs", expected: KPI_COUNT, got: inputs.len() });
        }
        if let Some((i, spec)) = inputs.iter().enumerate().find(|(i, s)| s.name != KPI_NAMES[*i]) {
            return Err(LabError::model(
                format!("inputs[{i}].name"),
                format!("the simulator provides {:?} here, the model expects {:?}", KPI_NAMES[i], spec.name),
            ));
        }
        if model.file().outputs.len() != PARAMETER_COUNT {
            return Err(LabError::WrongCount { what: "model outputs", expected: PARAMETER_COUNT, got: model.file().outputs.len() });
        }
        let parameters = model.file().parameters.len();
        if parameters != 0 && parameters != PARAMETER_COUNT {
            return Err(LabError::WrongCount { what: "model parameter inputs", expected: PARAMETER_COUNT, got: parameters });
        }
        Ok(Self { model })
    }

    /// The validated integer model whose decisions this policy takes.
    pub fn model(&self) -> &Model {
        &self.model
    }
}

impl Policy for IntegerPolicy {
    fn name(&self) -> &str {
        self.model.name()
    }

    fn decide(&self, kpis: &[f64], params: &[i64]) -> Result<Decision, LabError> {
        check_kpis(kpis)?;
        // Clamp into this model's declared ranges (they may be narrower than the simulator's).
        let snapshot = KpiSnapshot::of_kpis(
            self.model
                .file()
                .inputs
                .iter()
                .zip(kpis)
                .map(|(spec, &v)| (spec.name.clone(), if v.is_finite() { v.clamp(spec.min, spec.max) } else { spec.min }))
                .collect(),
        );
        let quantized = snapshot.quantize(&self.model)?;
        // The parameters are never clamped: a rail outside the declared range is the
        // deployment's error, and the controller refuses such a verifier.
        let read = if self.model.file().parameters.is_empty() { vec![] } else { params.to_vec() };
        let input = Observation::new(&self.model, quantized.clone(), read)?;
        let trace = infer(&self.model, &input)?;
        // The parameter changes the controller applies: each output's map (the identity
        // for integer outputs; `round(y·step / 2^scale_bits)` for fixed-point ones).
        let deltas = self.model.card().deltas(&trace.outputs)?;
        Ok(Decision { deltas, quantized_kpis: Some(quantized.values().to_vec()) })
    }
}

/// Tuning of the deviation-band controller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// No price action while `|price_vs_target| ≤ price_band`.
    pub price_band: f64,
    /// Each response is divided by the lag: only `1/lag` of the full correction per epoch.
    pub lag: f64,
    /// bps of emission change per unit of price deviation beyond the band.
    pub emission_gain: f64,
    /// bps of burn change per unit of price deviation beyond the band.
    pub burn_gain: f64,
    /// The staked share the controller steers into.
    pub staking_band: (f64, f64),
    /// bps of staking-reward change per unit of staked share outside the band.
    pub staking_gain: f64,
}

impl Default for RuleConfig {
    fn default() -> Self {
        Self { price_band: 0.05, lag: 4.0, emission_gain: 1000.0, burn_gain: 1000.0, staking_band: (0.45, 0.60), staking_gain: 2000.0 }
    }
}

/// An Ampleforth-style deviation-band controller.
///
/// With `d = price_vs_target` and `x = d − band·sign(d)` when `|d| > band` (else 0):
/// `Δemission = round(emission_gain · x / lag)`, `Δburn = round(−burn_gain · x / lag)`
/// (below the band: cut emission, burn more). With staked share `s` and band
/// `[lo, hi]`, `g = lo − s` below, `hi − s` above (else 0):
/// `Δstaking_reward = round(staking_gain · g / lag)`. The fee is left alone.
///
/// The controller knows the rails and trims each delta to what the guard would
/// apply anyway, so it never trips a guardrail.
#[derive(Clone, Debug)]
pub struct RuleBased {
    /// The band widths, gains and lag.
    pub config: RuleConfig,
    /// The rails the deltas are trimmed to, in parameter order (the deployment's by default).
    pub rails: Vec<Guardrail>,
}

impl Default for RuleBased {
    fn default() -> Self {
        Self { config: RuleConfig::default(), rails: deployment_guardrails() }
    }
}

impl Policy for RuleBased {
    fn name(&self) -> &str {
        "rule_based"
    }

    fn decide(&self, kpis: &[f64], params: &[i64]) -> Result<Decision, LabError> {
        check_kpis(kpis)?;
        let c = &self.config;
        if !(c.lag.is_finite() && c.lag >= 1.0) {
            return Err(LabError::config("rule-based controller", "lag", format!("must be at least 1, got {}", c.lag)));
        }
        let outside = |v: f64, lo: f64, hi: f64| {
            if v < lo {
                v - lo
            } else if v > hi {
                v - hi
            } else {
                0.0
            }
        };
        let price_excess = outside(kpis[PRICE_VS_TARGET], -c.price_band, c.price_band);
        let staking_gap = -outside(kpis[STAKING_RATIO], c.staking_band.0, c.staking_band.1);
        let mut deltas = vec![0i64; PARAMETER_COUNT];
        deltas[EMISSION_RATE] = (c.emission_gain * price_excess / c.lag).round() as i64;
        deltas[BURN_RATE] = (-c.burn_gain * price_excess / c.lag).round() as i64;
        deltas[STAKING_REWARD] = (c.staking_gain * staking_gap / c.lag).round() as i64;
        // The guarded value minus the current one: a delta the guard leaves alone.
        let guarded = guard(params, &deltas, &self.rails)?;
        let deltas = guarded.values.iter().zip(params).map(|(v, p)| v - p).collect();
        Ok(Decision::deltas(deltas))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kpis(price: f64, staking: f64) -> Vec<f64> {
        let mut k = vec![0.5, 0.08, 0.6, 0.0, 0.35, 0.0, 3.0, 0.05];
        k[PRICE_VS_TARGET] = price;
        k[STAKING_RATIO] = staking;
        k
    }

    #[test]
    fn rule_based_acts_only_outside_its_bands() {
        let rule = RuleBased::default();
        let params = [500, 800, 100, 30];
        assert_eq!(rule.decide(&kpis(0.04, 0.5), &params).expect("decides").deltas, vec![0; 4]);
        // 15% under target: 10% beyond the band → 1000·(−0.1)/4 = −25 emission, +25 burn.
        // Staked 0.40: 0.05 under the band → 2000·0.05/4 = +25 staking reward.
        let d = rule.decide(&kpis(-0.15, 0.40), &params).expect("decides").deltas;
        assert_eq!(d, vec![-25, 25, 25, 0]);
        // 25% over: 1000·0.2/4 = +50 emission, trimmed to the 25 bps step; −50 burn
        // trimmed to the range floor (100 → 0); 0.10 over the band → −50 staking reward.
        let d = rule.decide(&kpis(0.25, 0.70), &params).expect("decides").deltas;
        assert_eq!(d, vec![25, -50, -25, 0]);
        let d = rule.decide(&kpis(0.25, 0.70), &[500, 800, 10, 30]).expect("decides").deltas;
        assert_eq!(d[BURN_RATE], -10);
    }

    #[test]
    fn integer_policy_exposes_its_quantized_inputs() {
        let model = Model::from_file(synth::tokenomics_policy()).expect("valid");
        let policy = IntegerPolicy::new(model).expect("matches the simulator");
        let d = policy.decide(&kpis(-0.2, 0.5), &[500, 800, 100, 30]).expect("decides");
        let q = d.quantized_kpis.expect("quantized");
        // price_vs_target at 8 bits: round(−0.2·256) = −51.
        assert_eq!(q[PRICE_VS_TARGET], -51);
        assert_eq!(q[STAKING_RATIO], 128);
        // Price under target: the default model cuts emission and raises the burn.
        assert!(d.deltas[EMISSION_RATE] < 0 && d.deltas[BURN_RATE] > 0, "{:?}", d.deltas);
        assert!(matches!(policy.decide(&[0.0; 3], &[0; 4]), Err(LabError::WrongCount { what: "KPIs", .. })));
    }

    #[test]
    fn float_outputs_are_clamped_then_rounded() {
        use crate::float::FloatLayer;
        use zkpolicy_model::Activation;
        let constant = |bias: Vec<f64>| FloatPolicy {
            layers: vec![FloatLayer { weights: vec![vec![0.0; 8]; bias.len()], bias, activation: Activation::None }],
        };
        let policy = FloatController::new("c", constant(vec![60.4, -0.6, 10.5, 100.0])).expect("8 → 4");
        // Bounds ±50, ±100, ±50, ±20; halves round away from zero.
        assert_eq!(policy.decide(&kpis(0.0, 0.5), &[0; 4]).expect("decides").deltas, vec![50, -1, 11, 20]);
        assert!(matches!(
            FloatController::new("c", constant(vec![0.0; 3])),
            Err(LabError::WrongCount { what: "float policy outputs", expected: 4, got: 3 })
        ));
    }

    #[test]
    fn a_model_with_other_inputs_is_rejected() {
        let file = synth::policy_m().expect("builds");
        let model = Model::from_file(file).expect("valid");
        assert!(matches!(IntegerPolicy::new(model), Err(LabError::WrongCount { what: "model inputs", .. })));
    }
}
