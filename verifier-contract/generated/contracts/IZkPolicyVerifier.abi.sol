// IZkPolicyVerifier's compiled ABI as a Solidity interface, written by `cargo run -p zkpolicy-contracts --example render_contracts`;
// the Rust bindings are generated from it. Do not edit.
interface IZkPolicyVerifier {
    function modelCard() external view returns (bytes32 commitment, uint256 kpiCount, uint256 parameterCount, uint256 outputCount, bytes memory ranges);
    function verifyProof(bytes memory proof, uint256[] memory instances) external view returns (bool);
}
