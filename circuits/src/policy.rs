//! The policy circuit: input range checks, then each dense layer, then the clamp.
//!
//! Public instances, one column, in this order (no rotated instance queries):
//!
//! | row | value |
//! |---|---|
//! | 0 | epoch |
//! | 1 ..= n | quantized KPIs, model input order |
//! | n + 1 ..= n + p | the controller's parameters, output order (`p` is 0 or `m`) |
//! | n + p + 1 ..= n + p + m | outputs, model output order |
//!
//! Parameters are network inputs like KPIs, range-checked against their declared
//! ranges the same way.
//!
//! Signed values are encoded as field elements (`r − |v|` when negative). The
//! epoch takes part in no gate: it is bound by the transcript, which absorbs
//! every instance before the first challenge, so a proof made for one epoch
//! fails for any other.

use std::sync::Arc;

use halo2_proofs::circuit::{Cell, Layouter, Region, SimpleFloorPlanner, Value};
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};
use zkpolicy_model::{arith, infer, Activation, Model, ModelCard, Observation, QuantizedKpis};

use crate::chips::compare::CompareMode;
use crate::chips::poseidon::Word;
use crate::chips::Chips;
use crate::columns::Wire;
use crate::field::{fr, Fr};
use crate::layout::{self, CircuitShape, NeuronRows, Objective, Placement};
use crate::private::{self, Salt};
use crate::witness::{CompareSite, Honest, WitnessSource};
use crate::CircuitError;

/// The column shape, passed to `configure` (never through globals).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PolicyParams {
    /// Multiply-accumulates per dot row, i.e. the number of `lane` columns (0 is taken as 1).
    pub lanes: usize,
    /// Whether the weights are fixed columns or hashed witnesses.
    pub weights: WeightMode,
    /// Whether the activation lookup is configured (the model has a tanh or sigmoid).
    pub tables: bool,
}

/// Where the weights live (see [`crate::private`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum WeightMode {
    /// Fixed columns: bound by the verifying key, but each proof reveals one linear
    /// equation in each column's values.
    #[default]
    Fixed,
    /// Witnesses, hashed with a secret salt to a commitment the verifying key fixes.
    Private,
}

/// A private circuit's salt and the commitment it gives.
#[derive(Clone, Copy, Debug)]
struct PrivateWeights {
    salt: Salt,
    commitment: Fr,
}

/// The public inputs of one proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicInputs {
    /// The controller epoch the decision is for (instance row 0); bound only through the
    /// transcript.
    pub epoch: u64,
    /// Validated where they were read (the model's ranges); never re-checked as raw integers.
    pub kpis: QuantizedKpis,
    /// The controller's parameters, for a model that reads them (else empty); checked like the KPIs.
    pub parameters: Vec<i64>,
    /// The proven outputs `y`, in model output order, each inside its declared bounds.
    pub outputs: Vec<i64>,
}

impl PublicInputs {
    /// The honest public inputs: the reference outputs on `input`.
    pub fn honest(model: &Model, epoch: u64, input: impl Into<Observation>) -> Result<Self, CircuitError> {
        let input: Observation = input.into();
        let trace = infer(model, &input)?;
        Ok(Self { epoch, kpis: input.kpis().clone(), parameters: input.parameters().to_vec(), outputs: trace.outputs })
    }

