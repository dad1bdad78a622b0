//! `keeper.toml`: what a keeper serves, where it keeps its state and how it sends.
//!
//! Everything is checked before the keeper starts, and every error names the key
//! (`chains.local.rpc[1]`, `deployment[0].record`, …). Relative paths are read from
//! the config file's directory. The signing key is never in the file: only the name of
//! the environment variable (or the keystore file and its password's variable, or the
//! remote signer's URL).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::KeeperError;
use zkpolicy_chain::signer::{self, KeySource};

/// The largest config file read.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The whole of `keeper.toml`: what the keeper serves, where it keeps its state, how it signs
/// and how it sends. [`KeeperConfig::load`] reads and checks a file before anything starts;
/// `zkpolicy live` builds one with [`KeeperConfig::new`] and writes it with
/// [`KeeperConfig::to_toml`].
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KeeperConfig {
    /// The keeper's database and proofs (created if missing).
    pub state_dir: PathBuf,
    /// Seconds between two looks at the chains.
    #[serde(default = "default_poll")]
    pub poll_interval_secs: u64,
    /// Where `/metrics`, `/healthz` and `/readyz` are served (none: not served).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_addr: Option<SocketAddr>,
    /// `text` (the default) or `json` (one JSON object per line).
    #[serde(default)]
    pub log_format: LogFormat,
    /// Cached proving keys and the development SRS, as `--cache-dir` of `prove`.
    #[serde(default = "default_cache")]
    pub cache_dir: PathBuf,
    /// A powers-of-tau file; without it, the INSECURE development SRS (for test chains).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srs: Option<PathBuf>,
    /// The one account that signs every transaction on every chain (`[signer]`): where its
    /// key comes from, never the key.
    pub signer: SignerConfig,
    /// Per chain (by a name of the operator's choosing): its endpoints and fee rules.
    pub chains: BTreeMap<String, ChainConfig>,
    /// What the keeper serves: `[[deployment]]` tables.
    #[serde(rename = "deployment")]
    pub deployments: Vec<DeploymentConfig>,
}

/// How the keeper writes its log lines to stderr (`log_format`).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Plain text lines for a person reading a terminal or the journal (the default).
    #[default]
    Text,
    /// One JSON object per line, the deployment and epoch as fields, for a log collector.
    Json,
}

/// The account that signs: a hex key in an environment variable, or a JSON keystore.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SignerConfig {
    /// The environment variable holding the hex private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// An encrypted JSON keystore instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keystore: Option<PathBuf>,
    /// The environment variable holding the keystore's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// A remote signer's JSON-RPC URL instead (Web3Signer, Clef: `eth_signTransaction`); the
    /// key stays with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    /// With `remote`: the account to sign with (default: the signer's only account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<alloy_primitives::Address>,
}

/// One `[chains.NAME]` table: a chain's JSON-RPC endpoints and the rules for what the keeper
/// sends there (confirmations, fee and gas caps, when to re-price, how far behind an endpoint
/// may lag).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// JSON-RPC endpoints, in order of preference; the keeper fails over down the list.
    pub rpc: Vec<String>,
    /// Blocks on top of a transaction's before it counts as confirmed (1: mined).
    #[serde(default = "one")]
    pub confirmations: u64,
    /// The fee cap: no transaction is ever priced above this many gwei per gas.
    pub max_fee_gwei: u64,
    /// The priority fee cap, in gwei per gas.
    #[serde(default = "default_priority")]
    pub max_priority_fee_gwei: u64,
    /// A transaction not mined after this many seconds is re-priced (+12.5 %) and resent.
    #[serde(default = "default_resend")]
    pub resend_after_secs: u64,
    /// An endpoint more than this many blocks behind the best one counts as lagging.
    #[serde(default = "default_lag")]
    pub max_lag_blocks: u64,
    /// The gas cap: no transaction is ever signed with a larger gas limit, and a gas estimate
    /// above it is refused (the next endpoint is asked) instead of sent.
    #[serde(default = "default_max_gas_limit")]
    pub max_gas_limit: u64,
}

