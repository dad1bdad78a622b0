#!/usr/bin/env bash
# The long soundness run: random malicious witnesses of every bundled model (100,000 of
# the default model's, fewer of the larger ones), none accepted with a forged output.
# Writes benches/tamper.json, which SECURITY.md and docs/security.md quote.
# Usage: benches/tamper.sh [count]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --locked -p zkpolicy-benches --bin tamper -- "${1:-100000}"
