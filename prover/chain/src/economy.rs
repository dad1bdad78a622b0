//! The reference token economy and its on-chain KPI source: their deployment (from the
//! `economy` section of a deployment config), the epoch's tick and snapshot.

use alloy::primitives::{keccak256, Address, B256, I256, U256};
use alloy::sol_types::{SolCall, SolConstructor, SolEvent, SolValue};
use serde::{Deserialize, Serialize};
use zkpolicy_contracts::economy::{
    ConstantProductPair, EconomyKpiSource, EconomyTimelock, QuoteToken, StakingVault, TokenEconomy, ZkpToken, ECONOMY_ARTIFACTS,
    ECONOMY_CONTRACTS, MAX_FEE_BPS, MAX_RATE_BPS,
};
use zkpolicy_model::ModelCard;
use zkpolicy_verifier::compile::Compiled;

use super::{ChainError, Client, Deployment, Sent};

/// The economy a deployment creates when its KPIs come from the chain (`"kpi_source":
/// "onchain"`). Amounts are whole tokens (18 decimals on chain); the deployer seeds the
/// pool and the treasury.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EconomyConfig {
    /// The token's initial supply, minted to the deployer.
    pub supply: u64,
    /// The pool's initial tokens, from the deployer's supply.
    pub liquidity_tokens: u64,
    /// The pool's initial quote, minted to the deployer first (the quote is a test asset);
    /// with `liquidity_tokens` it sets the pool's opening price.
    pub liquidity_quote: u64,
    /// The treasury's quote.
    pub treasury_quote: u64,
    /// What the treasury spends a year (treasury_runway's denominator), in quote: its
    /// budget stream pays a 365th of it each epoch.
    pub yearly_spend: u64,
    /// The price target (price_vs_target's), in quote per token, in millionths.
    pub target_price_micro: u64,
    /// The treasury's share of every swap fee, in bps.
    pub protocol_fee_share_bps: u64,
    /// Where emission goes (the LP incentive budget); default: the economy's treasury,
    /// which then holds it.
    #[serde(default)]
    pub incentives: Option<Address>,
    /// Seconds from an epoch's start during which its KPI snapshot may be taken (default
    /// 3600, or half the epoch if shorter; at most half an epoch, so two snapshots are
    /// always at least half an epoch apart): whoever calls first chooses where the
    /// averaging window ends only within this span.
    #[serde(default)]
    pub snapshot_window: Option<u64>,
    /// Who the treasury's budget stream pays (its running costs); default: governance.
    /// Governance changes it, or the amount, through its timelock.
    #[serde(default)]
    pub budget_payee: Option<Address>,
}

impl EconomyConfig {
    /// Checks each field on its own (a nonzero supply, pool and spending, a fee share of at
    /// most 10000 bps); errors name the field as `economy.FIELD`.
    pub fn validate(&self) -> Result<(), ChainError> {
        let bad = |field: &str, why: &str| Err(ChainError::Config(format!("economy.{field}: {why}")));
        if self.supply == 0 {
            return bad("supply", "must be at least 1 token");
        }
        if self.liquidity_tokens == 0 || self.liquidity_quote == 0 {
            return bad("liquidity_tokens", "the pool needs both tokens and quote to price the token");
        }
        if self.liquidity_tokens > self.supply {
            return bad("liquidity_tokens", "is more than the supply");
        }
        if self.yearly_spend == 0 {
            return bad("yearly_spend", "must be positive (it divides the treasury)");
        }
        if self.target_price_micro == 0 {
            return bad("target_price_micro", "must be positive");
        }
        if self.protocol_fee_share_bps > 10_000 {
            return bad("protocol_fee_share_bps", "is at most 10000");
        }
        if self.snapshot_window == Some(0) {
            return bad("snapshot_window", "must be at least 1 second");
        }
        Ok(())
    }

