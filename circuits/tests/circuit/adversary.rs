//! Whole-circuit malicious witnesses, for every bundled model.
//!
//! Each test builds the real witness of a model (`adversary::run`), lies in one cell
//! family, makes everything else consistent with the lie (the circuit recomputes what
//! follows it from a lying `WitnessSource`, and the public inputs claim what the lying
//! witness computes), and asserts the exact check and row that reject it; or, where a cell
//! is free, that changing it is accepted and the outputs stay the reference's.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use halo2_proofs::halo2curves::ff::Field;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkpolicy_circuits::adversary::{self, CellRef, Failure, Outcome, Witness};
use zkpolicy_circuits::chips::compare::{CompareMode, CompareWitness};
use zkpolicy_circuits::chips::public;
use zkpolicy_circuits::chips::range::CHAIN_STEP;
use zkpolicy_circuits::columns::PolicyColumns;
use zkpolicy_circuits::field::{fr, to_i64, Fr};
use zkpolicy_circuits::layout::Placement;
use zkpolicy_circuits::witness::{CompareSite, WitnessSource};
use zkpolicy_circuits::{Objective, PolicyCircuit, PublicInputs};
use zkpolicy_model::arith::{digits, DIGITS, WINDOW_BITS};
use zkpolicy_model::{infer, Model, Observation, QuantizedKpis};

/// The bundled models every adversary meets: policy-l (wide lanes, as policy-m) only under
/// `--features slow` (`benches/every-model.sh`), where its MockProver runs take a quarter of
/// the suite's circuit time.
#[cfg(not(feature = "slow"))]
const MODELS: [&str; 3] = ["tokenomics-policy", "trained-policy", "policy-m"];
#[cfg(feature = "slow")]
const MODELS: [&str; 4] = ["tokenomics-policy", "trained-policy", "policy-m", "policy-l"];
const EPOCH: u64 = 5;

/// What rejects a check at `at` of a value outside the window: the last step of its range
/// chain, which the witness makes take whatever the first seven digits leave.
fn range_fails(at: usize) -> BTreeSet<Failure> {
    BTreeSet::from([Failure::new(CHAIN_STEP, at + DIGITS - 1)])
}

/// The deployed (gas) shape where MockProver runs it quickly (k ≤ 11), otherwise the
/// prover-time shape: one lane on the small models, wide lanes on the large ones, so
/// both layouts meet every adversary.
fn test_shape(model: Arc<Model>) -> PolicyCircuit {
    let gas = PolicyCircuit::new(model.clone()).expect("plan");
    if gas.shape().k <= 11 {
        gas
    } else {
        PolicyCircuit::planned(model, Objective::ProverTime).expect("plan")
    }
}

/// A bundled model, its circuit on one KPI vector, and that vector's honest witness.
struct Subject {
    name: &'static str,
    model: Arc<Model>,
    circuit: PolicyCircuit,
    placement: Placement,
    cols: PolicyColumns,
    input: Observation,
    honest: Witness,
}

impl Subject {
    fn new(name: &'static str, seed: u64) -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models").join(format!("{name}.json"));
        let model = Arc::new(Model::load(path).expect("bundled model loads"));
        let input = Observation::random(&model, &mut ChaCha20Rng::seed_from_u64(seed));
        let circuit = test_shape(model.clone()).with_input(input.clone());
        let placement = circuit.placement();
        let cols = adversary::columns(&circuit);
        let instance = PublicInputs::honest(&model, EPOCH, &input).expect("reference").to_instance();
        let outcome = adversary::run(&circuit, instance, &[]).expect("synthesis");
        assert!(outcome.accepted(), "{name}: the honest witness fails: {:?}", outcome.failures);
        let mut subject = Self { name, model, circuit, placement, cols, input, honest: Witness::new() };
        subject.honest = outcome.witness;
        assert_eq!(subject.claimed(&subject.honest).outputs, infer(&subject.model, &subject.input).expect("reference").outputs);
        subject
    }

