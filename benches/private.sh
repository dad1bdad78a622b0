#!/usr/bin/env bash
# Private weights against fixed ones, measured in one run on this machine: every bundled model
# that fits k ≤ 20 with private weights (packed weights, issue 28), beside its fixed-weight
# circuit. Writes benches/private.json and benches/private.md, which docs/private-weights.md
# section quotes. Usage: benches/private.sh [runs]   (default 3; needs `npm ci --prefix verifier-contract`)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
cargo build --release --locked -p zkpolicy-cli
./target/release/zkpolicy bench --models tokenomics-policy,trained-policy,policy-m,policy-l --runs "$runs" --private \
  --out benches/private.json > benches/private.md
echo "wrote benches/private.json and benches/private.md"
