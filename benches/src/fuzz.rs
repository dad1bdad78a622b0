//! Structure-aware fuzzing of every parser zkpolicy feeds user files to.
//!
//! Each [`Target`] takes bytes as its file would hold them and runs the same code the CLI
//! runs on that file, up to the checks that follow parsing (quantization, the claim checks
//! of a proof artifact, a config's validation). [`Fuzzer`] starts from the bundled files
//! and mutates them: JSON inputs as trees (values replaced by extremes, wrong types, keys
//! dropped, unknown or duplicated, deep nesting), every input as bytes (flips, splices,
//! truncation, repetition). A target may return any error; it must never panic, and a
//! value it accepts must satisfy the target's invariant.
//!
//! The suite runs a short campaign (`tests/tests/e2e/fuzz.rs`); `benches/fuzz.sh` runs a
//! million executions per target.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{Map, Number, Value};
use zkpolicy_chain::{DeployConfig, Deployment};
use zkpolicy_circuits::PolicyCircuit;
use zkpolicy_lab::{onnx, quantize};
use zkpolicy_model::{KpiSnapshot, Model, QuantizedKpis};
use zkpolicy_prover::artifact::ProofArtifact;
use zkpolicy_prover::vkey::{PublishedKey, VerifyingKeyFile};
use zkpolicy_prover::{keys, proof, srs};

use crate::models_dir;

/// A parser and the checks that run on what it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A model file (`--model`): parse, validate, interval analysis, commitment.
    Model,
    /// A KPI snapshot (`--kpis`), quantized for the default model.
    KpiSnapshot,
    /// A proof artifact (`--proof`): parse, then every claim check and the proof bytes.
    ProofArtifact,
    /// A deployment record (`--deployment`).
    Deployment,
    /// A deployment config (`deploy --config`), validated against the default model.
    DeployConfig,
    /// Calibration KPIs (`import --calibration`), one JSON object per line.
    Calibration,
    /// An ONNX policy (`import --onnx`), checked against the default model's outputs.
    Onnx,
    /// A KZG parameter file (`--srs`), trimmed to the default model's k.
    Srs,
    /// An exported verifying key file (`--vk`): its checks, then halo2's key reader.
    VerifyingKey,
}

pub const TARGETS: [Target; 9] = [
    Target::Model,
    Target::KpiSnapshot,
    Target::ProofArtifact,
    Target::Deployment,
    Target::DeployConfig,
    Target::Calibration,
    Target::Onnx,
    Target::Srs,
    Target::VerifyingKey,
];

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Model => "model file",
            Target::KpiSnapshot => "KPI snapshot",
            Target::ProofArtifact => "proof artifact",
            Target::Deployment => "deployment record",
            Target::DeployConfig => "deployment config",
            Target::Calibration => "calibration JSONL",
            Target::Onnx => "ONNX model",
            Target::Srs => "KZG params",
            Target::VerifyingKey => "verifying key file",
        }
    }

    fn is_json(self) -> bool {
        !matches!(self, Target::Onnx | Target::Srs | Target::Calibration)
    }
}

/// What the targets parse against, and the files the fuzzer starts from.
pub struct Context {
    model: Arc<Model>,
    circuit: PolicyCircuit,
    seeds: Vec<(Target, Vec<u8>)>,
}