/// The default gas cap: four times the largest submission measured (1.24M gas, policy-xl at
/// its prover-time shape; the default model's costs 411k), and below the 16,777,216 gas a
/// transaction may use since Osaka (EIP-7825).
pub const DEFAULT_MAX_GAS_LIMIT: u64 = 5_000_000;
/// The smallest gas cap accepted: below it no step fits (a tick or a snapshot alone needs
/// about as much).
pub const MIN_MAX_GAS_LIMIT: u64 = 100_000;

/// One `[[deployment]]` table: a deployed controller the keeper serves, the chain it is on,
/// the model (and salt) it proves with, and which of the optional steps (tick, KPI commitment,
/// execution) the keeper takes for it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeploymentConfig {
    /// The name on every log line and metric.
    pub name: String,
    /// A key of `chains`.
    pub chain: String,
    /// The deployment record `zkpolicy deploy` wrote.
    pub record: PathBuf,
    /// The model deployed (default: the bundled default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<PathBuf>,
    /// The salt of a private-weights model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<PathBuf>,
    /// Reporter deployments where this keeper is the reporter: `<epoch>.json` KPI snapshots
    /// in this directory are committed when their epoch comes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpis_dir: Option<PathBuf>,
    /// On-chain deployments: run the economy's epoch (`tick`) before the snapshot.
    #[serde(default = "yes")]
    pub tick: bool,
    /// Timelocked deployments: execute each queued decision once its delay has passed.
    #[serde(default = "yes")]
    pub execute: bool,
}

fn default_poll() -> u64 {
    12
}
fn default_cache() -> PathBuf {
    PathBuf::from(".zkpolicy")
}
fn one() -> u64 {
    1
}
fn default_priority() -> u64 {
    2
}
fn default_resend() -> u64 {
    60
}
fn default_lag() -> u64 {
    5
}
fn default_max_gas_limit() -> u64 {
    DEFAULT_MAX_GAS_LIMIT
}
fn yes() -> bool {
    true
}

impl ChainConfig {
    /// A chain at `rpc` (in order of preference) with the fee cap `max_fee_gwei` and every
    /// other rule at its default.
    pub fn new(rpc: Vec<String>, max_fee_gwei: u64) -> Self {
        Self {
            rpc,
            confirmations: one(),
            max_fee_gwei,
            max_priority_fee_gwei: default_priority(),
            resend_after_secs: default_resend(),
            max_lag_blocks: default_lag(),
            max_gas_limit: default_max_gas_limit(),
        }
    }
}

impl DeploymentConfig {
    /// The deployment `record` on chain `chain`, served under `name`, with the bundled default
    /// model, ticking and executing as the defaults do.
    pub fn new(name: &str, chain: &str, record: PathBuf) -> Self {
        Self { name: name.into(), chain: chain.into(), record, model: None, salt: None, kpis_dir: None, tick: yes(), execute: yes() }
    }
}

fn bad(key: impl Into<String>, reason: impl Into<String>) -> KeeperError {
    KeeperError::Config { key: key.into(), reason: reason.into() }
}

impl KeeperConfig {
    /// Reads, parses and checks `path`; relative paths in it become relative to its directory.
    pub fn load(path: &Path) -> Result<Self, KeeperError> {
        let bytes = zkpolicy_prover::fsutil::read_at_most(path, MAX_CONFIG_BYTES, "keeper config")
            .map_err(|e| KeeperError::File { path: path.into(), reason: zkpolicy_prover::describe(&e) })?;
        let text = String::from_utf8(bytes).map_err(|_| KeeperError::File { path: path.into(), reason: "not UTF-8 text".into() })?;
        let mut config = Self::parse(&text)?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve(base);
        config.validate()?;
        Ok(config)
    }

    /// A config with one signer, its chains and deployments, and every other key at its
    /// default.
    pub fn new(
        state_dir: PathBuf,
        signer: SignerConfig,
        chains: BTreeMap<String, ChainConfig>,
        deployments: Vec<DeploymentConfig>,
    ) -> Self {
        Self {
            state_dir,
            poll_interval_secs: default_poll(),
            metrics_addr: None,
            log_format: LogFormat::default(),
            cache_dir: default_cache(),
            srs: None,
            signer,
            chains,
            deployments,
        }
    }

    /// The config as `keeper.toml` text, which [`KeeperConfig::parse`] reads back equal.
    pub fn to_toml(&self) -> Result<String, KeeperError> {
        toml::to_string(self).map_err(|e| bad("(top level)", format!("cannot be written as TOML: {e}")))
    }

