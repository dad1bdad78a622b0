//! `zkpolicy deploy`: the deployment config an operator writes, the record the
//! deployment leaves behind, and the three deployments themselves.

use std::path::Path;

use alloy::primitives::{Address, I256, U256};
use alloy::sol_types::SolConstructor;
use serde::{Deserialize, Serialize};
use zkpolicy_contracts::controller::PolicyController::{self, Mode, Timing};
use zkpolicy_contracts::controller::{self, ReporterKpiSource};
use zkpolicy_model::Guardrail;
use zkpolicy_model::{ModelCard, ModelCommitment};
use zkpolicy_verifier::compile::Compiled;

use super::economy::EconomyRecord;
use super::{ChainError, Client, Sent};
use zkpolicy_prover::fsutil;

/// The `format` every deployment record carries; a file with another is refused on load.
pub const DEPLOYMENT_FORMAT: &str = "zkpolicy-deployment";

/// What the operator chooses for a controller (`--config`, JSON).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeployConfig {
    /// `advisory` (record only), `timelocked` (queue for `adjustment_delay`) or `autonomous` (apply).
    pub mode: String,
    /// Governance: the account that schedules and executes timelocked changes (rails, mode,
    /// KPI source, verifier) and lifts a pause; default: the deploying account. On an
    /// on-chain deployment it also governs the economy through its timelock.
    #[serde(default)]
    pub governance: Option<Address>,
    /// The guardian, who can only pause the controller; default: the deploying account.
    #[serde(default)]
    pub guardian: Option<Address>,
    /// The account the reporter KPI source accepts KPIs from (reporter deployments only);
    /// default: the deploying account.
    #[serde(default)]
    pub reporter: Option<Address>,
    /// Seconds between scheduling and executing a governance change.
    pub governance_delay: u64,
    /// The controller's epochs, snapshot freshness and adjustment delay.
    pub timing: TimingConfig,
    /// One per model output, in the model's output order: the parameter the output
    /// adjusts, its initial value and its rail (`name`, `initial`, `min`, `max`, `max_step`).
    pub parameters: Vec<Guardrail>,
    /// Where the KPIs come from: `reporter` (the default: a reporter account posts them,
    /// and is trusted) or `onchain` (the reference economy below is deployed and its
    /// `EconomyKpiSource` computes them; nobody posts them).
    #[serde(default = "reporter")]
    pub kpi_source: String,
    /// The economy to deploy with `"kpi_source": "onchain"`.
    #[serde(default)]
    pub economy: Option<super::economy::EconomyConfig>,
}

fn reporter() -> String {
    "reporter".into()
}

/// The controller's clock (the config's `timing` section), all in seconds of chain time.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimingConfig {
    /// Seconds an epoch lasts; only the current epoch can be decided, once.
    pub epoch_length: u64,
    /// When epoch 1 starts (unix seconds); default: the controller's deployment block.
    #[serde(default)]
    pub genesis: Option<u64>,
    /// A KPI snapshot older than this (seconds) is refused.
    pub max_snapshot_age: u64,
    /// Timelocked mode: seconds before a queued adjustment may execute.
    pub adjustment_delay: u64,
}

impl DeployConfig {
    /// Reads a config file (JSON, at most 1 MiB); it is not validated: call [`Self::validate`].
    pub fn load(path: &Path) -> Result<Self, ChainError> {
        Self::from_json(&fsutil::read_at_most(path, 1 << 20, "deployment config")?, path)
    }

    /// Parses a config's bytes; `path` names it in errors.
    pub fn from_json(bytes: &[u8], path: &Path) -> Result<Self, ChainError> {
        serde_json::from_slice(bytes)
            .map_err(|e| ChainError::File { path: path.into(), reason: format!("not a valid deployment config: {e}") })
    }

