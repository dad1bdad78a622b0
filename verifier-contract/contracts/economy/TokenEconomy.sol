// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
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
/// token supply now:
///
///   emission  `S · emission / 10⁴ / 365` minted to `incentives` (the LP incentive budget);
///   rewards   `stake-seconds since the last tick · stakingReward / 10⁴ / (365 epochs)`
///             minted to the staking vault, which streams them to stakers over the next
///             epoch (a stake that arrives for the tick and leaves after it earns nothing);
///   burn      `S · burn / 10⁴ / 365` tokens bought from the pair with the treasury's quote
///             (at most 2 % of it an epoch, and only below a price bound, see
///             `buyBackAndBurn`) and burned;
///
/// and the pair charges the fee on every swap until the next tick.
///
/// The economy pulls its parameters rather than having the controller push them, so no
/// failure here can stop a decision: when the controller's answer is unreadable or of the
/// wrong length, the tick logs `ParametersRefused` with the reason, keeps the parameters it
/// had, and runs; a single value out of the economy's range is refused alone
/// (`ParameterRefused`: that parameter keeps its value, the others are taken).
///
/// The treasury's quote leaves it only through `governor` (governance's timelock, with the
/// deployment's governance delay): a one-off `spend`, or the budget stream it sets, which
/// anyone may release once per epoch (`releaseBudget`).
contract TokenEconomy is IFeeSource, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 public constant EPOCHS_PER_YEAR = 365;
    /// The treasury spends at most this share of its quote on one epoch's buyback.
    uint256 public constant MAX_SPEND_BPS = 200;
    /// A parameter above this is refused (100 % a year; a 10 % swap fee at most).
    uint256 public constant MAX_RATE_BPS = 10_000;
    uint256 public constant MAX_FEE_BPS = 1_000;
    /// The buyback's price bound never exceeds 1 % above the average price.
    uint256 public constant MAX_BAND_BPS = 100;

    ZkpToken public immutable token;
    IERC20 public immutable quote;
    address public immutable incentives;
    address public immutable deployer;
    address public immutable governor;
    uint64 public immutable genesis;
    uint64 public immutable epochLength;

    ConstantProductPair public pair;
    StakingVault public vault;
    IParameterSource public controller;
    uint64 public lastTick;
    /// The parameters in force: emission, staking reward, burn (bps a year), swap fee (bps).
    uint256[4] internal params;
    /// The last tick's flows (tokens), for the KPI source's net emission pressure, and the
    /// vault's stake accumulator then (modulo 2^128), where the next tick's rewards start.
    struct Flows {
        uint128 emitted;
        uint128 rewarded;
        uint128 burned;
        uint128 stakedSeconds;
    }

    Flows internal flows;

    /// When the last tick (or the connection) ran, and the pair's price accumulator then
    /// (modulo 2^192): the next tick's average price starts here.
    struct Mark {
        uint64 at;
        uint192 priceSeconds;
    }

    Mark internal mark;

    /// The treasury's running costs: `perEpoch` quote to `payee`, released once per epoch.
    struct Budget {
        address payee;
        uint64 releasedEpoch;
    }

    Budget internal budget;
    uint256 public budgetPerEpoch;

    event Ticked(uint64 indexed epoch, uint256 emitted, uint256 rewarded, uint256 burned, uint256 spent);
    event ParametersTaken(uint64 indexed epoch, uint256[4] values);
    event ParametersRefused(uint64 indexed epoch, string reason);
    event ParameterRefused(uint64 indexed epoch, uint256 index, int256 value);
    event BuybackSkipped(uint64 indexed epoch, string reason);
    event Spent(address indexed to, uint256 amount);
    event BudgetSet(address indexed payee, uint256 perEpoch);
    event BudgetReleased(uint64 indexed epoch, address indexed payee, uint256 amount);

    error AlreadyTicked(uint64 epoch);
    error NotStarted();
    error AlreadyConnected();
    error NotDeployer();
    error NotGovernor();
    error NoGovernor();
    error BadParameter(uint256 index, int256 value);
    error AlreadyReleased(uint64 epoch);

    constructor(
        ZkpToken token_,
        IERC20 quote_,
        address incentives_,
        address governor_,
        uint64 genesis_,
        uint64 epochLength_,
        uint256[4] memory initial,
        address budgetPayee,
        uint256 budgetPerEpoch_
    ) {
        if (governor_ == address(0)) revert NoGovernor();
        (token, quote, deployer, governor) = (token_, quote_, msg.sender, governor_);
        // Without a distributor, the treasury holds the LP incentive budget.
        incentives = incentives_ == address(0) ? address(this) : incentives_;
        genesis = genesis_ == 0 ? uint64(block.timestamp) : genesis_;
        epochLength = epochLength_;
        for (uint256 i = 0; i < 4; i++) {
            if (initial[i] > cap(i)) revert BadParameter(i, int256(initial[i]));
        }
        params = initial;
        setBudgetTo(budgetPayee, budgetPerEpoch_);
    }

    modifier onlyGovernor() {
        if (msg.sender != governor) revert NotGovernor();
        _;
    }

    /// The pair and the vault take this contract's address, and the controller reads the
    /// KPI source that reads them, so all three are connected after, once, by the deployer.
    /// The first tick's averages start now.
    function connect(ConstantProductPair pair_, StakingVault vault_, IParameterSource controller_) external {
        if (msg.sender != deployer) revert NotDeployer();
        if (address(pair) != address(0)) revert AlreadyConnected();
        (pair, vault, controller) = (pair_, vault_, controller_);
        mark = Mark({at: uint64(block.timestamp), priceSeconds: uint192(pair_.priceSeconds())});
        flows.stakedSeconds = uint128(vault_.stakedSeconds());
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

    /// The budget stream: who is paid, how much an epoch, and the last epoch released.
    function budgetStream() external view returns (address payee, uint256 perEpoch, uint64 releasedEpoch) {
        return (budget.payee, budgetPerEpoch, budget.releasedEpoch);
    }

    /// A one-off payment of `amount` quote to `to` (grants, audits), by governance's timelock.
    function spend(address to, uint256 amount) external nonReentrant onlyGovernor {
        quote.safeTransfer(to, amount);
        emit Spent(to, amount);
    }

    /// Sets the budget stream (the zero payee stops it), by governance's timelock.
    function setBudget(address payee, uint256 perEpoch) external onlyGovernor {
        setBudgetTo(payee, perEpoch);
    }

    /// Pays the current epoch's budget (at most what the treasury holds), once per epoch, for anyone.
    function releaseBudget() external nonReentrant returns (uint256 paid) {
        uint64 epoch = currentEpoch();
        if (epoch == 0) revert NotStarted();
        Budget memory b = budget;
        if (epoch <= b.releasedEpoch) revert AlreadyReleased(epoch);
        budget.releasedEpoch = epoch;
        if (b.payee != address(0)) paid = Math.min(budgetPerEpoch, quote.balanceOf(address(this)));
        if (paid != 0) quote.safeTransfer(b.payee, paid);
        emit BudgetReleased(epoch, b.payee, paid);
    }

    /// Runs the current epoch's flows, once per epoch, for anyone.
    function tick() external nonReentrant {
        uint64 epoch = currentEpoch();
        if (epoch == 0) revert NotStarted();
        if (epoch <= lastTick) revert AlreadyTicked(epoch);
        lastTick = epoch;
        takeParameters(epoch);

        uint256 priceSeconds = pair.priceSeconds();
        uint256 stakedSeconds = vault.stakedSeconds();
        uint256 supply = token.totalSupply();
        uint256 emitted = supply * params[0] / 10_000 / EPOCHS_PER_YEAR;
        if (emitted != 0) token.mint(incentives, emitted);
        // Stake-seconds since the last tick, not the stake now: a stake placed for this
        // transaction adds nothing. (The window's stake-seconds fit 128 bits.)
        uint256 held;
        unchecked {
            held = uint128(uint128(stakedSeconds) - flows.stakedSeconds);
        }
        uint256 rewarded = held * params[1] / 10_000 / (EPOCHS_PER_YEAR * epochLength);
        if (rewarded != 0) {
            token.mint(address(vault), rewarded);
            vault.notifyReward(rewarded);
        }
        uint256 twap = averagePrice(mark, priceSeconds);
        (uint256 burned, uint256 spent) = buyBackAndBurn(epoch, supply * params[2] / 10_000 / EPOCHS_PER_YEAR, twap);
        mark = Mark({at: uint64(block.timestamp), priceSeconds: uint192(priceSeconds)});
        flows = Flows({
            emitted: uint128(emitted),
            rewarded: uint128(rewarded),
            burned: uint128(burned),
            stakedSeconds: uint128(stakedSeconds)
        });
        emit Ticked(epoch, emitted, rewarded, burned, spent);
    }

    /// The pair's time-weighted price (quote per token, 1e18) since `m`, or 0 when that
    /// covers less than half an epoch: a short window is cheap to move.
    function averagePrice(Mark memory m, uint256 priceSeconds) internal view returns (uint256) {
        uint256 elapsed = block.timestamp - m.at;
        if (elapsed < epochLength / 2 || elapsed == 0) return 0;
        unchecked {
            return uint192(uint192(priceSeconds) - m.priceSeconds) / elapsed;
        }
    }

    /// Buys up to `wanted` tokens from the pair with at most MAX_SPEND_BPS of the treasury's
    /// quote, and burns what it bought; never reverts the tick (a skipped buyback says why).
    ///
    /// The price bound: the purchase stops where the pool's price reaches
    /// `min(average since the last tick, price now) · (1 + band)`, `band = 2·fee − 1 bps`
    /// (at most MAX_BAND_BPS; none at fee 0). A sandwich (buy `a`, tick, sell) gains about
    /// `a` times the price move the treasury's own purchase makes, and pays about `2·fee·a`
    /// in fees; the bound keeps that move below `2·fee`, so it cannot profit. At fee 0 a
    /// round trip costs nothing, so any purchase could be sandwiched: the buyback waits
    /// for a fee.
    function buyBackAndBurn(uint64 epoch, uint256 wanted, uint256 twap) internal returns (uint256 burned, uint256 spent) {
        if (wanted == 0) return (0, 0);
        uint256 fee = params[3];
        if (fee == 0) return skip(epoch, "the swap fee is zero: a buyback could be sandwiched at no cost");
        if (twap == 0) return skip(epoch, "no average price over half an epoch since the last tick");
        (uint256 rToken, uint256 rQuote) = (pair.reserveToken(), pair.reserveQuote());
        if (rToken <= wanted) return skip(epoch, "the pool holds fewer tokens than the burn wants");
        uint256 band = Math.min(2 * fee - 1, MAX_BAND_BPS);
        uint256 maxPrice = Math.min(twap, rQuote * 1e18 / rToken) * (10_000 + band) / 10_000;
        (uint256 room, string memory why) = roomBelow(maxPrice, rToken, rQuote);
        if (room == 0) return skip(epoch, why);
        // Quote in for `wanted` out, fee included: in·(1 − f)·rT / (rQ + in·(1 − f)) = wanted.
        uint256 net = rQuote * wanted / (rToken - wanted) + 1;
        uint256 needed = net * 10_000 / (10_000 - fee) + 1;
        uint256 budgetNow = quote.balanceOf(address(this)) * MAX_SPEND_BPS / 10_000;
        spent = Math.min(Math.min(needed, budgetNow), room);
        if (spent == 0) return skip(epoch, "the treasury holds no quote");
        burned = swapAndBurn(spent, fee, maxPrice);
        if (burned == 0) return skip(epoch, "the pair refused the swap");
    }

    /// The largest quote input after which the pool's price is at most `maxPrice`, or 0 and
    /// why. The pool keeps at most the input and pays out as if it kept the input less the
    /// fee, so the price after is at most (rQuote + in)² / (rToken · rQuote): the room is
    /// the `in` with (rQuote + in)² = maxPrice · rToken · rQuote.
    function roomBelow(uint256 maxPrice, uint256 rToken, uint256 rQuote) internal pure returns (uint256, string memory) {
        (bool fits, uint256 bound) = Math.tryMul(Math.mulDiv(maxPrice, rToken, 1e18), rQuote);
        if (!fits) return (0, "the pool is too deep to bound its price");
        uint256 reach = Math.sqrt(bound);
        if (reach <= rQuote) return (0, "the price is above the bound");
        return (reach - rQuote, "");
    }

    /// Swaps `spent` quote for tokens, at least what `maxPrice` gives net of the fee (always
    /// met below the bound), and burns them; 0 when the pair refuses.
    function swapAndBurn(uint256 spent, uint256 fee, uint256 maxPrice) internal returns (uint256 burned) {
        uint256 minOut = (spent - spent * fee / 10_000) * 1e18 / maxPrice;
        quote.forceApprove(address(pair), spent);
        try pair.swap(false, spent, minOut, address(this)) returns (uint256 bought) {
            token.burn(bought);
            return bought;
        } catch {
            quote.forceApprove(address(pair), 0);
            return 0;
        }
    }

    function skip(uint64 epoch, string memory reason) internal returns (uint256, uint256) {
        emit BuybackSkipped(epoch, reason);
        return (0, 0);
    }

    /// Takes the controller's parameters if they are four values; one out of range keeps
    /// its current value alone. The answer is read with a low-level call and its layout
    /// checked before decoding, so no answer, however malformed, can revert a tick.
    function takeParameters(uint64 epoch) internal {
        (bool ok, bytes memory data) = address(controller).staticcall(abi.encodeCall(IParameterSource.parameters, ()));
        if (!ok) return refuse(epoch, "the controller's parameters cannot be read");
        if (data.length != 6 * 32) return refuse(epoch, "the controller does not hold four parameters");
        (uint256 offset, uint256 count) = abi.decode(data, (uint256, uint256));
        if (offset != 32 || count != 4) return refuse(epoch, "the controller does not hold four parameters");
        int256[] memory values = abi.decode(data, (int256[]));
        uint256[4] memory next = params;
        for (uint256 i = 0; i < 4; i++) {
            if (values[i] < 0 || uint256(values[i]) > cap(i)) {
                emit ParameterRefused(epoch, i, values[i]);
            } else {
                next[i] = uint256(values[i]);
            }
        }
        params = next;
        emit ParametersTaken(epoch, next);
    }

    function refuse(uint64 epoch, string memory reason) internal {
        emit ParametersRefused(epoch, reason);
    }

    /// Parameter `i`'s largest value: MAX_FEE_BPS for the fee, MAX_RATE_BPS for the rates.
    function cap(uint256 i) internal pure returns (uint256) {
        return i == 3 ? MAX_FEE_BPS : MAX_RATE_BPS;
    }

    function setBudgetTo(address payee, uint256 perEpoch) internal {
        (budget.payee, budgetPerEpoch) = (payee, perEpoch);
        emit BudgetSet(payee, perEpoch);
    }
}
