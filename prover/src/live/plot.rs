//! The live run's trajectories as one SVG: a panel per series, the chain and the
//! simulator as one line each, the staking band shaded, the guardrails drawn.

use plotters::prelude::*;
use zkpolicy_lab::sim::Trajectory;

use super::report::staking_band;
use super::run::LiveRun;
use crate::ProverError;

/// One panel: its title, its lines, and a shaded band or two bound lines.
struct Panel {
    title: String,
    lines: Vec<(&'static str, Vec<f64>)>,
    band: Option<(f64, f64)>,
    bounds: Option<(f64, f64)>,
    integer: bool,
}

/// Price, staking ratio (target band shaded), liquidity depth, volatility, and the four
/// parameters with their rails, for the chain and the simulator.
pub fn trajectories_svg(run: &LiveRun, trajectory: &Trajectory) -> Result<String, ProverError> {
    let n = run.epochs.len().min(trajectory.epochs.len());
    let (live, sim) = (&run.epochs[..n], &trajectory.epochs[..n]);
    let both = |chain: Vec<f64>, simulated: Vec<f64>| vec![("chain (live)", chain), ("simulator", simulated)];
    let share = |num: f64, den: f64| num / den.max(f64::MIN_POSITIVE);
    let mut panels = vec![
        Panel {
            title: "price (quote per token)".into(),
            lines: both(live.iter().map(|e| e.market.price).collect(), sim.iter().map(|e| e.market.price).collect()),
            band: None,
            bounds: None,
            integer: false,
        },
        Panel {
            title: "staking ratio (target band shaded)".into(),
            lines: both(
                live.iter().map(|e| share(e.market.staked, e.market.supply)).collect(),
                sim.iter().map(|e| share(e.market.staked, e.market.supply)).collect(),
            ),
            band: Some(staking_band()),
            bounds: None,
            integer: false,
        },
        Panel {
            title: "liquidity depth (pool / market cap)".into(),
            lines: both(
                live.iter().map(|e| share(2.0 * e.market.pool_tokens, e.market.supply)).collect(),
                sim.iter().map(|e| share(e.market.pool.value(), e.market.price * e.market.supply)).collect(),
            ),
            band: None,
            bounds: None,
            integer: false,
        },
        Panel {
            title: "volatility_30d (as the policy saw it)".into(),
            lines: both(
                live.iter().map(|e| e.kpi_values.get(2).copied().unwrap_or(0.0)).collect(),
                sim.iter().map(|e| e.kpis.get(2).copied().unwrap_or(0.0)).collect(),
            ),
            band: None,
            bounds: None,
            integer: false,
        },
    ];
    for (p, rail) in run.options.sim.guardrails.iter().enumerate() {
        panels.push(Panel {
            title: format!("{} (rails dashed)", rail.name),
            lines: both(
                live.iter().map(|e| e.guarded.get(p).copied().unwrap_or(0) as f64).collect(),
                sim.iter().map(|e| e.params.get(p).copied().unwrap_or(0) as f64).collect(),
            ),
            band: None,
            bounds: Some((rail.min as f64, rail.max as f64)),
            integer: true,
        });
    }
    let title = format!(
        "{} on a real node: {} (seed {}), {} agents",
        run.model,
        run.options.scenario.name(),
        run.options.scenario.seed,
        run.options.agents
    );
    draw(&title, &panels, (2, 4))
}

fn draw(title: &str, panels: &[Panel], grid: (usize, usize)) -> Result<String, ProverError> {
    let err = |e: &dyn std::fmt::Display| ProverError::Artifact { reason: format!("plot: {e}") };
    let colours = [BLUE, RED];
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (1600, 760)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let root = root.titled(title, ("sans-serif", 22)).map_err(|e| err(&e))?;
        for (i, (area, panel)) in root.split_evenly(grid).iter().zip(panels).enumerate() {
            let values = panel.lines.iter().flat_map(|(_, l)| l.iter().copied());
            let extra = panel.band.into_iter().chain(panel.bounds).flat_map(|(a, b)| [a, b]);
            let (lo, hi) = values
                .chain(extra)
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
            let (lo, hi) = if lo.is_finite() && hi > lo { (lo, hi) } else { (lo.min(0.0) - 1.0, hi.max(0.0) + 1.0) };
            let pad = (hi - lo) * 0.08;
            let epochs = panel.lines.iter().map(|(_, l)| l.len()).max().unwrap_or(1).max(2) as f64;
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, ("sans-serif", 15))
                .margin(8)
                .x_label_area_size(26)
                .y_label_area_size(56)
                .build_cartesian_2d(0f64..epochs - 1.0, (lo - pad)..(hi + pad))
                .map_err(|e| err(&e))?;
            let integer = panel.integer;
            let y_format = move |v: &f64| if integer { format!("{v:.0}") } else { format!("{v:.3}") };
            chart
                .configure_mesh()
                .x_desc("epoch")
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&y_format)
                .draw()
                .map_err(|e| err(&e))?;
            if let Some((a, b)) = panel.band {
                chart
                    .draw_series(std::iter::once(Rectangle::new([(0.0, a), (epochs - 1.0, b)], GREEN.mix(0.15).filled())))
                    .map_err(|e| err(&e))?;
            }
            if let Some((a, b)) = panel.bounds {
                for bound in [a, b] {
                    chart
                        .draw_series(DashedLineSeries::new(vec![(0.0, bound), (epochs - 1.0, bound)], 6, 4, BLACK.mix(0.6).stroke_width(1)))
                        .map_err(|e| err(&e))?;
                }
            }
            for (k, (label, points)) in panel.lines.iter().enumerate() {
                let colour = colours[k % colours.len()];
                chart
                    .draw_series(LineSeries::new(points.iter().enumerate().map(|(x, &y)| (x as f64, y)), colour.stroke_width(2)))
                    .map_err(|e| err(&e))?
                    .label(*label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour));
            }
            if i == 0 {
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperRight)
                    .background_style(WHITE.mix(0.8))
                    .border_style(BLACK)
                    .draw()
                    .map_err(|e| err(&e))?;
            }
        }
        root.present().map_err(|e| err(&e))?;
    }
    Ok(out)
}
