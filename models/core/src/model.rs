use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use tiny_keccak::{Hasher, Keccak};

use crate::arith::{self, LEAKY_SHIFT, MAX_OUTPUT_SCALE_BITS, MAX_OUTPUT_STEP, MAX_SHIFT, MAX_TABLE_SCALE_BITS, WINDOW_BITS};
use crate::bounds::{self, Interval, LayerBounds};
use crate::card::ModelCard;
use crate::format::{Activation, InputSpec, ModelFile, OutputSpec, ParameterSpec, FORMAT_TAG, FORMAT_VERSION};
use crate::ModelError;

/// Largest magnitude of a quantized KPI or output bound.
const MAX_VALUE_BITS: u32 = 40;
const MAX_SCALE_BITS: u32 = 24;

/// keccak-256 of the canonical model encoding: the compact JSON re-serialization
/// of the parsed file, fields in schema order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModelCommitment(pub [u8; 32]);

impl std::str::FromStr for ModelCommitment {
    type Err = String;

    /// `0x` and 64 hex digits.
    fn from_str(s: &str) -> Result<Self, String> {
        let digits = s.strip_prefix("0x").ok_or_else(|| format!("{s:?} does not start with 0x"))?;
        let bytes = hex::decode(digits).map_err(|e| format!("{s:?} is not hex: {e}"))?;
        bytes.try_into().map(Self).map_err(|b: Vec<u8>| format!("{s:?} has {} bytes, a commitment has 32", b.len()))
    }
}

impl fmt::Display for ModelCommitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

/// Written as its `Display` (`0x` and 64 lowercase hex digits), read by `FromStr`.
impl serde::Serialize for ModelCommitment {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ModelCommitment {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A validated model: every accessor may assume the shapes and bounds hold.
#[derive(Clone, Debug)]
pub struct Model {
    file: ModelFile,
    bounds: Vec<LayerBounds>,
    card: ModelCard,
}

impl Model {
    /// Reads and validates a model file (at most [`crate::io::MAX_MODEL_BYTES`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let text = crate::io::read_text_limited(path, crate::io::MAX_MODEL_BYTES)
            .map_err(|source| ModelError::Io { path: path.to_owned(), source })?;
        Self::from_json(&text)
    }

    /// Parses model JSON, refusing unknown keys, then validates it as [`Model::from_file`].
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        let file: ModelFile = serde_json::from_str(text).map_err(|source| ModelError::Json { what: "model file", source })?;
        Self::from_file(file)
    }

    /// Validates a parsed file (header, shapes, bit widths, activations, and the bounds
    /// analysis) and computes its commitment over the canonical encoding; the lab's
    /// builders call this on the files they make.
    pub fn from_file(file: ModelFile) -> Result<Self, ModelError> {
        check_header(&file)?;
        let input_ranges = check_inputs(&file.inputs)?;
        check_outputs(&file.outputs)?;
        let parameter_ranges = check_parameters(&file.parameters, &file.outputs)?;
        check_layers(&file)?;
        let network: Vec<Interval> = input_ranges.iter().chain(&parameter_ranges).copied().collect();
        let bounds = bounds::analyse(&file, &network)?;
        let canonical = serde_json::to_vec(&file).map_err(|source| ModelError::Json { what: "model file", source })?;
        let commitment = ModelCommitment(keccak256(&canonical));
        let card = ModelCard::checked(
            file.name.clone(),
            commitment,
            file.inputs.clone(),
            file.parameters.clone(),
            file.outputs.clone(),
            input_ranges,
            parameter_ranges,
        );
        Ok(Self { file, bounds, card })
    }

    /// The file as validated: weights, biases and shifts included, so it is what the
    /// prover needs and a verifier does not.
    pub fn file(&self) -> &ModelFile {
        &self.file
    }

    /// The model's name, as in its file.
    pub fn name(&self) -> &str {
        &self.file.name
    }