fn read(path: impl AsRef<Path>) -> anyhow::Result<Vec<u8>> {
    let path = path.as_ref();
    std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

impl Context {
    /// The default model, and a seed file per target: the bundled files, a real proof
    /// artifact, a deployment record, and a small development SRS.
    pub fn new() -> anyhow::Result<Self> {
        let models = models_dir();
        let model = Arc::new(Model::load(models.join("tokenomics-policy.json"))?);
        let circuit = PolicyCircuit::new(model.clone())?;
        let params = srs::dev_params_insecure(circuit.shape().k);
        let pk = keys::keygen(&params, &circuit)?;
        let kpis = QuantizedKpis::random(&model, &mut ChaCha20Rng::seed_from_u64(3));
        let (public, bytes) = proof::prove(&params, &pk, &circuit, &kpis, 7, ChaCha20Rng::seed_from_u64(4))?;
        let artifact = serde_json::to_vec_pretty(&ProofArtifact::new(&circuit, &public, &bytes)?)?;
        let deployment = serde_json::to_vec_pretty(&serde_json::json!({
            "format": "zkpolicy-deployment",
            "chain_id": 31337,
            "model": model.name(),
            "model_commitment": model.commitment().to_string(),
            "srs": "dev",
            "insecure_dev_srs": true,
            "deployer": "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
            "verifier": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
            "kpi_source": "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
            "controller": "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0",
            "parameters": ["emission_rate_bps", "staking_reward_bps", "burn_rate_bps", "fee_bps"],
            "block": 3,
            "gas": {"verifier": 1488491, "kpi_source": 400895, "controller": 2341956},
        }))?;
        let mut srs_bytes = Vec::new();
        srs::dev_params_insecure(4).write_custom(&mut srs_bytes, halo2_proofs::SerdeFormat::RawBytes)?;
        let seeds = vec![
            (Target::Model, read(models.join("tokenomics-policy.json"))?),
            (Target::Model, read(models.join("trained-policy.json"))?),
            (Target::KpiSnapshot, read(models.join("kpis-sample.json"))?),
            (Target::ProofArtifact, artifact),
            (Target::Deployment, deployment),
            (Target::DeployConfig, read(models.join("tokenomics-deployment.json"))?),
            (Target::Calibration, read(models.join("fixtures/calibration-tokenomics.jsonl"))?),
            (Target::Onnx, read(models.join("fixtures/policy-8-16-4.onnx"))?),
            (Target::Onnx, read(models.join("fixtures/policy-8-16-4-matmul.onnx"))?),
            (Target::Srs, srs_bytes),
            (Target::VerifyingKey, serde_json::to_vec_pretty(&VerifyingKeyFile::new(&circuit, &params, pk.get_vk()))?),
        ];
        Ok(Self { model, circuit, seeds })
    }

    pub fn seeds(&self, target: Target) -> Vec<&[u8]> {
        self.seeds.iter().filter(|(t, _)| *t == target).map(|(_, b)| b.as_slice()).collect()
    }

    /// Runs one input through `target`. `Ok(true)`: accepted; `Ok(false)`: refused with an
    /// error; `Err`: an accepted value broke the target's invariant.
    pub fn run(&self, target: Target, input: &[u8]) -> Result<bool, String> {
        let path = Path::new("fuzz-input");
        let text = || std::str::from_utf8(input).ok();
        Ok(match target {
            Target::Model => match text().map(Model::from_json) {
                Some(Ok(model)) => {
                    // The commitment is of the canonical form, so it survives a round trip.
                    let again = serde_json::to_string(model.file()).map_err(|e| e.to_string())?;
                    let reparsed = Model::from_json(&again).map_err(|e| format!("a valid model does not re-parse: {e}"))?;
                    if reparsed.commitment() != model.commitment() {
                        return Err("the commitment changed over a round trip".into());
                    }
                    true
                }
                _ => false,
            },
            Target::KpiSnapshot => match text().map(|t| KpiSnapshot::from_json(t).and_then(|s| s.quantize(self.model.card()))) {
                Some(Ok(kpis)) => {
                    QuantizedKpis::new(self.model.card(), kpis.values().to_vec())
                        .map_err(|e| format!("quantized KPIs out of range: {e}"))?;
                    true
                }
                _ => false,
            },
            Target::ProofArtifact => match ProofArtifact::from_json(input, path) {
                Ok(artifact) => {
                    let claim = artifact.public_inputs(self.circuit.model().card(), self.circuit.shape().k);
                    let bytes = artifact.proof_bytes();
                    if let Ok(public) = &claim {
                        let again = zkpolicy_circuits::PublicInputs::checked(
                            self.model.card(),
                            public.epoch,
                            public.kpis.to_vec(),
                            public.parameters.clone(),
                            public.outputs.clone(),
                        );
                        again.map_err(|e| format!("an accepted claim fails the encoding rule: {e}"))?;
                    }
                    claim.is_ok() && bytes.is_ok()
                }
                Err(_) => false,
            },
            Target::Deployment => Deployment::from_json(input, path).is_ok(),
            Target::DeployConfig => DeployConfig::from_json(input, path).and_then(|c| c.validate(self.model.card())).is_ok(),
            Target::Calibration => {
                let names: Vec<&str> = self.model.file().inputs.iter().map(|i| i.name.as_str()).collect();
                match text().map(|t| quantize::parse_calibration_jsonl(t, path, &names)) {
                    Some(Ok(rows)) => {
                        if rows.iter().any(|r| r.len() != names.len() || r.iter().any(|v| !v.is_finite())) {
                            return Err("an accepted calibration row is not one finite value per input".into());
                        }
                        true
                    }
                    _ => false,
                }
            }
            Target::Onnx => match onnx::from_onnx_bytes(input) {
                Ok(policy) => {
                    let _ = policy.check_output_bounds(&self.model.file().outputs);
                    true
                }
                Err(_) => false,
            },
            Target::Srs => srs::from_bytes(input, 4, path).is_ok(),
            Target::VerifyingKey => match PublishedKey::from_json(input, path) {
                Ok(key) => {
                    // What halo2 read is exactly what the file holds: it writes back the same bytes.
                    let held = hex::decode(&key.file.verifying_key[2..]).map_err(|e| e.to_string())?;
                    if key.vk.to_bytes(halo2_proofs::SerdeFormat::RawBytes) != held {
                        return Err("an accepted key does not write back as the bytes it was read from".into());
                    }
                    if key.vk.get_domain().k() != key.k() {
                        return Err("an accepted key's domain is not the file's k".into());
                    }
                    true
                }
                Err(_) => false,
            },
        })
    }
}

/// A fuzzing campaign's findings for one target.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub executions: u64,
    pub accepted: u64,
    /// Inputs that panicked (hex) with the panic message.
    pub panics: Vec<(String, String)>,
    /// Accepted inputs that broke the target's invariant.
    pub broken: Vec<(String, String)>,
    pub slowest: Duration,
    /// The slowest input's length and first bytes (hex).
    pub slowest_input: (usize, String),
    pub elapsed: Duration,
}

