//! The live run's report: what happened on chain, epoch by epoch, beside the in-process
//! simulator on the same scenario and seed, with the divergence per KPI.

use serde::Serialize;
use zkpolicy_lab::sim::{self, IntegerPolicy, RewardConfig, SimConfig, Trajectory};
use zkpolicy_model::Model;

use super::run::LiveRun;
use super::LiveError;

/// Divergence of one series between the chain and the simulator.
#[derive(Clone, Debug, Serialize)]
pub struct Divergence {
    /// The series: a KPI's or a parameter's name, or one of [`MARKET_SERIES`].
    pub name: String,
    /// Mean `|chain − simulator|` over the compared epochs, in the series' own unit.
    pub mean_abs: f64,
    /// Largest `|chain − simulator|` over the compared epochs.
    pub max_abs: f64,
    /// `|chain − simulator|` at the last compared epoch.
    pub last: f64,
    /// The chain's quantization step for a KPI (0 for market series): below it is rounding.
    pub quantum: f64,
    /// Mean of the simulator's series, for scale.
    pub simulator_mean: f64,
}

/// The chain beside the simulator.
#[derive(Clone, Debug, Serialize)]
pub struct Fidelity {
    /// Epochs compared: the live epochs the simulator also ran.
    pub epochs: usize,
    /// Per KPI the policy saw, in model input order.
    pub kpis: Vec<Divergence>,
    /// Per parameter applied (bps).
    pub parameters: Vec<Divergence>,
    /// The market after each epoch: price, staking ratio, liquidity depth, treasury runway.
    pub market: Vec<Divergence>,
    /// Epochs where the chain's decision (outputs) equals the simulator's.
    pub same_decision: usize,
    /// Divergences beyond rounding, each with its cause measured: the gap once the cause
    /// is taken out.
    pub explained: Vec<Explained>,
}

/// A divergence and its cause, measured.
#[derive(Clone, Debug, Serialize)]
pub struct Explained {
    /// The KPI that diverges.
    pub name: String,
    /// Why, and how the cause is taken out: a different definition, or different mechanics.
    pub cause: String,
    /// Mean `|chain − simulator|` as reported.
    pub mean_abs: f64,
    /// Mean `|chain − simulator|` with the cause taken out: what is left is the two
    /// economies' own difference.
    pub mean_abs_without_cause: f64,
}

/// The market series the report compares and plots, from a live epoch's state.
fn live_market(e: &super::LiveEpoch, yearly_spend: f64) -> [f64; 4] {
    let m = &e.market;
    let supply = m.supply.max(f64::MIN_POSITIVE);
    [m.price, m.staked / supply, 2.0 * m.pool_tokens / supply, m.treasury_quote / yearly_spend]
}

fn sim_market(e: &sim::EpochRecord, yearly_spend: f64) -> [f64; 4] {
    let m = &e.market;
    let supply = m.supply.max(f64::MIN_POSITIVE);
    [m.price, m.staked / supply, m.pool.value() / (m.price * supply), m.treasury / yearly_spend]
}

/// The market series, in the order of [`Fidelity::market`]: the pool's price (quote per
/// token), the staked share of the supply, the pool's depth (its value over the supply's),
/// and the treasury's runway (quote over a year's spending).
pub const MARKET_SERIES: [&str; 4] = ["price", "staking_ratio", "liquidity_depth", "treasury_runway"];

/// Runs the simulator on the live run's scenario, seed, warm-up, economy and rails.
pub fn simulate(run: &LiveRun, model: &Model) -> Result<Trajectory, LiveError> {
    let config = SimConfig { warmup_epochs: run.options.warmup, ..run.options.sim.clone() };
    Ok(sim::simulate(&IntegerPolicy::new(model.clone())?, &run.options.scenario, &config)?)
}