    /// Claimed public inputs, accepted only where the circuit could prove them: every KPI
    /// and parameter inside its declared range and every output inside its declared bounds.
    /// Within those ranges (all well inside `i64`) the field encoding is one-to-one, so a
    /// value and its alias mod `r` can never both be claimed.
    pub fn checked(
        card: &(impl AsRef<ModelCard> + ?Sized),
        epoch: u64,
        kpis: Vec<i64>,
        parameters: Vec<i64>,
        outputs: Vec<i64>,
    ) -> Result<Self, CircuitError> {
        let card = card.as_ref();
        let kpis = QuantizedKpis::new(card, kpis)?;
        let parameters = Observation::new(card, kpis, parameters)?;
        let (kpis, parameters) = (parameters.kpis().clone(), parameters.parameters().to_vec());
        let specs = card.outputs();
        if outputs.len() != specs.len() {
            return Err(CircuitError::OutputCount { expected: specs.len(), got: outputs.len() });
        }
        for (spec, &value) in specs.iter().zip(&outputs) {
            if value < spec.min || value > spec.max {
                return Err(CircuitError::OutputOutOfRange { name: spec.name.clone(), value, min: spec.min, max: spec.max });
            }
        }
        Ok(Self { epoch, kpis, parameters, outputs })
    }

    /// The network's input values the statement claims: KPIs, then parameters (as the
    /// instance column holds them after the epoch; not checked against any card).
    pub fn input_values(&self) -> Vec<i64> {
        self.kpis.values().iter().chain(&self.parameters).copied().collect()
    }

    /// The instance column, in the documented order.
    pub fn to_instance(&self) -> Vec<Fr> {
        let values = self.kpis.values().iter().chain(&self.parameters).chain(&self.outputs);
        std::iter::once(Fr::from(self.epoch)).chain(values.map(|v| fr(*v))).collect()
    }
}

/// A model's circuit, optionally with the observation (KPIs and parameters) that makes its witness.
#[derive(Clone, Debug)]
pub struct PolicyCircuit {
    model: Arc<Model>,
    /// The model's card; a private circuit's names the weight commitment instead of the file.
    card: ModelCard,
    private: Option<PrivateWeights>,
    shape: CircuitShape,
    input: Option<Observation>,
    source: Arc<dyn WitnessSource>,
}

impl AsRef<ModelCard> for PolicyCircuit {
    fn as_ref(&self) -> &ModelCard {
        &self.card
    }
}

impl PolicyCircuit {
    /// The circuit without a witness (for key generation), at the shape that minimises
    /// verification gas.
    pub fn new(model: Arc<Model>) -> Result<Self, CircuitError> {
        Self::planned(model, Objective::Gas)
    }

    /// The circuit at `lanes` multiply-accumulates per row, whatever the planner would choose.
    pub fn with_lanes(model: Arc<Model>, lanes: usize) -> Result<Self, CircuitError> {
        let shape = layout::shape_for(&model, lanes, WeightMode::Fixed)?;
        Ok(Self::assemble(model, shape, None))
    }

    /// The circuit at the shape planned for `objective`.
    pub fn planned(model: Arc<Model>, objective: Objective) -> Result<Self, CircuitError> {
        let shape = layout::plan_for(&model, objective, WeightMode::Fixed)?;
        Ok(Self::assemble(model, shape, None))
    }

    /// The private-weights circuit (see [`crate::private`]) at the shape planned for `objective`.
    pub fn private(model: Arc<Model>, salt: Salt, objective: Objective) -> Result<Self, CircuitError> {
        let shape = layout::plan_for(&model, objective, WeightMode::Private)?;
        Ok(Self::private_at(model, salt, shape))
    }

    /// [`Self::private`] among the shapes that fit `k ≤ max_k` (benchmarks past [`layout::MAX_K`]).
    pub fn private_up_to(model: Arc<Model>, salt: Salt, objective: Objective, max_k: u32) -> Result<Self, CircuitError> {
        let shape = layout::plan_up_to(&model, objective, WeightMode::Private, max_k)?;
        Ok(Self::private_at(model, salt, shape))
    }

    /// The private-weights circuit at `lanes` multiply-accumulates per row, whatever the planner
    /// would choose.
    pub fn private_with_lanes(model: Arc<Model>, salt: Salt, lanes: usize) -> Result<Self, CircuitError> {
        let shape = layout::shape_for(&model, lanes, WeightMode::Private)?;
        Ok(Self::private_at(model, salt, shape))
    }

