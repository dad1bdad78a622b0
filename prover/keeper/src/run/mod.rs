//! The epoch loop: rounds of [`Phase`]s over the write-ahead records. Each round, for every
//! deployment:
//!
//! 1. every transaction in flight is checked: confirmed, re-broadcast (after a restart),
//!    re-priced (not mined in time) or found replaced;
//! 2. the current epoch's snapshot is taken (on-chain KPIs: `tick`, then `takeSnapshot`) or
//!    committed (reporter deployments whose KPIs this keeper posts from `kpis_dir`), each a
//!    recorded step like the submission;
//! 3. the epochs due are proven in one rayon batch, across deployments, on the chain's
//!    snapshot and the controller's current parameters; each proof is saved, then recorded;
//! 4. each proof is submitted (signed, recorded, then broadcast) and confirmed;
//! 5. timelocked decisions are executed once their delay has passed.
//!
//! A recorded step moves `Ready → Sent → Confirmed` (or `DoneElsewhere`, `Skipped`) by the
//! pure transitions of `lifecycle.rs`; `plan.rs` creates the steps and proves, `send.rs`
//! sends and confirms them and does the bookkeeping.
//!
//! An epoch that can no longer be submitted (decided by someone else, its snapshot stale
//! or never taken in its window) is recorded with the reason and counted as skipped. A step
//! that fails in a way that does not make it final is tried again (`retry.rs`).

mod lifecycle;
mod plan;
mod send;
mod view;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256};
use alloy::sol_types::{SolCall, SolEvent, SolInterface};
use rand::rngs::OsRng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_contracts::controller::PolicyController::{self, Mode, PolicyControllerErrors as Errors};
use zkpolicy_contracts::controller::ReporterKpiSource;
use zkpolicy_contracts::revert_reason;
use zkpolicy_model::{KpiSnapshot, ModelCard, Observation, QuantizedKpis};

use super::config::{DeploymentConfig, KeeperConfig};
use super::metrics::{CounterKey, Metrics};
use super::retry::{self, PreludeRevert};
use super::rpc::Endpoints;
use super::state::{self, key, Kind, Record, Stage, Store};
use super::tx::{broadcast, Gas, Sender};
use super::{failpoint, KeeperError};
use zkpolicy_chain::{self as chain, signer, ChainError, Deployment};
use zkpolicy_prover::artifact::ProofArtifact;
use zkpolicy_prover::keys::{KeyCache, Prepared};
use zkpolicy_prover::srs::SrsSource;

/// Passes of a round's snapshot phase: one per step (tick, then snapshot), and up to four
/// more for steps tried again.
const PRELUDE_PASSES: usize = 6;

/// One deployment the keeper serves.
struct Served {
    name: String,
    chain: String,
    record: Deployment,
    controller: String,
    prepared: Prepared,
    config: DeploymentConfig,
}

impl Served {
    fn card(&self) -> &ModelCard {
        self.prepared.circuit.as_ref()
    }

    fn key(&self, epoch: u64, kind: Kind) -> String {
        key(self.record.chain_id, &self.controller, epoch, kind)
    }

    /// Loads deployment `index` of the config: its record, model and circuit, checked
    /// against the record (model commitment, SRS, KPI provenance), with its keys.
    fn load(index: usize, d: &DeploymentConfig, config: &KeeperConfig, srs: &SrsSource, cache: &KeyCache) -> Result<Self, KeeperError> {
        let failed = |reason: String| KeeperError::Deployment { deployment: d.name.clone(), reason };
        let record = Deployment::load(&d.record)?;
        let model = match &d.model {
            Some(path) => zkpolicy_model::Model::load(path).map_err(|e| failed(format!("model {}: {e}", path.display())))?,
            None => zkpolicy_lab::bundled::model(zkpolicy_lab::bundled::DEFAULT)
                .map_err(|e| failed(format!("bundled model: {e}")))?
                .ok_or_else(|| failed("no bundled default model".into()))?,
        };
        let model = Arc::new(model);
        let circuit = match &d.salt {
            None => PolicyCircuit::new(model).map_err(zkpolicy_prover::ProverError::from)?,
            Some(path) => PolicyCircuit::private(model, zkpolicy_prover::salt::load(path)?, zkpolicy_circuits::Objective::Gas)
                .map_err(zkpolicy_prover::ProverError::from)?,
        };
        let card: &ModelCard = circuit.as_ref();
        if record.model_commitment != card.commitment() {
            return Err(KeeperError::Config {
                key: format!("deployment[{index}].model"),
                reason: format!(
                    "the controller in {} was deployed for model {} ({}), not {} ({})",
                    d.record.display(),
                    record.model,
                    record.model_commitment,
                    card.name(),
                    card.commitment()
                ),
            });
        }
        if record.insecure_dev_srs != config.srs.is_none() {
            return Err(KeeperError::Config {
                key: "srs".into(),
                reason: format!(
                    "deployment {} was deployed with {}; the keeper must prove with the same SRS",
                    d.name,
                    if record.insecure_dev_srs { "the development SRS (leave srs out)" } else { "a real SRS (set srs)" }
                ),
            });
        }
        if d.kpis_dir.is_some() && record.kpi_provenance == chain::KpiProvenance::Onchain {
            return Err(KeeperError::Config {
                key: format!("deployment[{index}].kpis_dir"),
                reason: "this deployment's KPIs are computed on chain; nobody posts them".into(),
            });
        }
        let prepared = Prepared::cached(circuit, srs.clone(), cache)?;
        tracing::info!(deployment = %d.name, model = %record.model, keys = %prepared.origin, "serving");
        Ok(Served {
            name: d.name.clone(),
            chain: d.chain.clone(),
            controller: record.controller.to_string().to_ascii_lowercase(),
            record,
            prepared,
            config: d.clone(),
        })
    }
}

