// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// Governance's hands on the economy: OpenZeppelin's `TimelockController`, the token's
/// admin and the treasury's only spender. Governance (the proposer, canceller and
/// executor) schedules a call, waits `minDelay` (the deployment's governance delay, the
/// same as the controller's), then executes it; everyone sees it coming for that long.
///
/// One addition: an operation that was ready for `GRACE_PERIOD` without being executed
/// expires (as Compound's timelock does), so a forgotten spend cannot be executed long
/// after the treasury it was meant for has changed. It can still be cancelled.
contract EconomyTimelock is TimelockController {
    uint256 public constant GRACE_PERIOD = 14 days;

    error OperationExpired(bytes32 id, uint256 expiredAt);

    constructor(uint256 minDelay, address governance)
        TimelockController(minDelay, single(governance), single(governance), address(0))
    {}

    function execute(address target, uint256 value, bytes calldata payload, bytes32 predecessor, bytes32 salt)
        public
        payable
        override
    {
        notExpired(hashOperation(target, value, payload, predecessor, salt));
        super.execute(target, value, payload, predecessor, salt);
    }

    function executeBatch(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata payloads,
        bytes32 predecessor,
        bytes32 salt
    ) public payable override {
        notExpired(hashOperationBatch(targets, values, payloads, predecessor, salt));
        super.executeBatch(targets, values, payloads, predecessor, salt);
    }

    /// When `id` stops being executable (0: not a pending operation).
    function expiresAt(bytes32 id) public view returns (uint256) {
        return isOperationPending(id) ? getTimestamp(id) + GRACE_PERIOD : 0;
    }

    function notExpired(bytes32 id) internal view {
        uint256 expiry = expiresAt(id);
        if (expiry != 0 && block.timestamp > expiry) revert OperationExpired(id, expiry);
    }

    function single(address account) private pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = account;
    }
}