    /// A network input vector as an observation, unchecked: KPIs, then parameters.
    fn split(&self, values: Vec<i64>) -> Observation {
        let (kpis, parameters) = values.split_at(self.model.card().inputs().len());
        Observation::new_unsafe(QuantizedKpis::new_unsafe(kpis.to_vec()), parameters.to_vec())
    }

    fn acc(&self, row: usize) -> CellRef {
        CellRef { column: self.cols.acc.index(), row }
    }

    fn limb(&self, row: usize) -> CellRef {
        CellRef { column: self.cols.limb.index(), row }
    }

    fn lane(&self, lane: usize, row: usize) -> CellRef {
        CellRef { column: self.cols.lanes[lane].index(), row }
    }

    fn value(&self, witness: &Witness, cell: CellRef) -> Fr {
        witness.get(&cell).copied().unwrap_or(Fr::ZERO)
    }

    fn int(&self, cell: CellRef) -> i64 {
        to_i64(&self.value(&self.honest, cell)).expect("an honest cell holds an integer")
    }

    /// The public inputs a witness claims: its input cells and its output cells.
    fn claimed(&self, witness: &Witness) -> PublicInputs {
        let int = |cell| to_i64(&self.value(witness, cell)).unwrap_or(i64::MIN);
        let outputs = self.placement.layers.last().expect("a layer").iter().map(|n| int(self.acc(n.output()))).collect();
        let input = self.split(self.placement.inputs.iter().map(|k| int(self.acc(k.input))).collect());
        PublicInputs { epoch: EPOCH, kpis: input.kpis().clone(), parameters: input.parameters().to_vec(), outputs }
    }

    /// The instance a witness claims, field element by field element.
    fn instance_of(&self, witness: &Witness) -> Vec<Fr> {
        let kpis = self.placement.inputs.iter().map(|k| self.value(witness, self.acc(k.input)));
        let outputs = self.placement.layers.last().expect("a layer").iter().map(|n| self.value(witness, self.acc(n.output())));
        std::iter::once(Fr::from(EPOCH)).chain(kpis).chain(outputs).collect()
    }

    /// The honest witness with `overwrites`, checked against the instance it claims.
    fn tamper(&self, overwrites: &[(CellRef, Fr)]) -> Outcome {
        let mut claimed = self.honest.clone();
        claimed.extend(overwrites.iter().copied());
        adversary::run(&self.circuit, self.instance_of(&claimed), overwrites).expect("synthesis")
    }

    /// `circuit`'s witness from a lying source, checked against the instance it claims.
    fn lie(&self, circuit: &PolicyCircuit, overwrites: &[(CellRef, Fr)]) -> Option<Outcome> {
        // First pass: what the lying witness computes (its own instance cells are copies).
        let first = adversary::run(circuit, self.instance_of(&self.honest), overwrites).ok()?;
        let mut claimed = first.witness.clone();
        claimed.extend(overwrites.iter().copied());
        adversary::run(circuit, self.instance_of(&claimed), overwrites).ok()
    }

    /// The rows where range checks start: each owns the chain rows `at ..= at + 8`.
    fn checks(&self) -> BTreeSet<usize> {
        let inputs = self.placement.inputs.iter().flat_map(|k| [k.max, k.min]);
        let neurons = self
            .placement
            .layers
            .iter()
            .flatten()
            .flat_map(|n| std::iter::once(n.requantize).chain(n.compares.iter().copied()).chain(n.leaky.map(|l| l.requantize)));
        inputs.chain(neurons).collect()
    }

    /// The checked value `t = y[at + 8] − 4^8·y[at]` of the range chain at `at` in `w`.
    fn checked(&self, w: &Witness, at: usize) -> Fr {
        self.value(w, self.limb(at + DIGITS)) - self.value(w, self.limb(at)) * fr(1 << WINDOW_BITS)
    }