struct ChainCtx {
    endpoints: Endpoints,
    sender: Sender,
    /// The chain head a confirmation last waited on, and since when it has not moved.
    head_since: Option<(u64, Instant)>,
    /// Why this chain cannot confirm (its head stopped while a confirmation waits): logged
    /// once, and `/readyz` answers 503 with it until a new block comes.
    stalled: Option<String>,
}

/// The controller as one round sees it.
struct View {
    current: u64,
    last: u64,
    paused: bool,
    mode: Mode,
    chain_time: u64,
    posted_at: Option<u64>,
    max_snapshot_age: u64,
}

/// What a round did, for `--once` and the tests; `zkpolicy keeper --once --json` prints it
/// as `round`, and `zkpolicy live` reads it back typed.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RoundReport {
    /// Epochs proven this round, as `deployment#epoch`: each proof saved and recorded ready
    /// to submit.
    pub proven: Vec<String>,
    /// Submissions confirmed this round, as `deployment#epoch`.
    pub confirmed: Vec<String>,
    /// Timelocked decisions executed and confirmed this round, as `deployment#epoch`.
    pub executed: Vec<String>,
    /// Epochs given up this round, as `deployment#epoch: reason` (decided elsewhere, a stale
    /// snapshot, the epoch passed, a revert); each also counted in `epochs_skipped_total`.
    pub skipped: Vec<String>,
    /// Steps still waiting (a transaction not yet mined, a snapshot not yet taken).
    pub waiting: Vec<String>,
    /// Steps that failed in a way that does not make them final, and are tried again
    /// (each also logged and counted in `step_retries`).
    pub retried: Vec<String>,
    /// Errors met (each also logged); the keeper retries them next round.
    pub errors: Vec<String>,
    /// Wall time of the round's phases.
    pub seconds: PhaseSeconds,
}

/// Where a round's wall time went, in seconds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PhaseSeconds {
    /// Bringing the epoch's snapshot on chain (tick, snapshot or KPI commitment, confirmed).
    pub snapshot: f64,
    /// Proving the due epochs (one batch).
    pub prove: f64,
    /// Sending the proofs (and executions) and waiting for their confirmations.
    pub submit: f64,
}

/// The keeper daemon: every deployment of a [`KeeperConfig`] served by one loop over the
/// write-ahead records of its [`Store`]. [`Keeper::start`] loads everything and sends
/// nothing; [`Keeper::run`] drives rounds until shutdown, or one with `--once`.
pub struct Keeper {
    config: KeeperConfig,
    store: Store,
    metrics: Metrics,
    chains: BTreeMap<String, ChainCtx>,
    served: Vec<Served>,
    /// Keys of the records that are not final.
    open: BTreeSet<String>,
    /// The controllers' views read for the phase running, by deployment index (`view.rs`).
    views: BTreeMap<usize, View>,
    shutdown: Arc<AtomicBool>,
}

/// A proof due this round.
struct Job {
    served: usize,
    epoch: u64,
    input: Observation,
}

