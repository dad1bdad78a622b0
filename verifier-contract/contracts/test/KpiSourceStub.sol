// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// Test double for a hostile or buggy KPI source: serves whatever int256 vector it was
/// last given, for every epoch, as posted now. Never deploy it for real.
contract KpiSourceStub {
    int256[] internal kpis;

    function set(int256[] calldata kpis_) external {
        kpis = kpis_;
    }

    function snapshot(uint64) external view returns (int256[] memory, uint64) {
        return (kpis, uint64(block.timestamp));
    }
}