    /// keccak-256 of the canonical encoding of the file.
    pub fn commitment(&self) -> ModelCommitment {
        self.card.commitment()
    }

    /// Quantized `[min, max]` of each KPI.
    pub fn input_ranges(&self) -> &[Interval] {
        self.card.input_ranges()
    }

    /// `[min, max]` of every network input: the KPIs, then the parameters.
    pub fn network_ranges(&self) -> Vec<Interval> {
        self.card.network_ranges()
    }

    /// The public part: name, commitment, KPI and output specifications; no weights.
    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    /// The worst-case interval of every intermediate, per layer and neuron, from the
    /// bounds analysis validation ran.
    pub fn bounds(&self) -> &[LayerBounds] {
        &self.bounds
    }

    /// `[network inputs (KPIs + parameters), hidden…, outputs]`.
    pub fn dims(&self) -> Vec<usize> {
        std::iter::once(self.card.network_width()).chain(self.file.layers.iter().map(|l| l.bias.len())).collect()
    }

    /// Weights plus biases over all layers: the model size `inspect`, `import` and the
    /// benchmark report print.
    pub fn parameter_count(&self) -> usize {
        self.file.layers.iter().map(|l| l.bias.len() * (1 + l.weights.first().map_or(0, Vec::len))).sum()
    }
}

pub(crate) fn keccak256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut k = Keccak::v256();
    k.update(bytes);
    k.finalize(&mut out);
    out
}

fn check_header(file: &ModelFile) -> Result<(), ModelError> {
    if file.format != FORMAT_TAG {
        return Err(ModelError::model("format", format!("expected \"{FORMAT_TAG}\", got {:?}", file.format)));
    }
    if file.version != FORMAT_VERSION {
        return Err(ModelError::model("version", format!("this build reads version {FORMAT_VERSION}, got {}", file.version)));
    }
    if file.name.trim().is_empty() {
        return Err(ModelError::model("name", "must not be empty"));
    }
    if !(2..=16).contains(&file.weight_bits) {
        return Err(ModelError::model("weight_bits", format!("must be in 2..=16, got {}", file.weight_bits)));
    }
    if !(2..=MAX_VALUE_BITS).contains(&file.bias_bits) {
        return Err(ModelError::model("bias_bits", format!("must be in 2..={MAX_VALUE_BITS}, got {}", file.bias_bits)));
    }
    Ok(())
}

fn check_names<'a>(what: &str, names: impl Iterator<Item = &'a str>) -> Result<(), ModelError> {
    let mut seen = HashSet::new();
    for (i, name) in names.enumerate() {
        if name.trim().is_empty() {
            return Err(ModelError::model(format!("{what}[{i}].name"), "must not be empty"));
        }
        if !seen.insert(name) {
            return Err(ModelError::model(format!("{what}[{i}].name"), format!("duplicate name {name:?}")));
        }
    }
    Ok(())
}

pub(crate) fn check_inputs(inputs: &[InputSpec]) -> Result<Vec<Interval>, ModelError> {
    if inputs.is_empty() {
        return Err(ModelError::model("inputs", "a model needs at least one KPI input"));
    }
    check_names("inputs", inputs.iter().map(|i| i.name.as_str()))?;
    let limit = (1i64 << MAX_VALUE_BITS) as f64;
    inputs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let field = format!("inputs[{i}]");
            if spec.scale_bits > MAX_SCALE_BITS {
                return Err(ModelError::model(format!("{field}.scale_bits"), format!("must be at most {MAX_SCALE_BITS}")));
            }
            if !spec.min.is_finite() || !spec.max.is_finite() || spec.min >= spec.max {
                return Err(ModelError::model(field, format!("needs finite min < max, got [{}, {}]", spec.min, spec.max)));
            }
            let scale = (1u64 << spec.scale_bits) as f64;
            let (lo, hi) = ((spec.min * scale).round(), (spec.max * scale).round());
            if lo.abs() >= limit || hi.abs() >= limit {
                return Err(ModelError::model(field, format!("quantized range exceeds ±2^{MAX_VALUE_BITS}; lower scale_bits")));
            }
            let range = Interval { lo: lo as i64, hi: hi as i64 };
            if range.hi - range.lo >= 1i64 << WINDOW_BITS {
                return Err(ModelError::model(
                    field,
                    format!("quantized span {} must be below 2^{WINDOW_BITS}; lower scale_bits", range.hi - range.lo),
                ));
            }
            Ok(range)
        })
        .collect()
}

