//! The reference token economy (`contracts/economy/`): sources, compilation and Rust
//! bindings. The economy reads the controller's parameters at each epoch's `tick()`.

use std::collections::BTreeMap;
use std::path::Path;

use alloy_sol_types::sol;

use crate::compile::{self, CompileError, Compiled};

sol! {
    /// `ZkpToken.sol`: the economy's OpenZeppelin ERC-20.
    #[derive(Debug, PartialEq, Eq)]
    contract ZkpToken {
        constructor(address admin, address holder, uint256 initialSupply);
        function MINTER_ROLE() external view returns (bytes32);
        function grantRole(bytes32 role, address account) external;
        function mint(address to, uint256 amount) external;
        function totalSupply() external view returns (uint256);
        function balanceOf(address who) external view returns (uint256);
        function approve(address spender, uint256 amount) external returns (bool);
        function transfer(address to, uint256 amount) external returns (bool);
    }

    /// `QuoteToken.sol`: the quote asset for tests and local runs.
    #[derive(Debug, PartialEq, Eq)]
    contract QuoteToken {
        constructor(address owner_);
        function mint(address to, uint256 amount) external;
    }

    /// `StakingVault.sol`.
    #[derive(Debug, PartialEq, Eq)]
    contract StakingVault {
        constructor(address token_, address economy_);
        function stake(uint256 amount) external;
        function unstake(uint256 amount) external;
        function claim() external returns (uint256 amount);
        function totalStaked() external view returns (uint256);
        function earned(address who) external view returns (uint256);
        error NotEconomy();
        error NothingStaked();
        error ZeroAmount();
    }

    /// `ConstantProductPair.sol`.
    #[derive(Debug, PartialEq, Eq)]
    contract ConstantProductPair {
        constructor(address token_, address quote_, address feeSource_, address treasury_, uint256 protocolShareBps_);
        function addLiquidity(uint256 maxToken, uint256 maxQuote, uint256 minShares) external returns (uint256 shares);
        function removeLiquidity(uint256 shares, uint256 minToken, uint256 minQuote) external returns (uint256 t, uint256 q);
        function swap(bool tokenIn, uint256 amountIn, uint256 minOut, address to) external returns (uint256 amountOut);
        function quoteSwap(bool tokenIn, uint256 amountIn) external view returns (uint256 amountOut, uint256 fee);
        function reserveToken() external view returns (uint256);
        function reserveQuote() external view returns (uint256);
        function price() external view returns (uint256);
        function cumulatives() external view returns (uint256 priceSeconds, uint256 quoteVolume, uint64 at);
        error ZeroAmount();
        error Slippage(uint256 got, uint256 minimum);
        error BadFee(uint256 feeBps);
        error NoLiquidity();
    }

    /// `TokenEconomy.sol`: the treasury, and the flows the controller's parameters drive.
    #[derive(Debug, PartialEq, Eq)]
    contract TokenEconomy {
        constructor(address token_, address quote_, address controller_, address incentives_, uint64 genesis_, uint64 epochLength_, uint256[4] initial);
        function connect(address pair_, address vault_) external;
        function tick() external;
        function parameters() external view returns (uint256[4]);
        function feeBps() external view returns (uint256);
        function currentEpoch() external view returns (uint64);
        function lastTick() external view returns (uint64);
        event Ticked(uint64 indexed epoch, uint256 emitted, uint256 rewarded, uint256 burned, uint256 spent);
        event ParametersTaken(uint64 indexed epoch, uint256[4] values);
        event ParametersRefused(uint64 indexed epoch, string reason);
        error AlreadyTicked(uint64 epoch);
        error NotStarted();
        error AlreadyConnected();
        error NotDeployer();
        error BadParameter(uint256 index, int256 value);
    }
}

pub const TOKEN_SOURCE: &str = include_str!("../contracts/economy/ZkpToken.sol");
pub const QUOTE_SOURCE: &str = include_str!("../contracts/economy/QuoteToken.sol");
pub const VAULT_SOURCE: &str = include_str!("../contracts/economy/StakingVault.sol");
pub const PAIR_SOURCE: &str = include_str!("../contracts/economy/ConstantProductPair.sol");
pub const ECONOMY_SOURCE: &str = include_str!("../contracts/economy/TokenEconomy.sol");

/// Compiles the economy's contracts (OpenZeppelin from `dir`'s `node_modules`).
pub fn compile_economy(dir: &Path) -> Result<BTreeMap<String, Compiled>, CompileError> {
    compile::compile(
        dir,
        &[
            ("ZkpToken.sol", TOKEN_SOURCE),
            ("QuoteToken.sol", QUOTE_SOURCE),
            ("StakingVault.sol", VAULT_SOURCE),
            ("ConstantProductPair.sol", PAIR_SOURCE),
            ("TokenEconomy.sol", ECONOMY_SOURCE),
        ],
    )
}
