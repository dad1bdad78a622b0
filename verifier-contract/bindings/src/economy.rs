//! The reference token economy (`contracts/economy/`): sources, compilation and Rust
//! bindings. The economy reads the controller's parameters at each epoch's `tick()`.

use std::collections::BTreeMap;
use std::path::Path;

use alloy_primitives::{Address, I256, U256};
use zkpolicy_verifier::compile::{self, CompileError, Compiled};

// Generated from the committed artifacts' ABIs, as the controller's are (see `controller.rs`).
#[allow(missing_docs)] // an enum's members: the ABI names them but carries no NatSpec
mod generated {
    use alloy_sol_types::sol;

    sol!(
        #[sol(all_derives)]
        "../generated/contracts/economy/ZkpToken.abi.sol"
    );
    sol!(
        #[sol(all_derives)]
        "../generated/contracts/economy/QuoteToken.abi.sol"
    );
    sol!(
        #[sol(all_derives)]
        "../generated/contracts/economy/StakingVault.abi.sol"
    );
    sol!(
        #[sol(all_derives)]
        "../generated/contracts/economy/ConstantProductPair.abi.sol"
    );
    sol!(
        #[sol(all_derives)]
        "../generated/contracts/economy/TokenEconomy.abi.sol"
    );
    sol!(
        #[sol(all_derives)]
        "../generated/contracts/economy/EconomyTimelock.abi.sol"
    );
    sol!(
        #[sol(all_derives)]
        "../generated/contracts/economy/EconomyKpiSource.abi.sol"
    );
    sol!(
        #[sol(all_derives)]
        "../generated/contracts/test/AtomicBundle.abi.sol"
    );
    sol!(
        #[sol(all_derives)]
        "../generated/contracts/test/ParameterSourceStub.abi.sol"
    );
}
pub use generated::*;

impl AtomicBundle::Step {
    /// A call of `data` on `target`.
    pub fn call(target: Address, data: Vec<u8>) -> Self {
        Self { target, data: data.into(), fillFrom: Address::ZERO, fillQuery: Default::default(), fillAt: U256::ZERO }
    }

    /// The same call with argument `arg` of its data (a 32-byte word) replaced, when the step
    /// runs, by the `uint256` that `query` answers on `from` (e.g. `token.balanceOf(bundle)`:
    /// a swap of everything the bundle then holds).
    pub fn filled(mut self, from: Address, query: Vec<u8>, arg: usize) -> Self {
        (self.fillFrom, self.fillQuery, self.fillAt) = (from, query.into(), U256::from(4 + 32 * arg));
        self
    }
}

/// `ZkpToken.sol`: the economy's ERC-20, minted only by `MINTER_ROLE` (the `TokenEconomy`).
pub const TOKEN_SOURCE: &str = include_str!("../../contracts/economy/ZkpToken.sol");
/// `QuoteToken.sol`: the stablecoin stand-in the token trades against.
pub const QUOTE_SOURCE: &str = include_str!("../../contracts/economy/QuoteToken.sol");
/// `StakingVault.sol`: stakes, and rewards streamed per stake-second over an epoch.
pub const VAULT_SOURCE: &str = include_str!("../../contracts/economy/StakingVault.sol");
/// `ConstantProductPair.sol`: the x·y = k market with the time-weighted accumulators the
/// KPI source averages.
pub const PAIR_SOURCE: &str = include_str!("../../contracts/economy/ConstantProductPair.sol");
/// `TokenEconomy.sol`: the treasury and the per-epoch `tick()` that applies the
/// controller's emission, reward, burn and fee parameters.
pub const ECONOMY_SOURCE: &str = include_str!("../../contracts/economy/TokenEconomy.sol");
/// `EconomyKpiSource.sol`: the eight KPIs computed on chain from the economy's state.
pub const KPI_SOURCE_SOURCE: &str = include_str!("../../contracts/economy/EconomyKpiSource.sol");
/// `EconomyTimelock.sol`: governance's timelock over the token's admin role and the
/// treasury, with expiring operations.
pub const TIMELOCK_SOURCE: &str = include_str!("../../contracts/economy/EconomyTimelock.sol");
/// `contracts/test/AtomicBundle.sol`: the attackers' one-transaction bundle. Test-only.
pub const ATOMIC_BUNDLE_SOURCE: &str = include_str!("../../contracts/test/AtomicBundle.sol");
/// `contracts/test/ParameterSourceStub.sol`: stands in for the controller as the economy's
/// parameter source. Test-only.
pub const PARAMETER_SOURCE_STUB_SOURCE: &str = include_str!("../../contracts/test/ParameterSourceStub.sol");

