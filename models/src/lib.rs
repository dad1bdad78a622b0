//! The zkpolicy model: file format, validation, KPI quantization and the integer
//! reference inference that every circuit must match bit for bit.
//!
//! The fixed-point contract shared with `zkpolicy-circuits` lives in [`arith`]:
//! each function there is the native twin of one circuit constraint.

pub mod arith;
pub mod backtest;
pub mod bounds;
mod card;
mod error;
pub mod float;
pub mod format;
pub mod kpis;
mod model;
pub mod onnx;
pub mod quantize;
pub mod reference;
pub mod sim;
pub mod synth;
pub mod train;

pub use card::ModelCard;
pub use error::ModelError;
pub use format::{Activation, InputSpec, LayerSpec, ModelFile, OutputSpec};
pub use kpis::{KpiSnapshot, QuantizedKpis};
pub use model::{Model, ModelCommitment};
pub use reference::{infer, LayerTrace, Trace};
