//! The treasury's running costs in a live run. The deployment's budget stream pays the
//! simulator's `yearly_spend / 365` each epoch, released by the deployer (anyone may).
//! When the scenario changes the spending (the slow bleed's +30 %), the run changes the
//! stream the only way governance can: through the economy's timelock, scheduled two
//! epochs ahead so that the change lands when the simulator's does.

use alloy::primitives::{B256, U256};
use alloy::sol_types::SolCall;
use zkpolicy_contracts::economy::{EconomyTimelock, TokenEconomy, ZkpToken};

use super::market::{whole, Contracts};
use super::population::{GasBook, Population};
use super::LiveError;
use zkpolicy_chain::{self as chain, read, Client};

/// Epochs between scheduling a budget change and needing it: the timelock's delay is one
/// epoch, and an epoch's transactions end at a different second of it each time.
const LEAD: usize = 2;

/// The stream as governance is steering it.
pub struct Budget {
    /// Quote (wei) an epoch now.
    current: U256,
    /// A scheduled change: the step it is due, the amount, and the salt naming it.
    pending: Option<(usize, U256, B256)>,
}

impl Budget {
    /// The stream the deployment set.
    pub fn read(client: &Client, c: &Contracts) -> Result<Self, LiveError> {
        let stream = read(client, "budget read", c.economy, TokenEconomy::budgetStreamCall {})?;
        Ok(Self { current: stream.perEpoch, pending: None })
    }

    /// Step `step`'s treasury spending: makes a due change, releases the epoch's budget
    /// (returns the quote paid), then schedules the stream that step `step + LEAD` needs
    /// (`spending(step + LEAD)`, quote an epoch) if it differs.
    pub fn step(
        &mut self,
        client: &Client,
        p: &mut Population,
        c: &Contracts,
        step: usize,
        spending: &dyn Fn(usize) -> f64,
        book: &mut GasBook,
    ) -> Result<f64, LiveError> {
        if let Some((due, amount, salt)) = self.pending {
            let operation = EconomyTimelock::hashOperationCall {
                target: c.economy,
                value: U256::ZERO,
                data: set_budget(p, amount).into(),
                predecessor: B256::ZERO,
                salt,
            };
            let id = read(client, "operation read", c.timelock, operation)?;
            if step >= due && read(client, "operation read", c.timelock, EconomyTimelock::isOperationReadyCall { id })? {
                let call = EconomyTimelock::executeCall {
                    target: c.economy,
                    value: U256::ZERO,
                    payload: set_budget(p, amount).into(),
                    predecessor: B256::ZERO,
                    salt,
                };
                sent(p.send(client, 0, c.timelock, call.abi_encode(), U256::ZERO, book)?, "the budget change's execution")?;
                (self.current, self.pending) = (amount, None);
            }
        }
        let treasury = || read(client, "treasury read", c.quote, ZkpToken::balanceOfCall { account: c.economy });
        let before = treasury()?;
        sent(p.send(client, 0, c.economy, TokenEconomy::releaseBudgetCall {}.abi_encode(), U256::ZERO, book)?, "the budget release")?;
        let after = treasury()?;
        let wanted = super::market::wei(spending(step + LEAD));
        let steering = self.pending.map_or(self.current, |(_, amount, _)| amount);
        if differs(wanted, steering) {
            let salt = B256::from(U256::from(step));
            let call = EconomyTimelock::scheduleCall {
                target: c.economy,
                value: U256::ZERO,
                data: set_budget(p, wanted).into(),
                predecessor: B256::ZERO,
                salt,
                delay: U256::from(super::EPOCH_SECONDS),
            };
            sent(p.send(client, 0, c.timelock, call.abi_encode(), U256::ZERO, book)?, "the budget change's schedule")?;
            self.pending = Some((step + LEAD, wanted, salt));
        }
        Ok(whole(before.saturating_sub(after)))
    }
}

/// The economy's `setBudget` paying `amount` an epoch to the deployer (its payee here).
fn set_budget(p: &Population, amount: U256) -> Vec<u8> {
    TokenEconomy::setBudgetCall { payee: p.address(0), perEpoch: amount }.abi_encode()
}

/// More than a millionth apart: float rounding of the same spending is not a change.
fn differs(a: U256, b: U256) -> bool {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    hi - lo > hi / U256::from(1_000_000u64)
}

fn sent(mined: super::population::Mined, what: &str) -> Result<(), LiveError> {
    if mined.success {
        Ok(())
    } else {
        Err(LiveError::Chain(chain::ChainError::Rejected { reason: format!("{what} {} reverted", mined.hash) }))
    }
}
