//! A chain's endpoints, in the operator's order of preference, with failover.
//!
//! Each round [`Endpoints::refresh`] asks every endpoint for its latest block and
//! picks the first that answers, serves the expected chain and is no more than
//! `max_lag_blocks` behind the best. A request that fails to reach the active endpoint
//! is counted against it and retried on the next one; only when all are down does the
//! request fail (and the keeper reports not ready until one comes back).
//!
//! An endpoint can also answer and be wrong: a gas estimate above the cap, or one whose
//! transaction the node refuses. [`Endpoints::demote`] then counts it, sets it aside for
//! [`SUSPECT_FOR`] and moves to the next; `refresh` prefers endpoints not set aside.

use std::time::{Duration, Instant};

use zkpolicy_chain::{ChainError, Client};

use super::metrics::{EndpointLabel, Metrics};

/// How long an endpoint whose answer proved wrong is passed over.
pub const SUSPECT_FOR: Duration = Duration::from_secs(600);

pub struct Endpoints {
    chain: String,
    urls: Vec<String>,
    clients: Vec<Option<Client>>,
    /// What each endpoint is called in logs and metrics: its index and redacted URL.
    shown: Vec<String>,
    /// Until when each endpoint is passed over (see [`Endpoints::demote`]).
    suspect_until: Vec<Option<Instant>>,
    active: Option<usize>,
    chain_id: Option<u64>,
    max_lag: u64,
    metrics: Metrics,
}

impl Endpoints {
    pub fn new(chain: &str, urls: &[String], max_lag: u64, metrics: Metrics) -> Self {
        let shown = urls
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let url = u.parse().map(|u| zkpolicy_chain::redacted(&u)).unwrap_or_else(|_| "<url>".into());
                format!("{i}:{url}")
            })
            .collect();
        Self {
            chain: chain.to_string(),
            urls: urls.to_vec(),
            clients: urls.iter().map(|_| None).collect(),
            shown,
            suspect_until: urls.iter().map(|_| None).collect(),
            active: None,
            chain_id: None,
            max_lag,
            metrics,
        }
    }

    fn error(&self, i: usize, err: &dyn std::fmt::Display) {
        self.metrics.rpc_errors.get_or_create(&EndpointLabel { chain: self.chain.clone(), endpoint: self.shown[i].clone() }).inc();
        tracing::warn!(chain = %self.chain, endpoint = %self.shown[i], "RPC endpoint failed: {err}");
    }

    fn suspect(&self, i: usize) -> bool {
        self.suspect_until[i].is_some_and(|until| Instant::now() < until)
    }

    /// How many endpoints the chain has.
    pub fn len(&self) -> usize {
        self.urls.len()
    }

    /// The active endpoint answered, but wrongly (`why`): counts it, passes it over for
    /// [`SUSPECT_FOR`] and makes the next endpoint not passed over active (the next one at
    /// all when every other is). Requests then go there first.
    pub fn demote(&mut self, why: &str) {
        let n = self.urls.len();
        let Some(i) = self.active.filter(|_| n > 0) else { return };
        self.error(i, &why);
        self.suspect_until[i] = Some(Instant::now() + SUSPECT_FOR);
        let next = (1..n).map(|step| (i + step) % n).find(|j| !self.suspect(*j)).unwrap_or((i + 1) % n);
        if next != i {
            tracing::info!(chain = %self.chain, endpoint = %self.shown[next], "failed over to RPC endpoint");
        }
        self.active = Some(next);
    }

    fn client(&mut self, i: usize) -> Result<&Client, ChainError> {
        if self.clients[i].is_none() {
            let client = Client::connect(&self.urls[i], None)?;
            if let Some(id) = self.chain_id.filter(|id| *id != client.chain_id()) {
                return Err(ChainError::Config(format!(
                    "endpoint {} serves chain {}, not chain {id} like the others",
                    self.shown[i],
                    client.chain_id()
                )));
            }
            self.chain_id = Some(client.chain_id());
            self.clients[i] = Some(client);
        }
        self.clients[i].as_ref().ok_or_else(|| ChainError::Answer("no client".into()))
    }

    /// Asks every endpoint but the active one, in order, until one answers `Some`: a second
    /// opinion on what the active endpoint says is not there. Endpoints that fail are passed
    /// over.
    pub fn elsewhere<T>(&mut self, f: impl Fn(&Client) -> Result<Option<T>, ChainError>) -> Option<T> {
        let active = self.active;
        (0..self.urls.len()).filter(|i| Some(*i) != active).find_map(|i| self.client(i).and_then(&f).ok().flatten())
    }

    /// Re-chooses the active endpoint: the first that answers and is not lagging.
    /// `Err` names why none is usable.
    pub fn refresh(&mut self) -> Result<(), String> {
        let mut heads = Vec::with_capacity(self.urls.len());
        for i in 0..self.urls.len() {
            let head = self.client(i).and_then(|c| c.block_number());
            match head {
                Ok(h) => heads.push(Some(h)),
                Err(err) => {
                    self.error(i, &err);
                    self.clients[i] = None;
                    heads.push(None);
                }
            }
        }
        let best = heads.iter().flatten().max().copied();
        let Some(best) = best else {
            self.active = None;
            return Err(format!("chain {}: no endpoint answers ({} tried)", self.chain, self.urls.len()));
        };
        let usable = |i: &usize| heads[*i].is_some_and(|h| h + self.max_lag >= best);
        let chosen = (0..heads.len()).find(|i| usable(i) && !self.suspect(*i)).or_else(|| (0..heads.len()).find(usable));
        if chosen != self.active {
            if let Some(i) = chosen {
                tracing::info!(chain = %self.chain, endpoint = %self.shown[i], head = best, "using RPC endpoint");
            }
        }
        self.active = chosen;
        Ok(())
    }

    pub fn chain_id(&self) -> Option<u64> {
        self.chain_id
    }

    /// Runs `f` on the active endpoint, failing over down the list when an endpoint
    /// cannot be reached. Errors other than an unreachable endpoint are returned as they are.
    pub fn with<T>(&mut self, f: impl Fn(&Client) -> Result<T, ChainError>) -> Result<T, ChainError> {
        let n = self.urls.len();
        let start = self.active.unwrap_or(0);
        let mut last = None;
        // One more try than there are endpoints: the first is tried again on a fresh
        // connection (a node may close an idle kept-alive connection under a request).
        for step in 0..=n {
            let i = (start + step) % n;
            let result = self.client(i).and_then(&f);
            match result {
                Err(err @ ChainError::Unreachable { .. }) => {
                    self.error(i, &err);
                    self.clients[i] = None;
                    last = Some(err);
                }
                other => {
                    if self.active != Some(i) {
                        tracing::info!(chain = %self.chain, endpoint = %self.shown[i], "failed over to RPC endpoint");
                        self.active = Some(i);
                    }
                    return other;
                }
            }
        }
        self.active = None;
        Err(last.unwrap_or_else(|| ChainError::Config(format!("chain {} has no endpoint", self.chain))))
    }
}
