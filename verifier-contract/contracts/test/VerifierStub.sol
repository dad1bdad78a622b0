// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// Test double: accepts or rejects every proof, as set. Never deploy it for real.
contract VerifierStub {
    bool public accept = true;

    function setAccept(bool accept_) external {
        accept = accept_;
    }

    function verifyProof(bytes calldata, uint256[] calldata) external view returns (bool) {
        return accept;
    }
}