/// `TokenEconomy.MAX_RATE_BPS`: the largest emission, staking reward or burn rate it takes.
pub const MAX_RATE_BPS: u64 = 10_000;
/// `TokenEconomy.MAX_FEE_BPS`: the largest swap fee it takes.
pub const MAX_FEE_BPS: u64 = 1_000;

/// The economy's contracts `zkpolicy deploy` ships compiled, in deployment order.
pub const ECONOMY_CONTRACTS: [&str; 7] =
    ["EconomyTimelock", "ZkpToken", "QuoteToken", "TokenEconomy", "ConstantProductPair", "StakingVault", "EconomyKpiSource"];

/// Their committed artifacts (`generated/contracts/economy/`), kept equal to a fresh compile
/// by a test; regenerate with `cargo run -p zkpolicy-contracts --example render_contracts`.
pub const ECONOMY_ARTIFACTS: [&str; 7] = [
    include_str!("../../generated/contracts/economy/EconomyTimelock.json"),
    include_str!("../../generated/contracts/economy/ZkpToken.json"),
    include_str!("../../generated/contracts/economy/QuoteToken.json"),
    include_str!("../../generated/contracts/economy/TokenEconomy.json"),
    include_str!("../../generated/contracts/economy/ConstantProductPair.json"),
    include_str!("../../generated/contracts/economy/StakingVault.json"),
    include_str!("../../generated/contracts/economy/EconomyKpiSource.json"),
];

/// The attackers' bundle (`contracts/test/AtomicBundle.sol`), shipped for `zkpolicy live
/// --attackers`, which deploys it on development chains only.
pub const ATTACKER_CONTRACTS: [&str; 1] = ["AtomicBundle"];

/// Its committed artifact (`generated/contracts/test/`), kept equal to a fresh compile by a test.
pub const ATOMIC_BUNDLE_ARTIFACT: &str = include_str!("../../generated/contracts/test/AtomicBundle.json");

/// The test double standing in for the controller as the economy's parameter source.
pub const ECONOMY_TEST_DOUBLES: [&str; 1] = ["ParameterSourceStub"];

/// `ParameterSourceStub`'s committed artifact (`generated/contracts/test/`). Test-only.
pub const PARAMETER_SOURCE_STUB_ARTIFACT: &str = include_str!("../../generated/contracts/test/ParameterSourceStub.json");

/// The committed artifacts of the economy, the attackers' bundle and the test double, by
/// name: what a fresh [`compile_economy`] returns for them (a test holds them equal), without solc.
pub fn committed_contracts() -> Result<BTreeMap<String, Compiled>, CompileError> {
    ECONOMY_CONTRACTS
        .into_iter()
        .zip(ECONOMY_ARTIFACTS)
        .chain([("AtomicBundle", ATOMIC_BUNDLE_ARTIFACT), ("ParameterSourceStub", PARAMETER_SOURCE_STUB_ARTIFACT)])
        .map(|(name, artifact)| Ok((name.to_string(), Compiled::parse_artifact(artifact)?)))
        .collect()
}

/// The files of the economy ([`ECONOMY_CONTRACTS`], under `economy/`), the attackers' bundle
/// and the test double ([`ATTACKER_CONTRACTS`], [`ECONOMY_TEST_DOUBLES`], under `test/`) from a
/// fresh compile, as `(path under generated/contracts/, text)` (see [`compile::render_artifacts`]).
pub fn render_artifacts(compiled: &BTreeMap<String, Compiled>) -> Result<Vec<(String, String)>, CompileError> {
    let mut files = compile::render_artifacts("economy", &ECONOMY_CONTRACTS, compiled)?;
    files.extend(compile::render_artifacts("test", &ATTACKER_CONTRACTS, compiled)?);
    files.extend(compile::render_artifacts("test", &ECONOMY_TEST_DOUBLES, compiled)?);
    Ok(files)
}

