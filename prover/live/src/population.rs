//! The agent accounts of a live run: real keys, real transactions.
//!
//! Every agent is an externally owned account whose key is derived from the run's seed
//! (so a run can be repeated on a fresh node), funded by the deployer at setup. Agents
//! sign their own EIP-1559 transactions with explicit nonces; on a node that mines on
//! arrival (the local node), each is mined before the next is sent, so an epoch's
//! transactions land in the order the driver chose.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use serde::Serialize;

use super::LiveError;
use zkpolicy_chain::{ChainError, Client};

/// What an agent does in the economy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// One of the top-10 holders: keeps 70 % staked, compounds rewards, buys dips.
    Whale,
    /// Stakes toward the share the reward and the price trend make attractive.
    Staker,
    /// Provides liquidity for fee and incentive yield, net of impermanent loss.
    LiquidityProvider,
    /// Round-trip volume, and noise, momentum and value order flow.
    Trader,
    /// The emission's recipients (LP incentives, ecosystem grants): sells half of it.
    Ecosystem,
}

impl Role {
    /// The role's name in the report and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Whale => "whale",
            Self::Staker => "staker",
            Self::LiquidityProvider => "lp",
            Self::Trader => "trader",
            Self::Ecosystem => "ecosystem",
        }
    }
}

/// The roles of `n` agents: up to ten whales (one per ten agents), one ecosystem account,
/// and the rest three stakers : two LPs : four traders (at least one of each).
pub fn roles(n: usize) -> Result<Vec<Role>, LiveError> {
    if n < 5 {
        return Err(LiveError::Config(format!("--agents: at least 5 (one whale, staker, LP, trader and the ecosystem), got {n}")));
    }
    let whales = (n / 10).clamp(1, 10);
    let rest = n - whales - 1;
    let stakers = (rest * 3 / 9).max(1);
    let lps = (rest * 2 / 9).max(1);
    let traders = rest - stakers - lps;
    let mut out = vec![Role::Whale; whales];
    out.push(Role::Ecosystem);
    out.extend(std::iter::repeat_n(Role::Staker, stakers));
    out.extend(std::iter::repeat_n(Role::LiquidityProvider, lps));
    out.extend(std::iter::repeat_n(Role::Trader, traders));
    Ok(out)
}

/// One account the driver signs for.
pub struct Account {
    /// The agent's role; `None` for the deployer and the attackers.
    pub role: Option<Role>,
    /// The account's address.
    pub address: Address,
    wallet: EthereumWallet,
    nonce: u64,
}

/// A mined transaction's outcome.
#[derive(Clone, Copy, Debug)]
pub struct Mined {
    /// The transaction hash.
    pub hash: B256,
    /// The gas it used (units).
    pub gas: u64,
    /// It did not revert.
    pub success: bool,
}

/// Gas and transaction counts per contract called (`eth transfer` for plain payments).
#[derive(Clone, Debug, Default, Serialize)]
pub struct GasBook {
    /// Each contract's account, by the name the population gave its address (`deployment`
    /// for contract creations).
    pub by_contract: BTreeMap<String, ContractGas>,
}

/// The transactions sent to one contract, and their gas.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ContractGas {
    /// Transactions mined, reverted ones included.
    pub transactions: u64,
    /// Gas they used (units).
    pub gas: u64,
    /// How many of them reverted.
    pub reverted: u64,
}

impl GasBook {
    /// Books one mined transaction to `contract`.
    pub fn add(&mut self, contract: &str, gas: u64, success: bool) {
        let entry = self.by_contract.entry(contract.to_string()).or_default();
        entry.transactions += 1;
        entry.gas += gas;
        entry.reverted += u64::from(!success);
    }

    /// Transactions booked, to every contract.
    pub fn transactions(&self) -> u64 {
        self.by_contract.values().map(|c| c.transactions).sum()
    }

    /// Reverted transactions booked, to every contract.
    pub fn reverted(&self) -> u64 {
        self.by_contract.values().map(|c| c.reverted).sum()
    }

    /// Adds `other`'s counts to this book (an epoch's into the run's).
    pub fn merge(&mut self, other: &GasBook) {
        for (name, c) in &other.by_contract {
            let entry = self.by_contract.entry(name.clone()).or_default();
            entry.transactions += c.transactions;
            entry.gas += c.gas;
            entry.reverted += c.reverted;
        }
    }
}