    /// Rewrites the chain at `at` in `w` to check `t`: its digits when `t` is a 16-bit
    /// integer, otherwise seven zero digits and `t` in the last step. The run's top moves, so
    /// every run that starts on it (and on theirs) is shifted to keep its own value.
    fn set_chain(&self, w: &mut Witness, at: usize, t: Fr) {
        let steps: Vec<Fr> = match to_i64(&t).and_then(digits) {
            Some(d) => d.iter().map(|&d| fr(d)).collect(),
            None => (0..DIGITS).map(|j| if j + 1 == DIGITS { t } else { Fr::ZERO }).collect(),
        };
        let top = self.value(w, self.limb(at + DIGITS));
        let mut y = self.value(w, self.limb(at));
        for (j, d) in steps.iter().enumerate() {
            y = y * fr(4) + d;
            w.insert(self.limb(at + j + 1), y);
        }
        // The top moved by `delta`: each run that starts on it gets `4^j·delta` added to its
        // `j`-th cell, which keeps its steps and value, and moves its own top by `4^8·delta`.
        let mut delta = y - top;
        let (checks, mut start) = (self.checks(), at + DIGITS);
        while delta != Fr::ZERO && checks.contains(&start) {
            let mut power = Fr::ONE;
            for j in 1..=DIGITS {
                power *= fr(4);
                let cell = self.limb(start + j);
                w.insert(cell, self.value(w, cell) + delta * power);
            }
            (delta, start) = (delta * power, start + DIGITS);
        }
    }

    /// The cells where `w` differs from the honest witness, as overwrites.
    fn overwrites(&self, w: &Witness) -> Vec<(CellRef, Fr)> {
        w.iter().filter(|(c, v)| self.honest.get(c) != Some(*v)).map(|(c, v)| (*c, *v)).collect()
    }

    fn hidden_neurons(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let hidden = self.placement.layers.len() - 1;
        self.placement.layers[..hidden].iter().enumerate().flat_map(|(l, ns)| (0..ns.len()).map(move |j| (l, j)))
    }
}

/// A witness source that lies at one site, with a given witness.
#[derive(Debug)]
struct LieAt {
    site: CompareSite,
    lie: fn(x: i64, th: i64, mode: CompareMode) -> CompareWitness,
}

impl WitnessSource for LieAt {
    fn compare(&self, site: CompareSite, x: i64, th: i64, mode: CompareMode) -> Option<CompareWitness> {
        if site == self.site {
            Some((self.lie)(x, th, mode))
        } else {
            CompareWitness::honest(x, th, mode)
        }
    }
}

/// The other branch of a comparison: `s` flipped, `t` and `out` as that branch computes them.
fn other_branch(x: i64, th: i64, mode: CompareMode) -> CompareWitness {
    let ge = x < th;
    let t = if ge { x - th } else { th - x - 1 };
    let out = match (mode, ge) {
        (CompareMode::Max, true) | (CompareMode::Min, false) => x,
        _ => th,
    };
    CompareWitness { ge, t, out }
}

fn for_each_model(test: impl Fn(&Subject)) {
    for (seed, name) in MODELS.iter().enumerate() {
        test(&Subject::new(name, 100 + seed as u64));
    }
}

