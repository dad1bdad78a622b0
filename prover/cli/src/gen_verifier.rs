use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use zkpolicy_prover::{evm, fsutil, srs};
use zkpolicy_verifier::evm::MAX_RUNTIME_BYTES;
use zkpolicy_verifier::solidity::CONTRACT_NAME;
use zkpolicy_verifier::toolchain;

use super::common::{print_json, shipped_or_compiled, KeyArgs, SolcArgs, StatementArgs};

/// Generate the Solidity verifier for a model (or its exported verifying key): source, ABI and a deployable artifact.
///
/// Writes <out-dir>/ZkPolicyVerifier.sol, ZkPolicyVerifier.abi.json,
/// ZkPolicyVerifier.json ({abi, bytecode, deployedBytecode, ...}), the interface
/// IZkPolicyVerifier.sol, and the same contract as Foundry
/// (foundry/out/ZkPolicyVerifier.sol/ZkPolicyVerifier.json) and Hardhat
/// (hardhat/artifacts/contracts/ZkPolicyVerifier.sol/ZkPolicyVerifier.json) artifacts.
/// The source is compiled first (or the shipped build is used), so nothing is written if
/// that fails.
///
/// Examples:
///   zkpolicy gen-verifier --model models/tokenomics-policy.json --out-dir build/verifier
///   zkpolicy gen-verifier --vk policy.vk.json --srs params/k10.bin --out-dir build/verifier
///   zkpolicy gen-verifier --out-dir build/verifier --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct GenVerifierArgs {
    #[command(flatten)]
    statement: StatementArgs,

    /// Directory to write the verifier files into (created if missing).
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,

    #[command(flatten)]
    keys: KeyArgs,

    #[command(flatten)]
    solc: SolcArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl GenVerifierArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let statement = self.statement.load()?;
        let model = statement.card();
        let (params, vk, srs) = statement.verifying_key(&self.keys)?;
        let source = evm::verifier_source(&params, &vk, model)?;
        let compiled = shipped_or_compiled(&source, &self.solc, self.json)?;
        let runtime = compiled.deployed_bytecode.len();
        let mut provenance = serde_json::Map::new();
        provenance.insert("model".into(), model.name().into());
        provenance.insert("modelCommitment".into(), model.commitment().to_string().into());
        provenance.insert("srs".into(), srs.id().into());
        provenance.insert("insecureDevSrs".into(), srs::is_dev(&params).into());
        provenance.insert("sourceKeccak".into(), evm::source_keccak(&source).into());
        let artifact = compiled.artifact(CONTRACT_NAME, provenance);
        let dir = &self.out_dir;
        let sol = dir.join(format!("{CONTRACT_NAME}.sol"));
        let abi = dir.join(format!("{CONTRACT_NAME}.abi.json"));
        let art = dir.join(format!("{CONTRACT_NAME}.json"));
        fsutil::write_atomic(&sol, source.as_bytes())?;
        fsutil::write_atomic(&abi, format!("{}\n", serde_json::to_string_pretty(&compiled.abi)?).as_bytes())?;
        fsutil::write_atomic(&art, format!("{}\n", serde_json::to_string_pretty(&artifact)?).as_bytes())?;
        // The same contract for Foundry and Hardhat projects, and the interface callers import.
        let interface = dir.join("IZkPolicyVerifier.sol");
        fsutil::write_atomic(&interface, toolchain::VERIFIER_INTERFACE.as_bytes())?;
        let mut toolchain_files = Vec::new();
        for (relative, text) in toolchain::files(&compiled, CONTRACT_NAME, &format!("{CONTRACT_NAME}.sol")).into_iter().skip(1) {
            let path = dir.join(relative);
            fsutil::write_atomic(&path, text.as_bytes())?;
            toolchain_files.push(path);
        }
        if self.json {
            print_json(&json!({
                "source": sol, "abi": abi, "artifact": art, "interface": interface, "toolchain_artifacts": toolchain_files,
                "runtime_bytes": runtime, "within_eip170": runtime <= MAX_RUNTIME_BYTES,
                "compiler": compiled.compiler,
            }))?;
        } else {
            println!("wrote {}, {}, {}, {}", sol.display(), abi.display(), art.display(), interface.display());
            for path in &toolchain_files {
                println!("wrote {}", path.display());
            }
            println!("runtime bytecode {runtime} bytes (EIP-170 limit {MAX_RUNTIME_BYTES}); compiled with solc {}", compiled.compiler);
        }
        Ok(ExitCode::SUCCESS)
    }
}
