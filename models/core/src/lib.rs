//! What zkpolicy proves, in plain Rust: the model file format and its validation, the
//! interval analysis that bounds every value, the fixed-point operations (each the
//! integer twin of one circuit constraint, in [`arith`]), the reference inference the
//! circuit must match bit for bit, KPI quantization, the model commitment and its public
//! card, and the guard the controller applies to every proven adjustment.
//!
//! Everything that makes or studies a policy (float networks, ONNX import, calibrated
//! quantization, the simulator, training, backtests, the bundled builders) lives in
//! `zkpolicy-lab`; nothing here depends on it.

#![deny(missing_docs)]

pub mod arith;
pub mod bounds;
mod card;
mod error;
pub mod format;
pub mod guard;
pub mod io;
pub mod kpis;
mod model;
mod observation;
pub mod reference;

pub use card::ModelCard;
pub use error::ModelError;
pub use format::{Activation, InputSpec, LayerSpec, ModelFile, OutputSpec, ParameterSpec};
pub use guard::{guard, guard_at, Anchor, Guarded, Guardrail};
pub use kpis::{KpiSnapshot, QuantizedKpis};
pub use model::{Model, ModelCommitment};
pub use observation::Observation;
pub use reference::{infer, LayerTrace, Trace};
