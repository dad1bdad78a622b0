// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// Where the pair reads its swap fee: the economy, which takes it from the controller.
interface IFeeSource {
    function feeBps() external view returns (uint256);
}

/// A constant-product market for the token against the quote asset (x·y = k), written
/// for this project (Uniswap V2's code is GPL; this is a small MIT one). Liquidity shares
/// are an OpenZeppelin ERC-20. Each swap pays `feeBps` of its input: `protocolShareBps`
/// of that fee goes to the treasury, the rest stays in the pool for the LPs.
///
/// For the on-chain KPI source it accumulates, like Uniswap's oracles, the price
/// (quote per token, 1e18 fixed point) and the token reserve times the seconds they
/// held, and the quote value of every swap, so any window's average price, depth and
/// volume are two reads apart, and a flash loan cannot move them.
contract ConstantProductPair is ERC20, ReentrancyGuard {
    using SafeERC20 for IERC20;

    IERC20 public immutable token;
    IERC20 public immutable quote;
    IFeeSource public immutable feeSource;
    address public immutable treasury;
    uint256 public immutable protocolShareBps;

    uint256 public reserveToken;
    uint256 public reserveQuote;
    /// Σ price · seconds (price: quote per token, 1e18 fixed point), up to `lastUpdate`.
    uint256 public priceCumulative;
    /// Σ token reserve · seconds, up to `lastUpdate`: the time-weighted depth, which a
    /// flash loan (in and out within one block) cannot move.
    uint256 public reserveTokenCumulative;
    /// Σ quote value of every swap.
    uint256 public quoteVolumeCumulative;
    uint64 public lastUpdate;

    event Liquidity(address indexed who, int256 tokenAmount, int256 quoteAmount, int256 shares);
    event Swap(address indexed who, bool tokenIn, uint256 amountIn, uint256 amountOut, uint256 fee);

    error ZeroAmount();
    error Slippage(uint256 got, uint256 minimum);
    error BadFee(uint256 feeBps);
    error NoLiquidity();

    constructor(IERC20 token_, IERC20 quote_, IFeeSource feeSource_, address treasury_, uint256 protocolShareBps_)
        ERC20("zkpolicy LP share", "ZLP")
    {
        if (protocolShareBps_ > 10_000) revert BadFee(protocolShareBps_);
        (token, quote, feeSource, treasury, protocolShareBps) = (token_, quote_, feeSource_, treasury_, protocolShareBps_);
    }

    /// Adds liquidity in the pool's proportion (the first deposit sets it), taking at most
    /// the amounts given; returns the shares minted.
    function addLiquidity(uint256 maxToken, uint256 maxQuote, uint256 minShares) external nonReentrant returns (uint256 shares) {
        if (maxToken == 0 || maxQuote == 0) revert ZeroAmount();
        accumulate();
        uint256 supply = totalSupply();
        (uint256 t, uint256 q) = (maxToken, maxQuote);
        if (supply == 0) {
            shares = Math.sqrt(t * q);
        } else {
            // Take the binding side in full and the other in proportion.
            uint256 byToken = maxToken * supply / reserveToken;
            uint256 byQuote = maxQuote * supply / reserveQuote;
            shares = Math.min(byToken, byQuote);
            t = Math.mulDiv(shares, reserveToken, supply, Math.Rounding.Ceil);
            q = Math.mulDiv(shares, reserveQuote, supply, Math.Rounding.Ceil);
        }
        if (shares == 0 || shares < minShares) revert Slippage(shares, minShares);
        token.safeTransferFrom(msg.sender, address(this), t);
        quote.safeTransferFrom(msg.sender, address(this), q);
        (reserveToken, reserveQuote) = (reserveToken + t, reserveQuote + q);
        _mint(msg.sender, shares);
        emit Liquidity(msg.sender, int256(t), int256(q), int256(shares));
    }

    function removeLiquidity(uint256 shares, uint256 minToken, uint256 minQuote)
        external
        nonReentrant
        returns (uint256 t, uint256 q)
    {
        if (shares == 0) revert ZeroAmount();
        accumulate();
        uint256 supply = totalSupply();
        t = shares * reserveToken / supply;
        q = shares * reserveQuote / supply;
        if (t < minToken) revert Slippage(t, minToken);
        if (q < minQuote) revert Slippage(q, minQuote);
        _burn(msg.sender, shares);
        (reserveToken, reserveQuote) = (reserveToken - t, reserveQuote - q);
        token.safeTransfer(msg.sender, t);
        quote.safeTransfer(msg.sender, q);
        emit Liquidity(msg.sender, -int256(t), -int256(q), -int256(shares));
    }

    /// Swaps `amountIn` of the token (`tokenIn`) or of the quote asset for the other,
    /// paying the fee from the input; sends at least `minOut` to `to`.
    function swap(bool tokenIn, uint256 amountIn, uint256 minOut, address to)
        external
        nonReentrant
        returns (uint256 amountOut)
    {
        if (amountIn == 0) revert ZeroAmount();
        if (reserveToken == 0 || reserveQuote == 0) revert NoLiquidity();
        accumulate();
        uint256 fee;
        (amountOut, fee) = quoteSwap(tokenIn, amountIn);
        if (amountOut < minOut || amountOut == 0) revert Slippage(amountOut, minOut);
        (IERC20 inAsset, IERC20 outAsset) = tokenIn ? (token, quote) : (quote, token);
        inAsset.safeTransferFrom(msg.sender, address(this), amountIn);
        uint256 protocol = fee * protocolShareBps / 10_000;
        if (protocol != 0) inAsset.safeTransfer(treasury, protocol);
        uint256 kept = amountIn - protocol;
        if (tokenIn) {
            (reserveToken, reserveQuote) = (reserveToken + kept, reserveQuote - amountOut);
            quoteVolumeCumulative += amountOut;
        } else {
            (reserveToken, reserveQuote) = (reserveToken - amountOut, reserveQuote + kept);
            quoteVolumeCumulative += amountIn;
        }
        outAsset.safeTransfer(to, amountOut);
        emit Swap(msg.sender, tokenIn, amountIn, amountOut, fee);
    }

    /// What a swap of `amountIn` would pay out now, and its fee (in the input asset).
    function quoteSwap(bool tokenIn, uint256 amountIn) public view returns (uint256 amountOut, uint256 fee) {
        uint256 feeBps = feeSource.feeBps();
        if (feeBps > 10_000) revert BadFee(feeBps);
        fee = amountIn * feeBps / 10_000;
        uint256 net = amountIn - fee;
        (uint256 rIn, uint256 rOut) = tokenIn ? (reserveToken, reserveQuote) : (reserveQuote, reserveToken);
        amountOut = rOut * net / (rIn + net);
    }

    /// The pool's price now: quote per token, 1e18 fixed point (0 when empty).
    function price() public view returns (uint256) {
        return reserveToken == 0 ? 0 : reserveQuote * 1e18 / reserveToken;
    }

    /// The accumulators as of now (without writing them).
    function cumulatives() external view returns (uint256 priceSeconds, uint256 reserveSeconds, uint256 quoteVolume) {
        uint256 elapsed = lastUpdate == 0 ? 0 : block.timestamp - lastUpdate;
        return (priceCumulative + price() * elapsed, reserveTokenCumulative + reserveToken * elapsed, quoteVolumeCumulative);
    }

    /// The price accumulator alone as of now (the treasury's buyback reads only this).
    function priceSeconds() external view returns (uint256) {
        uint256 elapsed = lastUpdate == 0 ? 0 : block.timestamp - lastUpdate;
        return priceCumulative + price() * elapsed;
    }

    function accumulate() internal {
        uint64 now_ = uint64(block.timestamp);
        if (lastUpdate != 0) {
            priceCumulative += price() * (now_ - lastUpdate);
            reserveTokenCumulative += reserveToken * (now_ - lastUpdate);
        }
        lastUpdate = now_;
    }
}
