//! Transactions: each recorded step signed, broadcast, re-priced and confirmed, its revert
//! read as final or retried, and timelocked decisions queued for execution.

use super::lifecycle::{self, Mined, OnReceipt, WhenReady};
use super::*;

/// The gas of a no-op: a transfer of nothing to the sender's own account.
const NO_OP_GAS: u64 = 21_000;

/// A recorded transaction's hash.
fn stored_hash(tx: &crate::state::SentTx) -> Result<B256, KeeperError> {
    tx.hash.parse().map_err(|_| KeeperError::State(format!("stored hash {}", tx.hash)))
}

impl Keeper {
    /// Sends every ready step and drives every sent one; with `wait`, until none is in flight.
    pub(super) fn settle_open(&mut self, report: &mut RoundReport, wait: bool) -> Result<(), KeeperError> {
        let started = Instant::now();
        let longest = self.chains.values().map(|c| c.sender.resend_after).max().unwrap_or(60);
        loop {
            let keys: Vec<String> = self.open.iter().cloned().collect();
            let mut in_flight = false;
            let driven: BTreeSet<usize> = keys
                .iter()
                .filter_map(|k| self.store.get(k).ok().flatten())
                .filter_map(|r| self.served.iter().position(|s| s.name == r.deployment))
                .collect();
            self.read_views(driven);
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
            // A stalled chain (its head stopped under a waiting confirmation) ends the wait:
            // the round reports it, and /readyz says why, instead of waiting out the limit.
            let stalled = self.chains.values().any(|c| c.stalled.is_some());
            if !wait || !in_flight || stalled || started.elapsed() > Duration::from_secs(3 * longest + 30) {
                if in_flight {
                    report.waiting.push("transactions not yet confirmed".into());
                }
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Moves one open step forward; returns its stage after.
    pub(super) fn drive(&mut self, i: usize, key: &str, mut record: Record, report: &mut RoundReport) -> Result<Stage, KeeperError> {
        let view = self.view(i)?;
        let name = self.served[i].name.clone();
        let epoch = record.epoch;
        match record.stage {
            Stage::Ready => match lifecycle::when_ready(record.kind, epoch, &view) {
                WhenReady::DoneElsewhere => {
                    record.stage = Stage::DoneElsewhere;
                    record.reason = Some("another submitter decided the epoch first".into());
                    if record.kind == Kind::Submit {
                        self.metrics.skip(&name, "decided_elsewhere");
                        report.skipped.push(format!("{name}#{epoch}: decided elsewhere"));
                    }
                    self.put(key, &record)?;
                    Ok(record.stage)
                }
                WhenReady::EpochPassed => {
                    if record.kind != Kind::Submit {
                        record.stage = Stage::Skipped;
                        record.reason = Some(format!("epoch {epoch} ended before the step was sent"));
                        self.put(key, &record)?;
                    }
                    if self.store.get(&self.served[i].key(epoch, Kind::Submit))?.is_none_or(|r| !r.stage.is_final()) {
                        self.skip(i, epoch, &format!("epoch {epoch} ended before its proof was submitted"), "epoch_passed", report)?;
                    }
                    Ok(Stage::Skipped)
                }
                WhenReady::Paused => {
                    report.waiting.push(format!("{name}#{epoch}: paused"));
                    Ok(record.stage)
                }
                WhenReady::Send => self.send_step(i, key, record, report),
            },
            Stage::Sent => self.confirm(i, key, record, &view, report),
            stage => Ok(stage),
        }
    }

    /// The call a step makes: the contract and the input.
    pub(super) fn call_of(&self, i: usize, record: &Record) -> Result<(Address, Vec<u8>), KeeperError> {
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

    pub(super) fn send_step(&mut self, i: usize, key: &str, mut record: Record, report: &mut RoundReport) -> Result<Stage, KeeperError> {
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
        let tx = ctx.sender.sign(&mut ctx.endpoints, chain_id, to, &input, nonce, gas, fees).inspect_err(|_| {
            // Nothing was sent with this nonce (a remote signer refused, say): the next
            // transaction takes it, or the node would hold every later one behind a gap.
            ctx.sender.reset_nonce();
        })?;
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
    pub(super) fn prelude_reverts(
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
    pub(super) fn retry_later(
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
    pub(super) fn broadcast_latest(
        &mut self,
        i: usize,
        key: &str,
        record: &mut Record,
        report: &mut RoundReport,
    ) -> Result<Stage, KeeperError> {
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
            let hash = stored_hash(&last)?;
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

    /// Drives a `Sent` step: its receipt read and judged ([`lifecycle::on_receipt`]), or, none
    /// of its transactions mined, its nonce, its broadcast and its age checked ([`Self::unmined`]).
    pub(super) fn confirm(
        &mut self,
        i: usize,
        key: &str,
        record: Record,
        view: &View,
        report: &mut RoundReport,
    ) -> Result<Stage, KeeperError> {
        let s = &self.served[i];
        let ctx = self.chains.get_mut(&s.chain).ok_or_else(|| KeeperError::State("no chain".into()))?;
        let confirmations = ctx.sender.confirmations;
        // The transactions of the latest nonce: earlier nonces' ended (reverted, or taken).
        let current = record.txs.last().map(|t| t.nonce);
        let sent: Vec<(B256, u64, bool)> = record
            .txs
            .iter()
            .rev()
            .filter(|t| Some(t.nonce) == current)
            .map(|t| Ok((stored_hash(t)?, t.gas_limit, t.replaces)))
            .collect::<Result<_, KeeperError>>()?;
        for (hash, gas_limit, no_op) in sent {
            let Some(receipt) = ctx.endpoints.with(|c| c.receipt(hash))? else { continue };
            let head = ctx.endpoints.with(|c| c.block_number())?;
            let controller = s.record.controller;
            let eta = receipt
                .inner
                .logs()
                .iter()
                .filter(|l| l.address() == controller)
                .find_map(|l| PolicyController::AdjustmentQueued::decode_log_data(l.data()).ok())
                .map(|q| q.eta);
            let mined = Mined {
                hash,
                block: receipt.block_number.unwrap_or_default(),
                head,
                success: receipt.status(),
                gas_used: receipt.gas_used,
                gas_limit,
                eta,
            };
            let outcome = lifecycle::on_receipt(record.kind, record.epoch, record.reverted, confirmations, &mined, view.last);
            if outcome == OnReceipt::Wait {
                if let Some(why) = ctx.watch_head(&s.chain, head, &hash, confirmations) {
                    self.metrics.set_ready(Some(why));
                }
                return Ok(Stage::Sent);
            }
            ctx.head_since = None;
            ctx.stalled = None;
            failpoint(&format!("before_confirm_{}", record.kind.name()));
            // The no-op that replaced a pending submission: the step ends, skipped.
            if no_op {
                return self.replaced(i, key, record, mined, report);
            }
            return self.mined(i, key, record, mined, outcome, report);
        }
        self.unmined(i, key, record, view, report)
    }

    /// The no-op that replaced a step's pending submission is mined: the step is skipped
    /// (`epoch_passed`).
    fn replaced(&mut self, i: usize, key: &str, mut record: Record, mined: Mined, report: &mut RoundReport) -> Result<Stage, KeeperError> {
        let name = self.served[i].name.clone();
        let epoch = record.epoch;
        let why = format!("epoch {epoch} ended with its submission pending: replaced by the no-op {} in block {}", mined.hash, mined.block);
        tracing::warn!(deployment = %name, epoch, tx = %mined.hash, "{why}");
        self.metrics.skip(&name, "epoch_passed");
        report.skipped.push(format!("{name}#{epoch}: {why}"));
        record.stage = Stage::Skipped;
        record.reason = Some(why);
        record.tx = Some(mined.hash.to_string());
        record.block = Some(mined.block);
        record.gas = Some(mined.gas_used);
        self.put(key, &record)?;
        Ok(Stage::Skipped)
    }

    /// Applies the verdict on a step's mined transaction: the record, the metrics, the log and
    /// the round's report.
    fn mined(
        &mut self,
        i: usize,
        key: &str,
        mut record: Record,
        mined: Mined,
        outcome: OnReceipt,
        report: &mut RoundReport,
    ) -> Result<Stage, KeeperError> {
        let s = &self.served[i];
        let (name, epoch, chain) = (s.name.clone(), record.epoch, s.chain.clone());
        let (hash, block) = (mined.hash, mined.block);
        let stage = match outcome {
            OnReceipt::Wait => return Ok(Stage::Sent),
            OnReceipt::Retry { floor } => {
                let why = format!("the transaction {hash} reverted in block {block}{}", if floor.is_some() { " (out of gas)" } else { "" });
                let ctx = self.chains.get_mut(&chain).ok_or_else(|| KeeperError::State("no chain".into()))?;
                if floor.is_some() {
                    // Its estimate was wrong: ask the next endpoint first.
                    ctx.endpoints.demote(&format!("the transaction {hash} ran out of the gas it estimated"));
                }
                let cap = ctx.sender.max_gas_limit;
                record.reverted += 1;
                record.gas_floor = floor.map(|f| f.min(cap)).or(record.gas_floor);
                return self.retry_later(i, key, record, "reverted", why, report);
            }
            OnReceipt::Reverted { stage } => {
                record.reason = Some(format!("the transaction {hash} reverted in block {block} ({} times in all)", record.reverted + 1));
                if matches!(record.kind, Kind::Submit | Kind::Execute) {
                    self.metrics.skip(&name, if stage == Stage::DoneElsewhere { "decided_elsewhere" } else { "reverted" });
                    report.skipped.push(format!("{name}#{epoch}: reverted"));
                }
                tracing::warn!(deployment = %name, epoch, tx = %hash, "reverted");
                stage
            }
            OnReceipt::Confirmed => {
                record.eta = mined.eta.or(record.eta);
                match record.kind {
                    Kind::Submit => {
                        self.metrics.confirmed(&name, epoch, mined.gas_used);
                        report.confirmed.push(format!("{name}#{epoch}"));
                    }
                    Kind::Execute => {
                        self.metrics.count(CounterKey::Executed(name.clone()));
                        report.executed.push(format!("{name}#{epoch}"));
                    }
                    Kind::Tick | Kind::Snapshot | Kind::Commit => {}
                }
                let kind = record.kind.name();
                tracing::info!(deployment = %name, epoch, tx = %hash, block, gas = mined.gas_used, kind, "confirmed");
                Stage::Confirmed
            }
        };
        record.stage = stage;
        record.tx = Some(hash.to_string());
        record.block = Some(block);
        record.gas = Some(mined.gas_used);
        self.put(key, &record)?;
        Ok(stage)
    }

    /// A `Sent` step none of whose transactions is mined: its nonce taken by another
    /// transaction, the transaction lost (broadcast again), still young (wait), or re-priced.
    fn unmined(&mut self, i: usize, key: &str, mut record: Record, view: &View, report: &mut RoundReport) -> Result<Stage, KeeperError> {
        let s = &self.served[i];
        let (name, epoch) = (s.name.clone(), record.epoch);
        let ctx = self.chains.get_mut(&s.chain).ok_or_else(|| KeeperError::State("no chain".into()))?;
        // None of its transactions is mined.
        let Some(last) = record.txs.last().cloned() else {
            record.stage = Stage::Ready;
            self.put(key, &record)?;
            return Ok(Stage::Ready);
        };
        let from = ctx.sender.from;
        let mined_nonce = ctx.endpoints.with(|c| c.nonce(from, false))?;
        if mined_nonce > last.nonce {
            // One of ours may have been mined since its receipt was looked for: then the next
            // pass reads it, rather than taking it for another transaction's.
            for tx in record.txs.iter().filter(|t| t.nonce == last.nonce) {
                let hash = stored_hash(tx)?;
                if ctx.endpoints.with(|c| c.receipt(hash))?.is_some() {
                    return Ok(Stage::Sent);
                }
                // The endpoint counts the nonce mined but has no receipt of ours: another
                // endpoint that has one shows it hides receipts, and it is passed over.
                if ctx.endpoints.elsewhere(|c| c.receipt(hash)).is_some() {
                    ctx.endpoints.demote("it hides the receipt of a mined transaction");
                    return Ok(Stage::Sent);
                }
            }
            // Another transaction took the nonce (and none of ours was mined).
            ctx.sender.reset_nonce();
            record.stage = lifecycle::after_nonce_taken(record.kind, epoch, view.last);
            let decided = record.stage == Stage::DoneElsewhere;
            record.reason = Some(format!("nonce {} was used by another transaction", last.nonce));
            tracing::warn!(deployment = %name, epoch, nonce = last.nonce, "nonce taken by another transaction");
            if decided && record.kind == Kind::Submit {
                self.metrics.skip(&name, "decided_elsewhere");
            }
            self.put(key, &record)?;
            return Ok(record.stage);
        }
        let hash = stored_hash(&last)?;
        if !ctx.endpoints.with(|c| c.knows(hash))? {
            // Lost (a restart before the broadcast, a node that dropped it): the same bytes
            // again, unless the node refuses them.
            tracing::info!(deployment = %name, epoch, tx = %last.hash, "re-broadcasting");
            return self.broadcast_latest(i, key, &mut record, report);
        }
        // A submission that can only revert now is replaced at once by a no-op; a no-op, like
        // any transaction, is re-priced when it waits too long.
        let replace = !last.replaces && lifecycle::replace_pending(record.kind, epoch, view);
        if !replace && state::now().saturating_sub(last.sent_at) < ctx.sender.resend_after {
            return Ok(Stage::Sent);
        }
        let suggested = ctx.sender.price(&mut ctx.endpoints)?;
        let Some(fees) = ctx.sender.bump((last.max_fee_per_gas, last.max_priority_fee_per_gas), suggested) else {
            tracing::warn!(deployment = %name, epoch, tx = %last.hash, "not mined, and already at the fee cap: waiting");
            self.metrics.count(CounterKey::FeeCapWait(name.clone()));
            return Ok(Stage::Sent);
        };
        let no_op = replace || last.replaces;
        let (to, input, gas_limit) = if no_op {
            (ctx.sender.from, Vec::new(), NO_OP_GAS)
        } else {
            let (to, input) = self.call_of(i, &record)?;
            (to, input, last.gas_limit)
        };
        let s = &self.served[i];
        let chain_id = s.record.chain_id;
        let ctx = self.chains.get_mut(&s.chain).ok_or_else(|| KeeperError::State("no chain".into()))?;
        let mut tx = ctx.sender.sign(&mut ctx.endpoints, chain_id, to, &input, last.nonce, gas_limit, fees)?;
        tx.replaces = no_op;
        record.txs.push(tx.clone());
        self.put(key, &record)?;
        let stage = self.broadcast_latest(i, key, &mut record, report)?;
        self.metrics.count(CounterKey::Resent(name.clone()));
        if replace {
            tracing::warn!(deployment = %name, epoch, tx = %tx.hash, nonce = tx.nonce, "the epoch ended with the submission pending: replaced by a no-op");
            failpoint("after_replace");
        } else {
            tracing::info!(deployment = %name, epoch, tx = %tx.hash, max_fee_per_gas = fees.0, "re-priced and resent");
        }
        Ok(stage)
    }
}

impl ChainCtx {
    /// A confirmation waits on `head`: when the head has not moved for `resend_after_secs`,
    /// the chain is stalled for this keeper. The usual cause is a development node that mines
    /// only when a transaction arrives (automine), where a transaction never gets a second
    /// confirmation; the keeper says so once and turns not ready, instead of waiting silently.
    /// Returns the reason when the chain has just been found stalled.
    fn watch_head(&mut self, chain: &str, head: u64, hash: &B256, confirmations: u64) -> Option<String> {
        match self.head_since {
            Some((seen, since)) if seen == head => {
                let waited = since.elapsed().as_secs();
                if waited >= self.sender.resend_after && self.stalled.is_none() {
                    let why = format!(
                        "chain {chain}: no new block for {waited} s while {hash} waits for {confirmations} confirmations \
                         (a development node that mines only when a transaction arrives never gives more than one: \
                         set confirmations = 1 for it)"
                    );
                    tracing::warn!("{why}");
                    self.stalled = Some(why.clone());
                    return Some(why);
                }
            }
            _ => {
                self.head_since = Some((head, Instant::now()));
                self.stalled = None;
            }
        }
        None
    }
}
