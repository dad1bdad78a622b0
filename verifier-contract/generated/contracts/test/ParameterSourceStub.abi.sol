// ParameterSourceStub's compiled ABI as a Solidity interface, written by `cargo run -p zkpolicy-contracts --example render_contracts`;
// the Rust bindings are generated from it. Do not edit.
interface ParameterSourceStub {
    function parameters() external view returns (int256[] memory);
    function set(int256[] memory values_) external;
}