    /// Checks the config against the model; errors name the field and the fix.
    pub fn validate(&self, model: &ModelCard) -> Result<(), ChainError> {
        self.mode()?;
        if self.timing.epoch_length == 0 {
            return Err(ChainError::Config("timing.epoch_length: must be at least 1 second".into()));
        }
        if self.timing.genesis == Some(0) {
            return Err(ChainError::Config("timing.genesis: 0 is not a time; leave it out to start at deployment".into()));
        }
        let outputs = model.outputs();
        if self.parameters.len() != outputs.len() {
            return Err(ChainError::Config(format!(
                "parameters: {} entries, but model {} has {} outputs ({}); give one parameter per output, in that order",
                self.parameters.len(),
                model.name(),
                outputs.len(),
                outputs.iter().map(|o| o.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        for (i, p) in self.parameters.iter().enumerate() {
            p.check(i).map_err(|e| ChainError::Config(format!("parameters: {e}")))?;
        }
        // A model that reads the parameters can be proven only on values inside its declared
        // ranges; the controller refuses a rail that reaches outside them (RailOutsideModelRange).
        for (i, (p, spec)) in self.parameters.iter().zip(model.parameters()).enumerate() {
            if p.min < spec.min || p.max > spec.max {
                return Err(ChainError::Config(format!(
                    "parameters[{i}] ({}): the rail [{}, {}] reaches outside [{}, {}], the range model {} declares for its parameter \
                     input {:?}; the controller would refuse it",
                    p.name,
                    p.min,
                    p.max,
                    spec.min,
                    spec.max,
                    model.name(),
                    spec.name
                )));
            }
        }
        match (KpiProvenance::of(self)?, &self.economy) {
            (KpiProvenance::Reporter, None) => Ok(()),
            (KpiProvenance::Reporter, Some(_)) => Err(ChainError::Config("economy: only used with \"kpi_source\": \"onchain\"".into())),
            (KpiProvenance::Onchain, None) => {
                Err(ChainError::Config("economy: \"kpi_source\": \"onchain\" needs the economy to deploy".into()))
            }
            (KpiProvenance::Onchain, Some(economy)) => {
                economy.validate()?;
                economy.snapshot_window(self.timing.epoch_length)?;
                self.economy_initial().map(|_| ())
            }
        }
    }

    /// The economy's initial parameters: the four rails' initial values. Each rail's whole
    /// `[min, max]` must lie inside the economy's range for its parameter (rates
    /// 0..=10000 bps, the fee 0..=1000), or the controller could move a parameter where the
    /// economy refuses it.
    fn economy_initial(&self) -> Result<[u64; 4], ChainError> {
        if self.parameters.len() != 4 {
            return Err(ChainError::Config(format!(
                "kpi_source \"onchain\": the economy has four parameters (emission, staking reward, burn, fee), the config {}",
                self.parameters.len()
            )));
        }
        let mut out = [0u64; 4];
        for (i, p) in self.parameters.iter().enumerate() {
            super::economy::check_rail(i, &p.name, p.min, p.max).map_err(|e| ChainError::Config(format!("parameters: {e}")))?;
            // Inside [min, max] (checked above), so inside the economy's range.
            out[i] = u64::try_from(p.initial).unwrap_or_default();
        }
        Ok(out)
    }

    fn mode(&self) -> Result<Mode, ChainError> {
        match self.mode.as_str() {
            "advisory" => Ok(Mode::Advisory),
            "timelocked" => Ok(Mode::Timelocked),
            "autonomous" => Ok(Mode::Autonomous),
            other => Err(ChainError::Config(format!("mode: \"{other}\" is not one of advisory, timelocked, autonomous"))),
        }
    }
}

/// The verifier's creation code and where it came from.
#[derive(Clone, Debug)]
pub struct VerifierCode {
    /// The generated Solidity verifier's creation bytecode, deployed as is.
    pub bytecode: Vec<u8>,
    /// An identifier of the SRS the verifier was generated from.
    pub srs: String,
    /// The SRS is the INSECURE development one, whose toxic waste is public: anyone can
    /// forge proofs against this verifier, so it is only for local test chains.
    pub insecure_dev_srs: bool,
}

/// A private-weights deployment's public statement: its model card (the weight commitment in
/// place of the file's hash) and circuit size, what `export-vk` publishes beside the key.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RecordedStatement {
    /// The circuit has `2^k` rows.
    pub k: u32,
    /// The public model card, its commitment binding the private weights.
    pub card: ModelCard,
}

/// What `deploy` leaves behind (`--out`), read by `commit-kpis`, `submit` and `status`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// Always `zkpolicy-deployment`.
    pub format: String,
    /// The chain the contracts live on; commands refuse a node that serves another.
    pub chain_id: u64,
    /// The model's name, for messages.
    pub model: String,
    /// The commitment of the model the verifier (and so the controller) accepts proofs of.
    pub model_commitment: ModelCommitment,
    /// An identifier of the SRS the verifier was generated from.
    pub srs: String,
    /// The verifier was made from the INSECURE development SRS (local test chains only).
    pub insecure_dev_srs: bool,
    /// The account that deployed the contracts.
    #[serde(serialize_with = "checksummed")]
    pub deployer: Address,
    /// The generated halo2 verifier the controller calls.
    #[serde(serialize_with = "checksummed")]
    pub verifier: Address,
    /// The KPI source deployed with the controller: the reporter's, or the economy's
    /// `EconomyKpiSource` (governance may later point the controller at another).
    #[serde(serialize_with = "checksummed")]
    pub kpi_source: Address,
    /// The policy controller that verifies, guards and applies adjustments.
    #[serde(serialize_with = "checksummed")]
    pub controller: Address,
    /// Parameter names, in the model's output order.
    pub parameters: Vec<String>,
    /// The block the controller was deployed in.
    pub block: u64,
    /// What each deployment cost.
    pub gas: DeployGas,
    /// Who the KPIs come from (a record without it is a reporter deployment).
    #[serde(default)]
    pub kpi_provenance: KpiProvenance,
    /// The economy, for on-chain deployments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub economy: Option<super::economy::EconomyRecord>,
    /// Private weights: the public statement, so that the commands which need only the card
    /// (commit-kpis, submit, status, execute, govern, pause) work from the record, and whoever
    /// runs them (a guardian, a reporter) needs neither the weights nor the salt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<RecordedStatement>,
}

/// Where a deployment's KPIs come from; written `reporter` or `onchain`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KpiProvenance {
    /// Posted by a reporter account, which is trusted for every input.
    #[default]
    Reporter,
    /// Computed on chain from the reference economy's state; nobody posts them.
    Onchain,
}

impl KpiProvenance {
    /// The config's `kpi_source`; anything else is refused by name.
    fn of(config: &DeployConfig) -> Result<Self, ChainError> {
        match config.kpi_source.as_str() {
            "reporter" => Ok(Self::Reporter),
            "onchain" => Ok(Self::Onchain),
            other => Err(ChainError::Config(format!("kpi_source: \"{other}\" is not one of reporter, onchain"))),
        }
    }
}

/// Addresses are written EIP-55 checksummed, as every `--json` output and record writes them.
pub(super) fn checksummed<S: serde::Serializer>(address: &Address, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&address.to_checksum(None))
}

/// The gas (units, not wei) each part of a deployment used.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeployGas {
    /// The verifier's deployment.
    pub verifier: u64,
    /// The reporter KPI source's deployment; on chain, the whole economy's: its contracts,
    /// their wiring, the pool's seeding and the source's first snapshot.
    pub kpi_source: u64,
    /// The controller's deployment.
    pub controller: u64,
}

