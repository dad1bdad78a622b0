#!/usr/bin/env bash
# Every structured forgery (each proof point, scalar and public input replaced) of a real
# proof of every bundled model, rejected by the native verifier, the verifier program and
# the EVM verifier. The suite runs the smallest and the largest model; this runs all four.
# Prints each model's count of rejected forgeries.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --locked -p zkpolicy-tests --features slow --test e2e \
  verifier_evm::every_point_scalar_and_instance_forgery_is_rejected_everywhere -- --nocapture --exact
