// KpiSourceStub's compiled ABI as a Solidity interface, written by `cargo run -p zkpolicy-contracts --example render_contracts`;
// the Rust bindings are generated from it. Do not edit.
interface KpiSourceStub {
    function set(int256[] memory kpis_) external;
    function snapshot(uint64) external view returns (int256[] memory, uint64);
}
