//! The lifecycle of a recorded step, as pure functions of what the chain shows. Each returns
//! the step's transition; `send.rs` reads the chain, applies the transition to the record
//! and does the bookkeeping (metrics, logs, the round's report).
//!
//! ```text
//! Ready ──send──▶ Sent ──receipt, confirmed──▶ Confirmed
//!   │               │──receipt, reverted, not final──▶ Ready (retries + 1, gas floor)
//!   │               │──receipt, reverted, final──────▶ DoneElsewhere | Skipped
//!   │               │──nonce taken by another tx─────▶ Ready | DoneElsewhere
//!   │               └──epoch ended, unmined: a same-nonce no-op, mined──▶ Skipped
//!   └──epoch decided / passed──▶ DoneElsewhere | Skipped
//! ```

use alloy::primitives::B256;

use super::View;
use crate::retry::{floor_after_revert, MAX_MINED_REVERTS};
use crate::state::{Kind, Stage};

/// What to do with a step that is ready to send, given the controller's view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum WhenReady {
    /// The epoch was decided by another submitter (an execute step is never decided this way).
    DoneElsewhere,
    /// The step's epoch is no longer the current one: it can never be sent.
    EpochPassed,
    /// The controller is paused: wait.
    Paused,
    /// Send it.
    Send,
}

/// The transition of a `Ready` step of `kind` for `epoch`.
pub(super) fn when_ready(kind: Kind, epoch: u64, view: &View) -> WhenReady {
    let epoch_bound = kind != Kind::Execute;
    if epoch_bound && view.last >= epoch {
        WhenReady::DoneElsewhere
    } else if epoch_bound && view.current != epoch {
        WhenReady::EpochPassed
    } else if view.paused {
        WhenReady::Paused
    } else {
        WhenReady::Send
    }
}

/// A mined transaction of a step, with the chain head it was read at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Mined {
    pub hash: B256,
    pub block: u64,
    pub head: u64,
    pub success: bool,
    pub gas_used: u64,
    pub gas_limit: u64,
    /// When a timelocked decision it queued can execute (its `AdjustmentQueued` event).
    pub eta: Option<u64>,
}

/// What a mined transaction means for its `Sent` step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OnReceipt {
    /// Fewer confirmations than configured: wait, watching the head.
    Wait,
    /// Reverted, and not known to be final (a low gas estimate, state that changed under
    /// it): back to `Ready`, sent again with at least `floor` gas when it ran out.
    Retry { floor: Option<u64> },
    /// Reverted for good, the step ends in `stage`: `DoneElsewhere` when the epoch was
    /// decided first, `Skipped` when it kept reverting.
    Reverted { stage: Stage },
    /// Mined, succeeded and confirmed.
    Confirmed,
}

/// The transition of a `Sent` step of `kind` for `epoch` whose transaction is `mined`, after
/// `reverted` earlier mined reverts, with `confirmations` required and the controller's last
/// decided epoch `last`.
pub(super) fn on_receipt(kind: Kind, epoch: u64, reverted: u32, confirmations: u64, mined: &Mined, last: u64) -> OnReceipt {
    if mined.head + 1 < mined.block + confirmations {
        return OnReceipt::Wait;
    }
    if mined.success {
        return OnReceipt::Confirmed;
    }
    let decided = kind == Kind::Submit && last >= epoch;
    if !decided && reverted < MAX_MINED_REVERTS {
        return OnReceipt::Retry { floor: floor_after_revert(mined.gas_limit, mined.gas_used) };
    }
    let elsewhere = decided || kind != Kind::Execute && last >= epoch;
    OnReceipt::Reverted { stage: if elsewhere { Stage::DoneElsewhere } else { Stage::Skipped } }
}

/// Whether a `Sent` step of `kind` for `epoch`, none of whose transactions is mined, should
/// be replaced by a no-op: a submission can only revert once its epoch has ended, and would
/// still cost its gas. (Not on `last >= epoch`: a node may answer reads on its pending
/// state, where the keeper's own pending submission has decided the epoch.)
pub(super) fn replace_pending(kind: Kind, epoch: u64, view: &View) -> bool {
    kind == Kind::Submit && view.current != epoch
}

/// The stage of a `Sent` step none of whose transactions was mined, when another transaction
/// took its nonce: `DoneElsewhere` if the epoch was decided meanwhile, else `Ready` to send
/// again with a fresh nonce.
pub(super) fn after_nonce_taken(kind: Kind, epoch: u64, last: u64) -> Stage {
    if kind != Kind::Execute && last >= epoch {
        Stage::DoneElsewhere
    } else {
        Stage::Ready
    }
}

