#!/usr/bin/env bash
# Measures every bundled model (both shapes, and with private weights where that fits), writes
# benches/results.{json,svg}, and rewrites the benchmark tables from that JSON: the main table in
# README.md (between the bench markers) and the gas-by-chain table and recompute notes in
# docs/benchmarks.md (between the bench-detail markers), so each figure is stated once.
# Usage: benches/update-tables.sh [runs]   (default 20; needs `npm ci --prefix verifier-contract`)
#        benches/update-tables.sh --from-json   (rewrite the tables from the existing JSON only)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p zkpolicy-cli
if [ "${1:-}" != "--from-json" ]; then
  runs=${1:-20}
  ./target/release/zkpolicy bench --runs "$runs" --shapes both --private --out benches/results.json --svg benches/results.svg > /dev/null
fi
table=$(mktemp)
main=$(mktemp)
detail=$(mktemp)
./target/release/zkpolicy bench --from-json benches/results.json > "$table"
# The machine line and the main table are the first two blank-line-separated blocks; the rest is detail.
awk -v main="$main" -v detail="$detail" '
  /^$/ { blank++ }
  { if (blank < 2) print > main; else if (blank > 2 || NF) print > detail }
' "$table"
splice() { # file start-marker end-marker content
  awk -v content="$4" -v start="$2" -v end="$3" '
    index($0, start) { print; while ((getline line < content) > 0) print line; skip = 1; next }
    index($0, end) { skip = 0 }
    !skip { print }
  ' "$1" > "$1.tmp"
  mv "$1.tmp" "$1"
}
splice README.md '<!-- bench:start -->' '<!-- bench:end -->' "$main"
splice docs/benchmarks.md '<!-- bench-detail:start -->' '<!-- bench-detail:end -->' "$detail"
rm -f "$table" "$main" "$detail"
echo "README.md and docs/benchmarks.md updated from benches/results.json"
