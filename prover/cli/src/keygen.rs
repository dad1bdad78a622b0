use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use serde_json::json;
use zkpolicy_prover::keys::Prepared;
use zkpolicy_verifier::transcript::scalar_to_be;

use super::common::{print_json, whole_ms, KeyArgs, ModelArgs};
use super::progress;

/// Generate (or load from the cache) a model's proving and verifying keys.
///
/// Examples:
///   zkpolicy keygen --model models/tokenomics-policy.json
///   zkpolicy keygen --model models/policy-l.json --srs params/k13.bin --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct KeygenArgs {
    #[command(flatten)]
    model: ModelArgs,

    #[command(flatten)]
    keys: KeyArgs,

    /// Print JSON instead of text (and no progress display).
    #[arg(long)]
    json: bool,
}

impl KeygenArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let (_, circuit) = self.model.load()?;
        let model = circuit.as_ref().clone();
        let spinner = progress::spinner(&format!("keys for {} (k = {})", model.name(), circuit.shape().k), self.json);
        let started = Instant::now();
        let Prepared { circuit, pk, origin, srs, .. } = self.keys.prepare(circuit)?;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
        spinner.finish_and_clear();
        let dir = self.keys.cache().dir(&circuit, &srs);
        let digest = format!("0x{}", hex::encode(scalar_to_be(&pk.get_vk().transcript_repr())));
        if self.json {
            print_json(&json!({
                "model": model.name(),
                "model_commitment": model.commitment().to_string(),
                "private_weights": circuit.weight_commitment().is_some(),
                "keys": origin.as_str(),
                "dir": dir,
                "verifying_key_digest": digest,
                "keygen_ms": whole_ms(elapsed_ms),
            }))?;
        } else {
            println!("keys {origin} in {elapsed_ms:.0} ms: {}", dir.display());
            println!("verifying key digest {digest}");
        }
        Ok(ExitCode::SUCCESS)
    }
}
