//! The treasury's governed changes (a one-off spend, the budget stream), made through the
//! economy's timelock (`EconomyTimelock`) with the deployment's governance delay: the same
//! schedule, wait, execute as the controller's changes.

use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::sol_types::{SolCall, SolValue};
use zkpolicy_contracts::economy::{EconomyTimelock, TokenEconomy};

use super::economy::EconomyRecord;
use super::govern::{GovernanceCall, Governed};
use super::{ChainError, Client, Deployment};

/// A change of the treasury: a call of the economy that only its timelock may make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TreasuryChange {
    /// A one-off payment of `amount` quote (wei) to `to`.
    Spend {
        /// The recipient.
        to: Address,
        /// Quote, in wei.
        amount: U256,
    },
    /// The budget stream: `per_epoch` quote (wei) to `payee` each epoch (the zero payee: none).
    Budget {
        /// Who the stream pays (the zero address: nobody, nothing is paid).
        payee: Address,
        /// Quote, in wei, paid once per epoch (at most what the treasury holds).
        per_epoch: U256,
    },
}

impl std::fmt::Display for TreasuryChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TreasuryChange::Spend { to, amount } => write!(f, "treasury spend of {amount} wei of quote to {to}"),
            TreasuryChange::Budget { payee, per_epoch } => write!(f, "treasury budget of {per_epoch} wei of quote an epoch to {payee}"),
        }
    }
}

impl TreasuryChange {
    /// The economy's calldata the timelock will send.
    pub fn calldata(&self) -> Vec<u8> {
        match self {
            TreasuryChange::Spend { to, amount } => TokenEconomy::spendCall { to: *to, amount: *amount }.abi_encode(),
            TreasuryChange::Budget { payee, per_epoch } => TokenEconomy::setBudgetCall { payee: *payee, perEpoch: *per_epoch }.abi_encode(),
        }
    }

    /// The timelock's operation id (`hashOperation(economy, 0, calldata, 0, 0)`).
    pub fn id(&self, economy: Address) -> [u8; 32] {
        let encoded = (economy, U256::ZERO, alloy::primitives::Bytes::from(self.calldata()), B256::ZERO, B256::ZERO).abi_encode_params();
        keccak256(encoded).0
    }
}

fn record(deployment: &Deployment) -> Result<&EconomyRecord, ChainError> {
    let record = deployment.economy.as_ref().ok_or_else(|| {
        ChainError::Config(
            "this deployment has no economy (its KPIs are reporter-posted); treasury changes need \"kpi_source\": \"onchain\"".into(),
        )
    })?;
    if record.timelock == Address::ZERO {
        return Err(ChainError::Config(
            "this deployment predates the economy's timelock: its deployer spends the treasury directly; redeploy to govern it".into(),
        ));
    }
    Ok(record)
}

fn governed(sent: super::Sent, id: [u8; 32], eta: Option<u64>) -> Governed {
    // A treasury change leaves the controller, and its queued decision, alone.
    Governed { tx: sent.tx.to_string(), block: sent.block, gas: sent.gas, id: format!("0x{}", hex::encode(id)), eta, cancelled_epoch: None }
}

/// The call that queues `change` in the timelock for its delay (read from the timelock).
pub fn schedule_call(client: &Client, deployment: &Deployment, change: &TreasuryChange) -> Result<GovernanceCall, ChainError> {
    let e = record(deployment)?;
    let delay = EconomyTimelock::getMinDelayCall::abi_decode_returns(&client.call(
        "timelock delay read",
        e.timelock,
        EconomyTimelock::getMinDelayCall {}.abi_encode(),
    )?)
    .map_err(|err| ChainError::Answer(format!("timelock delay read: {err}")))?;
    let call = EconomyTimelock::scheduleCall {
        target: e.economy,
        value: U256::ZERO,
        data: change.calldata().into(),
        predecessor: B256::ZERO,
        salt: B256::ZERO,
        delay,
    };
    Ok(GovernanceCall { to: e.timelock, data: call.abi_encode() })
}

/// The call that makes a scheduled `change` once the delay has passed (and before it expires).
pub fn execute_call(deployment: &Deployment, change: &TreasuryChange) -> Result<GovernanceCall, ChainError> {
    let e = record(deployment)?;
    let call = EconomyTimelock::executeCall {
        target: e.economy,
        value: U256::ZERO,
        payload: change.calldata().into(),
        predecessor: B256::ZERO,
        salt: B256::ZERO,
    };
    Ok(GovernanceCall { to: e.timelock, data: call.abi_encode() })
}

/// The call that drops a scheduled `change`.
pub fn cancel_call(deployment: &Deployment, change: &TreasuryChange) -> Result<GovernanceCall, ChainError> {
    let e = record(deployment)?;
    Ok(GovernanceCall { to: e.timelock, data: EconomyTimelock::cancelCall { id: change.id(e.economy).into() }.abi_encode() })
}

/// The id the timelock gives `change` on `deployment` (`0x` hex).
pub fn change_id(deployment: &Deployment, change: &TreasuryChange) -> Result<String, ChainError> {
    Ok(format!("0x{}", hex::encode(change.id(record(deployment)?.economy))))
}

/// Governance queues `change` in the timelock for its delay; returns when it becomes executable.
pub fn schedule(client: &Client, deployment: &Deployment, change: &TreasuryChange) -> Result<Governed, ChainError> {
    let e = record(deployment)?;
    let call = schedule_call(client, deployment, change)?;
    let sent = client.send("treasury schedule", call.to, call.data)?;
    let id = change.id(e.economy);
    let eta = EconomyTimelock::getTimestampCall::abi_decode_returns(&client.call(
        "schedule read",
        e.timelock,
        EconomyTimelock::getTimestampCall { id: id.into() }.abi_encode(),
    )?)
    .map_err(|err| ChainError::Answer(format!("schedule read: {err}")))?;
    Ok(governed(sent, id, Some(eta.saturating_to())))
}

/// Governance makes a scheduled `change` once the delay has passed (and before it expires).
pub fn execute(client: &Client, deployment: &Deployment, change: &TreasuryChange) -> Result<Governed, ChainError> {
    let e = record(deployment)?;
    let call = execute_call(deployment, change)?;
    Ok(governed(client.send("treasury execute", call.to, call.data)?, change.id(e.economy), None))
}

/// Governance drops a scheduled `change`.
pub fn cancel(client: &Client, deployment: &Deployment, change: &TreasuryChange) -> Result<Governed, ChainError> {
    let e = record(deployment)?;
    let call = cancel_call(deployment, change)?;
    Ok(governed(client.send("treasury cancel", call.to, call.data)?, change.id(e.economy), None))
}