    /// The snapshot window for epochs of `epoch_length` seconds.
    pub fn snapshot_window(&self, epoch_length: u64) -> Result<u64, ChainError> {
        let half = epoch_length / 2;
        match self.snapshot_window {
            Some(w) if w > half => Err(ChainError::Config(format!(
                "economy.snapshot_window: {w} s is longer than half an epoch ({half} s of {epoch_length}): two snapshots \
                 could then be too close for their averages to mean anything"
            ))),
            Some(w) => Ok(w),
            None if half == 0 => Err(ChainError::Config(format!(
                "timing.epoch_length: {epoch_length} s leaves no snapshot window (at most half an epoch); use at least 2 s"
            ))),
            None => Ok(DEFAULT_SNAPSHOT_WINDOW.min(half)),
        }
    }
}

/// An hour: the default span, from each epoch's start, in which its snapshot may be taken.
pub const DEFAULT_SNAPSHOT_WINDOW: u64 = 3_600;

/// The economy's largest value of parameter `index` (bps) and the constant that holds it:
/// `TokenEconomy.MAX_FEE_BPS` for the fee (index 3), `MAX_RATE_BPS` for the three rates.
pub fn parameter_cap(index: usize) -> (u64, &'static str) {
    if index == 3 {
        (MAX_FEE_BPS, "MAX_FEE_BPS")
    } else {
        (MAX_RATE_BPS, "MAX_RATE_BPS")
    }
}

/// Refuses a rail `[min, max]` for the economy's parameter `index` that leaves the range the
/// economy takes: the controller could then set a value the economy refuses (it would keep
/// that parameter's old value), so the deployment or the governance change is refused first.
pub fn check_rail(index: usize, name: &str, min: i64, max: i64) -> Result<(), String> {
    let (cap, constant) = parameter_cap(index);
    if min < 0 || max > cap as i64 {
        return Err(format!(
            "[{index}] ({name}): the rail [{min}, {max}] leaves the economy's range [0, {cap}] (TokenEconomy.{constant}); \
             the economy would refuse the values outside it"
        ));
    }
    Ok(())
}

/// Who governs the economy: the account that proposes and executes through its timelock,
/// and the timelock's delay (the controller's governance delay).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Governance {
    /// The governance account: the timelock's only proposer, canceller and executor, and
    /// the default payee of the treasury's budget stream.
    pub account: Address,
    /// The timelock's minimum delay, in seconds.
    pub delay: u64,
}

/// The economy's addresses, in a deployment record.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EconomyRecord {
    /// The economy's token (`ZkpToken`, 18 decimals); after the initial supply only the
    /// economy mints it.
    #[serde(serialize_with = "super::deployment::checksummed")]
    pub token: Address,
    /// The quote asset (`QuoteToken`) the token is priced and the treasury held in.
    #[serde(serialize_with = "super::deployment::checksummed")]
    pub quote: Address,
    /// `TokenEconomy`: the treasury, and the tick that takes the controller's parameters
    /// and mints, rewards and burns.
    #[serde(serialize_with = "super::deployment::checksummed")]
    pub economy: Address,
    /// The token/quote constant-product pool.
    #[serde(serialize_with = "super::deployment::checksummed")]
    pub pair: Address,
    /// The staking vault that pays the staking rewards.
    #[serde(serialize_with = "super::deployment::checksummed")]
    pub vault: Address,
    /// Governance's timelock: the token's admin and the treasury's only spender (absent in
    /// records of deployments before it existed, whose deployer kept both).
    #[serde(default, serialize_with = "super::deployment::checksummed")]
    pub timelock: Address,
    /// Gas of the whole economy's deployment: its contracts, their wiring, the pool's
    /// seeding and the KPI source's seed.
    pub gas: u64,
    /// The epoch whose call seeded the KPI source's averages at deployment (it has no
    /// KPIs, so the next epoch is the first decidable one); absent when the snapshot
    /// window had closed before the seed, and then the first `snapshot` call seeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeded_epoch: Option<u64>,
}

fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

