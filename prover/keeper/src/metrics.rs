//! Prometheus metrics (prometheus-client) and the `/metrics`, `/healthz`, `/readyz`
//! endpoints (hyper, on a thread of their own).
//!
//! `/healthz` answers 200 while the keeper's loop is alive (it has come round within
//! three poll intervals, or a long proof is in flight); `/readyz` answers 200 only when
//! every chain had a working endpoint on the last round, 503 with the reason otherwise.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::KeeperError;

/// The label of every per-deployment metric: `{deployment="<name>"}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeploymentLabel {
    /// The deployment's `name` in the config.
    pub deployment: String,
}

/// The labels of `epochs_skipped_total`: which deployment skipped an epoch, and why.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SkipLabel {
    /// The deployment's `name` in the config.
    pub deployment: String,
    /// Why, in snake_case: `decided_elsewhere`, `executed_elsewhere`, `stale_snapshot`,
    /// `snapshot_window_closed`, `no_snapshot`, `seeded`, `epoch_passed`, `expired` or
    /// `reverted` (their meanings are in `docs/keeper.md`).
    pub reason: String,
}

/// The labels of `step_retries_total`: which step of which deployment is tried again, and
/// after what failure.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RetryLabel {
    /// The deployment's `name` in the config.
    pub deployment: String,
    /// The step: `tick`, `snapshot`, `commit`, `submit` or `execute`.
    pub step: String,
    /// `reverts` (at gas estimation), `reverted` (mined), `refused` (the node refused the
    /// signed transaction) or `gas_above_cap` (every endpoint's estimate was above the cap).
    pub cause: String,
}

/// The labels of `rpc_errors_total`: one JSON-RPC endpoint of one chain.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabel {
    /// The chain's name in the config (the `NAME` of `[chains.NAME]`).
    pub chain: String,
    /// The endpoint's position in the chain's list and its redacted URL (no path or key).
    pub endpoint: String,
}

/// A counter the keeper keeps across restarts, with its labels: stored in the state database
/// under [`CounterKey::encode`] each time it grows, and added back at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CounterKey {
    /// `epochs_proven_total` of a deployment.
    Proven(String),
    /// `epochs_submitted_total` of a deployment.
    Submitted(String),
    /// `epochs_executed_total` of a deployment.
    Executed(String),
    /// `epochs_skipped_total` of a deployment, with its reason label.
    Skipped(String, String),
    /// `transactions_resent_total` of a deployment.
    Resent(String),
    /// `step_retries_total` of a deployment, with its step and cause labels.
    Retry(String, String, String),
    /// `fee_cap_waits_total` of a deployment.
    FeeCapWait(String),
}

impl CounterKey {
    /// The metric's name, then its label values, tab-separated (a label never holds a tab:
    /// deployment names are checked by the config, the others are fixed words).
    pub fn encode(&self) -> String {
        let parts: Vec<&str> = match self {
            Self::Proven(d) => vec!["epochs_proven", d],
            Self::Submitted(d) => vec!["epochs_submitted", d],
            Self::Executed(d) => vec!["epochs_executed", d],
            Self::Skipped(d, reason) => vec!["epochs_skipped", d, reason],
            Self::Resent(d) => vec!["transactions_resent", d],
            Self::Retry(d, step, cause) => vec!["step_retries", d, step, cause],
            Self::FeeCapWait(d) => vec!["fee_cap_waits", d],
        };
        parts.join("\t")
    }

    /// The key [`CounterKey::encode`] wrote; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let parts: Vec<String> = text.split('\t').map(str::to_string).collect();
        Some(match parts.as_slice() {
            [m, d] if m == "epochs_proven" => Self::Proven(d.clone()),
            [m, d] if m == "epochs_submitted" => Self::Submitted(d.clone()),
            [m, d] if m == "epochs_executed" => Self::Executed(d.clone()),
            [m, d, r] if m == "epochs_skipped" => Self::Skipped(d.clone(), r.clone()),
            [m, d] if m == "transactions_resent" => Self::Resent(d.clone()),
            [m, d, st, c] if m == "step_retries" => Self::Retry(d.clone(), st.clone(), c.clone()),
            [m, d] if m == "fee_cap_waits" => Self::FeeCapWait(d.clone()),
            _ => return None,
        })
    }
}

