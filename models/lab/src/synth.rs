//! Builders for the bundled models and random in-range KPI vectors.
//!
//! The committed files under `models/` are rendered from here by
//! `cargo run -p zkpolicy-lab --example render_bundled`; a test fails if they drift.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use zkpolicy_model::arith::MAX_SHIFT;
use zkpolicy_model::format::{Activation, InputSpec, LayerSpec, ModelFile, OutputSpec, FORMAT_TAG, FORMAT_VERSION};
use zkpolicy_model::Model;

use crate::LabError;

/// One KPI of the default policy and the level the policy steers it towards.
struct Kpi {
    name: &'static str,
    unit: &'static str,
    min: f64,
    max: f64,
    scale_bits: u32,
    target: f64,
    description: &'static str,
}

const KPIS: [Kpi; 8] = [
    Kpi {
        name: "staking_ratio",
        unit: "fraction of supply",
        min: 0.0,
        max: 1.0,
        scale_bits: 8,
        target: 0.5,
        description: "share of circulating supply staked",
    },
    Kpi {
        name: "liquidity_depth",
        unit: "fraction of market cap",
        min: 0.0,
        max: 0.25,
        scale_bits: 10,
        target: 0.08,
        description: "AMM liquidity within 2% of mid price",
    },
    Kpi {
        name: "volatility_30d",
        unit: "annualised",
        min: 0.0,
        max: 2.0,
        scale_bits: 7,
        target: 0.6,
        description: "30-day realised volatility",
    },
    Kpi {
        name: "price_vs_target",
        unit: "relative deviation",
        min: -0.5,
        max: 0.5,
        scale_bits: 8,
        target: 0.0,
        description: "(price - target price) / target price",
    },
    Kpi {
        name: "holder_concentration",
        unit: "fraction of supply",
        min: 0.0,
        max: 1.0,
        scale_bits: 8,
        target: 0.35,
        description: "share held by the top 10 holders",
    },
    Kpi {
        name: "volume_trend",
        unit: "relative change",
        min: -1.0,
        max: 1.0,
        scale_bits: 7,
        target: 0.0,
        description: "30-day volume versus the previous 30 days",
    },
    Kpi { name: "treasury_runway", unit: "years", min: 0.0, max: 8.0, scale_bits: 5, target: 3.0, description: "treasury / yearly spend" },
    Kpi {
        name: "net_emission_pressure",
        unit: "fraction of supply per year",
        min: -0.2,
        max: 0.3,
        scale_bits: 9,
        target: 0.05,
        description: "emissions minus burns, annualised",
    },
];

/// Feature indices after the first layer: `over(i)` is `relu(kpi_i - target_i)`,
/// `under(i)` is `relu(target_i - kpi_i)`, both in the KPI's quantized units.
const fn over(kpi: usize) -> usize {
    2 * kpi
}
const fn under(kpi: usize) -> usize {
    2 * kpi + 1
}

const STAKING: usize = 0;
const LIQUIDITY: usize = 1;
const VOLATILITY: usize = 2;
const PRICE: usize = 3;
const CONCENTRATION: usize = 4;
const VOLUME: usize = 5;
const RUNWAY: usize = 6;
const EMISSION_PRESSURE: usize = 7;

/// The default policy, 8 → 16 → 16 → 4. Each output is a signed sum of
/// target deviations, in basis points per epoch (coefficients are bps for a
/// deviation of the KPI's full quantized span, 256 units):
/// - emission rate: down when price is under target or net emission is high; up when price
///   is over target or liquidity is thin (emissions fund LP incentives);
/// - staking reward: up when too little is staked or volatility is high; down when too much
///   is staked or holdings are concentrated (rewards would flow to whales);
/// - burn rate: up when price is under target or net emission is high; down when runway is short;
/// - fee: up when runway is short or volatility is high; down when volume falls or liquidity is thin.
pub fn tokenomics_policy() -> ModelFile {
    let inputs: Vec<InputSpec> = KPIS
        .iter()
        .map(|k| InputSpec {
            name: k.name.into(),
            unit: k.unit.into(),
            min: k.min,
            max: k.max,
            scale_bits: k.scale_bits,
            description: format!("{}; target {}", k.description, k.target),
        })
        .collect();
    // Layer 1: one "over target" and one "under target" detector per KPI.
    let (mut w1, mut b1) = (vec![vec![0i64; 8]; 16], vec![0i64; 16]);
    for (i, k) in KPIS.iter().enumerate() {
        let target = (k.target * (1u64 << k.scale_bits) as f64).round() as i64;
        w1[over(i)][i] = 64;
        b1[over(i)] = -64 * target;
        w1[under(i)][i] = -64;
        b1[under(i)] = 64 * target;
    }
    // Layer 2: a pass-through, the slot a trained model fills with interactions.
    let w2: Vec<Vec<i64>> = (0..16).map(|j| (0..16).map(|i| if i == j { 64 } else { 0 }).collect()).collect();
    let coefficients: [&[(usize, i64)]; 4] = [
        &[(under(PRICE), -120), (over(EMISSION_PRESSURE), -100), (over(PRICE), 60), (under(LIQUIDITY), 50)],
        &[(under(STAKING), 300), (over(STAKING), -200), (over(VOLATILITY), 80), (over(CONCENTRATION), -60)],
        &[(under(PRICE), 150), (over(EMISSION_PRESSURE), 120), (under(RUNWAY), -100), (over(PRICE), -50)],
        &[(under(RUNWAY), 60), (under(VOLUME), -50), (under(LIQUIDITY), -40), (over(VOLATILITY), 20)],
    ];
    let w3: Vec<Vec<i64>> = coefficients
        .iter()
        .map(|terms| {
            let mut row = vec![0i64; 16];
            for &(feature, c) in terms.iter() {
                row[feature] = c;
            }
            row
        })
        .collect();
    let output = |name: &str, bound: i64, description: &str| OutputSpec {
        description: description.into(),
        ..OutputSpec::integer(name, "bps", -bound, bound)
    };
    ModelFile {
        format: FORMAT_TAG.into(),
        version: FORMAT_VERSION,
        name: "tokenomics-policy".into(),
        description: "Default zkpolicy tokenomics policy: target-deviation detectors feeding signed, \
                      bounded parameter adjustments in basis points per epoch."
            .into(),
        weight_bits: 10,
        bias_bits: 24,
        inputs,
        parameters: vec![],
        outputs: vec![
            output("emission_rate_delta", 50, "change of the emission rate"),
            output("staking_reward_delta", 100, "change of the staking reward rate"),
            output("burn_rate_delta", 50, "change of the burn rate"),
            output("fee_delta", 20, "change of the protocol fee"),
        ],
        layers: vec![
            LayerSpec { weights: w1, bias: b1, shift: 6, activation: Activation::Relu },
            LayerSpec { weights: w2, bias: vec![0; 16], shift: 6, activation: Activation::Relu },
            LayerSpec { weights: w3, bias: vec![0; 4], shift: 8, activation: Activation::None },
        ],
    }
}

