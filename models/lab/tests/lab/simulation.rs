//! The simulator, the ES trainer and the backtest, end to end.

use std::path::Path;

use serde_json::Value;
use zkpolicy_lab::backtest::{backtest, compare};
use zkpolicy_lab::float::{FloatLayer, FloatPolicy};
use zkpolicy_lab::sim::guardrails::{BURN_RATE, EMISSION_RATE};
use zkpolicy_lab::sim::kpis::{KPI_NAMES, PRICE_VS_TARGET};
use zkpolicy_lab::sim::{
    deployment_guardrails, simulate, FloatController, IntegerPolicy, Policy, RewardConfig, RuleBased, Scenario, ScenarioKind, SimConfig,
    StaticPolicy, Trajectory,
};
use zkpolicy_lab::train::{evaluate, init_policy, train, TrainConfig, TrainResult};
use zkpolicy_model::{infer, Activation, KpiSnapshot, Model, QuantizedKpis};

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn default_model() -> Model {
    Model::load(dir().join("tokenomics-policy.json")).expect("bundled model loads")
}

fn integer_policy() -> IntegerPolicy {
    IntegerPolicy::new(default_model()).expect("the default model reads the simulator's KPIs")
}

/// A float policy that ignores its inputs and always proposes `deltas`.
fn constant_policy(deltas: [f64; 4]) -> FloatController {
    let policy =
        FloatPolicy { layers: vec![FloatLayer { weights: vec![vec![0.0; 8]; 4], bias: deltas.to_vec(), activation: Activation::None }] };
    FloatController::new("constant", policy).expect("8 → 4")
}

fn run(policy: &dyn Policy, kind: ScenarioKind, seed: u64, epochs: usize) -> Trajectory {
    simulate(policy, &Scenario::new(kind, seed, epochs), &SimConfig::default()).expect("simulates")
}

#[test]
fn a_seed_fixes_the_trajectory_bit_for_bit() {
    let policy = integer_policy();
    let a = run(&policy, ScenarioKind::Crash, 7, 120);
    let b = run(&policy, ScenarioKind::Crash, 7, 120);
    assert_eq!(a, b);
    let json = |t: &Trajectory| serde_json::to_string(t).expect("serializable");
    assert_eq!(json(&a), json(&b));
    let bits = |t: &Trajectory| t.prices().iter().map(|p| p.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a), bits(&b));
    let other = run(&policy, ScenarioKind::Crash, 8, 120);
    let differing = a.prices().iter().zip(other.prices()).filter(|(x, y)| **x != *y).count();
    assert!(differing > 100, "only {differing} of 120 prices differ between seeds 7 and 8");
}