/// Every metric the keeper exports (names in [`Metrics::new`], each prefixed
/// `zkpolicy_keeper_`), and the state behind `/healthz` and `/readyz`. Clones share every
/// value: the keeper updates one, the metrics server reads another.
#[derive(Clone)]
pub struct Metrics {
    /// Epochs whose adjustment this keeper proved, per deployment (`epochs_proven_total`):
    /// counted once the proof is saved and recorded ready to submit.
    pub proven: Family<DeploymentLabel, Counter>,
    /// Submissions this keeper got mined with the configured confirmations, per deployment
    /// (`epochs_submitted_total`); see [`Metrics::confirmed`].
    pub submitted: Family<DeploymentLabel, Counter>,
    /// Timelocked decisions this keeper executed, confirmed, per deployment
    /// (`epochs_executed_total`).
    pub executed: Family<DeploymentLabel, Counter>,
    /// Epochs this keeper did not submit (or execute), per deployment and reason
    /// (`epochs_skipped_total`); see [`Metrics::skip`].
    pub skipped: Family<SkipLabel, Counter>,
    /// Transactions not mined within `resend_after_secs`, re-priced (at least 12.5 % more on
    /// both fees, under the caps) and resent with the same nonce, per deployment
    /// (`transactions_resent_total`).
    pub resent: Family<DeploymentLabel, Counter>,
    /// Steps tried again after a failure that does not make them final, per deployment, step
    /// and cause (`step_retries_total`); see [`Metrics::retry`].
    pub retries: Family<RetryLabel, Counter>,
    /// Wall time of each proof in seconds, measured inside its parallel batch
    /// (`prove_seconds`; buckets from 0.05 s to 60 s).
    pub prove_seconds: Histogram,
    /// Gas used by each confirmed `submitAdjustment` (`submit_gas`; buckets from 250,000 to
    /// 1,000,000 gas).
    pub submit_gas: Histogram,
    /// The last epoch whose submission was confirmed, per deployment (`last_submitted_epoch`);
    /// restored from the state database when the keeper starts.
    pub last_submitted_epoch: Family<DeploymentLabel, Gauge>,
    /// When that submission was confirmed, in unix seconds of the keeper's clock
    /// (`last_submission_timestamp_seconds`).
    pub last_submission_time: Family<DeploymentLabel, Gauge>,
    /// Seconds since then, recomputed at each scrape by [`Metrics::encode`]
    /// (`seconds_since_last_submission`): alert when it grows past an epoch.
    pub since_last_submission: Family<DeploymentLabel, Gauge>,
    /// Failed requests per chain and endpoint (`rpc_errors_total`).
    pub rpc_errors: Family<EndpointLabel, Counter>,
    /// The controller's current epoch, per deployment, as the last round read it
    /// (`current_epoch`).
    pub current_epoch: Family<DeploymentLabel, Gauge>,
    /// The last epoch the controller decided (its `lastEpoch`, whoever submitted), per
    /// deployment (`decided_epoch`): `current_epoch - decided_epoch >= 2` means a whole epoch
    /// went undecided.
    pub decided_epoch: Family<DeploymentLabel, Gauge>,
    /// Rounds in which a transaction was not mined in time and could not be re-priced because
    /// its fees were already at the chain's caps, per deployment (`fee_cap_waits_total`).
    pub fee_cap_waits: Family<DeploymentLabel, Counter>,
    /// 1 when every chain had a working endpoint on the last round and no confirmation is
    /// stalled, else 0 (`ready`); [`Metrics::set_ready`] sets it and `/readyz` together.
    pub ready: Gauge,
    registry: Arc<Registry>,
    /// Unix seconds of the loop's last round, and whether it is inside a step that may be long.
    heartbeat: Arc<AtomicU64>,
    busy: Arc<AtomicU64>,
    not_ready: Arc<Mutex<Option<String>>>,
    /// Each deployment's last confirmed submission (unix seconds), for the age gauge.
    times: Arc<Mutex<BTreeMap<String, i64>>>,
    /// Where the counters are kept across restarts ([`Metrics::persist_to`]).
    store: Arc<Mutex<Option<super::state::Store>>>,
    poll_interval: u64,
}

