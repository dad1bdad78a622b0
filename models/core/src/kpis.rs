//! KPI snapshots: the real-valued JSON an operator feeds in, and its quantization.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Model, ModelCard, ModelError, Observation};

/// A KPI snapshot file: `{"kpis": {"staking_ratio": 0.41, …}}`, one entry per model input,
/// and for a model that reads the controller's parameters, `"parameters": {"emission_rate_bps":
/// 500, …}` with one integer per declared parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiSnapshot {
    /// Real KPI values by input name, in each input's `unit` (not yet quantized).
    #[serde(deserialize_with = "unique_keys")]
    pub kpis: BTreeMap<String, f64>,
    /// The controller's current parameter values by name, as integers in the parameter's
    /// `unit`; empty (and absent from the JSON) for a KPI-only model.
    #[serde(default, deserialize_with = "unique_keys", skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, i64>,
}

/// A JSON object as a map, refusing a key that appears twice (serde_json would keep the
/// last silently, so `{"fee": 0.1, "fee": 0.9}` would mean whichever the writer put last).
pub fn unique_keys<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: serde::Deserialize<'de>,
{
    struct Unique<V>(std::marker::PhantomData<V>);
    impl<'de, V: serde::Deserialize<'de>> serde::de::Visitor<'de> for Unique<V> {
        type Value = BTreeMap<String, V>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object with unique keys")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((key, value)) = map.next_entry::<String, V>()? {
                if out.contains_key(&key) {
                    return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
                }
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(Unique(std::marker::PhantomData))
}

/// KPIs in model input order, each an integer inside its declared quantized range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuantizedKpis(Vec<i64>);

impl KpiSnapshot {
    /// Reads a snapshot file (at most [`crate::io::MAX_SNAPSHOT_BYTES`]); the values are
    /// checked against a model only by [`KpiSnapshot::quantize`] or [`KpiSnapshot::observe`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let text = crate::io::read_text_limited(path, crate::io::MAX_SNAPSHOT_BYTES)
            .map_err(|source| ModelError::Io { path: path.to_owned(), source })?;
        Self::from_json(&text)
    }

    /// Parses snapshot JSON, refusing unknown top-level keys and duplicated names.
    pub fn from_json(text: &str) -> Result<Self, ModelError> {
        serde_json::from_str(text).map_err(|source| ModelError::Json { what: "KPI snapshot", source })
    }

    /// `round(value · 2^scale_bits)` for each input, after checking the snapshot
    /// names exactly the model's inputs and every value is finite and in range.
    pub fn quantize(&self, card: &(impl AsRef<ModelCard> + ?Sized)) -> Result<QuantizedKpis, ModelError> {
        let card = card.as_ref();
        let inputs = card.inputs();
        if let Some(unknown) = self.kpis.keys().find(|k| !inputs.iter().any(|i| &i.name == *k)) {
            return Err(ModelError::kpi(unknown, format!("is not an input of model {:?}", card.name())));
        }
        // No unknown key, so a short snapshot misses an input: the first missing one is named below.
        let values = inputs
            .iter()
            .map(|spec| {
                let v = *self.kpis.get(&spec.name).ok_or_else(|| ModelError::kpi(&spec.name, "is missing"))?;
                if !v.is_finite() {
                    return Err(ModelError::kpi(&spec.name, format!("value {v} is not a finite number")));
                }
                if v < spec.min || v > spec.max {
                    return Err(ModelError::kpi(
                        &spec.name,
                        format!("value {v} is outside the declared range [{}, {}] {}", spec.min, spec.max, spec.unit),
                    ));
                }
                Ok((v * (1u64 << spec.scale_bits) as f64).round() as i64)
            })
            .collect::<Result<Vec<_>, _>>()?;
        QuantizedKpis::new(card, values)
    }
}

impl KpiSnapshot {
    /// KPIs only: a snapshot with no parameters.
    pub fn of_kpis(kpis: BTreeMap<String, f64>) -> Self {
        Self { kpis, parameters: BTreeMap::new() }
    }

    /// The observation this file gives `card`'s model: the quantized KPIs and, by name,
    /// exactly the parameters the model declares.
    pub fn observe(&self, card: &(impl AsRef<ModelCard> + ?Sized)) -> Result<Observation, ModelError> {
        let card = card.as_ref();
        let kpis = self.quantize(card)?;
        let specs = card.parameters();
        if let Some(unknown) = self.parameters.keys().find(|k| !specs.iter().any(|s| &s.name == *k)) {
            return Err(ModelError::InvalidParameter {
                name: unknown.clone(),
                reason: format!("is not a parameter input of model {:?}", card.name()),
            });
        }
        let values = specs
            .iter()
            .map(|spec| {
                self.parameters.get(&spec.name).copied().ok_or_else(|| ModelError::InvalidParameter {
                    name: spec.name.clone(),
                    reason: "is missing: this model reads the controller's current parameters (\"parameters\" in the snapshot)".into(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Observation::new(card, kpis, values)
    }
}

/// Read-only access to the values, in model input order.
impl std::ops::Deref for QuantizedKpis {
    type Target = [i64];

    fn deref(&self) -> &[i64] {
        &self.0
    }
}

impl QuantizedKpis {
    /// Accepts already-quantized KPIs (as read from a chain), checking count and ranges.
    pub fn new(card: &(impl AsRef<ModelCard> + ?Sized), values: Vec<i64>) -> Result<Self, ModelError> {
        let card = card.as_ref();
        let ranges = card.input_ranges();
        if values.len() != ranges.len() {
            return Err(ModelError::WrongCount { what: "quantized KPIs", expected: ranges.len(), got: values.len() });
        }
        for ((v, r), spec) in values.iter().zip(ranges).zip(card.inputs()) {
            if *v < r.lo || *v > r.hi {
                return Err(ModelError::kpi(&spec.name, format!("quantized value {v} is outside [{}, {}]", r.lo, r.hi)));
            }
        }
        Ok(Self(values))
    }

    /// A uniformly random KPI vector inside the card's quantized ranges (for tests and benchmarks).
    pub fn random(card: &(impl AsRef<ModelCard> + ?Sized), rng: &mut impl rand::Rng) -> Self {
        Self(card.as_ref().input_ranges().iter().map(|r| rng.gen_range(r.lo..=r.hi)).collect())
    }

    /// KPIs taken as given, unchecked: only for adversarial tests that build the witness of
    /// a statement the validator refuses (the circuit must refuse it too; that is the test).
    #[cfg(feature = "test-utils")]
    pub fn new_unsafe(values: Vec<i64>) -> Self {
        Self(values)
    }

    /// The quantized values `round(kpi · 2^scale_bits)`, in model input order.
    pub fn values(&self) -> &[i64] {
        &self.0
    }

    /// Real values: `q / 2^scale_bits`.
    pub fn dequantize(&self, model: &Model) -> BTreeMap<String, f64> {
        model.file().inputs.iter().zip(&self.0).map(|(spec, &q)| (spec.name.clone(), q as f64 / (1u64 << spec.scale_bits) as f64)).collect()
    }
}
