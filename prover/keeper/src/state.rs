//! The keeper's durable state: one record per (chain, controller, epoch, step), in an
//! embedded ACID database (redb), written before each step's effect so that a restart
//! after `kill -9` resumes where it stopped.
//!
//! Every transaction the keeper sends is such a step (the economy's tick, the snapshot, the
//! KPI commitment, the submission, the execution). The order that makes restarts safe: a
//! proof is saved to disk, then recorded `Ready`; a transaction is signed, recorded `Sent` with its raw bytes and nonce, and
//! only then broadcast. A restart finds the `Sent` record and re-broadcasts the same
//! bytes (the chain charges for a nonce once) or reads its receipt.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::KeeperError;

const STEPS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("steps");
/// The keeper's counters (`epochs_proven_total`, ...), by metric and labels: restored at start,
/// so a restart does not reset them.
const COUNTERS: TableDefinition<'_, &str, u64> = TableDefinition::new("counters");

/// What a step is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The economy's `tick` for the epoch (on-chain deployments).
    Tick,
    /// `takeSnapshot` for the epoch (on-chain deployments).
    Snapshot,
    /// `commitKpis` for the epoch (reporter deployments whose reporter this keeper is).
    Commit,
    /// `submitAdjustment` for the epoch.
    Submit,
    /// `executeAdjustment` for the epoch (timelocked mode).
    Execute,
}

impl Kind {
    /// The steps that bring an epoch's snapshot on chain, before its proof.
    pub fn is_prelude(self) -> bool {
        matches!(self, Self::Tick | Self::Snapshot | Self::Commit)
    }

    /// The step's name in state keys, logs, failpoints and the `step` label of
    /// `step_retries_total`: `tick`, `snapshot`, `commit`, `submit` or `execute`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tick => "tick",
            Self::Snapshot => "snapshot",
            Self::Commit => "commit",
            Self::Submit => "submit",
            Self::Execute => "execute",
        }
    }
}

/// Where a step stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Ready to send, nothing sent yet: a submit step's proof is on disk ([`Record::proof`]);
    /// an execute step's delay has passed.
    Ready,
    /// A transaction is signed and broadcast (or about to be): [`Record::txs`].
    Sent,
    /// Mined with the configured confirmations.
    Confirmed,
    /// Someone else decided (or executed) the epoch first.
    DoneElsewhere,
    /// Given up, with [`Record::reason`].
    Skipped,
}

impl Stage {
    /// Whether the step is over (`Confirmed`, `DoneElsewhere` or `Skipped`): a final step is
    /// never driven again, while every other one is taken up each round and after a restart.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Confirmed | Self::DoneElsewhere | Self::Skipped)
    }
}

/// One signed transaction of a step (a re-priced resend adds another with the same nonce).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentTx {
    /// The transaction hash, `0x` hex: how its receipt is looked up.
    pub hash: String,
    /// The signing account's nonce it uses; a resend reuses it, so at most one is mined.
    pub nonce: u64,
    /// Its EIP-1559 fee cap, in wei per gas (never above the chain's `max_fee_gwei`).
    pub max_fee_per_gas: u128,
    /// Its priority fee (tip), in wei per gas (never above the chain's `max_priority_fee_gwei`).
    pub max_priority_fee_per_gas: u128,
    /// Its gas limit, in gas: the estimate plus a fifth, at least the step's
    /// [`Record::gas_floor`], never above the chain's `max_gas_limit`.
    pub gas_limit: u64,
    /// The signed transaction, hex: re-broadcast as is after a restart.
    pub raw: String,
    /// Unix seconds (the keeper's clock) when it was first broadcast.
    pub sent_at: u64,
    /// A no-op (a transfer of nothing to the keeper's own account) that replaces the step's
    /// pending transaction with the same nonce and higher fees, once that can only revert:
    /// a submission whose epoch ended while it waited.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replaces: bool,
}

