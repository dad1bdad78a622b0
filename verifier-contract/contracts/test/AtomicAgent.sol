// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// An attacker's account as a contract, for tests and attack agents: it performs a list
/// of calls in ONE transaction, each with itself as the sender, so an attack that must be
/// atomic (pump, act, dump) is one `run`; any failing call reverts the whole run, naming
/// which call failed and why. Its balances are one read away, so a test measures the
/// attack's profit and loss. Only its owner drives it. Never deploy it for real.
///
/// A call may take an amount known only mid-run (e.g. "sell every token the pump bought"):
/// with `fillFrom` set, the agent's balance of that asset at that moment overwrites the 32
/// bytes of `data` at offset `fillAt` before the call is made.
contract AtomicAgent {
    struct Call {
        address to;
        bytes data;
        IERC20 fillFrom;
        uint256 fillAt;
    }

    address public immutable owner;

    error NotOwner();
    error CallFailed(uint256 index, bytes reason);
    error BadFill(uint256 index);

    constructor(address owner_) {
        owner = owner_;
    }

    /// Makes `calls` in order; returns what each returned.
    function run(Call[] calldata calls) external returns (bytes[] memory results) {
        if (msg.sender != owner) revert NotOwner();
        results = new bytes[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            bytes memory data = calls[i].data;
            if (address(calls[i].fillFrom) != address(0)) {
                uint256 at = calls[i].fillAt;
                if (at + 32 > data.length) revert BadFill(i);
                uint256 amount = calls[i].fillFrom.balanceOf(address(this));
                assembly {
                    mstore(add(add(data, 32), at), amount)
                }
            }
            (bool ok, bytes memory out) = calls[i].to.call(data);
            if (!ok) revert CallFailed(i, out);
            results[i] = out;
        }
    }

    /// The agent's balance of each asset.
    function balances(IERC20[] calldata assets) external view returns (uint256[] memory amounts) {
        amounts = new uint256[](assets.length);
        for (uint256 i = 0; i < assets.length; i++) {
            amounts[i] = assets[i].balanceOf(address(this));
        }
    }
}
