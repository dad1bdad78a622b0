//! Which failures of a step are final, and which are retried.
//!
//! A tick, snapshot or KPI commitment that reverts is final only when the revert proves the
//! step was done by someone else (`AlreadyTicked`, `AlreadyTaken`, `AlreadyCommitted`) or
//! can never succeed this epoch (`SnapshotWindowClosed`, `NotStarted`). Any other revert
//! (`WrongIncumbent` when a better holder set arrived between the keeper's read and its
//! send, a transaction that ran out of gas on a low estimate, a call a node got wrong) is
//! tried again with its inputs read again and its gas estimated again, for as long as the
//! epoch is current: the contract itself says when the snapshot window has closed.
//!
//! A transaction that reverts *mined* costs gas, so a step is sent at most
//! [`MAX_MINED_REVERTS`] + 1 times; one that ran out of gas is sent again with at least
//! twice its gas limit (under the cap), whatever the next estimate says.

use alloy_sol_types::SolInterface;
use zkpolicy_contracts::controller::ReporterKpiSource::ReporterKpiSourceErrors as Reporter;
use zkpolicy_contracts::economy::EconomyKpiSource::EconomyKpiSourceErrors as Source;
use zkpolicy_contracts::economy::TokenEconomy::TokenEconomyErrors as Economy;

/// Mined reverts of one step after which it is given up.
pub const MAX_MINED_REVERTS: u32 = 3;

/// What a revert of a tick, snapshot or KPI commitment means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreludeRevert {
    /// Someone else did it: the step is done.
    DoneElsewhere,
    /// It cannot succeed this epoch: the step is given up.
    Impossible,
    /// Anything else: try again.
    Retry,
}

/// Classifies the revert data of a tick (`TokenEconomy`), snapshot (`EconomyKpiSource`)
/// or KPI commitment (`ReporterKpiSource`).
pub fn prelude_revert(data: &[u8]) -> PreludeRevert {
    match (Economy::abi_decode(data), Source::abi_decode(data), Reporter::abi_decode(data)) {
        (Ok(Economy::AlreadyTicked(_)), _, _) | (_, Ok(Source::AlreadyTaken(_)), _) | (_, _, Ok(Reporter::AlreadyCommitted(_))) => {
            PreludeRevert::DoneElsewhere
        }
        (Ok(Economy::NotStarted(_)), _, _) | (_, Ok(Source::NotStarted(_) | Source::SnapshotWindowClosed(_)), _) => {
            PreludeRevert::Impossible
        }
        _ => PreludeRevert::Retry,
    }
}

/// The gas limit a step must at least be sent with after its transaction, sent with
/// `limit`, reverted having used `used`: twice the limit when it ran out of gas.
pub fn floor_after_revert(limit: u64, used: u64) -> Option<u64> {
    (used >= limit).then(|| limit.saturating_mul(2))
}

#[cfg(test)]
mod tests {
    use alloy_sol_types::SolError;
    use zkpolicy_contracts::controller::ReporterKpiSource;
    use zkpolicy_contracts::economy::{EconomyKpiSource, TokenEconomy};

    use super::*;

    #[test]
    fn only_done_or_impossible_reverts_are_final() {
        let done = [
            TokenEconomy::AlreadyTicked { epoch: 3 }.abi_encode(),
            EconomyKpiSource::AlreadyTaken { epoch: 3 }.abi_encode(),
            ReporterKpiSource::AlreadyCommitted { epoch: 3 }.abi_encode(),
        ];
        for data in done {
            assert_eq!(prelude_revert(&data), PreludeRevert::DoneElsewhere);
        }
        let impossible = [
            TokenEconomy::NotStarted {}.abi_encode(),
            EconomyKpiSource::NotStarted {}.abi_encode(),
            EconomyKpiSource::SnapshotWindowClosed { epoch: 3, closedAt: 9 }.abi_encode(),
        ];
        for data in impossible {
            assert_eq!(prelude_revert(&data), PreludeRevert::Impossible);
        }
        // A holder set replaced under the keeper, a reporter's bad file, out of gas (no
        // data), a string revert: all tried again.
        let retried = [
            alloy_primitives::keccak256(b"WrongIncumbent()")[..4].to_vec(),
            ReporterKpiSource::KpiOutOfRange { index: alloy_primitives::U256::from(1) }.abi_encode(),
            Vec::new(),
            alloy_sol_types::Revert { reason: "no".into() }.abi_encode(),
        ];
        for data in retried {
            assert_eq!(prelude_revert(&data), PreludeRevert::Retry, "0x{}", hex::encode(&data));
        }
    }

    #[test]
    fn a_transaction_that_ran_out_of_gas_is_resent_with_twice_its_limit() {
        assert_eq!(floor_after_revert(36_000, 36_000), Some(72_000));
        assert_eq!(floor_after_revert(150_000, 61_000), None, "reverted with gas to spare: the estimate was not the cause");
    }
}
