//! Calibration rows and JSONL files: each refusal names the row or line and the KPI; the fixture reads in input order.

use zkpolicy_lab::onnx;
use zkpolicy_lab::quantize::{self, QuantizeOptions};
use zkpolicy_lab::LabError;

use super::{calibration, default_io, fixture, random_kpis};

#[test]
fn calibration_rows_are_checked_naming_row_and_kpi() {
    let imported = onnx::load_onnx(fixture("policy-8-16-4.onnx")).expect("imports");
    let io = default_io();
    let options = QuantizeOptions::new("p");
    let run = |rows: Vec<Vec<f64>>| quantize::quantize(&imported.policy, &io, &rows, &options).map(|_| ());
    let mut rows = random_kpis(&io, 5, 3);
    rows[3][6] = 9.0;
    match run(rows.clone()) {
        Err(LabError::CalibrationRow { row: 3, kpi, reason }) => {
            assert_eq!(kpi, "treasury_runway");
            assert!(reason.contains("outside"), "{reason}");
        }
        other => panic!("expected a calibration-row error, got {other:?}"),
    }
    rows[3][6] = 1.0;
    rows[1][0] = f64::NAN;
    assert!(matches!(run(rows.clone()), Err(LabError::CalibrationRow { row: 1, ref kpi, .. }) if kpi == "staking_ratio"));
    rows[1][0] = 0.5;
    rows[2].pop();
    assert!(matches!(run(rows.clone()), Err(LabError::CalibrationRow { row: 2, ref kpi, .. }) if kpi == "net_emission_pressure"));
    assert!(matches!(run(vec![]), Err(LabError::NoCalibration)));
}

fn jsonl_error(name: &str, lines: &[&str]) -> LabError {
    let path = std::env::temp_dir().join(format!("zkpolicy-calibration-{}-{name}.jsonl", std::process::id()));
    std::fs::write(&path, lines.join("\n")).expect("temp file");
    let result = quantize::read_calibration_jsonl(&path, &["a", "b"]);
    std::fs::remove_file(&path).ok();
    result.expect_err("the file must be refused")
}

#[test]
fn calibration_jsonl_errors_name_line_and_kpi() {
    let good = r#"{"kpis": {"a": 1.0, "b": 2}}"#;
    let kpi_error = |err: LabError| match err {
        LabError::CalibrationKpi { line, kpi, reason, .. } => (line, kpi, reason),
        other => panic!("expected a KPI error, got {other}"),
    };
    let (line, kpi, reason) = kpi_error(jsonl_error("missing", &[good, "", r#"{"kpis": {"a": 1.0}}"#]));
    assert_eq!((line, kpi.as_str()), (3, "b"), "blank lines still count");
    assert!(reason.contains("missing"));
    let (line, kpi, _) = kpi_error(jsonl_error("extra", &[good, r#"{"kpis": {"a": 1, "b": 2, "c": 3}}"#]));
    assert_eq!((line, kpi.as_str()), (2, "c"));
    let (line, kpi, reason) = kpi_error(jsonl_error("null", &[r#"{"kpis": {"a": null, "b": 2}}"#]));
    assert_eq!((line, kpi.as_str()), (1, "a"));
    assert!(reason.contains("not a finite number"), "{reason}");
    assert_eq!(kpi_error(jsonl_error("string", &[good, r#"{"kpis": {"a": 1, "b": "NaN"}}"#])).1, "b");
    for (name, bad) in [("nan", r#"{"kpis": {"a": NaN, "b": 2}}"#), ("shape", r#"{"a": 1, "b": 2}"#), ("truncated", r#"{"kpis": {"a": 1"#)]
    {
        match jsonl_error(name, &[good, good, bad]) {
            LabError::CalibrationLine { line: 3, .. } => {}
            other => panic!("{name}: expected a line-3 error, got {other}"),
        }
    }
    // A KPI given twice on one line is refused, not resolved to the last value.
    match jsonl_error("duplicate", &[good, r#"{"kpis": {"a": 1, "b": 2, "a": 3}}"#]) {
        LabError::CalibrationLine { line: 2, reason, .. } => assert!(reason.contains("duplicate key \"a\""), "{reason}"),
        other => panic!("expected a line-2 duplicate-key error, got {other}"),
    }
}

#[test]
fn calibration_fixture_reads_in_input_order() {
    let io = default_io();
    let rows = calibration(&io);
    assert_eq!(rows.len(), 256);
    for row in &rows {
        for (v, spec) in row.iter().zip(&io.inputs) {
            assert!((spec.min..=spec.max).contains(v), "{} = {v}", spec.name);
        }
    }
}
