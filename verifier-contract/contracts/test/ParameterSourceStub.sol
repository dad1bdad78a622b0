// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// Test double for the economy's parameter source (the controller): serves whatever
/// int256 vector it was last given, so a test sets any fee or rate directly. Never deploy
/// it for real.
contract ParameterSourceStub {
    int256[] internal values;

    function set(int256[] calldata values_) external {
        values = values_;
    }

    function parameters() external view returns (int256[] memory) {
        return values;
    }
}