/// Compiles the economy's contracts and its test doubles (OpenZeppelin from `dir`'s `node_modules`).
pub fn compile_economy(dir: &Path) -> Result<BTreeMap<String, Compiled>, CompileError> {
    compile::compile(
        dir,
        &[
            ("ZkpToken.sol", TOKEN_SOURCE),
            ("QuoteToken.sol", QUOTE_SOURCE),
            ("StakingVault.sol", VAULT_SOURCE),
            ("ConstantProductPair.sol", PAIR_SOURCE),
            ("TokenEconomy.sol", ECONOMY_SOURCE),
            ("EconomyTimelock.sol", TIMELOCK_SOURCE),
            ("EconomyKpiSource.sol", KPI_SOURCE_SOURCE),
            ("KpiSource.sol", crate::controller::KPI_SOURCE_SOURCE),
            ("Int64Pack.sol", crate::controller::INT64_PACK_SOURCE),
            ("AtomicBundle.sol", ATOMIC_BUNDLE_SOURCE),
            ("ParameterSourceStub.sol", PARAMETER_SOURCE_STUB_SOURCE),
        ],
    )
}

/// Everything `EconomyKpiSource.takeSnapshot` reads, as the chain holds it just before the
/// call: the input of [`economy_kpis`]. Stored marks are as wide as the contract keeps them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KpiState {
    /// The snapshot's block timestamp (unix seconds).
    pub now: u64,
    /// The token's total supply (wei).
    pub supply: U256,
    /// The pair's and the vault's accumulators now: the pair's price-seconds (quote per
    /// token, 1e18, times seconds).
    pub price_cum: U256,
    /// The pair's token-reserve-seconds.
    pub reserve_cum: U256,
    /// The vault's stake-seconds.
    pub staked_cum: U256,
    /// The pair's cumulative swap volume, in quote.
    pub volume_cum: U256,
    /// The source's marks from the previous snapshot or the seed (`last_at == 0`: not
    /// seeded, so this call seeds); `count` KPI snapshots were taken; the accumulators
    /// modulo 2^128.
    pub count: u64,
    /// When the previous snapshot (or the seed) was taken; 0 before the seed.
    pub last_at: u64,
    /// The previous snapshot's average price (1e18; 0 at the first snapshot, which has no
    /// return).
    pub last_twap: u128,
    /// The pair's price-seconds at the previous mark, modulo 2^128.
    pub last_price_cum: u128,
    /// The pair's token-reserve-seconds at the previous mark, modulo 2^128.
    pub last_reserve_cum: u128,
    /// The vault's stake-seconds at the previous mark, modulo 2^128.
    pub last_staked_cum: u128,
    /// The previous snapshot's holder concentration (1e18), carried over when no holder
    /// set stood.
    pub last_concentration: i128,
    /// The ring's return sums (modulo 2^64) at snapshot `count − 1` and at `count − n`
    /// (n = min(count, 30)), and its volume cumulatives (modulo 2^128) at `count − 30`
    /// and `count − 60` (zero where they do not exist).
    pub sums_previous: (i64, u64),
    /// The ring's `(Σ returns, Σ returns²)` at snapshot `count − n`.
    pub sums_back: (i64, u64),
    /// The ring's volume cumulative at snapshot `count − 30`.
    pub volume_back_30: u128,
    /// The ring's volume cumulative at snapshot `count − 60`.
    pub volume_back_60: u128,
    /// The holder set that stood at the end of the previous epoch: the holdings it was
    /// counted with and its holdings now (`None`: none stood).
    pub holders: Option<(U256, U256)>,
    /// The treasury's quote balance (the economy contract's).
    pub treasury: U256,
    /// Tokens minted as emission at the economy's last tick (`lastFlows`).
    pub emitted: U256,
    /// Tokens minted as staking rewards at the last tick.
    pub rewarded: U256,
    /// Tokens bought back and burned at the last tick.
    pub burned: U256,
}

/// The source's constants: target price (1e18), yearly spend, and per KPI its scale bits
/// and quantized range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KpiConfig {
    /// The target price, quote per token in 1e18 fixed point (`price_vs_target`'s 0).
    pub target_price: U256,
    /// The treasury's spend a year, in quote (`treasury_runway`'s divisor).
    pub yearly_spend: U256,
    /// Per KPI, the fraction bits it is quantized at, as the model declares.
    pub scale_bits: [u8; 8],
    /// Per KPI, the quantized `[lo, hi]` the value is clamped into.
    pub ranges: [(i64, i64); 8],
}

