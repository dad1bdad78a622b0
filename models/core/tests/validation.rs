//! Bad model files and KPI snapshots get errors that name the problem.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use zkpolicy_model::{infer, KpiSnapshot, Model, ModelError, QuantizedKpis};

/// `models/`, where the bundled files live.
fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn default_json() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("tokenomics-policy.json")).expect("bundled model")).expect("json")
}

fn field_error(value: Value) -> (String, String) {
    match Model::from_json(&value.to_string()) {
        Err(ModelError::InvalidModel { field, reason }) => (field, reason),
        Err(other) => panic!("expected an invalid-model error, got {other}"),
        Ok(_) => panic!("expected an invalid-model error, the model validated"),
    }
}

#[test]
fn bundled_shapes_are_as_documented() {
    let dims = |name: &str| Model::load(dir().join(format!("{name}.json"))).expect("loads").dims();
    assert_eq!(dims("tokenomics-policy"), vec![8, 16, 16, 4]);
    assert_eq!(dims("policy-m"), vec![16, 64, 64, 8]);
    assert_eq!(dims("policy-l"), vec![32, 256, 256, 16]);
    let default = Model::load(dir().join("tokenomics-policy.json")).expect("loads");
    assert_eq!(default.parameter_count(), 484);
}

#[test]
fn default_policy_behaves_as_documented() {
    let model = Model::load(dir().join("tokenomics-policy.json")).expect("valid");
    let at = |overrides: &[(&str, f64)]| {
        let mut kpis: serde_json::Map<String, Value> = model
            .file()
            .inputs
            .iter()
            .map(|i| (i.name.clone(), json!(i.description.rsplit("target ").next().and_then(|t| t.parse::<f64>().ok()).unwrap_or(0.0))))
            .collect();
        for (k, v) in overrides {
            kpis.insert((*k).into(), json!(v));
        }
        let snapshot = KpiSnapshot::from_json(&json!({ "kpis": kpis }).to_string()).expect("snapshot");
        infer(&model, snapshot.quantize(&model).expect("in range")).expect("infers").outputs
    };
    // Everything on target: no adjustment.
    assert_eq!(at(&[]), vec![0, 0, 0, 0]);
    // Too little staked: the staking reward rises.
    assert!(at(&[("staking_ratio", 0.2)])[1] > 0);
    // Too much staked: it falls.
    assert!(at(&[("staking_ratio", 0.9)])[1] < 0);
    // Price under target: emissions fall, burns rise.
    let low_price = at(&[("price_vs_target", -0.3)]);
    assert!(low_price[0] < 0 && low_price[2] > 0, "{low_price:?}");
    // Short runway: fees rise, burns fall.
    let short = at(&[("treasury_runway", 0.5)]);
    assert!(short[3] > 0 && short[2] < 0, "{short:?}");
    // Outputs never leave their bounds.
    let extreme = at(&[("staking_ratio", 0.0), ("price_vs_target", -0.5), ("net_emission_pressure", 0.3)]);
    for (v, spec) in extreme.iter().zip(&model.file().outputs) {
        assert!((spec.min..=spec.max).contains(v));
    }
}

#[test]
fn malformed_json_and_missing_fields_are_named() {
    match Model::from_json("{ not json") {
        Err(ModelError::Json { what: "model file", .. }) => {}
        other => panic!("{other:?}"),
    }
    let mut v = default_json();
    v.as_object_mut().expect("object").remove("layers");
    let err = Model::from_json(&v.to_string()).expect_err("missing layers");
    assert!(err.to_string().contains("missing field `layers`"), "{err}");
    let mut v = default_json();
    v["surprise"] = json!(1);
    let err = Model::from_json(&v.to_string()).expect_err("unknown field");
    assert!(err.to_string().contains("unknown field `surprise`"), "{err}");
}

#[test]
fn shape_mismatches_name_the_field() {
    let mut v = default_json();
    v["layers"][1]["weights"][3].as_array_mut().expect("row").pop();
    let (field, reason) = field_error(v);
    assert_eq!(field, "layers[1].weights[3]");
    assert!(reason.contains("expected 16"), "{reason}");

    let mut v = default_json();
    v["layers"][0]["bias"].as_array_mut().expect("bias").push(json!(0));
    assert_eq!(field_error(v).0, "layers[0].bias");

    let mut v = default_json();
    v["outputs"].as_array_mut().expect("outputs").pop();
    assert_eq!(field_error(v).0, "layers[2].weights");
}

