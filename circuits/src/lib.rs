//! Halo2 chips and the policy circuit: a quantized MLP proven over KZG/BN254.
//!
//! Pure library: no I/O. The model arrives through [`PolicyCircuit::new`]; the
//! column shape through [`Circuit::Params`](halo2_proofs::plonk::Circuit::Params).
//!
//! ## Columns
//! | column | kind | holds |
//! |---|---|---|
//! | `lane[0..W]` | advice | dot-product inputs; `lane[0]` also the comparison bit |
//! | `acc` | advice | running sums and every value flowing between ops |
//! | `limb` | advice | range checks: a base-4 running sum (fixed weights), or limbs looked up against `(range_tag, limb)` (private) |
//! | `weight[0..W]` | fixed | weights; `weight[0]` also bias, `2^(16 − shift)` or a threshold |
//! | `op_a`, `op_b` | fixed | which gate is on: `op_a ∈ {0, dot, bias, requantize}`, `op_b ∈ {0, max, min}` |
//! | `range_tag` | fixed | 1 on a range chain's steps; private: the bit width the limb on that row is checked to (0 forces 0) |
//! | `secret[0..W]` | advice | private mode: the weights and biases (`weight[0]` then holds only constants) |
//! | `round` | fixed | private mode: 1 three partial Poseidon rounds, 2 a full round, 3 a packed weight byte |
//! | `instance` | instance | `[epoch, kpis…, parameters…, outputs…]` |

#![deny(missing_docs)]

#[cfg(feature = "test-utils")]
pub mod adversary;
#[cfg(feature = "test-utils")]
pub mod audit;
pub mod chips;
pub mod columns;
mod error;
pub mod field;
pub mod layout;
pub mod ops;
pub mod policy;
pub mod private;
pub mod witness;

pub use error::CircuitError;
pub use halo2_proofs;
pub use layout::{CircuitShape, Objective};
pub use policy::{PolicyCircuit, PolicyParams, PublicInputs, WeightMode};
pub use private::Salt;