/// The economy's epochs a year (`TokenEconomy.EPOCHS_PER_YEAR`).
const EPOCHS_PER_YEAR: u64 = 365;

/// What `deploy` does first for an on-chain deployment: governance's timelock, the token,
/// quote, economy, pair and vault, the pool and treasury seeded, and the KPI source over
/// them, its averages seeded once the pool has liquidity; the deployer keeps no role (the
/// token's admin and the treasury's spending are the timelock's). Returns the record, the
/// source's address and the economy's genesis (the controller's must equal it).
pub fn deploy_economy(
    client: &Client,
    model: &ModelCard,
    config: &EconomyConfig,
    initial: [u64; 4],
    epoch_length: u64,
    governance: &Governance,
) -> Result<(EconomyRecord, Address, u64), ChainError> {
    config.validate()?;
    if model.inputs().len() != 8 {
        return Err(ChainError::Config(format!(
            "kpi_source \"onchain\" computes the default model's eight KPIs, but model {} has {} inputs",
            model.name(),
            model.inputs().len()
        )));
    }
    let deployer = client.from()?;
    let mut tx = EconomyDeployment { client, config, epoch_length, deployer, gas: 0 };
    let timelock = tx.timelock(governance)?;
    let (token, quote) = tx.token_and_quote()?;
    let economy = tx.economy(token, quote, timelock, initial, governance)?;
    let (pair, vault) = tx.pair_and_vault(token, quote, economy)?;
    let source = tx.kpi_source(model, economy, pair, vault)?;
    tx.hand_over_token(token, economy, timelock)?;
    tx.seed_pool_and_treasury(token, quote, economy, pair)?;
    let (genesis, seeded_epoch) = tx.seed_kpi_source(economy, source)?;
    let gas = tx.gas;
    Ok((EconomyRecord { token, quote, economy, pair, vault, timelock, gas, seeded_epoch }, source, genesis))
}

/// A bundled economy contract's creation code: its bytecode, then the constructor's `args`.
fn code(name: &str, args: Vec<u8>) -> Result<Vec<u8>, ChainError> {
    let artifact = ECONOMY_CONTRACTS
        .iter()
        .position(|n| *n == name)
        .map(|i| ECONOMY_ARTIFACTS[i])
        .ok_or_else(|| ChainError::Answer(format!("no bundled {name} artifact")))?;
    let compiled = Compiled::parse_artifact(artifact).map_err(|e| ChainError::Answer(format!("bundled {name} artifact: {e}")))?;
    Ok([compiled.bytecode, args].concat())
}

/// The economy's deployment under way: the deployer's transactions, one after another,
/// and the gas they used so far.
struct EconomyDeployment<'a> {
    client: &'a Client,
    config: &'a EconomyConfig,
    epoch_length: u64,
    /// The deploying account: the first holder of the supply and the pool's first provider.
    deployer: Address,
    gas: u64,
}