/// The low 128 bits, as the contract's `uint128(x)`.
fn low128(x: U256) -> u128 {
    let limbs = x.as_limbs();
    (u128::from(limbs[1]) << 64) | u128::from(limbs[0])
}

/// The low 64 bits, as the contract's `uint64(uint256(x))` / `int64(x)`.
fn low64(x: I256) -> u64 {
    x.into_raw().as_limbs()[0]
}

/// `EconomyKpiSource`'s snapshot, computed natively from the same state: the quantized
/// KPIs and the 1e18 values before quantization; `None` when the call only seeds the
/// averages (the source's first, which yields no KPIs). Integer arithmetic throughout,
/// with the contract's widths, wrap-arounds and order of operations, so it matches bit for
/// bit. The contract's refusals (window, empty pool, a wrong holder set) are not modelled.
pub fn economy_kpis(s: &KpiState, c: &KpiConfig) -> Option<([i64; 8], [I256; 8])> {
    if s.last_at == 0 {
        return None;
    }
    let one = U256::from(10u64).pow(U256::from(18u64));
    let ret = I256::try_from(1_000_000i64).unwrap_or_default();
    let signed = |v: U256| I256::try_from(v).unwrap_or(I256::MAX);
    // Never zero: snapshots are at least half an epoch apart (the contract divides by it).
    let dt = U256::from(s.now.saturating_sub(s.last_at).max(1));
    let per_second = |now: U256, last: u128| U256::from(low128(now).wrapping_sub(last)) / dt;
    let twap = per_second(s.price_cum, s.last_price_cum);
    let reserve = per_second(s.reserve_cum, s.last_reserve_cum);
    let staked = per_second(s.staked_cum, s.last_staked_cum);
    let mut v = [I256::ZERO; 8];
    v[0] = signed(staked * one / s.supply);
    v[1] = signed(U256::from(2u64) * reserve * one / s.supply);
    // The ring: this snapshot's return sums (none at the first, whose predecessor is the seed).
    let k = s.count;
    let (mut s1, mut s2) = if k == 0 { (0i64, 0u64) } else { s.sums_previous };
    if k > 0 && s.last_twap > 0 {
        let last = I256::try_from(s.last_twap).unwrap_or_default();
        let r = (signed(twap) - last) * ret / last;
        s1 = s1.wrapping_add(low64(r) as i64);
        s2 = s2.wrapping_add(low64(r * r));
    }
    let n = k.min(30);
    if n >= 2 {
        let (b1, b2) = s.sums_back;
        let d1 = i128::from(s1.wrapping_sub(b1));
        let d2 = U256::from(s2.wrapping_sub(b2));
        let mean = U256::from((d1 * d1).unsigned_abs()) / U256::from(n);
        let centred = if d2 > mean { d2 - mean } else { U256::ZERO };
        let variance = centred / U256::from(n - 1) * U256::from(365u64);
        v[2] = signed(variance.root(2) * (one / ret.into_raw()));
    }
    v[3] = signed(twap * one / c.target_price) - signed(one);
    v[4] = match s.holders {
        None => I256::try_from(s.last_concentration).unwrap_or_default(),
        Some((counted, now)) => signed(counted.min(now) * one / s.supply),
    };
    if k >= 60 {
        let recent = low128(s.volume_cum).wrapping_sub(s.volume_back_30);
        let earlier = s.volume_back_30.wrapping_sub(s.volume_back_60);
        if earlier > 0 {
            v[5] = signed(U256::from(recent) * one / U256::from(earlier)) - signed(one);
        }
    }
    v[6] = signed(s.treasury * one / c.yearly_spend);
    let net = signed(s.emitted + s.rewarded) - signed(s.burned);
    v[7] = net * I256::try_from(365i64).unwrap_or_default() * signed(one) / signed(s.supply);
    let mut q = [0i64; 8];
    for i in 0..8 {
        q[i] = quantize(v[i], c.scale_bits[i], c.ranges[i], one);
    }
    Some((q, v))
}
/// `v` (1e18) × 2^bits, rounded half away from zero, clamped into `range`.
fn quantize(v: I256, bits: u8, (lo, hi): (i64, i64), one: U256) -> i64 {
    let magnitude = ((v.unsigned_abs() << usize::from(bits)) + one / U256::from(2u64)) / one;
    let q = i64::try_from(magnitude).unwrap_or(i64::MAX);
    let q = if v.is_negative() { -q } else { q };
    q.clamp(lo, hi)
}
