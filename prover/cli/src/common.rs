//! Options and helpers shared by several subcommands.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::VerifyingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkpolicy_chain::signer::{self, KeySource};
use zkpolicy_chain::{Client, Deployment, RecordedStatement};
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_model::ModelCard;
use zkpolicy_prover::keys::{KeyCache, Prepared};
use zkpolicy_prover::srs::SrsSource;
use zkpolicy_prover::vkey::PublishedKey;
use zkpolicy_verifier::compile::{self, Compiled};

/// The KPI snapshot bundled with the default model, compiled in so `demo` runs from any directory.
pub const DEFAULT_KPIS: &str = zkpolicy_lab::bundled::DEFAULT_KPIS;
/// The committed Solidity verifier of the default model (a test keeps it equal to a fresh render).
pub const DEFAULT_VERIFIER: &str = include_str!("../../../verifier-contract/generated/tokenomics-policy/ZkPolicyVerifier.json");
/// Every committed verifier (the bundled model files, development SRS), shipped in the binary
/// so that their commands need no compiler; a test keeps each equal to a fresh render.
const SHIPPED_VERIFIERS: [&str; 4] = [
    DEFAULT_VERIFIER,
    include_str!("../../../verifier-contract/generated/trained-policy/ZkPolicyVerifier.json"),
    include_str!("../../../verifier-contract/generated/policy-m/ZkPolicyVerifier.json"),
    include_str!("../../../verifier-contract/generated/policy-l/ZkPolicyVerifier.json"),
];

/// Where solc-js is, for the commands that may compile a verifier.
#[derive(Debug, Clone, Args)]
pub struct SolcArgs {
    /// A directory whose node_modules holds solc-js 0.8.37 (`npm install --prefix DIR solc@0.8.37`).
    /// Only a verifier that is not shipped in this binary needs it. Default: the build tree's, when present.
    #[arg(long, value_name = "DIR", env = compile::SOLC_DIR_ENV)]
    pub solc_dir: Option<PathBuf>,
}

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
                SrsSource::DevCached(self.cache_dir.join("srs"))
            }
        }
    }

    pub fn cache(&self) -> KeyCache {
        KeyCache::new(self.cache_dir.join("keys"))
    }

    /// `circuit` ready to prove, with keys from the cache (made on first use).
    pub fn prepare(&self, circuit: PolicyCircuit) -> anyhow::Result<Prepared> {
        Ok(Prepared::cached(circuit, self.srs(), &self.cache())?)
    }
}

/// The model a command proves with: its file, and for private weights its salt.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Model file, or a bundled model's name (default: the bundled tokenomics policy).
    #[arg(long, value_name = "FILE|NAME")]
    pub model: Option<PathBuf>,

    /// Private weights: keep them out of the verifying key and the proofs, bound by a commitment
    /// salted with this secret file (make one with `zkpolicy salt`; keep it with the weights).
    #[arg(long, value_name = "FILE")]
    pub salt: Option<PathBuf>,
}

impl ModelArgs {
    /// The model and its circuit (the private-weights circuit when a salt is given).
    pub fn load(&self) -> anyhow::Result<(Arc<zkpolicy_model::Model>, PolicyCircuit)> {
        let model = load_model(self.model.as_ref())?;
        let circuit = match &self.salt {
            None => PolicyCircuit::new(model.clone())?,
            Some(path) => {
                let salt = zkpolicy_prover::salt::load(path)?;
                PolicyCircuit::private(model.clone(), salt, zkpolicy_circuits::Objective::Gas)?
            }
        };
        Ok((model, circuit))
    }

    /// The input files, for [`distinct_output`].
    pub fn files(&self) -> [Option<&std::path::Path>; 2] {
        [self.model.as_deref(), self.salt.as_deref()]
    }
}

/// Where a command learns the statement: the model file, or a verifying key exported from it.
#[derive(Debug, Clone, Args)]
pub struct StatementArgs {
    #[command(flatten)]
    pub model: ModelArgs,

    /// A verifying key file from `zkpolicy export-vk`, instead of the model: the weights stay with their owner.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["model", "salt"])]
    pub vk: Option<PathBuf>,
}