/// One step's write-ahead record: what the keeper does (or did) for one epoch of one
/// deployment, written before each effect. Stored as JSON under [`key`]; `zkpolicy keeper
/// --once --json` prints them and `zkpolicy live` reads them back with [`read_records`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The deployment's `name` in the config.
    pub deployment: String,
    /// Which step this is.
    pub kind: Kind,
    /// The controller's epoch the step is for (for an execute step, the epoch whose queued
    /// decision it executes).
    pub epoch: u64,
    /// Where the step stands.
    pub stage: Stage,
    /// The proof artifact (submit steps).
    #[serde(default)]
    pub proof: Option<PathBuf>,
    /// The contract a tick, snapshot or commit step calls: written when the step is created
    /// and again at each attempt, which sends the call as it stands then.
    #[serde(default)]
    pub to: Option<String>,
    /// That call's data, hex without `0x` (tick, snapshot and commit steps; a submission's
    /// comes from its proof, an execution's from its epoch).
    #[serde(default)]
    pub input: Option<String>,
    /// Every transaction signed for the step, oldest first; empty until it is first sent. A
    /// re-priced resend or a re-sign after a node's refusal keeps the nonce; a send after
    /// another transaction took the nonce uses a new one.
    #[serde(default)]
    pub txs: Vec<SentTx>,
    /// The mined transaction.
    #[serde(default)]
    pub tx: Option<String>,
    /// The block the mined transaction is in.
    #[serde(default)]
    pub block: Option<u64>,
    /// The gas the mined transaction used.
    #[serde(default)]
    pub gas: Option<u64>,
    /// Timelocked decisions: when the queued values may be executed (chain time).
    #[serde(default)]
    pub eta: Option<u64>,
    /// Why the step was skipped, or who else did it; or why it is being tried again.
    #[serde(default)]
    pub reason: Option<String>,
    /// How many times the step went back to `Ready` after a failure (see `retry.rs`).
    #[serde(default)]
    pub retries: u32,
    /// How many of its transactions were mined and reverted.
    #[serde(default)]
    pub reverted: u32,
    /// The least gas limit to send it with (after one of its transactions ran out of gas).
    #[serde(default)]
    pub gas_floor: Option<u64>,
    /// Unix seconds of the last change.
    pub updated: u64,
}

impl Record {
    /// A fresh record of `deployment`'s step `kind` for `epoch`, at `stage`, with no call,
    /// transaction or reason yet; nothing is stored until [`Store::put`].
    pub fn new(deployment: &str, kind: Kind, epoch: u64, stage: Stage) -> Self {
        Self {
            deployment: deployment.to_string(),
            kind,
            epoch,
            stage,
            proof: None,
            to: None,
            input: None,
            txs: Vec::new(),
            tx: None,
            block: None,
            gas: None,
            eta: None,
            reason: None,
            retries: 0,
            reverted: 0,
            gas_floor: None,
            updated: now(),
        }
    }
}

/// Unix seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A step's key: ordered by chain, controller, epoch.
pub fn key(chain_id: u64, controller: &str, epoch: u64, kind: Kind) -> String {
    format!("{chain_id}/{}/{epoch:020}/{}", controller.to_ascii_lowercase(), kind.name())
}

/// The step database of one state directory: `keeper.redb` (redb, ACID) and the proofs under
/// `proofs/`. Opening it takes the database's lock, so one keeper runs per state directory.
#[derive(Clone)]
pub struct Store {
    db: std::sync::Arc<Database>,
    dir: PathBuf,
}

fn db_err(e: impl std::fmt::Display) -> KeeperError {
    KeeperError::State(e.to_string())
}

impl Store {
    /// Opens (or creates) `dir/keeper.redb`. A second keeper on the same directory is
    /// refused: redb holds a lock on the file.
    pub fn open(dir: &Path) -> Result<Self, KeeperError> {
        std::fs::create_dir_all(dir.join("proofs")).map_err(|e| KeeperError::File { path: dir.into(), reason: e.to_string() })?;
        let path = dir.join("keeper.redb");
        let db = Database::create(&path).map_err(|e| KeeperError::File {
            path: path.clone(),
            reason: match e {
                redb::DatabaseError::DatabaseAlreadyOpen => {
                    "another keeper is running on this state directory (its database is locked); stop it, or give this one another state_dir".into()
                }
                other => other.to_string(),
            },
        })?;
        let txn = db.begin_write().map_err(db_err)?;
        txn.open_table(STEPS).map_err(db_err)?;
        txn.open_table(COUNTERS).map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        Ok(Self { db: std::sync::Arc::new(db), dir: dir.to_path_buf() })
    }

