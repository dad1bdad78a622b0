// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ZkpToken} from "./ZkpToken.sol";
import {StakingVault} from "./StakingVault.sol";
import {ConstantProductPair, IFeeSource} from "./ConstantProductPair.sol";

/// Where the economy reads its parameters: the `PolicyController`.
interface IParameterSource {
    function parameters() external view returns (int256[] memory);
}

/// The reference token economy the controller steers, and its treasury. Once per epoch
/// anyone may call `tick()`, which first takes the controller's parameters (emission,
/// staking reward, burn rate, all bps a year, and the swap fee in bps), then, with `S` the
/// token supply and `K` the stake at the tick's start:
///
///   emission  `S · emission / 10⁴ / 365` minted to `incentives` (the LP incentive budget);
///   rewards   `K · stakingReward / 10⁴ / 365` minted to the staking vault for its stakers;
///   burn      `S · burn / 10⁴ / 365` tokens bought from the pair with the treasury's quote
///             (spending at most 2 % of it an epoch) and burned;
///
/// and the pair charges the fee on every swap until the next tick.
///
/// The economy pulls its parameters rather than having the controller push them, so no
/// failure here can stop a decision: when the controller's answer is unreadable, of the
/// wrong length or out of range, the tick logs `ParametersRefused` with the reason,
/// keeps the parameters it had, and runs; the next tick tries again.
contract TokenEconomy is IFeeSource, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 public constant EPOCHS_PER_YEAR = 365;
    /// The treasury spends at most this share of its quote on one epoch's buyback.
    uint256 public constant MAX_SPEND_BPS = 200;
    /// A parameter above this is refused (100 % a year; a 10 % swap fee at most).
    uint256 public constant MAX_RATE_BPS = 10_000;
    uint256 public constant MAX_FEE_BPS = 1_000;

    ZkpToken public immutable token;
    IERC20 public immutable quote;
    address public immutable incentives;
    address public immutable deployer;
    uint64 public immutable genesis;
    uint64 public immutable epochLength;

    ConstantProductPair public pair;
    StakingVault public vault;
    IParameterSource public controller;
    uint64 public lastTick;
    /// The parameters in force: emission, staking reward, burn (bps a year), swap fee (bps).
    uint256[4] internal params;
    /// The last tick's flows (tokens), for the KPI source's net emission pressure.
    struct Flows {
        uint128 emitted;
        uint128 rewarded;
        uint128 burned;
    }

    Flows internal flows;

    event Ticked(uint64 indexed epoch, uint256 emitted, uint256 rewarded, uint256 burned, uint256 spent);
    event ParametersTaken(uint64 indexed epoch, uint256[4] values);
    event ParametersRefused(uint64 indexed epoch, string reason);
    event Spent(address indexed to, uint256 amount);

    error AlreadyTicked(uint64 epoch);
    error NotStarted();
    error AlreadyConnected();
    error NotDeployer();
    error BadParameter(uint256 index, int256 value);

    constructor(
        ZkpToken token_,
        IERC20 quote_,
        address incentives_,
        uint64 genesis_,
        uint64 epochLength_,
        uint256[4] memory initial
    ) {
        (token, quote, deployer) = (token_, quote_, msg.sender);
        // Without a distributor, the treasury holds the LP incentive budget.
        incentives = incentives_ == address(0) ? address(this) : incentives_;
        genesis = genesis_ == 0 ? uint64(block.timestamp) : genesis_;
        epochLength = epochLength_;
        for (uint256 i = 0; i < 4; i++) {
            if (initial[i] > (i == 3 ? MAX_FEE_BPS : MAX_RATE_BPS)) revert BadParameter(i, int256(initial[i]));
        }
        params = initial;
    }

    /// The pair and the vault take this contract's address, and the controller reads the
    /// KPI source that reads them, so all three are connected after, once, by the deployer.
    function connect(ConstantProductPair pair_, StakingVault vault_, IParameterSource controller_) external {
        if (msg.sender != deployer) revert NotDeployer();
        if (address(pair) != address(0)) revert AlreadyConnected();
        (pair, vault, controller) = (pair_, vault_, controller_);
    }

    /// The epoch now running: 0 before genesis, then 1, 2, ...
    function currentEpoch() public view returns (uint64) {
        if (block.timestamp < genesis) return 0;
        return uint64((block.timestamp - genesis) / epochLength) + 1;
    }

    function parameters() external view returns (uint256[4] memory) {
        return params;
    }

    /// The last tick's emission, staking rewards and burn (tokens).
    function lastFlows() external view returns (uint256 emitted, uint256 rewarded, uint256 burned) {
        Flows memory f = flows;
        return (f.emitted, f.rewarded, f.burned);
    }

    function feeBps() external view returns (uint256) {
        return params[3];
    }

    /// The treasury's running costs (grants, contributors, audits): the deployer, standing
    /// in for the protocol's governance, pays `amount` of quote to `to`.
    function spend(address to, uint256 amount) external nonReentrant {
        if (msg.sender != deployer) revert NotDeployer();
        quote.safeTransfer(to, amount);
        emit Spent(to, amount);
    }

    /// Runs the current epoch's flows, once per epoch, for anyone.
    function tick() external nonReentrant {
        uint64 epoch = currentEpoch();
        if (epoch == 0) revert NotStarted();
        if (epoch <= lastTick) revert AlreadyTicked(epoch);
        lastTick = epoch;
        takeParameters(epoch);

        uint256 supply = token.totalSupply();
        uint256 staked = vault.totalStaked();
        uint256 emitted = supply * params[0] / 10_000 / EPOCHS_PER_YEAR;
        if (emitted != 0) token.mint(incentives, emitted);
        uint256 rewarded = staked * params[1] / 10_000 / EPOCHS_PER_YEAR;
        if (rewarded != 0) {
            token.mint(address(vault), rewarded);
            vault.notifyReward(rewarded);
        }
        (uint256 burned, uint256 spent) = buyBackAndBurn(supply * params[2] / 10_000 / EPOCHS_PER_YEAR);
        flows = Flows({emitted: uint128(emitted), rewarded: uint128(rewarded), burned: uint128(burned)});
        emit Ticked(epoch, emitted, rewarded, burned, spent);
    }

    /// Buys up to `wanted` tokens from the pair with at most MAX_SPEND_BPS of the treasury's
    /// quote, and burns what it bought.
    function buyBackAndBurn(uint256 wanted) internal returns (uint256 burned, uint256 spent) {
        uint256 rToken = pair.reserveToken();
        if (wanted == 0 || rToken <= wanted) return (0, 0);
        // Quote in for `wanted` out, fee included: in·(1 − f)·rT / (rQ + in·(1 − f)) = wanted.
        uint256 net = pair.reserveQuote() * wanted / (rToken - wanted) + 1;
        uint256 fee = params[3];
        uint256 needed = net * 10_000 / (10_000 - fee) + 1;
        uint256 budget = quote.balanceOf(address(this)) * MAX_SPEND_BPS / 10_000;
        spent = needed < budget ? needed : budget;
        if (spent == 0) return (0, 0);
        quote.forceApprove(address(pair), spent);
        burned = pair.swap(false, spent, 0, address(this));
        token.burn(burned);
    }

    /// Takes the controller's parameters if they are four values in range; otherwise keeps
    /// the current ones and says why. The answer is read with a low-level call and its
    /// layout checked before decoding, so no answer, however malformed, can revert a tick.
    function takeParameters(uint64 epoch) internal {
        (bool ok, bytes memory data) = address(controller).staticcall(abi.encodeCall(IParameterSource.parameters, ()));
        if (!ok) return refuse(epoch, "the controller's parameters cannot be read");
        if (data.length != 6 * 32) return refuse(epoch, "the controller does not hold four parameters");
        (uint256 offset, uint256 count) = abi.decode(data, (uint256, uint256));
        if (offset != 32 || count != 4) return refuse(epoch, "the controller does not hold four parameters");
        int256[] memory values = abi.decode(data, (int256[]));
        uint256[4] memory next;
        for (uint256 i = 0; i < 4; i++) {
            if (values[i] < 0 || uint256(values[i]) > (i == 3 ? MAX_FEE_BPS : MAX_RATE_BPS)) {
                return refuse(epoch, "a parameter is out of the economy's range");
            }
            next[i] = uint256(values[i]);
        }
        params = next;
        emit ParametersTaken(epoch, next);
    }

    function refuse(uint64 epoch, string memory reason) internal {
        emit ParametersRefused(epoch, reason);
    }
}