#[test]
fn values_outside_their_bit_width_are_rejected() {
    let mut v = default_json();
    v["layers"][2]["weights"][1][1] = json!(512); // weight_bits = 10: [-512, 511]
    let (field, reason) = field_error(v);
    assert_eq!(field, "layers[2].weights[1][1]");
    assert!(reason.contains("10 signed bits"), "{reason}");
    let mut v = default_json();
    v["layers"][0]["shift"] = json!(17);
    assert_eq!(field_error(v).0, "layers[0].shift");
}

#[test]
fn bounds_that_could_overflow_the_comparator_window_are_rejected() {
    let mut v = default_json();
    // Without requantization, layer 2's sums (up to 733,184) leave the ±2^16 relu window.
    v["layers"][0]["shift"] = json!(0);
    v["layers"][1]["shift"] = json!(0);
    let (field, reason) = field_error(v);
    assert!(field.starts_with("layers[1].weights["), "{field}");
    assert!(reason.contains("comparator") || reason.contains("2^16"), "{reason}");
}

#[test]
fn wrong_activations_and_empty_names_are_rejected() {
    let mut v = default_json();
    v["layers"][0]["activation"] = json!("none");
    let (field, reason) = field_error(v);
    assert_eq!(field, "layers[0].activation");
    assert!(reason.contains("nonlinearity"), "{reason}");
    let mut v = default_json();
    v["layers"][0]["activation"] = json!("gelu");
    assert!(matches!(Model::from_json(&v.to_string()), Err(ModelError::Json { .. })));
    let mut v = default_json();
    v["inputs"][1]["name"] = v["inputs"][0]["name"].clone();
    assert!(field_error(v).1.contains("duplicate"));
    let mut v = default_json();
    v["inputs"][0]["min"] = json!(2.0);
    assert_eq!(field_error(v).0, "inputs[0]");
}

