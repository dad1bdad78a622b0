//! `setup`, `keygen`, `export-vk` and `salt`: parameters, cached keys, a published key, private weights and their salt.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use serde_json::Value;

use super::{prove, walk};
use crate::common::{edit_json, models, stdout_json, zkpolicy};

#[test]
fn setup_writes_dev_params_and_imports_only_a_matching_checksum() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let v = stdout_json(&zkpolicy(d).args(["setup", "--k", "10", "--out", "dev.bin", "--json"]).assert().success());
    assert_eq!(v["k"], 10);
    assert!(v["source"].as_str().expect("source").contains("INSECURE"));
    let checksum = v["keccak256"].as_str().expect("checksum").to_string();
    let sidecar: Value = serde_json::from_slice(&std::fs::read(d.join("dev.bin.json")).expect("sidecar")).expect("json");
    assert_eq!(sidecar["keccak256"], checksum.as_str());

    // Import with the right checksum: usable for proving and verifying.
    zkpolicy(d).args(["setup", "--from", "dev.bin", "--checksum", &checksum, "--k", "10", "--out", "imported.bin"]).assert().success();
    super::proves_and_verifies_with(d, "imported.bin", "p.json");
    // Keys are cached by the SRS's content: a different file under the same name gets its own keys.
    std::fs::create_dir(d.join("other")).expect("mkdir");
    zkpolicy(d).args(["setup", "--k", "11", "--out", "other/imported.bin"]).assert().success();
    assert_eq!(stdout_json(&zkpolicy(d).args(["keygen", "--json", "--srs", "other/imported.bin"]).assert().success())["keys"], "generated");

    // A wrong checksum, and a file that is not params, are refused with nothing written.
    let wrong = format!("0x{}", "00".repeat(32));
    zkpolicy(d)
        .args(["setup", "--from", "dev.bin", "--checksum", &wrong, "--out", "bad.bin"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("checksum mismatch"));
    assert!(!d.join("bad.bin").exists());
    std::fs::write(d.join("junk.bin"), b"not params").expect("write");
    let junk_sum = format!("0x{}", hex::encode(zkpolicy_verifier::transcript::keccak256(b"not params")));
    zkpolicy(d).args(["setup", "--from", "junk.bin", "--checksum", &junk_sum, "--out", "bad.bin"]).assert().code(2);
    assert!(!d.join("bad.bin").exists());
    // A checksum without a file to check is a usage error, not a silent dev setup.
    zkpolicy(d).args(["setup", "--checksum", &checksum, "--out", "bad.bin"]).assert().code(2);
    assert!(!d.join("bad.bin").exists());
    // A model whose k is larger than the imported params.
    zkpolicy(d)
        .args(["keygen", "--srs", "imported.bin", "--model"])
        .arg(models().join("policy-m.json"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("k = 10"));
}

#[test]
fn keygen_generates_then_reuses_cached_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = || stdout_json(&zkpolicy(dir.path()).args(["keygen", "--json"]).assert().success());
    let first = run();
    assert_eq!(first["keys"], "generated");
    let second = run();
    assert_eq!(second["keys"], "cached");
    assert_eq!(first["verifying_key_digest"], second["verifying_key_digest"]);
}

