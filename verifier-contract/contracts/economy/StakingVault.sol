// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// Stakers deposit the token; the economy pays them rewards, shared pro rata to the stake
/// held when each reward arrives (a reward-per-token accumulator, 1e18 fixed point).
contract StakingVault is ReentrancyGuard {
    using SafeERC20 for IERC20;

    IERC20 public immutable token;
    address public immutable economy;

    uint256 public totalStaked;
    /// Σ totalStaked · seconds, up to `lastUpdate`: the time-weighted stake for the KPI
    /// source, which a flash loan cannot move.
    uint256 public stakedCumulative;
    uint64 public lastUpdate;
    mapping(address => uint256) public stakeOf;
    /// Σ reward / totalStaked over every reward, 1e18 fixed point.
    uint256 public rewardPerToken;
    mapping(address => uint256) internal paidPerToken;
    mapping(address => uint256) public owed;

    event Staked(address indexed who, uint256 amount);
    event Unstaked(address indexed who, uint256 amount);
    event RewardAdded(uint256 amount);
    event RewardPaid(address indexed who, uint256 amount);

    error NotEconomy();
    error NothingStaked();
    error ZeroAmount();

    constructor(IERC20 token_, address economy_) {
        token = token_;
        economy = economy_;
    }

    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        settle(msg.sender);
        accumulate();
        token.safeTransferFrom(msg.sender, address(this), amount);
        stakeOf[msg.sender] += amount;
        totalStaked += amount;
        emit Staked(msg.sender, amount);
    }

    function unstake(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        settle(msg.sender);
        accumulate();
        stakeOf[msg.sender] -= amount;
        totalStaked -= amount;
        token.safeTransfer(msg.sender, amount);
        emit Unstaked(msg.sender, amount);
    }

    function claim() external nonReentrant returns (uint256 amount) {
        settle(msg.sender);
        amount = owed[msg.sender];
        owed[msg.sender] = 0;
        if (amount != 0) token.safeTransfer(msg.sender, amount);
        emit RewardPaid(msg.sender, amount);
    }

    /// The economy has just sent `amount` tokens here for the current stakers.
    function notifyReward(uint256 amount) external {
        if (msg.sender != economy) revert NotEconomy();
        if (totalStaked == 0) revert NothingStaked();
        rewardPerToken += amount * 1e18 / totalStaked;
        emit RewardAdded(amount);
    }

    /// What `who` could claim now.
    function earned(address who) public view returns (uint256) {
        return owed[who] + stakeOf[who] * (rewardPerToken - paidPerToken[who]) / 1e18;
    }

    /// The stake accumulator as of now (without writing it).
    function stakedSeconds() external view returns (uint256) {
        uint256 elapsed = lastUpdate == 0 ? 0 : block.timestamp - lastUpdate;
        return stakedCumulative + totalStaked * elapsed;
    }

    function accumulate() internal {
        uint64 now_ = uint64(block.timestamp);
        if (lastUpdate != 0) stakedCumulative += totalStaked * (now_ - lastUpdate);
        lastUpdate = now_;
    }

    function settle(address who) internal {
        owed[who] = earned(who);
        paidPerToken[who] = rewardPerToken;
    }
}