/// The deployer (index 0) and the agents (1..), with the chain's fee and gas rules.
pub struct Population {
    /// The deployer, the agents in their roles' order, then any attackers.
    pub accounts: Vec<Account>,
    chain_id: u64,
    fees: (u128, u128),
    /// Contract names by address, for the gas book.
    names: BTreeMap<Address, String>,
}

/// Gas limit of every agent transaction: above what any of them uses (an LP's first
/// deposit, about 150k), so none runs out.
const GAS_LIMIT: u64 = 400_000;
/// How long a sent transaction may take to be mined.
const MINE_TIMEOUT: Duration = Duration::from_secs(120);

/// The private key of agent `i` of the run seeded `seed`: keccak256 of a domain tag, the
/// seed and the index (re-hashed in the negligible case it is not a valid key).
pub(super) fn agent_key(seed: u64, i: usize) -> PrivateKeySigner {
    let mut bytes = keccak256([b"zkpolicy live agent".as_slice(), &seed.to_le_bytes(), &(i as u64).to_le_bytes()].concat());
    loop {
        if let Ok(signer) = PrivateKeySigner::from_bytes(&bytes) {
            return signer;
        }
        bytes = keccak256(bytes);
    }
}

impl Population {
    /// The deployer and `roles.len()` agents with keys derived from `seed`; nonces from the node.
    pub fn new(client: &Client, deployer: PrivateKeySigner, roles: &[Role], seed: u64) -> Result<Self, LiveError> {
        let mut accounts = Vec::with_capacity(roles.len() + 1);
        let mut add = |role: Option<Role>, signer: PrivateKeySigner| -> Result<(), ChainError> {
            let address = signer.address();
            let nonce = client.nonce(address, true)?;
            accounts.push(Account { role, address, wallet: EthereumWallet::from(signer), nonce });
            Ok(())
        };
        add(None, deployer)?;
        for (i, role) in roles.iter().enumerate() {
            add(Some(*role), agent_key(seed, i))?;
        }
        let mut population = Self { accounts, chain_id: client.chain_id(), fees: (0, 0), names: BTreeMap::new() };
        population.refresh_fees(client)?;
        Ok(population)
    }

    /// Adds an account the driver signs for (role-less: an attacker); returns its index.
    pub fn add(&mut self, client: &Client, signer: PrivateKeySigner) -> Result<usize, LiveError> {
        let address = signer.address();
        let nonce = client.nonce(address, true)?;
        self.accounts.push(Account { role: None, address, wallet: EthereumWallet::from(signer), nonce });
        Ok(self.accounts.len() - 1)
    }

    /// Reads account `i`'s nonce from the node again (after it sent transactions elsewhere).
    pub fn resync(&mut self, client: &Client, i: usize) -> Result<(), LiveError> {
        let account = &mut self.accounts[i];
        account.nonce = client.nonce(account.address, true)?;
        Ok(())
    }

    /// Names `address` in the gas book.
    pub fn name(&mut self, address: Address, name: &str) {
        self.names.insert(address, name.to_string());
    }

    /// Prices the next transactions at twice the node's suggestion (the base fee may rise
    /// while an epoch's transactions are mined).
    pub fn refresh_fees(&mut self, client: &Client) -> Result<(), LiveError> {
        let (fee, priority) = client.fees()?;
        self.fees = (fee.saturating_mul(2).max(priority), priority);
        Ok(())
    }

    /// The accounts with `role`, by index.
    pub fn with_role(&self, role: Role) -> Vec<usize> {
        (0..self.accounts.len()).filter(|&i| self.accounts[i].role == Some(role)).collect()
    }

    /// Account `i`'s address.
    pub fn address(&self, i: usize) -> Address {
        self.accounts[i].address
    }

    /// Signs and sends a call (or a payment, with `value`) from account `i`, waits until it
    /// is mined and books its gas. A reverted transaction is booked and returned, not an error.
    pub fn send(
        &mut self,
        client: &Client,
        i: usize,
        to: Address,
        input: Vec<u8>,
        value: U256,
        book: &mut GasBook,
    ) -> Result<Mined, LiveError> {
        self.transact(client, i, Some(to), input, value, GAS_LIMIT, book).map(|(mined, _)| mined)
    }

