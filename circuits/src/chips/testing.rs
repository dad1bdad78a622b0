//! A harness that runs one chip under MockProver with hand-picked witnesses.

use std::rc::Rc;

use halo2_proofs::circuit::{Layouter, Region, SimpleFloorPlanner};
use halo2_proofs::dev::{MockProver, VerifyFailure};
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};

use super::Chips;
use crate::field::Fr;
use crate::policy::{PolicyParams, WeightMode};

type Body = Rc<dyn Fn(&Chips, &mut Region<'_, Fr>)>;

#[derive(Clone)]
pub struct Harness {
    body: Body,
    params: PolicyParams,
    tables: Vec<zkpolicy_model::arith::Table>,
}

impl Harness {
    /// Two lanes of fixed weights.
    pub fn new(body: impl Fn(&Chips, &mut Region<'_, Fr>) + 'static) -> Self {
        Self { body: Rc::new(body), params: PolicyParams { lanes: 2, weights: WeightMode::Fixed, tables: false }, tables: vec![] }
    }

    /// Two lanes of fixed weights and the activation lookup over `tables`.
    pub fn with_tables(tables: Vec<zkpolicy_model::arith::Table>, body: impl Fn(&Chips, &mut Region<'_, Fr>) + 'static) -> Self {
        Self { body: Rc::new(body), params: PolicyParams { lanes: 2, weights: WeightMode::Fixed, tables: true }, tables }
    }

    /// One lane of private weights (the weight hash configured).
    pub fn private(body: impl Fn(&Chips, &mut Region<'_, Fr>) + 'static) -> Self {
        Self { body: Rc::new(body), params: PolicyParams { lanes: 1, weights: WeightMode::Private, tables: false }, tables: vec![] }
    }

    pub fn run(&self) -> Result<(), Vec<VerifyFailure>> {
        let k = if self.tables.is_empty() { 10 } else { 12 };
        let prover = MockProver::run(k, self, vec![vec![]]).expect("synthesis");
        prover.verify()
    }
}

impl Circuit<Fr> for Harness {
    type Config = Chips;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = PolicyParams;

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn params(&self) -> PolicyParams {
        self.params
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, params: PolicyParams) -> Chips {
        Chips::configure(meta, params)
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> Chips {
        Chips::configure(meta, PolicyParams { lanes: 2, weights: WeightMode::Fixed, tables: false })
    }

    fn synthesize(&self, chips: Chips, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        match &chips.table {
            Some(table) => table.load(&mut layouter, &self.tables)?,
            None => chips.range.load_table(&mut layouter)?,
        }
        layouter.assign_region(
            || "chip under test",
            |mut region| {
                (self.body)(&chips, &mut region);
                Ok(())
            },
        )
    }
}

/// Whether something failed, and every failure is the range chain's step.
pub fn only_range(f: &[String]) -> bool {
    !f.is_empty() && f.iter().all(|f| f.contains(super::range::CHAIN_STEP))
}

/// The names of the constraints and lookups that failed, for exact assertions.
pub fn failures(result: Result<(), Vec<VerifyFailure>>) -> Vec<String> {
    match result {
        Ok(()) => vec![],
        Err(errors) => errors
            .into_iter()
            .map(|e| match e {
                VerifyFailure::ConstraintNotSatisfied { constraint, .. } => format!("constraint {constraint}"),
                VerifyFailure::Lookup { name, .. } => format!("lookup {name}"),
                VerifyFailure::Permutation { .. } => "permutation".to_string(),
                other => format!("{other:?}"),
            })
            .collect(),
    }
}