    fn private_at(model: Arc<Model>, salt: Salt, shape: CircuitShape) -> Self {
        let commitment = private::commitment(&model, &salt);
        Self::assemble(model, shape, Some(PrivateWeights { salt, commitment }))
    }

    fn assemble(model: Arc<Model>, shape: CircuitShape, private: Option<PrivateWeights>) -> Self {
        let card = match &private {
            None => model.card().clone(),
            Some(p) => model.card().with_commitment(zkpolicy_model::ModelCommitment(private::be_bytes(&p.commitment))),
        };
        Self { model, card, private, shape, input: None, source: Arc::new(Honest) }
    }

    /// The same private circuit with its fixed columns claiming `commitment` while its witness
    /// keeps this model's weights: what a prover holding another model's proving key would
    /// synthesize (adversarial tests; the digest's copy to the constant rejects it).
    pub fn claiming(&self, commitment: Fr) -> Self {
        let private = self.private.map(|p| PrivateWeights { commitment, ..p });
        Self { private, ..self.clone() }
    }

    /// Whether this circuit holds its weights in fixed columns or as hashed witnesses.
    pub fn weight_mode(&self) -> WeightMode {
        if self.private.is_some() {
            WeightMode::Private
        } else {
            WeightMode::Fixed
        }
    }

    /// The weight commitment, for a private circuit.
    pub fn weight_commitment(&self) -> Option<Fr> {
        self.private.map(|p| p.commitment)
    }

    /// The same circuit with `input` (KPIs, and the parameters if the model reads them) as its witness.
    pub fn with_input(&self, input: impl Into<Observation>) -> Self {
        Self { input: Some(input.into()), ..self.clone() }
    }

    /// The same circuit with its requantization and comparison witnesses taken from
    /// `source` (adversarial tests; see [`crate::witness`]).
    pub fn with_witness_source(&self, source: Arc<dyn WitnessSource>) -> Self {
        Self { source, ..self.clone() }
    }

    /// The same circuit without a witness, for key generation.
    pub fn without_witness(&self) -> Self {
        Self { input: None, source: Arc::new(Honest), ..self.clone() }
    }

    /// The planned shape: lanes, `k`, rows and column counts.
    pub fn shape(&self) -> &CircuitShape {
        &self.shape
    }

    /// The validated model the circuit proves.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The observation the witness is computed from; `None` for a key-generation circuit.
    pub fn input(&self) -> Option<&Observation> {
        self.input.as_ref()
    }

    /// Where every operation of this circuit sits.
    pub fn placement(&self) -> Placement {
        layout::place_model(&self.model, self.shape.lanes, self.weight_mode())
    }