impl Deployment {
    /// Reads a record `deploy` wrote (JSON, at most 1 MiB), refusing another format.
    pub fn load(path: &Path) -> Result<Self, ChainError> {
        Self::from_json(&fsutil::read_at_most(path, 1 << 20, "deployment record")?, path)
    }

    /// Parses a record's bytes; `path` names it in errors.
    pub fn from_json(bytes: &[u8], path: &Path) -> Result<Self, ChainError> {
        let record: Self = serde_json::from_slice(bytes).map_err(|e| ChainError::File {
            path: path.into(),
            reason: format!("not a deployment record written by `zkpolicy deploy`: {e}"),
        })?;
        if record.format != DEPLOYMENT_FORMAT {
            return Err(ChainError::File {
                path: path.into(),
                reason: format!("format is \"{}\", expected \"{DEPLOYMENT_FORMAT}\"", record.format),
            });
        }
        Ok(record)
    }

    /// Writes the record as pretty JSON, atomically (a reader never sees half a file).
    pub fn save(&self, path: &Path) -> Result<(), ChainError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| ChainError::Answer(e.to_string()))?;
        fsutil::write_atomic(path, format!("{text}\n").as_bytes())?;
        Ok(())
    }

    /// Refuses a record for another model or another chain.
    pub fn check(&self, model: &ModelCard, chain_id: u64, path: &Path) -> Result<(), ChainError> {
        if self.model_commitment != model.commitment() {
            return Err(ChainError::File {
                path: path.to_path_buf(),
                reason: format!(
                    "the controller was deployed for model {} ({}), not {} ({}); pass that model with --model \
                     (and its --salt, for private weights) or its key with --vk",
                    self.model,
                    self.model_commitment,
                    model.name(),
                    model.commitment()
                ),
            });
        }
        if self.chain_id != chain_id {
            return Err(ChainError::File {
                path: path.to_path_buf(),
                reason: format!(
                    "the contracts were deployed on chain {}, but the node serves chain {chain_id}; check --rpc",
                    self.chain_id
                ),
            });
        }
        Ok(())
    }
}

