//! Governance through a Safe multisig: a governance call written as a Safe Transaction
//! Builder batch file (the JSON the Safe{Wallet} app's Transaction Builder imports), for the
//! Safe's owners to review, sign and execute, instead of a transaction sent from a local key.

use alloy::primitives::Address;
use serde::Serialize;

use super::govern::GovernanceCall;

/// The Transaction Builder batch format version written (`"version"`).
pub const BATCH_VERSION: &str = "1.0";

/// A Safe Transaction Builder batch: its header, and the calls the Safe makes in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SafeBatch {
    /// The format version, [`BATCH_VERSION`].
    pub version: String,
    /// The chain id, in decimal (the app refuses a batch for another chain).
    pub chain_id: String,
    /// When the batch was written, in Unix milliseconds.
    pub created_at: u64,
    /// What the batch is, for the owners reviewing it.
    pub meta: SafeBatchMeta,
    /// The calls, made by the Safe in this order.
    pub transactions: Vec<SafeTransaction>,
}

/// A batch's description.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SafeBatchMeta {
    /// A short title.
    pub name: String,
    /// What the calls do, in words.
    pub description: String,
    /// The Safe that makes the calls: the controller's governance (checksummed).
    pub created_from_safe_address: String,
    /// Left empty: no owner proposed it yet.
    pub created_from_owner_address: String,
}

/// One call of a batch, given as raw calldata (no method form to fill in).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SafeTransaction {
    /// The contract called (checksummed).
    pub to: String,
    /// Wei sent with it, in decimal: always `"0"`.
    pub value: String,
    /// The calldata, `0x` hex.
    pub data: String,
    /// Always `null`: the call is given by `data`.
    pub contract_method: Option<()>,
    /// Always `null`: the call is given by `data`.
    pub contract_inputs_values: Option<()>,
}

/// The batch in which `safe` makes `calls` on chain `chain_id`, titled `name` and described by
/// `description`, written at `created_at` (Unix milliseconds).
pub fn batch(chain_id: u64, safe: Address, calls: &[GovernanceCall], name: &str, description: &str, created_at: u64) -> SafeBatch {
    SafeBatch {
        version: BATCH_VERSION.into(),
        chain_id: chain_id.to_string(),
        created_at,
        meta: SafeBatchMeta {
            name: name.into(),
            description: description.into(),
            created_from_safe_address: safe.to_checksum(None),
            created_from_owner_address: String::new(),
        },
        transactions: calls
            .iter()
            .map(|c| SafeTransaction {
                to: c.to.to_checksum(None),
                value: "0".into(),
                data: format!("0x{}", hex::encode(&c.data)),
                contract_method: None,
                contract_inputs_values: None,
            })
            .collect(),
    }
}
