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
    Advice, Any as AnyColumn, Assigned, Assignment, Challenge, Circuit, Column, ConstraintSystem, Error, Fixed, FloorPlanner, Instance,
    Selector,
};

use zkpolicy_model::{infer, Observation, QuantizedKpis};

use crate::chips::compare::{CompareMode, CompareWitness};
use crate::chips::requantize::RequantizeWitness;
use crate::chips::Chips;
use crate::columns::PolicyColumns;
use crate::field::{fr, to_i64, Fr};
use crate::policy::{PolicyCircuit, PolicyParams, PublicInputs};
use crate::witness::{CompareSite, WitnessSource};
use crate::CircuitError;

/// An advice cell: its column's index and its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellRef {
    /// The advice column's index in the constraint system (see [`columns`] for which is which).
    pub column: usize,
    /// The absolute row, as [`crate::layout::Placement`] numbers rows.
    pub row: usize,
}

/// Every advice value a synthesis assigned, by cell.
pub type Witness = BTreeMap<CellRef, Fr>;

/// One failed check: the constraint's name (as its gate declares it), the lookup's name,
/// or `permutation` with the column, and the row it failed on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Failure {
    /// The constraint's or lookup's declared name, or `permutation …` with the column.
    pub check: String,
    /// The absolute row it failed on (0 for a MockProver error without a location).
    pub row: usize,
}