fn int(v: i64) -> I256 {
    I256::try_from(v).unwrap_or_default()
}

/// Deploys the verifier, the reporter KPI source and the controller, in that order.
pub fn deploy(client: &Client, model: &ModelCard, verifier: &VerifierCode, config: &DeployConfig) -> Result<Deployment, ChainError> {
    config.validate(model)?;
    let deployer = client.from()?;
    let mode = config.mode()?;

    let verifier_tx = client.deploy("verifier deployment", verifier.bytecode.clone())?;
    let verifier_address = verifier_tx.address.unwrap_or_default();

    let (economy, source_address, source_gas, genesis) = deploy_kpi_source(client, model, config, deployer)?;
    let contracts = Contracts { deployer, verifier: verifier_address, kpi_source: source_address, mode, genesis };
    let controller_tx = deploy_controller(client, config, &contracts)?;
    let controller_address = controller_tx.address.unwrap_or_default();
    if let Some(record) = &economy {
        super::economy::connect(client, record, controller_address)?;
    }
    check_served_model(client, controller_address, model)?;

    Ok(Deployment {
        format: DEPLOYMENT_FORMAT.into(),
        chain_id: client.chain_id(),
        model: model.name().into(),
        model_commitment: model.commitment(),
        srs: verifier.srs.clone(),
        insecure_dev_srs: verifier.insecure_dev_srs,
        deployer,
        verifier: verifier_address,
        kpi_source: source_address,
        controller: controller_address,
        parameters: config.parameters.iter().map(|p| p.name.clone()).collect(),
        block: controller_tx.block,
        gas: DeployGas { verifier: verifier_tx.gas, kpi_source: source_gas, controller: controller_tx.gas },
        kpi_provenance: KpiProvenance::of(config)?,
        economy,
        private: None,
    })
}

/// A bundled contract's compiled artifact.
fn committed(artifact: &str) -> Result<Compiled, ChainError> {
    Compiled::parse_artifact(artifact).map_err(|e| ChainError::Answer(format!("bundled contract artifact: {e}")))
}

