//! Evolution-strategies training of a [`FloatPolicy`] on the simulator.
//!
//! OpenAI-ES (Salimans et al., 2017) with antithetic sampling, centered-rank
//! fitness shaping and Adam:
//!
//! ```text
//! ε_k ~ N(0, I),  k < P/2                     (P = population, even)
//! F_{2k} = F(θ + σ·ε_k),  F_{2k+1} = F(θ − σ·ε_k)
//! u_i   = rank(F_i) / (P − 1) − 1/2           (ties broken by index)
//! g     = Σ_k (u_{2k} − u_{2k+1})·ε_k / (P·σ)
//! θ    ← θ + Adam(g)
//! ```
//!
//! `θ` is the policy's flat parameter vector divided by a per-parameter scale
//! (first-layer weights by `2/span` of their KPI, output rows by their output
//! bound in bps), so one `σ` fits KPIs in years and in fractions alike.
//!
//! The fitness `F` of a policy is the mean episode reward over every
//! (scenario, seed) pair of the config, where (see [`crate::sim::reward`])
//!
//! ```text
//! r_t = − w_p·|price_vs_target| − w_σ·volatility_30d − w_s·dist(staking_ratio, [0.45, 0.60])
//!       − w_L·max(0, 1 − liquidity_depth/0.08) − w_R·max(0, 1 − treasury_runway/1.5) − w_h·hits_t
//! ```
//!
//! on the KPIs after each epoch, with defaults `w_p = 2`, `w_σ = 1`, `w_s = 4`,
//! `w_L = 0.5`, `w_R = 1` and `w_h = 0.2` per parameter that hit a guardrail.
//!
//! Determinism: the noise is drawn from one ChaCha20 stream on the calling
//! thread; member evaluations run on rayon's current pool and are collected in
//! index order, so the result does not depend on the number of threads.

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use ndarray::{Array1, Array2};

use crate::float::{FloatLayer, FloatPolicy};
use crate::quantize::{quantize, IoSpec, QuantizeOptions, Quantized};
use crate::sim::guardrails::{parameter_inputs, PARAMETER_COUNT};
use crate::sim::kpis::{kpi_ranges, KPI_COUNT};
use crate::sim::policy::output_bounds;
use crate::sim::{simulate, standard_normal, FloatController, RewardConfig, Scenario, ScenarioKind, SimConfig};
use crate::LabError;
use zkpolicy_model::format::Activation;

/// Everything a training run needs besides the initial policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Gradient steps; the policy is scored once more after the last one.
    pub generations: usize,
    /// Members per generation: even, at least 2 (antithetic pairs).
    pub population: usize,
    /// Std of the parameter noise, in scaled units.
    pub sigma: f64,
    /// Adam step size, in scaled units.
    pub learning_rate: f64,
    /// Seeds the parameter noise.
    pub seed: u64,
    /// Epochs per episode (after the simulator's warm-up).
    pub epochs_per_episode: usize,
    /// Each member runs every scenario with every seed.
    pub scenarios: Vec<ScenarioKind>,
    /// The scenario seeds each member is scored on, with every scenario.
    pub episode_seeds: Vec<u64>,
    /// The simulator every episode runs in.
    pub sim: SimConfig,
    /// The per-epoch reward whose episode mean is the fitness.
    pub reward: RewardConfig,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            generations: 60,
            population: 32,
            sigma: 0.05,
            learning_rate: 0.02,
            seed: 0,
            epochs_per_episode: 180,
            scenarios: ScenarioKind::ALL.to_vec(),
            episode_seeds: vec![1_000, 2_000],
            sim: SimConfig::default(),
            reward: RewardConfig::default(),
        }
    }
}