/// The mutation engine, seeded.
pub struct Fuzzer {
    rng: ChaCha20Rng,
}

impl Fuzzer {
    pub fn new(seed: u64) -> Self {
        Self { rng: ChaCha20Rng::seed_from_u64(seed) }
    }

    /// Runs `executions` mutated inputs through `target`.
    pub fn campaign(&mut self, context: &Context, target: Target, executions: u64) -> Report {
        let seeds = context.seeds(target);
        let trees: Vec<Option<Value>> =
            seeds.iter().map(|s| if target.is_json() { serde_json::from_slice(s).ok() } else { None }).collect();
        let mut report = Report::default();
        let started = Instant::now();
        for _ in 0..executions {
            let pick = self.rng.gen_range(0..seeds.len());
            let input = match &trees[pick] {
                Some(tree) if self.rng.gen_bool(0.8) => self.mutate_json(tree),
                None if target == Target::Calibration && self.rng.gen_bool(0.8) => self.mutate_line(seeds[pick]),
                _ => self.mutate_bytes(seeds[pick]),
            };
            let at = Instant::now();
            let outcome = catch_unwind(AssertUnwindSafe(|| context.run(target, &input)));
            if at.elapsed() > report.slowest {
                report.slowest = at.elapsed();
                report.slowest_input = (input.len(), hex::encode(&input[..input.len().min(128)]));
            }
            report.executions += 1;
            match outcome {
                Ok(Ok(true)) => report.accepted += 1,
                Ok(Ok(false)) => {}
                Ok(Err(why)) => report.broken.push((hex::encode(&input), why)),
                Err(panic) => {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    report.panics.push((hex::encode(&input), message));
                }
            }
        }
        report.elapsed = started.elapsed();
        report
    }