pub(crate) fn check_outputs(outputs: &[OutputSpec]) -> Result<(), ModelError> {
    if outputs.is_empty() {
        return Err(ModelError::model("outputs", "a model needs at least one output"));
    }
    check_names("outputs", outputs.iter().map(|o| o.name.as_str()))?;
    for (i, spec) in outputs.iter().enumerate() {
        let limit = 1i64 << MAX_VALUE_BITS;
        if spec.min > spec.max || spec.min.abs() >= limit || spec.max.abs() >= limit {
            return Err(ModelError::model(
                format!("outputs[{i}]"),
                format!("needs min <= max within ±2^{MAX_VALUE_BITS}, got [{}, {}]", spec.min, spec.max),
            ));
        }
        if spec.scale_bits > MAX_OUTPUT_SCALE_BITS {
            return Err(ModelError::model(
                format!("outputs[{i}].scale_bits"),
                format!("must be at most {MAX_OUTPUT_SCALE_BITS}, got {}", spec.scale_bits),
            ));
        }
        if !(1..=MAX_OUTPUT_STEP).contains(&spec.step) {
            return Err(ModelError::model(format!("outputs[{i}].step"), format!("must be in 1..={MAX_OUTPUT_STEP}, got {}", spec.step)));
        }
    }
    Ok(())
}

/// The parameter inputs: none, or one per output with the output's position; each an
/// integer range the comparator window holds. Returns their `[min, max]`.
pub(crate) fn check_parameters(parameters: &[ParameterSpec], outputs: &[OutputSpec]) -> Result<Vec<Interval>, ModelError> {
    if parameters.is_empty() {
        return Ok(Vec::new());
    }
    if parameters.len() != outputs.len() {
        return Err(ModelError::model(
            "parameters",
            format!(
                "declares {} parameters for {} outputs; a model reads none, or the one each output adjusts",
                parameters.len(),
                outputs.len()
            ),
        ));
    }
    check_names("parameters", parameters.iter().map(|p| p.name.as_str()))?;
    let limit = 1i64 << MAX_VALUE_BITS;
    parameters
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let field = format!("parameters[{i}]");
            if spec.scale_bits > MAX_SCALE_BITS {
                return Err(ModelError::model(format!("{field}.scale_bits"), format!("must be at most {MAX_SCALE_BITS}")));
            }
            if spec.min > spec.max || spec.min.abs() >= limit || spec.max.abs() >= limit {
                return Err(ModelError::model(
                    field,
                    format!("needs min <= max within ±2^{MAX_VALUE_BITS}, got [{}, {}]", spec.min, spec.max),
                ));
            }
            if spec.max - spec.min >= 1i64 << WINDOW_BITS {
                return Err(ModelError::model(field, format!("span {} must be below 2^{WINDOW_BITS}", spec.max - spec.min)));
            }
            Ok(Interval { lo: spec.min, hi: spec.max })
        })
        .collect()
}

