//! The policy lab: bundled files, ONNX import and quantization, the simulator.
//! One test binary per crate: each file below is a module, linked once.

mod bundled;
mod onnx_import;
mod simulation;
