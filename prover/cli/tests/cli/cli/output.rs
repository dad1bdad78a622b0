//! Every command's output: `--json` documents against their schemas, one failure envelope, a reader that goes away.

use std::path::Path;

use serde_json::Value;

use crate::common::{assert_valid, edit_json, models, schemas, stdout_json, zkpolicy};

/// Every command has a strict schema for its `--json` output in `prover/cli/schemas/` (and no
/// schema names a command that does not exist); real outputs validate against them,
/// failures included. Every other test's `--json` output is validated too, by `stdout_json`.
#[test]
fn json_outputs_validate_against_their_schemas() {
    let help = zkpolicy(Path::new(".")).arg("--help").assert().success();
    let help = String::from_utf8_lossy(&help.get_output().stdout).to_string();
    let commands: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .and_then(|rest| rest.split("Options:").next())
        .expect("a command list")
        .lines()
        .filter(|line| line.starts_with("  ") && !line.starts_with("    "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    assert!(commands.len() > 20, "{commands:?}");
    let mut documented: Vec<String> = std::fs::read_dir(schemas())
        .expect("schemas")
        .map(|e| e.expect("entry").file_name().to_string_lossy().trim_end_matches(".schema.json").to_string())
        .collect();
    documented.sort();
    let mut expected: Vec<String> = commands.iter().map(|c| c.to_string()).collect();
    expected.push("error".into());
    // govern --safe-tx FILE writes a Safe Transaction Builder batch, described by safe-batch.
    expected.push("safe-batch".into());
    expected.sort();
    assert_eq!(documented, expected, "one schema per command, plus the error envelope");
    let report: Value =
        serde_json::from_slice(&std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../benches/results.json")).expect("results"))
            .expect("json");
    assert_valid("bench", &report);

    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let json = |args: &[&str], code: i32| stdout_json(&zkpolicy(d).args(args).arg("--json").assert().code(code));
    json(&["salt", "--out", "p.salt"], 0);
    json(&["keygen"], 0);
    let kpis = models().join("kpis-sample.json");
    let kpis = kpis.to_str().expect("utf-8");
    json(&["prove", "--kpis", kpis, "--epoch", "3", "--out", "proof.json"], 0);
    std::fs::create_dir(d.join("snapshots")).expect("mkdir");
    std::fs::copy(kpis, d.join("snapshots/a.json")).expect("copy");
    let batch = json(&["prove", "--kpis", "snapshots", "--epoch", "3", "--out", "proofs"], 0);
    assert_eq!(batch["proofs"][0]["epoch"], 3, "{batch}");
    json(&["verify", "--proof", "proof.json", "--evm"], 0);
    json(&["export-vk", "--out", "vk.json"], 0);
    json(&["setup", "--k", "10", "--out", "k10.bin"], 0);
    json(&["import", "--onnx"], 2);
    // An invalid proof is a verdict, not an error: the verify schema, exit 1.
    edit_json(d, "proof.json", "edited.json", |p| p["epoch"] = 4.into());
    assert_eq!(json(&["verify", "--proof", "edited.json"], 1)["command"], "verify");
    let error = json(&["verify", "--proof", "missing.json"], 2);
    assert_eq!(error["command"], "verify", "{error}");
    json(&["salt", "--out", "p.salt"], 2);

    // A document that breaks its schema is caught: an unknown field, a float time.
    let mut keygen = json(&["keygen"], 0);
    keygen["keygen_ms"] = 1.5.into();
    let validator = jsonschema::validator_for(
        &serde_json::from_slice::<Value>(&std::fs::read(schemas().join("keygen.schema.json")).expect("schema")).expect("json"),
    )
    .expect("schema");
    assert!(!validator.is_valid(&keygen), "a fractional keygen_ms passed");
}

/// With --json a failure is one JSON document on stdout (kind, message, exit code), the exit
/// code unchanged; and a cause is stated once, not once per layer.
#[test]
fn failures_under_json_are_one_json_document_and_state_each_cause_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("file"), "not a directory").expect("write");
    let out = zkpolicy(d)
        .args(["prove", "--kpis"])
        .arg(models().join("kpis-sample.json"))
        .args(["--epoch", "1", "--out", "file/proof.json", "--json"])
        .assert()
        .code(2);
    let error = stdout_json(&out);
    assert_eq!(error["error"]["kind"], "input", "{error}");
    assert_eq!(error["error"]["exit_code"], 2, "{error}");
    let message = error["error"]["message"].as_str().expect("message");
    assert!(message.contains("file/proof.json"), "{message}");
    assert_eq!(message.matches("(os error").count(), 1, "the cause is repeated: {message}");

    // A corrupt artifact: the same envelope, naming the file.
    std::fs::write(d.join("proof.json"), "{}").expect("write");
    let out = zkpolicy(d).args(["verify", "--proof", "proof.json", "--json"]).assert().code(2);
    let error = stdout_json(&out);
    assert_eq!(error["error"]["kind"], "input", "{error}");
    assert!(error["error"]["message"].as_str().expect("message").contains("proof.json is not a valid proof artifact"), "{error}");

    // A usage error names what is missing (clap puts the names on the lines after its
    // first), in the envelope as on stderr.
    let out = zkpolicy(d).args(["submit", "--json"]).assert().code(2);
    let error = stdout_json(&out);
    let message = error["error"]["message"].as_str().expect("message");
    assert!(message.contains("required arguments were not provided") && message.contains("--proof"), "{message}");
}

/// `zkpolicy CMD | head -1`: a reader that goes away ends the command quietly, as SIGPIPE
/// would (no panic, no exit 101), after any artifact it wrote is whole.
#[test]
fn a_reader_that_goes_away_ends_a_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let bin = assert_cmd::cargo::cargo_bin("zkpolicy");
    let kpis = models().join("kpis-sample.json");
    let kpis = kpis.to_str().expect("utf-8");
    let commands: [&[&str]; 3] =
        [&["inspect"], &["inspect", "--json"], &["prove", "--kpis", kpis, "--epoch", "3", "--out", "proof.json", "--json"]];
    for args in commands {
        // A pipe whose reader is gone before the command writes: every write fails (EPIPE).
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = std::process::Command::new(&bin)
            .args(args)
            .current_dir(d)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.signal(), Some(13), "{args:?}: ends as SIGPIPE would, not {}: {err}", out.status);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // The proof was written whole before its summary was printed, and nothing else.
    let proof: Value = serde_json::from_slice(&std::fs::read(d.join("proof.json")).expect("proof")).expect("a whole artifact");
    assert!(proof.is_object());
    assert!(std::fs::read_dir(d).expect("dir").flatten().all(|e| !e.file_name().to_string_lossy().ends_with(".tmp")));

    // A real pipeline. Whether `head` is gone before the second line is written is a race:
    // either way, no panic, and the status is success or SIGPIPE's.
    for _ in 0..3 {
        let script = format!("{:?} inspect | head -1; echo \"status ${{PIPESTATUS[0]}}\" >&2", bin.display().to_string());
        let out = std::process::Command::new("bash").arg("-c").arg(&script).current_dir(d).output().expect("bash");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(stdout.starts_with("model        tokenomics-policy") && stdout.lines().count() == 1, "{stdout}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.contains("status 0") || stderr.contains("status 141"), "{stderr}");
    }
}
