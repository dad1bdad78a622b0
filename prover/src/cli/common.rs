//! Options and helpers shared by several subcommands.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_model::Model;
use zkpolicy_prover::chain::signer::{self, KeySource};
use zkpolicy_prover::chain::{Client, Deployment};
use zkpolicy_prover::keys::KeyCache;
use zkpolicy_prover::srs::SrsSource;

/// The bundled default model, compiled in so `demo` runs from any directory.
pub const DEFAULT_MODEL: &str = include_str!("../../../models/tokenomics-policy.json");
pub const DEFAULT_KPIS: &str = include_str!("../../../models/kpis-sample.json");
/// The committed Solidity verifier of the default model (a test keeps it equal to a fresh render).
pub const DEFAULT_VERIFIER: &str = include_str!("../../../verifier-contract/generated/tokenomics-policy/ZkPolicyVerifier.json");

#[derive(Debug, Clone, Args)]
pub struct KeyArgs {
    /// Directory for cached proving and verifying keys.
    #[arg(long, value_name = "DIR", default_value = ".zkpolicy")]
    pub cache_dir: PathBuf,

    /// Powers-of-tau file (halo2 raw ParamsKZG). Without it, the INSECURE development SRS is used.
    #[arg(long, value_name = "FILE")]
    pub srs: Option<PathBuf>,
}

impl KeyArgs {
    pub fn srs(&self) -> SrsSource {
        match &self.srs {
            Some(path) => SrsSource::File(path.clone()),
            None => {
                eprintln!("warning: using the INSECURE development SRS (public seed); pass --srs for real deployments");
                SrsSource::Dev
            }
        }
    }

    pub fn cache(&self) -> KeyCache {
        KeyCache::new(self.cache_dir.join("keys"))
    }
}

/// Loads and validates a model file, or the bundled default when `path` is `None`.
pub fn load_model(path: Option<&PathBuf>) -> anyhow::Result<Arc<Model>> {
    let model = match path {
        Some(path) => Model::load(path).with_context(|| format!("model file {}", path.display()))?,
        None => Model::from_json(DEFAULT_MODEL).context("bundled default model")?,
    };
    Ok(Arc::new(model))
}

pub fn circuit(model: Arc<Model>) -> anyhow::Result<PolicyCircuit> {
    Ok(PolicyCircuit::new(model)?)
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// The JSON-RPC node of the chain commands.
#[derive(Debug, Clone, Args)]
pub struct RpcArgs {
    /// JSON-RPC endpoint of the chain (its value is never shown: RPC URLs often carry API keys).
    #[arg(long, value_name = "URL", env = "ZKPOLICY_RPC_URL", hide_env_values = true, default_value = "http://127.0.0.1:8545")]
    pub rpc: String,
}

/// The node and the account that signs: where the transaction key comes from. It is never printed.
#[derive(Debug, Clone, Args)]
pub struct SenderArgs {
    #[command(flatten)]
    pub rpc: RpcArgs,

    /// Environment variable holding the account's hex private key.
    #[arg(long, value_name = "VAR", default_value = signer::KEY_ENV)]
    pub private_key_env: String,

    /// An encrypted JSON keystore to sign with instead; its password is read from --password-env.
    #[arg(long, value_name = "FILE")]
    pub keystore: Option<PathBuf>,

    /// Environment variable holding the keystore's password.
    #[arg(long, value_name = "VAR", default_value = signer::PASSWORD_ENV)]
    pub password_env: String,
}

impl SenderArgs {
    pub fn connect(&self) -> anyhow::Result<Client> {
        let source = match &self.keystore {
            Some(path) => KeySource::Keystore { path: path.clone(), password_env: self.password_env.clone() },
            None => KeySource::Env(self.private_key_env.clone()),
        };
        let signer = signer::load(&source)?;
        Ok(Client::connect(&self.rpc.rpc, Some(signer))?)
    }
}

/// Reads a deployment record and checks it against the model and the node's chain.
pub fn load_deployment(path: &std::path::Path, model: &Model, client: &Client) -> anyhow::Result<Deployment> {
    let deployment = Deployment::load(path)?;
    deployment.check(model, client.chain_id(), path)?;
    Ok(deployment)
}
