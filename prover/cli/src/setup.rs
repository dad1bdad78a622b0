use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use serde_json::json;
use zkpolicy_prover::{fsutil, srs};
use zkpolicy_verifier::transcript::keccak256;

use super::common::{circuit, load_model, print_json};
use super::progress;

/// Create the KZG params (powers of tau) file: the development SRS, or an imported ceremony file.
///
/// Format: halo2-axiom's raw ParamsKZG encoding (`ParamsKZG::write_custom` with
/// `SerdeFormat::RawBytes`) for BN254. An imported file must match the
/// keccak-256 checksum given with --checksum; it is trimmed to the k asked for.
/// A sidecar <out>.json records k, the checksum and where the params came from.
/// The development SRS is INSECURE (its secret comes from a public seed).
///
/// Examples:
///   zkpolicy setup --model models/tokenomics-policy.json --out params/dev-k10.bin
///   zkpolicy setup --from ceremony-k20.bin --checksum 0x1234… --k 13 --out params/k13.bin
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SetupArgs {
    /// Circuit size (log2 rows, 1 to 28); default: the size the model needs.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(srs::MAX_FILE_K)))]
    k: Option<u32>,

    /// Model file or bundled model name whose circuit size to use (default: the bundled tokenomics policy).
    #[arg(long, value_name = "FILE|NAME")]
    model: Option<PathBuf>,

    /// Import this powers-of-tau file instead of generating the development SRS.
    #[arg(long, value_name = "FILE", requires = "checksum")]
    from: Option<PathBuf>,

    /// The keccak-256 of the --from file, as published by the ceremony (0x-hex).
    #[arg(long, value_name = "HEX", requires = "from")]
    checksum: Option<String>,

    /// Where to write the params file.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,

    /// Print JSON instead of text (and no progress display).
    #[arg(long)]
    json: bool,
}

/// The largest development SRS `setup` generates: 2^26 points take about 8 GiB.
const MAX_DEV_K: u32 = 26;

fn keccak_hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(keccak256(bytes)))
}

impl SetupArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let k = match self.k {
            Some(k) => k,
            None => circuit(load_model(self.model.as_ref())?)?.shape().k,
        };
        if self.from.is_none() && k > MAX_DEV_K {
            bail!(
                "the development SRS is generated in memory, up to k = {MAX_DEV_K} (k = {k} would need about {} GiB); \
                 import a ceremony's powers of tau with --from for larger circuits",
                ((1u64 << k) * 128) >> 30
            );
        }
        let spinner = progress::spinner(&format!("preparing params for k = {k}"), self.json);
        let (params, source) = match (&self.from, &self.checksum) {
            (Some(path), Some(expected)) => {
                let bytes = srs::read_file(path)?;
                let actual = keccak_hex(&bytes);
                if !actual.eq_ignore_ascii_case(expected.trim()) {
                    bail!("{}: checksum mismatch: expected {expected}, the file has {actual}", path.display());
                }
                let params = srs::load(path, k).with_context(|| format!("importing {}", path.display()))?;
                (params, format!("imported from {} (keccak-256 {actual})", path.display()))
            }
            _ => (srs::dev_params_insecure(k), "development SRS from a public seed: INSECURE, for development only".to_string()),
        };
        srs::save(&self.out, &params)?;
        let checksum = keccak_hex(&fsutil::read(&self.out)?);
        let sidecar = json!({ "format": "halo2-axiom ParamsKZG<Bn256> raw bytes", "k": k, "keccak256": checksum, "source": source });
        let mut sidecar_path = self.out.clone().into_os_string();
        sidecar_path.push(".json");
        fsutil::write_atomic(&PathBuf::from(sidecar_path), format!("{}\n", serde_json::to_string_pretty(&sidecar)?).as_bytes())?;
        spinner.finish_and_clear();
        if self.json {
            print_json(&json!({ "out": self.out, "k": k, "keccak256": checksum, "source": source }))?;
        } else {
            println!("wrote {} (k = {k}, keccak-256 {checksum})", self.out.display());
            println!("source: {source}");
        }
        Ok(ExitCode::SUCCESS)
    }
}