    /// The tree with one to four nodes replaced, dropped or duplicated, serialized (and,
    /// sometimes, with a key written twice or its bytes mutated too).
    fn mutate_json(&mut self, tree: &Value) -> Vec<u8> {
        let mut tree = tree.clone();
        for _ in 0..self.rng.gen_range(1..=4) {
            let nodes = count(&tree);
            if nodes > 400_000 {
                break;
            }
            let target = self.rng.gen_range(0..nodes);
            let mut index = 0;
            self.mutate_node(&mut tree, target, &mut index);
        }
        // Pretty-printed like the bundled files when small (indentation grows with nesting depth).
        let mut text = serde_json::to_vec(&tree).unwrap_or_default();
        if text.len() < 100_000 && depth(&tree) < 32 && self.rng.gen_bool(0.5) {
            text = serde_json::to_vec_pretty(&tree).unwrap_or_default();
        }
        if self.rng.gen_bool(0.05) {
            text = duplicate_first_key(&text);
        }
        if self.rng.gen_bool(0.1) {
            text = self.mutate_bytes(&text);
        }
        text
    }

    /// JSON lines with one line mutated as a tree (or dropped, or doubled).
    fn mutate_line(&mut self, input: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(input);
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.is_empty() {
            return self.mutate_bytes(input);
        }
        let i = self.rng.gen_range(0..lines.len());
        match self.rng.gen_range(0..10) {
            0 => {
                lines.remove(i);
            }
            1 => lines.insert(i, lines[i].clone()),
            _ => {
                if let Ok(tree) = serde_json::from_str::<Value>(&lines[i]) {
                    let mutated = self.mutate_json(&tree);
                    lines[i] = String::from_utf8_lossy(&mutated).replace('\n', " ");
                }
            }
        }
        (lines.join("\n") + "\n").into_bytes()
    }

    fn mutate_node(&mut self, node: &mut Value, target: usize, index: &mut usize) {
        if *index == target {
            *index += 1;
            self.replace(node);
            return;
        }
        *index += 1;
        match node {
            Value::Array(items) => {
                for item in items {
                    self.mutate_node(item, target, index);
                }
            }
            Value::Object(map) => {
                for (_, item) in map.iter_mut() {
                    self.mutate_node(item, target, index);
                }
            }
            _ => {}
        }
    }

    fn replace(&mut self, node: &mut Value) {
        let rng = &mut self.rng;
        match (rng.gen_range(0..14), node) {
            (0, Value::Object(map)) if !map.is_empty() => {
                let key = map.keys().nth(rng.gen_range(0..map.len())).cloned().unwrap_or_default();
                map.remove(&key);
            }
            (1, Value::Object(map)) => {
                map.insert(format!("unknown_{}", rng.gen::<u16>()), Value::from(1));
            }
            (2, Value::Array(items)) if !items.is_empty() => {
                let i = rng.gen_range(0..items.len());
                items.remove(i);
            }
            (3, Value::Array(items)) if !items.is_empty() => {
                // Repeat an element, adding at most ~200,000 values and 1 MB.
                let i = rng.gen_range(0..items.len());
                let copy = items[i].clone();
                let bytes = serde_json::to_vec(&copy).map_or(1, |b| b.len().max(1));
                let times = [1, 2, 100, 10_000][rng.gen_range(0..4)].min(200_000 / count(&copy).max(1)).min((1 << 20) / bytes);
                items.extend(std::iter::repeat_n(copy, times));
            }
            (4, node) => *node = Value::Null,
            (5, node) => *node = Value::Bool(rng.gen()),
            (6, node) => *node = Value::String(["", "x", "NaN", "-Infinity", "0x", "é\u{0}", "1e400"][rng.gen_range(0..7)].into()),
            (7, node) => *node = Value::String("A".repeat(rng.gen_range(0..100_000))),
            (8, node) => {
                let ints: [i128; 12] =
                    [0, 1, -1, 255, 256, 65_535, 65_536, i64::MAX as i128, i64::MIN as i128, u64::MAX as i128, 1 << 40, -(1 << 40)];
                let v = ints[rng.gen_range(0..ints.len())];
                *node = i64::try_from(v).map(Value::from).unwrap_or_else(|_| Value::from(v as u64));
            }
            (9, node) => {
                let floats = [0.5, -0.0, 1e-308, 1e308, -1e308, 2f64.powi(53) + 1.0, 0.1, 3.999_999_999, f64::EPSILON];
                *node = Number::from_f64(floats[rng.gen_range(0..floats.len())]).map_or(Value::Null, Value::Number);
            }
            (10, node) => *node = Value::Array(vec![]),
            (11, node) => *node = Value::Object(Map::new()),
            (12, node) => {
                // Deep nesting: past serde_json's recursion limit half the time.
                let depth = [10, 127, 129, 1_000][rng.gen_range(0..4)];
                *node = (0..depth).fold(Value::from(0), |inner, _| Value::Array(vec![inner]));
            }
            (_, Value::Number(n)) => {
                // Nudge a number: ±1, negated, scaled.
                let f = n.as_f64().unwrap_or(0.0);
                let nudged = [f + 1.0, f - 1.0, -f, f * 1e6, f / 3.0][rng.gen_range(0..5)];
                *n = n
                    .as_i64()
                    .map(|i| Number::from(i.wrapping_add([1, -1][rng.gen_range(0..2)])))
                    .unwrap_or_else(|| Number::from_f64(nudged).unwrap_or_else(|| Number::from(0)));
            }
            (_, node) => *node = Value::from(rng.gen::<i32>()),
        }
    }