/// A requantization quotient that is not an integer (`q' = (2^(16−shift)·z − u') / 2^16` in
/// the field, with an in-range scaled remainder `u' ≠ u`) satisfies its gate; the copy carries
/// it to the relu, whose distance `t` is then no 16-bit number: the relu's range chain fails.
#[test]
fn a_non_integer_quotient_with_an_in_range_remainder_fails_the_next_range_check() {
    for_each_model(|s| {
        let model_layers = &s.model.file().layers;
        // A neuron whose relu is 0, so the lie leaves everything after it unchanged.
        let (l, j) = s
            .hidden_neurons()
            .find(|&(l, j)| {
                let rows = &s.placement.layers[l][j];
                s.int(s.acc(rows.requantize)) < 0 && model_layers[l].shift >= 1
            })
            .unwrap_or_else(|| panic!("{}: no hidden neuron with a negative pre-activation", s.name));
        let rows = &s.placement.layers[l][j];
        let (rq, c) = (rows.requantize, rows.compares[0]);
        let scale = 1i64 << (WINDOW_BITS - model_layers[l].shift);
        let z = s.value(&s.honest, s.acc(rq - 1));
        let u = to_i64(&s.checked(&s.honest, rq)).expect("an honest remainder");
        let u_lie = (u + scale) % (1 << WINDOW_BITS);
        let inv = |v: u64| Option::<Fr>::from(Fr::from(v).invert()).expect("invertible");
        let q_lie = (z * fr(scale) - fr(u_lie)) * inv(1 << WINDOW_BITS);
        assert_eq!(to_i64(&q_lie), None, "{}: the forged quotient is not an integer", s.name);
        // relu(q') by the s = 0 branch: t = −q' − 1.
        let mut w = s.honest.clone();
        for (cell, value) in [(s.acc(rq), q_lie), (s.acc(c - 1), q_lie), (s.lane(0, c), Fr::ZERO), (s.acc(c), Fr::ZERO)] {
            w.insert(cell, value);
        }
        s.set_chain(&mut w, rq, fr(u_lie));
        s.set_chain(&mut w, c, -q_lie - Fr::ONE);
        let outcome = s.tamper(&s.overwrites(&w));
        assert_eq!(outcome.failures, range_fails(c), "{} neuron ({l}, {j})", s.name);
    });
}

/// relu branch lies, both ways, with everything after them recomputed from the lie: the
/// relu's distance is negative, so the last step of its range chain fails.
#[test]
fn a_relu_branch_lie_fails_its_range_check() {
    for_each_model(|s| {
        let mut tried = [false, false];
        for (l, j) in s.hidden_neurons() {
            let rows = &s.placement.layers[l][j];
            let q = s.int(s.acc(rows.requantize));
            let way = usize::from(q >= 0);
            if tried[way] {
                continue;
            }
            let circuit = s.circuit.with_witness_source(Arc::new(LieAt { site: CompareSite::Relu(l, j), lie: other_branch }));
            let Some(outcome) = s.lie(&circuit, &[]) else { continue };
            assert_eq!(outcome.failures, range_fails(rows.compares[0]), "{} relu ({l}, {j}) on q = {q}", s.name);
            tried[way] = true;
        }
        assert_eq!(tried, [true, true], "{}: both branches lied", s.name);
    });
}

/// The output clamp's branches, lied: a forged output (the bound instead of the value, or
/// the value instead of the bound) fails that comparison's range chain.
#[test]
fn a_clamp_branch_lie_forges_an_output_and_fails_its_range_check() {
    for_each_model(|s| {
        let reference = infer(&s.model, &s.input).expect("reference").outputs;
        for (j, rows) in s.placement.layers.last().expect("a layer").iter().enumerate() {
            for (site, at) in [(CompareSite::OutputMax(j), rows.compares[0]), (CompareSite::OutputMin(j), rows.compares[1])] {
                let circuit = s.circuit.with_witness_source(Arc::new(LieAt { site, lie: other_branch }));
                let outcome = s.lie(&circuit, &[]).expect("synthesis");
                assert_eq!(outcome.failures, range_fails(at), "{} {site:?}", s.name);
                let forged = s.claimed(&outcome.witness).outputs;
                if forged == reference {
                    // The lie changed nothing the public sees (the other branch gives the same value).
                    continue;
                }
                assert_ne!(forged[j], reference[j], "{} {site:?}", s.name);
            }
        }
    });
}

