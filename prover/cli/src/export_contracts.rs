use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use zkpolicy_contracts::controller::{CONTROLLER_ARTIFACT, KPI_SOURCE_ARTIFACT};
use zkpolicy_prover::fsutil;
use zkpolicy_verifier::compile::Compiled;
use zkpolicy_verifier::toolchain;

use super::common::print_json;

/// Export the controller and KPI-source contracts that `deploy` uses, for contract toolchains.
///
/// Writes, for PolicyController and ReporterKpiSource: the artifact `deploy` uses
/// (<Contract>.json), the ABI (<Contract>.abi.json), and Foundry
/// (foundry/out/<File>.sol/<Contract>.json) and Hardhat
/// (hardhat/artifacts/contracts/<File>.sol/<Contract>.json) artifacts; and
/// IZkPolicyVerifier.sol, the interface every generated verifier implements.
///
/// Examples:
///   zkpolicy export-contracts --out-dir build/contracts
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ExportContractsArgs {
    /// The directory to write into.
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl ExportContractsArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let contracts = [
            ("PolicyController", "PolicyController.sol", CONTROLLER_ARTIFACT),
            ("ReporterKpiSource", "KpiSource.sol", KPI_SOURCE_ARTIFACT),
        ];
        // Everything is rendered before anything is written.
        let mut files = vec![("IZkPolicyVerifier.sol".to_string(), toolchain::VERIFIER_INTERFACE.to_string())];
        for (contract, file, artifact) in contracts {
            let compiled = Compiled::parse_artifact(artifact)?;
            files.push((format!("{contract}.json"), artifact.to_string()));
            files.extend(toolchain::files(&compiled, contract, file));
        }
        let mut written = Vec::with_capacity(files.len());
        for (relative, text) in files {
            let path = self.out_dir.join(relative);
            fsutil::write_atomic(&path, text.as_bytes())?;
            written.push(path);
        }
        if self.json {
            print_json(&json!({ "files": written }))?;
        } else {
            for path in &written {
                println!("wrote {}", path.display());
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
