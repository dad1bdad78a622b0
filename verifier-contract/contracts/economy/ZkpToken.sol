// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// The economy's token: an OpenZeppelin ERC-20 anyone may burn from their own balance,
/// minted only by holders of MINTER_ROLE (the `TokenEconomy`, for emission and rewards).
/// `zkpolicy deploy` makes the deployer its first admin only to grant that role; it then
/// hands the admin role to governance's timelock (`EconomyTimelock`) and renounces its own,
/// so no new minter exists without the governance delay.
contract ZkpToken is ERC20, ERC20Burnable, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    constructor(address admin, address holder, uint256 initialSupply) ERC20("zkpolicy token", "ZKP") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _mint(holder, initialSupply);
    }

    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }
}