    /// [`Population::send`] of a call with its own gas limit.
    pub fn send_limited(
        &mut self,
        client: &Client,
        i: usize,
        to: Address,
        input: Vec<u8>,
        gas_limit: u64,
        book: &mut GasBook,
    ) -> Result<Mined, LiveError> {
        self.transact(client, i, Some(to), input, U256::ZERO, gas_limit, book).map(|(mined, _)| mined)
    }

    /// Deploys `init` (creation code and constructor arguments) from account `i`.
    pub fn deploy(&mut self, client: &Client, i: usize, init: Vec<u8>, book: &mut GasBook) -> Result<Address, LiveError> {
        let (mined, created) = self.transact(client, i, None, init, U256::ZERO, 5_000_000, book)?;
        match created {
            Some(address) if mined.success => Ok(address),
            _ => Err(LiveError::Chain(ChainError::Rejected { reason: format!("the deployment {} reverted", mined.hash) })),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn transact(
        &mut self,
        client: &Client,
        i: usize,
        to: Option<Address>,
        input: Vec<u8>,
        value: U256,
        gas_limit: u64,
        book: &mut GasBook,
    ) -> Result<(Mined, Option<Address>), LiveError> {
        let account = &mut self.accounts[i];
        let tx = TransactionRequest::default()
            .with_from(account.address)
            .with_value(value)
            .with_nonce(account.nonce)
            .with_chain_id(self.chain_id)
            .with_gas_limit(gas_limit)
            .with_max_fee_per_gas(self.fees.0)
            .with_max_priority_fee_per_gas(self.fees.1);
        let tx = match to {
            Some(to) => tx.with_to(to).with_input(input),
            None => tx.with_deploy_code(input),
        };
        let (hash, raw) = client.sign(&account.wallet, tx)?;
        let contract = match to {
            Some(to) => self.names.get(&to).cloned().unwrap_or_else(|| "eth transfer".to_string()),
            None => "deployment".to_string(),
        };
        if let Err(err) = client.send_raw(&raw) {
            // A development node that mines on arrival may answer a reverted transaction with
            // an error, having mined it: then its receipt says so. Otherwise it was not sent.
            if client.receipt(hash)?.is_none() {
                let who = account.role.map_or("the deployer", Role::name);
                return Err(LiveError::Chain(ChainError::Rejected {
                    reason: format!("{who} {}'s call to the {contract}: {err}", account.address),
                }));
            }
        }
        account.nonce += 1;
        let started = Instant::now();
        let receipt = loop {
            if let Some(receipt) = client.receipt(hash)? {
                break receipt;
            }
            if started.elapsed() > MINE_TIMEOUT {
                return Err(LiveError::Chain(ChainError::Answer(format!(
                    "transaction {hash} was not mined within {} s (does the node mine on arrival?)",
                    MINE_TIMEOUT.as_secs()
                ))));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mined = Mined { hash, gas: receipt.gas_used, success: receipt.status() };
        book.add(&contract, mined.gas, mined.success);
        Ok((mined, receipt.contract_address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hundred_agents_split_into_every_role() {
        let r = roles(100).expect("valid");
        let count = |role| r.iter().filter(|&&x| x == role).count();
        assert_eq!(r.len(), 100);
        assert_eq!((count(Role::Whale), count(Role::Ecosystem)), (10, 1));
        assert_eq!((count(Role::Staker), count(Role::LiquidityProvider), count(Role::Trader)), (29, 19, 41));
        let small = roles(5).expect("valid");
        assert!([Role::Whale, Role::Staker, Role::LiquidityProvider, Role::Trader, Role::Ecosystem].iter().all(|r| small.contains(r)));
        assert!(matches!(roles(4), Err(LiveError::Config(_))));
    }

    #[test]
    fn agent_keys_are_fixed_by_the_seed() {
        assert_eq!(agent_key(7, 3).address(), agent_key(7, 3).address());
        assert_ne!(agent_key(7, 3).address(), agent_key(8, 3).address());
        assert_ne!(agent_key(7, 3).address(), agent_key(7, 4).address());
    }
}