    /// The policy rows, then in private mode the weight hash; returns the outputs.
    fn assign_policy(&self, chips: &Chips, region: &mut Region<'_, Fr>) -> Result<Vec<Wire>, Error> {
        let file = self.model.file();
        let placement = self.placement();
        let values = self.input.as_ref().map(Observation::values);
        let ranges = self.model.network_ranges();
        let mut x = Vec::with_capacity(ranges.len());
        for (i, (range, rows)) in ranges.iter().zip(&placement.inputs).enumerate() {
            let value = values.as_ref().map_or(Value::unknown(), |v| v.get(i).map_or(Value::unknown(), |&v| Value::known(v)));
            debug_assert_eq!(rows.input, 1 + i);
            let kpi = chips.public.assign(region, rows.input, value);
            // In range exactly when clamping leaves the KPI unchanged.
            let sites = (CompareSite::InputMax(i), CompareSite::InputMin(i));
            let clamped = self.clamp(chips, region, sites, (rows.max, rows.min), &kpi, range.lo, range.hi)?;
            region.constrain_equal(clamped.cell, kpi.cell);
            x.push(kpi);
        }
        // Private mode: the fixed cells leaky ReLU's weight cells copy (after the policy rows).
        let pinned: Vec<(i64, Cell)> = match &self.private {
            Some(_) => private::pinned_constants(&self.model)
                .into_iter()
                .enumerate()
                .map(|(i, v)| (v, region.assign_fixed(chips.cols.weights[0], placement.rows + i, fr(v))))
                .collect(),
            None => vec![],
        };
        let last = file.layers.len() - 1;
        let mut hashed = Vec::new();
        for (l, (layer, neurons)) in file.layers.iter().zip(&placement.layers).enumerate() {
            let mut next = Vec::with_capacity(layer.bias.len());
            for (j, ((weights, &bias), rows)) in layer.weights.iter().zip(&layer.bias).zip(neurons).enumerate() {
                let (z, at, cells) = chips.dense.assign_neuron(region, rows.bias, weights, bias, &x);
                hashed.extend(cells);
                debug_assert!(at <= rows.requantize);
                let witness = known(z.value.map(|z| self.source.requantize(l, j, z, layer.shift)))?;
                let q = chips.requantize.assign(region, rows.requantize, layer.shift, &z, witness);
                let a = self.activate(chips, region, (l, j), rows, layer.activation, &q, &pinned)?;
                let out = if l == last {
                    let spec = &file.outputs[j];
                    let sites = (CompareSite::OutputMax(j), CompareSite::OutputMin(j));
                    let at = rows.output_clamp().ok_or(Error::Synthesis)?;
                    self.clamp(chips, region, sites, at, &a, spec.min, spec.max)?
                } else {
                    a
                };
                next.push(out);
            }
            x = next;
        }
        if let (Some(p), Some(pack), Some(hash)) = (&self.private, &chips.pack, &chips.poseidon) {
            let units = private::parameters(&self.model);
            if units.len() != hashed.len() {
                return Err(Error::Synthesis);
            }
            let parameters: Vec<(Wire, usize)> = hashed.into_iter().zip(units).map(|(cell, (_, u))| (cell, u)).collect();
            let (elements, at) = pack.assign(region, placement.rows + pinned.len(), &parameters);
            let mut words: Vec<Word> =
                std::iter::once(Word::Witness(Value::known(p.salt.value()))).chain(elements.into_iter().map(Word::Copy)).collect();
            if words.len() % 2 == 1 {
                words.push(Word::Zero);
            }
            let iv = private::initial_capacity(&self.model, words.len());
            let end = hash.assign_sponge(region, at, &words, iv, p.commitment)?;
            debug_assert_eq!(end, self.shape.rows);
        } else {
            debug_assert_eq!(placement.rows, self.shape.rows);
        }
        // The outputs' public rows, each a copy of its clamp's result.
        for (out, &row) in x.iter().zip(&placement.outputs) {
            let public = chips.public.assign(region, row, out.value);
            region.constrain_equal(public.cell, out.cell);
        }
        Ok(x)
    }
}

