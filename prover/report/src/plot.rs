//! Panels of line series drawn as one SVG: the backtest's and the live run's trajectories.

use plotters::prelude::*;

use zkpolicy_prover::ProverError;

/// One panel: its title, its named lines (one colour per line, the same across panels), a
/// shaded band, dashed bound lines, and how many decimals its axis shows. The y axis fits
/// the lines and the band; bounds far outside them are not drawn (a guardrail at 2,000 bps
/// would flatten a 20 bps move), so a caller names them in the title.
pub struct Panel {
    /// The caption above the panel, e.g. `fee (bps)`.
    pub title: String,
    /// `(label, value per epoch)` per line; the `k`-th line takes the `k`-th colour in every panel.
    pub lines: Vec<(String, Vec<f64>)>,
    /// `(low, high)` of a target band shaded across the panel, e.g. the staking band.
    pub band: Option<(f64, f64)>,
    /// `(min, max)` drawn as dashed lines where they fall inside the axis, e.g. a parameter's
    /// guardrail range.
    pub bounds: Option<(f64, f64)>,
    /// Decimals on the y-axis labels (0 for bps).
    pub decimals: usize,
}

const COLOURS: [RGBColor; 6] = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];

/// The y range a panel shows: its lines and band, padded by 8 %, and at least `min_span`
/// wide around their middle (a flat or nearly flat line stays readable). Bounds are drawn
/// only where they fall inside it.
fn y_range(panel: &Panel) -> (f64, f64) {
    let values = panel.lines.iter().flat_map(|(_, l)| l.iter().copied());
    let band = panel.band.into_iter().flat_map(|(a, b)| [a, b]);
    let (lo, hi) =
        values.chain(band).filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return (-1.0, 1.0);
    }
    // Ten steps of the axis' last decimal: 10 bps for a bps panel.
    let min_span = 10.0 * 10f64.powi(-i32::try_from(panel.decimals).unwrap_or(0));
    let pad = ((hi - lo) * 0.08).max((min_span - (hi - lo)).max(0.0) / 2.0);
    (lo - pad, hi + pad)
}

/// The x axis' tick labels: whole epochs only (a short run would otherwise repeat them).
fn epoch_label(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-6 {
        format!("{v:.0}")
    } else {
        String::new()
    }
}

/// Draws `panels` on a `grid` (rows, columns) of a `size` image under `title`, the epoch on
/// every x axis (the first point is epoch `first_epoch`, so the axis reads as the report's
/// numbering does), one legend (in the first panel) for the lines every panel shares.
pub fn panels_svg(title: &str, panels: &[Panel], first_epoch: u64, grid: (usize, usize), size: (u32, u32)) -> Result<String, ProverError> {
    let err = |e: &dyn std::fmt::Display| ProverError::Artifact { reason: format!("plot: {e}") };
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let root = root.titled(title, ("sans-serif", 22)).map_err(|e| err(&e))?;
        let x0 = first_epoch as f64;
        for (i, (area, panel)) in root.split_evenly(grid).iter().zip(panels).enumerate() {
            let (lo, hi) = y_range(panel);
            let points = panel.lines.iter().map(|(_, l)| l.len()).max().unwrap_or(1).max(2);
            let x1 = x0 + (points - 1) as f64;
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, ("sans-serif", 16))
                .margin(8)
                .x_label_area_size(28)
                .y_label_area_size(56)
                .build_cartesian_2d(x0..x1, lo..hi)
                .map_err(|e| err(&e))?;
            let decimals = panel.decimals;
            let y_format = move |v: &f64| format!("{v:.decimals$}");
            chart
                .configure_mesh()
                .x_desc("epoch")
                .x_labels(points.min(11))
                .x_label_formatter(&epoch_label)
                .y_label_formatter(&y_format)
                .draw()
                .map_err(|e| err(&e))?;
            if let Some((a, b)) = panel.band {
                let (a, b) = (a.clamp(lo, hi), b.clamp(lo, hi));
                chart.draw_series(std::iter::once(Rectangle::new([(x0, a), (x1, b)], GREEN.mix(0.15).filled()))).map_err(|e| err(&e))?;
            }
            if let Some((a, b)) = panel.bounds {
                for bound in [a, b].into_iter().filter(|v| (lo..=hi).contains(v)) {
                    let line = DashedLineSeries::new(vec![(x0, bound), (x1, bound)], 6, 4, BLACK.mix(0.6).stroke_width(1));
                    chart.draw_series(line).map_err(|e| err(&e))?;
                }
            }
            for (k, (label, points)) in panel.lines.iter().enumerate() {
                let colour = COLOURS[k % COLOURS.len()];
                chart
                    .draw_series(LineSeries::new(points.iter().enumerate().map(|(x, &y)| (x0 + x as f64, y)), colour.stroke_width(2)))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The `<text>` labels of an SVG, in order.
    fn labels(svg: &str) -> Vec<String> {
        svg.split("<text").skip(1).filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim().to_string())).collect()
    }

    fn panel_of(line: Vec<f64>) -> Panel {
        Panel { title: "fee_bps (rails 0 to 2000)".into(), lines: vec![("chain".into(), line)], band: None, bounds: None, decimals: 0 }
    }

    /// A five-epoch run starting at epoch 3, a parameter moving 20 bps inside rails 0 to 2,000:
    /// each epoch labelled once, by the chain's number, and the axis fitted to the move.
    #[test]
    fn a_short_run_has_one_label_per_epoch_and_an_axis_fitted_to_a_small_move() {
        let panel = Panel { bounds: Some((0.0, 2000.0)), ..panel_of(vec![500.0, 505.0, 510.0, 515.0, 520.0]) };
        let svg = panels_svg("t", &[panel], 3, (1, 1), (400, 300)).expect("svg");
        let text = labels(&svg);
        let numbers: Vec<f64> = text.iter().filter_map(|t| t.parse().ok()).collect();
        let epochs: Vec<f64> = numbers.iter().copied().filter(|v| (3.0..=7.0).contains(v)).collect();
        assert_eq!(epochs, [3.0, 4.0, 5.0, 6.0, 7.0], "{text:?}");
        let y: Vec<f64> = numbers.iter().copied().filter(|v| *v > 100.0).collect();
        assert!(y.len() >= 3 && y.iter().all(|v| (495.0..=525.0).contains(v)), "the y axis spans the move, not the rails: {y:?}");
        // Rails outside the fitted axis are not drawn; rails inside it are (as dash segments).
        let drawn = |bounds| {
            let panel = Panel { bounds, ..panel_of(vec![500.0, 505.0, 510.0, 515.0, 520.0]) };
            panels_svg("t", &[panel], 3, (1, 1), (400, 300)).expect("svg").matches("<polyline").count()
        };
        assert_eq!(drawn(Some((0.0, 2000.0))), drawn(None));
        assert!(drawn(Some((505.0, 515.0))) > drawn(None) + 4);
        // A flat line still gets an axis ten units wide.
        assert_eq!(y_range(&panel_of(vec![30.0, 30.0])), (25.0, 35.0));
    }
}
