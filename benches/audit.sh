#!/usr/bin/env bash
# The long free-cell audit: every advice cell of every used row, tampered alone and then every
# free cell at once, in fixed and private mode at 1, 2, 4 and 16 lanes (and the bundled default
# model), none a forgery. Writes benches/audit.json, which SECURITY.md quotes.
# Usage: benches/audit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --locked -p zkpolicy-benches --bin audit
