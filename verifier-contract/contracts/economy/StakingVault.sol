// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// Stakers deposit the token; the economy pays them rewards, each streamed evenly over
/// `rewardDuration` seconds (an epoch) after it arrives and shared per stake-second, as
/// Synthetix's and Curve's staking rewards are: a stake placed just before a reward and
/// withdrawn just after earns only for the seconds it was there.
///
/// A reward's part that falls due while nothing is staked is not lost: it is kept aside
/// (`unassigned`) and streamed again with the next reward.
contract StakingVault is ReentrancyGuard {
    using SafeERC20 for IERC20;

    IERC20 public immutable token;
    address public immutable economy;
    uint64 public immutable rewardDuration;

    uint256 public totalStaked;
    /// Σ totalStaked · seconds, up to `lastUpdate`: the time-weighted stake for the KPI
    /// source and the economy's rewards, which a flash loan cannot move.
    uint256 public stakedCumulative;
    uint64 public lastUpdate;
    mapping(address => uint256) public stakeOf;

    /// The stream, in one slot: tokens per second (1e18 fixed point) until `finish`, counted
    /// into `rewardPerTokenStored` up to `updatedAt`.
    struct Stream {
        uint160 rate;
        uint48 finish;
        uint48 updatedAt;
    }

    Stream internal stream;
    /// Σ (streamed reward / totalStaked) over time, 1e18 fixed point.
    uint256 public rewardPerTokenStored;
    /// Reward that fell due while nothing was staked, streamed again with the next one.
    uint256 public unassigned;
    mapping(address => uint256) internal paidPerToken;
    mapping(address => uint256) public owed;

    event Staked(address indexed who, uint256 amount);
    event Unstaked(address indexed who, uint256 amount);
    event RewardAdded(uint256 amount, uint256 streamed, uint64 until);
    event RewardPaid(address indexed who, uint256 amount);

    error NotEconomy();
    error ZeroAmount();
    error BadDuration();

    constructor(IERC20 token_, address economy_, uint64 rewardDuration_) {
        if (rewardDuration_ == 0) revert BadDuration();
        token = token_;
        economy = economy_;
        rewardDuration = rewardDuration_;
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

    /// The economy has just sent `amount` tokens here: they, what is left of the current
    /// stream and what fell due unassigned are streamed over the next `rewardDuration`.
    function notifyReward(uint256 amount) external {
        if (msg.sender != economy) revert NotEconomy();
        Stream memory s = updateReward();
        uint256 left = block.timestamp < s.finish ? (s.finish - block.timestamp) * s.rate / 1e18 : 0;
        uint256 streamed = amount + left;
        uint256 kept = unassigned;
        if (kept != 0) (streamed, unassigned) = (streamed + kept, 0);
        uint48 finish = SafeCast.toUint48(block.timestamp + rewardDuration);
        uint160 rate = SafeCast.toUint160(streamed * 1e18 / rewardDuration);
        stream = Stream({rate: rate, finish: finish, updatedAt: uint48(block.timestamp)});
        emit RewardAdded(amount, streamed, finish);
    }

    /// Tokens a second (1e18 fixed point) the stream pays now, and when it ends.
    function rewardStream() external view returns (uint256 rate, uint64 finish) {
        return (stream.rate, stream.finish);
    }

    /// Σ (streamed reward / totalStaked) up to now, 1e18 fixed point.
    function rewardPerToken() public view returns (uint256) {
        uint256 due = dueSinceUpdate(stream);
        if (due == 0 || totalStaked == 0) return rewardPerTokenStored;
        return rewardPerTokenStored + due / totalStaked;
    }

    /// What `who` could claim now.
    function earned(address who) public view returns (uint256) {
        return owed[who] + stakeOf[who] * (rewardPerToken() - paidPerToken[who]) / 1e18;
    }

    /// The stake accumulator as of now (without writing it).
    function stakedSeconds() external view returns (uint256) {
        uint256 elapsed = lastUpdate == 0 ? 0 : block.timestamp - lastUpdate;
        return stakedCumulative + totalStaked * elapsed;
    }

    /// The stream's reward (1e18 fixed point) since `s.updatedAt`, up to now or its end.
    function dueSinceUpdate(Stream memory s) internal view returns (uint256) {
        uint256 until = block.timestamp < s.finish ? block.timestamp : s.finish;
        return until > s.updatedAt ? (until - s.updatedAt) * s.rate : 0;
    }

    /// Counts the stream up to now; returns it as it stands.
    function updateReward() internal returns (Stream memory s) {
        s = stream;
        uint256 due = dueSinceUpdate(s);
        if (due == 0) return s;
        uint256 staked = totalStaked;
        if (staked == 0) unassigned += due / 1e18;
        else rewardPerTokenStored += due / staked;
        s.updatedAt = uint48(block.timestamp);
        stream.updatedAt = s.updatedAt;
    }

    function accumulate() internal {
        uint64 now_ = uint64(block.timestamp);
        if (lastUpdate != 0) stakedCumulative += totalStaked * (now_ - lastUpdate);
        lastUpdate = now_;
    }

    function settle(address who) internal {
        updateReward();
        owed[who] = earned(who);
        paidPerToken[who] = rewardPerTokenStored;
    }
}