/// A benchmark model with seeded int8 weights: KPIs in `[0, 1]` at 8 bits, outputs
/// in `[-1000, 1000]` bps. Each layer's shift is the smallest the bounds analysis accepts.
pub fn seeded(name: &str, dims: &[usize], seed: u64) -> Result<ModelFile, LabError> {
    seeded_with_bits(name, dims, seed, 8)
}

/// [`seeded`] with weights of `weight_bits` signed bits: wide layers need narrower
/// weights for the worst-case interval analysis to keep every value in the comparator
/// window.
pub fn seeded_with_bits(name: &str, dims: &[usize], seed: u64, weight_bits: u32) -> Result<ModelFile, LabError> {
    let bound = (1i64 << (weight_bits - 1)) - 1;
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (n_in, n_out) = (dims[0], dims[dims.len() - 1]);
    let last = dims.len() - 2;
    let layers = dims
        .windows(2)
        .enumerate()
        .map(|(l, d)| LayerSpec {
            weights: (0..d[1]).map(|_| (0..d[0]).map(|_| rng.gen_range(-bound..=bound)).collect()).collect(),
            bias: (0..d[1]).map(|_| rng.gen_range(-4096..=4096)).collect(),
            shift: MAX_SHIFT,
            activation: if l == last { Activation::None } else { Activation::Relu },
        })
        .collect();
    let mut file = ModelFile {
        format: FORMAT_TAG.into(),
        version: FORMAT_VERSION,
        name: name.into(),
        description: format!("Benchmark policy {dims:?} with weights from ChaCha20 seed {seed}."),
        weight_bits,
        bias_bits: 16,
        inputs: (0..n_in)
            .map(|i| InputSpec {
                name: format!("kpi_{i}"),
                unit: "fraction".into(),
                min: 0.0,
                max: 1.0,
                scale_bits: 8,
                description: String::new(),
            })
            .collect(),
        parameters: vec![],
        outputs: (0..n_out).map(|j| OutputSpec::integer(format!("adjustment_{j}"), "bps", -1000, 1000)).collect(),
        layers,
    };
    for l in 0..file.layers.len() {
        let fits = (0..=MAX_SHIFT).find(|&s| {
            file.layers[l].shift = s;
            Model::from_file(file.clone()).is_ok()
        });
        if fits.is_none() {
            file.layers[l].shift = MAX_SHIFT;
            Model::from_file(file.clone())?;
        }
    }
    Ok(file)
}

/// `policy-m`: 16 → 64 → 64 → 8.
pub fn policy_m() -> Result<ModelFile, LabError> {
    seeded("policy-m", &[16, 64, 64, 8], 0x6d)
}

/// `policy-l`: 32 → 256 → 256 → 16.
pub fn policy_l() -> Result<ModelFile, LabError> {
    seeded("policy-l", &[32, 256, 256, 16], 0x6c)
}

/// `policy-xl`: 64 → 1024 → 1024 → 16, 1,131,536 parameters with 5-bit weights. Built
/// from its seed rather than shipped (its file would be 5 MB).
pub fn policy_xl() -> Result<ModelFile, LabError> {
    seeded_with_bits("policy-xl", &[64, 1024, 1024, 16], 0x78, 5)
}

/// Pretty JSON with arrays of numbers kept on one line, so a weight row reads as a row.
pub fn render(file: &ModelFile) -> Result<String, LabError> {
    let value = serde_json::to_value(file).map_err(|source| LabError::Json { what: "model file", source })?;
    let mut out = String::new();
    write_value(&value, 0, &mut out);
    out.push('\n');
    Ok(out)
}

fn write_value(value: &serde_json::Value, indent: usize, out: &mut String) {
    use serde_json::Value;
    let pad = |n: usize| "  ".repeat(n);
    match value {
        Value::Array(items) if items.iter().all(Value::is_number) => {
            let cells: Vec<String> = items.iter().map(Value::to_string).collect();
            out.push_str(&format!("[{}]", cells.join(", ")));
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad(indent + 1));
                write_value(item, indent + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{}]", pad(indent)));
        }
        Value::Object(map) => {
            out.push_str("{\n");
            for (i, (key, item)) in map.iter().enumerate() {
                out.push_str(&format!("{}{}: ", pad(indent + 1), Value::String(key.clone())));
                write_value(item, indent + 1, out);
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{}}}", pad(indent)));
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}
