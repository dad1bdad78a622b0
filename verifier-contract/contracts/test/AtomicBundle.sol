// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// An attacker's account for tests and attack agents: runs a list of calls in ONE
/// transaction, all or nothing, and reports how its balances of the listed assets moved,
/// so a test measures an atomic attack's profit and loss (pump, tick, dump; stake, tick,
/// unstake, claim) exactly. Never deploy it for a real treasury.
///
/// A step may fill one 32-byte word of its calldata, just before it is sent, with a
/// value read at that moment (`fillFrom.staticcall(fillQuery)`, a uint256): "sell every
/// token I now hold" is a `swap` step whose amount is filled from `token.balanceOf(this)`,
/// "unstake all" an `unstake` step filled from `vault.stakeOf(this)`.
///
/// `simulate` runs the same steps and then reverts with `Simulated(moved)`: an `eth_call`
/// (or a reverted test transaction) prices a bundle without changing anything, so an
/// attacker can search its best size before sending it for real.
contract AtomicBundle {
    struct Step {
        address target;
        bytes data;
        /// Zero: send `data` as given.
        address fillFrom;
        bytes fillQuery;
        /// Byte offset in `data` of the word to fill (4 + 32·i for argument i).
        uint256 fillAt;
    }

    address public immutable owner;

    error NotOwner();
    error StepFailed(uint256 index, bytes reason);
    error FillFailed(uint256 index);
    error Simulated(int256[] moved);

    constructor(address owner_) {
        owner = owner_;
    }

    /// Runs `steps` in order and returns, for each of `assets`, its balance after minus before.
    function run(Step[] calldata steps, IERC20[] calldata assets) external returns (int256[] memory moved) {
        if (msg.sender != owner) revert NotOwner();
        return execute(steps, assets);
    }

    /// `run`, undone: always reverts, with `Simulated(moved)` when every step succeeded.
    function simulate(Step[] calldata steps, IERC20[] calldata assets) external {
        if (msg.sender != owner) revert NotOwner();
        revert Simulated(execute(steps, assets));
    }

    function execute(Step[] calldata steps, IERC20[] calldata assets) internal returns (int256[] memory moved) {
        moved = new int256[](assets.length);
        for (uint256 i = 0; i < assets.length; i++) {
            moved[i] = -int256(assets[i].balanceOf(address(this)));
        }
        for (uint256 i = 0; i < steps.length; i++) {
            bytes memory data = steps[i].data;
            if (steps[i].fillFrom != address(0)) fill(data, steps[i], i);
            (bool ok, bytes memory reason) = steps[i].target.call(data);
            if (!ok) revert StepFailed(i, reason);
        }
        for (uint256 i = 0; i < assets.length; i++) {
            moved[i] += int256(assets[i].balanceOf(address(this)));
        }
    }

    function fill(bytes memory data, Step calldata step, uint256 index) internal view {
        (bool ok, bytes memory answer) = step.fillFrom.staticcall(step.fillQuery);
        if (!ok || answer.length < 32 || step.fillAt + 32 > data.length) revert FillFailed(index);
        uint256 value = abi.decode(answer, (uint256));
        uint256 at = step.fillAt;
        assembly {
            mstore(add(add(data, 32), at), value)
        }
    }
}
