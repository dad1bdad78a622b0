#!/usr/bin/env bash
# The test command: README.md names it and .ci/run calls it (after the format and lint checks).
# Installs the pinned Solidity compiler (solc-js, npm) for the tests that compile contracts,
# then runs every test of the workspace. Extra arguments go to `cargo test`.
# The end-to-end tests use the node at $ZKPOLICY_RPC_URL, or start the pinned local node.
# Then the Python package (prover/python): maturin builds it into a venv under the cargo
# target directory, with the pinned packages of prover/python/requirements-test.txt, and
# pytest runs its tests.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --prefix verifier-contract --no-audit --no-fund
cargo test --release --workspace --locked "$@"

venv="${CARGO_TARGET_DIR:-target}/py-venv"
python3 -m venv "$venv"
venv="$(cd "$venv" && pwd)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r prover/python/requirements-test.txt
# maturin (the venv's pinned one) builds the release extension in the workspace's target
# directory, against Cargo.lock (`locked` in pyproject.toml); the dependencies are installed above.
PATH="$venv/bin:$PATH" "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --no-build-isolation --no-deps --force-reinstall ./prover/python
"$venv/bin/python" -m pytest prover/python/tests -q -p no:cacheprovider