impl Metrics {
    /// Registers every metric, not ready (`starting`) until the first round has checked the
    /// endpoints. `poll_interval` is the config's `poll_interval_secs`: `/healthz` fails when
    /// the loop has not come round for three of them plus 30 s (and no proof is in flight).
    /// The CLI makes one at start and hands clones to the keeper and to [`serve`].
    pub fn new(poll_interval: u64) -> Self {
        let mut registry = Registry::with_prefix("zkpolicy_keeper");
        let proven = Family::<DeploymentLabel, Counter>::default();
        let submitted = Family::<DeploymentLabel, Counter>::default();
        let executed = Family::<DeploymentLabel, Counter>::default();
        let skipped = Family::<SkipLabel, Counter>::default();
        let resent = Family::<DeploymentLabel, Counter>::default();
        let retries = Family::<RetryLabel, Counter>::default();
        let prove_seconds = Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]);
        let submit_gas = Histogram::new([250_000.0, 350_000.0, 400_000.0, 450_000.0, 500_000.0, 750_000.0, 1_000_000.0]);
        let last_submitted_epoch = Family::<DeploymentLabel, Gauge>::default();
        let last_submission_time = Family::<DeploymentLabel, Gauge>::default();
        let since_last_submission = Family::<DeploymentLabel, Gauge>::default();
        let rpc_errors = Family::<EndpointLabel, Counter>::default();
        let current_epoch = Family::<DeploymentLabel, Gauge>::default();
        let decided_epoch = Family::<DeploymentLabel, Gauge>::default();
        let fee_cap_waits = Family::<DeploymentLabel, Counter>::default();
        let ready = Gauge::default();
        registry.register("epochs_proven", "Epochs whose adjustment this keeper proved", proven.clone());
        registry.register("epochs_submitted", "Epochs whose submission this keeper got mined and confirmed", submitted.clone());
        registry.register("epochs_executed", "Timelocked decisions this keeper executed", executed.clone());
        registry.register("epochs_skipped", "Epochs not submitted by this keeper, by reason", skipped.clone());
        registry.register("transactions_resent", "Transactions re-priced and resent because they were not mined in time", resent.clone());
        registry.register("step_retries", "Steps tried again after a failure that does not make them final, by cause", retries.clone());
        registry.register("prove_seconds", "Wall time of one proof (in a parallel batch)", prove_seconds.clone());
        registry.register("submit_gas", "Gas used by each confirmed submitAdjustment", submit_gas.clone());
        registry.register(
            "last_submitted_epoch",
            "The last epoch this keeper's submission was confirmed for",
            last_submitted_epoch.clone(),
        );
        registry.register("last_submission_timestamp_seconds", "Unix time of the last confirmed submission", last_submission_time.clone());
        registry.register(
            "seconds_since_last_submission",
            "Seconds since the last confirmed submission (at scrape time)",
            since_last_submission.clone(),
        );
        registry.register("rpc_errors", "Failed requests to a JSON-RPC endpoint", rpc_errors.clone());
        registry.register("current_epoch", "The controller's current epoch, as the last round read it", current_epoch.clone());
        registry.register("decided_epoch", "The last epoch the controller decided, whoever submitted it", decided_epoch.clone());
        registry.register(
            "fee_cap_waits",
            "Times a transaction not mined in time could not be re-priced: its fees were at the caps",
            fee_cap_waits.clone(),
        );
        registry.register("ready", "1 when every chain had a working endpoint on the last round", ready.clone());
        Self {
            proven,
            submitted,
            executed,
            skipped,
            resent,
            retries,
            prove_seconds,
            submit_gas,
            last_submitted_epoch,
            last_submission_time,
            since_last_submission,
            rpc_errors,
            current_epoch,
            decided_epoch,
            fee_cap_waits,
            ready,
            registry: Arc::new(registry),
            heartbeat: Arc::new(AtomicU64::new(super::state::now())),
            busy: Arc::new(AtomicU64::new(0)),
            not_ready: Arc::new(Mutex::new(Some("starting".into()))),
            times: Arc::new(Mutex::new(BTreeMap::new())),
            store: Arc::new(Mutex::new(None)),
            poll_interval,
        }
    }

    /// The label set of `deployment`'s per-deployment metrics.
    pub fn label(deployment: &str) -> DeploymentLabel {
        DeploymentLabel { deployment: deployment.to_string() }
    }

    /// Adds the counts `store` holds (a previous run's) to the counters, then keeps every
    /// count in it from now on, so the counters survive a restart.
    pub fn persist_to(&self, store: super::state::Store) -> Result<(), KeeperError> {
        for (key, count) in store.counts()? {
            match CounterKey::decode(&key) {
                Some(counter) => self.add(&counter, count),
                None => tracing::warn!(key, "an unknown counter in the state database: ignored"),
            }
        }
        if let Ok(mut slot) = self.store.lock() {
            *slot = Some(store);
        }
        Ok(())
    }

    fn add(&self, counter: &CounterKey, by: u64) {
        let label = |d: &str| Self::label(d);
        match counter {
            CounterKey::Proven(d) => self.proven.get_or_create(&label(d)).inc_by(by),
            CounterKey::Submitted(d) => self.submitted.get_or_create(&label(d)).inc_by(by),
            CounterKey::Executed(d) => self.executed.get_or_create(&label(d)).inc_by(by),
            CounterKey::Skipped(d, reason) => {
                self.skipped.get_or_create(&SkipLabel { deployment: d.clone(), reason: reason.clone() }).inc_by(by)
            }
            CounterKey::Resent(d) => self.resent.get_or_create(&label(d)).inc_by(by),
            CounterKey::Retry(d, step, cause) => {
                self.retries.get_or_create(&RetryLabel { deployment: d.clone(), step: step.clone(), cause: cause.clone() }).inc_by(by)
            }
            CounterKey::FeeCapWait(d) => self.fee_cap_waits.get_or_create(&label(d)).inc_by(by),
        };
    }

    /// Counts one `counter`, and stores it when [`Metrics::persist_to`] gave a store (a failed
    /// write is logged: a counter is not worth stopping the keeper for).
    pub fn count(&self, counter: CounterKey) {
        self.add(&counter, 1);
        let store = self.store.lock().ok().and_then(|slot| slot.clone());
        if let Some(store) = store {
            if let Err(e) = store.add_count(&counter.encode(), 1) {
                tracing::warn!(counter = %counter.encode(), "cannot store the counter: {e}");
            }
        }
    }

    /// Counts an epoch of `deployment` that this keeper will not submit (or execute), under
    /// `reason`, one of the [`SkipLabel::reason`] labels.
    pub fn skip(&self, deployment: &str, reason: &str) {
        self.count(CounterKey::Skipped(deployment.into(), reason.into()));
    }

    /// A step of `deployment` will be tried again after a failure of `cause`.
    pub fn retry(&self, deployment: &str, step: &str, cause: &str) {
        self.count(CounterKey::Retry(deployment.into(), step.into(), cause.into()));
    }

    /// What the last round read of `deployment`'s controller: its current epoch and the last
    /// epoch it decided.
    pub fn epochs(&self, deployment: &str, current: u64, decided: u64) {
        let label = Self::label(deployment);
        self.current_epoch.get_or_create(&label).set(i64::try_from(current).unwrap_or(i64::MAX));
        self.decided_epoch.get_or_create(&label).set(i64::try_from(decided).unwrap_or(i64::MAX));
    }

    /// The loop came round.
    pub fn beat(&self) {
        self.heartbeat.store(super::state::now(), Ordering::Relaxed);
    }

    /// Marks a possibly long step (proving a batch) in flight, for `/healthz`.
    pub fn busy(&self, on: bool) {
        self.busy.store(u64::from(on), Ordering::Relaxed);
        self.beat();
    }

    /// `None`: ready; otherwise why not.
    pub fn set_ready(&self, why_not: Option<String>) {
        self.ready.set(i64::from(why_not.is_none()));
        if let Ok(mut slot) = self.not_ready.lock() {
            *slot = why_not;
        }
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let now = super::state::now() as i64;
        for (label, at) in self.last_times() {
            self.since_last_submission.get_or_create(&label).set(now - at);
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    fn last_times(&self) -> Vec<(DeploymentLabel, i64)> {
        // prometheus-client cannot iterate a family: the times are kept beside it.
        self.times.lock().map(|t| t.iter().map(|(d, at)| (Self::label(d), *at)).collect()).unwrap_or_default()
    }

    /// A submission of `deployment` for `epoch` was confirmed, using `gas`.
    pub fn confirmed(&self, deployment: &str, epoch: u64, gas: u64) {
        self.count(CounterKey::Submitted(deployment.into()));
        self.submit_gas.observe(gas as f64);
        self.last_submission(deployment, epoch, super::state::now());
    }

    /// The last confirmed submission of `deployment` (at start, from the keeper's state, so
    /// that a restarted keeper reports it before it submits again).
    pub fn last_submission(&self, deployment: &str, epoch: u64, at: u64) {
        let label = Self::label(deployment);
        self.last_submitted_epoch.get_or_create(&label).set(i64::try_from(epoch).unwrap_or(i64::MAX));
        let at = i64::try_from(at).unwrap_or(i64::MAX);
        self.last_submission_time.get_or_create(&label).set(at);
        if let Ok(mut times) = self.times.lock() {
            times.insert(deployment.to_string(), at);
        }
    }

    fn health(&self) -> (StatusCode, String) {
        let age = super::state::now().saturating_sub(self.heartbeat.load(Ordering::Relaxed));
        if self.busy.load(Ordering::Relaxed) == 1 || age <= 3 * self.poll_interval + 30 {
            (StatusCode::OK, "ok\n".into())
        } else {
            (StatusCode::SERVICE_UNAVAILABLE, format!("the keeper's loop has not come round for {age} s\n"))
        }
    }

    fn readiness(&self) -> (StatusCode, String) {
        match self.not_ready.lock().ok().and_then(|r| r.clone()) {
            None => (StatusCode::OK, "ready\n".into()),
            Some(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}\n")),
        }
    }
}

/// Serves the endpoints on `addr` from a thread of its own, until the process ends.
/// Returns the bound address (port 0 picks a free one).
pub fn serve(addr: SocketAddr, metrics: Metrics) -> Result<SocketAddr, KeeperError> {
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| KeeperError::Config { key: "metrics_addr".into(), reason: format!("cannot listen on {addr}: {e}") })?;
    let bound = listener.local_addr().map_err(|e| KeeperError::Config { key: "metrics_addr".into(), reason: e.to_string() })?;
    listener.set_nonblocking(true).map_err(|e| KeeperError::Config { key: "metrics_addr".into(), reason: e.to_string() })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| KeeperError::State(format!("cannot start the metrics runtime: {e}")))?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                loop {
                    let Ok((stream, _)) = listener.accept().await else { continue };
                    let metrics = metrics.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                            let metrics = metrics.clone();
                            async move { Ok::<_, Infallible>(respond(&metrics, &req)) }
                        });
                        let io = hyper_util::rt::TokioIo::new(stream);
                        let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                    });
                }
            });
        })
        .map_err(|e| KeeperError::State(format!("cannot start the metrics thread: {e}")))?;
    Ok(bound)
}

