//! The keeper's part of a live epoch: its round, driven by the caller's [`KeeperRunner`],
//! and the checks on the decision it submitted, read back from the chain: the proven
//! outputs against the integer reference, the applied parameters against the guard twin,
//! the proof against halo2's native verifier.

use std::path::Path;

use alloy::sol_types::SolEvent;
use zkpolicy_contracts::controller::{unpack_int64, PolicyController};
use zkpolicy_lab::sim::{guard_at, Anchor};
use zkpolicy_model::{Guardrail, Observation, QuantizedKpis};

use super::{EpochSeconds, KeeperRound, KeeperRunner, Live, LiveEpoch, Session};
use crate::attackers::Scene;
use crate::market::{Plan, State};
use crate::population::GasBook;
use crate::LiveError;
use zkpolicy_chain::{self as chain, Client, Deployment};
use zkpolicy_keeper::state::{Kind, Stage};
use zkpolicy_prover::artifact::ProofArtifact;

/// The controller's rails and cap anchors, as the guard twin tracks them.
pub(super) struct Twin {
    rails: Vec<Guardrail>,
    anchors: Vec<Anchor>,
}

impl Twin {
    /// The twin of a freshly deployed controller: its rails, no anchor set yet.
    pub(super) fn new(rails: Vec<Guardrail>) -> Self {
        let anchors = vec![Anchor::default(); rails.len()];
        Self { rails, anchors }
    }
}

/// A checked decision: its epoch's record (the agents' part still empty) and the gas of
/// the snapshot the keeper took for it.
pub(super) struct Decided {
    pub(super) snapshot_gas: u64,
    pub(super) record: LiveEpoch,
}