    /// Byte-level mutations: bit flips, random bytes, insertions, deletions, repetition,
    /// truncation, and protobuf-looking varints.
    pub fn mutate_bytes(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        for _ in 0..self.rng.gen_range(1..=4) {
            let len = out.len();
            let at = if len == 0 { 0 } else { self.rng.gen_range(0..len) };
            match self.rng.gen_range(0..8) {
                0 if len > 0 => out[at] ^= 1 << self.rng.gen_range(0..8),
                1 if len > 0 => out[at] = self.rng.gen(),
                2 => {
                    let bytes: Vec<u8> = (0..self.rng.gen_range(1..16)).map(|_| self.rng.gen()).collect();
                    out.splice(at..at, bytes);
                }
                3 if len > 0 => {
                    let end = (at + self.rng.gen_range(1..64)).min(len);
                    out.drain(at..end);
                }
                4 if len > 0 => {
                    let end = (at + self.rng.gen_range(1..64)).min(len);
                    let chunk = out[at..end].to_vec();
                    for _ in 0..self.rng.gen_range(1..50) {
                        out.splice(at..at, chunk.iter().copied());
                    }
                }
                5 => out.truncate(at),
                6 => {
                    // A varint of an extreme value (protobuf lengths and tags).
                    let v: u64 = [0, 1, 127, 128, u32::MAX as u64, u64::MAX, 1 << 31][self.rng.gen_range(0..7)];
                    let mut varint = vec![];
                    let mut x = v;
                    loop {
                        let byte = (x & 0x7f) as u8;
                        x >>= 7;
                        if x == 0 {
                            varint.push(byte);
                            break;
                        }
                        varint.push(byte | 0x80);
                    }
                    out.splice(at..at, varint);
                }
                _ if len > 0 => {
                    let interesting = [0u8, 0xff, 0x7f, 0x80, b'{', b'"', b'\n', b'9'];
                    out[at] = interesting[self.rng.gen_range(0..interesting.len())];
                }
                _ => out.push(self.rng.gen()),
            }
        }
        out
    }
}

fn depth(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// The text with its first object member written twice (`{"a": 1, …}` → `{"a": 1, "a": 1, …}`).
fn duplicate_first_key(text: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(text);
    let Some(open) = s.find('{') else { return text.to_vec() };
    let rest = &s[open + 1..];
    let Some(end) = rest.find([',', '}']) else { return text.to_vec() };
    let member = rest[..end].trim();
    if member.is_empty() {
        return text.to_vec();
    }
    format!("{}{{{member}, {}", &s[..open], rest.trim_start()).into_bytes()
}