fn respond(metrics: &Metrics, req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match (req.method(), req.uri().path()) {
        (&hyper::Method::GET, "/metrics") => {
            (StatusCode::OK, "application/openmetrics-text; version=1.0.0; charset=utf-8", metrics.encode())
        }
        (&hyper::Method::GET, "/healthz") => {
            let (s, b) = metrics.health();
            (s, "text/plain; charset=utf-8", b)
        }
        (&hyper::Method::GET, "/readyz") => {
            let (s, b) = metrics.readiness();
            (s, "text/plain; charset=utf-8", b)
        }
        (&hyper::Method::GET, _) => (StatusCode::NOT_FOUND, "text/plain; charset=utf-8", "try /metrics, /healthz or /readyz\n".into()),
        _ => (StatusCode::METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "GET only\n".into()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = hyper::header::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Store;

    #[test]
    fn counter_keys_read_back_as_written() {
        let keys = [
            CounterKey::Proven("a".into()),
            CounterKey::Submitted("a".into()),
            CounterKey::Executed("b".into()),
            CounterKey::Skipped("a".into(), "stale_snapshot".into()),
            CounterKey::Resent("a".into()),
            CounterKey::Retry("a".into(), "submit".into(), "reverted".into()),
            CounterKey::FeeCapWait("c".into()),
        ];
        for key in keys {
            assert_eq!(CounterKey::decode(&key.encode()), Some(key.clone()), "{}", key.encode());
        }
        assert_eq!(CounterKey::decode("epochs_proven"), None);
        assert_eq!(CounterKey::decode("no_such_counter\ta"), None);
    }

    /// A restarted keeper's counters go on from the last run's, read from its state directory.
    #[test]
    fn counters_survive_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let metrics = Metrics::new(1);
            metrics.persist_to(Store::open(dir.path()).expect("store")).expect("restore");
            metrics.count(CounterKey::Proven("a".into()));
            metrics.count(CounterKey::Proven("a".into()));
            metrics.skip("a", "stale_snapshot");
            metrics.confirmed("a", 3, 400_000);
        }
        let metrics = Metrics::new(1);
        // Before the store is read, a fresh process counts nothing.
        assert!(!metrics.encode().contains("zkpolicy_keeper_epochs_proven_total{deployment=\"a\"}"));
        metrics.persist_to(Store::open(dir.path()).expect("store")).expect("restore");
        metrics.count(CounterKey::Proven("a".into()));
        let text = metrics.encode();
        for line in [
            "zkpolicy_keeper_epochs_proven_total{deployment=\"a\"} 3",
            "zkpolicy_keeper_epochs_skipped_total{deployment=\"a\",reason=\"stale_snapshot\"} 1",
            "zkpolicy_keeper_epochs_submitted_total{deployment=\"a\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
    }
}
