use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{ArgGroup, Args};
use halo2_proofs::halo2curves::bn256::Bn256;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use serde_json::json;
use zkpolicy_prover::srs::ptau;
use zkpolicy_prover::{fsutil, srs};
use zkpolicy_verifier::transcript::keccak256;

use super::common::{circuit, load_model, print_json};
use super::progress;

/// Create the KZG params (powers of tau) file: the development SRS, or an imported ceremony file.
///
/// Format: halo2-axiom's raw ParamsKZG encoding (`ParamsKZG::write_custom` with
/// `SerdeFormat::RawBytes`) for BN254. --from imports a file of that format, which must
/// match the keccak-256 given with --checksum. --from-ptau imports a snarkjs powers-of-tau
/// ceremony file (`.ptau`, bn128): its header, curve and section sizes, the points read and
/// the consistency of the powers (a pairing check) are verified, and the Lagrange basis of a
/// file prepared for phase 2 (as the public ones are) is checked against them; an unprepared
/// file's basis is computed instead, which takes minutes from k = 16. --checksum, optional
/// there, is its BLAKE2b-512 as snarkjs publishes it (128 hex digits) or its keccak-256 (64).
/// Either import is trimmed to the k asked for, which must not exceed the file's (a ptau of
/// power P serves k ≤ P). A sidecar <out>.json records k, the checksum and where the params
/// came from. The development SRS is INSECURE (its secret comes from a public seed).
///
/// Examples:
///   zkpolicy setup --model models/tokenomics-policy.json --out params/dev-k10.bin
///   zkpolicy setup --from ceremony-k20.bin --checksum 0x1234… --k 13 --out params/k13.bin
///   zkpolicy setup --from-ptau powersOfTau28_hez_final_20.ptau --k 20 --out params/k20.bin
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, group(ArgGroup::new("import").args(["from", "from_ptau"])))]
pub struct SetupArgs {
    /// Circuit size (log2 rows, 1 to 28); default: the size the model needs.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(srs::MAX_FILE_K)))]
    k: Option<u32>,

    /// Model file or bundled model name whose circuit size to use (default: the bundled tokenomics policy).
    #[arg(long, value_name = "FILE|NAME")]
    model: Option<PathBuf>,

    /// Import this halo2 params file (raw ParamsKZG) instead of generating the development SRS.
    #[arg(long, value_name = "FILE", requires = "checksum")]
    from: Option<PathBuf>,

    /// Import this snarkjs powers-of-tau ceremony file (.ptau, BN254) instead of generating the development SRS.
    #[arg(long, value_name = "FILE")]
    from_ptau: Option<PathBuf>,

    /// The checksum of the imported file, as the ceremony publishes it (hex, 0x optional):
    /// keccak-256 for --from; BLAKE2b-512 (snarkjs') or keccak-256 for --from-ptau.
    #[arg(long, value_name = "HEX", requires = "import")]
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
        if self.from.is_none() && self.from_ptau.is_none() && k > MAX_DEV_K {
            bail!(
                "the development SRS is generated in memory, up to k = {MAX_DEV_K} (k = {k} would need about {} GiB); \
                 import a ceremony's powers of tau with --from or --from-ptau for larger circuits",
                ((1u64 << k) * 128) >> 30
            );
        }
        let spinner = progress::spinner(&format!("preparing params for k = {k}"), self.json);
        let (params, source) = match (&self.from, &self.from_ptau) {
            (Some(path), _) => import_params(path, self.checksum.as_deref().unwrap_or_default(), k)?,
            (None, Some(path)) => import_ptau(path, self.checksum.as_deref(), k)?,
            (None, None) => (srs::dev_params_insecure(k), "development SRS from a public seed: INSECURE, for development only".to_string()),
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

/// A halo2 params file whose keccak-256 is `expected`, trimmed to `k`.
fn import_params(path: &Path, expected: &str, k: u32) -> anyhow::Result<(ParamsKZG<Bn256>, String)> {
    let bytes = srs::read_file(path)?;
    let actual = keccak_hex(&bytes);
    if !actual.eq_ignore_ascii_case(expected.trim()) {
        bail!("{}: checksum mismatch: expected {expected}, the file has {actual}", path.display());
    }
    let params = srs::load(path, k).with_context(|| format!("importing {}", path.display()))?;
    Ok((params, format!("imported from {} (keccak-256 {actual})", path.display())))
}

/// A snarkjs `.ptau` file, checked against `expected` if given (before anything else is read),
/// imported for `k`. The source names the file, its power and its BLAKE2b-512, the checksum
/// snarkjs lists for public ceremony files.
fn import_ptau(path: &Path, expected: Option<&str>, k: u32) -> anyhow::Result<(ParamsKZG<Bn256>, String)> {
    let blake2b = format!("0x{}", hex::encode(ptau::file_blake2b512(path)?));
    if let Some(expected) = expected {
        // snarkjs prints its hashes in groups of eight digits: spaces are ignored.
        let wanted: String = expected.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        let wanted = wanted.strip_prefix("0x").unwrap_or(&wanted);
        let (name, actual) = match wanted.len() {
            128 => ("BLAKE2b-512", blake2b.clone()),
            64 => ("keccak-256", format!("0x{}", hex::encode(ptau::file_keccak256(path)?))),
            n => bail!(
                "--checksum has {n} hex digits; a .ptau file's is its BLAKE2b-512 (128 digits, as snarkjs publishes it) \
                 or its keccak-256 (64)"
            ),
        };
        if actual[2..] != *wanted {
            bail!("{}: checksum mismatch: expected {name} {expected}, the file has {actual}", path.display());
        }
    }
    let imported = ptau::import(path, k)?;
    let header = imported.header;
    let truncated = match header.ceremony_power {
        p if p != header.power => format!(", truncated from ceremony power {p}"),
        _ => String::new(),
    };
    let lagrange = match imported.lagrange {
        ptau::LagrangeBasis::Prepared => "its prepared Lagrange basis checked against them",
        ptau::LagrangeBasis::Computed => "the Lagrange basis computed (not a file prepared for phase 2)",
    };
    let source = format!(
        "imported from {} (snarkjs ptau, power {}{truncated}, BLAKE2b-512 {blake2b}; generators, subgroup and pairing \
         consistency of the powers checked, {lagrange})",
        path.display(),
        header.power
    );
    Ok((imported.params, source))
}