impl TrainConfig {
    /// Refuses settings the search cannot run: an odd or tiny population, a non-positive
    /// `sigma` or learning rate, zero epochs, or no scenario or seed. [`train`] calls it first.
    pub fn validate(&self) -> Result<(), LabError> {
        let bad = |field: &str, reason: String| Err(LabError::config("training", field, reason));
        if self.population < 2 || self.population % 2 == 1 {
            return bad("population", format!("must be even and at least 2 (antithetic pairs), got {}", self.population));
        }
        if !(self.sigma.is_finite() && self.sigma > 0.0) {
            return bad("sigma", format!("must be finite and positive, got {}", self.sigma));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad("learning_rate", format!("must be finite and positive, got {}", self.learning_rate));
        }
        if self.epochs_per_episode == 0 {
            return bad("epochs_per_episode", "must be at least 1".into());
        }
        if self.scenarios.is_empty() || self.episode_seeds.is_empty() {
            return bad("scenarios", "needs at least one scenario and one episode seed".into());
        }
        Ok(())
    }

    /// The (scenario, seed) grid every member is scored on.
    pub fn episodes(&self) -> Vec<Scenario> {
        self.scenarios
            .iter()
            .flat_map(|&kind| self.episode_seeds.iter().map(move |&seed| Scenario::new(kind, seed, self.epochs_per_episode)))
            .collect()
    }
}

/// One generation of the log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GenerationStats {
    /// 0-based index of the generation.
    pub generation: usize,
    /// Mean fitness of the perturbed members.
    pub mean_reward: f64,
    /// Best fitness among the perturbed members.
    pub best_reward: f64,
    /// Fitness of the unperturbed policy this generation started from.
    pub center_reward: f64,
}

/// The outcome of [`train`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainResult {
    /// The unperturbed policy with the highest fitness seen (the initial one included).
    pub best: FloatPolicy,
    /// The fitness of `best`: its mean episode reward.
    pub best_reward: f64,
    /// The fitness of the initial policy, to compare `best_reward` with.
    pub initial_reward: f64,
    /// One entry per generation, in order (also passed to `on_generation` as it runs).
    pub log: Vec<GenerationStats>,
}

/// The real range of each input of a policy `width` inputs wide: the KPIs' declared
/// ranges, then (for a parameter-aware policy) the parameters' as the network sees them.
fn input_ranges(width: usize) -> Vec<(f64, f64)> {
    let mut ranges = kpi_ranges();
    if width > KPI_COUNT {
        ranges.extend(parameter_inputs().iter().map(|p| (p.real(p.min), p.real(p.max))));
    }
    ranges
}

/// A seeded `8 → hidden… → 4` policy: hidden layers relu with He-scaled weights
/// on inputs centred and scaled to `[−1, 1]`, and a zero output layer, so the
/// search starts from the static schedule (every delta 0) with random features.
/// (Random small outputs would instead drift the parameters by their bias every epoch.)
pub fn init_policy(hidden: &[usize], seed: u64) -> FloatPolicy {
    init_policy_reading(hidden, seed, false)
}

/// [`init_policy`], reading the four parameters after the KPIs when `parameters` is set
/// (`12 → hidden… → 4`).
pub fn init_policy_reading(hidden: &[usize], seed: u64, parameters: bool) -> FloatPolicy {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let width = if parameters { KPI_COUNT + PARAMETER_COUNT } else { KPI_COUNT };
    let ranges = input_ranges(width);
    let dims: Vec<usize> = std::iter::once(width).chain(hidden.iter().copied()).chain([PARAMETER_COUNT]).collect();
    let last = dims.len() - 2;
    let layers = dims
        .windows(2)
        .enumerate()
        .map(|(l, d)| {
            let gain = if l == last { 0.0 } else { (2.0 / d[0] as f64).sqrt() };
            let mut weights: Vec<Vec<f64>> = (0..d[1]).map(|_| (0..d[0]).map(|_| gain * standard_normal(&mut rng)).collect()).collect();
            let mut bias = vec![0.0; d[1]];
            if l == 0 {
                // w·(x − mid)/(span/2) = (2w/span)·x − Σ 2w·mid/span
                for (row, b) in weights.iter_mut().zip(&mut bias) {
                    for (w, &(lo, hi)) in row.iter_mut().zip(&ranges) {
                        *w *= 2.0 / (hi - lo);
                        *b -= *w * (lo + hi) / 2.0;
                    }
                }
            }
            let activation = if l == last { Activation::None } else { Activation::Relu };
            FloatLayer { weights, bias, activation }
        })
        .collect();
    FloatPolicy { layers }
}

