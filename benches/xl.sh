#!/usr/bin/env bash
# The million-parameter policy (64 → 1024 → 1024 → 16, built from its seed): key
# generation and one proof on this machine, checked to stay under 4 GiB of peak RSS.
# Prints the times and the peak RSS. The suite runs a scaled-down model instead.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --locked -p zkpolicy-tests --features slow --test e2e large:: -- --nocapture
