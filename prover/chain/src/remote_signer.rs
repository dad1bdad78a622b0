//! Signing through a remote signer: a process that holds the key (Web3Signer, Clef, a KMS
//! gateway) and answers the `eth_signTransaction` JSON-RPC call with the signed transaction.
//!
//! The signer is not trusted with the transaction: what it returns is decoded, its signing
//! hash must be the one of the transaction asked for (same chain, nonce, fees, gas limit,
//! recipient, value and calldata), and the signature must recover to the signer's account.
//! Anything else is refused before a byte reaches a node. The URL is shown without its path,
//! query or credentials, as RPC URLs are.

use std::time::Duration;

use alloy::consensus::{SignableTransaction, TxEnvelope};
use alloy::eips::eip2718::Decodable2718;
use alloy::network::TxSigner;
use alloy::primitives::{Address, Signature, TxKind};
use alloy::rpc::client::RpcClient;
use alloy::transports::http::reqwest::Url;

use super::client::{redacted, scrub_urls};
use super::ChainError;

/// How long one request to the signer may take (a signer that asks a person or a KMS can be
/// slow, but one that never answers must not hold the keeper).
const TIMEOUT: Duration = Duration::from_secs(30);

/// A remote signer for one account. Its `Debug` shows the redacted URL only.
#[derive(Clone)]
pub struct RemoteSigner {
    url: Url,
    shown: String,
    address: Address,
}

impl std::fmt::Debug for RemoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSigner").field("url", &self.shown).field("address", &self.address).finish()
    }
}

impl RemoteSigner {
    /// Connects to the signer at `url` and picks the account: `address` if given (the signer
    /// must list it in `eth_accounts`), else the signer's only account.
    pub fn connect(url: &str, address: Option<Address>) -> Result<Self, ChainError> {
        let parsed = url.parse::<Url>().map_err(|e| ChainError::BadUrl { detail: format!("the remote signer's URL: {e}") })?;
        let shown = redacted(&parsed);
        let mut signer = Self { url: parsed, shown, address: Address::ZERO };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ChainError::Answer(format!("cannot start the async runtime: {e}")))?;
        let accounts = runtime
            .block_on(signer.request("eth_accounts", serde_json::json!([])))
            .and_then(|answer| serde_json::from_value::<Vec<Address>>(answer).map_err(|_| "the answer is not a list of addresses".into()))
            .map_err(|reason| signer.error(&format!("eth_accounts: {reason}")))?;
        signer.address = match (address, accounts.as_slice()) {
            (Some(wanted), listed) if listed.contains(&wanted) => wanted,
            (Some(wanted), listed) => return Err(signer.error(&format!("it does not hold {wanted} (it lists {})", list(listed)))),
            (None, [only]) => *only,
            (None, []) => return Err(signer.error("it lists no account")),
            (None, listed) => {
                return Err(signer.error(&format!(
                    "it holds {} accounts ({}): name one with the signer's address",
                    listed.len(),
                    list(listed)
                )))
            }
        };
        Ok(signer)
    }

    /// The account that signs.
    pub fn address(&self) -> Address {
        self.address
    }

    fn error(&self, reason: &str) -> ChainError {
        ChainError::Key(format!("the remote signer at {}: {reason}", self.shown))
    }

    /// One JSON-RPC call on a fresh connection: the signer is asked rarely, and from whichever
    /// runtime is signing, so no connection is kept between calls.
    async fn request(&self, method: &'static str, params: serde_json::Value) -> Result<serde_json::Value, String> {
        // HTTPS as for the nodes: rustls on the ring provider (a second install fails harmlessly).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = alloy::transports::http::reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {}", zkpolicy_prover::describe(&e)))?;
        let client = RpcClient::new_http_with_client(http, self.url.clone());
        let answer = tokio::time::timeout(TIMEOUT, client.request(method, params)).await;
        match answer {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(scrub_urls(&zkpolicy_prover::describe(&e))),
            Err(_) => Err(format!("no answer to {method} within {} s", TIMEOUT.as_secs())),
        }
    }
}