/// Per-parameter scale in [`FloatPolicy::to_flat`] order: `2/span_i` for
/// first-layer weights of input `i`, times the output bound for output rows.
fn parameter_scales(policy: &FloatPolicy) -> Vec<f64> {
    let ranges = input_ranges(policy.inputs());
    let bounds = output_bounds();
    let last = policy.layers.len().saturating_sub(1);
    let mut scales = Vec::with_capacity(policy.parameter_count());
    for (l, layer) in policy.layers.iter().enumerate() {
        let row_scale = |j: usize| if l == last { bounds.get(j).map_or(1.0, |&(lo, hi)| hi.max(-lo)) } else { 1.0 };
        for (j, row) in layer.weights.iter().enumerate() {
            for i in 0..row.len() {
                let input_scale = if l == 0 { ranges.get(i).map_or(1.0, |&(lo, hi)| 2.0 / (hi - lo)) } else { 1.0 };
                scales.push(input_scale * row_scale(j));
            }
        }
        scales.extend((0..layer.bias.len()).map(row_scale));
    }
    scales
}

/// Mean episode reward of `policy` over `episodes`.
pub fn evaluate(policy: &FloatPolicy, episodes: &[Scenario], sim: &SimConfig, reward: &RewardConfig) -> Result<f64, LabError> {
    let controller = FloatController::new("candidate", policy.clone())?;
    let total =
        episodes.iter().try_fold(0.0, |acc, scenario| simulate(&controller, scenario, sim).map(|t| acc + reward.episode_reward(&t)))?;
    Ok(total / episodes.len().max(1) as f64)
}

/// Centered ranks in `[−1/2, 1/2]`, ties broken by index.
fn centered_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let denominator = values.len().saturating_sub(1).max(1) as f64;
    let mut ranks = vec![0.0; values.len()];
    for (rank, &i) in order.iter().enumerate() {
        ranks[i] = rank as f64 / denominator - 0.5;
    }
    ranks
}

/// Adam (Kingma & Ba) for gradient ascent.
struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    const BETA1: f64 = 0.9;
    const BETA2: f64 = 0.999;
    const EPSILON: f64 = 1e-8;

    fn new(n: usize) -> Self {
        Self { m: vec![0.0; n], v: vec![0.0; n], t: 0 }
    }

    /// `θ ← θ + lr · m̂ / (√v̂ + ε)`.
    fn ascend(&mut self, theta: &mut [f64], gradient: &[f64], lr: f64) {
        self.t += 1;
        let (c1, c2) = (1.0 - Self::BETA1.powi(self.t), 1.0 - Self::BETA2.powi(self.t));
        for (((x, g), m), v) in theta.iter_mut().zip(gradient).zip(&mut self.m).zip(&mut self.v) {
            *m = Self::BETA1 * *m + (1.0 - Self::BETA1) * g;
            *v = Self::BETA2 * *v + (1.0 - Self::BETA2) * g * g;
            *x += lr * (*m / c1) / ((*v / c2).sqrt() + Self::EPSILON);
        }
    }
}

