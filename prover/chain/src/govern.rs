//! The guardian's pause and governance's timelocked changes, as transactions.

use alloy::primitives::{keccak256, Address, U256};
use alloy::sol_types::SolCall;
use serde::Serialize;
use zkpolicy_contracts::controller::PolicyController::{self, Mode};

use super::ops::int;
use super::{ChainError, Client, Deployment, Sent};

/// A governed change: the controller call `schedule` queues and `execute` makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Parameter `index`'s rail (the fields of `PolicyController.Guardrail`).
    Guardrail {
        /// The parameter, in rail order.
        index: u64,
        /// The lowest value the parameter may take.
        min: i64,
        /// The highest value the parameter may take.
        max: i64,
        /// The largest change one decision may make, either way.
        max_step: i64,
        /// Steps smaller than this are dropped (0: off).
        dead_band: i64,
        /// The cap on the change within `window`, in bps of the value when the window
        /// began (0: off).
        max_change_bps: i64,
        /// The cap's window, in seconds (0 exactly when the cap is off).
        window: u64,
        /// Rails sharing a nonzero group move together or not at all.
        group: u8,
    },
    /// The controller's mode: what it does with a verified decision.
    Mode(Mode),
    /// The controller's timing (its epochs stay as deployed).
    Timing {
        /// A KPI snapshot older than this (seconds) is refused.
        max_snapshot_age: u64,
        /// Timelocked mode: seconds before a queued adjustment may execute.
        adjustment_delay: u64,
    },
    /// Another KPI source for the controller to read snapshots from.
    KpiSource(Address),
    /// Another verifier, and so another model: the controller then accepts proofs of the
    /// model the new verifier was generated for.
    Verifier(Address),
    /// Another guardian account.
    Guardian(Address),
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Guardrail { index, min, max, max_step, dead_band, max_change_bps, window, group } => {
                write!(f, "guardrail of parameter {index}: [{min}, {max}], step at most {max_step}")?;
                if *dead_band != 0 {
                    write!(f, ", steps under {dead_band} dropped")?;
                }
                if *max_change_bps != 0 {
                    write!(f, ", at most {max_change_bps} bps of change per {window} s")?;
                }
                if *group != 0 {
                    write!(f, ", moving with group {group} or not at all")?;
                }
                Ok(())
            }
            Change::Mode(mode) => write!(f, "mode {}", super::ops::mode_name(*mode)),
            Change::Timing { max_snapshot_age, adjustment_delay } => {
                write!(f, "timing: snapshots fresh for {max_snapshot_age} s, adjustments wait {adjustment_delay} s")
            }
            Change::KpiSource(a) => write!(f, "KPI source {a}"),
            Change::Verifier(a) => write!(f, "verifier {a}"),
            Change::Guardian(a) => write!(f, "guardian {a}"),
        }
    }
}

impl Change {
    /// The calldata of the governed setter: what `schedule` stores the hash of.
    pub fn calldata(&self) -> Vec<u8> {
        match self {
            Change::Guardrail { index, min, max, max_step, dead_band, max_change_bps, window, group } => {
                PolicyController::setGuardrailCall {
                    i: U256::from(*index),
                    g: PolicyController::Guardrail {
                        min: int(*min),
                        max: int(*max),
                        maxStep: int(*max_step),
                        deadBand: int(*dead_band),
                        maxChangeBps: int(*max_change_bps),
                        window: *window,
                        group: *group,
                    },
                }
                .abi_encode()
            }
            Change::Mode(mode) => PolicyController::setModeCall { mode_: *mode }.abi_encode(),
            Change::Timing { max_snapshot_age, adjustment_delay } => PolicyController::setTimingCall {
                timing_: PolicyController::Timing { maxSnapshotAge: *max_snapshot_age, adjustmentDelay: *adjustment_delay },
            }
            .abi_encode(),
            Change::KpiSource(a) => PolicyController::setKpiSourceCall { kpiSource_: *a }.abi_encode(),
            Change::Verifier(a) => PolicyController::setVerifierCall { verifier_: *a }.abi_encode(),
            Change::Guardian(a) => PolicyController::setGuardianCall { guardian_: *a }.abi_encode(),
        }
    }

    /// The id `schedule` gives it: keccak-256 of the calldata.
    pub fn id(&self) -> [u8; 32] {
        keccak256(self.calldata()).0
    }
}

/// What a governance transaction did.
#[derive(Clone, Debug, Serialize)]
pub struct Governed {
    /// The transaction hash.
    pub tx: String,
    /// The block it was mined in.
    pub block: u64,
    /// The gas it used.
    pub gas: u64,
    /// The change's id (`0x` hex).
    pub id: String,
    /// For `schedule`: unix seconds after which `execute` may make the change.
    pub eta: Option<u64>,
    /// For `execute`: the epoch of the queued decision the change cancelled (every change
    /// of the configuration cancels it: it was decided under the old one).
    pub cancelled_epoch: Option<u64>,
}