#[cfg(test)]
mod tests {
    use zkpolicy_contracts::controller::PolicyController::Mode;

    use super::*;

    fn view(current: u64, last: u64, paused: bool) -> View {
        View { current, last, paused, mode: Mode::Autonomous, chain_time: 0, posted_at: None, max_snapshot_age: 0 }
    }

    const MINED: Mined = Mined { hash: B256::ZERO, block: 10, head: 10, success: true, gas_used: 50_000, gas_limit: 80_000, eta: None };

    #[test]
    fn a_ready_step_is_sent_only_in_its_epoch_undecided_and_unpaused() {
        assert_eq!(when_ready(Kind::Submit, 5, &view(5, 4, false)), WhenReady::Send);
        assert_eq!(when_ready(Kind::Submit, 5, &view(5, 5, false)), WhenReady::DoneElsewhere);
        assert_eq!(when_ready(Kind::Snapshot, 5, &view(6, 4, false)), WhenReady::EpochPassed);
    }

    #[test]
    fn only_a_submission_whose_epoch_ended_or_was_decided_is_replaced() {
        assert!(!replace_pending(Kind::Submit, 5, &view(5, 4, false)), "still current and undecided");
        assert!(replace_pending(Kind::Submit, 5, &view(6, 4, false)), "the epoch ended");
        assert!(!replace_pending(Kind::Submit, 5, &view(5, 5, false)), "decided, perhaps by this very submission, pending");
        for kind in [Kind::Tick, Kind::Snapshot, Kind::Commit, Kind::Execute] {
            assert!(!replace_pending(kind, 5, &view(6, 4, false)), "{kind:?}");
        }
        assert_eq!(when_ready(Kind::Submit, 5, &view(5, 4, true)), WhenReady::Paused);
        // An execution follows its decision, in a later epoch.
        assert_eq!(when_ready(Kind::Execute, 5, &view(7, 6, false)), WhenReady::Send);
        assert_eq!(when_ready(Kind::Execute, 5, &view(7, 6, true)), WhenReady::Paused);
    }

    #[test]
    fn a_receipt_confirms_only_with_the_configured_confirmations() {
        assert_eq!(on_receipt(Kind::Submit, 5, 0, 1, &MINED, 4), OnReceipt::Confirmed);
        assert_eq!(on_receipt(Kind::Submit, 5, 0, 2, &MINED, 4), OnReceipt::Wait);
        assert_eq!(on_receipt(Kind::Submit, 5, 0, 2, &Mined { head: 11, ..MINED }, 4), OnReceipt::Confirmed);
        // A success is a success even when the view already shows it as decided (by it).
        assert_eq!(on_receipt(Kind::Submit, 5, 0, 1, &MINED, 5), OnReceipt::Confirmed);
    }

    #[test]
    fn a_reverted_step_is_retried_until_it_is_known_final() {
        let reverted = Mined { success: false, ..MINED };
        assert_eq!(on_receipt(Kind::Submit, 5, 0, 1, &reverted, 4), OnReceipt::Retry { floor: None });
        let out_of_gas = Mined { gas_used: 80_000, ..reverted };
        assert_eq!(on_receipt(Kind::Tick, 5, 1, 1, &out_of_gas, 4), OnReceipt::Retry { floor: Some(160_000) });
        // Decided by someone else first: final at once.
        assert_eq!(on_receipt(Kind::Submit, 5, 0, 1, &reverted, 5), OnReceipt::Reverted { stage: Stage::DoneElsewhere });
        // Reverted too often: given up, or done elsewhere if the epoch was decided.
        let often = MAX_MINED_REVERTS;
        assert_eq!(on_receipt(Kind::Submit, 5, often, 1, &reverted, 4), OnReceipt::Reverted { stage: Stage::Skipped });
        assert_eq!(on_receipt(Kind::Snapshot, 5, often, 1, &reverted, 5), OnReceipt::Reverted { stage: Stage::DoneElsewhere });
        assert_eq!(on_receipt(Kind::Execute, 5, often, 1, &reverted, 9), OnReceipt::Reverted { stage: Stage::Skipped });
        // Not yet confirmed: no verdict either way.
        assert_eq!(on_receipt(Kind::Submit, 5, 0, 3, &reverted, 5), OnReceipt::Wait);
    }

    #[test]
    fn a_taken_nonce_sends_again_unless_the_epoch_was_decided() {
        assert_eq!(after_nonce_taken(Kind::Submit, 5, 4), Stage::Ready);
        assert_eq!(after_nonce_taken(Kind::Submit, 5, 5), Stage::DoneElsewhere);
        assert_eq!(after_nonce_taken(Kind::Execute, 5, 9), Stage::Ready);
    }
}
