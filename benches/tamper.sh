#!/usr/bin/env bash
# The long soundness run: random malicious witnesses of every bundled model (100,000 of
# the default model's, fewer of the larger ones), none accepted with a forged output.
# Writes benches/tamper.json, which the README's security section quotes.
# Usage: benches/tamper.sh [count]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --locked -p zkpolicy-benches --bin tamper -- "${1:-100000}"