fn check_layers(file: &ModelFile) -> Result<(), ModelError> {
    if file.layers.is_empty() {
        return Err(ModelError::model("layers", "a model needs at least one layer"));
    }
    let last = file.layers.len() - 1;
    let mut n_in = file.inputs.len() + file.parameters.len();
    for (l, layer) in file.layers.iter().enumerate() {
        let field = |f: &str| format!("layers[{l}].{f}");
        let n_out = layer.weights.len();
        if n_out == 0 {
            return Err(ModelError::model(field("weights"), "a layer needs at least one output row"));
        }
        if l == last && n_out != file.outputs.len() {
            return Err(ModelError::model(
                field("weights"),
                format!("the output layer has {n_out} rows but the model declares {} outputs", file.outputs.len()),
            ));
        }
        if layer.bias.len() != n_out {
            return Err(ModelError::model(
                field("bias"),
                format!("has {} entries, expected {n_out} (one per weight row)", layer.bias.len()),
            ));
        }
        for (j, row) in layer.weights.iter().enumerate() {
            if row.len() != n_in {
                return Err(ModelError::model(
                    field(&format!("weights[{j}]")),
                    if l == 0 {
                        format!("has {} entries, expected {n_in} (one per KPI, then one per parameter)", row.len())
                    } else {
                        format!("has {} entries, expected {n_in} (the previous layer's width)", row.len())
                    },
                ));
            }
            check_bits(row, file.weight_bits, &field(&format!("weights[{j}]")))?;
        }
        check_bits(&layer.bias, file.bias_bits, &field("bias"))?;
        if layer.shift > MAX_SHIFT {
            return Err(ModelError::model(field("shift"), format!("must be at most {MAX_SHIFT}, got {}", layer.shift)));
        }
        check_activation(file, l, layer.activation, &field("activation"))?;
        n_in = n_out;
    }
    Ok(())
}

/// Hidden layers close with a nonlinearity; the output layer with any activation or
/// `none`, then the clamp. Leaky ReLU's slope lies strictly between 0 and 1, a table's scale
/// is at most [`MAX_TABLE_SCALE_BITS`], and a table closing the output layer is at each
/// output's `scale_bits` (its value is the output).
fn check_activation(file: &ModelFile, l: usize, activation: Activation, field: &str) -> Result<(), ModelError> {
    let last = l + 1 == file.layers.len();
    match activation {
        Activation::None if !last => {
            return Err(ModelError::model(
                field,
                "a hidden layer needs a nonlinearity (relu, leaky_relu, tanh or sigmoid); \"none\" is for the output layer",
            ))
        }
        Activation::LeakyRelu { slope } if arith::leaky_weights(slope).is_none() => {
            return Err(ModelError::model(
                format!("{field}.leaky_relu.slope"),
                format!("must be in 1..{} (the slope is slope / 2^{LEAKY_SHIFT}), got {slope}", 1i64 << LEAKY_SHIFT),
            ))
        }
        Activation::Tanh { scale_bits } | Activation::Sigmoid { scale_bits } => {
            let name = activation.name();
            if scale_bits > MAX_TABLE_SCALE_BITS || !activation.table().is_some_and(|t| t.fits()) {
                return Err(ModelError::model(
                    format!("{field}.{name}.scale_bits"),
                    format!(
                        "{scale_bits} is too fine: a table's window must be narrower than 2^{WINDOW_BITS} \
                         (tanh takes up to {MAX_TABLE_SCALE_BITS} bits, sigmoid up to 11)"
                    ),
                ));
            }
            if last {
                if let Some((j, o)) = file.outputs.iter().enumerate().find(|(_, o)| o.scale_bits != scale_bits) {
                    return Err(ModelError::model(
                        format!("outputs[{j}].scale_bits"),
                        format!(
                            "is {} but the output layer ends in {name} at scale_bits {scale_bits}, whose value is the output",
                            o.scale_bits
                        ),
                    ));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_bits(values: &[i64], bits: u32, field: &str) -> Result<(), ModelError> {
    let (lo, hi) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
    match values.iter().position(|v| !(lo..=hi).contains(v)) {
        Some(k) => {
            Err(ModelError::model(format!("{field}[{k}]"), format!("value {} does not fit {bits} signed bits [{lo}, {hi}]", values[k])))
        }
        None => Ok(()),
    }
}
