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
# The remote signer the keeper's tests sign through (ethers), and snarkjs, which writes the
# real powers-of-tau ceremony files the tests of `setup --from-ptau` import; each pinned by
# its lock file.
npm ci --prefix prover/cli/tests/signer --no-audit --no-fund
npm ci --prefix prover/cli/tests/ptau --no-audit --no-fund
cargo test --release --workspace --locked "$@"

venv="${CARGO_TARGET_DIR:-target}/py-venv"
python3 -m venv "$venv"
venv="$(cd "$venv" && pwd)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r prover/python/requirements-test.txt
# maturin (the venv's pinned one) builds the release extension in the workspace's target
# directory, against Cargo.lock (`locked` in pyproject.toml); the dependencies are installed above.
# Its dependencies were built above with the same features (prover/python/workspace-hack), so
# the extension's build compiles only its own crates and pyo3: a third-party crate compiled a
# second time means the workspace-hack misses a feature, and fails here, naming the crate.
build_log="$venv/maturin-build.log"
if ! PATH="$venv/bin:$PATH" "$venv/bin/python" -m pip install --verbose --disable-pip-version-check \
  --no-build-isolation --no-deps --force-reinstall ./prover/python >"$build_log" 2>&1; then
  cat "$build_log" >&2
  exit 1
fi
rebuilt=$(awk '$1 == "Compiling" && $2 !~ /^(zkpolicy-|pyo3|target-lexicon$)/ { print $2 " " $3 }' "$build_log")
# (Only for the whole suite: `tests/run.sh -p CRATE` builds a part of the workspace.)
if [ -n "$rebuilt" ] && [ "$#" -eq 0 ]; then
  echo "the Python extension's build compiled these dependencies again, with features the" >&2
  echo "workspace build does not turn on; add them to prover/python/workspace-hack/Cargo.toml:" >&2
  echo "$rebuilt" >&2
  exit 1
fi
grep -E '^ *(Compiling|Finished) ' "$build_log" || true
"$venv/bin/python" -m pytest prover/python/tests -q -p no:cacheprovider
