#!/usr/bin/env bash
# The test command: README.md names it and .ci/run calls it (after the format and lint checks).
# Installs the pinned Solidity compiler (solc-js, npm) for the tests that compile contracts,
# then runs every test of the workspace. Extra arguments go to `cargo test`.
# The end-to-end tests use the node at $ZKPOLICY_RPC_URL, or start the pinned local node.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --prefix verifier-contract --no-audit --no-fund
cargo test --release --workspace --locked "$@"