/// Trains from `initial`; `on_generation` sees each generation's stats as it ends.
pub fn train(
    initial: &FloatPolicy,
    config: &TrainConfig,
    mut on_generation: impl FnMut(&GenerationStats),
) -> Result<TrainResult, LabError> {
    config.validate()?;
    FloatController::new("initial", initial.clone())?;
    let episodes = config.episodes();
    let scales = parameter_scales(initial);
    let unscale = |theta: &[f64]| initial.with_flat(&theta.iter().zip(&scales).map(|(t, s)| t * s).collect::<Vec<_>>());
    let mut theta: Array1<f64> = initial.to_flat().iter().zip(&scales).map(|(w, s)| w / s).collect();
    let mut rng = ChaCha20Rng::seed_from_u64(config.seed);
    let mut adam = Adam::new(theta.len());
    let (pairs, sigma) = (config.population / 2, config.sigma);
    let mut best: Option<(FloatPolicy, f64)> = None;
    let mut initial_reward = None;
    let mut log = Vec::with_capacity(config.generations);
    for generation in 0..=config.generations {
        // One row of noise ε_k per antithetic pair, drawn row by row.
        let rows = if generation < config.generations { pairs } else { 0 };
        let noise = Array2::from_shape_simple_fn((rows, theta.len()), || standard_normal(&mut rng));
        // Member i < P perturbs by ±σ·ε_{i/2}; member P is the centre.
        let candidate = |i: usize| -> Vec<f64> {
            if i < config.population && i / 2 < rows {
                let sign = [sigma, -sigma][i % 2];
                (&theta + &noise.row(i / 2).mapv(|e| sign * e)).to_vec()
            } else {
                theta.to_vec()
            }
        };
        let members = if rows == 0 { 0 } else { config.population };
        let fitness = evaluate_all(members + 1, &candidate, &unscale, &episodes, config)?;
        let center_reward = fitness[members];
        initial_reward.get_or_insert(center_reward);
        if best.as_ref().is_none_or(|(_, r)| center_reward > *r) {
            best = Some((unscale(theta.as_slice().expect("contiguous")), center_reward));
        }
        if members == 0 {
            break;
        }
        let members_fitness = &fitness[..members];
        let stats = GenerationStats {
            generation,
            mean_reward: members_fitness.iter().sum::<f64>() / members as f64,
            best_reward: members_fitness.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            center_reward,
        };
        let shaped = centered_ranks(members_fitness);
        // g = Σ_k w_k ε_k with w_k = (rank⁺ − rank⁻) / (P σ): one product, Nᵀ·w.
        let weights = Array1::from_shape_fn(rows, |k| (shaped[2 * k] - shaped[2 * k + 1]) / (config.population as f64 * sigma));
        let gradient = noise.t().dot(&weights);
        adam.ascend(theta.as_slice_mut().expect("contiguous"), gradient.as_slice().expect("contiguous"), config.learning_rate);
        on_generation(&stats);
        log.push(stats);
    }
    let (best, best_reward) = best.unwrap_or_else(|| (initial.clone(), f64::NEG_INFINITY));
    Ok(TrainResult { best, best_reward, initial_reward: initial_reward.unwrap_or(best_reward), log })
}

/// Fitness of candidates `0..count`, every (candidate, episode) pair in parallel,
/// summed per candidate in episode order.
fn evaluate_all(
    count: usize,
    candidate: &dyn Fn(usize) -> Vec<f64>,
    unscale: &dyn Fn(&[f64]) -> FloatPolicy,
    episodes: &[Scenario],
    config: &TrainConfig,
) -> Result<Vec<f64>, LabError> {
    let policies: Vec<FloatController> =
        (0..count).map(|i| FloatController::new("candidate", unscale(&candidate(i)))).collect::<Result<_, _>>()?;
    let per_episode: Vec<f64> = (0..count * episodes.len())
        .into_par_iter()
        .map(|task| {
            let (member, episode) = (task / episodes.len(), task % episodes.len());
            simulate(&policies[member], &episodes[episode], &config.sim).map(|t| config.reward.episode_reward(&t))
        })
        .collect::<Result<_, _>>()?;
    Ok(per_episode.chunks(episodes.len()).map(|c| c.iter().sum::<f64>() / episodes.len() as f64).collect())
}

/// A trained float policy and its integer model.
#[derive(Clone, Debug)]
pub struct TrainedModel {
    /// The training run: the best float policy, its fitness and the log.
    pub result: TrainResult,
    /// The best policy quantized for the IO spec, with its error report.
    pub quantized: Quantized,
}

