//! `commit-kpis`, `submit` and `status` against a deployment.

use alloy::primitives::{Address, I256};
use alloy::sol_types::{SolCall, SolEvent};
use serde::Serialize;
use zkpolicy_circuits::PublicInputs;
use zkpolicy_contracts::controller::PolicyController::{self, Mode};
use zkpolicy_contracts::controller::{self, ReporterKpiSource};
use zkpolicy_model::QuantizedKpis;

use super::{ChainError, Client, Deployment, Sent};

pub(super) fn int(v: i64) -> I256 {
    I256::try_from(v).unwrap_or_default()
}

fn small(v: I256, what: &str) -> Result<i64, ChainError> {
    i64::try_from(v).map_err(|_| ChainError::Answer(format!("{what} {v} does not fit 64 bits")))
}

fn smalls(values: &[I256], what: &str) -> Result<Vec<i64>, ChainError> {
    values.iter().map(|v| small(*v, what)).collect()
}

/// Commits the quantized KPI vector for `epoch` to the deployment's KPI source.
/// `kpis` were quantized and range-checked for the deployed model (the deployment record
/// was checked against the same model card).
pub fn commit_kpis(client: &Client, deployment: &Deployment, epoch: u64, kpis: &QuantizedKpis) -> Result<Sent, ChainError> {
    let call = ReporterKpiSource::commitKpisCall { epoch, kpis: kpis.iter().map(|v| int(*v)).collect() };
    client.send("KPI commitment", deployment.kpi_source, call.abi_encode())
}

/// The KPI vector committed on chain for `epoch`, or `None`.
pub fn committed_kpis(client: &Client, deployment: &Deployment, epoch: u64) -> Result<Option<Vec<i64>>, ChainError> {
    let out = client.call("KPI snapshot read", deployment.kpi_source, ReporterKpiSource::snapshotCall { epoch }.abi_encode())?;
    let snapshot = ReporterKpiSource::snapshotCall::abi_decode_returns(&out).map_err(|e| ChainError::Answer(e.to_string()))?;
    if snapshot.postedAt == 0 {
        return Ok(None);
    }
    Ok(Some(smalls(&snapshot.kpis, "committed KPI")?))
}

/// Calls the view `call` on the contract at `to` and decodes its return value; `what`
/// names the read in errors (`"parameters read"`).
pub fn read<C: SolCall>(client: &Client, what: &str, to: Address, call: C) -> Result<C::Return, ChainError> {
    decode::<C>(what, client.call(what, to, call.abi_encode()))
}

/// Decodes the answer to a `C` call (one of [`Client::calls`]' answers, or a single call's):
/// its error as it came, or its return value; `what` names the read in errors.
pub fn decode<C: SolCall>(what: &str, answer: Result<alloy::primitives::Bytes, ChainError>) -> Result<C::Return, ChainError> {
    C::abi_decode_returns(&answer?).map_err(|e| ChainError::Answer(format!("{what}: {e}")))
}

/// The commitment of the model whose verifier the controller at `controller` uses.
pub fn model_commitment(client: &Client, controller: Address) -> Result<[u8; 32], ChainError> {
    Ok(read(client, "model commitment read", controller, PolicyController::modelCommitmentCall {})?.0)
}

/// The controller's current parameters, in rail order: what a model that reads the
/// parameters must be proven on (the controller rebuilds them into the public inputs).
pub fn parameters(client: &Client, deployment: &Deployment) -> Result<Vec<i64>, ChainError> {
    smalls(&read(client, "parameters read", deployment.controller, PolicyController::parametersCall {})?, "parameter")
}

/// The epoch the controller will decide now (0 before its genesis).
pub fn current_epoch(client: &Client, deployment: &Deployment) -> Result<u64, ChainError> {
    read(client, "current epoch read", deployment.controller, PolicyController::currentEpochCall {})
}

/// The outcome of a submitted proof.
#[derive(Clone, Debug, Serialize)]
pub struct Submitted {
    /// The submission's transaction hash.
    pub tx: String,
    /// The block it was mined in.
    pub block: u64,
    /// The gas it used, the on-chain proof verification included.
    pub gas: u64,
    /// The epoch the controller decided (from its `Decision` event).
    pub epoch: u64,
    /// The controller's mode at the decision: `advisory`, `timelocked` or `autonomous`.
    pub mode: &'static str,
    /// The proven outputs, in the model's output order.
    pub proposed: Vec<i64>,
    /// The parameter values after the guardrails, in rail order.
    pub guarded: Vec<i64>,
    /// A guardrail bound at least one value (clamped it, dropped its step, or held its group).
    pub guardrail_hit: bool,
    /// The parameters now in force, when the mode applied them.
    pub applied: Option<Vec<i64>>,
    /// Timelocked mode: when the queued values may be executed.
    pub queued_until: Option<u64>,
    /// Timelocked mode: the last moment they may be executed (unix seconds, inclusive).
    pub queued_deadline: Option<u64>,
}

