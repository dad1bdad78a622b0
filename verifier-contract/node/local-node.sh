#!/usr/bin/env bash
# Starts a local Ethereum JSON-RPC node (Hardhat's EDR, pinned by package-lock.json)
# on 127.0.0.1, installing it first if needed. Runs in the foreground until killed.
#
#   verifier-contract/node/local-node.sh            # http://127.0.0.1:8545
#   verifier-contract/node/local-node.sh 8600       # another port
#
# Chain id 31337, Osaka rules, the usual twenty funded development accounts
# (their private keys are public: never use them on a real network).
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
port="${1:-8545}"
if [ ! -x "$dir/node_modules/.bin/hardhat" ]; then
  echo "installing the local node (npm ci in $dir)" >&2
  npm ci --prefix "$dir" --no-audit --no-fund >&2
fi
cd "$dir"
exec "$dir/node_modules/.bin/hardhat" node --hostname 127.0.0.1 --port "$port"
