//! `setup --from-ptau`: ceremony files written by the real snarkjs (pinned in
//! `prover/cli/tests/ptau/package.json`), imported, proven with and verified against; tampered,
//! truncated, uncontributed and too-small files refused with nothing written.

use std::path::Path;
use std::process::Command;

use crate::common::{json_run, stdout_json, zkpolicy};

/// snarkjs' command line under Node.js, run in `dir`. Missing, the test fails (it does not
/// skip): `.ci/run` installs it.
fn snarkjs(dir: &Path, args: &[&str]) {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ptau/node_modules/snarkjs/build/cli.cjs");
    assert!(
        cli.is_file(),
        "snarkjs is not installed ({} is missing): run `npm ci --prefix prover/cli/tests/ptau --no-audit --no-fund` \
         from the repository's root (tests/run.sh does)",
        cli.display()
    );
    let output = Command::new("node")
        .arg(&cli)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run node for snarkjs ({e}): install Node.js"));
    assert!(
        output.status.success(),
        "snarkjs {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A ceremony of `power` as an operator would run it: `new` writes `pot0.ptau` (τ = 1), one
/// contribution (its entropy given, so that snarkjs asks nothing) `pot1.ptau`.
fn ceremony(dir: &Path, power: u32) {
    snarkjs(dir, &["powersoftau", "new", "bn128", &power.to_string(), "pot0.ptau"]);
    snarkjs(dir, &["powersoftau", "contribute", "pot0.ptau", "pot1.ptau", "--name=zkpolicy test", "-e=test entropy"]);
}

/// Where the `index`-th tauG1 point of a `.ptau` file starts: the section table walked to
/// section 2 (12-byte prefix; each section a u32 id and a u64 size before its bytes).
fn tau_g1_point(file: &[u8], index: usize) -> usize {
    let mut at = 12;
    loop {
        let id = u32::from_le_bytes(file[at..at + 4].try_into().expect("4 bytes"));
        let size = u64::from_le_bytes(file[at + 4..at + 12].try_into().expect("8 bytes")) as usize;
        if id == 2 {
            return at + 12 + 64 * index;
        }
        at += 12 + size;
    }
}

#[test]
fn setup_from_ptau_imports_a_snarkjs_ceremony_that_proves_and_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ceremony(d, 10);
    let keccak = format!("0x{}", hex::encode(zkpolicy_verifier::transcript::keccak256(&std::fs::read(d.join("pot1.ptau")).expect("ptau"))));
    let v = stdout_json(
        &zkpolicy(d)
            .args(["setup", "--from-ptau", "pot1.ptau", "--checksum", &keccak, "--k", "10", "--out", "params/k10.bin", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(v["k"], 10);
    let source = v["source"].as_str().expect("source");
    assert!(source.starts_with("imported from pot1.ptau (snarkjs ptau, power 10, BLAKE2b-512 0x"), "{source}");
    assert!(source.ends_with("the Lagrange basis computed (not a file prepared for phase 2))"), "{source}");
    let sidecar: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("params/k10.bin.json")).expect("sidecar")).expect("json");
    assert_eq!(sidecar["source"], source);
    assert_eq!(sidecar["keccak256"], v["keccak256"]);

    // The imported SRS proves and verifies the default model (k = 10).
    super::proves_and_verifies_with(d, "params/k10.bin", "p.json");
    // And it is not the development SRS: a proof made with it does not verify against the dev SRS.
    zkpolicy(d).args(["setup", "--k", "10", "--out", "dev.bin"]).assert().success();
    zkpolicy(d).args(["verify", "--srs", "dev.bin", "--proof", "p.json"]).assert().failure();
}

#[test]
fn setup_from_ptau_refuses_tampered_truncated_uncontributed_and_too_small_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ceremony(d, 8);
    let file = std::fs::read(d.join("pot1.ptau")).expect("ptau");
    let write = |name: &str, bytes: &[u8]| std::fs::write(d.join(name), bytes).expect("write");

    let mut flipped = file.clone();
    flipped[tau_g1_point(&file, 5) + 40] ^= 0x01;
    write("flipped.ptau", &flipped);
    let mut swapped = file.clone();
    let (two, three) = (tau_g1_point(&file, 2), tau_g1_point(&file, 3));
    let second = file[two..two + 64].to_vec();
    swapped.copy_within(three..three + 64, two);
    swapped[three..three + 64].copy_from_slice(&second);
    write("swapped.ptau", &swapped);
    write("truncated.ptau", &file[..file.len() / 2]);

    let refusals: [(&str, &[&str], &str); 6] = [
        ("flipped.ptau", &["--k", "8"], "tauG1[5] is not a point of BN254 G1"),
        ("swapped.ptau", &["--k", "8"], "the powers are not consistent: the pairing check"),
        ("truncated.ptau", &["--k", "8"], "truncated: section"),
        ("pot0.ptau", &["--k", "8"], "τ = ±1 is no secret"),
        // The default model needs k = 10; this ceremony has power 8.
        ("pot1.ptau", &[], "it has power 8 (2^8 powers of tau, for k ≤ 8), but k = 10 was asked"),
        ("pot1.ptau", &["--k", "8", "--checksum", &"ab".repeat(64)], "checksum mismatch: expected BLAKE2b-512"),
    ];
    for (name, extra, expected) in refusals {
        zkpolicy(d)
            .args(["setup", "--from-ptau", name, "--out", "out.bin"])
            .args(extra)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(expected));
        assert!(!d.join("out.bin").exists() && !d.join("out.bin.json").exists(), "{name}: something was written");
    }
    // The same refusal as a --json error document.
    let refused = json_run(zkpolicy(d).args(["setup", "--from-ptau", "swapped.ptau", "--k", "8", "--out", "out.bin", "--json"]));
    refused.code(2);
    // --from-ptau and --from are one import or the other.
    zkpolicy(d)
        .args(["setup", "--from-ptau", "pot1.ptau", "--from", "pot1.ptau", "--checksum", "0x00", "--out", "out.bin"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot be used with"));
    assert!(!d.join("out.bin").exists());
    // The untouched file imports at its power.
    zkpolicy(d).args(["setup", "--from-ptau", "pot1.ptau", "--k", "8", "--out", "out.bin"]).assert().success();
}

/// The public Hermez files are prepared for phase 2 (Lagrange sections 12 to 15 added) and
/// truncated from the power-28 ceremony (`ceremonyPower` 28): such a file, made the same way
/// from a small ceremony, imports as the same params as the file it came from, its Lagrange
/// basis (snarkjs' domain, reordered to halo2's) equal to the one computed from the powers.
#[test]
fn setup_from_ptau_reads_a_prepared_and_truncated_file_like_the_public_series() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ceremony(d, 8);
    snarkjs(d, &["powersoftau", "prepare", "phase2", "pot1.ptau", "final.ptau"]);
    // Writes final_01.ptau to final_07.ptau.
    snarkjs(d, &["powersoftau", "truncate", "final.ptau"]);
    let setup = |file: &str, out: &str| {
        stdout_json(&zkpolicy(d).args(["setup", "--from-ptau", file, "--k", "7", "--out", out, "--json"]).assert().success())
    };
    let truncated = setup("final_07.ptau", "truncated.bin");
    let source = truncated["source"].as_str().expect("source");
    assert!(source.contains("(snarkjs ptau, power 7, truncated from ceremony power 8, BLAKE2b-512 0x"), "{source}");
    assert!(source.ends_with("its prepared Lagrange basis checked against them)"), "{source}");
    assert_eq!(truncated["keccak256"], setup("final.ptau", "prepared.bin")["keccak256"]);
    assert_eq!(truncated["keccak256"], setup("pot1.ptau", "contributed.bin")["keccak256"]);
}