impl Failure {
    /// A failure of `check` at `row`, as tests write the one they expect.
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
    /// Whether MockProver accepted the (tampered) witness: no constraint, lookup or copy failed.
    pub fn accepted(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The advice columns of a circuit's shape, by role.
pub fn columns(circuit: &PolicyCircuit) -> PolicyColumns {
    let mut cs = ConstraintSystem::<Fr>::default();
    Chips::configure(&mut cs, circuit.params()).cols
}

/// Synthesizes `circuit` against `instance` with `overwrites` applied (to any advice cell,
/// assigned by the circuit or left zero), and checks it.
/// An error means synthesis itself failed (a witness source returned no witness).
pub fn run(circuit: &PolicyCircuit, instance: Vec<Fr>, overwrites: &[(CellRef, Fr)]) -> Result<Outcome, Error> {
    let guard = Armed::new(overwrites.iter().copied().collect(), columns(circuit).advice());
    let prover = MockProver::run(circuit.shape().k, &Adversary(circuit.clone()), vec![instance])?;
    let (witness, starts) = guard.take_record();
    let failures = match prover.verify() {
        Ok(()) => BTreeSet::new(),
        Err(errors) => errors.iter().map(|e| failure(e, &starts)).collect(),
    };
    Ok(Outcome { failures, witness })
}

/// A failure, at its absolute row. MockProver reports a row inside a region as an offset
/// from the region's first *fixed* assignment (`region_starts`, by region index).
fn failure(e: &VerifyFailure, region_starts: &[usize]) -> Failure {
    let row = |location: &FailureLocation| match location {
        FailureLocation::InRegion { region, offset } => {
            // `Region i ('name')`.
            let index = region.to_string().split_whitespace().nth(1).and_then(|i| i.parse::<usize>().ok());
            index.and_then(|i| region_starts.get(i)).copied().unwrap_or(0) + offset
        }
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
    static ADVICE: RefCell<Vec<Column<Advice>>> = const { RefCell::new(Vec::new()) };
    static RECORD: RefCell<Witness> = const { RefCell::new(BTreeMap::new()) };
    static REGION_STARTS: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// `circuit` as a real prover would synthesize it with `overwrites` applied: prove the
/// returned circuit with the honest circuit's proving key (their constraint systems are one)
/// while the returned guard lives, on this thread (halo2's `create_proof` synthesizes on the
/// calling thread). The end-to-end tests use it to show that a witness MockProver rejects by
/// name also yields a proof that neither the native verifier nor the EVM accepts.
pub fn tampered(circuit: &PolicyCircuit, overwrites: &[(CellRef, Fr)]) -> (impl Circuit<Fr>, Armed) {
    let guard = Armed::new(overwrites.iter().copied().collect(), columns(circuit).advice());
    (Adversary(circuit.clone()), guard)
}

/// Installs the overwrites for one synthesis on this thread; clears them when dropped.
pub struct Armed;

impl Armed {
    fn new(overwrites: BTreeMap<CellRef, Fr>, advice: Vec<Column<Advice>>) -> Self {
        OVERWRITES.with(|o| *o.borrow_mut() = overwrites);
        ADVICE.with(|a| *a.borrow_mut() = advice);
        RECORD.with(|r| r.borrow_mut().clear());
        REGION_STARTS.with(|r| r.borrow_mut().clear());
        Armed
    }

    /// The advice values assigned, and each region's first fixed row.
    fn take_record(&self) -> (Witness, Vec<usize>) {
        (RECORD.with(|r| std::mem::take(&mut *r.borrow_mut())), REGION_STARTS.with(|r| std::mem::take(&mut *r.borrow_mut())))
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        OVERWRITES.with(|o| o.borrow_mut().clear());
        ADVICE.with(|a| a.borrow_mut().clear());
        RECORD.with(|r| r.borrow_mut().clear());
        REGION_STARTS.with(|r| r.borrow_mut().clear());
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
        // Every advice column, so a cell of a column the circuit never assigns can be overwritten too.
        let columns = ADVICE.with(|a| a.borrow().iter().map(|c| (c.index(), *c)).collect());
        let mut tampered =
            Tampering { inner: cs, overwrites, applied: BTreeSet::new(), columns, region_start: None, _field: std::marker::PhantomData };
        SimpleFloorPlanner::synthesize(&mut tampered, circuit, config, constants)?;
        // Cells the circuit never assigns (a real prover's zeros) are the adversary's too.
        let rest: Vec<(CellRef, Fr)> =
            tampered.overwrites.iter().filter(|(cell, _)| !tampered.applied.contains(cell)).map(|(c, v)| (*c, *v)).collect();
        for (cell, value) in rest {
            let column = tampered.columns.get(&cell.column).copied().ok_or(Error::Synthesis)?;
            let _ =
                tampered.assign_advice(column, cell.row, Value::known(Assigned::Trivial(cast::<Fr, F>(value).ok_or(Error::Synthesis)?)));
        }
        Ok(())
    }
}

/// `Fr` as the generic field `F` (they are the same type whenever this runs).
fn cast<A: Copy + 'static, B: Copy + 'static>(value: A) -> Option<B> {
    (&value as &dyn Any).downcast_ref::<B>().copied()
}

struct Tampering<'a, F: Field, CS: Assignment<F>> {
    inner: &'a mut CS,
    overwrites: BTreeMap<CellRef, Fr>,
    /// Overwrites already applied to a cell the circuit assigned.
    applied: BTreeSet<CellRef>,
    /// Every advice column seen, by index.
    columns: BTreeMap<usize, Column<Advice>>,
    /// The first fixed row of the region being assigned (as MockProver counts extents).
    region_start: Option<usize>,
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
        let start = self.region_start.take().unwrap_or(0);
        REGION_STARTS.with(|r| r.borrow_mut().push(start));
        self.inner.exit_region()
    }

    fn enable_selector<A: FnOnce() -> AR, AR: Into<String>>(
        &mut self,
        annotation: A,
        selector: &Selector,
        row: usize,
    ) -> Result<(), Error> {
        self.inner.enable_selector(annotation, selector, row)
    }

    fn query_instance(&self, column: Column<Instance>, row: usize) -> Result<Value<F>, Error> {
        self.inner.query_instance(column, row)
    }

    fn assign_advice<'v>(&mut self, column: Column<Advice>, row: usize, to: Value<Assigned<F>>) -> Value<&'v Assigned<F>> {
        let cell = CellRef { column: column.index(), row };
        self.columns.insert(column.index(), column);
        let to = match self.overwrites.get(&cell).and_then(|v| cast::<Fr, F>(*v)) {
            Some(forced) => {
                self.applied.insert(cell);
                Value::known(Assigned::Trivial(forced))
            }
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
        self.region_start = Some(self.region_start.map_or(row, |s| s.min(row)));
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

/// What a random tamper campaign found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Campaign {
    /// Malicious witnesses synthesized and checked.
    pub tried: usize,
    /// Accepted, with public inputs whose outputs are the reference's (free cells changed).
    pub accepted: usize,
    /// Accepted with outputs the reference contradicts: each is a soundness bug.
    pub forged: Vec<String>,
    /// How many tampers each check caught first (by row).
    pub caught_by: BTreeMap<String, usize>,
}

impl Campaign {
    /// Adds up two campaigns' counts (e.g. ones run on several threads or seeds).
    pub fn merge(mut self, other: Campaign) -> Campaign {
        self.tried += other.tried;
        self.accepted += other.accepted;
        self.forged.extend(other.forged);
        for (check, n) in other.caught_by {
            *self.caught_by.entry(check).or_default() += n;
        }
        self
    }
}

impl std::fmt::Display for Campaign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} tampered witnesses: {} accepted harmlessly, {} forged an output", self.tried, self.accepted, self.forged.len())?;
        for (check, n) in &self.caught_by {
            write!(f, "; {n} caught first by {check}")?;
        }
        Ok(())
    }
}

/// A witness source that lies at one site, in one of a few ways; everything after the
/// site is computed from the lie.
#[derive(Clone, Copy, Debug)]
enum Site {
    Requantize(usize, usize),
    Compare(CompareSite),
}

#[derive(Clone, Copy, Debug)]
struct RandomLie {
    site: Site,
    /// Which lie: flip a comparison's branch, move `t`, move `out`; move `q` with `r`
    /// compensating, move `r` alone, move `q` alone.
    kind: u8,
    delta: i64,
}

impl WitnessSource for RandomLie {
    fn requantize(&self, layer: usize, neuron: usize, z: i64, shift: u32) -> Option<RequantizeWitness> {
        let honest = RequantizeWitness::honest(z, shift)?;
        match self.site {
            Site::Requantize(l, j) if (l, j) == (layer, neuron) => Some(match self.kind % 3 {
                0 => RequantizeWitness { q: honest.q + self.delta, r: honest.r - (self.delta << shift) },
                1 => RequantizeWitness { q: honest.q, r: honest.r + self.delta },
                _ => RequantizeWitness { q: honest.q + self.delta, r: honest.r },
            }),
            _ => Some(honest),
        }
    }