fn governed(sent: Sent, change: &Change, eta: Option<u64>, controller: Address) -> Governed {
    Governed {
        tx: sent.tx.to_string(),
        block: sent.block,
        gas: sent.gas,
        id: format!("0x{}", hex::encode(change.id())),
        eta,
        cancelled_epoch: super::ops::cancelled_epoch(&sent, controller),
    }
}

/// The guardian pauses the controller: no submission or execution until governance unpauses,
/// and the queued decision, if any, is cancelled ([`super::cancelled_epoch`] reads which).
pub fn pause(client: &Client, deployment: &Deployment) -> Result<Sent, ChainError> {
    client.send("pause", deployment.controller, PolicyController::pauseCall {}.abi_encode())
}

/// Governance lifts a pause.
pub fn unpause(client: &Client, deployment: &Deployment) -> Result<Sent, ChainError> {
    client.send("unpause", deployment.controller, PolicyController::unpauseCall {}.abi_encode())
}

/// A call governance makes: the contract and the calldata, sent from governance's account
/// (or proposed to it as a Safe transaction, [`super::safe`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GovernanceCall {
    /// The contract called: the controller, or the economy's timelock.
    pub to: Address,
    /// The calldata.
    pub data: Vec<u8>,
}

/// The call that queues `change` for the controller's governance delay. On a deployment with
/// the reference economy, a guardrail whose `[min, max]` leaves the economy's range for its
/// parameter is refused.
pub fn schedule_call(deployment: &Deployment, change: &Change) -> Result<GovernanceCall, ChainError> {
    check_against_economy(deployment, change)?;
    Ok(GovernanceCall { to: deployment.controller, data: PolicyController::scheduleCall { data: change.calldata().into() }.abi_encode() })
}

/// The call that makes a scheduled `change` once its delay has passed.
pub fn execute_call(deployment: &Deployment, change: &Change) -> GovernanceCall {
    GovernanceCall { to: deployment.controller, data: PolicyController::executeCall { data: change.calldata().into() }.abi_encode() }
}

/// The call that drops a scheduled `change`.
pub fn cancel_call(deployment: &Deployment, change: &Change) -> GovernanceCall {
    GovernanceCall { to: deployment.controller, data: PolicyController::cancelCall { id: change.id().into() }.abi_encode() }
}

/// Governance queues `change` for the controller's governance delay ([`schedule_call`]:
/// nothing is sent for a guardrail the economy could not follow).
pub fn schedule(client: &Client, deployment: &Deployment, change: &Change) -> Result<Governed, ChainError> {
    let call = schedule_call(deployment, change)?;
    let sent = client.send("governance schedule", call.to, call.data)?;
    let eta = client.call("schedule read", deployment.controller, PolicyController::scheduledAtCall(change.id().into()).abi_encode())?;
    let eta = PolicyController::scheduledAtCall::abi_decode_returns(&eta).map_err(|e| ChainError::Answer(format!("schedule read: {e}")))?;
    Ok(governed(sent, change, Some(eta), deployment.controller))
}

/// Governance makes a scheduled `change` once its delay has passed.
pub fn execute_change(client: &Client, deployment: &Deployment, change: &Change) -> Result<Governed, ChainError> {
    let call = execute_call(deployment, change);
    Ok(governed(client.send("governance execute", call.to, call.data)?, change, None, deployment.controller))
}

/// Governance drops a scheduled `change`.
pub fn cancel_change(client: &Client, deployment: &Deployment, change: &Change) -> Result<Governed, ChainError> {
    let call = cancel_call(deployment, change);
    Ok(governed(client.send("governance cancel", call.to, call.data)?, change, None, deployment.controller))
}

/// The controller's governance account, as the chain holds it (a Safe, where governance is one).
pub fn governance(client: &Client, deployment: &Deployment) -> Result<Address, ChainError> {
    let answer = client.call("governance read", deployment.controller, PolicyController::governanceCall {}.abi_encode())?;
    PolicyController::governanceCall::abi_decode_returns(&answer).map_err(|e| ChainError::Answer(format!("governance read: {e}")))
}

/// Refuses a guardrail the economy could not follow: one whose `[min, max]` leaves the
/// economy's range for its parameter (`super::economy::check_rail`).
pub fn check_against_economy(deployment: &Deployment, change: &Change) -> Result<(), ChainError> {
    let (Some(_), Change::Guardrail { index, min, max, .. }) = (&deployment.economy, change) else { return Ok(()) };
    let i = usize::try_from(*index).unwrap_or(usize::MAX);
    let Some(name) = deployment.parameters.get(i) else { return Ok(()) };
    super::economy::check_rail(i, name, *min, *max).map_err(|e| ChainError::Config(format!("guardrail {e}")))
}