impl EconomyDeployment<'_> {
    /// Deploys the bundled contract `name` with constructor `args`; its address.
    fn deploy(&mut self, name: &str, args: Vec<u8>) -> Result<Address, ChainError> {
        let sent = self.client.deploy(&format!("{name} deployment"), code(name, args)?)?;
        self.gas += sent.gas;
        Ok(sent.address.unwrap_or_default())
    }

    /// Sends `data` to `to` (`what` names the transaction in errors).
    fn send(&mut self, what: &str, to: Address, data: Vec<u8>) -> Result<(), ChainError> {
        self.gas += self.client.send(what, to, data)?.gas;
        Ok(())
    }

    /// Deploys governance's timelock, with the governance account its only proposer and executor.
    fn timelock(&mut self, governance: &Governance) -> Result<Address, ChainError> {
        self.deploy(
            "EconomyTimelock",
            EconomyTimelock::constructorCall { minDelay: U256::from(governance.delay), governance: governance.account }.abi_encode(),
        )
    }

    /// Deploys the token (the supply minted to the deployer, its admin until the handover)
    /// and the quote asset.
    fn token_and_quote(&mut self) -> Result<(Address, Address), ChainError> {
        let deployer = self.deployer;
        let token = self.deploy(
            "ZkpToken",
            ZkpToken::constructorCall { admin: deployer, holder: deployer, initialSupply: tokens(self.config.supply) }.abi_encode(),
        )?;
        let quote = self.deploy("QuoteToken", QuoteToken::constructorCall { owner_: deployer }.abi_encode())?;
        Ok((token, quote))
    }

    /// Deploys `TokenEconomy`: the treasury, governed by `timelock`, starting on the
    /// `initial` parameters, its budget stream paying a 365th of the yearly spend an epoch.
    fn economy(
        &mut self,
        token: Address,
        quote: Address,
        timelock: Address,
        initial: [u64; 4],
        governance: &Governance,
    ) -> Result<Address, ChainError> {
        let config = self.config;
        self.deploy(
            "TokenEconomy",
            TokenEconomy::constructorCall {
                token_: token,
                quote_: quote,
                incentives_: config.incentives.unwrap_or(Address::ZERO),
                governor_: timelock,
                genesis_: 0,
                epochLength_: self.epoch_length,
                initial: initial.map(U256::from),
                budgetPayee: config.budget_payee.unwrap_or(governance.account),
                budgetPerEpoch_: tokens(config.yearly_spend) / U256::from(EPOCHS_PER_YEAR),
            }
            .abi_encode(),
        )
    }

    /// Deploys the token/quote pool (its fees' protocol share to the economy) and the staking vault.
    fn pair_and_vault(&mut self, token: Address, quote: Address, economy: Address) -> Result<(Address, Address), ChainError> {
        let pair = self.deploy(
            "ConstantProductPair",
            ConstantProductPair::constructorCall {
                token_: token,
                quote_: quote,
                feeSource_: economy,
                treasury_: economy,
                protocolShareBps_: U256::from(self.config.protocol_fee_share_bps),
            }
            .abi_encode(),
        )?;
        let vault = self.deploy(
            "StakingVault",
            StakingVault::constructorCall { token_: token, economy_: economy, rewardDuration_: self.epoch_length }.abi_encode(),
        )?;
        Ok((pair, vault))
    }

    /// Deploys the KPI source over the economy, pair and vault, quantizing as `model`'s inputs.
    fn kpi_source(&mut self, model: &ModelCard, economy: Address, pair: Address, vault: Address) -> Result<Address, ChainError> {
        let config = self.config;
        let ranges = model.input_ranges();
        let int = |v: i64| I256::try_from(v).unwrap_or_default();
        self.deploy(
            "EconomyKpiSource",
            EconomyKpiSource::constructorCall {
                economy_: economy,
                pair_: pair,
                vault_: vault,
                targetPrice_: U256::from(config.target_price_micro) * U256::from(1_000_000_000_000u64),
                yearlySpend_: tokens(config.yearly_spend),
                scaleBits_: std::array::from_fn(|i| model.inputs()[i].scale_bits as u8),
                lo: std::array::from_fn(|i| int(ranges[i].lo)),
                hi: std::array::from_fn(|i| int(ranges[i].hi)),
                snapshotWindow_: config.snapshot_window(self.epoch_length)?,
            }
            .abi_encode(),
        )
    }

    /// Makes the economy the token's minter, then hands the admin role to the timelock and
    /// drops the deployer's.
    fn hand_over_token(&mut self, token: Address, economy: Address, timelock: Address) -> Result<(), ChainError> {
        let minter = super::read(self.client, "role read", token, ZkpToken::MINTER_ROLECall {})?;
        let admin = super::read(self.client, "role read", token, ZkpToken::DEFAULT_ADMIN_ROLECall {})?;
        // The deployer wires the minter, then hands the admin role to the timelock and drops its own.
        self.send("minter grant", token, ZkpToken::grantRoleCall { role: minter, account: economy }.abi_encode())?;
        self.send("token admin handover", token, ZkpToken::grantRoleCall { role: admin, account: timelock }.abi_encode())?;
        let renounce = ZkpToken::renounceRoleCall { role: admin, callerConfirmation: self.deployer };
        self.send("deployer's admin renounced", token, renounce.abi_encode())
    }

    /// Mints the pool's and the treasury's quote, and seeds the pool with the configured
    /// tokens and quote from the deployer.
    fn seed_pool_and_treasury(&mut self, token: Address, quote: Address, economy: Address, pair: Address) -> Result<(), ChainError> {
        let (config, deployer) = (self.config, self.deployer);
        self.send("quote mint", quote, QuoteToken::mintCall { to: deployer, amount: tokens(config.liquidity_quote) }.abi_encode())?;
        self.send("treasury funding", quote, QuoteToken::mintCall { to: economy, amount: tokens(config.treasury_quote) }.abi_encode())?;
        self.send("token approval", token, ZkpToken::approveCall { spender: pair, value: U256::MAX }.abi_encode())?;
        self.send("quote approval", quote, ZkpToken::approveCall { spender: pair, value: U256::MAX }.abi_encode())?;
        let seed = ConstantProductPair::addLiquidityCall {
            maxToken: tokens(config.liquidity_tokens),
            maxQuote: tokens(config.liquidity_quote),
            minShares: U256::from(1u64),
        };
        self.send("pool seeding", pair, seed.abi_encode())
    }

    /// Reads the economy's genesis and, while epoch 1's snapshot window is open, seeds the KPI
    /// source's averages: the genesis and the epoch seeded (none once the window closed).
    fn seed_kpi_source(&mut self, economy: Address, source: Address) -> Result<(u64, Option<u64>), ChainError> {
        let client = self.client;
        let genesis = TokenEconomy::genesisCall::abi_decode_returns(&client.call(
            "genesis read",
            economy,
            TokenEconomy::genesisCall {}.abi_encode(),
        )?)
        .map_err(|e| ChainError::Answer(format!("genesis read: {e}")))?;
        // The source's first call only seeds its averages: made now, while epoch 1's window is
        // open, so epoch 2 is the first decidable epoch and no snapshot reads a spot value.
        let window = self.config.snapshot_window(self.epoch_length)?;
        let seeded_epoch = if client.chain_time()? < genesis.saturating_add(window) {
            let sent = client.send("KPI source seed", source, EconomyKpiSource::takeSnapshotCall { incumbent: Vec::new() }.abi_encode())?;
            self.gas += sent.gas;
            Some(seeded(&sent, source)?)
        } else {
            None
        };
        Ok((genesis, seeded_epoch))
    }
}

