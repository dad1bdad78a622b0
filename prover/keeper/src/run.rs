//! The epoch loop. Each round, for every deployment:
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
//! An epoch that can no longer be submitted (decided by someone else, its snapshot stale
//! or never taken in its window) is recorded with the reason and counted as skipped. A step
//! that fails in a way that does not make it final is tried again (`retry.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256};
use alloy::sol_types::{SolCall, SolEvent, SolInterface};
use rand::rngs::OsRng;
use rayon::prelude::*;
use serde::Serialize;
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_model::{KpiSnapshot, ModelCard, Observation, QuantizedKpis};
use zkpolicy_verifier_contract::controller::PolicyController::{self, Mode, PolicyControllerErrors as Errors};
use zkpolicy_verifier_contract::controller::{revert_reason, ReporterKpiSource};

use super::config::{DeploymentConfig, KeeperConfig};
use super::metrics::Metrics;
use super::retry::{self, PreludeRevert, MAX_MINED_REVERTS};
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
}

struct ChainCtx {
    endpoints: Endpoints,
    sender: Sender,
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

/// What a round did, for `--once` and the tests.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RoundReport {
    pub proven: Vec<String>,
    pub confirmed: Vec<String>,
    pub executed: Vec<String>,
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
#[derive(Clone, Debug, Default, Serialize)]
pub struct PhaseSeconds {
    /// Bringing the epoch's snapshot on chain (tick, snapshot or KPI commitment, confirmed).
    pub snapshot: f64,
    /// Proving the due epochs (one batch).
    pub prove: f64,
    /// Sending the proofs (and executions) and waiting for their confirmations.
    pub submit: f64,
}

pub struct Keeper {
    config: KeeperConfig,
    store: Store,
    metrics: Metrics,
    chains: BTreeMap<String, ChainCtx>,
    served: Vec<Served>,
    /// Keys of the records that are not final.
    open: BTreeSet<String>,
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
        let signer = signer::load(&config.key_source()?)?;
        let from = signer.address();
        let wallet = EthereumWallet::from(signer);
        let chains = config
            .chains
            .iter()
            .map(|(name, c)| {
                let ctx = ChainCtx {
                    endpoints: Endpoints::new(name, &c.rpc, c.max_lag_blocks, metrics.clone()),
                    sender: Sender::new(wallet.clone(), from, c),
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
            if record.model_commitment != card.commitment().to_string() {
                return Err(KeeperError::Config {
                    key: format!("deployment[{i}].model"),
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
            if d.kpis_dir.is_some() && record.kpi_provenance == "onchain" {
                return Err(KeeperError::Config {
                    key: format!("deployment[{i}].kpis_dir"),
                    reason: "this deployment's KPIs are computed on chain; nobody posts them".into(),
                });
            }
            let prepared = Prepared::cached(circuit, srs.clone(), &cache)?;
            tracing::info!(deployment = %d.name, model = %record.model, keys = %prepared.origin, "serving");
            served.push(Served {
                name: d.name.clone(),
                chain: d.chain.clone(),
                controller: record.controller.to_string().to_ascii_lowercase(),
                record,
                prepared,
                config: d.clone(),
            });
        }
        let records = store.all()?;
        // Keys sort by epoch within a deployment: the last confirmed submission wins.
        for (_, r) in records.iter().filter(|(_, r)| r.kind == Kind::Submit && r.stage == Stage::Confirmed) {
            metrics.last_submission(&r.deployment, r.epoch, r.updated);
        }
        let open = records.into_iter().filter(|(_, r)| !r.stage.is_final()).map(|(k, _)| k).collect();
        Ok(Self { config, store, metrics, chains, served, open, shutdown })
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

    /// One round over every deployment. With `settle`, waits until every transaction sent
    /// is confirmed (or given up), re-pricing as it goes.
    pub fn round(&mut self, settle: bool) -> Result<RoundReport, KeeperError> {
        let mut report = RoundReport::default();
        self.metrics.beat();
        let mut down = Vec::new();
        for ctx in self.chains.values_mut() {
            if let Err(why) = ctx.endpoints.refresh() {
                tracing::warn!("{why}");
                down.push(why);
            }
        }
        self.metrics.set_ready(if down.is_empty() { None } else { Some(down.join("; ")) });
        for i in 0..self.served.len() {
            if let Some(id) = self.chains[&self.served[i].chain].endpoints.chain_id() {
                if id != self.served[i].record.chain_id {
                    let s = &self.served[i];
                    return Err(KeeperError::Deployment {
                        deployment: s.name.clone(),
                        reason: format!("deployed on chain {}, but chain {:?}'s endpoints serve chain {id}", s.record.chain_id, s.chain),
                    });
                }
            }
        }

        // 1. Transactions in flight (after a restart: whatever the last run left).
        self.settle_open(&mut report, false)?;
        if self.stopping() {
            return Ok(report);
        }

        // 2. The epoch's snapshot: the economy's tick, then takeSnapshot; or the KPI commitment.
        // A pass per step (tick, then snapshot), and more while a step is being retried.
        let phase = Instant::now();
        for _ in 0..PRELUDE_PASSES {
            let mut created = false;
            for i in 0..self.served.len() {
                if self.stopping() {
                    return Ok(report);
                }
                match self.preludes(i, &mut report) {
                    Ok(c) => created |= c,
                    Err(err) => self.error(i, None, &err, &mut report),
                }
            }
            if !created && !self.prelude_retry_pending()? {
                break;
            }
            self.settle_open(&mut report, true)?;
        }

        report.seconds.snapshot = phase.elapsed().as_secs_f64();

        // 3. The proofs due.
        let phase = Instant::now();
        let mut jobs = Vec::new();
        for i in 0..self.served.len() {
            if self.stopping() {
                return Ok(report);
            }
            match self.due(i, &mut report) {
                Ok(Some(job)) => jobs.push(job),
                Ok(None) => {}
                Err(err) => self.error(i, None, &err, &mut report),
            }
        }

        // One rayon batch across deployments.
        if !jobs.is_empty() {
            self.prove(jobs, &mut report)?;
            failpoint("after_prove");
        }

        report.seconds.prove = phase.elapsed().as_secs_f64();

        // 4. Send what is proven (or due for execution), then confirm.
        let phase = Instant::now();
        self.settle_open(&mut report, settle)?;

        // 5. Timelocked decisions whose delay has passed.
        for i in 0..self.served.len() {
            if self.stopping() {
                break;
            }
            if let Err(err) = self.queue_executions(i) {
                self.error(i, None, &err, &mut report);
            }
        }
        self.settle_open(&mut report, settle)?;
        report.seconds.submit = phase.elapsed().as_secs_f64();
        self.metrics.beat();
        Ok(report)
    }

    /// Whether a tick, snapshot or commitment went back to `Ready` to be tried again.
    fn prelude_retry_pending(&self) -> Result<bool, KeeperError> {
        for key in &self.open {
            if self.store.get(key)?.is_some_and(|r| r.kind.is_prelude() && r.stage == Stage::Ready && r.retries > 0) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn error(&self, i: usize, epoch: Option<u64>, err: &dyn std::fmt::Display, report: &mut RoundReport) {
        let name = &self.served[i].name;
        match epoch {
            Some(epoch) => tracing::error!(deployment = %name, epoch, "{err}"),
            None => tracing::error!(deployment = %name, "{err}"),
        }
        report.errors.push(format!("{name}: {err}"));
    }

    fn view(&mut self, i: usize) -> Result<View, ChainError> {
        let s = &self.served[i];
        let ctx = self.chains.get_mut(&s.chain).ok_or_else(|| ChainError::Config(format!("no chain {}", s.chain)))?;
        let to = s.record.controller;
        let record = &s.record;
        ctx.endpoints.with(|c| {
            let current = chain::current_epoch(c, record)?;
            let last = chain::read(c, "last epoch read", to, PolicyController::lastEpochCall {})?;
            let paused = chain::read(c, "paused read", to, PolicyController::pausedCall {})?;
            let mode = chain::read(c, "mode read", to, PolicyController::modeCall {})?;
            let timing = chain::read(c, "timing read", to, PolicyController::timingCall {})?;
            let source = chain::read(c, "KPI source read", to, PolicyController::kpiSourceCall {})?;
            let snapshot = chain::read(c, "KPI snapshot read", source, ReporterKpiSource::snapshotCall { epoch: current })?;
            Ok(View {
                current,
                last,
                paused,
                mode,
                chain_time: c.chain_time()?,
                posted_at: (snapshot.postedAt != 0).then_some(snapshot.postedAt),
                max_snapshot_age: timing.maxSnapshotAge,
            })
        })
    }

    fn skip(&mut self, i: usize, epoch: u64, reason: &str, label: &str, report: &mut RoundReport) -> Result<(), KeeperError> {
        let s = &self.served[i];
        let key = s.key(epoch, Kind::Submit);
        let mut record = self.store.get(&key)?.unwrap_or_else(|| Record::new(&s.name, Kind::Submit, epoch, Stage::Skipped));
        record.stage = Stage::Skipped;
        record.reason = Some(reason.to_string());
        tracing::warn!(deployment = %s.name, epoch, "skipped: {reason}");
        self.metrics.skip(&s.name, label);
        report.skipped.push(format!("{}#{epoch}: {reason}", s.name));
        self.put(&key, &record)
    }

    /// Creates the steps that bring the current epoch's snapshot on chain, one at a time:
    /// on-chain deployments tick the economy, then take the snapshot; reporter deployments
    /// commit `kpis_dir/<epoch>.json`. `true` when a step was created.
    fn preludes(&mut self, i: usize, report: &mut RoundReport) -> Result<bool, KeeperError> {
        let view = self.view(i)?;
        let s = &self.served[i];
        let (name, epoch) = (s.name.clone(), view.current);
        if epoch == 0 || view.posted_at.is_some() || view.last >= epoch || view.paused {
            return Ok(false);
        }
        if self.store.get(&s.key(epoch, Kind::Submit))?.is_some() {
            return Ok(false);
        }
        let known = |kind| self.store.get(&s.key(epoch, kind));
        let kind = if s.record.kpi_provenance == "onchain" {
            if s.config.tick && known(Kind::Tick)?.is_none() {
                Kind::Tick
            } else if known(Kind::Snapshot)?.is_none() {
                Kind::Snapshot
            } else {
                return Ok(false);
            }
        } else {
            let Some(dir) = s.config.kpis_dir.clone() else {
                tracing::info!(deployment = %name, epoch, "waiting for the reporter's KPI snapshot");
                report.waiting.push(format!("{name}#{epoch}: waiting for the reporter"));
                return Ok(false);
            };
            if known(Kind::Commit)?.is_some() {
                return Ok(false);
            }
            let file = dir.join(format!("{epoch}.json"));
            if !file.is_file() {
                tracing::info!(deployment = %name, epoch, file = %file.display(), "waiting for the epoch's KPI file");
                report.waiting.push(format!("{name}#{epoch}: no {}", file.display()));
                return Ok(false);
            }
            Kind::Commit
        };
        let (to, input) = self.prelude_call(i, kind, epoch)?;
        let key = self.served[i].key(epoch, kind);
        let mut record = Record::new(&name, kind, epoch, Stage::Ready);
        record.to = Some(to.to_string());
        record.input = Some(hex::encode(input));
        self.put(&key, &record)?;
        Ok(true)
    }

    /// The call a tick, snapshot or KPI commitment makes, as the chain and the files stand
    /// now: each attempt sends what holds at its moment (the epoch's holder set, the KPI file).
    fn prelude_call(&mut self, i: usize, kind: Kind, epoch: u64) -> Result<(Address, Vec<u8>), KeeperError> {
        let s = &self.served[i];
        match kind {
            Kind::Tick => Ok(chain::economy::tick_call(&s.record)?),
            Kind::Snapshot => {
                let record = s.record.clone();
                let ctx = self.chains.get_mut(&s.chain).ok_or_else(|| KeeperError::State("no chain".into()))?;
                let (input, _) = ctx.endpoints.with(|c| chain::economy::snapshot_call(c, &record))?;
                Ok((record.kpi_source, input))
            }
            Kind::Commit => {
                let failed = |reason: String| KeeperError::Deployment { deployment: s.name.clone(), reason };
                let dir = s.config.kpis_dir.as_ref().ok_or_else(|| failed("no kpis_dir to commit from".into()))?;
                let file = dir.join(format!("{epoch}.json"));
                let kpis =
                    KpiSnapshot::load(&file).and_then(|k| k.quantize(s.card())).map_err(|e| failed(format!("{}: {e}", file.display())))?;
                let kpis = kpis.iter().map(|v| alloy::primitives::I256::try_from(*v).unwrap_or_default()).collect();
                Ok((s.record.kpi_source, ReporterKpiSource::commitKpisCall { epoch, kpis }.abi_encode()))
            }
            Kind::Submit | Kind::Execute => Err(KeeperError::State(format!("{} is not a snapshot step", kind.name()))),
        }
    }

    /// The proof job of the current epoch, when its snapshot is on chain and it is still due.
    fn due(&mut self, i: usize, report: &mut RoundReport) -> Result<Option<Job>, KeeperError> {
        let view = self.view(i)?;
        let s = &self.served[i];
        let (name, epoch) = (s.name.clone(), view.current);
        if epoch == 0 {
            return Ok(None);
        }
        let key = s.key(epoch, Kind::Submit);
        if self.store.get(&key)?.is_some() {
            return Ok(None);
        }
        if view.last >= epoch {
            let mut record = Record::new(&name, Kind::Submit, epoch, Stage::DoneElsewhere);
            record.reason = Some("another submitter decided the epoch first".into());
            tracing::info!(deployment = %name, epoch, "decided by another submitter");
            self.metrics.skip(&name, "decided_elsewhere");
            report.skipped.push(format!("{name}#{epoch}: decided elsewhere"));
            self.put(&key, &record)?;
            return Ok(None);
        }
        if view.paused {
            tracing::info!(deployment = %name, epoch, "the controller is paused: waiting");
            report.waiting.push(format!("{name}#{epoch}: paused"));
            return Ok(None);
        }
        let Some(posted_at) = view.posted_at else {
            if self.seeded(i, epoch)? {
                let reason = "the epoch's snapshot call seeded the KPI source's averages: it has no KPIs to decide on";
                self.skip(i, epoch, reason, "seeded", report)?;
            } else {
                report.waiting.push(format!("{name}#{epoch}: no snapshot yet"));
            }
            return Ok(None);
        };
        if view.chain_time > posted_at.saturating_add(view.max_snapshot_age) {
            self.skip(i, epoch, "the epoch's KPI snapshot is too old to be decided (StaleSnapshot)", "stale_snapshot", report)?;
            return Ok(None);
        }
        let s = &self.served[i];
        let ctx = self.chains.get_mut(&s.chain).ok_or_else(|| KeeperError::State("no chain".into()))?;
        let record = &s.record;
        let card = s.card();
        let (kpis, parameters) = ctx.endpoints.with(|c| {
            let kpis = chain::committed_kpis(c, record, epoch)?;
            let parameters = if card.parameters().is_empty() { Vec::new() } else { chain::parameters(c, record)? };
            Ok((kpis, parameters))
        })?;
        let Some(kpis) = kpis else { return Ok(None) };
        let failed =
            |e: zkpolicy_model::ModelError| KeeperError::Deployment { deployment: name.clone(), reason: format!("epoch {epoch}: {e}") };
        let kpis = QuantizedKpis::new(card, kpis).map_err(failed)?;
        let input = Observation::new(card, kpis, parameters).map_err(failed)?;
        Ok(Some(Job { served: i, epoch, input }))
    }

    /// Whether `epoch` of an on-chain deployment has had its snapshot call but no KPIs:
    /// the KPI source's first call, which only seeds its averages.
    fn seeded(&mut self, i: usize, epoch: u64) -> Result<bool, KeeperError> {
        let s = &self.served[i];
        if s.record.kpi_provenance != "onchain" {
            return Ok(false);
        }
        let record = &s.record;
        let ctx = self.chains.get_mut(&s.chain).ok_or_else(|| KeeperError::State("no chain".into()))?;
        Ok(ctx.endpoints.with(|c| chain::economy::snapshot_taken(c, record, epoch))?)
    }

    /// Proves every job in parallel; saves each proof, then records it.
    fn prove(&mut self, jobs: Vec<Job>, report: &mut RoundReport) -> Result<(), KeeperError> {
        self.metrics.busy(true);
        let started = Instant::now();
        let served = &self.served;
        let results: Vec<_> = jobs
            .par_iter()
            .map(|job| {
                let s = &served[job.served];
                let t = Instant::now();
                let p = &s.prepared;
                let result = zkpolicy_prover::proof::prove(&p.params, &p.pk, &p.circuit, job.input.clone(), job.epoch, OsRng);
                (result, t.elapsed().as_secs_f64())
            })
            .collect();
        self.metrics.busy(false);
        tracing::info!(proofs = jobs.len(), seconds = started.elapsed().as_secs_f64(), "proved a batch");
        for (job, (result, seconds)) in jobs.iter().zip(results) {
            let s = &self.served[job.served];
            let name = s.name.clone();
            let (public, proof) = match result {
                Ok(done) => done,
                Err(err) => {
                    self.error(job.served, Some(job.epoch), &err, report);
                    continue;
                }
            };
            let path = self.store.proof_path(s.record.chain_id, &s.controller, job.epoch);
            ProofArtifact::new(&s.prepared.circuit, &public, &proof)?.save(&path)?;
            let key = s.key(job.epoch, Kind::Submit);
            let mut record = Record::new(&name, Kind::Submit, job.epoch, Stage::Ready);
            record.proof = Some(path);
            self.put(&key, &record)?;
            self.metrics.proven.get_or_create(&Metrics::label(&name)).inc();
            self.metrics.prove_seconds.observe(seconds);
            tracing::info!(deployment = %name, epoch = job.epoch, seconds, outputs = ?public.outputs, "proved");
            report.proven.push(format!("{name}#{}", job.epoch));
        }
        Ok(())
    }

    /// Sends every ready step and drives every sent one; with `wait`, until none is in flight.
    fn settle_open(&mut self, report: &mut RoundReport, wait: bool) -> Result<(), KeeperError> {
        let started = Instant::now();
        let longest = self.chains.values().map(|c| c.sender.resend_after).max().unwrap_or(60);
        loop {
            let keys: Vec<String> = self.open.iter().cloned().collect();
            let mut in_flight = false;
            for key in keys {
                if self.stopping() {
                    return Ok(());
                }
                let Some(record) = self.store.get(&key)? else { continue };
                let Some(i) = self.served.iter().position(|s| s.name == record.deployment) else { continue };
                match self.drive(i, &key, record, report) {
                    Ok(stage) => in_flight |= stage == Stage::Sent,
                    Err(err) => self.error(i, None, &err, report),
                }
            }
            if !wait || !in_flight || started.elapsed() > Duration::from_secs(3 * longest + 30) {
                if in_flight {
                    report.waiting.push("transactions not yet confirmed".into());
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Moves one open step forward; returns its stage after.
    fn drive(&mut self, i: usize, key: &str, mut record: Record, report: &mut RoundReport) -> Result<Stage, KeeperError> {
        let view = self.view(i)?;
        let name = self.served[i].name.clone();
        let epoch = record.epoch;
        match record.stage {
            Stage::Ready => {
                let decided = match record.kind {
                    Kind::Execute => false,
                    _ => view.last >= epoch,
                };
                if decided {
                    record.stage = Stage::DoneElsewhere;
                    record.reason = Some("another submitter decided the epoch first".into());
                    if record.kind == Kind::Submit {
                        self.metrics.skip(&name, "decided_elsewhere");
                        report.skipped.push(format!("{name}#{epoch}: decided elsewhere"));
                    }
                    self.put(key, &record)?;
                    return Ok(record.stage);
                }
                if record.kind != Kind::Execute && view.current != epoch {
                    if record.kind != Kind::Submit {
                        record.stage = Stage::Skipped;
                        record.reason = Some(format!("epoch {epoch} ended before the step was sent"));
                        self.put(key, &record)?;
                    }
                    if self.store.get(&self.served[i].key(epoch, Kind::Submit))?.is_none_or(|r| !r.stage.is_final()) {
                        self.skip(i, epoch, &format!("epoch {epoch} ended before its proof was submitted"), "epoch_passed", report)?;
                    }
                    return Ok(Stage::Skipped);
                }
                if view.paused {
                    report.waiting.push(format!("{name}#{epoch}: paused"));
                    return Ok(record.stage);
                }
                self.send_step(i, key, record, report)
            }
            Stage::Sent => self.confirm(i, key, record, &view, report),
            stage => Ok(stage),
        }
    }

    /// The call a step makes: the contract and the input.
    fn call_of(&self, i: usize, record: &Record) -> Result<(Address, Vec<u8>), KeeperError> {
        let s = &self.served[i];
        let stored =
            || -> Option<(Address, Vec<u8>)> { Some((record.to.as_ref()?.parse().ok()?, hex::decode(record.input.as_ref()?).ok()?)) };
        let input = match record.kind {
            Kind::Tick | Kind::Snapshot | Kind::Commit => {
                return stored().ok_or_else(|| {
                    KeeperError::State(format!("{}#{}: a {} step without its call", s.name, record.epoch, record.kind.name()))
                })
            }
            Kind::Submit => {
                let path = record.proof.as_ref().ok_or_else(|| KeeperError::State(format!("{}#{}: no proof", s.name, record.epoch)))?;
                let artifact = ProofArtifact::load(path)?;
                let public = artifact.public_inputs(s.card(), s.prepared.circuit.shape().k)?;
                PolicyController::submitAdjustmentCall {
                    epoch: public.epoch,
                    outputs: public.outputs.iter().map(|v| alloy::primitives::I256::try_from(*v).unwrap_or_default()).collect(),
                    proof: artifact.proof_bytes()?.into(),
                }
                .abi_encode()
            }
            Kind::Execute => PolicyController::executeAdjustmentCall { epoch: record.epoch }.abi_encode(),
        };
        Ok((s.record.controller, input))
    }

    fn send_step(&mut self, i: usize, key: &str, mut record: Record, report: &mut RoundReport) -> Result<Stage, KeeperError> {
        let (to, input) = if record.kind.is_prelude() {
            // Read again at every attempt: a retry sends what holds now, not what failed.
            let (to, input) = self.prelude_call(i, record.kind, record.epoch)?;
            record.to = Some(to.to_string());
            record.input = Some(hex::encode(&input));
            (to, input)
        } else {
            self.call_of(i, &record)?
        };
        let s = &self.served[i];
        let (name, epoch, chain_id) = (s.name.clone(), record.epoch, s.record.chain_id);
        let ctx = self.chains.get_mut(&s.chain).ok_or_else(|| KeeperError::State("no chain".into()))?;
        let gas = match ctx.sender.gas_limit(&mut ctx.endpoints, to, &input, record.gas_floor.unwrap_or(0)) {
            Ok(Gas::Limit(gas)) => gas,
            Err(err) => {
                if matches!(err, KeeperError::GasAboveCap { .. }) {
                    self.metrics.retry(&name, record.kind.name(), "gas_above_cap");
                }
                return Err(err);
            }
            Ok(Gas::Reverts(data)) => {
                let reason = revert_reason(&data);
                if record.kind.is_prelude() {
                    return self.prelude_reverts(i, key, record, &data, report);
                }
                let (stage, label) = match Errors::abi_decode(&data) {
                    Ok(Errors::EpochDecided(_)) => (Stage::DoneElsewhere, "decided_elsewhere"),
                    Ok(Errors::NothingQueued(_)) if record.kind == Kind::Execute => (Stage::DoneElsewhere, "executed_elsewhere"),
                    // Its deadline passed: it can never execute.
                    Ok(Errors::AdjustmentExpired(_)) if record.kind == Kind::Execute => (Stage::Skipped, "expired"),
                    // Transient: try again next round.
                    Ok(Errors::ControllerPaused(_)) | Ok(Errors::NotYet(_)) => {
                        tracing::info!(deployment = %name, epoch, "waiting: {reason}");
                        report.waiting.push(format!("{name}#{epoch}: {reason}"));
                        return Ok(Stage::Ready);
                    }
                    Ok(Errors::NotCurrentEpoch(_)) => (Stage::Skipped, "epoch_passed"),
                    Ok(Errors::StaleSnapshot(_)) => (Stage::Skipped, "stale_snapshot"),
                    _ => (Stage::Skipped, "reverted"),
                };
                record.stage = stage;
                record.reason = Some(reason.clone());
                tracing::warn!(deployment = %name, epoch, "not sent: {reason}");
                self.metrics.skip(&name, label);
                report.skipped.push(format!("{name}#{epoch}: {reason}"));
                self.put(key, &record)?;
                return Ok(stage);
            }
        };
        let fees = ctx.sender.price(&mut ctx.endpoints)?;
        let nonce = ctx.sender.nonce(&mut ctx.endpoints)?;
        let tx = ctx.sender.sign(&mut ctx.endpoints, chain_id, to, &input, nonce, gas, fees)?;
        // Recorded before it leaves: a crash from here on re-broadcasts these same bytes.
        record.stage = Stage::Sent;
        record.txs.push(tx.clone());
        self.put(key, &record)?;
        let kind = record.kind;
        let stage = match self.broadcast_latest(i, key, &mut record, report) {
            Ok(stage) => {
                let sent = record.txs.last().map_or(tx.hash, |t| t.hash.clone());
                if stage == Stage::Sent {
                    tracing::info!(deployment = %name, epoch, tx = %sent, nonce, kind = kind.name(), "sent");
                }
                stage
            }
            Err(err) => {
                // Re-broadcast when confirming.
                tracing::warn!(deployment = %name, epoch, tx = %tx.hash, "broadcast failed: {err}");
                Stage::Sent
            }
        };
        failpoint(&format!("after_send_{}", kind.name()));
        Ok(stage)
    }

    /// A tick, snapshot or commitment whose call reverts at estimation: done by someone
    /// else, impossible this epoch, or tried again (see `retry.rs`). Nothing is sent.
    fn prelude_reverts(
        &mut self,
        i: usize,
        key: &str,
        mut record: Record,
        data: &[u8],
        report: &mut RoundReport,
    ) -> Result<Stage, KeeperError> {
        let reason = revert_reason(data);
        let (name, epoch) = (self.served[i].name.clone(), record.epoch);
        record.stage = match retry::prelude_revert(data) {
            PreludeRevert::Retry => return self.retry_later(i, key, record, "reverts", format!("the call reverts: {reason}"), report),
            PreludeRevert::DoneElsewhere => Stage::DoneElsewhere,
            PreludeRevert::Impossible => Stage::Skipped,
        };
        tracing::info!(deployment = %name, epoch, kind = record.kind.name(), "not sent: {reason}");
        record.reason = Some(reason.clone());
        self.put(key, &record)?;
        if record.kind == Kind::Snapshot && record.stage == Stage::Skipped {
            let label = if reason.starts_with("SnapshotWindowClosed") { "snapshot_window_closed" } else { "no_snapshot" };
            self.skip(i, epoch, &format!("the epoch's snapshot cannot be taken: {reason}"), label, report)?;
        }
        Ok(record.stage)
    }

    /// Puts a step back to `Ready` after a failure that does not make it final; it is sent
    /// again (its call and gas read again) on the round's next pass, or the next round.
    fn retry_later(
        &mut self,
        i: usize,
        key: &str,
        mut record: Record,
        cause: &str,
        why: String,
        report: &mut RoundReport,
    ) -> Result<Stage, KeeperError> {
        let name = self.served[i].name.clone();
        let (epoch, kind) = (record.epoch, record.kind.name());
        tracing::warn!(deployment = %name, epoch, kind, "trying again: {why}");
        self.metrics.retry(&name, kind, cause);
        report.retried.push(format!("{name}#{epoch} {kind}: {why}"));
        record.stage = Stage::Ready;
        record.retries += 1;
        record.reason = Some(why);
        self.put(key, &record)?;
        Ok(Stage::Ready)
    }

    /// Broadcasts the step's latest transaction. A node that refuses it (as opposed to one
    /// that already has it) is told nothing new by the same bytes: the endpoint is demoted,
    /// the gas estimated again on the next one and the call re-signed with the same nonce,
    /// once per endpoint. A call that reverts by then goes back to `Ready`, its nonce freed.
    fn broadcast_latest(&mut self, i: usize, key: &str, record: &mut Record, report: &mut RoundReport) -> Result<Stage, KeeperError> {
        let (name, chain, chain_id) = (self.served[i].name.clone(), self.served[i].chain.clone(), self.served[i].record.chain_id);
        let (epoch, kind) = (record.epoch, record.kind.name());
        let tries = self.chains.get(&chain).map_or(1, |c| c.endpoints.len().max(1));
        for _ in 0..tries {
            let last = record.txs.last().cloned().ok_or_else(|| KeeperError::State(format!("{name}#{epoch}: nothing to send")))?;
            let ctx = self.chains.get_mut(&chain).ok_or_else(|| KeeperError::State("no chain".into()))?;
            let refusal = match broadcast(&mut ctx.endpoints, &last) {
                Ok(()) => return Ok(Stage::Sent),
                Err(ChainError::Node { message, .. }) => message,
                Err(err) => return Err(err.into()),
            };
            // A development node mines at once and reports a failed transaction as an error
            // ("ran out of gas"): what it holds was not refused, and its receipt tells the rest.
            let hash: B256 = last.hash.parse().map_err(|_| KeeperError::State(format!("stored hash {}", last.hash)))?;
            if ctx.endpoints.with(|c| c.knows(hash))? {
                return Ok(Stage::Sent);
            }
            tracing::warn!(deployment = %name, epoch, tx = %last.hash, kind, "the node refused the transaction: {refusal}");
            ctx.endpoints.demote(&format!("it refused transaction {}: {refusal}", last.hash));
            self.metrics.retry(&name, kind, "refused");
            report.retried.push(format!("{name}#{epoch} {kind}: the node refused {}: {refusal}", last.hash));
            let (to, input) = self.call_of(i, record)?;
            let ctx = self.chains.get_mut(&chain).ok_or_else(|| KeeperError::State("no chain".into()))?;
            let gas = match ctx.sender.gas_limit(&mut ctx.endpoints, to, &input, record.gas_floor.unwrap_or(0))? {
                Gas::Limit(gas) => gas,
                Gas::Reverts(data) => {
                    // Nothing holds the nonce: the next send takes the node's count again.
                    ctx.sender.reset_nonce();
                    record.stage = Stage::Ready;
                    record.retries += 1;
                    record.reason = Some(format!("refused, and the call now reverts: {}", revert_reason(&data)));
                    self.put(key, record)?;
                    return Ok(Stage::Ready);
                }
            };
            let old = (last.max_fee_per_gas, last.max_priority_fee_per_gas);
            let suggested = ctx.sender.price(&mut ctx.endpoints)?;
            let fees = ctx.sender.bump(old, suggested).unwrap_or(old);
            let tx = ctx.sender.sign(&mut ctx.endpoints, chain_id, to, &input, last.nonce, gas, fees)?;
            record.txs.push(tx);
            self.put(key, record)?;
        }
        // The last re-signed transaction is recorded; confirming broadcasts it.
        Ok(Stage::Sent)
    }

    fn confirm(&mut self, i: usize, key: &str, mut record: Record, view: &View, report: &mut RoundReport) -> Result<Stage, KeeperError> {
        let s = &self.served[i];
        let (name, epoch, controller) = (s.name.clone(), record.epoch, s.record.controller);
        let ctx = self.chains.get_mut(&s.chain).ok_or_else(|| KeeperError::State("no chain".into()))?;
        let (confirmations, cap) = (ctx.sender.confirmations, ctx.sender.max_gas_limit);
        // The transactions of the latest nonce: earlier nonces' ended (reverted, or taken).
        let current = record.txs.last().map(|t| t.nonce);
        for tx in record.txs.iter().rev().filter(|t| Some(t.nonce) == current) {
            let hash: B256 = tx.hash.parse().map_err(|_| KeeperError::State(format!("stored hash {}", tx.hash)))?;
            let Some(receipt) = ctx.endpoints.with(|c| c.receipt(hash))? else { continue };
            let block = receipt.block_number.unwrap_or_default();
            let head = ctx.endpoints.with(|c| c.block_number())?;
            if head + 1 < block + confirmations {
                return Ok(Stage::Sent);
            }
            failpoint(&format!("before_confirm_{}", record.kind.name()));
            let decided = record.kind == Kind::Submit && view.last >= epoch;
            if !receipt.status() && !decided && record.reverted < MAX_MINED_REVERTS {
                // Not known to be final (a low gas estimate, state that changed under it): again.
                let floor = retry::floor_after_revert(tx.gas_limit, receipt.gas_used);
                let why = format!("the transaction {hash} reverted in block {block}{}", if floor.is_some() { " (out of gas)" } else { "" });
                if floor.is_some() {
                    // Its estimate was wrong: ask the next endpoint first.
                    ctx.endpoints.demote(&format!("the transaction {hash} ran out of the gas it estimated"));
                }
                record.reverted += 1;
                record.gas_floor = floor.map(|f| f.min(cap)).or(record.gas_floor);
                return self.retry_later(i, key, record, "reverted", why, report);
            }
            record.tx = Some(tx.hash.clone());
            record.block = Some(block);
            record.gas = Some(receipt.gas_used);
            if !receipt.status() {
                // Mined but reverted, for good: someone decided first, or it kept reverting.
                let elsewhere = decided || record.kind != Kind::Execute && view.last >= epoch;
                record.stage = if elsewhere { Stage::DoneElsewhere } else { Stage::Skipped };
                record.reason = Some(format!("the transaction {hash} reverted in block {block} ({} times in all)", record.reverted + 1));
                if matches!(record.kind, Kind::Submit | Kind::Execute) {
                    self.metrics.skip(&name, if elsewhere { "decided_elsewhere" } else { "reverted" });
                    report.skipped.push(format!("{name}#{epoch}: reverted"));
                }
                tracing::warn!(deployment = %name, epoch, tx = %hash, "reverted");
                self.put(key, &record)?;
                return Ok(record.stage);
            }
            record.stage = Stage::Confirmed;
            for log in receipt.inner.logs().iter().filter(|l| l.address() == controller) {
                if let Ok(q) = PolicyController::AdjustmentQueued::decode_log_data(log.data()) {
                    record.eta = Some(q.eta);
                }
            }
            match record.kind {
                Kind::Submit => {
                    self.metrics.confirmed(&name, epoch, receipt.gas_used);
                    report.confirmed.push(format!("{name}#{epoch}"));
                }
                Kind::Execute => {
                    self.metrics.executed.get_or_create(&Metrics::label(&name)).inc();
                    report.executed.push(format!("{name}#{epoch}"));
                }
                Kind::Tick | Kind::Snapshot | Kind::Commit => {}
            }
            tracing::info!(deployment = %name, epoch, tx = %hash, block, gas = receipt.gas_used, kind = record.kind.name(), "confirmed");
            self.put(key, &record)?;
            return Ok(Stage::Confirmed);
        }
        // None of its transactions is mined.
        let Some(last) = record.txs.last().cloned() else {
            record.stage = Stage::Ready;
            self.put(key, &record)?;
            return Ok(Stage::Ready);
        };
        let from = ctx.sender.from;
        let mined_nonce = ctx.endpoints.with(|c| c.nonce(from, false))?;
        if mined_nonce > last.nonce {
            // Another transaction took the nonce (and none of ours was mined).
            ctx.sender.reset_nonce();
            let decided = record.kind != Kind::Execute && view.last >= epoch;
            record.stage = if decided { Stage::DoneElsewhere } else { Stage::Ready };
            record.reason = Some(format!("nonce {} was used by another transaction", last.nonce));
            tracing::warn!(deployment = %name, epoch, nonce = last.nonce, "nonce taken by another transaction");
            if decided && record.kind == Kind::Submit {
                self.metrics.skip(&name, "decided_elsewhere");
            }
            self.put(key, &record)?;
            return Ok(record.stage);
        }
        let hash: B256 = last.hash.parse().map_err(|_| KeeperError::State(format!("stored hash {}", last.hash)))?;
        if !ctx.endpoints.with(|c| c.knows(hash))? {
            // Lost (a restart before the broadcast, a node that dropped it): the same bytes
            // again, unless the node refuses them.
            tracing::info!(deployment = %name, epoch, tx = %last.hash, "re-broadcasting");
            return self.broadcast_latest(i, key, &mut record, report);
        }
        if state::now().saturating_sub(last.sent_at) < ctx.sender.resend_after {
            return Ok(Stage::Sent);
        }
        let suggested = ctx.sender.price(&mut ctx.endpoints)?;
        let Some(fees) = ctx.sender.bump((last.max_fee_per_gas, last.max_priority_fee_per_gas), suggested) else {
            tracing::warn!(deployment = %name, epoch, tx = %last.hash, "not mined, and already at the fee cap: waiting");
            return Ok(Stage::Sent);
        };
        let (to, input) = self.call_of(i, &record)?;
        let s = &self.served[i];
        let chain_id = s.record.chain_id;
        let ctx = self.chains.get_mut(&s.chain).ok_or_else(|| KeeperError::State("no chain".into()))?;
        let tx = ctx.sender.sign(&mut ctx.endpoints, chain_id, to, &input, last.nonce, last.gas_limit, fees)?;
        record.txs.push(tx.clone());
        self.put(key, &record)?;
        let stage = self.broadcast_latest(i, key, &mut record, report)?;
        self.metrics.resent.get_or_create(&Metrics::label(&name)).inc();
        tracing::info!(deployment = %name, epoch, tx = %tx.hash, max_fee_per_gas = fees.0, "re-priced and resent");
        Ok(stage)
    }

    /// Timelocked deployments: an execute step for each confirmed decision whose delay has passed.
    fn queue_executions(&mut self, i: usize) -> Result<(), KeeperError> {
        if !self.served[i].config.execute {
            return Ok(());
        }
        let view = self.view(i)?;
        if view.mode != Mode::Timelocked {
            return Ok(());
        }
        let s = &self.served[i];
        let name = s.name.clone();
        // The decisions this keeper confirmed, newest first; older ones were handled before.
        let mut due = Vec::new();
        for epoch in (view.current.saturating_sub(2)..=view.current).rev() {
            let Some(submitted) = self.store.get(&s.key(epoch, Kind::Submit))? else { continue };
            let Some(eta) = submitted.eta.filter(|_| submitted.stage == Stage::Confirmed) else { continue };
            if eta <= view.chain_time && self.store.get(&s.key(epoch, Kind::Execute))?.is_none() {
                due.push(epoch);
            }
        }
        for epoch in due {
            let key = self.served[i].key(epoch, Kind::Execute);
            self.put(&key, &Record::new(&name, Kind::Execute, epoch, Stage::Ready))?;
        }
        Ok(())
    }

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
