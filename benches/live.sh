#!/usr/bin/env bash
# The closed loop live at scale: `zkpolicy live` with the trained policy on its own local
# node, 100 agent accounts, 60 warm-up and 60 live epochs of the crash scenario; then the
# same run again with every attacker acting (`--attackers all`), compared epoch by epoch
# with the first (`--baseline`). About 12 minutes on 2 cores. Writes
# benches/live/{report.md,report.json,trajectories.svg} and benches/live/attacked/{report.md,report.json},
# which docs/live.md and SECURITY.md quote.
# Usage: benches/live.sh [scenario] [epochs] [agents]
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-crash}
epochs=${2:-60}
agents=${3:-100}
cargo build --release --locked -p zkpolicy-cli
# The trained policy's verifier is compiled with the pinned solc-js.
npm ci --prefix verifier-contract --no-audit --no-fund >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() {
  env -u ZKPOLICY_RPC_URL target/release/zkpolicy live --model models/trained-policy.json --scenario "$scenario" \
    --epochs "$epochs" --warmup 60 --agents "$agents" --seed 7 "$@"
}
run --out-dir "$work/run"
# A run whose check fails (an attacker that gained, a KPI a snapshot attack moved) exits 1.
run --attackers all --baseline "$work/run/report.json" --out-dir "$work/attacked"
mkdir -p benches/live/attacked
cp "$work/run/report.md" "$work/run/report.json" "$work/run/trajectories.svg" benches/live/
cp "$work/attacked/report.md" "$work/attacked/report.json" benches/live/attacked/
echo "wrote benches/live/report.md, report.json, trajectories.svg and benches/live/attacked/report.md, report.json"