/// The epoch a `takeSnapshot` receipt says it seeded.
fn seeded(sent: &Sent, source: Address) -> Result<u64, ChainError> {
    sent.logs
        .iter()
        .filter(|l| l.address() == source)
        .find_map(|l| EconomyKpiSource::SnapshotSeeded::decode_log_data(l.data()).ok())
        .map(|s| s.epoch)
        .ok_or_else(|| ChainError::Answer("the KPI source's seed logged no SnapshotSeeded".into()))
}

/// Connects the economy to its pair, vault and controller (once, by the deployer).
pub fn connect(client: &Client, record: &EconomyRecord, controller: Address) -> Result<Sent, ChainError> {
    let call = TokenEconomy::connectCall { pair_: record.pair, vault_: record.vault, controller_: controller };
    client.send("economy connection", record.economy, call.abi_encode())
}

fn economy_of(deployment: &Deployment) -> Result<&EconomyRecord, ChainError> {
    deployment.economy.as_ref().ok_or_else(|| {
        ChainError::Config("this deployment has no economy (its KPIs are reporter-posted); deploy with \"kpi_source\": \"onchain\"".into())
    })
}

/// What one tick did.
#[derive(Clone, Debug, Serialize)]
pub struct Ticked {
    /// The tick's transaction hash.
    pub tx: String,
    /// The block it was mined in.
    pub block: u64,
    /// The gas it used.
    pub gas: u64,
    /// The economy's epoch it ran (from its `Ticked` event; 0 when the event is missing).
    pub epoch: u64,
    /// The parameters the tick ran on, in the economy's order: emission, staking reward and
    /// burn (bps a year), the swap fee (bps).
    pub parameters: Vec<u64>,
    /// The tick took the controller's parameters now (`ParametersTaken`); otherwise it ran
    /// on the ones it already held.
    pub taken: bool,
    /// Why the controller's parameters were refused, or which ones were (each keeps its
    /// value while the others are taken), when any was.
    pub refused: Option<String>,
    /// Why the buyback bought nothing, when it did not buy.
    pub buyback_skipped: Option<String>,
    /// Tokens (wei, decimal) minted as emission.
    pub emitted: String,
    /// Tokens (wei, decimal) minted as staking rewards.
    pub rewarded: String,
    /// Tokens (wei, decimal) bought back with treasury quote and burned.
    pub burned: String,
}

