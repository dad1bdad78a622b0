use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use zkpolicy_prover::vkey::VerifyingKeyFile;

use super::common::{distinct_output, print_json, KeyArgs, ModelArgs};
use super::progress;

/// Export a model's verifying key with its public model card, for verifiers who never see the weights.
///
/// The file holds the verifying key, the SRS fingerprint, the circuit shape and the
/// model card (name, commitment, KPI and output names, units and ranges), and no
/// weights. `verify`, `gen-verifier`, `deploy`, `audit` and the chain commands take it
/// with --vk in place of --model. Nothing in it proves that the key belongs to the
/// commitment it names; once the weights are revealed, `zkpolicy audit --model` does.
///
/// With --salt (private weights) the card names the weight commitment instead of the weight
/// file's hash, and neither the key nor any proof reveals the weights.
///
/// Examples:
///   zkpolicy export-vk --model models/tokenomics-policy.json --srs params/k10.bin --out policy.vk.json
///   zkpolicy export-vk --model my-policy.json --salt my-policy.salt --out policy.vk.json
///   zkpolicy export-vk --out policy.vk.json --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ExportVkArgs {
    #[command(flatten)]
    model: ModelArgs,

    /// Where to write the verifying key file.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,

    #[command(flatten)]
    keys: KeyArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl ExportVkArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        distinct_output(&self.out, &self.model.files())?;
        let (_, circuit) = self.model.load()?;
        let model = circuit.as_ref().clone();
        let srs = self.keys.srs();
        let spinner = progress::spinner(&format!("verifying key for {} (k = {})", model.name(), circuit.shape().k), self.json);
        let params = srs.params(circuit.shape().k)?;
        let (vk, _) = self.keys.cache().verifying_key(&params, &circuit, &srs)?;
        spinner.finish_and_clear();
        let file = VerifyingKeyFile::new(&circuit, &params, &vk);
        file.save(&self.out)?;
        if self.json {
            print_json(&json!({
                "out": self.out,
                "model": model.name(),
                "model_commitment": model.commitment().to_string(),
                "k": file.k,
                "lanes": file.lanes,
                "private_weights": file.private_weights,
                "srs_fingerprint": file.srs_fingerprint,
            }))?;
        } else {
            println!("wrote {} ({}, k = {}, {} lane(s)); it holds no weights", self.out.display(), model.name(), file.k, file.lanes);
        }
        Ok(ExitCode::SUCCESS)
    }
}
