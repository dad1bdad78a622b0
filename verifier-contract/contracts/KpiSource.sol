// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// Where a controller reads the KPI vector a proof must use for an epoch.
/// A protocol can implement this over on-chain reads instead of a reporter.
interface IKpiSource {
    /// The quantized KPI vector committed for `epoch`, and when it was committed
    /// (`postedAt == 0` when there is none).
    function snapshot(uint64 epoch) external view returns (int256[] memory kpis, uint64 postedAt);
}

/// The default KPI source: one reporter posts one quantized KPI vector per epoch.
contract ReporterKpiSource is IKpiSource {
    /// KPIs are stored as int64, four per slot.
    struct Snapshot {
        int64[] kpis;
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
        Snapshot storage s = snapshots[epoch];
        for (uint256 i = 0; i < kpis.length; i++) {
            if (kpis[i] < type(int64).min || kpis[i] > type(int64).max) revert KpiOutOfRange(i);
            s.kpis.push(int64(kpis[i]));
        }
        s.postedAt = uint64(block.timestamp);
        emit KpisCommitted(epoch, keccak256(abi.encode(kpis)), kpis);
    }

    function snapshot(uint64 epoch) external view returns (int256[] memory kpis, uint64 postedAt) {
        Snapshot storage s = snapshots[epoch];
        kpis = new int256[](s.kpis.length);
        for (uint256 i = 0; i < kpis.length; i++) {
            kpis[i] = s.kpis[i];
        }
        postedAt = s.postedAt;
    }
}