/// Runs the economy's epoch: takes the controller's parameters and mints, rewards, burns.
pub fn tick(client: &Client, deployment: &Deployment) -> Result<Ticked, ChainError> {
    let record = economy_of(deployment)?;
    let sent = client.send("economy tick", record.economy, TokenEconomy::tickCall {}.abi_encode())?;
    let mut out = Ticked {
        tx: sent.tx.to_string(),
        block: sent.block,
        gas: sent.gas,
        epoch: 0,
        parameters: Vec::new(),
        taken: false,
        refused: None,
        buyback_skipped: None,
        emitted: String::new(),
        rewarded: String::new(),
        burned: String::new(),
    };
    let mut refusals = Vec::new();
    for log in sent.logs.iter().filter(|l| l.address() == record.economy) {
        if let Ok(t) = TokenEconomy::ParametersTaken::decode_log_data(log.data()) {
            out.taken = true;
            out.parameters = t.values.iter().map(|v| v.saturating_to()).collect();
        } else if let Ok(r) = TokenEconomy::ParametersRefused::decode_log_data(log.data()) {
            refusals.push(r.reason);
        } else if let Ok(r) = TokenEconomy::ParameterRefused::decode_log_data(log.data()) {
            let i = usize::try_from(r.index).unwrap_or(usize::MAX);
            let name = deployment.parameters.get(i).map_or("?", String::as_str);
            let (cap, _) = parameter_cap(i);
            refusals.push(format!("parameter {i} ({name}) = {} is outside the economy's range [0, {cap}] and keeps its value", r.value));
        } else if let Ok(b) = TokenEconomy::BuybackSkipped::decode_log_data(log.data()) {
            out.buyback_skipped = Some(b.reason);
        } else if let Ok(t) = TokenEconomy::Ticked::decode_log_data(log.data()) {
            (out.epoch, out.emitted, out.rewarded, out.burned) =
                (t.epoch, t.emitted.to_string(), t.rewarded.to_string(), t.burned.to_string());
        }
    }
    out.refused = (!refusals.is_empty()).then(|| refusals.join("; "));
    if out.parameters.is_empty() {
        let p = TokenEconomy::parametersCall::abi_decode_returns(&client.call(
            "economy parameters read",
            record.economy,
            TokenEconomy::parametersCall {}.abi_encode(),
        )?)
        .map_err(|e| ChainError::Answer(format!("economy parameters read: {e}")))?;
        out.parameters = p.iter().map(|v| v.saturating_to()).collect();
    }
    Ok(out)
}