    /// Adds `by` to the counter under `key` (a metric and its labels, [`crate::metrics::CounterKey`])
    /// durably.
    pub fn add_count(&self, key: &str, by: u64) -> Result<(), KeeperError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut table = txn.open_table(COUNTERS).map_err(db_err)?;
            let now = table.get(key).map_err(db_err)?.map_or(0, |v| v.value());
            table.insert(key, now.saturating_add(by)).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    /// Every stored counter, in key order.
    pub fn counts(&self) -> Result<Vec<(String, u64)>, KeeperError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(COUNTERS).map_err(db_err)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db_err)? {
            let (k, v) = entry.map_err(db_err)?;
            out.push((k.value().to_string(), v.value()));
        }
        Ok(out)
    }

    /// Where a step's proof artifact is kept.
    pub fn proof_path(&self, chain_id: u64, controller: &str, epoch: u64) -> PathBuf {
        self.dir.join("proofs").join(format!("{chain_id}-{}-{epoch}.proof.json", controller.to_ascii_lowercase()))
    }

    /// The record under `key` (made by [`key`]), or `None` when that step was never created.
    pub fn get(&self, key: &str) -> Result<Option<Record>, KeeperError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(STEPS).map_err(db_err)?;
        let Some(value) = table.get(key).map_err(db_err)? else { return Ok(None) };
        serde_json::from_slice(value.value()).map(Some).map_err(|e| KeeperError::State(format!("record {key}: {e}")))
    }

    /// Writes `record` durably (the transaction is committed to disk when this returns).
    pub fn put(&self, key: &str, record: &Record) -> Result<(), KeeperError> {
        let mut record = record.clone();
        record.updated = now();
        let bytes = serde_json::to_vec(&record).map_err(db_err)?;
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut table = txn.open_table(STEPS).map_err(db_err)?;
            table.insert(key, bytes.as_slice()).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    /// Every record, in key order.
    pub fn all(&self) -> Result<Vec<(String, Record)>, KeeperError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(STEPS).map_err(db_err)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db_err)? {
            let (k, v) = entry.map_err(db_err)?;
            let record = serde_json::from_slice(v.value()).map_err(|e| KeeperError::State(format!("record {}: {e}", k.value())))?;
            out.push((k.value().to_string(), record));
        }
        Ok(out)
    }
}

/// The records of the keeper whose state is in `dir`, read while it is stopped (between two
/// `--once` rounds): how `zkpolicy live` checks each decision against what the keeper did.
pub fn read_records(dir: &Path) -> Result<Vec<(String, Record)>, KeeperError> {
    Store::open(dir)?.all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopening_in_key_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = Store::open(dir.path()).expect("open");
            let mut r = Record::new("a", Kind::Submit, 10, Stage::Ready);
            store.put(&key(1, "0xAB", 10, Kind::Submit), &r).expect("put");
            r.stage = Stage::Sent;
            r.txs.push(SentTx {
                hash: "0x01".into(),
                nonce: 3,
                max_fee_per_gas: 7,
                max_priority_fee_per_gas: 1,
                gas_limit: 21_000,
                raw: "02".into(),
                sent_at: 5,
                replaces: false,
            });
            store.put(&key(1, "0xab", 10, Kind::Submit), &r).expect("overwrite");
            store.put(&key(1, "0xab", 9, Kind::Submit), &Record::new("a", Kind::Submit, 9, Stage::Confirmed)).expect("put");
        }
        let store = Store::open(dir.path()).expect("reopen");
        let all = store.all().expect("all");
        assert_eq!(all.iter().map(|(_, r)| r.epoch).collect::<Vec<_>>(), [9, 10]);
        let got = store.get(&key(1, "0xab", 10, Kind::Submit)).expect("get").expect("present");
        assert_eq!((got.stage, got.txs[0].nonce), (Stage::Sent, 3));
        assert!(store.get(&key(1, "0xab", 11, Kind::Submit)).expect("get").is_none());
    }
}