pub(crate) fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Advisory => "advisory",
        Mode::Timelocked => "timelocked",
        Mode::Autonomous => "autonomous",
        _ => "unknown",
    }
}

/// Sends `submitAdjustment(epoch, outputs, proof)`. Before sending, the KPIs the
/// proof was made on are compared with the chain's, so a mismatch is named
/// instead of surfacing as a bare `InvalidProof`.
pub fn submit(client: &Client, deployment: &Deployment, public: &PublicInputs, proof: &[u8]) -> Result<Submitted, ChainError> {
    check_submittable(client, deployment, public)?;
    let call = PolicyController::submitAdjustmentCall {
        epoch: public.epoch,
        outputs: public.outputs.iter().map(|v| int(*v)).collect(),
        proof: proof.to_vec().into(),
    };
    let sent = client.send("adjustment", deployment.controller, call.abi_encode())?;
    submitted(&sent, deployment.controller)
}

/// Refuses a proof the controller would reject for its statement: not the current epoch,
/// KPIs other than those committed for it, or parameters other than the controller holds.
fn check_submittable(client: &Client, deployment: &Deployment, public: &PublicInputs) -> Result<(), ChainError> {
    let current = current_epoch(client, deployment)?;
    if public.epoch != current {
        return Err(ChainError::Rejected {
            reason: format!(
                "this proof is for epoch {}, but the controller decides only the current epoch, {current}; \
                 prove the current epoch's snapshot instead",
                public.epoch
            ),
        });
    }
    match committed_kpis(client, deployment, public.epoch)? {
        None => {
            return Err(ChainError::Rejected {
                reason: format!("no KPIs are committed on chain for epoch {}; run `zkpolicy commit-kpis` first", public.epoch),
            })
        }
        Some(chain) if chain.as_slice() != public.kpis.values() => {
            let i = chain.iter().zip(public.kpis.iter()).position(|(a, b)| a != b).unwrap_or(0);
            return Err(ChainError::Rejected {
                reason: format!(
                    "the proof was made on other KPIs than those committed for epoch {}: KPI {i} is {} on chain and {} in the proof",
                    public.epoch,
                    chain.get(i).copied().unwrap_or_default(),
                    public.kpis.get(i).copied().unwrap_or_default()
                ),
            });
        }
        Some(_) => {}
    }
    if !public.parameters.is_empty() {
        let chain = parameters(client, deployment)?;
        if chain != public.parameters {
            let i = chain.iter().zip(&public.parameters).position(|(a, b)| a != b).unwrap_or(0);
            return Err(ChainError::Rejected {
                reason: format!(
                    "the proof was made on other parameters than the controller holds: parameter {i} is {} on chain and {} in the proof; \
                     prove again on the current parameters",
                    chain.get(i).copied().unwrap_or_default(),
                    public.parameters.get(i).copied().unwrap_or_default()
                ),
            });
        }
    }
    Ok(())
}

/// The submission's outcome, read from the `Decision` (and `AdjustmentQueued`) events the
/// controller logged in `sent`.
fn submitted(sent: &Sent, controller_address: Address) -> Result<Submitted, ChainError> {
    let mut decision = None;
    let (mut queued_until, mut queued_deadline) = (None, None);
    for log in &sent.logs {
        if log.address() != controller_address {
            continue;
        }
        if let Ok(d) = PolicyController::Decision::decode_log_data(log.data()) {
            decision = Some(d);
        } else if let Ok(q) = PolicyController::AdjustmentQueued::decode_log_data(log.data()) {
            (queued_until, queued_deadline) = (Some(q.eta), Some(q.deadline));
        }
    }
    let decision = decision.ok_or_else(|| ChainError::Answer("the adjustment's receipt has no Decision event".into()))?;
    let values = |packed: &[u8], what: &str| {
        controller::unpack_int64(packed)
            .ok_or_else(|| ChainError::Answer(format!("the Decision event's {what} values are not packed int64")))
    };
    let guarded = values(&decision.guarded, "guarded")?;
    // In autonomous mode the decision's transaction applies the guarded values.
    let applied = (decision.mode == Mode::Autonomous).then(|| guarded.clone());
    Ok(Submitted {
        tx: sent.tx.to_string(),
        block: sent.block,
        gas: sent.gas,
        epoch: decision.epoch,
        mode: mode_name(decision.mode),
        proposed: values(&decision.proposed, "proposed")?,
        guarded,
        guardrail_hit: decision.guardrailHit,
        applied,
        queued_until,
        queued_deadline,
    })
}

