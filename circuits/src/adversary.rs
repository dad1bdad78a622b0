//! The adversary's workbench, for soundness tests and the tamper benchmark.
//!
//! [`run`] synthesizes the real witness of a [`PolicyCircuit`] (honest, or from a lying
//! [`WitnessSource`](crate::witness::WitnessSource)) under halo2's `MockProver`, overwrites
//! any advice cells on their way in, and reports every failed constraint, lookup and copy
//! with the row it failed on. Nothing here can make a real proof: `MockProver` only
//! checks a witness.
//!
//! The overwrites reach the floor planner through a thread-local, set and cleared around
//! one synthesis on the calling thread (halo2's `FloorPlanner` sees only the circuit's
//! generic type, not its fields).

use std::any::Any;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::dev::{FailureLocation, MockProver, VerifyFailure};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::plonk::{
    Advice, Any as AnyColumn, Assigned, Assignment, Challenge, Circuit, Column, ConstraintSystem, Error, Fixed, FloorPlanner,
    Instance, Selector,
};

use crate::chips::Chips;
use crate::columns::PolicyColumns;
use crate::field::Fr;
use crate::policy::{PolicyCircuit, PolicyParams};

/// An advice cell: its column's index and its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellRef {
    pub column: usize,
    pub row: usize,
}

/// Every advice value a synthesis assigned, by cell.
pub type Witness = BTreeMap<CellRef, Fr>;

/// One failed check: the constraint's name (as its gate declares it), the lookup's name,
/// or `permutation` with the column, and the row it failed on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Failure {
    pub check: String,
    pub row: usize,
}

impl Failure {
    pub fn new(check: impl Into<String>, row: usize) -> Self {
        Self { check: check.into(), row }
    }
}

/// The outcome of one tampered synthesis.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Empty when MockProver accepts the witness.
    pub failures: BTreeSet<Failure>,
    /// The advice values as assigned, overwrites included.
    pub witness: Witness,
}

