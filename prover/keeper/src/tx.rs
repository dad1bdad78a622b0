//! Transactions that get mined: the keeper signs them itself (explicit nonce, gas and
//! EIP-1559 fees under the configured caps), so it can record them before broadcasting,
//! re-broadcast the same bytes after a restart, and re-price a stuck one with the same nonce.
//!
//! The gas limit is the node's estimate plus a fifth, never above `max_gas_limit`: an
//! endpoint that estimates more is not believed (the next one is asked), so one lying
//! endpoint can neither make the keeper sign a transaction that spends its balance on gas
//! nor one that every node refuses.

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes};
use alloy::rpc::types::TransactionRequest;
use std::time::{Duration, Instant};

use super::config::ChainConfig;
use super::rpc::Endpoints;
use super::state::{now, SentTx};
use super::KeeperError;
use zkpolicy_chain::ChainError;

const GWEI: u128 = 1_000_000_000;

/// The account that signs, and the chain's fee rules.
pub struct Sender {
    pub wallet: EthereumWallet,
    pub from: Address,
    pub max_fee: u128,
    pub max_priority_fee: u128,
    pub resend_after: u64,
    pub confirmations: u64,
    pub max_gas_limit: u64,
    /// The next nonce this keeper will use (the node's pending count may be behind it).
    next_nonce: Option<u64>,
    /// The node's last fee suggestion and when it came: a round prices its transactions
    /// with one suggestion, not one request each.
    suggested: Option<(Instant, (u128, u128))>,
}

/// How long a fee suggestion is used for: a few blocks' worth of base fee change at most.
const PRICE_TTL: Duration = Duration::from_secs(3);

impl Sender {
    pub fn new(wallet: EthereumWallet, from: Address, config: &ChainConfig) -> Self {
        Self {
            wallet,
            from,
            max_fee: u128::from(config.max_fee_gwei) * GWEI,
            max_priority_fee: u128::from(config.max_priority_fee_gwei) * GWEI,
            resend_after: config.resend_after_secs,
            confirmations: config.confirmations,
            max_gas_limit: config.max_gas_limit,
            next_nonce: None,
            suggested: None,
        }
    }

    /// The node's suggested fees, under the caps.
    pub fn price(&mut self, endpoints: &mut Endpoints) -> Result<(u128, u128), ChainError> {
        let (fee, priority) = match self.suggested {
            Some((at, fees)) if at.elapsed() < PRICE_TTL => fees,
            _ => {
                let fees = endpoints.with(|c| c.fees())?;
                self.suggested = Some((Instant::now(), fees));
                fees
            }
        };
        let priority = priority.min(self.max_priority_fee);
        Ok((fee.min(self.max_fee).max(priority), priority))
    }

    /// Fees for a resend of a transaction priced `old`: at least 12.5 % more on both (what
    /// nodes require to replace a pooled transaction), at least the node's suggestion, never
    /// above the caps. `None` when the caps leave no room.
    pub fn bump(&self, old: (u128, u128), suggested: (u128, u128)) -> Option<(u128, u128)> {
        let up = |v: u128| v.saturating_add(v / 8).saturating_add(1);
        let fee = up(old.0).max(suggested.0).min(self.max_fee);
        let priority = up(old.1).max(suggested.1).min(self.max_priority_fee).min(fee);
        (fee > old.0 && priority > old.1).then_some((fee, priority))
    }

    /// The gas limit for calling `to` with `input`: the estimate plus a fifth, at least
    /// `floor` (after a transaction ran out of gas), never above the cap. An endpoint whose
    /// estimate is above the cap is demoted and the next one asked; when every endpoint's is,
    /// nothing may be sent ([`KeeperError::GasAboveCap`]).
    pub fn gas_limit(&self, endpoints: &mut Endpoints, to: Address, input: &[u8], floor: u64) -> Result<Gas, KeeperError> {
        let (from, cap) = (self.from, self.max_gas_limit);
        let mut lowest = u64::MAX;
        for _ in 0..endpoints.len().max(1) {
            match endpoints.with(|c| c.estimate_gas(from, to, input.to_vec()))? {
                Err(data) => return Ok(Gas::Reverts(data)),
                Ok(gas) if gas > cap => {
                    lowest = lowest.min(gas);
                    endpoints.demote(&format!("it estimates {gas} gas, above max_gas_limit ({cap})"));
                }
                Ok(gas) => return Ok(Gas::Limit(gas.saturating_add(gas / 5).max(floor).min(cap))),
            }
        }
        Err(KeeperError::GasAboveCap { estimate: lowest, cap })
    }

