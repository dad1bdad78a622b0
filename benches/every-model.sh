#!/usr/bin/env bash
# The end-to-end checks the suite runs on some bundled models, run on all four (the
# `slow` feature of the tests crate):
# - every structured forgery (each proof point, scalar and public input replaced) of a real
#   proof, rejected by the native verifier, the verifier program and the EVM verifier (the
#   suite forges the smallest and the largest model);
# - a proof at the deployed shape verified in the EVM, within the size limit and at about
#   the default model's gas (the suite proves the two whose deployed shape is k <= 11);
# - the on-chain recomputation baseline, the proof and the Rust reference agreeing on
#   random inputs (the suite checks the two small models);
# - every MockProver adversary of the circuit (lies at each gate, each caught by the
#   named constraint) on policy-l too (the suite meets the other three).
# Prints each model's forgery count, verification gas and recomputation gas.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --locked -p zkpolicy-tests --features slow --test e2e -- --nocapture --exact \
  verifier_evm::every_point_scalar_and_instance_forgery_is_rejected_everywhere \
  verifier_evm::bundled_models_verify_in_the_evm_within_the_size_limit_at_a_flat_cost \
  recompute::recomputation_proof_and_reference_agree_on_the_bundled_models
cargo test --release --locked -p zkpolicy-circuits --features slow --test circuit adversary::