impl PolicyCircuit {
    /// Neuron `(l, j)`'s activation of `q`, on the rows `rows` places it. In private mode
    /// `pinned` holds the fixed cells of [`private::pinned_constants`].
    #[allow(clippy::too_many_arguments)]
    fn activate(
        &self,
        chips: &Chips,
        region: &mut Region<'_, Fr>,
        (l, j): (usize, usize),
        rows: &NeuronRows,
        activation: Activation,
        q: &Wire,
        pinned: &[(i64, Cell)],
    ) -> Result<Wire, Error> {
        match activation {
            Activation::None => Ok(q.clone()),
            Activation::Relu => self.compare(chips, region, CompareSite::Relu(l, j), rows.compares[0], CompareMode::Max, 0, q),
            Activation::LeakyRelu { slope } => {
                let r = self.compare(chips, region, CompareSite::Relu(l, j), rows.compares[0], CompareMode::Max, 0, q)?;
                let (weights, at) = (arith::leaky_weights(slope).ok_or(Error::Synthesis)?, rows.leaky.ok_or(Error::Synthesis)?);
                let (z, next, cells) = chips.dense.assign_neuron(region, at.bias, &weights, 0, &[r, q.clone()]);
                // Private mode: the cells (the two weights, then the bias) are advice that no
                // hash reads, so each is a copy of its fixed constant.
                for (cell, value) in cells.iter().zip(weights.iter().chain(&[0])) {
                    let &(_, fixed) = pinned.iter().find(|(v, _)| v == value).ok_or(Error::Synthesis)?;
                    region.constrain_equal(cell.cell, fixed);
                }
                if cells.len() != if self.private.is_some() { 3 } else { 0 } {
                    return Err(Error::Synthesis);
                }
                debug_assert!(next <= at.requantize);
                let witness = known(z.value.map(|z| self.source.leaky(l, j, z)))?;
                Ok(chips.requantize.assign(region, at.requantize, arith::LEAKY_SHIFT, &z, witness))
            }
            Activation::Tanh { .. } | Activation::Sigmoid { .. } => {
                let (table, chip) = (activation.table().ok_or(Error::Synthesis)?, chips.table.as_ref().ok_or(Error::Synthesis)?);
                let sites = (CompareSite::WindowMax(l, j), CompareSite::WindowMin(l, j));
                let x = self.clamp(chips, region, sites, (rows.compares[0], rows.compares[1]), q, table.lo, table.hi)?;
                let y = known(x.value.map(|x| self.source.table(l, j, &table, x)))?;
                Ok(chip.assign(region, rows.lookup.ok_or(Error::Synthesis)?, &table, &x, y))
            }
        }
    }

    /// `min(max(x, lo), hi)` with the max on row `at.0` and the min on row `at.1`.
    #[allow(clippy::too_many_arguments)]
    fn clamp(
        &self,
        chips: &Chips,
        region: &mut Region<'_, Fr>,
        sites: (CompareSite, CompareSite),
        at: (usize, usize),
        x: &Wire,
        lo: i64,
        hi: i64,
    ) -> Result<Wire, Error> {
        let low = self.compare(chips, region, sites.0, at.0, CompareMode::Max, lo, x)?;
        self.compare(chips, region, sites.1, at.1, CompareMode::Min, hi, &low)
    }

    #[allow(clippy::too_many_arguments)]
    fn compare(
        &self,
        chips: &Chips,
        region: &mut Region<'_, Fr>,
        site: CompareSite,
        at: usize,
        mode: CompareMode,
        th: i64,
        x: &Wire,
    ) -> Result<Wire, Error> {
        let witness = known(x.value.map(|v| self.source.compare(site, v, th, mode)))?;
        Ok(chips.compare.assign(region, at, mode, th, x, witness))
    }
}

/// A witness the native twin could not produce is a synthesis error, not a panic.
fn known<T: Default>(value: Value<Option<T>>) -> Result<Value<T>, Error> {
    value.error_if_known_and(Option::is_none)?;
    Ok(value.map(Option::unwrap_or_default))
}

impl Circuit<Fr> for PolicyCircuit {
    type Config = Chips;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = PolicyParams;

    fn without_witnesses(&self) -> Self {
        self.without_witness()
    }

    fn params(&self) -> PolicyParams {
        PolicyParams { lanes: self.shape.lanes, weights: self.weight_mode(), tables: !layout::tables(&self.model).is_empty() }
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, params: PolicyParams) -> Chips {
        Chips::configure(meta, params)
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> Chips {
        Chips::configure(meta, PolicyParams::default())
    }

    fn synthesize(&self, chips: Chips, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        match &chips.table {
            Some(table) => table.load(&mut layouter, &layout::tables(&self.model))?,
            None => chips.range.load_table(&mut layouter)?,
        }
        layouter.assign_region(|| "policy", |mut region| self.assign_policy(&chips, &mut region))?;
        Ok(())
    }
}
