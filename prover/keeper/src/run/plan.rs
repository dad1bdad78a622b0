//! What each round must do, deployment by deployment: run the snapshot steps (tick, take or
//! commit the snapshot), pick the epochs due and prove them in one rayon batch, and queue
//! timelocked executions.

use super::*;

impl Keeper {
    /// Whether a tick, snapshot or commitment went back to `Ready` to be tried again.
    pub(super) fn prelude_retry_pending(&self) -> Result<bool, KeeperError> {
        for key in &self.open {
            if self.store.get(key)?.is_some_and(|r| r.kind.is_prelude() && r.stage == Stage::Ready && r.retries > 0) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub(super) fn error(&self, i: usize, epoch: Option<u64>, err: &dyn std::fmt::Display, report: &mut RoundReport) {
        let name = &self.served[i].name;
        match epoch {
            Some(epoch) => tracing::error!(deployment = %name, epoch, "{err}"),
            None => tracing::error!(deployment = %name, "{err}"),
        }
        report.errors.push(format!("{name}: {err}"));
    }

    pub(super) fn skip(&mut self, i: usize, epoch: u64, reason: &str, label: &str, report: &mut RoundReport) -> Result<(), KeeperError> {
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
    pub(super) fn preludes(&mut self, i: usize, report: &mut RoundReport) -> Result<bool, KeeperError> {
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
        let kind = if s.record.kpi_provenance == chain::KpiProvenance::Onchain {
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
    pub(super) fn prelude_call(&mut self, i: usize, kind: Kind, epoch: u64) -> Result<(Address, Vec<u8>), KeeperError> {
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
    pub(super) fn due(&mut self, i: usize, report: &mut RoundReport) -> Result<Option<Job>, KeeperError> {
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
    pub(super) fn seeded(&mut self, i: usize, epoch: u64) -> Result<bool, KeeperError> {
        let s = &self.served[i];
        if s.record.kpi_provenance != chain::KpiProvenance::Onchain {
            return Ok(false);
        }
        let record = &s.record;
        let ctx = self.chains.get_mut(&s.chain).ok_or_else(|| KeeperError::State("no chain".into()))?;
        Ok(ctx.endpoints.with(|c| chain::economy::snapshot_taken(c, record, epoch))?)
    }

    /// Proves every job in parallel; saves each proof, then records it.
    pub(super) fn prove(&mut self, jobs: Vec<Job>, report: &mut RoundReport) -> Result<(), KeeperError> {
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
            self.metrics.count(CounterKey::Proven(name.clone()));
            self.metrics.prove_seconds.observe(seconds);
            tracing::info!(deployment = %name, epoch = job.epoch, seconds, outputs = ?public.outputs, "proved");
            report.proven.push(format!("{name}#{}", job.epoch));
        }
        Ok(())
    }

    /// Timelocked deployments: an execute step for each confirmed decision whose delay has passed.
    pub(super) fn queue_executions(&mut self, i: usize) -> Result<(), KeeperError> {
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
}
