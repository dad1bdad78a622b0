//! The policy lab: where a policy is made and studied before it is proven. Float
//! networks, ONNX import and calibrated quantization into the integer model format,
//! the seeded token-economy simulator, the evolution-strategies trainer, backtests, and
//! the builders of the bundled models. What is proved lives in `zkpolicy-model`.

#![deny(missing_docs)]

pub mod backtest;
pub mod bundled;
mod error;
pub mod float;
#[cfg(feature = "onnx")]
pub mod import;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod quantize;
pub mod sim;
pub mod synth;
pub mod train;

pub use error::LabError;