fn divergence(name: &str, chain: &[f64], simulator: &[f64], quantum: f64) -> Divergence {
    let d: Vec<f64> = chain.iter().zip(simulator).map(|(a, b)| (a - b).abs()).collect();
    let n = d.len().max(1) as f64;
    Divergence {
        name: name.to_string(),
        mean_abs: d.iter().sum::<f64>() / n,
        max_abs: d.iter().copied().fold(0.0, f64::max),
        last: d.last().copied().unwrap_or(0.0),
        quantum,
        simulator_mean: simulator.iter().sum::<f64>() / simulator.len().max(1) as f64,
    }
}

/// Compares the run with the simulator's trajectory epoch by epoch.
pub fn fidelity(run: &LiveRun, model: &Model, trajectory: &Trajectory) -> Fidelity {
    let n = run.epochs.len().min(trajectory.epochs.len());
    let (live, simulated) = (&run.epochs[..n], &trajectory.epochs[..n]);
    let spend = run.options.sim.economy.yearly_spend;
    let kpis = model
        .file()
        .inputs
        .iter()
        .enumerate()
        .map(|(k, spec)| {
            let chain: Vec<f64> = live.iter().map(|e| e.kpi_values.get(k).copied().unwrap_or(0.0)).collect();
            let sim: Vec<f64> = simulated.iter().map(|e| e.kpis.get(k).copied().unwrap_or(0.0)).collect();
            divergence(&spec.name, &chain, &sim, 2f64.powi(-(spec.scale_bits as i32)))
        })
        .collect();
    let parameters = run
        .options
        .sim
        .guardrails
        .iter()
        .enumerate()
        .map(|(p, rail)| {
            let chain: Vec<f64> = live.iter().map(|e| e.guarded.get(p).copied().unwrap_or(0) as f64).collect();
            let sim: Vec<f64> = simulated.iter().map(|e| e.params.get(p).copied().unwrap_or(0) as f64).collect();
            divergence(&rail.name, &chain, &sim, 0.0)
        })
        .collect();
    let market = MARKET_SERIES
        .iter()
        .enumerate()
        .map(|(m, name)| {
            let chain: Vec<f64> = live.iter().map(|e| live_market(e, spend)[m]).collect();
            let sim: Vec<f64> = simulated.iter().map(|e| sim_market(e, spend)[m]).collect();
            divergence(name, &chain, &sim, 0.0)
        })
        .collect();
    let same_decision = live.iter().zip(simulated).filter(|(a, b)| a.outputs == b.decision).count();
    let explained = explain(run, model, simulated);
    Fidelity { epochs: n, kpis, parameters, market, same_decision, explained }
}

/// The two known structural differences, measured on this run.
fn explain(run: &LiveRun, model: &Model, simulated: &[sim::EpochRecord]) -> Vec<Explained> {
    let live = &run.epochs[..simulated.len()];
    let inputs = &model.file().inputs;
    let mut out = Vec::new();
    let spend = run.options.sim.economy.yearly_spend;
    // The market at each live snapshot: the end of the previous epoch.
    let before = |i: usize| if i == 0 { run.warmup.last() } else { live.get(i - 1).map(|e| &e.market) };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;

    let (vol, runway) = (sim::kpis::VOLATILITY_30D, sim::kpis::TREASURY_RUNWAY);
    if let Some(spec) = inputs.get(vol) {
        // The simulator's definition (log returns of closing prices) on the chain's own closes.
        let closes: Vec<f64> = std::iter::once(run.options.sim.economy.target_price)
            .chain(run.warmup.iter().map(|s| s.price))
            .chain(live.iter().map(|e| e.market.price))
            .collect();
        let (mut reported, mut without) = (Vec::new(), Vec::new());
        for (i, (e, s)) in live.iter().zip(simulated).enumerate() {
            let upto = (1 + run.warmup.len() + i).min(closes.len());
            let own = sim::kpis::realised_volatility(&closes[..upto], sim::kpis::WINDOW).clamp(spec.min, spec.max);
            reported.push((e.kpi_values[vol] - s.kpis[vol]).abs());
            without.push((own - s.kpis[vol]).abs());
        }
        out.push(Explained {
            name: spec.name.clone(),
            cause: "definition: the chain takes simple returns of epoch-average prices (the pair's time-weighted \
                    accumulator), the simulator log returns of closing prices. The simulator's definition on the chain's own \
                    closes leaves the second figure: the two price paths' own difference"
                .into(),
            mean_abs: mean(&reported),
            mean_abs_without_cause: mean(&without),
        });
    }
    if inputs.get(runway).is_some() {
        let (mut reported, mut without) = (Vec::new(), Vec::new());
        for (i, (e, s)) in live.iter().zip(simulated).enumerate() {
            let Some(m) = before(i) else { continue };
            let tokens = m.treasury_tokens * m.price / spend;
            reported.push((e.kpi_values[runway] - s.kpis[runway]).abs());
            without.push((e.kpi_values[runway] + tokens - s.kpis[runway]).abs());
        }
        out.push(Explained {
            name: inputs[runway].name.clone(),
            cause: "mechanics: the pair pays the protocol's fee share in the swap's input asset, so on sells the treasury \
                    receives tokens, which runway (quote / yearly spend) does not count; the simulator credits every fee in \
                    quote. Counting the treasury's tokens at the price leaves the second figure"
                .into(),
            mean_abs: mean(&reported),
            mean_abs_without_cause: mean(&without),
        });
    }
    out
}

