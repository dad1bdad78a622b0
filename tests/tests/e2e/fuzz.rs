//! A short fuzzing campaign over every parser (the benchmark runs a million executions
//! per target: `benches/fuzz.sh`): no input panics, and every accepted input keeps its
//! parser's invariant.

use zkpolicy_benches::fuzz::{Context, Fuzzer, Target, TARGETS};

#[test]
fn every_parser_survives_a_short_fuzzing_campaign() {
    let context = Context::new().expect("seed files");
    for (i, target) in TARGETS.into_iter().enumerate() {
        // About two seconds a target on one core.
        let executions = match target {
            Target::Onnx | Target::Srs => 20_000,
            Target::Model | Target::KpiSnapshot | Target::DeployConfig | Target::Calibration => 5_000,
            _ => 10_000,
        };
        let report = Fuzzer::new(i as u64).campaign(&context, target, executions);
        eprintln!(
            "{}: {} inputs, {} accepted, slowest {:?}, {:?}",
            target.name(),
            report.executions,
            report.accepted,
            report.slowest,
            report.elapsed
        );
        assert!(report.panics.is_empty(), "{} panicked: {:?}", target.name(), &report.panics[..1]);
        assert!(report.broken.is_empty(), "{}: {:?}", target.name(), &report.broken[..1]);
        // The mutations keep some inputs valid, so the checks after parsing run too.
        assert!(report.accepted > 0, "{}: no mutated input was accepted", target.name());
        assert!(report.slowest.as_secs() < 2, "{}: one input took {:?}", target.name(), report.slowest);
    }
}
