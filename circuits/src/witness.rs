//! Where the policy circuit's witness comes from.
//!
//! The circuit computes every advice value from the KPIs through its native twins
//! ([`RequantizeWitness::honest`], [`CompareWitness::honest`]). A [`WitnessSource`] can
//! replace any requantization or comparison witness, and everything after it is then
//! computed from the replacement: this is how adversarial tests build a malicious witness
//! that is consistent everywhere except where one constraint must catch it. Proving always
//! uses [`Honest`]; a dishonest source can only make a proof fail.

use std::fmt::Debug;

use zkpolicy_model::arith::Table;

use crate::chips::compare::{CompareMode, CompareWitness};
use crate::chips::requantize::RequantizeWitness;

/// One comparison of the circuit, by what it checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareSite {
    /// `max(x, lo)` of network input `i`'s range check (KPIs first, then parameters).
    InputMax(usize),
    /// `min(·, hi)` of network input `i`'s range check.
    InputMin(usize),
    /// The relu of neuron `(layer, neuron)` of a hidden layer.
    Relu(usize, usize),
    /// `max(q, lo)` of output `j`'s clamp.
    OutputMax(usize),
    /// `min(·, hi)` of output `j`'s clamp.
    OutputMin(usize),
    /// `max(q, lo)` of neuron `(layer, neuron)`'s clamp to its activation table's window.
    WindowMax(usize, usize),
    /// `min(·, hi)` of that clamp.
    WindowMin(usize, usize),
}

/// The witnesses the circuit does not get from the instance: one per requantization (neuron
/// `(layer, neuron)`) and one per comparison. `None` means "no witness": synthesis fails.
pub trait WitnessSource: Debug + Send + Sync {
    /// The `(q, r)` claimed for `z / 2^shift` at neuron `(layer, neuron)`; the honest
    /// default is floor division.
    fn requantize(&self, layer: usize, neuron: usize, z: i64, shift: u32) -> Option<RequantizeWitness> {
        let _ = (layer, neuron);
        RequantizeWitness::honest(z, shift)
    }

    /// The comparison bit, gap and result claimed for `x` against the threshold `th` at
    /// `site`; the honest default is [`CompareWitness::honest`].
    fn compare(&self, site: CompareSite, x: i64, th: i64, mode: CompareMode) -> Option<CompareWitness> {
        let _ = site;
        CompareWitness::honest(x, th, mode)
    }

    /// Leaky ReLU's requantization of `z = (2^16 − slope)·max(q, 0) + slope·q` at neuron `(layer, neuron)`.
    fn leaky(&self, layer: usize, neuron: usize, z: i64) -> Option<RequantizeWitness> {
        let _ = (layer, neuron);
        RequantizeWitness::honest(z, zkpolicy_model::arith::LEAKY_SHIFT)
    }

    /// A table activation's output for the clamped input `x` at neuron `(layer, neuron)`.
    fn table(&self, layer: usize, neuron: usize, table: &Table, x: i64) -> Option<i64> {
        let _ = (layer, neuron);
        Some(table.exact(x))
    }
}

/// The native twins: the only witness a valid proof can have.
#[derive(Clone, Copy, Debug, Default)]
pub struct Honest;

impl WitnessSource for Honest {}
