// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// Test double: accepts or rejects every proof, as set, and serves the model card it
/// was built with. Never deploy it for real.
contract VerifierStub {
    bool public accept = true;
    bytes32 internal commitment;
    uint256 internal kpiCount;
    uint256 internal parameterCount;
    uint256 internal outputCount;
    bytes internal ranges;

    constructor(
        bytes32 commitment_,
        uint256 kpiCount_,
        uint256 parameterCount_,
        uint256 outputCount_,
        bytes memory ranges_
    ) {
        commitment = commitment_;
        kpiCount = kpiCount_;
        parameterCount = parameterCount_;
        outputCount = outputCount_;
        ranges = ranges_;
    }

    function setAccept(bool accept_) external {
        accept = accept_;
    }

    function verifyProof(bytes calldata, uint256[] calldata) external view returns (bool) {
        return accept;
    }

    function modelCard() external view returns (bytes32, uint256, uint256, uint256, bytes memory) {
        return (commitment, kpiCount, parameterCount, outputCount, ranges);
    }
}