    /// A fresh nonce: the node's pending count, or past the last one this keeper used.
    pub fn nonce(&mut self, endpoints: &mut Endpoints) -> Result<u64, ChainError> {
        let from = self.from;
        let pending = endpoints.with(|c| c.nonce(from, true))?;
        let nonce = pending.max(self.next_nonce.unwrap_or(0));
        self.next_nonce = Some(nonce + 1);
        Ok(nonce)
    }

    /// Forgets the local nonce (after a nonce was taken by another transaction).
    pub fn reset_nonce(&mut self) {
        self.next_nonce = None;
    }

    /// Signs a call of `to` with `input`; nothing is sent.
    #[allow(clippy::too_many_arguments)]
    pub fn sign(
        &self,
        endpoints: &mut Endpoints,
        chain_id: u64,
        to: Address,
        input: &[u8],
        nonce: u64,
        gas_limit: u64,
        fees: (u128, u128),
    ) -> Result<SentTx, ChainError> {
        let tx = TransactionRequest::default()
            .with_from(self.from)
            .with_to(to)
            .with_input(input.to_vec())
            .with_nonce(nonce)
            .with_gas_limit(gas_limit)
            .with_max_fee_per_gas(fees.0)
            .with_max_priority_fee_per_gas(fees.1)
            .with_chain_id(chain_id);
        let wallet = &self.wallet;
        let (hash, raw) = endpoints.with(|c| c.sign(wallet, tx.clone()))?;
        Ok(SentTx {
            hash: hash.to_string(),
            nonce,
            max_fee_per_gas: fees.0,
            max_priority_fee_per_gas: fees.1,
            gas_limit,
            raw: hex::encode(raw),
            sent_at: now(),
            replaces: false,
        })
    }
}

/// What a capped gas estimate gave.
#[derive(Debug)]
pub enum Gas {
    /// The limit to sign with.
    Limit(u64),
    /// The call reverts now, with this revert data.
    Reverts(Bytes),
}

/// Broadcasts `tx`'s signed bytes (again, after a restart: the same transaction).
pub fn broadcast(endpoints: &mut Endpoints, tx: &SentTx) -> Result<(), ChainError> {
    let raw = hex::decode(&tx.raw).map_err(|e| ChainError::Answer(format!("stored transaction {}: {e}", tx.hash)))?;
    endpoints.with(|c| c.send_raw(&raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(max_fee_gwei: u64, priority_gwei: u64) -> Sender {
        let config = ChainConfig {
            rpc: vec![],
            confirmations: 1,
            max_fee_gwei,
            max_priority_fee_gwei: priority_gwei,
            resend_after_secs: 60,
            max_lag_blocks: 5,
            max_gas_limit: 1_000_000,
        };
        let signer = alloy::signers::local::PrivateKeySigner::random();
        let from = signer.address();
        Sender::new(EthereumWallet::from(signer), from, &config)
    }

    #[test]
    fn a_resend_pays_an_eighth_more_up_to_the_cap_and_no_further() {
        let s = sender(10, 2);
        let old = (4 * GWEI, GWEI);
        let (fee, priority) = s.bump(old, (0, 0)).expect("room");
        assert!(fee >= old.0 + old.0 / 8 && priority >= old.1 + old.1 / 8, "{fee} {priority}");
        // The node asks for more: follow it, capped.
        assert_eq!(s.bump(old, (50 * GWEI, 5 * GWEI)), Some((10 * GWEI, 2 * GWEI)));
        // Already at the caps: no resend.
        assert_eq!(s.bump((10 * GWEI, 2 * GWEI), (50 * GWEI, 5 * GWEI)), None);
    }
}