/// The statement proofs are checked against: a model (whose keys are derived from its
/// weights) or a published verifying key (which carries the public model card).
pub enum Statement {
    Model(Box<PolicyCircuit>),
    Key(Box<PublishedKey>),
    /// A private-weights deployment's card and size, from its record: enough for the chain
    /// commands, not for keys (see [`StatementArgs::load_for`]).
    Recorded(Box<RecordedStatement>),
}

impl StatementArgs {
    pub fn load(&self) -> anyhow::Result<Statement> {
        Ok(match &self.vk {
            Some(path) => Statement::Key(Box::new(PublishedKey::load(path)?)),
            None => Statement::Model(Box::new(self.model.load()?.1)),
        })
    }

    /// [`StatementArgs::load`] for a command on the deployment recorded at `record`: when
    /// none of --model, --salt and --vk is given and the record is a private-weights one,
    /// the statement it records (whose commitment `load_deployment` then checks on chain).
    pub fn load_for(&self, record: &std::path::Path) -> anyhow::Result<Statement> {
        if self.vk.is_none() && self.model.model.is_none() && self.model.salt.is_none() {
            if let Ok(Deployment { private: Some(recorded), .. }) = Deployment::load(record) {
                return Ok(Statement::Recorded(Box::new(recorded)));
            }
        }
        self.load()
    }
}

impl Statement {
    pub fn card(&self) -> &ModelCard {
        match self {
            Self::Model(circuit) => (**circuit).as_ref(),
            Self::Key(key) => key.card(),
            Self::Recorded(recorded) => &recorded.card,
        }
    }

    pub fn k(&self) -> u32 {
        match self {
            Self::Model(circuit) => circuit.shape().k,
            Self::Key(key) => key.k(),
            Self::Recorded(recorded) => recorded.k,
        }
    }

    /// Whether the weights are private (witnesses bound by a salted commitment).
    pub fn private_weights(&self) -> bool {
        match self {
            Self::Model(circuit) => circuit.weight_mode() == zkpolicy_circuits::WeightMode::Private,
            Self::Key(key) => key.file.private_weights,
            Self::Recorded(_) => true,
        }
    }

    /// One line on what the verifier reveals of the weights, for commands that deploy or
    /// publish it: fixed weights are public to anyone who collects the proofs.
    pub fn weights_line(&self) -> String {
        if self.private_weights() {
            return "private: proofs reveal only their salted commitment; keep the salt with the weights".into();
        }
        let after = match self {
            // Each proof opens every fixed column at a fresh point: one linear equation in the
            // column's weights, so a column of n weights is solved after n proofs.
            Self::Model(circuit) => {
                format!("about {} proofs", circuit.model().parameter_count().div_ceil(circuit.shape().lanes))
            }
            Self::Key(_) | Self::Recorded(_) => "as many proofs as a weight column holds values".into(),
        };
        format!(
            "PUBLIC: fixed in the verifying key, and solvable from {after}; for private weights make a salt (`zkpolicy salt`) and pass --salt"
        )
    }

    /// The SRS at the statement's size and the verifying key: generated (or read from the
    /// cache) for a model, or the published one after checking that the SRS is its own.
    pub fn verifying_key(&self, keys: &KeyArgs) -> anyhow::Result<(ParamsKZG<Bn256>, VerifyingKey<G1Affine>, SrsSource)> {
        let srs = keys.srs();
        let params = srs.params(self.k())?;
        let vk = match self {
            Self::Model(circuit) => keys.cache().verifying_key(&params, circuit, &srs)?.0,
            Self::Key(key) => {
                key.check_srs(&params)?;
                key.vk.clone()
            }
            Self::Recorded(recorded) => anyhow::bail!(
                "the deployment record of {} names its card but not its verifying key: pass the model with --model and --salt, or its key with --vk",
                recorded.card.name()
            ),
        };
        Ok((params, vk, srs))
    }
}