    /// Parses the TOML text; an unknown, missing or mistyped key is named.
    pub fn parse(text: &str) -> Result<Self, KeeperError> {
        toml::from_str(text).map_err(|e| {
            // toml names the key in its message ("unknown field `x`", "missing field `y`") and
            // points at the line; the span gives the dotted path to put first.
            let message = e.message().to_string();
            let key = e.span().map(|span| key_at(text, span.start)).unwrap_or_default();
            let line = e.span().map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
            bad(if key.is_empty() { "(top level)".to_string() } else { key }, format!("{message}{at}"))
        })
    }

    fn resolve(&mut self, base: &Path) {
        let join = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        join(&mut self.state_dir);
        join(&mut self.cache_dir);
        if let Some(p) = &mut self.srs {
            join(p);
        }
        if let Some(p) = &mut self.signer.keystore {
            join(p);
        }
        for d in &mut self.deployments {
            join(&mut d.record);
            for p in [&mut d.model, &mut d.salt, &mut d.kpis_dir].into_iter().flatten() {
                join(p);
            }
        }
    }

    /// Everything that can be checked without a chain.
    pub fn validate(&self) -> Result<(), KeeperError> {
        if self.poll_interval_secs == 0 {
            return Err(bad("poll_interval_secs", "must be at least 1 second"));
        }
        self.key_source()?;
        if self.chains.is_empty() {
            return Err(bad("chains", "no chain: add a [chains.NAME] table with its rpc list"));
        }
        for (name, chain) in &self.chains {
            let key = format!("chains.{name}");
            if chain.rpc.is_empty() {
                return Err(bad(format!("{key}.rpc"), "no endpoint: list at least one JSON-RPC URL"));
            }
            for (i, url) in chain.rpc.iter().enumerate() {
                let parsed = url.parse::<alloy::transports::http::reqwest::Url>();
                if !parsed.as_ref().is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                    // The URL may hold an API key: it is not repeated.
                    return Err(bad(format!("{key}.rpc[{i}]"), "not an http(s) URL"));
                }
            }
            if chain.confirmations == 0 {
                return Err(bad(format!("{key}.confirmations"), "must be at least 1 (mined)"));
            }
            if chain.max_fee_gwei == 0 {
                return Err(bad(format!("{key}.max_fee_gwei"), "must be at least 1 gwei"));
            }
            if chain.max_priority_fee_gwei > chain.max_fee_gwei {
                return Err(bad(format!("{key}.max_priority_fee_gwei"), "is above max_fee_gwei"));
            }
            if chain.resend_after_secs == 0 {
                return Err(bad(format!("{key}.resend_after_secs"), "must be at least 1 second"));
            }
            if chain.max_gas_limit < MIN_MAX_GAS_LIMIT {
                return Err(bad(
                    format!("{key}.max_gas_limit"),
                    format!("must be at least {MIN_MAX_GAS_LIMIT} gas (no step fits below it)"),
                ));
            }
        }
        if self.deployments.is_empty() {
            return Err(bad("deployment", "nothing to serve: add a [[deployment]] table"));
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, d) in self.deployments.iter().enumerate() {
            let key = format!("deployment[{i}]");
            if d.name.is_empty() || !d.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                return Err(bad(format!("{key}.name"), "use letters, digits, '-', '_' or '.'"));
            }
            if !names.insert(&d.name) {
                return Err(bad(format!("{key}.name"), format!("{:?} is the name of an earlier deployment", d.name)));
            }
            if !self.chains.contains_key(&d.chain) {
                return Err(bad(
                    format!("{key}.chain"),
                    format!("{:?} is not a chain of this config ({})", d.chain, self.chains.keys().cloned().collect::<Vec<_>>().join(", ")),
                ));
            }
            if !d.record.is_file() {
                return Err(bad(format!("{key}.record"), format!("{} is not a file", d.record.display())));
            }
            for (field, path) in [("model", &d.model), ("salt", &d.salt)] {
                if let Some(p) = path.as_ref().filter(|p| !p.is_file()) {
                    return Err(bad(format!("{key}.{field}"), format!("{} is not a file", p.display())));
                }
            }
            if let Some(p) = d.kpis_dir.as_ref().filter(|p| !p.is_dir()) {
                return Err(bad(format!("{key}.kpis_dir"), format!("{} is not a directory", p.display())));
            }
        }
        if let Some(p) = self.srs.as_ref().filter(|p| !p.is_file()) {
            return Err(bad("srs", format!("{} is not a file", p.display())));
        }
        check_writable(&self.state_dir).map_err(|reason| bad("state_dir", reason))?;
        Ok(())
    }

    /// Where the signing key comes from; the key itself is loaded by [`signer::signer`].
    pub fn key_source(&self) -> Result<KeySource, KeeperError> {
        let s = &self.signer;
        if s.address.is_some() && s.remote.is_none() {
            return Err(bad("signer.address", "only for a remote signer (the address of a local key is the key's)"));
        }
        match (&s.env, &s.keystore, &s.remote) {
            (None, None, None) => {
                Err(bad("signer", "no signer: set signer.env (a variable holding the hex key), signer.keystore or signer.remote"))
            }
            (Some(var), None, None) => {
                if s.password_env.is_some() {
                    return Err(bad("signer.password_env", "only for a keystore"));
                }
                Ok(KeySource::Env(var.clone()))
            }
            (None, Some(path), None) => Ok(KeySource::Keystore {
                path: path.clone(),
                password_env: s.password_env.clone().unwrap_or_else(|| signer::PASSWORD_ENV.to_string()),
            }),
            (None, None, Some(url)) => {
                if s.password_env.is_some() {
                    return Err(bad("signer.password_env", "only for a keystore"));
                }
                Ok(KeySource::Remote { url: url.clone(), address: s.address })
            }
            _ => Err(bad("signer", "give one of env, keystore or remote")),
        }
    }
}

