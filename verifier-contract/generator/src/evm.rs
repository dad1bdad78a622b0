//! An in-process EVM (revm, Osaka rules) to deploy contracts and call them.

use revm::context::TxEnv;
use revm::database::{CacheDB, EmptyDB};
use revm::handler::{MainnetContext, MainnetEvm};
use std::collections::HashMap;

use revm::primitives::{Address, Bytes, TxKind, U256};
use revm::state::AccountInfo;
use revm::{Context, ExecuteCommitEvm, MainBuilder, MainContext};

/// EIP-170: the largest runtime bytecode mainnet accepts.
pub const MAX_RUNTIME_BYTES: usize = 24_576;

/// Why a transaction did not run in the in-process EVM.
#[derive(Debug, thiserror::Error)]
pub enum EvmError {
    /// revm refused to build or execute the transaction (not a revert, which a
    /// [`CallOutcome`] reports as `success: false`).
    #[error("the EVM refused the transaction: {0}")]
    Transaction(String),
    /// The creation transaction ran but created no contract (it reverted or halted).
    #[error("deployment failed: {0}")]
    Deploy(String),
}

/// The result of a call: whether it returned (not reverted), its output and the gas the
/// whole transaction used (intrinsic and calldata gas included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOutcome {
    /// The call returned rather than reverted or halted.
    pub success: bool,
    /// The return data, or the revert data when `success` is false.
    pub output: Vec<u8>,
    /// Gas of the whole transaction.
    pub gas_used: u64,
    /// Events emitted, as (topics, data).
    pub logs: Vec<(Vec<[u8; 32]>, Vec<u8>)>,
}

/// A deployed contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// Where the contract lives.
    pub address: Address,
    /// Gas of the creation transaction.
    pub gas_used: u64,
    /// Size of the deployed runtime code, to compare with [`MAX_RUNTIME_BYTES`].
    pub runtime_bytes: usize,
}

/// A fresh chain in memory with one funded sender: deploys and calls run as real
/// transactions (nonces, gas accounting, block timestamp), for tests, benchmarks and the
/// `demo`'s on-chain loop.
pub struct Evm {
    inner: MainnetEvm<MainnetContext<CacheDB<EmptyDB>>>,
    caller: Address,
    nonces: HashMap<Address, u64>,
}

impl Default for Evm {
    fn default() -> Self {
        Self::new()
    }
}

impl Evm {
    /// An empty chain at block 1, timestamp 1,700,000,000, with a caller holding 10^24 wei.
    pub fn new() -> Self {
        let caller = Address::repeat_byte(0x11);
        let mut db = CacheDB::<EmptyDB>::default();
        db.insert_account_info(caller, AccountInfo { balance: U256::from(10u128.pow(24)), ..Default::default() });
        let mut inner = Context::mainnet().with_db(db).build_mainnet();
        inner.ctx.block.timestamp = U256::from(1_700_000_000u64);
        inner.ctx.block.number = U256::from(1u64);
        Self { inner, caller, nonces: HashMap::new() }
    }

    /// The default sender of `deploy` and `call`.
    pub fn caller(&self) -> Address {
        self.caller
    }

    /// The current block's timestamp (unix seconds).
    pub fn timestamp(&self) -> u64 {
        self.inner.ctx.block.timestamp.saturating_to()
    }

    /// Moves the clock (and the block number) forward by `seconds`.
    pub fn advance(&mut self, seconds: u64) {
        self.inner.ctx.block.timestamp += U256::from(seconds);
        self.inner.ctx.block.number += U256::from(1u64);
    }

    fn transact(&mut self, from: Address, kind: TxKind, data: Vec<u8>) -> Result<revm::context::result::ExecutionResult, EvmError> {
        let nonce = self.nonces.get(&from).copied().unwrap_or(0);
        let tx = TxEnv::builder()
            .caller(from)
            .kind(kind)
            .data(Bytes::from(data))
            .gas_limit(16_000_000)
            .gas_price(0)
            .nonce(nonce)
            .build()
            .map_err(|e| EvmError::Transaction(format!("{e:?}")))?;
        let result = self.inner.transact_commit(tx).map_err(|e| EvmError::Transaction(format!("{e:?}")))?;
        self.nonces.insert(from, nonce + 1);
        Ok(result)
    }

    /// Deploys `creation_code` (constructor arguments appended) from the default caller.
    pub fn deploy(&mut self, creation_code: Vec<u8>) -> Result<Deployment, EvmError> {
        let result = self.transact(self.caller, TxKind::Create, creation_code)?;
        let gas_used = result.tx_gas_used();
        let address = result.created_address().ok_or_else(|| EvmError::Deploy(format!("{result:?}")))?;
        let runtime_bytes = self
            .inner
            .ctx
            .journaled_state
            .database
            .cache
            .accounts
            .get(&address)
            .and_then(|a| a.info.code.as_ref().map(|c| c.original_bytes().len()))
            .unwrap_or(0);
        Ok(Deployment { address, gas_used, runtime_bytes })
    }

    /// Sends `data` to `to` from the default caller, committing any state change.
    pub fn call(&mut self, to: Address, data: Vec<u8>) -> Result<CallOutcome, EvmError> {
        self.call_from(self.caller, to, data)
    }

    /// A call sent by `from` (gas is free, so any address can send).
    pub fn call_from(&mut self, from: Address, to: Address, data: Vec<u8>) -> Result<CallOutcome, EvmError> {
        let result = self.transact(from, TxKind::Call(to), data)?;
        Ok(CallOutcome {
            success: result.is_success(),
            output: result.output().map(|o| o.to_vec()).unwrap_or_default(),
            gas_used: result.tx_gas_used(),
            logs: result.logs().iter().map(|l| (l.topics().iter().map(|t| t.0).collect(), l.data.data.to_vec())).collect(),
        })
    }
}