/// Throughput and cost of the run.
#[derive(Clone, Debug, Serialize)]
pub struct Totals {
    /// Live epochs run (the warm-up not counted).
    pub epochs: usize,
    /// Live epochs with a submitted decision.
    pub decisions: usize,
    /// Decisions whose submission the controller accepted (its verifier ran in the EVM).
    pub verified_on_chain: usize,
    /// Decisions whose proof halo2's native verifier accepts.
    pub verified_native: usize,
    /// Times the keeper had to be restarted, over all rounds.
    pub keeper_restarts: u32,
    /// Transactions of the whole run: setup, warm-up and live epochs.
    pub transactions: u64,
    /// Mean transactions per live epoch.
    pub transactions_per_epoch: f64,
    /// Transactions of the whole run that reverted.
    pub reverted: u64,
    /// Mean seconds per live epoch, by phase.
    pub seconds_per_epoch: super::EpochSeconds,
    /// The whole run's wall time, as the caller measured it.
    pub wall_seconds: f64,
    /// Gas of every transaction of the run (units).
    pub gas_total: u64,
    /// Mean gas of a decision's submission, the on-chain verification included.
    pub decision_gas_mean: f64,
}

/// The run's totals; `wall_seconds` is its wall time as the caller measured it.
pub fn totals(run: &LiveRun, wall_seconds: f64) -> Totals {
    let n = run.epochs.len();
    let mean = |f: &dyn Fn(&super::LiveEpoch) -> f64| run.epochs.iter().map(f).sum::<f64>() / n.max(1) as f64;
    let transactions: u64 = run.epochs.iter().map(|e| e.transactions).sum();
    Totals {
        epochs: n,
        decisions: run.epochs.iter().filter(|e| !e.decision_tx.is_empty()).count(),
        verified_on_chain: run.epochs.iter().filter(|e| e.verified_on_chain).count(),
        verified_native: run.epochs.iter().filter(|e| e.verified_native).count(),
        keeper_restarts: run.epochs.iter().map(|e| e.keeper_restarts).sum(),
        transactions: run.gas.transactions(),
        transactions_per_epoch: transactions as f64 / n.max(1) as f64,
        reverted: run.gas.reverted(),
        seconds_per_epoch: super::EpochSeconds {
            agents: mean(&|e| e.seconds.agents),
            snapshot: mean(&|e| e.seconds.snapshot),
            prove: mean(&|e| e.seconds.prove),
            submit: mean(&|e| e.seconds.submit),
            other: mean(&|e| e.seconds.other),
        },
        wall_seconds,
        gas_total: run.gas.by_contract.values().map(|c| c.gas).sum(),
        decision_gas_mean: mean(&|e| e.decision_gas as f64),
    }
}

