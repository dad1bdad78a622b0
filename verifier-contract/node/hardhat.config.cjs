// The local node's chain: Osaka, the EVM version solc 0.8.37 targets by default
// and the one the in-process EVM (revm 43) runs, so gas figures agree.
module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: "osaka",
    },
  },
};