#[test]
fn bad_kpi_snapshots_are_rejected_with_the_kpi_named() {
    let model = Model::load(dir().join("tokenomics-policy.json")).expect("loads");
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(dir().join("kpis-sample.json")).expect("sample")).expect("json");
    let quantize = |v: &Value| KpiSnapshot::from_json(&v.to_string()).and_then(|s| s.quantize(&model));
    assert!(quantize(&sample).is_ok());

    let mut v = sample.clone();
    v["kpis"]["staking_ratio"] = json!(1.5);
    let err = quantize(&v).expect_err("out of range");
    assert!(err.to_string().contains("staking_ratio") && err.to_string().contains("outside"), "{err}");

    let mut v = sample.clone();
    v["kpis"].as_object_mut().expect("map").remove("volume_trend");
    // The missing KPI is named (issue 30), not only counted.
    let err = quantize(&v).expect_err("missing KPI");
    assert!(matches!(&err, ModelError::InvalidKpi { name, .. } if name == "volume_trend"), "{err}");
    assert_eq!(err.to_string(), "KPI `volume_trend`: is missing");

    let mut v = sample.clone();
    v["kpis"]["unheard_of"] = json!(0.1);
    let err = quantize(&v).expect_err("unknown KPI");
    assert!(err.to_string().contains("unheard_of"), "{err}");

    // NaN is not JSON; a string is the wrong type; both are schema errors.
    assert!(matches!(KpiSnapshot::from_json(r#"{"kpis": {"staking_ratio": NaN}}"#), Err(ModelError::Json { .. })));
    assert!(matches!(KpiSnapshot::from_json(r#"{"kpis": {"staking_ratio": "NaN"}}"#), Err(ModelError::Json { .. })));
    let nan = KpiSnapshot::of_kpis([("staking_ratio".to_string(), f64::NAN)].into_iter().collect());
    let mut full = KpiSnapshot::from_json(&sample.to_string()).expect("sample");
    full.kpis.insert("staking_ratio".into(), f64::NAN);
    assert!(full.quantize(&model).expect_err("NaN").to_string().contains("not a finite number"));
    assert!(nan.quantize(&model).is_err());

    // Quantized vectors from a chain: count and range are checked too.
    assert!(QuantizedKpis::new(&model, vec![0; 7]).is_err());
    let mut values: Vec<i64> = model.input_ranges().iter().map(|r| r.lo).collect();
    values[2] = model.input_ranges()[2].hi + 1;
    assert!(QuantizedKpis::new(&model, values).is_err());
}

fn trained_json() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("trained-policy.json")).expect("bundled model")).expect("json")
}

/// A model that reads the parameters declares one per output, each an integer range the
/// comparator window holds, and its first layer reads the KPIs then the parameters.
#[test]
fn parameter_inputs_are_validated_and_read_after_the_kpis() {
    let model = Model::from_json(&trained_json().to_string()).expect("valid");
    assert_eq!(model.dims()[0], 12, "8 KPIs, then 4 parameters");
    assert_eq!(
        model.card().parameter_ranges().iter().map(|r| (r.lo, r.hi)).collect::<Vec<_>>(),
        [(0, 2000), (0, 2000), (0, 1000), (0, 300)]
    );

    let mut three = trained_json();
    three["parameters"].as_array_mut().expect("array").pop();
    let (field, reason) = field_error(three);
    assert_eq!(field, "parameters");
    assert!(reason.contains("3 parameters for 4 outputs"), "{reason}");

    let mut duplicate = trained_json();
    duplicate["parameters"][1]["name"] = duplicate["parameters"][0]["name"].clone();
    assert_eq!(field_error(duplicate).0, "parameters[1].name");

    let mut inverted = trained_json();
    inverted["parameters"][2]["min"] = json!(1001);
    assert_eq!(field_error(inverted).0, "parameters[2]");

    let mut wide = trained_json();
    wide["parameters"][3]["max"] = json!(1i64 << 20);
    let (field, reason) = field_error(wide);
    assert_eq!(field, "parameters[3]");
    assert!(reason.contains("below 2^"), "{reason}");

    let mut narrow_layer = trained_json();
    for row in narrow_layer["layers"][0]["weights"].as_array_mut().expect("rows") {
        row.as_array_mut().expect("row").truncate(8);
    }
    let (field, reason) = field_error(narrow_layer);
    assert_eq!(field, "layers[0].weights[0]");
    assert!(reason.contains("expected 12 (one per KPI, then one per parameter)"), "{reason}");
}

/// A snapshot for a model that reads the parameters names each one, as an integer inside
/// its range; extra, missing, duplicate or out-of-range parameters are named.
#[test]
fn snapshot_parameters_are_checked_by_name() {
    let model = Model::from_json(&trained_json().to_string()).expect("valid");
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(dir().join("kpis-sample.json")).expect("sample")).expect("json");
    let with = |parameters: Value| {
        let mut s = sample.clone();
        s["parameters"] = parameters;
        KpiSnapshot::from_json(&s.to_string()).and_then(|s| s.observe(&model))
    };
    let good = json!({"emission_rate_bps": 500, "staking_reward_bps": 800, "burn_rate_bps": 100, "fee_bps": 30});
    let input = with(good.clone()).expect("observes");
    assert_eq!(input.parameters(), [500, 800, 100, 30]);
    assert_eq!(infer(&model, &input).expect("infers").inputs.len(), 12);

    let named = |parameters: Value| match with(parameters) {
        Err(ModelError::InvalidParameter { name, reason }) => format!("{name}: {reason}"),
        other => panic!("expected a named parameter error, got {other:?}"),
    };
    let mut missing = good.clone();
    missing.as_object_mut().expect("object").remove("fee_bps");
    assert!(named(missing).starts_with("fee_bps: is missing"));
    let mut extra = good.clone();
    extra["tax_bps"] = json!(1);
    assert!(named(extra).starts_with("tax_bps: is not a parameter input"));
    let mut outside = good.clone();
    outside["fee_bps"] = json!(301);
    assert!(named(outside).contains("outside the declared range [0, 300]"));
    // Duplicate keys and non-integers are refused by the parser.
    let duplicate = sample.to_string().replacen('{', r#"{"parameters": {"fee_bps": 1, "fee_bps": 2},"#, 1);
    assert!(KpiSnapshot::from_json(&duplicate).is_err());
    assert!(with(json!({"emission_rate_bps": 0.5})).is_err());
    // A KPI-only snapshot does not satisfy this model; a KPI-only model refuses parameters.
    assert!(KpiSnapshot::from_json(&sample.to_string()).expect("parses").observe(&model).is_err());
    let default = Model::from_json(&default_json().to_string()).expect("valid");
    let mut s = sample.clone();
    s["parameters"] = good;
    assert!(KpiSnapshot::from_json(&s.to_string()).expect("parses").observe(&default).is_err());
}

#[test]
fn activation_parameters_and_output_scales_are_checked() {
    let with = |layer: usize, activation: Value| {
        let mut v = default_json();
        v["layers"][layer]["activation"] = activation;
        v
    };
    for slope in [0, -3, 1 << 16] {
        let (field, reason) = field_error(with(0, json!({"leaky_relu": {"slope": slope}})));
        assert_eq!(field, "layers[0].activation.leaky_relu.slope");
        assert!(reason.contains(&slope.to_string()), "{reason}");
    }
    let (field, reason) = field_error(with(1, json!({"tanh": {"scale_bits": 13}})));
    assert_eq!(field, "layers[1].activation.tanh.scale_bits");
    assert!(reason.contains("too fine"), "{reason}");
    // Sigmoid's 12-bit window is wider than the comparator reaches across.
    assert_eq!(field_error(with(1, json!({"sigmoid": {"scale_bits": 12}}))).0, "layers[1].activation.sigmoid.scale_bits");
    // A table closing the output layer must be at the outputs' scale.
    let (field, reason) = field_error(with(2, json!({"tanh": {"scale_bits": 8}})));
    assert_eq!(field, "outputs[0].scale_bits");
    assert!(reason.contains("tanh"), "{reason}");
    let mut v = default_json();
    v["outputs"][2]["scale_bits"] = json!(25);
    assert_eq!(field_error(v).0, "outputs[2].scale_bits");
    for step in [0, -1, (1 << 20) + 1] {
        let mut v = default_json();
        v["outputs"][1]["step"] = json!(step);
        assert_eq!(field_error(v).0, "outputs[1].step");
    }
}

#[test]
fn default_output_maps_leave_the_commitment_alone() {
    let plain = Model::from_json(&default_json().to_string()).expect("valid");
    let mut v = default_json();
    for j in 0..4 {
        v["outputs"][j]["scale_bits"] = json!(0);
        v["outputs"][j]["step"] = json!(1);
    }
    let explicit = Model::from_json(&v.to_string()).expect("valid");
    assert_eq!(plain.commitment(), explicit.commitment(), "defaults are not serialized");
    v["outputs"][0]["step"] = json!(2);
    assert_ne!(Model::from_json(&v.to_string()).expect("valid").commitment(), plain.commitment());
}

#[test]
fn output_deltas_round_to_nearest_halves_up() {
    let mut spec = zkpolicy_model::OutputSpec::integer("y", "bps", -1000, 1000);
    assert_eq!(spec.delta(-7), Some(-7));
    spec.step = 3;
    assert_eq!(spec.delta(-7), Some(-21));
    spec.scale_bits = 2;
    spec.step = 1;
    // y / 4: 5/4 -> 1, 6/4 -> 2 (half up), -6/4 -> -1 (half up), -7/4 -> -2.
    let got: Vec<_> = [5, 6, -5, -6, -7, 0].iter().map(|&y| spec.delta(y).expect("in range")).collect();
    assert_eq!(got, vec![1, 2, -1, -1, -2, 0]);
    // Against the real-valued definition on a fine sweep.
    spec.scale_bits = 10;
    spec.step = 50;
    for y in -1024..=1024 {
        let want = (y as f64 * 50.0 / 1024.0 + 0.5).floor() as i64;
        assert_eq!(spec.delta(y), Some(want), "{y}");
    }
}