/// `report.json`: the run, the simulator's trajectory, the comparison and the totals.
#[derive(Serialize)]
pub struct Report<'a> {
    /// The file's format name (`zkpolicy-live-report`).
    pub format: &'static str,
    /// Throughput and cost.
    pub totals: Totals,
    /// The chain beside the simulator.
    pub fidelity: Fidelity,
    /// The run, epoch by epoch (`--baseline` reads its `run.epochs`).
    pub run: &'a LiveRun,
    /// The simulator's trajectory on the same scenario and seed.
    pub simulator: &'a Trajectory,
    /// With `--baseline`: the run against the honest one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub against_honest: Option<&'a super::honest::AgainstHonest>,
}

/// `report.md`: the headline figures and the tables.
pub fn markdown(run: &LiveRun, totals: &Totals, fidelity: &Fidelity) -> String {
    let mut md = headline(run, totals);
    md.push_str(&gas_by_contract(run));
    md.push_str(&beside_simulator(fidelity));
    md.push_str(&divergence_causes(fidelity));
    md.push_str(&decisions(run));
    md
}

/// The report's title, the run's setup and its headline figures (decisions, checks,
/// restarts, transactions, time and gas).
fn headline(run: &LiveRun, totals: &Totals) -> String {
    let o = &run.options;
    let mut md = String::new();
    md.push_str(&format!(
        "# Live run: {} on a real node\n\nScenario `{}` (seed {}), {} epochs after {} warm-up epochs, {} agent accounts \
         ({}); model `{}` ({}).\n\n",
        run.model,
        o.scenario.name(),
        o.scenario.seed,
        o.scenario.epochs,
        o.warmup,
        o.agents,
        run.roles.iter().map(|(r, n)| format!("{n} {r}")).collect::<Vec<_>>().join(", "),
        run.model,
        run.model_commitment
    ));
    md.push_str(&format!(
        "- decisions: {} of {} epochs, {} accepted by the controller's verifier in the EVM, {} by halo2's native verifier\n\
         - checks: {}\n\
         - keeper restarts: {}\n\
         - transactions: {} in all ({:.0} per epoch), {} reverted\n\
         - wall time: {:.0} s; per epoch {:.1} s agents, {:.2} s snapshot, {:.2} s prove, {:.2} s submit, {:.2} s other\n\
         - gas: {} in all; {:.0} per decision (`submitAdjustment`)\n\n",
        totals.decisions,
        totals.epochs,
        totals.verified_on_chain,
        totals.verified_native,
        if run.failures.is_empty() {
            "every proven output equals the integer reference on the on-chain snapshot and parameters, and every applied \
             parameter equals the guard twin's and the economy's"
                .to_string()
        } else {
            format!("{} FAILED: {}", run.failures.len(), run.failures.join("; "))
        },
        totals.keeper_restarts,
        totals.transactions,
        totals.transactions_per_epoch,
        totals.reverted,
        totals.wall_seconds,
        totals.seconds_per_epoch.agents,
        totals.seconds_per_epoch.snapshot,
        totals.seconds_per_epoch.prove,
        totals.seconds_per_epoch.submit,
        totals.seconds_per_epoch.other,
        totals.gas_total,
        totals.decision_gas_mean,
    ));
    md
}

/// The "Gas by contract" section: transactions, gas and reverts per contract.
fn gas_by_contract(run: &LiveRun) -> String {
    let mut md = String::new();
    md.push_str("## Gas by contract\n\n| contract | transactions | gas | reverted |\n|---|---:|---:|---:|\n");
    for (name, c) in &run.gas.by_contract {
        md.push_str(&format!("| {name} | {} | {} | {} |\n", c.transactions, c.gas, c.reverted));
    }
    md
}