/// The holder set accepted in `epoch` (the one standing at its end, which the next
/// epoch's snapshot reads), or none: the source keeps its hash and the block it was
/// accepted in, and that block's `HoldersSubmitted` log holds its addresses.
pub fn holder_set(client: &Client, deployment: &Deployment, epoch: u64) -> Result<Option<Vec<Address>>, ChainError> {
    if epoch == 0 {
        return Ok(None);
    }
    let source = deployment.kpi_source;
    let set = super::read(client, "holder set read", source, EconomyKpiSource::holderSetCall { epoch })?;
    if set.hash == B256::ZERO {
        return Ok(None);
    }
    let block = format!("0x{:x}", set.acceptedIn);
    let filter = serde_json::json!([{
        "address": source.to_string(),
        "fromBlock": block,
        "toBlock": block,
        "topics": [EconomyKpiSource::HoldersSubmitted::SIGNATURE_HASH.to_string(), B256::from(U256::from(epoch)).to_string()],
    }]);
    let logs: Vec<alloy::rpc::types::Log> = serde_json::from_value(client.request("eth_getLogs", filter)?)
        .map_err(|e| ChainError::Answer(format!("HoldersSubmitted logs: {e}")))?;
    logs.iter()
        .rev()
        .filter_map(|log| EconomyKpiSource::HoldersSubmitted::decode_log_data(log.data()).ok())
        .find(|event| keccak256(event.holders.abi_encode()) == set.hash)
        .map(|event| Some(event.holders))
        .ok_or_else(|| {
            ChainError::Answer(format!(
                "the holder set of epoch {epoch} (accepted in block {}) has no HoldersSubmitted log there",
                set.acceptedIn
            ))
        })
}

/// The set a submission in `epoch` must beat: the epoch's incumbent, or before any, the
/// previous epoch's final set; empty when neither exists. Whether it is this epoch's.
pub fn standing_holders(client: &Client, deployment: &Deployment, epoch: u64) -> Result<(Vec<Address>, bool), ChainError> {
    if let Some(set) = holder_set(client, deployment, epoch)? {
        return Ok((set, true));
    }
    Ok((holder_set(client, deployment, epoch.saturating_sub(1))?.unwrap_or_default(), false))
}

/// The call data of `takeSnapshot` for the current epoch (sent to
/// `deployment.kpi_source`), naming the holder set that stood at the end of the previous
/// epoch, and that set (empty: none stood, the concentration carries over).
pub fn snapshot_call(client: &Client, deployment: &Deployment) -> Result<(Vec<u8>, Vec<Address>), ChainError> {
    economy_of(deployment)?;
    let epoch = super::current_epoch(client, deployment)?;
    let holders = holder_set(client, deployment, epoch.saturating_sub(1))?.unwrap_or_default();
    Ok((EconomyKpiSource::takeSnapshotCall { incumbent: holders.clone() }.abi_encode(), holders))
}

/// Whether the current epoch's snapshot call is made (a snapshot, or the seed).
pub fn snapshot_taken(client: &Client, deployment: &Deployment, epoch: u64) -> Result<bool, ChainError> {
    economy_of(deployment)?;
    super::read(client, "snapshot read", deployment.kpi_source, EconomyKpiSource::takenCall { epoch })
}

/// The economy's address and the call data of its `tick`.
pub fn tick_call(deployment: &Deployment) -> Result<(Address, Vec<u8>), ChainError> {
    Ok((economy_of(deployment)?.economy, TokenEconomy::tickCall {}.abi_encode()))
}

/// What one on-chain snapshot call recorded.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    /// The snapshot call's transaction hash.
    pub tx: String,
    /// The block it was mined in.
    pub block: u64,
    /// The gas it used.
    pub gas: u64,
    /// The epoch it recorded (or seeded).
    pub epoch: u64,
    /// The call only seeded the source's averages (its first): no KPIs, so this epoch
    /// cannot be decided and the next one is the first that can.
    pub seeded: bool,
    /// The quantized KPIs, in model input order (empty when seeded).
    pub kpis: Vec<i64>,
    /// The holder set whose holdings gave holder_concentration: the one that stood at the
    /// end of the previous epoch (empty: carried over).
    pub holders: Vec<String>,
}