/// A KPI or parameter one step outside its declared range, with a witness computed
/// consistently from it (the public input claims it too). Honestly clamped, it differs from itself: the copy
/// that ties the clamp to the KPI fails. With the clamp's branch lied so the copy holds,
/// the comparison's distance is negative: its range chain fails.
#[test]
fn an_out_of_range_kpi_or_parameter_cannot_be_proven_by_a_consistent_witness() {
    for_each_model(|s| {
        let ranges = s.model.network_ranges();
        // Every third KPI, and every parameter (a model that reads them has them after the KPIs).
        let kpis = s.model.input_ranges().len();
        let picked = (0..ranges.len()).filter(|&i| i % 3 == 0 || i >= kpis);
        for (i, range) in picked.map(|i| (i, ranges[i])) {
            let rows = &s.placement.inputs[i];
            for (value, site, at) in
                [(range.hi + 1, CompareSite::InputMin(i), rows.min), (range.lo - 1, CompareSite::InputMax(i), rows.max)]
            {
                let mut values = s.input.values();
                values[i] = value;
                let forged = s.circuit.with_input(s.split(values));
                let overwrites = [(s.acc(rows.input), fr(value))];
                // The honest clamp: only copy constraints fail, one of them on the clamp's row.
                let outcome = s.lie(&forged, &overwrites).expect("synthesis");
                assert!(
                    !outcome.failures.is_empty() && outcome.failures.iter().all(|f| f.check.starts_with("permutation")),
                    "{} KPI {i} = {value}: {:?}",
                    s.name,
                    outcome.failures
                );
                let clamped = Failure::new(format!("permutation Column('Advice', {})", s.cols.acc.index()), rows.min);
                assert!(outcome.failures.contains(&clamped), "{} KPI {i}: {:?}", s.name, outcome.failures);
                // The lied clamp: exactly that comparison's range chain.
                let lying = forged.with_witness_source(Arc::new(LieAt { site, lie: other_branch }));
                let outcome = s.lie(&lying, &overwrites).expect("synthesis");
                assert_eq!(outcome.failures, range_fails(at), "{} KPI {i} = {value}", s.name);
            }
        }
    });
}

/// A KPI cell that is not its public input, with the witness after it consistent with
/// the cell: only the `public` gate on the KPI's instance row fails.
#[test]
fn a_kpi_cell_that_differs_from_its_instance_fails_the_public_gate() {
    for_each_model(|s| {
        let i = 0;
        let rows = &s.placement.inputs[i];
        let range = s.model.input_ranges()[i];
        let honest = s.input.values()[i];
        let other = if honest < range.hi { honest + 1 } else { honest - 1 };
        let mut values = s.input.values();
        values[i] = other;
        let circuit = s.circuit.with_input(s.split(values));
        // Everything computed from `other`, the public input still `honest`.
        let first = adversary::run(&circuit, s.instance_of(&s.honest), &[(s.acc(rows.input), fr(other))]).expect("synthesis");
        let mut instance = s.instance_of(&first.witness);
        instance[1 + i] = fr(honest);
        let outcome = adversary::run(&circuit, instance, &[(s.acc(rows.input), fr(other))]).expect("synthesis");
        assert_eq!(outcome.failures, BTreeSet::from([Failure::new(public::CONSTRAINT, 1 + i)]), "{}", s.name);
    });
}

/// A digit of 4 (one borrowed from the step below, so the chain still ends on the honest
/// value): the chain's step fails on exactly that row.
#[test]
fn a_digit_past_3_fails_its_step() {
    for_each_model(|s| {
        let found = s.checks().into_iter().find_map(|at| {
            let t = to_i64(&s.checked(&s.honest, at))?;
            let d = digits(t)?;
            (0..DIGITS - 1).find(|&j| d[j] >= 1).map(|j| (at, j))
        });
        let (at, j) = found.unwrap_or_else(|| panic!("{}: no range check with a nonzero digit", s.name));
        // y[j+1] − 1: step j gives d[j] − 1, step j + 1 gives d[j+1] + 4; y[j+2] stays.
        let cell = s.limb(at + j + 1);
        let outcome = s.tamper(&[(cell, s.value(&s.honest, cell) - Fr::ONE)]);
        assert_eq!(outcome.failures, BTreeSet::from([Failure::new(CHAIN_STEP, at + j + 1)]), "{}", s.name);
    });
}

