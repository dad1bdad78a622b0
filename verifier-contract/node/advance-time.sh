#!/usr/bin/env bash
# Moves a development node's clock forward and mines a block at the new time, so the
# next command sees it (Hardhat's evm_increaseTime + evm_mine; real networks refuse both).
#
#   verifier-contract/node/advance-time.sh 86400    # one day, on $ZKPOLICY_RPC_URL or 127.0.0.1:8545
#
# Needs only Node.js (its built-in fetch), like the node itself.
set -euo pipefail
seconds="${1:?usage: advance-time.sh SECONDS}"
case "$seconds" in
  ''|*[!0-9]*) echo "advance-time.sh: SECONDS must be a whole number, got '$seconds'" >&2; exit 2 ;;
esac
ADVANCE_SECONDS="$seconds" RPC_URL="${ZKPOLICY_RPC_URL:-http://127.0.0.1:8545}" exec node -e '
const url = process.env.RPC_URL;
const call = async (method, params) => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
};
(async () => {
  await call("evm_increaseTime", [Number(process.env.ADVANCE_SECONDS)]);
  await call("evm_mine", []);
  const block = await call("eth_getBlockByNumber", ["latest", false]);
  console.log(`chain time ${new Date(Number(BigInt(block.timestamp)) * 1000).toISOString()}`);
})().catch((e) => {
  // Never print the URL: it may carry an API key.
  const why = e.cause ? ` (${e.cause.code || e.cause.message}: is the node running?)` : "";
  console.error(`advance-time.sh: ${e.message}${why}`);
  process.exit(2);
});
'
