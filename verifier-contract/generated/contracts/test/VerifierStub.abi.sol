// VerifierStub's compiled ABI as a Solidity interface, written by `cargo run -p zkpolicy-contracts --example render_contracts`;
// the Rust bindings are generated from it. Do not edit.
interface VerifierStub {
    constructor(bytes32 commitment_, uint256 kpiCount_, uint256 parameterCount_, uint256 outputCount_, bytes ranges_);

    function accept() external view returns (bool);
    function modelCard() external view returns (bytes32, uint256, uint256, uint256, bytes memory);
    function setAccept(bool accept_) external;
    function verifyProof(bytes memory, uint256[] memory) external view returns (bool);
}