/// Where the chain's bottom and top are read: the top of the last run, which no run after
/// it starts on, changed by one moves the checked distance of its comparison, whose gate fails.
#[test]
fn a_changed_chain_end_moves_its_check() {
    for_each_model(|s| {
        let last = *s.checks().iter().next_back().expect("a check");
        let top = s.limb(last + DIGITS);
        let outcome = s.tamper(&[(top, s.value(&s.honest, top) + fr(4))]);
        // + 4 at the top is + 1 in the last digit's place: the step may still be a digit, but
        // the checked value is one more than the comparison's distance.
        assert!(
            outcome.failures.iter().any(|f| f.check == "t = (2s-1)(x-th) + s - 1" && f.row == last),
            "{}: {:?}",
            s.name,
            outcome.failures
        );
    });
}

/// Cells no constraint reads: lanes past a neuron's inputs on its last dot row (weight 0),
/// lanes on rows that are neither dot nor comparison rows, the trailing row's `acc`, and
/// `limb` on every row outside the range chains.
/// Garbage there is accepted, and the public outputs are still the reference's.
#[test]
fn garbage_in_unused_cells_is_harmless() {
    for_each_model(|s| {
        let lanes = s.cols.lanes.len();
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let mut free = vec![s.acc(s.placement.rows - 1)];
        for (l, layer) in s.placement.layers.iter().enumerate() {
            let inputs = if l == 0 { s.placement.inputs.len() } else { s.placement.layers[l - 1].len() };
            for n in layer {
                let last_dot = n.bias + n.dots;
                free.extend((inputs - (n.dots - 1) * lanes..lanes).map(|c| s.lane(c, last_dot)));
                free.extend((0..lanes).map(|c| s.lane(c, n.bias)));
                free.extend((1..lanes).map(|c| s.lane(c, n.requantize)));
            }
        }
        let chained: BTreeSet<usize> = s.checks().iter().flat_map(|&at| at..=at + DIGITS).collect();
        let outside: Vec<CellRef> = (0..s.placement.rows).filter(|r| !chained.contains(r)).map(|r| s.limb(r)).collect();
        assert!(!outside.is_empty(), "{}: some rows are outside every chain", s.name);
        free.extend(outside);
        let overwrites: Vec<(CellRef, Fr)> = free.iter().map(|c| (*c, Fr::random(&mut rng))).collect();
        let honest_instance = s.instance_of(&s.honest);
        let outcome = adversary::run(&s.circuit, honest_instance, &overwrites).expect("synthesis");
        assert!(outcome.accepted(), "{}: {:?}", s.name, outcome.failures);
        assert_eq!(s.claimed(&outcome.witness).outputs, infer(&s.model, &s.input).expect("reference").outputs);
    });
}

/// Random malicious witnesses, 700 across the bundled models (the short version of
/// `benches/tamper.sh`, which runs 100,000): none is accepted with outputs other than the
/// reference's on the KPIs it claims.
#[test]
fn random_malicious_witnesses_never_forge_an_output() {
    for (name, count) in [("tokenomics-policy", 500), ("trained-policy", 120), ("policy-m", 64), ("policy-l", 16)] {
        let s = Subject::new(name, 1);
        let started = std::time::Instant::now();
        let report = adversary::campaign(&s.circuit, EPOCH, count, 1).expect("campaign");
        eprintln!("{name}: {report} ({:.1} s)", started.elapsed().as_secs_f64());
        assert_eq!(report.tried, count);
        assert!(report.forged.is_empty(), "{name}: {:?}", report.forged);
        // Accepted tampers hit free cells: lanes a row does not read, and `limb` on the rows
        // outside every range chain (policy-l's wide shape accepted 4 of its 16).
        assert!(report.accepted * 3 <= count, "{name}: most tampers are caught: {report}");
    }
}