/// Creates `dir` if needed and checks a file can be written in it.
fn check_writable(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"").map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// The dotted key whose value or header is at byte `at` of a TOML text: the last table
/// header up to its line, and the key on its line (`chains.local.rpc`, `deployment[1].record`).
fn key_at(text: &str, at: usize) -> String {
    let at = at.min(text.len());
    // Through the end of the line holding `at`.
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let mut table = String::new();
    let mut arrays: BTreeMap<String, usize> = BTreeMap::new();
    let mut key = None;
    for line in text[..end].lines() {
        let t = line.trim();
        key = None;
        if let Some(name) = t.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
            let name = name.trim().to_string();
            let n = arrays.entry(name.clone()).and_modify(|n| *n += 1).or_insert(0);
            table = format!("{name}[{n}]");
        } else if let Some(name) = t.strip_prefix('[').and_then(|r| r.split(']').next()) {
            table = name.trim().to_string();
        } else {
            key = t.split_once('=').map(|(k, _)| k.trim().to_string());
        }
    }
    match key {
        Some(k) if table.is_empty() => k,
        Some(k) => format!("{table}.{k}"),
        None => table,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
state_dir = "state"
poll_interval_secs = 2

[signer]
env = "KEEPER_KEY"

[chains.local]
rpc = ["http://127.0.0.1:8545"]
max_fee_gwei = 100

[[deployment]]
name = "a"
chain = "local"
record = "a.json"
"#;

    #[test]
    fn an_unknown_key_is_named_with_its_table_and_line() {
        let text = GOOD.replace("max_fee_gwei = 100", "max_fee_gwei = 100\nmax_fee = 3");
        let err = KeeperConfig::parse(&text).expect_err("unknown key");
        let KeeperError::Config { key, reason } = &err else { panic!("{err}") };
        assert_eq!(key, "chains.local.max_fee");
        assert!(reason.contains("unknown field `max_fee`") && reason.contains("line 11"), "{reason}");
        let text = GOOD.replace("record = \"a.json\"", "record = \"a.json\"\ntick = \"yes\"");
        let err = KeeperConfig::parse(&text).expect_err("mistyped");
        assert!(matches!(&err, KeeperError::Config { key, .. } if key == "deployment[0].tick"), "{err}");
    }

    #[test]
    fn a_missing_signer_and_bad_values_are_named() {
        let config = KeeperConfig::parse(&GOOD.replace("[signer]\nenv = \"KEEPER_KEY\"", "[signer]")).expect("parses");
        let err = config.key_source().expect_err("no signer");
        assert!(matches!(&err, KeeperError::Config { key, .. } if key == "signer"), "{err}");
        // One source of signatures, and the remote signer's keys only with it.
        let signer = |table: &str| KeeperConfig::parse(&GOOD.replace("env = \"KEEPER_KEY\"", table)).expect("parses").key_source();
        let remote = signer("remote = \"http://127.0.0.1:9000\"\naddress = \"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\"");
        assert!(
            matches!(&remote, Ok(KeySource::Remote { url, address: Some(a) }) if url == "http://127.0.0.1:9000" && a.to_string().starts_with("0xf39F")),
            "{remote:?}"
        );
        for (table, key) in [
            ("env = \"K\"\nremote = \"http://127.0.0.1:9000\"", "signer"),
            ("keystore = \"k.json\"\nremote = \"http://127.0.0.1:9000\"", "signer"),
            ("env = \"K\"\naddress = \"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\"", "signer.address"),
            ("remote = \"http://127.0.0.1:9000\"\npassword_env = \"P\"", "signer.password_env"),
        ] {
            let err = signer(table).expect_err(table);
            assert!(matches!(&err, KeeperError::Config { key: k, .. } if k == key), "{table}: {err}");
        }
        let err = KeeperConfig::parse(&GOOD.replace("http://127.0.0.1:8545", "ftp://user:SECRET@h/x"))
            .expect("parses")
            .validate()
            .expect_err("bad url");
        assert!(matches!(&err, KeeperError::Config { key, .. } if key == "chains.local.rpc[0]"), "{err}");
        assert!(!err.to_string().contains("SECRET"), "{err}");
        let err =
            KeeperConfig::parse(&GOOD.replace("chain = \"local\"", "chain = \"main\"")).expect("parses").validate().expect_err("chain");
        assert!(matches!(&err, KeeperError::Config { key, .. } if key == "deployment[0].chain"), "{err}");
    }

    #[test]
    fn the_gas_cap_has_a_safe_default_and_a_floor() {
        let config = KeeperConfig::parse(GOOD).expect("parses");
        assert_eq!(config.chains["local"].max_gas_limit, DEFAULT_MAX_GAS_LIMIT);
        let config = KeeperConfig::parse(&GOOD.replace("max_fee_gwei = 100", "max_fee_gwei = 100\nmax_gas_limit = 99999")).expect("parses");
        let err = config.validate().expect_err("below the floor");
        assert!(
            matches!(&err, KeeperError::Config { key, reason } if key == "chains.local.max_gas_limit" && reason.contains("100000")),
            "{err}"
        );
        let err = KeeperConfig::parse(&GOOD.replace("max_fee_gwei = 100", "max_fee_gwei = 100\nmax_gas_limit = -1")).expect_err("negative");
        assert!(matches!(&err, KeeperError::Config { key, .. } if key == "chains.local.max_gas_limit"), "{err}");
    }

    #[test]
    fn keys_are_found_in_array_tables() {
        let text = "[[deployment]]\nname = \"a\"\n[[deployment]]\nname = \"b\"\nrecord = 1\n";
        assert_eq!(key_at(text, text.find("record").expect("record")), "deployment[1].record");
        assert_eq!(key_at("a = 1\n", 0), "a");
    }

    /// What `zkpolicy live` writes for its keeper is a typed config rendered by `to_toml`:
    /// it parses back equal, paths with quotes and backslashes included.
    #[test]
    fn a_config_written_as_toml_parses_back_equal() {
        let mut deployment = DeploymentConfig::new("live", "local", PathBuf::from("out/a \"quoted\" dir\\deployment.json"));
        deployment.tick = false;
        deployment.model = Some(PathBuf::from("model.json"));
        let chains = BTreeMap::from([("local".to_string(), ChainConfig::new(vec!["http://127.0.0.1:8545".into()], 1000))]);
        let signer = SignerConfig { env: Some("KEEPER_KEY".into()), ..SignerConfig::default() };
        let mut config = KeeperConfig::new(PathBuf::from("state"), signer, chains, vec![deployment]);
        config.log_format = LogFormat::Json;
        config.poll_interval_secs = 1;
        let text = config.to_toml().expect("renders");
        let parsed = KeeperConfig::parse(&text).expect("parses");
        assert_eq!(parsed, config, "{text}");
    }
}
