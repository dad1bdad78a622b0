#!/usr/bin/env bash
# Measures every bundled model (both shapes, and with private weights where that fits), writes benches/results.{json,svg}, and rewrites the
# README's benchmark table (between the bench markers) from that JSON.
# Usage: benches/update-readme.sh [runs]   (default 20; needs `npm ci --prefix verifier-contract`)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
cargo build --release --locked -p zkpolicy-prover
./target/release/zkpolicy bench --runs "$runs" --shapes both --private --json benches/results.json --svg benches/results.svg > /dev/null
table=$(mktemp)
./target/release/zkpolicy bench --from-json benches/results.json > "$table"
awk -v table="$table" '
  /<!-- bench:start -->/ { print; while ((getline line < table) > 0) print line; skip = 1; next }
  /<!-- bench:end -->/ { skip = 0 }
  !skip { print }
' README.md > README.md.tmp
mv README.md.tmp README.md
rm -f "$table"
echo "README.md benchmark section updated from benches/results.json"