/// The "chain beside the simulator" section's table: each KPI's, market series' and
/// parameter's divergence.
fn beside_simulator(fidelity: &Fidelity) -> String {
    let mut md = String::new();
    md.push_str(&format!(
        "\n## The chain beside the simulator\n\nThe in-process simulator on the same scenario, seed, warm-up, economy and \
         rails, epoch by epoch ({} epochs; the same decision in {} of them). `|Δ|` is |chain − simulator|; a KPI's \
         quantum is the chain's rounding step.\n\n| series | mean \\|Δ\\| | max \\|Δ\\| | last \\|Δ\\| | quantum | simulator mean |\n\
         |---|---:|---:|---:|---:|---:|\n",
        fidelity.epochs, fidelity.same_decision
    ));
    for d in fidelity.kpis.iter().chain(&fidelity.market).chain(&fidelity.parameters) {
        md.push_str(&format!(
            "| {} | {:.4} | {:.4} | {:.4} | {} | {:.4} |\n",
            d.name,
            d.mean_abs,
            d.max_abs,
            d.last,
            if d.quantum > 0.0 { format!("{:.4}", d.quantum) } else { "–".into() },
            d.simulator_mean
        ));
    }
    md
}

/// The KPI divergences sorted by cause: rounding, a known cause measured, or the price path.
fn divergence_causes(fidelity: &Fidelity) -> String {
    let mut md = String::new();
    let rounding: Vec<&str> = fidelity.kpis.iter().filter(|d| d.mean_abs <= d.quantum).map(|d| d.name.as_str()).collect();
    let explained: Vec<&Explained> = fidelity.explained.iter().filter(|e| !rounding.contains(&e.name.as_str())).collect();
    let rest: Vec<&str> = fidelity
        .kpis
        .iter()
        .filter(|d| !rounding.contains(&d.name.as_str()) && !explained.iter().any(|e| e.name == d.name))
        .map(|d| d.name.as_str())
        .collect();
    let list = |v: &[&str]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
    md.push_str(&format!("\nWithin one quantum on average (rounding): {}.\n", list(&rounding)));
    if !explained.is_empty() {
        md.push_str(
            "\nBeyond it, with a known cause, measured:\n\n| series | mean \\|Δ\\| | without the cause | cause |\n|---|---:|---:|---|\n",
        );
        for e in explained {
            md.push_str(&format!("| {} | {:.4} | {:.4} | {} |\n", e.name, e.mean_abs, e.mean_abs_without_cause, e.cause));
        }
    }
    let price = fidelity.market.first().map_or(0.0, |d| d.mean_abs / d.simulator_mean.abs().max(f64::MIN_POSITIVE));
    md.push_str(&format!(
        "\nBeyond it and following the price path: {}. The two price paths differ by {:.2}% on average, from the mechanics \
         the contracts have and the simulator abstracts: every agent's flow is its own swap, paying the fee on the gross \
         flow where the simulator nets all flows into one swap; the pair keeps its fee in the swap's input asset instead \
         of depositing it on both sides; the tick mints and burns before the LPs and stakers act, not between them.\n",
        list(&rest),
        100.0 * price
    ));
    md
}

/// The "Decisions" section: each live epoch's outputs, applied parameters, gas and verification.
fn decisions(run: &LiveRun) -> String {
    let mut md = String::new();
    md.push_str(
        "\n## Decisions\n\n| # | chain epoch | outputs | parameters | hit | gas | verified | tx |\n|---:|---:|---|---|---|---:|---|---|\n",
    );
    for e in &run.epochs {
        md.push_str(&format!(
            "| {} | {} | {:?} | {:?} | {} | {} | {} | `{}` |\n",
            e.index,
            e.epoch,
            e.outputs,
            e.guarded,
            if e.guardrail_hit { "yes" } else { "" },
            e.decision_gas,
            match (e.verified_on_chain, e.verified_native) {
                (true, true) => "EVM + native",
                (true, false) => "EVM only",
                (false, true) => "native only",
                (false, false) => "NO",
            },
            e.decision_tx
        ));
    }
    md
}

/// The staking band the reward aims for (shaded in the plot).
pub fn staking_band() -> (f64, f64) {
    RewardConfig::default().staking_band
}
