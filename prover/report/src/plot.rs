//! Panels of line series drawn as one SVG: the backtest's and the live run's trajectories.

use plotters::prelude::*;

use zkpolicy_prover::ProverError;

/// One panel: its title, its named lines (one colour per line, the same across panels), a
/// shaded band, dashed bound lines, and how many decimals its axis shows.
pub struct Panel {
    /// The caption above the panel, e.g. `fee (bps)`.
    pub title: String,
    /// `(label, value per epoch)` per line; the `k`-th line takes the `k`-th colour in every panel.
    pub lines: Vec<(String, Vec<f64>)>,
    /// `(low, high)` of a target band shaded across the panel, e.g. the staking band.
    pub band: Option<(f64, f64)>,
    /// `(min, max)` drawn as dashed lines, e.g. a parameter's guardrail range.
    pub bounds: Option<(f64, f64)>,
    /// Decimals on the y-axis labels (0 for bps).
    pub decimals: usize,
}

const COLOURS: [RGBColor; 6] = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];

/// Draws `panels` on a `grid` (rows, columns) of a `size` image under `title`, the epoch on
/// every x axis, one legend (in the first panel) for the lines every panel shares.
pub fn panels_svg(title: &str, panels: &[Panel], grid: (usize, usize), size: (u32, u32)) -> Result<String, ProverError> {
    let err = |e: &dyn std::fmt::Display| ProverError::Artifact { reason: format!("plot: {e}") };
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
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
                .caption(&panel.title, ("sans-serif", 16))
                .margin(8)
                .x_label_area_size(28)
                .y_label_area_size(56)
                .build_cartesian_2d(0f64..epochs - 1.0, (lo - pad)..(hi + pad))
                .map_err(|e| err(&e))?;
            let decimals = panel.decimals;
            let y_format = move |v: &f64| format!("{v:.decimals$}");
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
                    let line = DashedLineSeries::new(vec![(0.0, bound), (epochs - 1.0, bound)], 6, 4, BLACK.mix(0.6).stroke_width(1));
                    chart.draw_series(line).map_err(|e| err(&e))?;
                }
            }
            for (k, (label, points)) in panel.lines.iter().enumerate() {
                let colour = COLOURS[k % COLOURS.len()];
                chart
                    .draw_series(LineSeries::new(points.iter().enumerate().map(|(x, &y)| (x as f64, y)), colour.stroke_width(2)))
                    .map_err(|e| err(&e))?
                    .label(label.as_str())
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