impl Keeper {
    /// Loads the signer, the models (with their keys) and the deployment records, over the
    /// state `store` (opened from the config's `state_dir` by the caller, so that a second
    /// keeper is refused before anything else starts). Nothing is sent.
    pub fn start(config: KeeperConfig, store: Store, metrics: Metrics, shutdown: Arc<AtomicBool>) -> Result<Self, KeeperError> {
        let signer::Signer { wallet, address: from } = signer::signer(&config.key_source()?)?;
        let chains = config
            .chains
            .iter()
            .map(|(name, c)| {
                let ctx = ChainCtx {
                    endpoints: Endpoints::new(name, &c.rpc, c.max_lag_blocks, metrics.clone()),
                    sender: Sender::new(wallet.clone(), from, c),
                    head_since: None,
                    stalled: None,
                };
                (name.clone(), ctx)
            })
            .collect();
        let srs = match &config.srs {
            Some(path) => SrsSource::File(path.clone()),
            None => SrsSource::DevCached(config.cache_dir.join("srs")),
        };
        let cache = KeyCache::new(config.cache_dir.join("keys"));
        let mut served = Vec::new();
        for (i, d) in config.deployments.iter().enumerate() {
            served.push(Served::load(i, d, &config, &srs, &cache)?);
        }
        let records = store.all()?;
        // Keys sort by epoch within a deployment: the last confirmed submission wins.
        for (_, r) in records.iter().filter(|(_, r)| r.kind == Kind::Submit && r.stage == Stage::Confirmed) {
            metrics.last_submission(&r.deployment, r.epoch, r.updated);
        }
        // The counters go on from where the last run left them.
        metrics.persist_to(store.clone())?;
        let open = records.into_iter().filter(|(_, r)| !r.stage.is_final()).map(|(k, _)| k).collect();
        Ok(Self { config, store, metrics, chains, served, open, views: BTreeMap::new(), shutdown })
    }

    fn stopping(&self) -> bool {
        self.shutdown.load(Ordering::Relaxed)
    }

    fn put(&mut self, key: &str, record: &Record) -> Result<(), KeeperError> {
        self.store.put(key, record)?;
        if record.stage.is_final() {
            self.open.remove(key);
        } else {
            self.open.insert(key.to_string());
        }
        Ok(())
    }

    /// Runs rounds until shutdown (or one round with `once`, waiting for its transactions).
    pub fn run(&mut self, once: bool) -> Result<RoundReport, KeeperError> {
        let mut failing = 0u32;
        loop {
            let report = self.round(once)?;
            if !report.proven.is_empty() || !report.confirmed.is_empty() {
                let t = &report.seconds;
                tracing::info!(snapshot = t.snapshot, prove = t.prove, submit = t.submit, "round");
            }
            if once || self.stopping() {
                return Ok(report);
            }
            // Rounds that meet errors back off: 2, 4, 8 poll intervals (at most 8, and 5 min).
            failing = if report.errors.is_empty() { 0 } else { (failing + 1).min(3) };
            let pause = (self.config.poll_interval_secs << failing).min(300.max(self.config.poll_interval_secs));
            if failing > 0 {
                tracing::info!(seconds = pause, "backing off after a round with errors");
            }
            let until = Instant::now() + Duration::from_secs(pause);
            while Instant::now() < until && !self.stopping() {
                std::thread::sleep(Duration::from_millis(200));
            }
            if self.stopping() {
                tracing::info!("shutting down: no step in flight");
                return Ok(report);
            }
        }
    }

    /// One round over every deployment: the five phases in order (transactions in flight,
    /// snapshot, prove, submit, execute), each over every deployment, each on the records the
    /// ones before it wrote. With `settle`, waits until every transaction sent is confirmed
    /// (or given up), re-pricing as it goes.
    pub fn round(&mut self, settle: bool) -> Result<RoundReport, KeeperError> {
        let mut report = RoundReport::default();
        self.metrics.beat();
        self.check_endpoints()?;
        for phase in Phase::ROUND {
            if self.stopping() {
                break;
            }
            let started = Instant::now();
            match phase {
                Phase::InFlight => self.settle_open(&mut report, false)?,
                Phase::Snapshot => self.snapshot_phase(&mut report)?,
                Phase::Prove => self.prove_phase(&mut report)?,
                Phase::Submit => self.settle_open(&mut report, settle)?,
                Phase::Execute => self.execute_phase(&mut report, settle)?,
            }
            report.seconds.add(phase, started.elapsed().as_secs_f64());
            self.views.clear();
        }
        self.metrics.beat();
        Ok(report)
    }