/// Trains an `8 → hidden… → 4` policy from [`init_policy`]`(hidden, seed)` (or, when `io`
/// declares parameter inputs, a `12 → hidden… → 4` one that also reads the parameters),
/// then quantizes the best one for `io`, calibrated on the inputs it meets itself in
/// every training episode (the distribution it will be proven on).
pub fn train_and_quantize(
    hidden: &[usize],
    seed: u64,
    config: &TrainConfig,
    io: &IoSpec,
    options: &QuantizeOptions,
    on_generation: impl FnMut(&GenerationStats),
) -> Result<TrainedModel, LabError> {
    if hidden.is_empty() || hidden.contains(&0) {
        return Err(LabError::config("training", "hidden", format!("needs at least one non-empty hidden layer, got {hidden:?}")));
    }
    let reads = !io.parameters.is_empty();
    let result = train(&init_policy_reading(hidden, seed, reads), config, on_generation)?;
    let controller = FloatController::new("trained", result.best.clone())?;
    let mut calibration = Vec::new();
    for scenario in config.episodes() {
        // The KPIs, then (for a model that reads them) the parameters the epoch started from.
        calibration.extend(simulate(&controller, &scenario, &config.sim)?.epochs.into_iter().map(|e| {
            let params = e.params_before.iter().zip(&io.parameters).map(|(&p, spec)| spec.real(p));
            e.kpis.iter().copied().chain(params).collect::<Vec<f64>>()
        }));
    }
    let quantized = quantize(&result.best, io, &calibration, options)?;
    Ok(TrainedModel { result, quantized })
}

/// The bundled `models/trained-policy.json` (and its float twin): the default training
/// config, one hidden layer of 16, seed 0, in the default model's IO plus the four
/// parameters ([`parameter_inputs`]), so the policy sees where the parameters stand.
/// `cargo run -p zkpolicy-lab --example render_bundled` writes it; a test keeps the
/// committed files equal to a fresh run.
pub fn bundled_trained_policy() -> Result<TrainedModel, LabError> {
    let mut io = IoSpec::of_model(&crate::synth::tokenomics_policy());
    io.parameters = parameter_inputs();
    bundled_training("trained-policy", "the KPIs and the controller's current parameters", &io)
}

/// `models/trained-policy-kpi.json`: the same training on the KPIs alone (the policy
/// before parameters were public inputs), kept as the baseline the backtest compares with.
pub fn bundled_kpi_only_policy() -> Result<TrainedModel, LabError> {
    let io = IoSpec::of_model(&crate::synth::tokenomics_policy());
    bundled_training("trained-policy-kpi", "the KPIs alone", &io)
}

fn bundled_training(name: &str, reads: &str, io: &IoSpec) -> Result<TrainedModel, LabError> {
    let config = TrainConfig::default();
    let mut options = QuantizeOptions::new(name);
    options.description = format!(
        "Trained in the zkpolicy tokenomics simulator (ES: {} generations x {} members, {} scenarios x {} seeds x {} epochs, seed 0) \
         on {reads}, quantized on the inputs it meets there. Outputs are per-epoch parameter deltas in bps.",
        config.generations,
        config.population,
        config.scenarios.len(),
        config.episode_seeds.len(),
        config.epochs_per_episode
    );
    train_and_quantize(&[16], 0, &config, io, &options, |_| {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centered_ranks_are_symmetric_and_break_ties_by_index() {
        assert_eq!(centered_ranks(&[3.0, -1.0, 10.0]), vec![0.0, -0.5, 0.5]);
        assert_eq!(centered_ranks(&[1.0, 1.0]), vec![-0.5, 0.5]);
    }

    #[test]
    fn scales_follow_the_flat_layout() {
        let policy = init_policy(&[3], 1);
        let scales = parameter_scales(&policy);
        assert_eq!(scales.len(), policy.parameter_count());
        // First weight: staking_ratio spans [0, 1] → 2. First output row: emission bound 50.
        assert_eq!(scales[0], 2.0);
        assert_eq!(scales[8 * 3 + 3], 50.0);
        // treasury_runway spans [0, 8] → 0.25.
        assert_eq!(scales[6], 0.25);
    }

    #[test]
    fn bad_configs_are_rejected() {
        let policy = init_policy(&[4], 1);
        let config = TrainConfig { population: 3, ..TrainConfig::default() };
        assert!(matches!(train(&policy, &config, |_| {}), Err(LabError::InvalidConfig { field, .. }) if field == "population"));
        let config = TrainConfig { sigma: f64::NAN, ..TrainConfig::default() };
        assert!(matches!(train(&policy, &config, |_| {}), Err(LabError::InvalidConfig { field, .. }) if field == "sigma"));
        let narrow = FloatPolicy { layers: vec![] };
        assert!(matches!(train(&narrow, &TrainConfig::default(), |_| {}), Err(LabError::WrongCount { .. })));
    }
}
