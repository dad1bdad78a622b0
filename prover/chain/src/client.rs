//! A blocking JSON-RPC client: one provider, an optional signer, its own runtime.

use std::future::{Future, IntoFuture};
use std::time::Duration;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Log, TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;
use alloy::transports::{RpcError, TransportErrorKind};
use zkpolicy_contracts::revert_reason;

use super::ChainError;

/// How long any one request may take.
const TIMEOUT: Duration = Duration::from_secs(60);
/// How long an idle HTTP connection is kept for the next request.
const IDLE: Duration = Duration::from_secs(2);
/// The most calls [`Client::calls`] puts in one JSON-RPC batch (hosted endpoints cap batches,
/// commonly at 100 to 1,000 requests).
pub const BATCH: usize = 100;
/// How long a sent transaction may take to be mined.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(600);

/// A mined transaction.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The transaction hash.
    pub tx: B256,
    /// The block it was mined in.
    pub block: u64,
    /// The gas it used (units of gas, not wei).
    pub gas: u64,
    /// The created contract, for deployments.
    pub address: Option<Address>,
    /// Every log of its receipt, from every contract, in order; callers decode the events
    /// they expect from the address they expect.
    pub logs: Vec<Log>,
}

/// A connection to one JSON-RPC node, with the account that signs, if any. Every request
/// blocks on the client's own runtime and waits at most 60 s for an answer (a sent
/// transaction's receipt, 10 min).
pub struct Client {
    runtime: tokio::runtime::Runtime,
    provider: DynProvider,
    /// The URL as shown in messages (see [`redacted`]).
    url: String,
    from: Option<Address>,
    chain_id: u64,
}

impl Client {
    /// Connects to `url` (and checks the node answers), signing with `signer` if given.
    pub fn connect(url: &str, signer: Option<PrivateKeySigner>) -> Result<Self, ChainError> {
        Self::connect_with(url, signer.map(|s| crate::signer::Signer { address: s.address(), wallet: EthereumWallet::from(s) }))
    }

    /// Connects to `url`, signing with `signer` (a local key or a remote signer) if given.
    pub fn connect_with(url: &str, signer: Option<crate::signer::Signer>) -> Result<Self, ChainError> {
        // RPC URLs often carry an API key: messages show only scheme, host and port.
        let parsed = url.parse::<Url>().map_err(|e| ChainError::BadUrl { detail: e.to_string() })?;
        let shown = redacted(&parsed);
        // HTTPS endpoints: rustls on the ring provider, with the platform's root certificates
        // (`SSL_CERT_FILE` / `SSL_CERT_DIR` name others, e.g. a private CA). Installing it a
        // second time in one process fails harmlessly.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ChainError::Answer(format!("cannot start the async runtime: {e}")))?;
        let from = signer.as_ref().map(|s| s.address);
        // The nonce comes from the node for every transaction: a cached nonce is consumed even
        // when the transaction is never sent (a call that would revert fails at gas
        // estimation), and every later transaction from this client would then be refused.
        let builder =
            ProviderBuilder::new().disable_recommended_fillers().with_gas_estimation().with_simple_nonce_management().fetch_chain_id();
        // Idle connections are dropped after IDLE: a node closes its kept-alive connections
        // after a few seconds of silence (Node.js, hence Hardhat, after 5 s), and a request
        // sent on one just as it closes fails with "connection closed before message completed".
        let http = alloy::transports::http::reqwest::Client::builder()
            .pool_idle_timeout(IDLE)
            .build()
            .map_err(|e| ChainError::Answer(format!("cannot build the HTTP client: {}", zkpolicy_prover::describe(&e))))?;
        let rpc = alloy::rpc::client::RpcClient::new_http_with_client(http, parsed);
        let provider = match signer {
            Some(signer) => builder.wallet(signer.wallet).connect_client(rpc).erased(),
            None => builder.connect_client(rpc).erased(),
        };
        let mut client = Self { runtime, provider, url: shown, from, chain_id: 0 };
        client.chain_id = client.block_on("eth_chainId", |p| async move { p.get_chain_id().await })?;
        Ok(client)
    }

