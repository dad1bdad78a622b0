use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use serde_json::json;
use zkpolicy_chain::{self as chain, DeployConfig, RecordedStatement, VerifierCode};
use zkpolicy_prover::{evm, srs};
use zkpolicy_verifier::compile::Compiled;

use super::common::{distinct_output, print_json, shipped_or_compiled, KeyArgs, SenderArgs, SolcArgs, StatementArgs};
use super::progress;

/// Deploy the verifier, the KPI source and the controller over JSON-RPC.
///
/// The verifier is generated from the model (or its exported verifying key,
/// --vk, so the deployer never needs the weights) and the SRS. Its bytecode comes
/// from --verifier (a `gen-verifier` artifact, checked to be for this model and
/// SRS), from the bundled default when that matches, or from solc (npm). The
/// controller and the KPI source ship compiled with zkpolicy. A verifier made
/// from the INSECURE development SRS is refused unless --allow-dev-srs is given.
/// The deployment record (addresses, chain, model, gas) is written to --out and
/// read by commit-kpis, submit and status.
///
/// The signing key is read from $ZKPOLICY_PRIVATE_KEY (see --private-key-env) or
/// a keystore (--keystore, password in $ZKPOLICY_KEYSTORE_PASSWORD); it is never printed.
///
/// Examples:
///   zkpolicy deploy --config models/tokenomics-deployment.json --srs params/k10.bin --out deployment.json
///   zkpolicy deploy --config models/tokenomics-deployment.json --allow-dev-srs --out deployment.json --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DeployArgs {
    #[command(flatten)]
    statement: StatementArgs,

    /// Controller settings: mode, roles, timing, and per-output parameter guardrails (JSON).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,

    /// Where to write the deployment record.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,

    /// A verifier artifact from `gen-verifier` (ZkPolicyVerifier.json) to deploy instead of compiling.
    #[arg(long, value_name = "FILE")]
    verifier: Option<PathBuf>,

    /// Deploy even though the verifier comes from the INSECURE development SRS (local test chains only).
    #[arg(long)]
    allow_dev_srs: bool,

    #[command(flatten)]
    solc: SolcArgs,

    #[command(flatten)]
    keys: KeyArgs,

    #[command(flatten)]
    sender: SenderArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

impl DeployArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        distinct_output(
            &self.out,
            &[
                Some(&self.config),
                self.verifier.as_deref(),
                self.statement.model.model.as_deref(),
                self.statement.model.salt.as_deref(),
                self.statement.vk.as_deref(),
            ],
        )?;
        let statement = self.statement.load()?;
        let model = statement.card();
        let config = DeployConfig::load(&self.config)?;
        config.validate(model).with_context(|| format!("deployment config {}", self.config.display()))?;
        let spinner = progress::spinner("verifying key", self.json);
        let (params, vk, srs) = statement.verifying_key(&self.keys)?;
        spinner.finish_and_clear();
        let insecure = srs::is_dev(&params);
        if insecure && !self.allow_dev_srs {
            bail!(
                "refusing to deploy a verifier made from the INSECURE development SRS: anyone can forge proofs against it. \
                 Import a ceremony's powers of tau (`zkpolicy setup --from FILE --checksum 0x…`) and pass it with --srs, \
                 or pass --allow-dev-srs on a local test chain"
            );
        }
        let source = evm::verifier_source(&params, &vk, model)?;
        let bytecode = self.verifier_bytecode(&source)?;
        let client = self.sender.connect()?;

        let spinner = progress::spinner("deploying verifier, KPI source and controller", self.json);
        let verifier = VerifierCode { bytecode, srs: srs.id(), insecure_dev_srs: insecure };
        let mut deployment = chain::deploy(&client, model, &verifier, &config)?;
        if statement.private_weights() {
            deployment.private = Some(RecordedStatement { k: statement.k(), card: model.clone() });
        }
        spinner.finish_and_clear();
        deployment.save(&self.out)?;

        let weights = if statement.private_weights() { "private" } else { "fixed" };
        if self.json {
            print_json(&json!({ "out": self.out, "deployment": deployment, "weights": weights }))?;
        } else {
            println!("chain {} (deployer {})", deployment.chain_id, deployment.deployer);
            println!("  weights     {}", statement.weights_line());
            println!("  verifier    {}  {} gas", deployment.verifier, deployment.gas.verifier);
            match &deployment.economy {
                Some(e) => {
                    println!("  economy     {}  (token {}, quote {}, pair {}, vault {})", e.economy, e.token, e.quote, e.pair, e.vault);
                    println!("  timelock    {}  (the token's admin and the treasury's only spender)", e.timelock);
                    println!(
                        "  KPI source  {}  {} gas with the economy  (computed on chain)",
                        deployment.kpi_source, deployment.gas.kpi_source
                    );
                    match e.seeded_epoch {
                        Some(epoch) => println!(
                            "              epoch {epoch}'s call seeded its averages (no KPIs): epoch {} is the first decidable",
                            epoch + 1
                        ),
                        None => println!("              not seeded (its window had closed): the first `zkpolicy snapshot` seeds it"),
                    }
                }
                None => println!("  KPI source  {}  {} gas  (posted by its reporter)", deployment.kpi_source, deployment.gas.kpi_source),
            }
            println!("  controller  {}  {} gas  ({} mode)", deployment.controller, deployment.gas.controller, config.mode);
            if insecure {
                println!("  WARNING: the verifier trusts the INSECURE development SRS");
            }
            println!("wrote {}", self.out.display());
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Creation code whose source is exactly `source` (the verifier of this model and SRS).
    fn verifier_bytecode(&self, source: &str) -> anyhow::Result<Vec<u8>> {
        let want = evm::source_keccak(source);
        if let Some(path) = &self.verifier {
            let text = super::common::read_text(path, "verifier artifact")?;
            let artifact: serde_json::Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not a verifier artifact (JSON)", path.display()))?;
            if artifact["sourceKeccak"].as_str() != Some(want.as_str()) {
                bail!(
                    "{} is not the verifier of this model and SRS (its sourceKeccak differs); regenerate it with \
                     `zkpolicy gen-verifier` using the same --model and --srs",
                    path.display()
                );
            }
            return Ok(Compiled::from_artifact(&artifact).with_context(|| format!("verifier artifact {}", path.display()))?.bytecode);
        }
        Ok(shipped_or_compiled(source, &self.solc, self.json)?.bytecode)
    }
}
