//! The live run's trajectories as one SVG: a panel per series, the chain and the
//! simulator as one line each, the staking band shaded, the guardrails drawn.

use zkpolicy_lab::sim::Trajectory;

use super::report::staking_band;
use super::run::LiveRun;
use zkpolicy_prover::ProverError;
use zkpolicy_report::plot::{panels_svg, Panel};

/// Price, staking ratio (target band shaded), liquidity depth, volatility, and the four
/// parameters with their rails, for the chain and the simulator.
pub fn trajectories_svg(run: &LiveRun, trajectory: &Trajectory) -> Result<String, ProverError> {
    let n = run.epochs.len().min(trajectory.epochs.len());
    let (live, sim) = (&run.epochs[..n], &trajectory.epochs[..n]);
    let both = |chain: Vec<f64>, simulated: Vec<f64>| vec![("chain (live)".to_string(), chain), ("simulator".to_string(), simulated)];
    let share = |num: f64, den: f64| num / den.max(f64::MIN_POSITIVE);
    let mut panels = vec![
        Panel {
            title: "price (quote per token)".into(),
            lines: both(live.iter().map(|e| e.market.price).collect(), sim.iter().map(|e| e.market.price).collect()),
            band: None,
            bounds: None,
            decimals: 3,
        },
        Panel {
            title: "staking ratio (target band shaded)".into(),
            lines: both(
                live.iter().map(|e| share(e.market.staked, e.market.supply)).collect(),
                sim.iter().map(|e| share(e.market.staked, e.market.supply)).collect(),
            ),
            band: Some(staking_band()),
            bounds: None,
            decimals: 3,
        },
        Panel {
            title: "liquidity depth (pool / market cap)".into(),
            lines: both(
                live.iter().map(|e| share(2.0 * e.market.pool_tokens, e.market.supply)).collect(),
                sim.iter().map(|e| share(e.market.pool.value(), e.market.price * e.market.supply)).collect(),
            ),
            band: None,
            bounds: None,
            decimals: 3,
        },
        Panel {
            title: "volatility_30d (as the policy saw it)".into(),
            lines: both(
                live.iter().map(|e| e.kpi_values.get(2).copied().unwrap_or(0.0)).collect(),
                sim.iter().map(|e| e.kpis.get(2).copied().unwrap_or(0.0)).collect(),
            ),
            band: None,
            bounds: None,
            decimals: 3,
        },
    ];
    for (p, rail) in run.options.sim.guardrails.iter().enumerate() {
        panels.push(Panel {
            title: format!("{} (rails {} to {}, dashed when in view)", rail.name, rail.min, rail.max),
            lines: both(
                live.iter().map(|e| e.guarded.get(p).copied().unwrap_or(0) as f64).collect(),
                sim.iter().map(|e| e.params.get(p).copied().unwrap_or(0) as f64).collect(),
            ),
            band: None,
            bounds: Some((rail.min as f64, rail.max as f64)),
            decimals: 0,
        });
    }
    let title = format!(
        "{} on a real node: {} (seed {}), {} agents",
        run.model,
        run.options.scenario.name(),
        run.options.scenario.seed,
        run.options.agents
    );
    // The x axis is the chain's epoch, as the report's tables number them.
    let first_epoch = live.first().map_or(0, |e| e.epoch);
    panels_svg(&title, &panels, first_epoch, (2, 4), (1600, 760))
}