    /// The chain id the node reported when the client connected.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The signing account.
    pub fn from(&self) -> Result<Address, ChainError> {
        self.from.ok_or_else(|| ChainError::Key("this command sends a transaction and needs a signing key".into()))
    }

    /// Deploys `code` (creation bytecode with constructor arguments appended).
    pub fn deploy(&self, what: &str, code: Vec<u8>) -> Result<Sent, ChainError> {
        let tx = TransactionRequest::default().with_from(self.from()?).with_deploy_code(code);
        let sent = self.send_request(what, tx)?;
        if sent.address.is_none() {
            return Err(ChainError::Answer(format!("the receipt of the {what} deployment names no contract address")));
        }
        Ok(sent)
    }

    /// Sends a call transaction and waits for its receipt. A call the chain would revert
    /// fails at gas estimation, before anything is sent, with the decoded reason.
    pub fn send(&self, what: &str, to: Address, input: Vec<u8>) -> Result<Sent, ChainError> {
        let tx = TransactionRequest::default().with_from(self.from()?).with_to(to).with_input(input);
        self.send_request(what, tx)
    }

    /// A read-only call.
    pub fn call(&self, what: &str, to: Address, input: Vec<u8>) -> Result<Bytes, ChainError> {
        let tx = TransactionRequest::default().with_to(to).with_input(input);
        self.block_on(what, |p| async move { p.call(tx).await })
    }

    /// Read-only calls sent together as JSON-RPC batches (at most [`BATCH`] calls each, one
    /// HTTP request per batch), answered in order, each call's revert or error its own. A
    /// node that refuses batches is asked one call at a time.
    pub fn calls(&self, what: &str, calls: &[(Address, Vec<u8>)]) -> Result<Vec<Result<Bytes, ChainError>>, ChainError> {
        let mut answers = Vec::with_capacity(calls.len());
        for chunk in calls.chunks(BATCH) {
            match self.batch_of(what, chunk) {
                Ok(batch) => answers.extend(batch),
                // A node that refuses batches (an HTTP error, an answer that is no batch): one
                // call at a time, unless the node cannot be reached at all.
                Err(_) => {
                    for (to, input) in chunk {
                        match self.call(what, *to, input.clone()) {
                            Err(err @ ChainError::Unreachable { .. }) => return Err(err),
                            answer => answers.push(answer),
                        }
                    }
                }
            }
        }
        Ok(answers)
    }

