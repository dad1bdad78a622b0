//! One chip per operation, all sharing [`PolicyColumns`].
//!
//! Every chip reads its input from `acc[-1]` and writes its result to `acc`, so
//! values chain down the accumulator column; range checks use `limb` from the
//! chip's row on. A chip placed at row `at` therefore owns rows `at ..
//! at + RangeMode::rows()` of `limb` (8 for a chain, 2 for the lookup), and row
//! `at - 1` of `acc` for its input.

pub mod compare;
pub mod dense;
pub mod pack;
pub mod poseidon;
pub mod public;
pub mod range;
pub mod requantize;
pub mod table;

use halo2_proofs::plonk::ConstraintSystem;

use crate::columns::PolicyColumns;
use crate::field::Fr;
use crate::policy::PolicyParams;

/// The configured chips of the policy circuit.
#[derive(Clone, Debug)]
pub struct Chips {
    /// The shared columns every chip reads and writes.
    pub cols: PolicyColumns,
    /// The range check the requantize and compare chips use: a chain with fixed weights,
    /// the `(range_tag, limb)` lookup with private ones (see [`range`]).
    pub range: range::RangeChip,
    /// Bias and dot-product rows of every neuron.
    pub dense: dense::DenseChip,
    /// Floor division by `2^shift`, after each neuron and in leaky ReLU.
    pub requantize: requantize::RequantizeChip,
    /// `max`/`min` against a threshold: relu, input range checks, clamps.
    pub compare: compare::CompareChip,
    /// `acc = instance` on the public block's rows.
    pub public: public::PublicChip,
    /// The weight packing and hash, in private mode only.
    pub pack: Option<pack::PackChip>,
    /// The Poseidon sponge over the packed weights, in private mode only.
    pub poseidon: Option<poseidon::PoseidonChip>,
    /// The activation lookup, for models with a table activation only.
    pub table: Option<table::TableChip>,
}

impl Chips {
    /// Allocates the columns for `params` and configures every chip on them: what
    /// [`crate::PolicyCircuit`]'s `configure_with_params` returns.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, params: PolicyParams) -> Self {
        let cols = PolicyColumns::configure(meta, params);
        let range = range::RangeChip::configure(meta, &cols, crate::layout::range_mode(params.weights));
        Self {
            dense: dense::DenseChip::configure(meta, &cols),
            requantize: requantize::RequantizeChip::configure(meta, &cols, range.clone()),
            compare: compare::CompareChip::configure(meta, &cols, range.clone()),
            public: public::PublicChip::configure(meta, &cols),
            pack: pack::PackChip::configure(meta, &cols),
            poseidon: poseidon::PoseidonChip::configure(meta, &cols),
            table: params.tables.then(|| table::TableChip::configure(meta, &cols, range.clone())),
            range,
            cols,
        }
    }
}

#[cfg(test)]
pub(crate) mod testing;