/// Loads and validates a model: the file at `path`, or, when no such file exists, the
/// bundled model of that name (`trained-policy`, `policy-m`, ...), or the bundled default
/// when `path` is `None`.
pub fn load_model(path: Option<&PathBuf>) -> anyhow::Result<Arc<zkpolicy_model::Model>> {
    let model = match path {
        Some(path) if !path.exists() => match path.to_str().map(zkpolicy_lab::bundled::model).transpose()?.flatten() {
            Some(bundled) => bundled,
            None => anyhow::bail!(
                "model file {} does not exist, and it is no bundled model's name ({})",
                path.display(),
                zkpolicy_lab::bundled::names().join(", ")
            ),
        },
        Some(path) => zkpolicy_model::Model::load(path).with_context(|| format!("model file {}", path.display()))?,
        None => zkpolicy_lab::bundled::model(zkpolicy_lab::bundled::DEFAULT)
            .context("bundled default model")?
            .context("the default model is bundled")?,
    };
    Ok(Arc::new(model))
}

pub fn circuit(model: Arc<zkpolicy_model::Model>) -> anyhow::Result<PolicyCircuit> {
    Ok(PolicyCircuit::new(model)?)
}

/// The compiled verifier whose source is exactly `source`: the one shipped in the binary
/// when it is (a bundled model file with the development SRS), so no compiler is needed;
/// otherwise compiled with solc-js (see [`SolcArgs`]).
pub fn shipped_or_compiled(source: &str, solc: &SolcArgs, quiet: bool) -> anyhow::Result<Compiled> {
    let keccak = zkpolicy_prover::evm::source_keccak(source);
    for text in SHIPPED_VERIFIERS {
        let shipped: serde_json::Value = serde_json::from_str(text)?;
        if shipped["sourceKeccak"].as_str() == Some(keccak.as_str()) {
            return Ok(Compiled::from_artifact(&shipped)?);
        }
    }
    let dir = compile::find_solc(solc.solc_dir.as_deref())?;
    let spinner = super::progress::spinner("compiling the verifier (solc)", quiet);
    let compiled = zkpolicy_prover::evm::compile_verifier(source, &dir)?;
    spinner.finish_and_clear();
    Ok(compiled)
}

/// Refuses an output path that is also one of the inputs: writing it would destroy the input.
pub fn distinct_output(out: &std::path::Path, inputs: &[Option<&std::path::Path>]) -> anyhow::Result<()> {
    let Ok(target) = out.canonicalize() else { return Ok(()) };
    for input in inputs.iter().flatten() {
        if input.canonicalize().is_ok_and(|i| i == target) {
            anyhow::bail!("--out {} is also an input of this command; write the result to another file", out.display());
        }
    }
    Ok(())
}

/// A small text input (a JSON artifact, report or policy file): at most 16 MiB, UTF-8.
pub fn read_text(path: &std::path::Path, what: &'static str) -> anyhow::Result<String> {
    let bytes = zkpolicy_prover::fsutil::read_at_most(path, 16 << 20, what)?;
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{} is not a valid {what}: it is not UTF-8 text", path.display()))
}

/// The version of every command's `--json` output (`prover/cli/schemas/` holds the schemas).
pub const SCHEMA_VERSION: u32 = 1;

static COMMAND_NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Records the subcommand being run, which [`print_json`] names in every document.
pub fn set_command_name(name: &str) {
    // Set once, by `main`, before any command runs.
    let _ = COMMAND_NAME.set(name.to_string());
}

/// Prints `value` as pretty JSON on stdout, an object first stamped with [`SCHEMA_VERSION`]
/// and the command's name (`prover/cli/schemas/<command>.schema.json` describes it; an
/// `error` document is described by `error.schema.json` whatever the command).
pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let value = match value {
        serde_json::Value::Object(fields) => {
            let mut stamped = serde_json::Map::new();
            stamped.insert("schema_version".into(), SCHEMA_VERSION.into());
            stamped.insert("command".into(), COMMAND_NAME.get().map(String::as_str).unwrap_or_default().into());
            stamped.extend(fields.clone());
            serde_json::Value::Object(stamped)
        }
        other => other.clone(),
    };
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