impl Live<'_> {
    /// The keeper's round of `epoch` (after the attackers' opening move) and its checked
    /// decision; the snapshot's and the submission's gas go to `book`.
    pub(super) fn keeper_round(
        &self,
        keeper: &mut dyn KeeperRunner,
        s: &mut Session,
        epoch: u64,
        book: &mut GasBook,
    ) -> Result<(KeeperRound, Decided), LiveError> {
        let params_before = chain::parameters(self.client, &s.deployment)?;
        let scene = Scene { client: self.client, deployment: &s.deployment, contracts: &s.contracts, epoch };
        s.attackers.at_epoch_start(&scene, &mut s.population)?;
        let round = keeper.round(epoch)?;
        let decided = self.decision(&s.deployment, &s.state_dir, epoch, &params_before, &mut s.twin, &mut s.run.failures)?;
        book.add("KPI source", decided.snapshot_gas, true);
        book.add("controller", decided.record.decision_gas, decided.record.verified_on_chain);
        Ok((round, decided))
    }

    /// The keeper's decision of `epoch`, read back from the chain and checked: the proven
    /// outputs against the integer reference, the applied parameters against the guard twin,
    /// the proof against halo2's native verifier.
    fn decision(
        &self,
        deployment: &Deployment,
        state_dir: &Path,
        epoch: u64,
        params_before: &[i64],
        twin: &mut Twin,
        failures: &mut Vec<String>,
    ) -> Result<Decided, LiveError> {
        let client = self.client;
        let records = zkpolicy_keeper::state::read_records(state_dir)?;
        let find = |kind: Kind| records.iter().map(|(_, r)| r).find(|r| r.epoch == epoch && r.kind == kind);
        let submitted = find(Kind::Submit)
            .filter(|r| r.stage == Stage::Confirmed)
            .ok_or_else(|| LiveError::Keeper(format!("epoch {epoch}: the keeper confirmed no submission")))?;
        let snapshot_gas = find(Kind::Snapshot).and_then(|r| r.gas).unwrap_or(0);
        let tx = submitted.tx.clone().unwrap_or_default();
        let hash = tx.parse().map_err(|_| LiveError::Keeper(format!("epoch {epoch}: the keeper recorded no transaction hash")))?;
        let receipt =
            client.receipt(hash)?.ok_or_else(|| LiveError::Keeper(format!("epoch {epoch}: no receipt for the submission {tx}")))?;
        let decision = receipt
            .inner
            .logs()
            .iter()
            .filter(|l| l.address() == deployment.controller)
            .find_map(|l| PolicyController::Decision::decode_log_data(l.data()).ok())
            .ok_or_else(|| LiveError::Keeper(format!("epoch {epoch}: the submission {tx} logged no Decision")))?;
        let unpack = |b: &[u8]| unpack_int64(b).ok_or_else(|| LiveError::Keeper(format!("epoch {epoch}: a malformed Decision log")));
        let (outputs, guarded) = (unpack(&decision.proposed)?, unpack(&decision.guarded)?);

        let card = self.card();
        let kpis = chain::committed_kpis(client, deployment, epoch)?
            .ok_or_else(|| LiveError::Keeper(format!("epoch {epoch}: no snapshot on chain")))?;
        let kpi_values = card.inputs().iter().zip(&kpis).map(|(spec, &q)| q as f64 / 2f64.powi(spec.scale_bits as i32)).collect();
        let read_params = if card.parameters().is_empty() { Vec::new() } else { params_before.to_vec() };
        let input = Observation::new(card, QuantizedKpis::new(card, kpis.clone())?, read_params)?;
        let reference = zkpolicy_model::infer(self.model, input)?.outputs;
        if outputs != reference {
            failures.push(format!("epoch {epoch}: proven outputs {outputs:?}, the integer reference {reference:?}"));
        }
        let block = receipt.block_number.unwrap_or_default();
        let now = block_time(client, block)?;
        // The controller guards each output's parameter change (its map in the card).
        let guard = guard_at(params_before, &card.deltas(&outputs)?, &twin.rails, &twin.anchors, now)?;
        if guard.values != guarded {
            failures.push(format!("epoch {epoch}: the controller applied {guarded:?}, the guard twin {:?}", guard.values));
        }
        twin.anchors = guard.anchors;

        let verified_native = match &submitted.proof {
            Some(path) => self.verify_native(path, &outputs)?,
            None => false,
        };
        if !verified_native {
            failures.push(format!("epoch {epoch}: the keeper's proof does not verify natively"));
        }
        Ok(Decided {
            snapshot_gas,
            record: LiveEpoch {
                index: 0,
                epoch,
                kpis,
                kpi_values,
                params_before: params_before.to_vec(),
                outputs,
                reference,
                guarded,
                twin: guard.values,
                guardrail_hit: decision.guardrailHit,
                economy_params: Vec::new(),
                decision_tx: tx,
                decision_gas: receipt.gas_used,
                verified_on_chain: receipt.status(),
                verified_native,
                keeper_restarts: 0,
                market: State::default(),
                plan: Plan::default(),
                transactions: 0,
                reverted: 0,
                seconds: EpochSeconds::default(),
            },
        })
    }

    fn verify_native(&self, path: &Path, outputs: &[i64]) -> Result<bool, LiveError> {
        let artifact = ProofArtifact::load(path)?;
        let public = artifact.public_inputs(self.card(), self.prepared.circuit.shape().k)?;
        let bytes = artifact.proof_bytes()?;
        Ok(public.outputs == outputs
            && zkpolicy_prover::proof::verify(&self.prepared.params, self.prepared.pk.get_vk(), &public, &bytes).is_ok())
    }
}

/// The timestamp of block `number`.
fn block_time(client: &Client, number: u64) -> Result<u64, LiveError> {
    let block = client.request("eth_getBlockByNumber", serde_json::json!([format!("0x{number:x}"), false]))?;
    block["timestamp"]
        .as_str()
        .and_then(|t| u64::from_str_radix(t.trim_start_matches("0x"), 16).ok())
        .ok_or_else(|| LiveError::Chain(chain::ChainError::Answer(format!("block {number} has no timestamp"))))
}