    /// One JSON-RPC batch of `eth_call`s at the latest block.
    fn batch_of(&self, what: &str, calls: &[(Address, Vec<u8>)]) -> Result<Vec<Result<Bytes, ChainError>>, ChainError> {
        let provider = self.provider.clone();
        let requests: Vec<(TransactionRequest, &'static str)> =
            calls.iter().map(|(to, input)| (TransactionRequest::default().with_to(*to).with_input(input.clone()), "latest")).collect();
        let answers = self.runtime.block_on(async move {
            let mut batch = alloy::rpc::client::BatchRequest::new(provider.client());
            let mut waiters = Vec::with_capacity(requests.len());
            for request in &requests {
                waiters.push(batch.add_call::<_, Bytes>("eth_call", request)?);
            }
            tokio::time::timeout(TIMEOUT, batch.send()).await.map_err(|_| TransportErrorKind::custom_str("no answer to the batch"))??;
            let mut answers = Vec::with_capacity(waiters.len());
            for waiter in waiters {
                answers.push(waiter.await);
            }
            Ok::<_, RpcError<TransportErrorKind>>(answers)
        });
        match answers {
            Ok(answers) => Ok(answers.into_iter().map(|a| a.map_err(|e| self.classify(what, e))).collect()),
            Err(err) => Err(self.classify(what, err)),
        }
    }

    /// The runtime code at `address` (empty when none).
    pub fn code(&self, what: &str, address: Address) -> Result<Vec<u8>, ChainError> {
        Ok(self.block_on(what, |p| async move { p.get_code_at(address).await })?.to_vec())
    }

    /// Any JSON-RPC method, e.g. a development node's `evm_increaseTime`.
    pub fn request(&self, method: &'static str, params: serde_json::Value) -> Result<serde_json::Value, ChainError> {
        self.block_on(method, |p| async move { p.raw_request::<_, serde_json::Value>(method.into(), params).await })
    }

    /// The latest block's time (unix seconds): the clock that epochs, snapshot ages and
    /// delays are measured by.
    pub fn chain_time(&self) -> Result<u64, ChainError> {
        let block = self.request("eth_getBlockByNumber", serde_json::json!(["latest", false]))?;
        block["timestamp"]
            .as_str()
            .and_then(|t| u64::from_str_radix(t.trim_start_matches("0x"), 16).ok())
            .ok_or_else(|| ChainError::Answer("the latest block has no timestamp".into()))
    }

    /// The latest block number.
    pub fn block_number(&self) -> Result<u64, ChainError> {
        self.block_on("eth_blockNumber", |p| async move { p.get_block_number().await })
    }

    /// The gas `from` would need to call `to` with `input`: `Ok(Err(data))` when the call
    /// reverts, with the revert data for the caller to decode.
    pub fn estimate_gas(&self, from: Address, to: Address, input: Vec<u8>) -> Result<Result<u64, Bytes>, ChainError> {
        let tx = TransactionRequest::default().with_from(from).with_to(to).with_input(input);
        let fut = self.provider.estimate_gas(tx).into_future();
        match self.runtime.block_on(async { tokio::time::timeout(TIMEOUT, fut).await }) {
            Ok(Ok(gas)) => Ok(Ok(gas)),
            Ok(Err(err)) => match err.as_error_resp().and_then(|payload| payload.as_revert_data()) {
                Some(data) => Ok(Err(data)),
                None => Err(self.classify("gas estimate", err)),
            },
            Err(_) => Err(ChainError::Unreachable {
                url: self.url.clone(),
                detail: format!("no answer to the gas estimate within {} s", TIMEOUT.as_secs()),
            }),
        }
    }

    /// `address`'s transaction count: mined (`pending = false`) or including the node's pool.
    pub fn nonce(&self, address: Address, pending: bool) -> Result<u64, ChainError> {
        self.block_on("eth_getTransactionCount", |p| async move {
            let count = p.get_transaction_count(address);
            if pending {
                count.pending().await
            } else {
                count.latest().await
            }
        })
    }

    /// The node's EIP-1559 fee suggestion: `(max_fee_per_gas, max_priority_fee_per_gas)` in wei.
    pub fn fees(&self) -> Result<(u128, u128), ChainError> {
        let fees = self.block_on("fee estimate", |p| async move { p.estimate_eip1559_fees().await })?;
        Ok((fees.max_fee_per_gas, fees.max_priority_fee_per_gas))
    }

    /// Signs `tx` (complete: nonce, gas, fees, chain id) with `wallet`: its hash and its raw bytes.
    pub fn sign(&self, wallet: &EthereumWallet, tx: TransactionRequest) -> Result<(B256, Vec<u8>), ChainError> {
        use alloy::eips::eip2718::Encodable2718;
        use alloy::network::NetworkTransactionBuilder;
        let envelope = self
            .runtime
            .block_on(tx.build(wallet))
            .map_err(|e| ChainError::Key(format!("cannot sign the transaction: {}", zkpolicy_prover::describe(&e))))?;
        Ok((*envelope.tx_hash(), envelope.encoded_2718()))
    }

    /// Broadcasts a signed transaction. A node that already holds it answers with an
    /// error some nodes word as "already known": that counts as sent.
    pub fn send_raw(&self, raw: &[u8]) -> Result<(), ChainError> {
        let raw = raw.to_vec();
        match self.block_on("eth_sendRawTransaction", |p| async move { p.send_raw_transaction(&raw).await.map(|_| ()) }) {
            Err(ChainError::Node { message, .. }) if message.to_ascii_lowercase().contains("already known") => Ok(()),
            other => other,
        }
    }

    /// Whether the node knows the transaction `hash` (mined or in its pool).
    pub fn knows(&self, hash: B256) -> Result<bool, ChainError> {
        Ok(self.block_on("eth_getTransactionByHash", |p| async move { p.get_transaction_by_hash(hash).await })?.is_some())
    }

    /// The receipt of `hash`, once mined.
    pub fn receipt(&self, hash: B256) -> Result<Option<TransactionReceipt>, ChainError> {
        self.block_on("eth_getTransactionReceipt", |p| async move { p.get_transaction_receipt(hash).await })
    }

    /// The URL as messages and metrics show it (no path, query or credentials).
    pub fn shown_url(&self) -> &str {
        &self.url
    }

    fn send_request(&self, what: &str, tx: TransactionRequest) -> Result<Sent, ChainError> {
        let pending = self.block_on(what, |p| async move { p.send_transaction(tx).await })?;
        let hash = *pending.tx_hash();
        let waited = self.runtime.block_on(pending.with_timeout(Some(RECEIPT_TIMEOUT)).get_receipt());
        let receipt: TransactionReceipt =
            waited.map_err(|e| ChainError::Answer(format!("the {what} transaction {hash} was sent, but no receipt came back: {e}")))?;
        if !receipt.status() {
            return Err(ChainError::Rejected {
                reason: match receipt.block_number {
                    Some(block) => format!("the {what} transaction {} reverted in block {block}", receipt.transaction_hash),
                    None => format!("the {what} transaction {} reverted", receipt.transaction_hash),
                },
            });
        }
        Ok(Sent {
            tx: receipt.transaction_hash,
            block: receipt.block_number.unwrap_or_default(),
            gas: receipt.gas_used,
            address: receipt.contract_address,
            logs: receipt.inner.logs().to_vec(),
        })
    }

    fn block_on<T, F, Fut>(&self, what: &str, f: F) -> Result<T, ChainError>
    where
        F: FnOnce(DynProvider) -> Fut,
        Fut: Future<Output = Result<T, RpcError<TransportErrorKind>>>,
    {
        let fut = f(self.provider.clone());
        match self.runtime.block_on(async { tokio::time::timeout(TIMEOUT, fut).await }) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(self.classify(what, err)),
            Err(_) => Err(ChainError::Unreachable {
                url: self.url.clone(),
                detail: format!("no answer to the {what} within {} s", TIMEOUT.as_secs()),
            }),
        }
    }

