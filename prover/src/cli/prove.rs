use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use rand::rngs::OsRng;
use serde_json::json;
use zkpolicy_model::KpiSnapshot;
use zkpolicy_prover::artifact::ProofArtifact;
use zkpolicy_prover::proof;

use super::common::{circuit, load_model, print_json, KeyArgs};

/// Prove the model's adjustment for one KPI snapshot and write a proof artifact.
///
/// Keys are generated on first use and cached under --cache-dir.
///
/// Examples:
///   zkpolicy prove --model models/tokenomics-policy.json --kpis models/kpis-sample.json --epoch 1 --out proof.json
///   zkpolicy prove --kpis kpis.json --epoch 42 --out proof.json --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ProveArgs {
    /// Model file (default: the bundled tokenomics policy).
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,

    /// KPI snapshot: {"kpis": {"<input name>": <value>, ...}}.
    #[arg(long, value_name = "FILE")]
    kpis: PathBuf,

    /// The epoch the chain committed these KPIs for.
    #[arg(long)]
    epoch: u64,

    /// Where to write the proof artifact (JSON).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,

    #[command(flatten)]
    keys: KeyArgs,

    /// Print a JSON summary instead of text.
    #[arg(long)]
    json: bool,
}

impl ProveArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let model = load_model(self.model.as_ref())?;
        let kpis = KpiSnapshot::load(&self.kpis)
            .and_then(|s| s.quantize(&model))
            .with_context(|| format!("KPI snapshot {}", self.kpis.display()))?;
        let circuit = circuit(model.clone())?;
        let srs = self.keys.srs();
        let k = circuit.shape().k;

        let started = Instant::now();
        let params = srs.params(k)?;
        let (pk, origin) = self.keys.cache().proving_key(&params, &circuit, &srs)?;
        let setup_ms = started.elapsed().as_secs_f64() * 1e3;

        let started = Instant::now();
        let (public, proof) = proof::prove(&params, &pk, &circuit, &kpis, self.epoch, OsRng)?;
        let prove_ms = started.elapsed().as_secs_f64() * 1e3;

        let artifact = ProofArtifact::new(&model, k, &public, &proof)?;
        artifact.save(&self.out)?;

        if self.json {
            print_json(&json!({
                "out": self.out,
                "model": model.name(),
                "model_commitment": model.commitment().to_string(),
                "epoch": self.epoch,
                "outputs": artifact.outputs,
                "proof_bytes": proof.len(),
                "keys": format!("{origin:?}").to_lowercase(),
                "setup_ms": setup_ms,
                "prove_ms": prove_ms,
            }))?;
        } else {
            println!("model      {} {}", model.name(), model.commitment());
            for o in &artifact.outputs {
                println!("  {:<24} {:>6} {}", o.name, o.value, o.unit);
            }
            println!("proof      {} bytes in {prove_ms:.0} ms (keys {origin:?}, {setup_ms:.0} ms)", proof.len());
            println!("wrote      {}", self.out.display());
        }
        Ok(ExitCode::SUCCESS)
    }
}