/// `eth_signTransaction`'s parameter for an EIP-1559 transaction, in the fields Web3Signer
/// and Clef read (`data`, not `input`).
fn request_of(from: Address, tx: &dyn SignableTransaction<Signature>) -> Result<serde_json::Value, String> {
    let chain_id = tx.chain_id().ok_or("the transaction names no chain id")?;
    let priority = tx.max_priority_fee_per_gas().ok_or("only EIP-1559 transactions are signed remotely")?;
    let mut request = serde_json::json!({
        "from": from,
        "gas": format!("{:#x}", tx.gas_limit()),
        "maxFeePerGas": format!("{:#x}", tx.max_fee_per_gas()),
        "maxPriorityFeePerGas": format!("{priority:#x}"),
        "nonce": format!("{:#x}", tx.nonce()),
        "value": format!("{:#x}", tx.value()),
        "data": tx.input(),
        "chainId": format!("{chain_id:#x}"),
    });
    if let TxKind::Call(to) = tx.kind() {
        request["to"] = serde_json::json!(to);
    }
    Ok(request)
}

/// The signed transaction in a signer's answer: Web3Signer answers with the raw hex, Clef
/// (and geth) with `{raw, tx}`.
fn raw_of(answer: &serde_json::Value) -> Result<Vec<u8>, String> {
    let hex_text = match answer {
        serde_json::Value::String(raw) => raw.as_str(),
        serde_json::Value::Object(fields) => fields.get("raw").and_then(|r| r.as_str()).ok_or("the answer has no \"raw\" field")?,
        _ => return Err("the answer is neither the raw transaction nor {raw, tx}".into()),
    };
    hex::decode(hex_text.strip_prefix("0x").unwrap_or(hex_text)).map_err(|_| "the raw transaction is not hex".to_string())
}

/// The signature in `raw`, if `raw` is `expected` (by its signing hash) signed by `from`.
fn checked_signature(raw: &[u8], expected: alloy::primitives::B256, from: Address) -> Result<Signature, String> {
    let envelope = TxEnvelope::decode_2718_exact(raw).map_err(|e| format!("the signed transaction does not decode: {e}"))?;
    let TxEnvelope::Eip1559(signed) = envelope else {
        return Err(format!("it returned a transaction of type {}, not the EIP-1559 one asked for", envelope.tx_type()));
    };
    if signed.signature_hash() != expected {
        return Err(
            "it signed a different transaction from the one asked for (another chain, nonce, fee, gas limit, recipient, value or calldata)"
                .into(),
        );
    }
    let signer = signed.signature().recover_address_from_prehash(&expected).map_err(|e| format!("its signature does not recover: {e}"))?;
    if signer != from {
        return Err(format!("the transaction is signed by {signer}, not by {from}"));
    }
    Ok(*signed.signature())
}

#[async_trait::async_trait]
impl TxSigner<Signature> for RemoteSigner {
    fn address(&self) -> Address {
        self.address
    }

    async fn sign_transaction(&self, tx: &mut dyn SignableTransaction<Signature>) -> alloy::signers::Result<Signature> {
        let refuse = |reason: String| alloy::signers::Error::other(format!("the remote signer at {}: {reason}", self.shown));
        let request = request_of(self.address, tx).map_err(refuse)?;
        let expected = tx.signature_hash();
        let answer = self.request("eth_signTransaction", serde_json::json!([request])).await.map_err(refuse)?;
        let raw = raw_of(&answer).map_err(refuse)?;
        checked_signature(&raw, expected, self.address).map_err(refuse)
    }
}

fn list(accounts: &[Address]) -> String {
    accounts.iter().map(Address::to_string).collect::<Vec<_>>().join(", ")
}
