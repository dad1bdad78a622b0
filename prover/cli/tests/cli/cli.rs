//! The `zkpolicy` binary: success paths, invalid proofs (exit 1), bad input (exit 2).
//! One module per command family; this file holds the helpers they share (`prove`, `verify`, `walk`).

mod bench;
mod keys;
mod output;
mod prove_verify;
mod ptau;
mod verifier_artifacts;

use std::path::{Path, PathBuf};

use crate::common::{models, zkpolicy};

fn prove(dir: &Path, kpis: &Path, out: &str) -> assert_cmd::assert::Assert {
    zkpolicy(dir)
        .args(["prove", "--model"])
        .arg(models().join("tokenomics-policy.json"))
        .arg("--kpis")
        .arg(kpis)
        .args(["--epoch", "9", "--out", out, "--json"])
        .assert()
}

/// Proves the sample KPIs (epoch 3) with the params file `srs` into `proof`, and verifies
/// the proof with it: the file works end to end.
fn proves_and_verifies_with(dir: &Path, srs: &str, proof: &str) {
    zkpolicy(dir)
        .args(["prove", "--srs", srs, "--kpis"])
        .arg(models().join("kpis-sample.json"))
        .args(["--epoch", "3", "--out", proof])
        .assert()
        .success();
    zkpolicy(dir).args(["verify", "--srs", srs, "--proof", proof]).assert().success();
}

fn verify(dir: &Path, model: &str, proof: &str) -> assert_cmd::assert::Assert {
    zkpolicy(dir).args(["verify", "--model"]).arg(models().join(model)).args(["--proof", proof]).assert()
}

fn walk(dir: PathBuf) -> Vec<PathBuf> {
    let mut out = vec![];
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(path));
        } else {
            out.push(path);
        }
    }
    out
}
