use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use zkpolicy_chain::{self as chain, Client, Deployment};
use zkpolicy_prover::evm;

use super::common::{print_json, shipped_or_compiled, KeyArgs, RpcArgs, SolcArgs, StatementArgs};
use super::EXIT_INVALID;

/// Check a deployment against a revealed model: the verifier on chain is exactly the
/// one this model and SRS generate, and every commitment names this model.
///
/// With --vk instead of --model, checks the deployment against a published verifying
/// key (no weights needed): the verifier on chain is the one that key generates.
///
/// Regenerates the verifier from the model and the SRS (--srs, or the development
/// SRS), compiles it (the bundled artifact when it is the default model's), and
/// compares its runtime bytecode with the code at the deployment's verifier address.
/// Also compares the model's commitment with the deployment record's, the verifier's
/// model card's and the controller's. Exits 0 when everything matches, 1 naming each
/// difference, 2 on an input or connection error. Sends nothing.
///
/// Examples:
///   zkpolicy audit --model revealed.json --deployment deployment.json --srs params/k10.bin
///   zkpolicy audit --vk policy.vk.json --deployment deployment.json --srs params/k10.bin
///   zkpolicy audit --deployment deployment.json --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct AuditArgs {
    /// The revealed model, or a published verifying key.
    #[command(flatten)]
    statement: StatementArgs,

    /// Deployment record written by `zkpolicy deploy`.
    #[arg(long, value_name = "FILE")]
    deployment: PathBuf,

    #[command(flatten)]
    solc: SolcArgs,

    #[command(flatten)]
    keys: KeyArgs,

    #[command(flatten)]
    rpc: RpcArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl AuditArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let statement = self.statement.load()?;
        let model = statement.card();
        let record = Deployment::load(&self.deployment)?;
        let client = Client::connect(&self.rpc.rpc, None)?;
        let (params, vk, _) = statement.verifying_key(&self.keys)?;
        let source = evm::verifier_source(&params, &vk, model)?;
        let expected = shipped_or_compiled(&source, &self.solc, self.json)?.deployed_bytecode;
        let on_chain = client.code("verifier code read", record.verifier)?;
        let commitment = model.commitment().to_string();
        let controller_commitment = format!("0x{}", hex::encode(chain::model_commitment(&client, record.controller)?));

        let mut differences = Vec::new();
        if record.model_commitment != model.commitment() {
            differences.push(format!(
                "the deployment record names model commitment {}, the revealed model's is {commitment}",
                record.model_commitment
            ));
        }
        if controller_commitment != commitment {
            differences.push(format!(
                "the controller's verifier serves model commitment {controller_commitment}, the revealed model's is {commitment}"
            ));
        }
        if on_chain != expected {
            let at = on_chain.iter().zip(&expected).position(|(a, b)| a != b).unwrap_or(on_chain.len().min(expected.len()));
            differences.push(format!(
                "the verifier's code on chain ({} bytes) differs from the one this model and SRS generate ({} bytes) from byte {at}",
                on_chain.len(),
                expected.len()
            ));
        }
        if self.json {
            print_json(&json!({
                "model": model.name(),
                "model_commitment": commitment,
                "verifier": record.verifier.to_checksum(None),
                "controller": record.controller.to_checksum(None),
                "matches": differences.is_empty(),
                "differences": differences,
            }))?;
        } else if differences.is_empty() {
            println!("matches: {} ({commitment})", model.name());
            println!("  the verifier at {} is exactly the one this model and SRS generate ({} bytes)", record.verifier, on_chain.len());
            println!("  the deployment record and the controller at {} name this model", record.controller);
        } else {
            println!("DIFFERS from {} ({commitment}):", model.name());
            for d in &differences {
                println!("  {d}");
            }
        }
        Ok(if differences.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_INVALID) })
    }
}
