//! Reports on zkpolicy models: the proving benchmark (`zkpolicy bench`), backtests of a
//! model through the simulator (`zkpolicy backtest`), and the SVG plots both draw.
//!
//! Depends on the proving library (`zkpolicy-prover`), the model and the lab; never on the
//! chain client, the keeper or the CLI.

#![deny(missing_docs)]

pub mod backtest;
pub mod bench;
pub mod plot;
