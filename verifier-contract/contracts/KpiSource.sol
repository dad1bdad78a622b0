// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {SSTORE2} from "solady/src/utils/SSTORE2.sol";
import {Int64Pack} from "./Int64Pack.sol";

/// Where a controller reads the KPI vector a proof must use for an epoch.
/// A protocol can implement this over on-chain reads instead of a reporter.
interface IKpiSource {
    /// The quantized KPI vector committed for `epoch`, and when it was committed
    /// (`postedAt == 0` when there is none).
    function snapshot(uint64 epoch) external view returns (int256[] memory kpis, uint64 postedAt);
}

/// The default KPI source: one reporter posts one quantized KPI vector per epoch.
/// Each snapshot is stored packed (int64, 8 bytes each) in a data contract's code
/// (SSTORE2), its address and time in one slot: cheaper to write than storage, and
/// read with one slot and one code copy.
contract ReporterKpiSource is IKpiSource {
    struct Snapshot {
        address data;
        uint64 postedAt;
    }

    address public immutable reporter;
    uint256 public immutable kpiCount;
    mapping(uint64 => Snapshot) internal snapshots;

    event KpisCommitted(uint64 indexed epoch, bytes32 kpiHash, int256[] kpis);

    error NotReporter();
    error AlreadyCommitted(uint64 epoch);
    error WrongKpiCount(uint256 expected, uint256 got);
    error KpiOutOfRange(uint256 index);

    constructor(address reporter_, uint256 kpiCount_) {
        reporter = reporter_;
        kpiCount = kpiCount_;
    }

    /// Commits the KPI vector for `epoch`; each epoch has exactly one snapshot.
    function commitKpis(uint64 epoch, int256[] calldata kpis) external {
        if (msg.sender != reporter) revert NotReporter();
        if (snapshots[epoch].postedAt != 0) revert AlreadyCommitted(epoch);
        if (kpis.length != kpiCount) revert WrongKpiCount(kpiCount, kpis.length);
        for (uint256 i = 0; i < kpis.length; i++) {
            if (kpis[i] < type(int64).min || kpis[i] > type(int64).max) revert KpiOutOfRange(i);
        }
        snapshots[epoch] = Snapshot({data: SSTORE2.write(Int64Pack.pack(kpis)), postedAt: uint64(block.timestamp)});
        emit KpisCommitted(epoch, keccak256(abi.encode(kpis)), kpis);
    }

    function snapshot(uint64 epoch) external view returns (int256[] memory kpis, uint64 postedAt) {
        Snapshot memory s = snapshots[epoch];
        if (s.postedAt == 0) return (kpis, 0);
        return (Int64Pack.unpack(SSTORE2.read(s.data)), s.postedAt);
    }
}
