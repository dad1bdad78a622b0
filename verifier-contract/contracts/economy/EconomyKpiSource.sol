// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IKpiSource} from "./KpiSource.sol";
import {TokenEconomy} from "./TokenEconomy.sol";
import {ConstantProductPair} from "./ConstantProductPair.sol";
import {StakingVault} from "./StakingVault.sol";
import {ZkpToken} from "./ZkpToken.sol";

/// The KPI vector computed on chain from the economy's own state: nobody posts it. Once
/// per epoch anyone calls `takeSnapshot`, which computes the eight KPIs of the default
/// model (as 1e18 fixed point), quantizes each as `QuantizedKpis` does (× 2^scale_bits,
/// rounded half away from zero) and clamps it into the model's range. Averages run over
/// the time since the previous snapshot, from the pair's and the vault's time-weighted
/// accumulators, so a flash loan (in and out within one block) moves none of them.
///
///   0 staking_ratio         average stake / supply
///   1 liquidity_depth       2 · average token reserve / supply (pool value / market cap)
///   2 volatility_30d        sample std of the last ≤ 30 snapshot-to-snapshot returns of the
///                           average price, × √365 (0 with fewer than two returns)
///   3 price_vs_target       average price / target − 1
///   4 holder_concentration  the top holders' share, from holder sets anyone submits
///   5 volume_trend          swap volume of the last 30 snapshots / the 30 before − 1 (0 until
///                           60 snapshots exist, or when the earlier window saw none)
///   6 treasury_runway       the treasury's quote / its yearly spend, in years
///   7 net_emission_pressure (emitted + rewarded − burned at the last tick) · 365 / supply
///
/// Holder concentration is not readable on chain. During an epoch anyone may submit up to
/// ten distinct holder addresses (no protocol contract among them); a set replaces the
/// epoch's incumbent when its holdings (balance plus stake) now exceed the incumbent's
/// now, so honest watchers drive it to the true top ten. The snapshot uses the smaller of
/// the incumbent's holdings at its submission and at the snapshot, so a flash loan at
/// either moment alone cannot raise it. With no submission in an epoch, the previous
/// snapshot's value carries over. `zkpolicy_verifier_contract::economy::economy_kpis` is
/// the twin, bit for bit.
contract EconomyKpiSource is IKpiSource {
    uint256 internal constant ONE = 1e18;
    /// Snapshot-to-snapshot returns are kept in 1e9 fixed point.
    int256 internal constant RET = 1e9;
    uint256 public constant WINDOW = 30;
    uint256 internal constant RING = 64;
    uint256 public constant TOP = 10;
    uint256 public constant KPI_COUNT = 8;

    TokenEconomy public immutable economy;
    ZkpToken public immutable token;
    IERC20 public immutable quote;
    ConstantProductPair public immutable pair;
    StakingVault public immutable vault;
    address public immutable incentives;
    /// Quote per token, 1e18 fixed point.
    uint256 public immutable targetPrice;
    /// The treasury's spend a year, in quote.
    uint256 public immutable yearlySpend;
    uint64 public immutable genesis;
    uint64 public immutable epochLength;
    /// KPI `i`'s scale bits at bits 8i.
    uint256 internal immutable scaleBits;
    /// KPI `i`'s quantized range, int16 `lo` at bits 32i and `hi` at 32i + 16.
    uint256 internal immutable ranges;

    /// The previous snapshot: when, how many were taken, its average price (1e18), and the
    /// accumulators then.
    uint64 public lastAt;
    uint64 public count;
    uint256 public lastTwap;
    uint256 public lastPriceCum;
    uint256 public lastReserveCum;
    uint256 public lastStakedCum;
    /// Per snapshot index (mod RING): Σ returns (int128, bits 0..128) and Σ returns²
    /// (uint128, bits 128..256) up to it; and the pair's volume cumulative at it.
    mapping(uint256 => uint256) internal returnSums;
    mapping(uint256 => uint256) internal volumes;
    /// Per epoch: eight int16 KPIs at bits 16i, `postedAt` at bits 128..192.
    mapping(uint64 => uint256) internal snapshots;
    /// The epoch's incumbent holder set: its hash, its epoch and its holdings at submission.
    bytes32 public holdersHash;
    uint64 public holdersEpoch;
    uint256 public holdersAtSubmission;
    int256 internal lastConcentration;

    /// The quantized KPIs, and the values they were quantized from (1e18 fixed point).
    event SnapshotTaken(uint64 indexed epoch, int256[] kpis, int256[8] values);
    event HoldersSubmitted(uint64 indexed epoch, address[] holders, uint256 holdings);

    error AlreadyTaken(uint64 epoch);
    error NotStarted();
    error BadRange(uint256 index);
    error BadHolders(string reason);
    error NotBetter(uint256 holdings, uint256 incumbent);
    error WrongIncumbent();

    constructor(
        TokenEconomy economy_,
        ConstantProductPair pair_,
        StakingVault vault_,
        uint256 targetPrice_,
        uint256 yearlySpend_,
        uint8[8] memory scaleBits_,
        int256[8] memory lo,
        int256[8] memory hi
    ) {
        economy = economy_;
        (token, quote, pair, vault, incentives) = (economy_.token(), economy_.quote(), pair_, vault_, economy_.incentives());
        (targetPrice, yearlySpend, genesis, epochLength) = (targetPrice_, yearlySpend_, economy_.genesis(), economy_.epochLength());
        uint256 s;
        uint256 r;
        for (uint256 i = 0; i < KPI_COUNT; i++) {
            if (lo[i] > hi[i] || lo[i] < type(int16).min || hi[i] > type(int16).max || scaleBits_[i] > 32) revert BadRange(i);
            s |= uint256(scaleBits_[i]) << (8 * i);
            r |= (uint256(uint16(int16(lo[i]))) << (32 * i)) | (uint256(uint16(int16(hi[i]))) << (32 * i + 16));
        }
        (scaleBits, ranges) = (s, r);
    }

    function currentEpoch() public view returns (uint64) {
        if (block.timestamp < genesis) return 0;
        return uint64((block.timestamp - genesis) / epochLength) + 1;
    }

    /// Submits a candidate top-holder set for the current epoch; `incumbent` is the set now
    /// held (empty when none), which it must beat as both stand now.
    function submitHolders(address[] calldata holders, address[] calldata incumbent) external {
        uint64 epoch = currentEpoch();
        if (holders.length == 0 || holders.length > TOP) revert BadHolders("one to ten holders");
        for (uint256 i = 0; i < holders.length; i++) {
            address h = holders[i];
            if (h == address(pair) || h == address(vault) || h == address(economy) || h == incentives || h == address(0)) {
                revert BadHolders("a protocol address is not a holder");
            }
            for (uint256 j = 0; j < i; j++) {
                if (holders[j] == h) revert BadHolders("holders must be distinct");
            }
        }
        uint256 holdings = holdingsOf(holders);
        if (holdersEpoch == epoch) {
            if (keccak256(abi.encode(incumbent)) != holdersHash) revert WrongIncumbent();
            uint256 standing = holdingsOf(incumbent);
            if (holdings <= standing) revert NotBetter(holdings, standing);
        }
        (holdersHash, holdersEpoch, holdersAtSubmission) = (keccak256(abi.encode(holders)), epoch, holdings);
        emit HoldersSubmitted(epoch, holders, holdings);
    }

    /// Computes, stores and returns the current epoch's KPI snapshot; `incumbent` is the
    /// epoch's holder set (empty when none was submitted).
    function takeSnapshot(address[] calldata incumbent) external returns (int256[] memory kpis) {
        uint64 epoch = currentEpoch();
        if (epoch == 0) revert NotStarted();
        if (snapshots[epoch] != 0) revert AlreadyTaken(epoch);
        int256[8] memory v = values(incumbent, epoch);
        kpis = new int256[](KPI_COUNT);
        uint256 word = uint256(block.timestamp) << 128;
        for (uint256 i = 0; i < KPI_COUNT; i++) {
            kpis[i] = quantize(i, v[i]);
            word |= uint256(uint16(int16(kpis[i]))) << (16 * i);
        }
        snapshots[epoch] = word;
        lastConcentration = v[4];
        emit SnapshotTaken(epoch, kpis, v);
    }

    /// The eight KPIs now (1e18 fixed point), writing the marks the next snapshot needs.
    function values(address[] calldata incumbent, uint64 epoch) internal returns (int256[8] memory v) {
        uint256 supply = token.totalSupply();
        (uint256 priceCum, uint256 reserveCum, uint256 volume) = pair.cumulatives();
        uint256 stakedCum = vault.stakedSeconds();
        uint256 k = count;
        uint256 dt = k == 0 ? 0 : block.timestamp - lastAt;
        uint256 twap = dt == 0 ? pair.price() : (priceCum - lastPriceCum) / dt;
        uint256 reserve = dt == 0 ? pair.reserveToken() : (reserveCum - lastReserveCum) / dt;
        uint256 staked = dt == 0 ? vault.totalStaked() : (stakedCum - lastStakedCum) / dt;
        v[0] = int256(staked * ONE / supply);
        v[1] = int256(2 * reserve * ONE / supply);
        v[2] = int256(volatility(k, twap));
        v[3] = int256(twap * ONE / targetPrice) - int256(ONE);
        v[4] = concentration(incumbent, epoch, supply);
        v[5] = volumeTrend(k, volume);
        v[6] = int256(quote.balanceOf(address(economy)) * ONE / yearlySpend);
        int256 net = int256(economy.lastEmitted() + economy.lastRewarded()) - int256(economy.lastBurned());
        v[7] = net * 365 * int256(ONE) / int256(supply);
        (lastAt, count, lastTwap) = (uint64(block.timestamp), uint64(k + 1), twap);
        (lastPriceCum, lastReserveCum, lastStakedCum) = (priceCum, reserveCum, stakedCum);
    }

    /// Records snapshot `k`'s return and returns the annualised volatility (1e18).
    function volatility(uint256 k, uint256 twap) internal returns (uint256) {
        int256 s1;
        uint256 s2;
        if (k > 0) {
            (s1, s2) = sumsAt(k - 1);
            if (lastTwap > 0) {
                int256 r = (int256(twap) - int256(lastTwap)) * RET / int256(lastTwap);
                (s1, s2) = (s1 + r, s2 + uint256(r * r));
            }
        }
        returnSums[k % RING] = uint256(uint128(int128(s1))) | (s2 << 128);
        uint256 n = k < WINDOW ? k : WINDOW;
        if (n < 2) return 0;
        (int256 b1, uint256 b2) = sumsAt(k - n);
        int256 d1 = s1 - b1;
        uint256 d2 = s2 - b2;
        uint256 centred = d2 - uint256(d1 * d1) / n;
        return Math.sqrt(centred / (n - 1) * 365) * uint256(RET);
    }

    function sumsAt(uint256 k) internal view returns (int256 s1, uint256 s2) {
        uint256 w = returnSums[k % RING];
        return (int256(int128(uint128(w))), w >> 128);
    }

    /// Records snapshot `k`'s volume cumulative and returns the volume trend (1e18).
    function volumeTrend(uint256 k, uint256 volume) internal returns (int256) {
        volumes[k % RING] = volume;
        if (k < 2 * WINDOW) return 0;
        uint256 recent = volume - volumes[(k - WINDOW) % RING];
        uint256 earlier = volumes[(k - WINDOW) % RING] - volumes[(k - 2 * WINDOW) % RING];
        if (earlier == 0) return 0;
        return int256(recent * ONE / earlier) - int256(ONE);
    }

    /// The top holders' share of supply (1e18): the smaller of the incumbent's holdings at
    /// submission and now; the previous snapshot's value without one this epoch.
    function concentration(address[] calldata incumbent, uint64 epoch, uint256 supply) internal view returns (int256) {
        if (holdersEpoch != epoch) return lastConcentration;
        if (keccak256(abi.encode(incumbent)) != holdersHash) revert WrongIncumbent();
        uint256 now_ = holdingsOf(incumbent);
        uint256 held = now_ < holdersAtSubmission ? now_ : holdersAtSubmission;
        return int256(held * ONE / supply);
    }

    function holdingsOf(address[] calldata holders) internal view returns (uint256 sum) {
        for (uint256 i = 0; i < holders.length; i++) {
            sum += token.balanceOf(holders[i]) + vault.stakeOf(holders[i]);
        }
    }

    /// `v` (1e18) × 2^scale_bits, rounded half away from zero, clamped into KPI `i`'s range.
    function quantize(uint256 i, int256 v) internal view returns (int256 q) {
        uint256 bits = (scaleBits >> (8 * i)) & 0xff;
        int256 lo = int16(uint16(ranges >> (32 * i)));
        int256 hi = int16(uint16(ranges >> (32 * i + 16)));
        uint256 magnitude = ((v < 0 ? uint256(-v) : uint256(v)) << bits) + ONE / 2;
        q = int256(magnitude / ONE);
        if (v < 0) q = -q;
        q = q < lo ? lo : (q > hi ? hi : q);
    }

    function snapshot(uint64 epoch) external view returns (int256[] memory kpis, uint64 postedAt) {
        uint256 word = snapshots[epoch];
        if (word == 0) return (kpis, 0);
        kpis = new int256[](KPI_COUNT);
        for (uint256 i = 0; i < KPI_COUNT; i++) {
            kpis[i] = int16(uint16(word >> (16 * i)));
        }
        postedAt = uint64(word >> 128);
    }

    /// Snapshot `k`'s return sums and volume cumulative, while still in the ring.
    function marksAt(uint256 k) external view returns (int256 sumReturns, uint256 sumSquares, uint256 volume) {
        (sumReturns, sumSquares) = sumsAt(k);
        volume = volumes[k % RING];
    }
}
