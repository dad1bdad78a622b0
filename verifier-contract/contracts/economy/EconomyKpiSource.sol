// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
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
/// No KPI is ever read from a spot value. The first call after deployment only seeds the
/// accumulators (`SnapshotSeeded`): it writes no KPIs, so the controller cannot decide
/// that epoch, and the next snapshot is the first average. The window is at most half an
/// epoch, so two snapshots (or the seed and the first snapshot) are always at least half
/// an epoch apart: a price held for a block moves an average by at most
/// block / (epochLength / 2) of its move.
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
/// Holder concentration is not readable on chain: anyone may submit up to ten distinct
/// holder addresses (no protocol contract among them), in two steps. `proposeHolders`
/// records the set and its holdings (balance plus stake) for its proposer;
/// `submitHolders`, in a LATER block, counts the smaller of its holdings then and now, so
/// a balance borrowed for one transaction counts only as far as it stayed. A set replaces
/// the epoch's incumbent when it counts more than the incumbent holds now; the epoch's
/// first set must count at least what the previous epoch's final set holds now. The
/// snapshot of epoch `e` reads the set that stood at the END of epoch `e − 1` (the smaller
/// of its counted holdings and its holdings at the snapshot): competition for it closed
/// before `e` began, so no submission can share a transaction with the snapshot, and
/// honest watchers have the whole epoch to answer a bad set. With no set in `e − 1`, the
/// previous snapshot's value carries over. `zkpolicy_verifier_contract::economy::economy_kpis`
/// is the twin, bit for bit.
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

    /// The previous snapshot (or the seed): when (0: not seeded yet), how many KPI
    /// snapshots were taken, and its average price (1e18; 0 after the seed).
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

    /// The holder set standing in `epoch`: the block it was accepted in, the holdings it
    /// was counted with, and the hash of its addresses (`abi.encode(address[])`).
    struct HolderSet {
        uint64 epoch;
        uint64 acceptedIn;
        uint128 holdings;
        bytes32 hash;
    }

    /// A proposer's set, waiting for its submission in a later block.
    struct Proposal {
        bytes32 hash;
        uint64 proposedIn;
        uint128 holdings;
    }

    Marks internal marks;
    Cumulatives internal cums;
    /// The sets of the last two epochs, by epoch parity: submissions of epoch `e` write
    /// slot `e % 2` while the snapshot of `e` reads slot `(e − 1) % 2`.
    HolderSet[2] internal holderSets;
    /// Each proposer's latest proposal (keyed by proposer, so nobody can overwrite another's).
    mapping(address => Proposal) public proposals;
    /// Per snapshot index (mod RING), one word: Σ returns (int64), Σ returns² (uint64), both
    /// up to it and kept modulo 2^64, and the pair's volume cumulative (modulo 2^128).
    mapping(uint256 => uint256) internal ring;
    /// The last RING epochs' snapshots, by epoch modulo RING (a slot is rewritten, not
    /// created, once the ring is full): eight int16 KPIs at bits 16i, `postedAt` at bits
    /// 128..192 and the epoch at 192..256. Older snapshots live in the SnapshotTaken log.
    mapping(uint256 => uint256) internal snapshots;

    /// The quantized KPIs, and the values they were quantized from (1e18 fixed point).
    event SnapshotTaken(uint64 indexed epoch, int256[] kpis, int256[8] values);
    /// The first call: the accumulators are marked, and the epoch has no KPIs.
    event SnapshotSeeded(uint64 indexed epoch);
    event HoldersProposed(address indexed proposer, bytes32 hash, uint256 holdings);
    /// A set accepted in `epoch` (for the snapshot of `epoch + 1`), counted with `holdings`.
    event HoldersSubmitted(uint64 indexed epoch, address[] holders, uint256 holdings);

    error AlreadyTaken(uint64 epoch);
    error SnapshotWindowClosed(uint64 epoch, uint64 closedAt);
    error BadSnapshotWindow();
    error NotStarted();
    error BadRange(uint256 index);
    error BadHolders(string reason);
    error NotBetter(uint256 holdings, uint256 incumbent);
    error WrongIncumbent();
    error NoLiquidity();
    error NotProposed();
    error ProposedInThisBlock();

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
        // At most half an epoch, so consecutive snapshots are at least half an epoch apart.
        if (snapshotWindow_ == 0 || snapshotWindow_ > epochLength / 2) revert BadSnapshotWindow();
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
        // first ones too, rewrites slots that are already set. The cumulatives hold 1
        // until the seed overwrites them; the concentration stays 0, the value carried
        // over before any holder set. `marks` stays 0 (not seeded) until the seed.
        for (uint256 i = 0; i < RING; i++) {
            ring[i] = PREPAID;
            snapshots[i] = PREPAID;
        }
        cums = Cumulatives({price: 1, reserve: 1, staked: 1, concentration: 0});
    }

    function currentEpoch() public view returns (uint64) {
        if (block.timestamp < genesis) return 0;
        return uint64((block.timestamp - genesis) / epochLength) + 1;
    }

    /// Records a candidate top-holder set and its holdings now, for its proposer to submit
    /// in a later block.
    function proposeHolders(address[] calldata holders) external {
        if (currentEpoch() == 0) revert NotStarted();
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
        bytes32 hash = keccak256(abi.encode(holders));
        uint256 held = holdingsOf(holders);
        proposals[msg.sender] = Proposal({hash: hash, proposedIn: uint64(block.number), holdings: SafeCast.toUint128(held)});
        emit HoldersProposed(msg.sender, hash, held);
    }

    /// Submits the sender's proposed set for the current epoch (the next epoch's
    /// snapshot reads it), counted as the smaller of its holdings at the proposal and now.
    /// `incumbent` is the epoch's standing set, or, before any this epoch, the previous
    /// epoch's final set (empty when neither exists); the set must count more than the
    /// first holds now, or at least what the second holds now.
    function submitHolders(address[] calldata holders, address[] calldata incumbent) external {
        uint64 epoch = currentEpoch();
        if (epoch == 0) revert NotStarted();
        bytes32 hash = keccak256(abi.encode(holders));
        Proposal memory p = proposals[msg.sender];
        if (p.hash != hash) revert NotProposed();
        if (p.proposedIn >= block.number) revert ProposedInThisBlock();
        uint256 held = holdingsOf(holders);
        uint128 counted = held < p.holdings ? uint128(held) : p.holdings;
        HolderSet storage current = holderSets[epoch % 2];
        if (current.epoch == epoch) {
            beat(current.hash, incumbent, counted, true);
        } else {
            HolderSet storage last = holderSets[(epoch - 1) % 2];
            if (epoch > 1 && last.epoch == epoch - 1) beat(last.hash, incumbent, counted, false);
        }
        holderSets[epoch % 2] = HolderSet({epoch: epoch, acceptedIn: uint64(block.number), holdings: counted, hash: hash});
        emit HoldersSubmitted(epoch, holders, counted);
    }

    /// Refuses `counted` unless it beats `incumbent` (whose hash must be `hash`) as it
    /// holds now: by more (`strictly`), or at least as much.
    function beat(bytes32 hash, address[] calldata incumbent, uint256 counted, bool strictly) internal view {
        if (keccak256(abi.encode(incumbent)) != hash) revert WrongIncumbent();
        uint256 standing = holdingsOf(incumbent);
        if (strictly ? counted <= standing : counted < standing) revert NotBetter(counted, standing);
    }

    /// Computes, stores and returns the current epoch's KPI snapshot; `incumbent` is the
    /// holder set that stood at the end of the previous epoch (empty when none did). The
    /// first call only seeds the averages and returns no KPIs.
    function takeSnapshot(address[] calldata incumbent) external returns (int256[] memory kpis) {
        uint64 epoch = currentEpoch();
        if (epoch == 0) revert NotStarted();
        if (uint64(snapshots[epoch % RING] >> 192) == epoch) revert AlreadyTaken(epoch);
        uint64 closes = genesis + (epoch - 1) * epochLength + snapshotWindow;
        if (block.timestamp >= closes) revert SnapshotWindowClosed(epoch, closes);
        Marks memory m = marks;
        if (m.at == 0) {
            seed(epoch);
            return kpis;
        }
        int256[8] memory v = values(incumbent, epoch, m);
        kpis = new int256[](KPI_COUNT);
        uint256 word = (uint256(epoch) << 192) | (uint256(block.timestamp) << 128);
        for (uint256 i = 0; i < KPI_COUNT; i++) {
            kpis[i] = quantize(i, v[i]);
            word |= uint256(uint16(int16(kpis[i]))) << (16 * i);
        }
        snapshots[epoch % RING] = word;
        emit SnapshotTaken(epoch, kpis, v);
    }

    /// Marks the accumulators where the first average will start, and `epoch` as taken
    /// with no KPIs. An empty pool has no price to average: refused.
    function seed(uint64 epoch) internal {
        if (pair.reserveToken() == 0 || pair.reserveQuote() == 0) revert NoLiquidity();
        (uint256 priceCum, uint256 reserveCum,) = pair.cumulatives();
        cums = Cumulatives({
            price: uint128(priceCum),
            reserve: uint128(reserveCum),
            staked: uint128(vault.stakedSeconds()),
            concentration: 0
        });
        marks = Marks({at: uint64(block.timestamp), count: 0, twap: 0});
        snapshots[epoch % RING] = uint256(epoch) << 192;
        emit SnapshotSeeded(epoch);
    }

    /// The eight KPIs now (1e18 fixed point), writing the marks the next snapshot needs.
    function values(address[] calldata incumbent, uint64 epoch, Marks memory m) internal returns (int256[8] memory v) {
        uint256 supply = token.totalSupply();
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

    /// The average price, token reserve and stake since the previous snapshot or the seed
    /// (never less than half an epoch), the first two KPIs in `v`; moves `c` to the
    /// accumulators now.
    function averages(Marks memory m, Cumulatives memory c, uint256 supply, int256[8] memory v)
        internal
        view
        returns (uint256 twap, uint256 volume)
    {
        uint256 priceCum;
        uint256 reserveCum;
        (priceCum, reserveCum, volume) = pair.cumulatives();
        uint256 stakedCum = vault.stakedSeconds();
        uint256 dt = block.timestamp - m.at;
        uint256 reserve;
        uint256 staked;
        unchecked {
            twap = uint128(uint128(priceCum) - c.price) / dt;
            reserve = uint128(uint128(reserveCum) - c.reserve) / dt;
            staked = uint128(uint128(stakedCum) - c.staked) / dt;
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

    /// The top holders' share of supply (1e18) by the set that stood at the end of the
    /// previous epoch: the smaller of its counted holdings and its holdings now; the
    /// previous snapshot's value when no set stood then.
    function concentration(address[] calldata incumbent, uint64 epoch, uint256 supply, int256 previous)
        internal
        view
        returns (int256)
    {
        HolderSet storage h = holderSets[(epoch - 1) % 2];
        if (epoch == 1 || h.epoch != epoch - 1) return previous;
        if (keccak256(abi.encode(incumbent)) != h.hash) revert WrongIncumbent();
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

    /// Epoch `epoch`'s KPIs and when they were taken; none (`postedAt == 0`) for an epoch
    /// without a snapshot, the seeded one included.
    function snapshot(uint64 epoch) external view returns (int256[] memory kpis, uint64 postedAt) {
        uint256 word = snapshots[epoch % RING];
        if (uint64(word >> 192) != epoch || word == PREPAID || uint64(word >> 128) == 0) return (kpis, 0);
        kpis = new int256[](KPI_COUNT);
        for (uint256 i = 0; i < KPI_COUNT; i++) {
            kpis[i] = int16(uint16(word >> (16 * i)));
        }
        postedAt = uint64(word >> 128);
    }

    /// Whether epoch `epoch`'s call is made: a snapshot, or the seed (while in the ring).
    function taken(uint64 epoch) external view returns (bool) {
        uint256 word = snapshots[epoch % RING];
        return uint64(word >> 192) == epoch && word != PREPAID;
    }

    /// The holder set accepted in `epoch` (standing at its end, for the next snapshot):
    /// the hash of its addresses, the holdings it was counted with and the block it was
    /// accepted in (its `HoldersSubmitted` log); zeros when none is (still) recorded.
    function holderSet(uint64 epoch) external view returns (bytes32 hash, uint256 holdings, uint64 acceptedIn) {
        HolderSet memory h = holderSets[epoch % 2];
        if (epoch == 0 || h.epoch != epoch) return (0, 0, 0);
        return (h.hash, h.holdings, h.acceptedIn);
    }

    /// Snapshot `k`'s return sums and volume cumulative (each modulo its width), while
    /// still in the ring.
    function marksAt(uint256 k) external view returns (int64 sumReturns, uint64 sumSquares, uint128 volume) {
        return unpack(ring[k % RING]);
    }

    /// The previous snapshot's (or the seed's) marks, as the next snapshot reads them
    /// (`lastAt == 0`: not seeded yet).
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
            int128 lastConcentration
        )
    {
        (Marks memory m, Cumulatives memory c) = (marks, cums);
        return (m.at, m.count, m.twap, c.price, c.reserve, c.staked, c.concentration);
    }
}