    fn classify(&self, what: &str, err: RpcError<TransportErrorKind>) -> ChainError {
        if let Some(payload) = err.as_error_resp() {
            return match payload.as_revert_data() {
                Some(data) => ChainError::Rejected { reason: format!("the {what} reverts with {}", revert_reason(&data)) },
                None => ChainError::Node { what: what.into(), message: payload.message.to_string() },
            };
        }
        match err {
            RpcError::Transport(kind) => {
                // The HTTP library quotes the URL it was given, and not always in the form the
                // user wrote (it drops credentials), so every URL in the text is redacted.
                ChainError::Unreachable { url: self.url.clone(), detail: scrub_urls(&zkpolicy_prover::describe(&kind)) }
            }
            other => ChainError::Answer(scrub_urls(&format!("{what}: {other}"))),
        }
    }
}

/// `text` with every `http(s)://` or `ws(s)://` URL in it, in any letter case, shown as
/// [`redacted`] shows it (a URL runs to the next space, quote, parenthesis or bracket).
pub fn scrub_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        // ASCII lowercasing keeps every byte offset, so positions found in it index `rest`.
        let lower = rest.to_ascii_lowercase();
        let Some(at) = ["http://", "https://", "ws://", "wss://"].iter().filter_map(|s| lower.find(s)).min() else { break };
        out.push_str(&rest[..at]);
        let end = rest[at..].find(|c: char| c.is_whitespace() || "()[]<>\"'`".contains(c)).map_or(rest.len(), |e| at + e);
        match rest[at..end].parse::<Url>() {
            Ok(url) => out.push_str(&redacted(&url)),
            Err(_) => out.push_str("<url>"),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `scheme://host[:port]`, with `/…` when the URL has a path, query or credentials.
pub fn redacted(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        shown.push_str("/…");
    }
    shown
}
