// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// The quote asset the token trades against, for tests and local runs (a stablecoin's
/// stand-in): an OpenZeppelin ERC-20 its owner mints.
contract QuoteToken is ERC20, Ownable {
    constructor(address owner_) ERC20("zkpolicy test dollar", "zUSD") Ownable(owner_) {}

    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