    /// Refreshes every chain's endpoints (turning `/readyz` not ready while one is down or
    /// stalled) and refuses endpoints that serve another chain than a deployment's.
    fn check_endpoints(&mut self) -> Result<(), KeeperError> {
        let mut down = Vec::new();
        for ctx in self.chains.values_mut() {
            if let Err(why) = ctx.endpoints.refresh() {
                tracing::warn!("{why}");
                down.push(why);
            }
            down.extend(ctx.stalled.clone());
        }
        self.metrics.set_ready(if down.is_empty() { None } else { Some(down.join("; ")) });
        for s in &self.served {
            if let Some(id) = self.chains[&s.chain].endpoints.chain_id() {
                if id != s.record.chain_id {
                    return Err(KeeperError::Deployment {
                        deployment: s.name.clone(),
                        reason: format!("deployed on chain {}, but chain {:?}'s endpoints serve chain {id}", s.record.chain_id, s.chain),
                    });
                }
            }
        }
        Ok(())
    }

    /// [`Phase::Snapshot`]: a pass per step (tick, then snapshot), and more while a step is
    /// being retried, each pass confirming what the one before sent.
    fn snapshot_phase(&mut self, report: &mut RoundReport) -> Result<(), KeeperError> {
        for _ in 0..PRELUDE_PASSES {
            let mut created = false;
            self.read_views(0..self.served.len());
            for i in 0..self.served.len() {
                if self.stopping() {
                    return Ok(());
                }
                match self.preludes(i, report) {
                    Ok(c) => created |= c,
                    Err(err) => self.error(i, None, &err, report),
                }
            }
            if !created && !self.prelude_retry_pending()? {
                break;
            }
            self.settle_open(report, true)?;
        }
        Ok(())
    }

    /// [`Phase::Prove`]: the epochs due, proven in one rayon batch across deployments.
    fn prove_phase(&mut self, report: &mut RoundReport) -> Result<(), KeeperError> {
        let mut jobs = Vec::new();
        self.read_views(0..self.served.len());
        for i in 0..self.served.len() {
            if self.stopping() {
                return Ok(());
            }
            match self.due(i, report) {
                Ok(Some(job)) => jobs.push(job),
                Ok(None) => {}
                Err(err) => self.error(i, None, &err, report),
            }
        }
        if !jobs.is_empty() {
            self.prove(jobs, report)?;
            failpoint("after_prove");
        }
        Ok(())
    }

    /// [`Phase::Execute`]: an execute step for each timelocked decision whose delay has
    /// passed, then sent and confirmed.
    fn execute_phase(&mut self, report: &mut RoundReport, settle: bool) -> Result<(), KeeperError> {
        let executing: Vec<usize> = (0..self.served.len()).filter(|&i| self.served[i].config.execute).collect();
        self.read_views(executing);
        for i in 0..self.served.len() {
            if self.stopping() {
                return Ok(());
            }
            if let Err(err) = self.queue_executions(i) {
                self.error(i, None, &err, report);
            }
        }
        self.settle_open(report, settle)
    }
}

/// The phases of a round, in order. Each runs over every deployment and moves the
/// write-ahead records forward (`state.rs`): a phase creates records (`Ready`) or drives
/// them (`Sent`, then final), so a crash anywhere resumes from the records alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The transactions a previous round (or run) left in flight: confirmed, re-broadcast,
    /// re-priced or found replaced.
    InFlight,
    /// The current epoch's snapshot brought on chain: the economy's `tick` and
    /// `takeSnapshot` (on-chain KPIs), or `commitKpis` from `kpis_dir` (a reporter's).
    Snapshot,
    /// The epochs due, proven; each proof saved, then recorded `Ready`.
    Prove,
    /// The proofs submitted (signed, recorded, broadcast) and confirmed.
    Submit,
    /// Timelocked decisions executed once their delay has passed.
    Execute,
}

impl Phase {
    const ROUND: [Phase; 5] = [Phase::InFlight, Phase::Snapshot, Phase::Prove, Phase::Submit, Phase::Execute];
}

impl PhaseSeconds {
    fn add(&mut self, phase: Phase, seconds: f64) {
        match phase {
            Phase::InFlight => {}
            Phase::Snapshot => self.snapshot += seconds,
            Phase::Prove => self.prove += seconds,
            Phase::Submit | Phase::Execute => self.submit += seconds,
        }
    }
}

impl Keeper {
    /// Every record, for `--once`'s summary and the tests.
    pub fn records(&self) -> Result<Vec<(String, Record)>, KeeperError> {
        self.store.all()
    }

    /// The deployment names, in config order.
    pub fn deployments(&self) -> Vec<String> {
        self.served.iter().map(|s| s.name.clone()).collect()
    }

    /// The state directory.
    pub fn state_dir(&self) -> PathBuf {
        self.config.state_dir.clone()
    }
}
