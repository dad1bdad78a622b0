#!/usr/bin/env bash
# The million-parameter policy (policy-xl: 64 → 1024 → 1024 → 16, 1,132,560 parameters, built
# from its seed) with private weights: key generation, one proof, native and EVM verification
# and peak RSS, in one process. Its packed weights and their hash need k = 22, past the k ≤ 20
# the commands keep to, so the bench plans it with --max-k 22. Takes about 45 minutes (the k = 22
# SRS and keygen alone about 19) and 11 GiB on 2 cores. Writes benches/xl-private.json and benches/xl-private.md, which
# docs/private-weights.md quotes.
# Usage: benches/xl-private.sh   (needs `npm ci --prefix verifier-contract`)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p zkpolicy-cli
./target/release/zkpolicy bench --models policy-xl --private --only-private --max-k 22 --runs 1 \
  --out benches/xl-private.json > benches/xl-private.md
echo "wrote benches/xl-private.json and benches/xl-private.md"
