use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use rand::rngs::OsRng;
use serde_json::json;

use super::common::print_json;

/// Make a secret salt for a model with private weights.
///
/// With --salt, `keygen`, `prove`, `export-vk` and the commands that take --model keep the
/// weights out of the verifying key and the proofs: they are witnesses, bound across proofs
/// by a Poseidon hash of the salt and the weights that the verifying key fixes. Keep the salt
/// with the weights: it is needed for every proof, and whoever has it can test guesses of the
/// weights against the commitment. An existing file is never overwritten. The salt itself is
/// never printed.
///
/// Examples:
///   zkpolicy salt --out my-policy.salt
///   zkpolicy prove --model my-policy.json --salt my-policy.salt --kpis kpis.json --epoch 7 --out proof.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SaltArgs {
    /// Where to write the salt (created readable by its owner only; never replaced).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl SaltArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        zkpolicy_prover::salt::create(&self.out, OsRng)?;
        if self.json {
            print_json(&json!({ "out": self.out }))?;
        } else {
            println!("wrote a new salt to {}; keep it with the weights and out of version control", self.out.display());
        }
        Ok(ExitCode::SUCCESS)
    }
}