/// Takes the current epoch's KPI snapshot on chain (anyone may), with the holder set that
/// stood at the end of the previous epoch; the source's first call seeds instead.
pub fn take_snapshot(client: &Client, deployment: &Deployment) -> Result<Snapshot, ChainError> {
    let (input, holders) = snapshot_call(client, deployment)?;
    let sent = client.send("KPI snapshot", deployment.kpi_source, input)?;
    let mut out = Snapshot {
        tx: sent.tx.to_string(),
        block: sent.block,
        gas: sent.gas,
        epoch: 0,
        seeded: false,
        kpis: Vec::new(),
        holders: Vec::new(),
    };
    let taken = sent
        .logs
        .iter()
        .filter(|l| l.address() == deployment.kpi_source)
        .find_map(|l| EconomyKpiSource::SnapshotTaken::decode_log_data(l.data()).ok());
    match taken {
        Some(taken) => {
            out.epoch = taken.epoch;
            out.kpis = taken.kpis.iter().map(|v| i64::try_from(*v).unwrap_or_default()).collect();
            out.holders = holders.iter().map(|a| a.to_checksum(None)).collect();
        }
        None => {
            out.epoch = seeded(&sent, deployment.kpi_source)
                .map_err(|_| ChainError::Answer("the snapshot's receipt has neither SnapshotTaken nor SnapshotSeeded".into()))?;
            out.seeded = true;
        }
    }
    Ok(out)
}

/// What a holder-set submission did.
#[derive(Clone, Debug, Serialize)]
pub struct HoldersSubmitted {
    /// The proposal, the submission's first step.
    pub proposal_tx: String,
    /// The submission, mined in a later block than the proposal.
    pub tx: String,
    /// The submission's block.
    pub block: u64,
    /// Gas of both transactions.
    pub gas: u64,
    /// The epoch it was accepted in.
    pub epoch: u64,
    /// The epoch whose snapshot reads it: the next one.
    pub snapshot_epoch: u64,
    /// What the set was counted with (wei): the smaller of its balance plus stake at the
    /// proposal and at the submission. The next candidate this epoch must exceed it.
    pub holdings: String,
    /// The epoch's incumbent it replaced (empty: it is the epoch's first set).
    pub replaced: Vec<String>,
}

/// Submits a candidate top-holder set for the current epoch (anyone may), in its two
/// steps: the proposal, then, in a later block (after the proposal's receipt), the
/// submission. It must beat the set standing now (this epoch's incumbent, or the previous
/// epoch's final set), found through the source's `holderSet` and its log.
pub fn submit_holders(client: &Client, deployment: &Deployment, holders: &[Address]) -> Result<HoldersSubmitted, ChainError> {
    economy_of(deployment)?;
    let proposed = client.send(
        "holder set proposal",
        deployment.kpi_source,
        EconomyKpiSource::proposeHoldersCall { holders: holders.to_vec() }.abi_encode(),
    )?;
    let epoch = super::current_epoch(client, deployment)?;
    let (standing, this_epoch) = standing_holders(client, deployment, epoch)?;
    let call = EconomyKpiSource::submitHoldersCall { holders: holders.to_vec(), incumbent: standing.clone() };
    let sent = client.send("holder set", deployment.kpi_source, call.abi_encode())?;
    let event = sent
        .logs
        .iter()
        .filter(|l| l.address() == deployment.kpi_source)
        .find_map(|l| EconomyKpiSource::HoldersSubmitted::decode_log_data(l.data()).ok())
        .ok_or_else(|| ChainError::Answer("the holder set's receipt has no HoldersSubmitted event".into()))?;
    Ok(HoldersSubmitted {
        proposal_tx: proposed.tx.to_string(),
        tx: sent.tx.to_string(),
        block: sent.block,
        gas: proposed.gas + sent.gas,
        epoch: event.epoch,
        snapshot_epoch: event.epoch + 1,
        holdings: event.holdings.to_string(),
        replaced: if this_epoch { standing.iter().map(|a| a.to_checksum(None)).collect() } else { Vec::new() },
    })
}