#[test]
fn kpis_stay_inside_the_declared_ranges_in_every_scenario() {
    let model = default_model();
    let inputs = &model.file().inputs;
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, KPI_NAMES);
    let rule = RuleBased::default();
    let integer = integer_policy();
    // Pushes every parameter to its extreme: the harshest economy the rails allow.
    let extreme = constant_policy([50.0, -100.0, 50.0, 20.0]);
    let policies: [&dyn Policy; 4] = [&StaticPolicy, &rule, &integer, &extreme];
    for intensity in [1.0, 2.0] {
        for mut scenario in Scenario::suite(11, 150) {
            scenario.intensity = intensity;
            for policy in policies {
                let t = simulate(policy, &scenario, &SimConfig::default()).expect("simulates");
                assert_eq!(t.kpi_names, KPI_NAMES);
                for e in &t.epochs {
                    for (k, spec) in inputs.iter().enumerate() {
                        for v in [e.kpis[k], e.outcome_kpis[k]] {
                            assert!(
                                v.is_finite() && v >= spec.min && v <= spec.max,
                                "{} = {v} outside [{}, {}] ({} ×{intensity}, {}, epoch {})",
                                spec.name,
                                spec.min,
                                spec.max,
                                scenario.name(),
                                policy.name(),
                                e.epoch
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn embedded_guardrails_match_the_deployment_file() {
    let text = std::fs::read_to_string(dir().join("tokenomics-deployment.json")).expect("deployment file");
    let file: Value = serde_json::from_str(&text).expect("JSON");
    let params = file["parameters"].as_array().expect("parameters");
    let rails = deployment_guardrails();
    assert_eq!(params.len(), rails.len());
    for (p, g) in params.iter().zip(&rails) {
        assert_eq!(p["name"], g.name.as_str());
        assert_eq!(p["initial"], g.initial);
        assert_eq!(p["min"], g.min);
        assert_eq!(p["max"], g.max);
        assert_eq!(p["max_step"], g.max_step);
    }
}

#[test]
fn every_epoch_applies_the_controller_guard() {
    let rails = deployment_guardrails();
    // Proposals beyond max_step on every parameter: the guard must trim each epoch.
    let t = run(&constant_policy([40.0, -70.0, 30.0, 15.0]), ScenarioKind::Calm, 3, 100);
    for e in &t.epochs {
        for (i, g) in rails.iter().enumerate() {
            let step = e.decision[i].clamp(-g.max_step, g.max_step);
            assert_eq!(e.params[i], (e.params_before[i] + step).clamp(g.min, g.max));
            assert_eq!(e.hits[i], e.params[i] != e.params_before[i] + e.decision[i]);
        }
        assert_eq!(e.hit, e.hits.iter().any(|&h| h));
    }
    assert_eq!(t.hit_count(), 100);
    // Emission climbs 25 bps per epoch from 500 and stops at its 2000 cap.
    assert_eq!(t.epochs[0].params[EMISSION_RATE], 525);
    assert_eq!(t.epochs[99].params[EMISSION_RATE], 2000);
    assert_eq!(t.epochs[99].params[BURN_RATE], 1000);
}

/// With a dead band and a window cap on the rails, the simulator keeps the cap windows
/// across epochs on a one-day clock, as the controller does: emission climbs at most 5 %
/// of its window's start value per week, and fee steps under 10 bps are dropped.
#[test]
fn the_simulator_keeps_the_controllers_cap_windows() {
    let mut config = SimConfig::default();
    let week = 7 * zkpolicy_lab::sim::EPOCH_SECONDS;
    (config.guardrails[EMISSION_RATE].max_change_bps, config.guardrails[EMISSION_RATE].window) = (500, week);
    config.guardrails[3].dead_band = 10;
    let t = simulate(&constant_policy([40.0, 0.0, 0.0, 5.0]), &Scenario::new(ScenarioKind::Calm, 3, 30), &config).expect("simulates");
    let emission: Vec<i64> = t.epochs.iter().map(|e| e.params[EMISSION_RATE]).collect();
    // Weeks start on epochs 0, 7, 14, ...: +25 a day until +5 % of the week's start value.
    assert_eq!(&emission[..9], &[525, 525, 525, 525, 525, 525, 525, 550, 551]);
    for (e, epoch) in t.epochs.iter().enumerate() {
        let anchor = t.epochs[e / 7 * 7].params_before[EMISSION_RATE];
        assert!(epoch.params[EMISSION_RATE] <= anchor + anchor * 5 / 100, "epoch {e}: {emission:?}");
    }
    assert!(emission[29] > 600, "the cap slows emission, it does not freeze it: {emission:?}");
    assert!(t.epochs.iter().all(|e| e.params[3] == 30), "5 bps fee steps fall inside the dead band");
}

#[test]
fn a_crash_sinks_the_price_and_a_demand_surge_lifts_it() {
    for seed in [1, 2, 3] {
        for (kind, check) in [(ScenarioKind::Crash, -1.0), (ScenarioKind::DemandSurge, 1.0)] {
            let t = run(&StaticPolicy, kind, seed, 100);
            let prices = t.prices();
            let before = prices[t.scenario.shock_start - 1];
            let after = &prices[t.scenario.shock_start..];
            if check < 0.0 {
                let low = after.iter().copied().fold(f64::INFINITY, f64::min);
                assert!(low < 0.7 * before, "seed {seed}: crash low {low:.3} vs {before:.3} before");
            } else {
                let high = after.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                assert!(high > 1.3 * before, "seed {seed}: surge high {high:.3} vs {before:.3} before");
            }
        }
    }
}

#[test]
fn the_static_schedule_never_moves_a_parameter() {
    let initial: Vec<i64> = deployment_guardrails().iter().map(|g| g.initial).collect();
    for scenario in Scenario::suite(5, 120) {
        let t = simulate(&StaticPolicy, &scenario, &SimConfig::default()).expect("simulates");
        assert!(t.epochs.iter().all(|e| e.params == initial && e.decision == vec![0; 4] && !e.hit), "{}", scenario.name());
    }
}

#[test]
fn the_rule_based_controller_leans_against_price_deviations() {
    let rule = RuleBased::default();
    let band = rule.config.price_band;
    let mut below = 0;
    for kind in [ScenarioKind::Crash, ScenarioKind::DemandSurge, ScenarioKind::SlowBleed] {
        let t = run(&rule, kind, 4, 120);
        for e in &t.epochs {
            let d = e.kpis[PRICE_VS_TARGET];
            let (emission, burn) = (e.decision[EMISSION_RATE], e.decision[BURN_RATE]);
            if d < -band {
                below += 1;
                assert!(emission <= 0 && burn >= 0, "{kind:?} epoch {}: price {d:.3} but {:?}", e.epoch, e.decision);
            } else if d > band {
                assert!(emission >= 0 && burn <= 0, "{kind:?} epoch {}: price {d:.3} but {:?}", e.epoch, e.decision);
            } else {
                assert_eq!((emission, burn), (0, 0));
            }
        }
    }
    assert!(below > 50, "the scenarios should put the price under the band often, got {below} epochs");
    // After a crash the controller has cut emission and raised the burn.
    let crash = run(&rule, ScenarioKind::Crash, 4, 60);
    let last = &crash.epochs[59].params;
    assert!(last[EMISSION_RATE] < 500 && last[BURN_RATE] > 100, "{last:?}");
}

#[test]
fn integer_model_runs_carry_their_proof_inputs() {
    let model = default_model();
    let t = run(&integer_policy(), ScenarioKind::SlowBleed, 9, 60);
    for e in &t.epochs {
        let q = e.quantized_kpis.clone().expect("the integer model records its quantized KPIs");
        let snapshot = KpiSnapshot::of_kpis(KPI_NAMES.iter().map(|n| n.to_string()).zip(e.kpis.iter().copied()).collect());
        assert_eq!(snapshot.quantize(&model).expect("in range").values(), q.as_slice());
        let outputs = infer(&model, QuantizedKpis::new(&model, q).expect("in range")).expect("infers").outputs;
        assert_eq!(outputs, e.decision);
    }
    assert!(t.epochs.iter().any(|e| e.decision != vec![0; 4]), "the model should act at least once");
    let rule = run(&RuleBased::default(), ScenarioKind::SlowBleed, 9, 10);
    assert!(rule.epochs.iter().all(|e| e.quantized_kpis.is_none()));
}

fn small_training() -> TrainConfig {
    TrainConfig {
        generations: 12,
        population: 8,
        epochs_per_episode: 90,
        scenarios: vec![ScenarioKind::Calm, ScenarioKind::Crash, ScenarioKind::DemandSurge],
        episode_seeds: vec![21],
        seed: 5,
        ..TrainConfig::default()
    }
}

fn train_small() -> TrainResult {
    let mut seen = Vec::new();
    let result = train(&init_policy(&[16], 1), &small_training(), |g| seen.push(g.generation)).expect("trains");
    assert_eq!(seen, (0..12).collect::<Vec<_>>(), "on_generation runs once per generation, in order");
    result
}

#[test]
fn evolution_strategies_improve_on_the_initial_policy() {
    let result = train_small();
    // The initial policy has a zero output layer: it is the static schedule.
    let config = small_training();
    let episodes = config.episodes();
    let initial = evaluate(&init_policy(&[16], 1), &episodes, &config.sim, &config.reward).expect("evaluates");
    let static_reward =
        episodes.iter().map(|s| config.reward.episode_reward(&simulate(&StaticPolicy, s, &config.sim).expect("simulates"))).sum::<f64>()
            / episodes.len() as f64;
    assert_eq!(result.initial_reward, initial);
    assert!((initial - static_reward).abs() < 1e-12);
    let trained = evaluate(&result.best, &episodes, &config.sim, &config.reward).expect("evaluates");
    assert_eq!(trained, result.best_reward);
    let last = result.log.last().expect("logged").center_reward;
    assert!(
        result.best_reward > result.initial_reward + 0.05 && last > result.initial_reward + 0.03,
        "initial {:.4}, best {:.4}, last centre {last:.4}",
        result.initial_reward,
        result.best_reward
    );
}

#[test]
fn training_does_not_depend_on_the_thread_count() {
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        pool.install(train_small)
    };
    assert_eq!(on(1), on(2));
}

#[test]
fn backtests_compare_policies_on_the_suite() {
    let suite = Scenario::suite(31, 90);
    let reward = RewardConfig::default();
    let rule = RuleBased::default();
    let table = compare(&[&StaticPolicy, &rule], &suite, &SimConfig::default(), &reward).expect("backtests");
    assert_eq!(table.rows.len(), 2 * (suite.len() + 1));
    let static_all = &table.rows[suite.len()];
    assert_eq!((static_all.policy.as_str(), static_all.scenario.as_str()), ("static", "all"));
    assert_eq!(static_all.metrics.guardrail_hits, 0);
    for row in &table.rows {
        let m = &row.metrics;
        assert!((0.0..=1.0).contains(&m.staking_in_band) && (0.0..1.0).contains(&m.max_drawdown), "{row:?}");
        assert!(m.volatility > 0.0 && m.mean_reward < 0.0, "{row:?}");
    }
    let markdown = table.to_markdown();
    assert_eq!(markdown.lines().count(), 2 + table.rows.len());
    assert!(markdown.contains("| rule_based | crash |"));
    // A backtest keeps the trajectories, in suite order, for proving and plotting.
    let one = backtest(&integer_policy(), &suite, &SimConfig::default(), &reward).expect("backtests");
    let order: Vec<&str> = one.scenarios.iter().map(|s| s.trajectory.scenario.name()).collect();
    assert_eq!(order, ["calm", "crash", "liquidity_drain", "demand_surge", "slow_bleed"]);
    assert!(one.scenarios.iter().all(|s| s.trajectory.epochs.iter().all(|e| e.quantized_kpis.is_some())));
}
