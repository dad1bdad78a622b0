#!/usr/bin/env bash
# The long fuzzing run: a million structure-aware mutations of the bundled files per
# parser (model, KPI snapshot, proof artifact, deployment record and config, calibration,
# ONNX, KZG params, exported verifying key); no panic, no broken invariant. Writes
# benches/fuzz.json. Usage: benches/fuzz.sh [executions-per-target [target name...]]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --locked -p zkpolicy-benches --bin fuzz -- "${1:-1000000}" "${@:2}"