/// A verifier who never sees the weights: `export-vk` writes the key and the public card,
/// and `verify --vk` accepts the operator's proof from another directory (no key cache,
/// no model file). A key file that was edited is refused with the field named.
#[test]
fn an_exported_verifying_key_verifies_without_the_weights_and_refuses_edits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let exported = stdout_json(&zkpolicy(d).args(["export-vk", "--out", "policy.vk.json", "--json"]).assert().success());
    assert_eq!(exported["model"], "tokenomics-policy");
    let text = std::fs::read_to_string(d.join("policy.vk.json")).expect("vk file");
    let file: Value = serde_json::from_str(&text).expect("json");
    assert!(!text.contains("layers") && !text.contains("weights") && !text.contains("bias"), "the key file holds no weights");
    assert_eq!(file["card"]["model_commitment"], exported["model_commitment"]);
    assert_eq!(file["card"]["outputs"].as_array().expect("outputs").len(), 4);
    prove(d, &models().join("kpis-sample.json"), "proof.json").success();

    let verifier = tempfile::tempdir().expect("tempdir");
    let v = verifier.path();
    std::fs::copy(d.join("policy.vk.json"), v.join("policy.vk.json")).expect("copy");
    std::fs::copy(d.join("proof.json"), v.join("proof.json")).expect("copy");
    let verdict =
        stdout_json(&zkpolicy(v).args(["verify", "--vk", "policy.vk.json", "--proof", "proof.json", "--json"]).assert().success());
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert!(!v.join(".zkpolicy/keys").exists(), "verifying with a published key generates no keys");
    zkpolicy(v).args(["verify", "--vk", "policy.vk.json", "--model", "m.json", "--proof", "proof.json"]).assert().code(2);

    // Another output for the same proof: invalid, exactly as against the model.
    edit_json(v, "proof.json", "output.json", |p| {
        let value = p["outputs"][1]["value"].as_i64().expect("int");
        p["outputs"][1]["value"] = (if value > 0 { value - 1 } else { value + 1 }).into();
    });
    zkpolicy(v)
        .args(["verify", "--vk", "policy.vk.json", "--proof", "output.json"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("INVALID"));

    // A card that names another commitment no longer matches the artifact.
    edit_json(v, "policy.vk.json", "commitment.vk.json", |f| f["card"]["model_commitment"] = format!("0x{}", "11".repeat(32)).into());
    zkpolicy(v)
        .args(["verify", "--vk", "commitment.vk.json", "--proof", "proof.json"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("not \"tokenomics-policy\""));

    // Edited key material is refused before halo2 reads it, each naming what is wrong.
    let hex_key = file["verifying_key"].as_str().expect("hex").to_string();
    type Edit = Box<dyn Fn(&mut Value)>;
    let flipped = {
        let mut h = hex_key.clone();
        let at = h.len() - 10;
        let c = if &h[at..=at] == "0" { "1" } else { "0" };
        h.replace_range(at..=at, c);
        h
    };
    let edits: Vec<(&str, Edit, &str)> = vec![
        ("k.vk.json", Box::new(|f: &mut Value| f["k"] = 11.into()), "is for k = 10, but the file says k = 11"),
        ("huge-k.vk.json", Box::new(|f: &mut Value| f["k"] = 4_000_000_000u64.into()), "outside 1..=28"),
        ("lanes.vk.json", Box::new(|f: &mut Value| f["lanes"] = 3.into()), "lanes = 3"),
        ("wide.vk.json", Box::new(|f: &mut Value| f["lanes"] = 2.into()), "the 2-lane circuit's key has"),
        (
            "short.vk.json",
            {
                let h = hex_key[..hex_key.len() - 2].to_string();
                Box::new(move |f: &mut Value| f["verifying_key"] = h.clone().into())
            },
            "bytes; the 1-lane circuit's key has",
        ),
        ("point.vk.json", Box::new(move |f: &mut Value| f["verifying_key"] = flipped.clone().into()), "is not a point on BN254's G1"),
        ("circuit.vk.json", Box::new(|f: &mut Value| f["circuit_version"] = "c0".into()), "circuit \"c0\""),
        ("card.vk.json", Box::new(|f: &mut Value| f["card"]["outputs"][0]["min"] = 99.into()), "outputs[0]"),
        ("extra.vk.json", Box::new(|f: &mut Value| f["weights"] = Value::Array(vec![])), "unknown field"),
    ];
    for (name, edit, named) in edits {
        edit_json(v, "policy.vk.json", name, edit);
        zkpolicy(v)
            .args(["verify", "--vk", name, "--proof", "proof.json"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("verifying key file"))
            .stderr(predicates::str::contains(named));
    }
}

/// Private weights through the binary: a salt made once and never replaced, a proof whose
/// artifact and exported key name only the weight commitment, verified from the key alone;
/// a salt-less verifier of the same model calls it a proof for another model.
#[test]
fn private_weights_prove_and_verify_from_the_key_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    zkpolicy(d).args(["salt", "--out", "policy.salt"]).assert().success();
    let salt = std::fs::read_to_string(d.join("policy.salt")).expect("salt");
    let again = zkpolicy(d).args(["salt", "--out", "policy.salt"]).assert().code(2);
    let err = String::from_utf8_lossy(&again.get_output().stderr).to_string();
    assert!(err.contains("policy.salt already exists") && !err.contains(salt.trim()), "{err}");
    assert_eq!(std::fs::read_to_string(d.join("policy.salt")).expect("salt"), salt, "the salt was replaced");

    let proved = stdout_json(
        &zkpolicy(d)
            .args(["prove", "--salt", "policy.salt", "--kpis"])
            .arg(models().join("kpis-sample.json"))
            .args(["--epoch", "4", "--out", "proof.json", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(proved["private_weights"], true);
    let exported =
        stdout_json(&zkpolicy(d).args(["export-vk", "--salt", "policy.salt", "--out", "policy.vk.json", "--json"]).assert().success());
    assert_eq!(exported["private_weights"], true);
    assert_eq!(exported["model_commitment"], proved["model_commitment"]);
    let fixed = stdout_json(&zkpolicy(d).args(["inspect", "--json"]).assert().success());
    assert_ne!(exported["model_commitment"], fixed["model_commitment"]);
    for file in ["proof.json", "policy.vk.json"] {
        let text = std::fs::read_to_string(d.join(file)).expect("written");
        let file_hash = fixed["model_commitment"].as_str().expect("hex");
        assert!(!text.contains(&file_hash[2..]) && !text.contains(&salt.trim()[2..]), "{file} names the weight file or the salt");
    }

    let verifier = tempfile::tempdir().expect("tempdir");
    let v = verifier.path();
    for file in ["proof.json", "policy.vk.json"] {
        std::fs::copy(d.join(file), v.join(file)).expect("copy");
    }
    let verdict =
        stdout_json(&zkpolicy(v).args(["verify", "--vk", "policy.vk.json", "--proof", "proof.json", "--json"]).assert().success());
    assert_eq!(verdict["valid"], true, "{verdict}");
    zkpolicy(v).args(["verify", "--vk", "policy.vk.json", "--salt", "policy.salt", "--proof", "proof.json"]).assert().code(2);
    zkpolicy(v).args(["verify", "--proof", "proof.json"]).assert().code(1).stdout(
        predicates::str::contains("INVALID")
            .and(predicates::str::contains("the proof is for model"))
            .and(predicates::str::contains("check it with the model's --salt, or its key with --vk")),
    );
    // Found before any key is made (issue 30: 27 s for a private key before).
    assert!(!v.join(".zkpolicy/keys").exists(), "keys were made for a proof of another model");

    // A salt file that is not one is named, without its content.
    std::fs::write(d.join("bad.salt"), "0x1234\n").expect("write");
    zkpolicy(d)
        .args(["keygen", "--salt", "bad.salt"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("bad.salt is not a valid salt file").and(predicates::str::contains("64 hex digits")));
}

/// A private model's keys are cached, and `keygen --salt` reports them, under names made of
/// the salted commitment only: nothing computed from the weights alone (the file's keccak,
/// the fixed-mode verifying key), which would confirm a guessed model to whoever sees the
/// output or lists the cache. A cache an earlier version left under the unsalted name is moved.
#[test]
fn keygen_with_a_salt_names_nothing_computed_from_the_weights_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // The default model cut to one hidden layer of two neurons: private keys at k = 12, in seconds.
    let mut tiny: Value = serde_json::from_slice(&std::fs::read(models().join("tokenomics-policy.json")).expect("model")).expect("json");
    let layers = tiny["layers"].as_array_mut().expect("layers");
    layers.remove(1);
    for field in ["weights", "bias"] {
        layers[0][field].as_array_mut().expect(field).truncate(2);
    }
    for row in layers[1]["weights"].as_array_mut().expect("weights") {
        row.as_array_mut().expect("row").truncate(2);
    }
    std::fs::write(d.join("tiny.json"), tiny.to_string()).expect("write");
    let keygen = |args: &[&str]| {
        let mut cmd = zkpolicy(d);
        cmd.args(["keygen", "--model", "tiny.json"]).args(args);
        cmd
    };
    zkpolicy(d).args(["salt", "--out", "p.salt"]).assert().success();
    let fixed = stdout_json(&keygen(&["--json", "--cache-dir", "fixed-cache"]).assert().success());
    let unsalted: Vec<String> = ["model_commitment", "verifying_key_digest"]
        .iter()
        .map(|field| fixed[field].as_str().expect("hex").trim_start_matches("0x").to_string())
        .collect();
    let leaks = |text: &str| unsalted.iter().any(|digest| text.contains(digest.as_str()));

    let private = stdout_json(&keygen(&["--salt", "p.salt", "--json"]).assert().success());
    assert_eq!((private["private_weights"].as_bool(), private["keys"].as_str()), (Some(true), Some("generated")), "{private}");
    let text = keygen(&["--salt", "p.salt"]).assert().success();
    let text = String::from_utf8_lossy(&text.get_output().stdout).to_string();
    assert!(text.starts_with("keys cached"), "{text}");
    for output in [private.to_string(), text] {
        assert!(!leaks(&output), "the output names an unsalted digest: {output}");
    }
    let cache = d.join(".zkpolicy");
    let names = |root: &Path| -> Vec<String> { walk(root.to_path_buf()).iter().map(|p| p.display().to_string()).collect() };
    assert!(names(&cache).iter().any(|p| p.ends_with("pk.bin")), "{:?}", names(&cache));
    assert!(names(&cache).iter().all(|p| !leaks(p)), "a cached path names an unsalted digest: {:?}", names(&cache));

    // Keys an earlier version cached as <file keccak>/…-private-<commitment prefix>-…: moved
    // to the salted name (reused, not regenerated), and the unsalted name is gone.
    let salted = private["model_commitment"].as_str().expect("hex").to_string();
    let current = PathBuf::from(private["dir"].as_str().expect("dir"));
    let leaf = current.file_name().expect("leaf").to_string_lossy().replace("-private-", &format!("-private-{}-", &salted[2..18]));
    let legacy = cache.join("keys").join(format!("0x{}", unsalted[0])).join(leaf);
    std::fs::create_dir_all(legacy.parent().expect("parent")).expect("mkdir");
    std::fs::rename(d.join(&current), &legacy).expect("move to the old name");
    let again = stdout_json(&keygen(&["--salt", "p.salt", "--json"]).assert().success());
    assert_eq!(again["keys"], "cached", "{again}");
    assert!(!legacy.exists() && !legacy.parent().expect("parent").exists(), "the unsalted name is left");
    assert!(names(&cache).iter().all(|p| !leaks(p)), "{:?}", names(&cache));
}

/// A salt path that is a FIFO is refused at once (its open would wait for a writer for
/// ever), and so is a salt of zero (a salt anyone can guess), each by name.
#[test]
fn a_fifo_or_zero_salt_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    assert!(std::process::Command::new("mkfifo").arg(d.join("salt.fifo")).status().expect("mkfifo").success());
    zkpolicy(d)
        .args(["keygen", "--salt", "salt.fifo"])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("salt.fifo").and(predicates::str::contains("a salt file is a regular file")));
    std::fs::write(d.join("zero.salt"), format!("0x{}\n", "0".repeat(64))).expect("write");
    zkpolicy(d)
        .args(["keygen", "--salt", "zero.salt"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("zero.salt is not a valid salt file").and(predicates::str::contains("the salt is zero")));
    assert!(!d.join(".zkpolicy").exists(), "nothing cached for a refused salt");
}