/// Timelocked mode: applies the adjustment queued for `epoch` once its delay has
/// passed and before its deadline (anyone may call it). Returns the transaction and the
/// applied values.
pub fn execute(client: &Client, deployment: &Deployment, epoch: u64) -> Result<(Sent, Vec<i64>), ChainError> {
    let sent = client.send("queued adjustment", deployment.controller, PolicyController::executeAdjustmentCall { epoch }.abi_encode())?;
    let applied = sent
        .logs
        .iter()
        .filter(|log| log.address() == deployment.controller)
        .find_map(|log| PolicyController::ParametersApplied::decode_log_data(log.data()).ok())
        .ok_or_else(|| ChainError::Answer("the execution's receipt has no ParametersApplied event".into()))?;
    let values = controller::unpack_int64(&applied.values)
        .ok_or_else(|| ChainError::Answer("the ParametersApplied values are not packed int64".into()))?;
    Ok((sent, values))
}

/// The controller's state as read from the chain.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Status {
    /// The parameters in force, in rail order.
    pub parameters: Vec<i64>,
    /// The last epoch decided (0: none yet).
    pub last_epoch: u64,
    /// The epoch the controller decides now (0 before its genesis).
    pub current_epoch: u64,
    /// When epoch 1 starts (unix seconds).
    pub genesis: u64,
    /// Seconds an epoch lasts.
    pub epoch_length: u64,
    /// `advisory`, `timelocked` or `autonomous`.
    pub mode: &'static str,
    /// The guardian paused the controller: nothing is submitted or executed until
    /// governance unpauses.
    pub paused: bool,
    /// The commitment (`0x` hex) of the model whose proofs the installed verifier accepts.
    pub model_commitment: String,
    /// The installed model reads the parameters: they are public inputs of every proof,
    /// filled by the controller from its own storage.
    pub parameters_are_public_inputs: bool,
    /// One per parameter, in the deployment's order.
    pub guardrails: Vec<RailStatus>,
    /// A KPI snapshot older than this (seconds) is refused.
    pub max_snapshot_age: u64,
    /// Timelocked mode: seconds before a queued adjustment may execute.
    pub adjustment_delay: u64,
    /// The governance account (EIP-55).
    pub governance: String,
    /// Seconds between scheduling and executing a governance change.
    pub governance_delay: u64,
    /// The guardian account, who can only pause (EIP-55).
    pub guardian: String,
    /// The verifier the controller calls now (EIP-55); governance may have replaced the
    /// deployed one.
    pub verifier: String,
    /// The KPI source the controller reads now (EIP-55); governance may have replaced the
    /// deployed one.
    pub kpi_source: String,
    /// The chain's latest block time (unix seconds), which epochs and ages are measured by.
    pub chain_time: u64,
    /// The current epoch's KPI snapshot: when it was posted (`None`: not yet) and whether a
    /// submission would still accept it.
    pub snapshot_posted_at: Option<u64>,
    /// The snapshot is no older than `max_snapshot_age`, so a submission would accept it.
    pub snapshot_fresh: bool,
    /// A Timelocked decision waiting for its delay.
    pub queued: Option<Queued>,
}

/// One parameter's guardrail as the controller holds it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RailStatus {
    /// The lowest value the parameter may take.
    pub min: i64,
    /// The highest value the parameter may take.
    pub max: i64,
    /// The largest change one decision may make (either way).
    pub max_step: i64,
    /// Steps smaller than this are dropped (0: off).
    pub dead_band: i64,
    /// The cap on the change within `window` seconds, in basis points (0: off).
    pub max_change_bps: i64,
    /// The cap's window, in seconds (0: off).
    pub window: u64,
    /// Where the current cap window began (capped rails, once a window has begun).
    pub anchor: Option<AnchorStatus>,
    /// Rails sharing a nonzero group move together or not at all (0: alone).
    pub group: u8,
}

/// Where a capped rail's current window began.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AnchorStatus {
    /// The parameter's value when the window began: the cap is `max_change_bps` of it.
    pub value: i64,
    /// Unix seconds.
    pub since: u64,
}

/// A Timelocked decision queued for execution.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Queued {
    /// The epoch it decided.
    pub epoch: u64,
    /// The guarded values `execute` will apply, in rail order.
    pub values: Vec<i64>,
    /// Unix seconds after which `execute` applies it.
    pub eta: u64,
    /// Unix seconds after which it can no longer be executed (inclusive).
    pub deadline: u64,
    /// The deadline has passed: it will never execute.
    pub expired: bool,
}

