//! Reverts and chain times in words: every custom error of the controller, the KPI
//! sources and the reference economy decoded to its name and meaning.

use crate::controller::{PolicyController, ReporterKpiSource};
use crate::economy::{EconomyKpiSource, TokenEconomy};

/// A chain time (unix seconds) as ISO 8601 in UTC, e.g. `2026-12-02T08:59:06Z`.
pub fn utc(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map_or_else(|| format!("unix time {unix}"), |t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// A revert's custom error for people: its name, then what it means with its arguments,
/// e.g. `EpochDecided: epoch 2 is already decided`. Unknown data is shown as hex.
pub fn revert_reason(data: &[u8]) -> String {
    use alloy_sol_types::SolInterface;
    use PolicyController::PolicyControllerErrors as C;
    use ReporterKpiSource::ReporterKpiSourceErrors as K;
    if let Ok(e) = C::abi_decode(data) {
        let (name, meaning) = match e {
            C::NotGovernance(_) => ("NotGovernance", "the sender is not the controller's governance".to_string()),
            C::NotGuardian(_) => ("NotGuardian", "the sender is not the controller's guardian".to_string()),
            C::OnlyThroughTimelock(_) => ("OnlyThroughTimelock", "this setter is reached only through schedule and execute".to_string()),
            C::ControllerPaused(_) => ("ControllerPaused", "the controller is paused until governance unpauses it".to_string()),
            C::NotCurrentEpoch(e) => {
                ("NotCurrentEpoch", format!("this is for epoch {}, the controller decides epoch {} now", e.epoch, e.current))
            }
            C::EpochDecided(e) => ("EpochDecided", format!("epoch {} is already decided", e.epoch)),
            C::NoSnapshot(e) => ("NoSnapshot", format!("no KPI snapshot is committed for epoch {}", e.epoch)),
            C::StaleSnapshot(e) => (
                "StaleSnapshot",
                format!("the KPI snapshot of epoch {} (posted at unix time {}) is too old to be decided", e.epoch, e.postedAt),
            ),
            C::WrongOutputCount(e) => ("WrongOutputCount", format!("{} outputs where the model has {}", e.got, e.expected)),
            C::WrongKpiCount(e) => ("WrongKpiCount", format!("{} KPIs where the model has {}", e.got, e.expected)),
            C::KpiOutOfRange(e) => ("KpiOutOfRange", format!("KPI {} is {}, outside its declared range", e.index, e.value)),
            C::OutputOutOfRange(e) => ("OutputOutOfRange", format!("output {} is {}, outside its declared range", e.index, e.value)),
            C::InvalidProof(_) => ("InvalidProof", "the verifier rejects the proof for these public inputs".to_string()),
            C::NothingQueued(e) => ("NothingQueued", format!("no adjustment is queued for epoch {}", e.epoch)),
            C::NotYet(e) => ("NotYet", format!("its delay runs until {}", utc(e.eta))),
            C::AdjustmentExpired(e) => (
                "AdjustmentExpired",
                format!("the adjustment queued for epoch {} could be executed only until {}", e.epoch, utc(e.deadline)),
            ),
            C::NotScheduled(e) => ("NotScheduled", format!("no change with id {} is scheduled", e.id)),
            C::BadGuardrail(e) => {
                ("BadGuardrail", format!("guardrail {} is not a valid rail (min <= max, step > 0, index in range)", e.index))
            }
            C::BadModelCard(_) => ("BadModelCard", "the verifier's model card does not fit this controller".to_string()),
            C::RailOutsideModelRange(e) => (
                "RailOutsideModelRange",
                format!("guardrail {} reaches outside [{}, {}], the range the model declares for that parameter", e.index, e.lo, e.hi),
            ),
            C::BadEpochLength(_) => ("BadEpochLength", "the epoch length must be positive".to_string()),
            C::CallFailed(e) => ("CallFailed", format!("the governed call reverted with {}", revert_reason(&e.reason))),
        };
        return format!("{name}: {meaning}");
    }
    if let Ok(e) = K::abi_decode(data) {
        let (name, meaning) = match e {
            K::NotReporter(_) => ("NotReporter", "the sender is not the KPI source's reporter".to_string()),
            K::AlreadyCommitted(e) => ("AlreadyCommitted", format!("KPIs for epoch {} are already committed", e.epoch)),
            K::WrongKpiCount(e) => ("WrongKpiCount", format!("{} KPIs where the source expects {}", e.got, e.expected)),
            K::KpiOutOfRange(e) => ("KpiOutOfRange", format!("KPI {} is outside its declared range", e.index)),
        };
        return format!("{name}: {meaning}");
    }
    if let Some(reason) = economy_reason(data) {
        return reason;
    }
    if let Ok(e) = <alloy_sol_types::Revert as alloy_sol_types::SolError>::abi_decode(data) {
        return format!("\"{}\"", e.reason);
    }
    format!("0x{}", hex::encode(data))
}

/// The economy's and the on-chain KPI source's custom errors in words, for [`revert_reason`],
/// which falls back to this.
fn economy_reason(data: &[u8]) -> Option<String> {
    use alloy_sol_types::SolInterface;
    use EconomyKpiSource::EconomyKpiSourceErrors as S;
    use TokenEconomy::TokenEconomyErrors as E;
    if let Ok(e) = S::abi_decode(data) {
        return Some(match e {
            S::AlreadyTaken(e) => format!("AlreadyTaken: epoch {}'s snapshot is already taken (or its call seeded the averages)", e.epoch),
            S::SnapshotWindowClosed(e) => format!(
                "SnapshotWindowClosed: epoch {}'s snapshot could be taken only until {}; this epoch goes without one",
                e.epoch,
                utc(e.closedAt)
            ),
            S::BadSnapshotWindow(_) => "BadSnapshotWindow: the snapshot window must be positive and at most half an epoch".into(),
            S::NotStarted(_) => "NotStarted: epoch 1 has not begun".into(),
            S::BadRange(e) => format!("BadRange: KPI {}'s range does not fit int16", e.index),
            S::BadHolders(e) => format!("BadHolders: {}", e.reason),
            S::NotBetter(e) => format!(
                "NotBetter: the set counts {} wei, the standing set holds {} (it must count more than the epoch's incumbent, \
                 or at least what the previous epoch's final set holds)",
                e.holdings, e.incumbent
            ),
            S::WrongIncumbent(_) => {
                "WrongIncumbent: that is not the standing holder set (this epoch's, or before any, the previous epoch's final one)".into()
            }
            S::NoLiquidity(_) => "NoLiquidity: the pool is empty, so there is no price to start averaging from".into(),
            S::NotProposed(_) => "NotProposed: the sender has not proposed this holder set (proposeHolders first)".into(),
            S::ProposedInThisBlock(_) => "ProposedInThisBlock: a holder set is accepted only in a later block than its proposal".into(),
            S::SafeCastOverflowedUintDowncast(e) => format!("SafeCastOverflowedUintDowncast: {} does not fit {} bits", e.value, e.bits),
        });
    }
    if let Ok(e) = E::abi_decode(data) {
        return Some(match e {
            E::AlreadyTicked(e) => format!("AlreadyTicked: epoch {} has ticked", e.epoch),
            E::NotStarted(_) => "NotStarted: epoch 1 has not begun".into(),
            E::AlreadyConnected(_) => "AlreadyConnected: the economy is connected".into(),
            E::NotDeployer(_) => "NotDeployer: only the deployer connects the economy, once".into(),
            E::NotGovernor(_) => {
                "NotGovernor: only governance's timelock spends the treasury and sets its budget (schedule, wait, execute)".into()
            }
            E::NoGovernor(_) => "NoGovernor: the economy needs a governor (governance's timelock)".into(),
            E::BadParameter(e) => format!("BadParameter: parameter {} = {} is outside the economy's range", e.index, e.value),
            E::AlreadyReleased(e) => format!("AlreadyReleased: epoch {}'s budget is already released", e.epoch),
            E::ReentrancyGuardReentrantCall(_) => "ReentrancyGuardReentrantCall: the economy was called back while it was running".into(),
            E::SafeERC20FailedOperation(e) => format!("SafeERC20FailedOperation: a transfer of token {} failed", e.token),
        });
    }
    timelock_reason(data)
}

/// The timelock's errors in words.
fn timelock_reason(data: &[u8]) -> Option<String> {
    use crate::economy::EconomyTimelock::EconomyTimelockErrors as T;
    use alloy_sol_types::SolInterface;
    let e = T::abi_decode(data).ok()?;
    Some(match e {
        T::OperationExpired(e) => {
            format!("OperationExpired: the operation was executable until {}; schedule it again", utc(e.expiredAt.saturating_to()))
        }
        T::TimelockUnexpectedOperationState(_) => {
            "TimelockUnexpectedOperationState: the operation is not in a state that allows this (not scheduled, not yet ready, or already done)"
                .into()
        }
        T::TimelockInsufficientDelay(e) => format!("TimelockInsufficientDelay: a delay of {} s is below the minimum {} s", e.delay, e.minDelay),
        T::TimelockUnexecutedPredecessor(_) => "TimelockUnexecutedPredecessor: the operation's predecessor has not run".into(),
        T::TimelockUnauthorizedCaller(e) => format!("TimelockUnauthorizedCaller: {} may not call this", e.caller),
        T::TimelockInvalidOperationLength(_) => "TimelockInvalidOperationLength: a batch's lists differ in length".into(),
        T::FailedCall(_) => "FailedCall: the scheduled call reverted".into(),
        T::AccessControlUnauthorizedAccount(e) => {
            format!("AccessControlUnauthorizedAccount: {} lacks role {} (only governance proposes and executes)", e.account, e.neededRole)
        }
        T::AccessControlBadConfirmation(_) => "AccessControlBadConfirmation: a role is renounced only by its holder".into(),
    })
}

#[cfg(test)]
mod tests {
    use alloy_sol_types::{SolError, SolInterface};

    use super::*;

    #[test]
    fn reverts_read_as_their_name_and_meaning() {
        let decided = PolicyController::PolicyControllerErrors::EpochDecided(PolicyController::EpochDecided { epoch: 2 });
        assert_eq!(revert_reason(&decided.abi_encode()), "EpochDecided: epoch 2 is already decided");
        let early = PolicyController::NotCurrentEpoch { epoch: 3, current: 1 }.abi_encode();
        assert_eq!(revert_reason(&early), "NotCurrentEpoch: this is for epoch 3, the controller decides epoch 1 now");
        let reporter = ReporterKpiSource::AlreadyCommitted { epoch: 7 }.abi_encode();
        assert_eq!(revert_reason(&reporter), "AlreadyCommitted: KPIs for epoch 7 are already committed");
        // A governed call's own revert is read through.
        let inner = PolicyController::BadGuardrail { index: alloy_primitives::U256::from(1) }.abi_encode();
        let failed = PolicyController::CallFailed { reason: inner.into() }.abi_encode();
        assert!(revert_reason(&failed).starts_with("CallFailed: the governed call reverted with BadGuardrail: guardrail 1"));
        let text = alloy_sol_types::Revert { reason: "no".into() }.abi_encode();
        assert_eq!(revert_reason(&text), "\"no\"");
        assert_eq!(revert_reason(&[0xde, 0xad]), "0xdead");
        let wait = PolicyController::NotYet { eta: 1_796_201_946 }.abi_encode();
        assert_eq!(revert_reason(&wait), "NotYet: its delay runs until 2026-12-02T08:59:06Z");
        let stale = PolicyController::AdjustmentExpired { epoch: 3, deadline: 1_796_201_946 }.abi_encode();
        assert_eq!(
            revert_reason(&stale),
            "AdjustmentExpired: the adjustment queued for epoch 3 could be executed only until 2026-12-02T08:59:06Z"
        );
    }
}
