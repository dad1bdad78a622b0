// ReporterKpiSource's compiled ABI as a Solidity interface, written by `cargo run -p zkpolicy-contracts --example render_contracts`;
// the Rust bindings are generated from it. Do not edit.
interface ReporterKpiSource {
    error AlreadyCommitted(uint64 epoch);
    error KpiOutOfRange(uint256 index);
    error NotReporter();
    error WrongKpiCount(uint256 expected, uint256 got);

    event KpisCommitted(uint64 indexed epoch, bytes32 kpiHash, int256[] kpis);

    constructor(address reporter_, uint256 kpiCount_);

    function commitKpis(uint64 epoch, int256[] memory kpis) external;
    function kpiCount() external view returns (uint256);
    function reporter() external view returns (address);
    function snapshot(uint64 epoch) external view returns (int256[] memory kpis, uint64 postedAt);
}