/// Reads the controller's whole state, `zkpolicy status`'s answer: parameters, rails and
/// anchors, schedule, roles, the current snapshot's freshness and any queued decision.
pub fn status(client: &Client, deployment: &Deployment) -> Result<Status, ChainError> {
    let to = deployment.controller;
    let parameters = read(client, "parameters read", to, PolicyController::parametersCall {})?;
    let guardrails = (0..parameters.len())
        .map(|i| {
            let g = read(client, "guardrail read", to, PolicyController::guardrailCall { i: alloy::primitives::U256::from(i) })?;
            let anchor = if g.maxChangeBps.is_zero() {
                None
            } else {
                let a = read(client, "anchor read", to, PolicyController::anchorCall { i: alloy::primitives::U256::from(i) })?;
                (a.since != 0).then_some(AnchorStatus { value: small(a.anchorValue, "anchor")?, since: a.since })
            };
            Ok(RailStatus {
                min: small(g.min, "guardrail")?,
                max: small(g.max, "guardrail")?,
                max_step: small(g.maxStep, "guardrail")?,
                dead_band: small(g.deadBand, "guardrail")?,
                max_change_bps: small(g.maxChangeBps, "guardrail")?,
                window: g.window,
                anchor,
                group: g.group,
            })
        })
        .collect::<Result<Vec<_>, ChainError>>()?;
    let timing = read(client, "timing read", to, PolicyController::timingCall {})?;
    let last_epoch = read(client, "last epoch read", to, PolicyController::lastEpochCall {})?;
    let current_epoch = current_epoch(client, deployment)?;
    let chain_time = client.chain_time()?;
    // The source the controller reads now (governance may have replaced the deployed one).
    let kpi_source = read(client, "KPI source read", to, PolicyController::kpiSourceCall {})?;
    let out = client.call("KPI snapshot read", kpi_source, ReporterKpiSource::snapshotCall { epoch: current_epoch }.abi_encode())?;
    let posted_at = ReporterKpiSource::snapshotCall::abi_decode_returns(&out).map_err(|e| ChainError::Answer(e.to_string()))?.postedAt;
    let snapshot_posted_at = (posted_at != 0).then_some(posted_at);
    let queued = read(client, "queued adjustment read", to, PolicyController::queuedAdjustmentCall { epoch: last_epoch })?;
    let queued = if queued.eta == 0 {
        None
    } else {
        Some(Queued {
            epoch: last_epoch,
            values: smalls(&queued.values, "queued value")?,
            eta: queued.eta,
            deadline: queued.deadline,
            expired: chain_time > queued.deadline,
        })
    };
    let address = |a: Address| a.to_checksum(None);
    Ok(Status {
        parameters: smalls(&parameters, "parameter")?,
        last_epoch,
        current_epoch,
        genesis: read(client, "genesis read", to, PolicyController::genesisCall {})?,
        epoch_length: read(client, "epoch length read", to, PolicyController::epochLengthCall {})?,
        mode: mode_name(read(client, "mode read", to, PolicyController::modeCall {})?),
        parameters_are_public_inputs: read(client, "model card read", to, PolicyController::parametersArePublicInputsCall {})?,
        paused: read(client, "paused read", to, PolicyController::pausedCall {})?,
        model_commitment: format!("0x{}", hex::encode(model_commitment(client, to)?)),
        guardrails,
        max_snapshot_age: timing.maxSnapshotAge,
        adjustment_delay: timing.adjustmentDelay,
        governance: address(read(client, "governance read", to, PolicyController::governanceCall {})?),
        governance_delay: read(client, "governance delay read", to, PolicyController::governanceDelayCall {})?,
        guardian: address(read(client, "guardian read", to, PolicyController::guardianCall {})?),
        verifier: address(read(client, "verifier read", to, PolicyController::verifierCall {})?),
        kpi_source: address(kpi_source),
        chain_time,
        snapshot_posted_at,
        snapshot_fresh: snapshot_posted_at.is_some_and(|t| chain_time <= t.saturating_add(timing.maxSnapshotAge)),
        queued,
    })
}

/// The epoch of the queued decision a transaction cancelled (a pause, a governed change
/// of the configuration), from its `AdjustmentCancelled` log.
pub fn cancelled_epoch(sent: &Sent, controller: Address) -> Option<u64> {
    sent.logs
        .iter()
        .filter(|log| log.address() == controller)
        .find_map(|log| PolicyController::AdjustmentCancelled::decode_log_data(log.data()).ok())
        .map(|c| c.epoch)
}