/// A duration for people: "45 s", "9 min", "3 h", "2 d".
pub fn relative(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86_400 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

/// A chain time (unix seconds) for people: ISO 8601 in UTC, with how far it is from the
/// chain's `now`, e.g. "2026-12-02T09:00:00Z (in 9 min)".
pub fn chain_time(at: u64, now: u64) -> String {
    let iso = zkpolicy_contracts::utc(at);
    let hint = match at.cmp(&now) {
        std::cmp::Ordering::Greater => format!("in {}", relative(at - now)),
        std::cmp::Ordering::Less => format!("{} ago", relative(now - at)),
        std::cmp::Ordering::Equal => "now".to_string(),
    };
    format!("{iso} ({hint})")
}

/// What a deployment's KPI provenance means for whom a decision trusts.
pub fn provenance_words(provenance: zkpolicy_chain::KpiProvenance) -> &'static str {
    match provenance {
        zkpolicy_chain::KpiProvenance::Onchain => {
            "computed on chain from the economy's state (EconomyKpiSource): no one is trusted for them"
        }
        zkpolicy_chain::KpiProvenance::Reporter => "posted by the KPI source's reporter: the reporter is trusted for every input",
    }
}

/// Milliseconds as the integer every `--json` output uses.
pub fn whole_ms(ms: f64) -> u64 {
    ms.round().max(0.0) as u64
}

/// The JSON-RPC node of the chain commands.
#[derive(Debug, Clone, Args)]
pub struct RpcArgs {
    /// JSON-RPC endpoint of the chain (its value is never shown: RPC URLs often carry API keys).
    #[arg(long, value_name = "URL", env = "ZKPOLICY_RPC_URL", hide_env_values = true, default_value = "http://127.0.0.1:8545")]
    pub rpc: String,
}

/// A deployment, the model it serves and the account that signs: what a command that sends a
/// transaction to the controller needs (and `--json`).
#[derive(Debug, Args)]
pub struct DeploymentArgs {
    /// Deployment record written by `zkpolicy deploy`.
    #[arg(long, value_name = "FILE")]
    pub deployment: PathBuf,

    /// The deployed model, or its exported verifying key.
    #[command(flatten)]
    pub statement: StatementArgs,

    #[command(flatten)]
    pub sender: SenderArgs,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl DeploymentArgs {
    /// The signing client and the deployment record, checked against the model and the chain.
    pub fn connect(&self) -> anyhow::Result<(Client, Deployment)> {
        let (_, client, deployment) = self.connect_statement()?;
        Ok((client, deployment))
    }

    /// [`DeploymentArgs::connect`] without a signing key: for what only reads the chain.
    pub fn connect_read_only(&self) -> anyhow::Result<(Client, Deployment)> {
        let statement = self.statement.load_for(&self.deployment)?;
        let client = Client::connect(&self.sender.rpc.rpc, None)?;
        let deployment = load_deployment(&self.deployment, statement.card(), &client)?;
        Ok((client, deployment))
    }

    /// [`DeploymentArgs::connect`], keeping the statement it loaded.
    pub fn connect_statement(&self) -> anyhow::Result<(Statement, Client, Deployment)> {
        let statement = self.statement.load_for(&self.deployment)?;
        let client = self.sender.connect()?;
        let deployment = load_deployment(&self.deployment, statement.card(), &client)?;
        Ok((statement, client, deployment))
    }
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

    /// Sign through a remote signer instead (Web3Signer, Clef: its `eth_signTransaction`
    /// JSON-RPC URL); the key stays with it.
    #[arg(long, value_name = "URL", env = "ZKPOLICY_REMOTE_SIGNER", hide_env_values = true, conflicts_with = "keystore")]
    pub remote_signer: Option<String>,

    /// With --remote-signer: the account to sign with (default: the signer's only account).
    #[arg(long, value_name = "ADDRESS", requires = "remote_signer")]
    pub signer_address: Option<alloy::primitives::Address>,
}

impl SenderArgs {
    pub fn connect(&self) -> anyhow::Result<Client> {
        let source = match (&self.remote_signer, &self.keystore) {
            (Some(url), _) => KeySource::Remote { url: url.clone(), address: self.signer_address },
            (None, Some(path)) => KeySource::Keystore { path: path.clone(), password_env: self.password_env.clone() },
            (None, None) => KeySource::Env(self.private_key_env.clone()),
        };
        Ok(Client::connect_with(&self.rpc.rpc, Some(signer::signer(&source)?))?)
    }
}

/// Reads a deployment record and checks it against the model and the node's chain.
pub fn load_deployment(path: &std::path::Path, model: &ModelCard, client: &Client) -> anyhow::Result<Deployment> {
    let deployment = Deployment::load(path)?;
    deployment.check(model, client.chain_id(), path)?;
    Ok(deployment)
}
