//! The free-cell audit: which advice cells of a synthesized witness no constraint reads, and
//! whether those cells, changed together, can move anything.
//!
//! A cell no constraint reads is harmless only as long as no constraint reads it *together
//! with another free cell*: two free factors of one product (a private weight and its lane on
//! an unused lane of a dot row) are each free alone, yet their product is a free addend. So the
//! audit runs in two passes over every advice cell of the used rows:
//!
//! 1. **Each cell alone.** Every cell is overwritten with a random value and MockProver says
//!    which constraint, lookup or copy fails. Cells are tampered in batches, one column at a
//!    time and rows a full rotation span apart, so each failure has exactly one cause: a gate
//!    or lookup evaluated at row `g` reads rows `g + rot` for the rotations the constraint
//!    system queries, and a copy failure names its cell. A cell none of whose tampers fails
//!    anything is **free**.
//! 2. **All free cells at once.** Every free cell is overwritten with a random value at the
//!    same time (several seeds). MockProver must still accept: any failure names a constraint
//!    that reads free cells together, which a prover could satisfy with values of its choice,
//!    so it is reported as a **forgery vector**.
//!
//! The public inputs never change, so an accepted witness proves the reference's outputs.

use std::collections::{BTreeMap, BTreeSet};

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{Circuit, ConstraintSystem};
use rand::SeedableRng;

use crate::adversary::{self, CellRef, Failure};
use crate::chips::Chips;
use crate::field::Fr;
use crate::policy::PolicyCircuit;
use crate::CircuitError;

/// Joint tampers of the free cells (pass 2), each with its own random values.
pub const JOINT_SEEDS: u64 = 3;

/// What the audit found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FreeCellAudit {
    /// Advice cells tampered: every column, every used row.
    pub cells: usize,
    /// Cells whose tamper nothing caught.
    pub free: Vec<CellRef>,
    /// Caught cells, by the check that caught them (a constraint's or lookup's name, or
    /// `permutation`); a cell caught by several checks counts under each.
    pub caught_by: BTreeMap<String, usize>,
    /// Pass 2's failures, each a constraint that reads free cells together: must be empty.
    pub forgeries: Vec<Failure>,
    /// Checks in `caught_by` that are neither a constraint nor a lookup the circuit names (a
    /// MockProver error of another kind): must be empty.
    pub unnamed: Vec<String>,
    /// MockProver runs.
    pub runs: usize,
}

impl std::fmt::Display for FreeCellAudit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} advice cells: {} caught alone, {} free, {} forgery vectors among the free ({} MockProver runs)",
            self.cells,
            self.cells - self.free.len(),
            self.free.len(),
            self.forgeries.len(),
            self.runs
        )
    }
}

/// The rotations the constraint system queries advice at, as `(lowest, highest)`, and the
/// names of its checks: every gate's constraints, every lookup, and `permutation`.
fn constraint_system(circuit: &PolicyCircuit) -> ((i32, i32), BTreeSet<String>) {
    let mut cs = ConstraintSystem::<Fr>::default();
    Chips::configure(&mut cs, circuit.params());
    let rotations = cs.advice_queries().iter().map(|(_, r)| r.0);
    let span = rotations.fold((0, 0), |(lo, hi), r: i32| (lo.min(r), hi.max(r)));
    let mut names: BTreeSet<String> =
        cs.gates().iter().flat_map(|g| (0..g.polynomials().len()).map(|i| g.constraint_name(i).to_string())).collect();
    names.extend(cs.lookups().iter().map(|l| l.name().to_string()));
    names.insert("permutation".into());
    (span, names)
}

/// Audits every advice cell of `circuit`'s used rows (the circuit must carry its input; the
/// public inputs are the reference's for `epoch`).
pub fn audit_free_cells(circuit: &PolicyCircuit, epoch: u64, seed: u64) -> Result<FreeCellAudit, CircuitError> {
    let input = circuit.input().ok_or_else(|| CircuitError::Adversary("the circuit carries no input".into()))?;
    let instance = crate::PublicInputs::honest(circuit.model(), epoch, input)?.to_instance();
    let synthesis = |e| CircuitError::Adversary(format!("synthesis failed: {e}"));
    let honest = adversary::run(circuit, instance.clone(), &[]).map_err(synthesis)?;
    if !honest.accepted() {
        return Err(CircuitError::Adversary(format!("the honest witness fails: {:?}", honest.failures)));
    }
    let ((lo, hi), names) = constraint_system(circuit);
    let span = (hi - lo + 1) as usize;
    let rows = circuit.shape().rows;
    let columns = adversary::columns(circuit).advice();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut report = FreeCellAudit { cells: rows * columns.len(), ..FreeCellAudit::default() };
    for column in &columns {
        for first in 0..span.min(rows) {
            let batch: Vec<CellRef> = (first..rows).step_by(span).map(|row| CellRef { column: column.index(), row }).collect();
            let overwrites: Vec<(CellRef, Fr)> =
                batch.iter().map(|cell| (*cell, honest.witness.get(cell).copied().unwrap_or(Fr::ZERO) + nonzero(&mut rng))).collect();
            let outcome = adversary::run(circuit, instance.clone(), &overwrites).map_err(synthesis)?;
            report.runs += 1;
            let mut caught = BTreeSet::new();
            for failure in &outcome.failures {
                let (check, culprit) = culprit(failure, &batch, lo, hi);
                if let Some(cell) = culprit {
                    if caught.insert((cell, check.clone())) {
                        *report.caught_by.entry(check).or_default() += 1;
                    }
                }
            }
            let caught: BTreeSet<CellRef> = caught.into_iter().map(|(c, _)| c).collect();
            report.free.extend(batch.into_iter().filter(|c| !caught.contains(c)));
        }
    }
    let mut forgeries = BTreeSet::new();
    for _ in 0..JOINT_SEEDS {
        let overwrites: Vec<(CellRef, Fr)> = report.free.iter().map(|c| (*c, Fr::random(&mut rng))).collect();
        let outcome = adversary::run(circuit, instance.clone(), &overwrites).map_err(synthesis)?;
        report.runs += 1;
        forgeries.extend(outcome.failures);
    }
    report.forgeries = forgeries.into_iter().collect();
    report.unnamed = report.caught_by.keys().filter(|c| !names.contains(*c)).cloned().collect();
    Ok(report)
}

/// A nonzero random field element.
fn nonzero(rng: &mut impl rand::RngCore) -> Fr {
    loop {
        let v = Fr::random(&mut *rng);
        if v != Fr::ZERO {
            return v;
        }
    }
}

/// The check a failure names (`permutation` for any copy), and the batch cell that caused it:
/// for a copy, the cell it names; for a gate or lookup at row `g`, the batch row in
/// `g + lo ..= g + hi` (at most one, as batch rows are a full span apart).
fn culprit(failure: &Failure, batch: &[CellRef], lo: i32, hi: i32) -> (String, Option<CellRef>) {
    let column = batch.first().map_or(usize::MAX, |c| c.column);
    if let Some(named) = failure.check.strip_prefix("permutation ") {
        let here = named.starts_with("Column('Advice', ")
            && named.trim_start_matches("Column('Advice', ").trim_end_matches(')').parse::<usize>() == Ok(column);
        let cell = CellRef { column, row: failure.row };
        return ("permutation".into(), (here && batch.contains(&cell)).then_some(cell));
    }
    let (from, to) = (failure.row as i64 + i64::from(lo), failure.row as i64 + i64::from(hi));
    let cell = batch.iter().find(|c| (from..=to).contains(&(c.row as i64))).copied();
    (failure.check.clone(), cell)
}