/// Deploys the KPI source: the economy and its on-chain source (`config.economy`), or the
/// reporter source. Returns the economy's record (on chain only), the source's address, its
/// deployment gas and the controller's genesis.
fn deploy_kpi_source(
    client: &Client,
    model: &ModelCard,
    config: &DeployConfig,
    deployer: Address,
) -> Result<(Option<EconomyRecord>, Address, u64, Option<u64>), ChainError> {
    // On chain, the economy comes first: the KPI source reads it, and the controller's
    // epochs must start when the economy's do.
    Ok(match &config.economy {
        Some(economy_config) => {
            let initial = config.economy_initial()?;
            if config.timing.genesis.is_some() {
                return Err(ChainError::Config(
                    "timing.genesis: an on-chain deployment starts its epochs at the economy's deployment".into(),
                ));
            }
            let governance = super::economy::Governance { account: config.governance.unwrap_or(deployer), delay: config.governance_delay };
            let (record, source, genesis) =
                super::economy::deploy_economy(client, model, economy_config, initial, config.timing.epoch_length, &governance)?;
            let gas = record.gas;
            (Some(record), source, gas, Some(genesis))
        }
        None => {
            let mut source_code = committed(controller::KPI_SOURCE_ARTIFACT)?.bytecode;
            source_code.extend(
                ReporterKpiSource::constructorCall {
                    reporter_: config.reporter.unwrap_or(deployer),
                    kpiCount_: U256::from(model.inputs().len()),
                }
                .abi_encode(),
            );
            let source_tx = client.deploy("KPI source deployment", source_code)?;
            (None, source_tx.address.unwrap_or_default(), source_tx.gas, config.timing.genesis)
        }
    })
}

/// What the controller is constructed over, besides the config.
struct Contracts {
    /// The deploying account: governance and guardian unless the config names them.
    deployer: Address,
    /// The deployed verifier.
    verifier: Address,
    /// The deployed KPI source.
    kpi_source: Address,
    /// The controller's mode, from the config.
    mode: Mode,
    /// The controller's first epoch's start (0 when unset).
    genesis: Option<u64>,
}

/// Deploys the controller over the verifier and KPI source, with the config's rails and timing.
fn deploy_controller(client: &Client, config: &DeployConfig, contracts: &Contracts) -> Result<Sent, ChainError> {
    let mut controller_code = committed(controller::CONTROLLER_ARTIFACT)?.bytecode;
    controller_code.extend(
        PolicyController::constructorCall {
            governance_: config.governance.unwrap_or(contracts.deployer),
            guardian_: config.guardian.unwrap_or(contracts.deployer),
            verifier_: contracts.verifier,
            kpiSource_: contracts.kpi_source,
            mode_: contracts.mode,
            initial: config.parameters.iter().map(|p| int(p.initial)).collect(),
            guardrails_: config.parameters.iter().map(zkpolicy_prover::evm::contract_rail).collect(),
            timing_: Timing { maxSnapshotAge: config.timing.max_snapshot_age, adjustmentDelay: config.timing.adjustment_delay },
            governanceDelay_: config.governance_delay,
            genesis_: contracts.genesis.unwrap_or(0),
            epochLength_: config.timing.epoch_length,
        }
        .abi_encode(),
    );
    client.deploy("controller deployment", controller_code)
}

/// Refuses a controller whose verifier serves another model than `model`.
fn check_served_model(client: &Client, controller: Address, model: &ModelCard) -> Result<(), ChainError> {
    // The verifier's model card names the model; a verifier of another model is refused now,
    // not at the first submission.
    let on_chain = super::ops::model_commitment(client, controller)?;
    if on_chain != model.commitment().0 {
        return Err(ChainError::Rejected {
            reason: format!(
                "the deployed verifier serves model commitment 0x{}, not {} ({})",
                hex::encode(on_chain),
                model.commitment(),
                model.name()
            ),
        });
    }
    Ok(())
}
