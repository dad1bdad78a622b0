//! The controllers as a round sees them, read in JSON-RPC batches: every deployment of a
//! chain in two batches (the controllers' state, then their KPI sources' snapshots of the
//! current epoch) and one block read, instead of eight requests per deployment per look.
//!
//! A phase reads the views it will need up front ([`Keeper::read_views`]); each is used once
//! ([`Keeper::view`] takes it), and a second look within the phase (a step driven again
//! after its transaction) reads its deployment alone, so no decision rests on a view older
//! than its phase.

use super::*;

/// The six controller reads of a view, in batch order.
const READS: usize = 6;

/// The controller reads of `record`'s view, in [`READS`] order.
fn controller_reads(record: &Deployment) -> [(Address, Vec<u8>); READS] {
    let to = record.controller;
    [
        (to, PolicyController::currentEpochCall {}.abi_encode()),
        (to, PolicyController::lastEpochCall {}.abi_encode()),
        (to, PolicyController::pausedCall {}.abi_encode()),
        (to, PolicyController::modeCall {}.abi_encode()),
        (to, PolicyController::timingCall {}.abi_encode()),
        (to, PolicyController::kpiSourceCall {}.abi_encode()),
    ]
}

/// The views of `records` on one endpoint: each deployment's own result (a controller that
/// answers nothing fails alone, with its read's own error), or the endpoint's error.
pub(super) fn views_of(client: &chain::Client, records: &[&Deployment]) -> Result<Vec<Result<View, ChainError>>, ChainError> {
    let reads: Vec<(Address, Vec<u8>)> = records.iter().flat_map(|r| controller_reads(r)).collect();
    let mut answers = client.calls("controller read", &reads)?.into_iter();
    let chain_time = client.chain_time()?;
    let unanswered = || Err(ChainError::Answer("a controller read went unanswered".into()));
    let partial: Vec<Result<(View, Address), ChainError>> = records
        .iter()
        .map(|_| {
            // This deployment's answers, all taken before any is decoded.
            let mut a = answers.by_ref().take(READS).collect::<Vec<_>>().into_iter();
            let mut next = || a.next().unwrap_or_else(unanswered);
            let current = chain::decode::<PolicyController::currentEpochCall>("current epoch read", next())?;
            let last = chain::decode::<PolicyController::lastEpochCall>("last epoch read", next())?;
            let paused = chain::decode::<PolicyController::pausedCall>("paused read", next())?;
            let mode = chain::decode::<PolicyController::modeCall>("mode read", next())?;
            let timing = chain::decode::<PolicyController::timingCall>("timing read", next())?;
            let source = chain::decode::<PolicyController::kpiSourceCall>("KPI source read", next())?;
            let view = View { current, last, paused, mode, chain_time, posted_at: None, max_snapshot_age: timing.maxSnapshotAge };
            Ok((view, source))
        })
        .collect();
    let snapshots: Vec<(Address, Vec<u8>)> = partial
        .iter()
        .flatten()
        .map(|(view, source)| (*source, ReporterKpiSource::snapshotCall { epoch: view.current }.abi_encode()))
        .collect();
    let mut snapshots = client.calls("KPI snapshot read", &snapshots)?.into_iter();
    Ok(partial
        .into_iter()
        .map(|read| {
            let (mut view, _) = read?;
            let snapshot =
                chain::decode::<ReporterKpiSource::snapshotCall>("KPI snapshot read", snapshots.next().unwrap_or_else(unanswered))?;
            view.posted_at = (snapshot.postedAt != 0).then_some(snapshot.postedAt);
            Ok(view)
        })
        .collect())
}

impl Keeper {
    /// Reads the views of the deployments `which` (by index), batched per chain, for the
    /// next [`Self::view`] of each. An endpoint that fails here leaves the views unread: each
    /// deployment's own read then fails over and reports as it always did.
    pub(super) fn read_views(&mut self, which: impl IntoIterator<Item = usize>) {
        self.views.clear();
        let mut by_chain: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for i in which {
            by_chain.entry(self.served[i].chain.clone()).or_default().push(i);
        }
        for (name, list) in by_chain {
            let Some(ctx) = self.chains.get_mut(&name) else { continue };
            let records: Vec<&Deployment> = list.iter().map(|&i| &self.served[i].record).collect();
            match ctx.endpoints.with(|c| views_of(c, &records)) {
                Ok(views) => {
                    for (i, view) in list.into_iter().zip(views) {
                        if let Ok(view) = view {
                            self.views.insert(i, view);
                        }
                    }
                }
                Err(err) => tracing::debug!(chain = %name, "batched controller reads failed, reading one by one: {err}"),
            }
        }
    }

    /// The controller of deployment `i` as this phase sees it: the view read for the phase,
    /// once, then a fresh read of its own.
    pub(super) fn view(&mut self, i: usize) -> Result<View, ChainError> {
        let view = match self.views.remove(&i) {
            Some(view) => view,
            None => {
                let s = &self.served[i];
                let ctx = self.chains.get_mut(&s.chain).ok_or_else(|| ChainError::Config(format!("no chain {}", s.chain)))?;
                let record = &s.record;
                ctx.endpoints.with(|c| views_of(c, &[record])?.pop().unwrap_or_else(|| Err(ChainError::Answer("no view".into()))))?
            }
        };
        self.metrics.epochs(&self.served[i].name, view.current, view.last);
        Ok(view)
    }
}