    fn compare(&self, site: CompareSite, x: i64, th: i64, mode: CompareMode) -> Option<CompareWitness> {
        let honest = CompareWitness::honest(x, th, mode)?;
        match self.site {
            Site::Compare(s) if s == site => Some(match self.kind % 3 {
                0 => {
                    let ge = !honest.ge;
                    let t = if ge { x - th } else { th - x - 1 };
                    let out = if ge == (mode == CompareMode::Max) { x } else { th };
                    CompareWitness { ge, t, out }
                }
                1 => CompareWitness { t: honest.t + self.delta, ..honest },
                _ => CompareWitness { out: honest.out + self.delta, ..honest },
            }),
            _ => Some(honest),
        }
    }
}

/// Every site a lie can target, in layout order.
fn sites(circuit: &PolicyCircuit) -> Vec<Site> {
    let placement = circuit.placement();
    let last = placement.layers.len().saturating_sub(1);
    let mut out: Vec<Site> = (0..placement.inputs.len())
        .flat_map(|i| [Site::Compare(CompareSite::InputMax(i)), Site::Compare(CompareSite::InputMin(i))])
        .collect();
    for (l, layer) in placement.layers.iter().enumerate() {
        for j in 0..layer.len() {
            out.push(Site::Requantize(l, j));
            if l == last {
                out.extend([Site::Compare(CompareSite::OutputMax(j)), Site::Compare(CompareSite::OutputMin(j))]);
            } else {
                out.push(Site::Compare(CompareSite::Relu(l, j)));
            }
        }
    }
    out
}

/// `count` random malicious witnesses of `circuit` (which must carry its KPIs). Half
/// overwrite one to three advice cells of the used rows (assigned by the circuit or not; in
/// private mode the weight hash's rows and the secret weights included)
/// with a value near, or far from, the honest one; half lie at one requantization or
/// comparison and recompute everything after it from the lie. The public inputs claimed
/// are the malicious witness's own KPI and output cells, so a tamper is harmful exactly
/// when it is accepted and the reference disagrees with the claim.
pub fn campaign(circuit: &PolicyCircuit, epoch: u64, count: usize, seed: u64) -> Result<Campaign, CircuitError> {
    use rand::{Rng, SeedableRng};

    let model = circuit.model();
    let input = circuit.input().ok_or_else(|| CircuitError::Adversary("the circuit carries no input".into()))?;
    let public = PublicInputs::honest(model, epoch, input)?;
    let synthesis = |e: Error| CircuitError::Adversary(format!("synthesis failed: {e}"));
    let honest = run(circuit, public.to_instance(), &[]).map_err(synthesis)?;
    if !honest.accepted() {
        return Err(CircuitError::Adversary(format!("the honest witness fails: {:?}", honest.failures)));
    }
    let placement = circuit.placement();
    let advice = columns(circuit);
    let acc = advice.acc.index();
    let public_cells: Vec<CellRef> = placement
        .inputs
        .iter()
        .map(|k| k.input)
        .chain(placement.layers.last().into_iter().flatten().map(|n| n.output()))
        .map(|row| CellRef { column: acc, row })
        .collect();
    // Every advice cell of every used row (the secret weights' too), assigned by the circuit or not.
    let all_columns: Vec<usize> = advice.advice().iter().map(|c| c.index()).collect();
    let cells: Vec<CellRef> =
        (0..circuit.shape().rows).flat_map(|row| all_columns.iter().map(move |&column| CellRef { column, row })).collect();
    let sites = sites(circuit);
    let claim = |witness: &Witness| -> Vec<Fr> {
        std::iter::once(Fr::from(epoch)).chain(public_cells.iter().map(|c| witness.get(c).copied().unwrap_or(Fr::ZERO))).collect()
    };
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let mut report = Campaign::default();
    for _ in 0..count {
        report.tried += 1;
        let (outcome, instance, what) = if rng.gen_bool(0.5) {
            let overwrites: Vec<(CellRef, Fr)> = (0..rng.gen_range(1..=3))
                .map(|_| {
                    let cell = cells[rng.gen_range(0..cells.len())];
                    let v = honest.witness.get(&cell).copied().unwrap_or(Fr::ZERO);
                    (cell, nearby(v, &mut rng))
                })
                .collect();
            let mut claimed = honest.witness.clone();
            claimed.extend(overwrites.iter().copied());
            let instance = claim(&claimed);
            (run(circuit, instance.clone(), &overwrites).map_err(synthesis)?, instance, format!("overwrite {overwrites:?}"))
        } else {
            let lie = RandomLie {
                site: sites[rng.gen_range(0..sites.len())],
                kind: rng.gen_range(0..3),
                delta: [1, -1, 2, -3, 255, -256, 1 << 16][rng.gen_range(0..7)],
            };
            let lying = circuit.with_witness_source(std::sync::Arc::new(lie));
            // Without a witness past the lie (a value left every comparison window), there is nothing to prove.
            let Ok(first) = run(&lying, public.to_instance(), &[]) else {
                *report.caught_by.entry("no witness after the lie".into()).or_default() += 1;
                continue;
            };
            let instance = claim(&first.witness);
            (run(&lying, instance.clone(), &[]).map_err(synthesis)?, instance, format!("{lie:?}"))
        };
        if let Some(first) = outcome.failures.iter().min_by_key(|f| f.row) {
            *report.caught_by.entry(first.check.clone()).or_default() += 1;
            continue;
        }
        // Accepted: the claim must be a valid statement whose outputs are the reference's.
        let claimed: Option<Vec<i64>> = instance[1..].iter().map(to_i64).collect();
        let holds = claimed.is_some_and(|c| {
            let (x, y) = c.split_at(placement.inputs.len());
            let (k, p) = x.split_at(model.card().inputs().len());
            QuantizedKpis::new(model, k.to_vec())
                .and_then(|k| Observation::new(model, k, p.to_vec()))
                .ok()
                .and_then(|input| infer(model, &input).ok())
                .is_some_and(|t| t.outputs == y)
        });
        if holds {
            report.accepted += 1;
        } else {
            report.forged.push(what);
        }
    }
    Ok(report)
}

/// A value near `v` (±1, ±2^8, 2^16 away, negated, doubled, zero, 2^64 away) or anywhere.
fn nearby(v: Fr, rng: &mut impl rand::Rng) -> Fr {
    match rng.gen_range(0..10) {
        0 => v + Fr::ONE,
        1 => v - Fr::ONE,
        2 => -v,
        3 => v + fr(1 << 8),
        4 => v - fr(1 << 8),
        5 => v + fr(1 << 16),
        6 => v.double(),
        7 => Fr::ZERO,
        8 => v + Fr::from(u64::MAX) + Fr::ONE,
        _ => Fr::random(rng),
    }
}
