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
/// accumulators, so a flash loan (in and out within one block) moves none of them. The
/// snapshot of epoch `e` can be taken only in the first `snapshotWindow` seconds of `e`, so
/// whoever calls first chooses where the averaging window ends only within that span.
///
///   0 staking_ratio         average stake / supply
///   1 liquidity_depth       2 · average token reserve / supply (pool value / market cap)
///   2 volatility_30d        sample std of the last ≤ 30 snapshot-to-snapshot returns of the
///                           average price (1e6 fixed point), × √365 (0 with fewer than two)
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
    /// Snapshot-to-snapshot returns are kept in 1e6 fixed point.
    int256 internal constant RET = 1e6;
    uint256 public constant WINDOW = 30;
    uint256 internal constant RING = 64;
    /// What the constructor writes into every ring slot: nonzero, so that no snapshot pays
    /// for a fresh storage slot, and never a real entry (an epoch of 2^63 in `snapshots`; a
    /// `ring` entry is read only after a snapshot has written it).
    uint256 internal constant PREPAID = 1 << 255;
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
    /// The snapshot of an epoch is taken in its first `snapshotWindow` seconds, or never.
    uint64 public immutable snapshotWindow;
    /// KPI `i`'s scale bits at bits 8i.
    uint256 internal immutable scaleBits;
    /// KPI `i`'s quantized range, int16 `lo` at bits 32i and `hi` at 32i + 16.
    uint256 internal immutable ranges;

    /// The previous snapshot: when, how many were taken, and its average price (1e18).
    struct Marks {
        uint64 at;
        uint64 count;
        uint128 twap;
    }

    /// The accumulators at the previous snapshot, kept modulo 2^128 (differences are taken
    /// the same way, as Uniswap's oracle does), and the previous concentration (1e18).
    struct Cumulatives {
        uint128 price;
        uint128 reserve;
        uint128 staked;
        int128 concentration;
    }

    /// The epoch's incumbent holder set: its epoch and holdings at submission (its hash apart).
    struct Incumbent {
        uint64 epoch;
        uint192 holdings;
    }

    Marks internal marks;
    Cumulatives internal cums;
    Incumbent internal incumbentHolders;
    bytes32 public holdersHash;
    /// Per snapshot index (mod RING), one word: Σ returns (int64), Σ returns² (uint64), both
    /// up to it and kept modulo 2^64, and the pair's volume cumulative (modulo 2^128).
    mapping(uint256 => uint256) internal ring;
    /// The last RING epochs' snapshots, by epoch modulo RING (a slot is rewritten, not
    /// created, once the ring is full): eight int16 KPIs at bits 16i, `postedAt` at bits
    /// 128..192 and the epoch at 192..256. Older snapshots live in the SnapshotTaken log.
    mapping(uint256 => uint256) internal snapshots;

    /// The quantized KPIs, and the values they were quantized from (1e18 fixed point).
    event SnapshotTaken(uint64 indexed epoch, int256[] kpis, int256[8] values);
    event HoldersSubmitted(uint64 indexed epoch, address[] holders, uint256 holdings);

    error AlreadyTaken(uint64 epoch);
    error SnapshotWindowClosed(uint64 epoch, uint64 closedAt);
    error BadSnapshotWindow();
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
        int256[8] memory hi,
        uint64 snapshotWindow_
    ) {
        economy = economy_;
        (token, quote, pair, vault, incentives) = (economy_.token(), economy_.quote(), pair_, vault_, economy_.incentives());
        (targetPrice, yearlySpend, genesis, epochLength) = (targetPrice_, yearlySpend_, economy_.genesis(), economy_.epochLength());
        if (snapshotWindow_ == 0 || snapshotWindow_ > epochLength) revert BadSnapshotWindow();
        snapshotWindow = snapshotWindow_;
        uint256 s;
        uint256 r;
        for (uint256 i = 0; i < KPI_COUNT; i++) {
            if (lo[i] > hi[i] || lo[i] < type(int16).min || hi[i] > type(int16).max || scaleBits_[i] > 32) revert BadRange(i);
            s |= uint256(scaleBits_[i]) << (8 * i);
            r |= (uint256(uint16(int16(lo[i]))) << (32 * i)) | (uint256(uint16(int16(hi[i]))) << (32 * i + 16));
        }
        (scaleBits, ranges) = (s, r);
        // Prepay the storage every snapshot writes (as Uniswap v3 does for its oracle's
        // observations): the deployer pays the first writes once, and every snapshot, the
        // first ones too, rewrites slots that are already set. Fields read only once a
        // snapshot exists (`at`, the cumulatives) hold 1 until the first snapshot; the
        // concentration stays 0, the value carried over before any holder set.
        for (uint256 i = 0; i < RING; i++) {
            ring[i] = PREPAID;
            snapshots[i] = PREPAID;
        }
        marks = Marks({at: 1, count: 0, twap: 0});
        cums = Cumulatives({price: 1, reserve: 0, staked: 1, concentration: 0});
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
        if (incumbentHolders.epoch == epoch) {
            if (keccak256(abi.encode(incumbent)) != holdersHash) revert WrongIncumbent();
            uint256 standing = holdingsOf(incumbent);
            if (holdings <= standing) revert NotBetter(holdings, standing);
        }
        holdersHash = keccak256(abi.encode(holders));
        incumbentHolders = Incumbent({epoch: epoch, holdings: uint192(holdings)});
        emit HoldersSubmitted(epoch, holders, holdings);
    }

    /// Computes, stores and returns the current epoch's KPI snapshot; `incumbent` is the
    /// epoch's holder set (empty when none was submitted).
    function takeSnapshot(address[] calldata incumbent) external returns (int256[] memory kpis) {
        uint64 epoch = currentEpoch();
        if (epoch == 0) revert NotStarted();
        if (uint64(snapshots[epoch % RING] >> 192) == epoch) revert AlreadyTaken(epoch);
        uint64 closes = genesis + (epoch - 1) * epochLength + snapshotWindow;
        if (block.timestamp >= closes) revert SnapshotWindowClosed(epoch, closes);
        int256[8] memory v = values(incumbent, epoch);
        kpis = new int256[](KPI_COUNT);
        uint256 word = (uint256(epoch) << 192) | (uint256(block.timestamp) << 128);
        for (uint256 i = 0; i < KPI_COUNT; i++) {
            kpis[i] = quantize(i, v[i]);
            word |= uint256(uint16(int16(kpis[i]))) << (16 * i);
        }
        snapshots[epoch % RING] = word;
        emit SnapshotTaken(epoch, kpis, v);
    }

    /// The eight KPIs now (1e18 fixed point), writing the marks the next snapshot needs.
    function values(address[] calldata incumbent, uint64 epoch) internal returns (int256[8] memory v) {
        uint256 supply = token.totalSupply();
        Marks memory m = marks;
        Cumulatives memory c = cums;
        (uint256 twap, uint256 volume) = averages(m, c, supply, v);
        (v[2], v[5]) = record(m.count, m.twap, twap, volume);
        v[3] = int256(twap * ONE / targetPrice) - int256(ONE);
        v[4] = concentration(incumbent, epoch, supply, c.concentration);
        v[6] = int256(quote.balanceOf(address(economy)) * ONE / yearlySpend);
        (uint256 emitted, uint256 rewarded, uint256 burned) = economy.lastFlows();
        int256 net = int256(emitted + rewarded) - int256(burned);
        v[7] = net * 365 * int256(ONE) / int256(supply);
        marks = Marks({at: uint64(block.timestamp), count: m.count + 1, twap: uint128(twap)});
        c.concentration = int128(v[4]);
        cums = c;
    }

    /// The average price, token reserve and stake since the previous snapshot (the spot
    /// values at the first), the first two KPIs in `v`; moves `c` to the accumulators now.
    function averages(Marks memory m, Cumulatives memory c, uint256 supply, int256[8] memory v)
        internal
        view
        returns (uint256 twap, uint256 volume)
    {
        uint256 priceCum;
        uint256 reserveCum;
        (priceCum, reserveCum, volume) = pair.cumulatives();
        uint256 stakedCum = vault.stakedSeconds();
        uint256 dt = m.count == 0 ? 0 : block.timestamp - m.at;
        uint256 reserve;
        uint256 staked;
        if (dt == 0) {
            (twap, reserve, staked) = (pair.price(), pair.reserveToken(), vault.totalStaked());
        } else {
            unchecked {
                twap = uint128(uint128(priceCum) - c.price) / dt;
                reserve = uint128(uint128(reserveCum) - c.reserve) / dt;
                staked = uint128(uint128(stakedCum) - c.staked) / dt;
            }
        }
        v[0] = int256(staked * ONE / supply);
        v[1] = int256(2 * reserve * ONE / supply);
        (c.price, c.reserve, c.staked) = (uint128(priceCum), uint128(reserveCum), uint128(stakedCum));
    }

    /// Records snapshot `k` in the ring (its return since `lastTwap`, and the volume
    /// cumulative) and returns the annualised volatility and the volume trend (1e18).
    function record(uint256 k, uint256 lastTwap, uint256 twap, uint256 volume)
        internal
        returns (int256 volatility, int256 trend)
    {
        (int64 s1, uint64 s2,) = unpack(k == 0 ? 0 : ring[(k - 1) % RING]);
        if (k > 0 && lastTwap > 0) {
            int256 r = (int256(twap) - int256(lastTwap)) * RET / int256(lastTwap);
            unchecked {
                (s1, s2) = (s1 + int64(r), s2 + uint64(uint256(r * r)));
            }
        }
        ring[k % RING] = uint256(uint64(s1)) | (uint256(s2) << 64) | (uint256(uint128(volume)) << 128);
        return (volatilityOver(k, s1, s2), trendOver(k, uint128(volume)));
    }

    /// The sample std of the last ≤ WINDOW returns, × √365, 1e18 (0 with fewer than two).
    function volatilityOver(uint256 k, int64 s1, uint64 s2) internal view returns (int256) {
        uint256 n = k < WINDOW ? k : WINDOW;
        if (n < 2) return 0;
        (int64 b1, uint64 b2,) = unpack(ring[(k - n) % RING]);
        int256 d1;
        uint256 d2;
        unchecked {
            (d1, d2) = (int256(int64(s1 - b1)), uint256(uint64(s2 - b2)));
        }
        // d2 ≥ d1²/n for exact sums; saturate anyway, so a return past the uint64 width
        // (a price × 4,000 between snapshots) cannot revert a snapshot.
        uint256 mean = uint256(d1 * d1) / n;
        uint256 centred = d2 > mean ? d2 - mean : 0;
        return int256(Math.sqrt(centred / (n - 1) * 365) * (ONE / uint256(RET)));
    }

    /// Volume of the last WINDOW snapshots over the WINDOW before, − 1, 1e18 (0 until
    /// 2·WINDOW snapshots exist, or when the earlier window saw no volume).
    function trendOver(uint256 k, uint128 volume) internal view returns (int256) {
        if (k < 2 * WINDOW) return 0;
        (,, uint128 back) = unpack(ring[(k - WINDOW) % RING]);
        (,, uint128 earliest) = unpack(ring[(k - 2 * WINDOW) % RING]);
        uint256 recent;
        uint256 earlier;
        unchecked {
            (recent, earlier) = (uint128(volume - back), uint128(back - earliest));
        }
        if (earlier == 0) return 0;
        return int256(recent * ONE / earlier) - int256(ONE);
    }

    function unpack(uint256 w) internal pure returns (int64 s1, uint64 s2, uint128 volume) {
        return (int64(uint64(w)), uint64(w >> 64), uint128(w >> 128));
    }

    /// The top holders' share of supply (1e18): the smaller of the incumbent's holdings at
    /// submission and now; the previous snapshot's value without one this epoch.
    function concentration(address[] calldata incumbent, uint64 epoch, uint256 supply, int256 previous)
        internal
        view
        returns (int256)
    {
        Incumbent memory h = incumbentHolders;
        if (h.epoch != epoch) return previous;
        if (keccak256(abi.encode(incumbent)) != holdersHash) revert WrongIncumbent();
        uint256 now_ = holdingsOf(incumbent);
        uint256 held = now_ < h.holdings ? now_ : h.holdings;
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
        uint256 word = snapshots[epoch % RING];
        if (uint64(word >> 192) != epoch || word == PREPAID) return (kpis, 0);
        kpis = new int256[](KPI_COUNT);
        for (uint256 i = 0; i < KPI_COUNT; i++) {
            kpis[i] = int16(uint16(word >> (16 * i)));
        }
        postedAt = uint64(word >> 128);
    }

    /// Snapshot `k`'s return sums and volume cumulative (each modulo its width), while
    /// still in the ring.
    function marksAt(uint256 k) external view returns (int64 sumReturns, uint64 sumSquares, uint128 volume) {
        return unpack(ring[k % RING]);
    }

    /// The previous snapshot's marks, as the next snapshot reads them.
    function state()
        external
        view
        returns (
            uint64 lastAt,
            uint64 count,
            uint128 lastTwap,
            uint128 priceCum,
            uint128 reserveCum,
            uint128 stakedCum,
            int128 lastConcentration,
            uint64 holdersEpoch,
            uint192 holdersAtSubmission
        )
    {
        (Marks memory m, Cumulatives memory c, Incumbent memory h) = (marks, cums, incumbentHolders);
        return (m.at, m.count, m.twap, c.price, c.reserve, c.staked, c.concentration, h.epoch, h.holdings);
    }
}