impl Outcome {
    pub fn accepted(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The advice columns of a circuit's shape, by role.
pub fn columns(circuit: &PolicyCircuit) -> PolicyColumns {
    let mut cs = ConstraintSystem::<Fr>::default();
    Chips::configure(&mut cs, circuit.shape().lanes).cols
}

/// Synthesizes `circuit` against `instance` with `overwrites` applied, and checks it.
/// An error means synthesis itself failed (a witness source returned no witness).
pub fn run(circuit: &PolicyCircuit, instance: Vec<Fr>, overwrites: &[(CellRef, Fr)]) -> Result<Outcome, Error> {
    let guard = Armed::new(overwrites.iter().copied().collect());
    let prover = MockProver::run(circuit.shape().k, &Adversary(circuit.clone()), vec![instance])?;
    let witness = guard.take_record();
    let failures = match prover.verify() {
        Ok(()) => BTreeSet::new(),
        Err(errors) => errors.iter().map(failure).collect(),
    };
    Ok(Outcome { failures, witness })
}

fn failure(e: &VerifyFailure) -> Failure {
    let row = |location: &FailureLocation| match location {
        FailureLocation::InRegion { offset, .. } => *offset,
        FailureLocation::OutsideRegion { row } => *row,
    };
    match e {
        VerifyFailure::ConstraintNotSatisfied { constraint, location, .. } => {
            // `Constraint i ('name') in gate g ('gate')`: keep the name.
            let text = constraint.to_string();
            let name = text.split("('").nth(1).and_then(|s| s.split("')").next()).unwrap_or(&text).to_string();
            Failure::new(name, row(location))
        }
        VerifyFailure::Lookup { name, location, .. } => Failure::new(name.clone(), row(location)),
        VerifyFailure::Permutation { column, location } => Failure::new(format!("permutation {column}"), row(location)),
        other => Failure::new(format!("{other:?}"), 0),
    }
}

thread_local! {
    static OVERWRITES: RefCell<BTreeMap<CellRef, Fr>> = const { RefCell::new(BTreeMap::new()) };
    static RECORD: RefCell<Witness> = const { RefCell::new(BTreeMap::new()) };
}

/// Installs the overwrites for one synthesis on this thread; clears them when dropped.
struct Armed;

impl Armed {
    fn new(overwrites: BTreeMap<CellRef, Fr>) -> Self {
        OVERWRITES.with(|o| *o.borrow_mut() = overwrites);
        RECORD.with(|r| r.borrow_mut().clear());
        Armed
    }

    fn take_record(&self) -> Witness {
        RECORD.with(|r| std::mem::take(&mut *r.borrow_mut()))
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        OVERWRITES.with(|o| o.borrow_mut().clear());
        RECORD.with(|r| r.borrow_mut().clear());
    }
}

/// The policy circuit, laid out by [`TamperPlanner`].
#[derive(Clone, Debug)]
struct Adversary(PolicyCircuit);

impl Circuit<Fr> for Adversary {
    type Config = Chips;
    type FloorPlanner = TamperPlanner;
    type Params = PolicyParams;

    fn without_witnesses(&self) -> Self {
        Self(self.0.without_witness())
    }

    fn params(&self) -> PolicyParams {
        self.0.params()
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, params: PolicyParams) -> Chips {
        PolicyCircuit::configure_with_params(meta, params)
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> Chips {
        PolicyCircuit::configure(meta)
    }

    fn synthesize(&self, chips: Chips, layouter: impl Layouter<Fr>) -> Result<(), Error> {
        self.0.synthesize(chips, layouter)
    }
}

/// `SimpleFloorPlanner` (the policy circuit's) over an assignment that applies the
/// thread's overwrites and records every advice value.
#[derive(Debug)]
struct TamperPlanner;

impl FloorPlanner for TamperPlanner {
    fn synthesize<F: Field, CS: Assignment<F> + halo2_proofs::circuit::layouter::SyncDeps, C: Circuit<F>>(
        cs: &mut CS,
        circuit: &C,
        config: C::Config,
        constants: Vec<Column<Fixed>>,
    ) -> Result<(), Error> {
        let overwrites = OVERWRITES.with(|o| o.borrow().clone());
        let mut tampered = Tampering { inner: cs, overwrites, _field: std::marker::PhantomData };
        SimpleFloorPlanner::synthesize(&mut tampered, circuit, config, constants)
    }
}

/// `Fr` as the generic field `F` (they are the same type whenever this runs).
fn cast<A: Copy + 'static, B: Copy + 'static>(value: A) -> Option<B> {
    (&value as &dyn Any).downcast_ref::<B>().copied()
}

struct Tampering<'a, F: Field, CS: Assignment<F>> {
    inner: &'a mut CS,
    overwrites: BTreeMap<CellRef, Fr>,
    _field: std::marker::PhantomData<F>,
}

impl<F: Field, CS: Assignment<F>> Assignment<F> for Tampering<'_, F, CS> {
    fn enter_region<NR: Into<String>, N: FnOnce() -> NR>(&mut self, name: N) {
        self.inner.enter_region(name)
    }

    fn annotate_column<A: FnOnce() -> AR, AR: Into<String>>(&mut self, annotation: A, column: Column<AnyColumn>) {
        self.inner.annotate_column(annotation, column)
    }

    fn exit_region(&mut self) {
        self.inner.exit_region()
    }

    fn enable_selector<A: FnOnce() -> AR, AR: Into<String>>(&mut self, annotation: A, selector: &Selector, row: usize) -> Result<(), Error> {
        self.inner.enable_selector(annotation, selector, row)
    }

    fn query_instance(&self, column: Column<Instance>, row: usize) -> Result<Value<F>, Error> {
        self.inner.query_instance(column, row)
    }

    fn assign_advice<'v>(&mut self, column: Column<Advice>, row: usize, to: Value<Assigned<F>>) -> Value<&'v Assigned<F>> {
        let cell = CellRef { column: column.index(), row };
        let to = match self.overwrites.get(&cell).and_then(|v| cast::<Fr, F>(*v)) {
            Some(forced) => Value::known(Assigned::Trivial(forced)),
            None => to,
        };
        let _ = to.as_ref().map(|a| {
            if let Some(v) = cast::<F, Fr>(a.evaluate()) {
                RECORD.with(|r| r.borrow_mut().insert(cell, v));
            }
        });
        self.inner.assign_advice(column, row, to)
    }

    fn assign_fixed(&mut self, column: Column<Fixed>, row: usize, to: Assigned<F>) {
        self.inner.assign_fixed(column, row, to)
    }

    fn copy(&mut self, left_column: Column<AnyColumn>, left_row: usize, right_column: Column<AnyColumn>, right_row: usize) {
        self.inner.copy(left_column, left_row, right_column, right_row)
    }

    fn fill_from_row(&mut self, column: Column<Fixed>, row: usize, to: Value<Assigned<F>>) -> Result<(), Error> {
        self.inner.fill_from_row(column, row, to)
    }

    fn get_challenge(&self, challenge: Challenge) -> Value<F> {
        self.inner.get_challenge(challenge)
    }

    fn push_namespace<NR: Into<String>, N: FnOnce() -> NR>(&mut self, name: N) {
        self.inner.push_namespace(name)
    }

    fn pop_namespace(&mut self, gadget_name: Option<String>) {
        self.inner.pop_namespace(gadget_name)
    }

    fn next_phase(&mut self) {
        self.inner.next_phase()
    }
}
