//! Line chart for training curves: loss, accuracy or learning rate per epoch, one line per series,
//! with the legend outside the plot so it never hides a curve.

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    Anchor, Canvas, Figure, PALETTE, PlotError, font, max_text_width, needs_sci, px, render_svg, stroke, text_width,
    tick_label,
};

/// One curve: `(x, y)` points in drawing order (usually epoch, value).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Input of a line chart. Points with a non-finite coordinate (a diverged loss) are left out and the
/// line is broken there, so the rest of the run still shows.
#[derive(Debug, Clone, Copy)]
pub struct LineChart<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub series: &'a [Series],
    /// Logarithmic y axis (learning rates, losses over decades); every finite y must then be > 0.
    pub log_y: bool,
}

/// The chart as an SVG document.
pub fn line_chart_svg(c: &LineChart) -> Result<String, PlotError> {
    render_svg(&LineLayout::new(c)?)
}

const MARGIN: f64 = 16.0;
const TITLE_SIZE: f64 = 22.0;
const DESC_SIZE: f64 = 16.0;
const LABEL_SIZE: f64 = 14.0;
const LEGEND_SIZE: f64 = 15.0;
const PLOT_W: f64 = 600.0;
const PLOT_H: f64 = 360.0;
const LEGEND_ROW: f64 = 22.0;
const LEGEND_SAMPLE: f64 = 26.0;
/// Series with at most this many points also get a marker at each point (few epochs, one point).
const MARKER_MAX_POINTS: usize = 40;

/// A curve ready to draw: its finite runs and its colour.
#[derive(Debug, Clone)]
struct Curve {
    name: String,
    color: RGBColor,
    segments: Vec<Vec<(f64, f64)>>,
    markers: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct LineLayout {
    width: f64,
    height: f64,
    title: String,
    x_label: String,
    y_label: String,
    log_y: bool,
    x_range: (f64, f64),
    y_range: (f64, f64),
    x_integral: bool,
    x_sci: bool,
    y_sci: bool,
    y_ticks: Vec<f64>,
    curves: Vec<Curve>,
    /// Plot area (including the tick-label areas): left, top, width, height.
    chart: (f64, f64, f64, f64),
    y_area: f64,
    x_area: f64,
    legend_x: f64,
    legend_y: f64,
}

impl LineLayout {
    fn new(c: &LineChart) -> Result<Self, PlotError> {
        if c.series.is_empty() {
            return Err(PlotError::Empty("a line chart needs at least one series".into()));
        }
        let mut curves = Vec::new();
        for (i, s) in c.series.iter().enumerate() {
            let mut segments: Vec<Vec<(f64, f64)>> = Vec::new();
            let mut run = Vec::new();
            for &(x, y) in &s.points {
                if x.is_finite() && y.is_finite() {
                    if c.log_y && y <= 0.0 {
                        return Err(PlotError::NonPositiveOnLogScale { series: s.name.clone(), value: y });
                    }
                    run.push((x, y));
                } else if !run.is_empty() {
                    segments.push(std::mem::take(&mut run));
                }
            }
            if !run.is_empty() {
                segments.push(run);
            }
            let n: usize = segments.iter().map(Vec::len).sum();
            curves.push(Curve {
                name: s.name.clone(),
                color: PALETTE[i % PALETTE.len()],
                segments,
                markers: n <= MARKER_MAX_POINTS,
            });
        }
        let all = || curves.iter().flat_map(|c| c.segments.iter().flatten().copied());
        if all().next().is_none() {
            return Err(PlotError::Empty("no series has a finite point".into()));
        }
        let (x_lo, x_hi) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (x, _)| (a.min(x), b.max(x)));
        let (y_lo, y_hi) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, y)| (a.min(y), b.max(y)));
        let x_integral = all().all(|(x, _)| x.fract() == 0.0);
        // A little room left and right so markers at the first and last epoch are not cut.
        let x_range = if x_hi > x_lo {
            let pad = (x_hi - x_lo) * 0.02;
            (x_lo - pad, x_hi + pad)
        } else {
            (x_lo - 0.5, x_hi + 0.5)
        };
        let y_range = if c.log_y {
            // Pad by a twentieth of the decades shown (at least ×1.15) so lines do not sit on the frame.
            let decades = (y_hi / y_lo).log10();
            let f = 10f64.powf((decades * 0.05).max(0.06));
            (y_lo / f, y_hi * f)
        } else if y_hi > y_lo {
            let pad = (y_hi - y_lo) * 0.05;
            (y_lo - pad, y_hi + pad)
        } else {
            let pad = if y_lo == 0.0 { 1.0 } else { y_lo.abs() * 0.1 };
            (y_lo - pad, y_hi + pad)
        };

        // Ticks: plotters' own for linear axes, ours (1, 2, 5 × 10^n) for a log axis. Label areas
        // are sized from the labels that will be printed.
        let x_ticks = RangedCoordf64::from(x_range.0..x_range.1).key_points(10);
        let y_ticks = if c.log_y {
            log_ticks(y_range.0, y_range.1)
        } else {
            RangedCoordf64::from(y_range.0..y_range.1).key_points(10)
        };
        let (x_sci, y_sci) = (needs_sci(&x_ticks), needs_sci(&y_ticks));
        let y_tick_w = max_text_width(
            y_ticks.iter().map(|&v| tick_label(v, y_sci)).collect::<Vec<_>>().iter().map(String::as_str),
            LABEL_SIZE,
        );
        let y_area = y_tick_w + 14.0 + if c.y_label.is_empty() { 0.0 } else { DESC_SIZE + 10.0 };
        let x_area = LABEL_SIZE + 14.0 + if c.x_label.is_empty() { 0.0 } else { DESC_SIZE + 10.0 };

        let named: Vec<&Curve> = curves.iter().filter(|c| !c.name.is_empty()).collect();
        let legend_w = if named.is_empty() {
            0.0
        } else {
            LEGEND_SAMPLE + 8.0 + max_text_width(named.iter().map(|c| c.name.as_str()), LEGEND_SIZE) + 16.0
        };
        let title_h = if c.title.is_empty() { 0.0 } else { TITLE_SIZE + 12.0 };
        // A little room right of the plot so the last x tick label is not cut.
        let chart_w = y_area + PLOT_W + 24.0;
        let chart_h = PLOT_H + x_area + 8.0;
        let content_w = MARGIN + chart_w + legend_w + MARGIN;
        let width = content_w.max(text_width(c.title, TITLE_SIZE) + 2.0 * MARGIN);
        let left = MARGIN + (width - content_w) / 2.0;
        let top = MARGIN + title_h;
        let legend_rows = named.len() as f64 * LEGEND_ROW;
        let height = (top + chart_h).max(top + legend_rows + 8.0) + MARGIN;

        Ok(LineLayout {
            width: width.ceil(),
            height: height.ceil(),
            title: c.title.to_string(),
            x_label: c.x_label.to_string(),
            y_label: c.y_label.to_string(),
            log_y: c.log_y,
            x_range,
            y_range,
            x_integral,
            x_sci,
            y_sci,
            y_ticks,
            curves,
            chart: (left, top, chart_w, chart_h),
            y_area,
            x_area,
            legend_x: left + chart_w + 8.0,
            legend_y: top + 8.0,
        })
    }

    /// Mesh, labels and curves, for either kind of y axis.
    fn draw_chart<DB, Y>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    ) -> Result<(), PlotError>
    where
        DB: DrawingBackend,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let (x_integral, x_sci, y_sci) = (self.x_integral, self.x_sci, self.y_sci);
        // Whole epochs: no label at 2.5.
        let x_fmt = move |v: &f64| if x_integral && v.fract() != 0.0 { String::new() } else { tick_label(*v, x_sci) };
        let y_fmt = move |v: &f64| tick_label(*v, y_sci);
        chart
            .configure_mesh()
            .x_labels(10)
            .y_labels(10)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .label_style(font(LABEL_SIZE))
            .axis_desc_style(font(DESC_SIZE))
            .bold_line_style(RGBColor(225, 225, 225))
            .light_line_style(TRANSPARENT)
            .axis_style(RGBColor(90, 90, 90))
            .draw()?;
        for c in &self.curves {
            for seg in &c.segments {
                chart.draw_series(LineSeries::new(seg.iter().copied(), c.color.stroke_width(2)))?;
                if c.markers {
                    chart.draw_series(seg.iter().map(|&p| Circle::new(p, 3, c.color.filled())))?;
                }
            }
        }
        Ok(())
    }
}

/// Ticks for a log axis over `[lo, hi]` (both > 0): 1, 2, 5 × 10^n over a few decades, 1 × 10^n
/// over many (every other decade past eight), every digit when the range is under a decade.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (e0, e1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let decades = e1 - e0;
    // Count every other decade from the first power of ten inside the range.
    let first = lo.log10().ceil() as i32;
    let within = |m: &[f64], step: i32| -> Vec<f64> {
        (e0..=e1)
            .filter(|e| (e - first).rem_euclid(step) == 0)
            .flat_map(|e| m.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|v| *v >= lo && *v <= hi)
            .collect()
    };
    if decades > 8 {
        return within(&[1.0], 2);
    }
    if decades > 3 {
        return within(&[1.0], 1);
    }
    let ticks = within(&[1.0, 2.0, 5.0], 1);
    if ticks.len() >= 3 { ticks } else { within(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], 1) }
}

impl Figure for LineLayout {
    fn size(&self) -> (u32, u32) {
        (self.width as u32, self.height as u32)
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<DB>) -> Result<(), PlotError> {
        let root = canvas.area;
        let ink = RGBColor(0, 0, 0);
        canvas.title(&self.title, self.width, MARGIN, TITLE_SIZE)?;
        let (l, t, w, h) = self.chart;
        let area = root.clone().shrink(px(l, t), (w.round() as u32, h.round() as u32));
        let mut builder = ChartBuilder::on(&area);
        builder
            .margin_top(8)
            .margin_right(24)
            .x_label_area_size(self.x_area.round() as u32)
            .y_label_area_size(self.y_area.round() as u32);
        let (x0, x1) = self.x_range;
        let (y0, y1) = self.y_range;
        if self.log_y {
            let y = (y0..y1).log_scale().with_key_points(self.y_ticks.clone());
            self.draw_chart(&mut builder.build_cartesian_2d(x0..x1, y)?)?;
        } else {
            self.draw_chart(&mut builder.build_cartesian_2d(x0..x1, y0..y1)?)?;
        }

        // Legend beside the plot: a line sample (with marker when the curve has them) and the name.
        let mut y = self.legend_y + LEGEND_ROW / 2.0;
        for c in self.curves.iter().filter(|c| !c.name.is_empty()) {
            let x = self.legend_x;
            root.draw(&PathElement::new(vec![px(x, y), px(x + LEGEND_SAMPLE, y)], c.color.stroke_width(stroke(2.0))))?;
            if c.markers {
                root.draw(&Circle::new(px(x + LEGEND_SAMPLE / 2.0, y), 3, c.color.filled()))?;
            }
            let at = (x + LEGEND_SAMPLE + 8.0, y);
            canvas.text(&c.name, at, LEGEND_SIZE, ink, Anchor::new(HPos::Left, VPos::Center))?;
            y += LEGEND_ROW;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::svg_test;

    fn series(name: &str, points: &[(f64, f64)]) -> Series {
        Series { name: name.into(), points: points.to_vec() }
    }

    fn chart<'a>(series: &'a [Series], log_y: bool) -> LineChart<'a> {
        LineChart { title: "Training", x_label: "epoch", y_label: "loss", series, log_y }
    }

    fn curve(n: usize, f: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        (1..=n).map(|e| (e as f64, f(e as f64))).collect()
    }

    /// Curve lines and legend samples: polylines in a palette colour (the grid is grey).
    fn polylines(svg: &str) -> usize {
        curve_lines(svg).len()
    }

    fn curve_lines(svg: &str) -> Vec<std::collections::HashMap<String, String>> {
        let palette: Vec<String> = PALETTE.iter().map(|c| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)).collect();
        svg_test::elements(svg, "polyline").into_iter().filter(|l| palette.contains(&l["stroke"])).collect()
    }

    #[test]
    fn one_series() {
        let s = [series("train loss", &curve(50, |e| 2.0 / e))];
        let svg = line_chart_svg(&chart(&s, false)).unwrap();
        assert_eq!(polylines(&svg), 2); // the curve and its legend sample
        let texts: Vec<String> = svg_test::texts(&svg).into_iter().map(|(_, t)| t).collect();
        for t in ["Training", "epoch", "loss", "train loss"] {
            assert!(texts.iter().any(|x| x == t), "{t} missing in {texts:?}");
        }
    }

    #[test]
    fn several_series_each_with_a_legend_entry_and_colour() {
        let s = [
            series("train", &curve(30, |e| 1.0 / e)),
            series("validation", &curve(30, |e| 1.2 / e + 0.05)),
            series("test", &curve(30, |e| 1.1 / e + 0.02)),
        ];
        let svg = line_chart_svg(&chart(&s, false)).unwrap();
        // One line per series plus one legend sample each.
        let lines = curve_lines(&svg);
        assert_eq!(lines.len(), 6);
        let colours: std::collections::HashSet<&str> = lines.iter().map(|l| l["stroke"].as_str()).collect();
        assert_eq!(colours.len(), 3);
        let texts: Vec<String> = svg_test::texts(&svg).into_iter().map(|(_, t)| t).collect();
        assert!(["train", "validation", "test"].iter().all(|n| texts.iter().any(|t| t == n)));
    }

    #[test]
    fn single_point_gets_a_marker() {
        let s = [series("acc", &[(1.0, 0.5)])];
        let svg = line_chart_svg(&chart(&s, false)).unwrap();
        assert!(!svg_test::elements(&svg, "circle").is_empty());
        let (w, h) = svg_test::size(&svg);
        assert!(w > 100.0 && h > 100.0);
    }

    #[test]
    fn log_y_with_positive_values() {
        let s = [series("lr", &curve(100, |e| 1e-3 * 0.95f64.powf(e)))];
        let svg = line_chart_svg(&chart(&s, true)).unwrap();
        assert_eq!(polylines(&svg), 2);
        // Tick labels on such small values are all in scientific notation, each printed once, at
        // 1, 2 or 5 × 10^n.
        let ticks: Vec<String> =
            svg_test::texts(&svg).into_iter().map(|(_, t)| t).filter(|t| t.contains("e-")).collect();
        assert!(ticks.len() >= 3, "{ticks:?}");
        assert!(ticks.iter().all(|t| ["1e", "2e", "5e"].iter().any(|m| t.starts_with(m))), "{ticks:?}");
        let unique: std::collections::HashSet<&String> = ticks.iter().collect();
        assert_eq!(unique.len(), ticks.len());
    }

    #[test]
    fn log_ticks_cover_the_range() {
        let close = |a: Vec<f64>, b: &[f64]| {
            assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
            assert!(a.iter().zip(b).all(|(x, y)| (x / y - 1.0).abs() < 1e-9), "{a:?} vs {b:?}");
        };
        close(log_ticks(0.9e-4, 1.1e-3), &[1e-4, 2e-4, 5e-4, 1e-3]);
        close(log_ticks(0.05, 800.0), &[0.1, 1.0, 10.0, 100.0]);
        close(log_ticks(0.9e-10, 1.1), &[1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1.0]);
        // Under a decade: every digit.
        close(log_ticks(0.75e-3, 1.2e-3), &[8e-4, 9e-4, 1e-3]);
    }

    #[test]
    fn log_y_rejects_zero_and_negative() {
        for bad in [0.0, -1.0] {
            let s = [series("ok", &[(1.0, 1.0)]), series("loss", &[(1.0, 1.0), (2.0, bad)])];
            match line_chart_svg(&chart(&s, true)) {
                Err(PlotError::NonPositiveOnLogScale { series, value }) => {
                    assert_eq!((series.as_str(), value), ("loss", bad))
                }
                other => panic!("expected NonPositiveOnLogScale, got {other:?}"),
            }
        }
    }

    #[test]
    fn non_finite_points_break_the_line() {
        let s = [series("loss", &[(1.0, 1.0), (2.0, 0.5), (3.0, f64::NAN), (4.0, 0.4), (5.0, 0.3)])];
        let svg = line_chart_svg(&chart(&s, false)).unwrap();
        assert_eq!(polylines(&svg), 3); // two pieces and the legend sample
    }

    #[test]
    fn nothing_to_draw_is_an_error() {
        assert!(matches!(line_chart_svg(&chart(&[], false)), Err(PlotError::Empty(_))));
        let s = [series("empty", &[]), series("nan", &[(f64::NAN, 1.0)])];
        assert!(matches!(line_chart_svg(&chart(&s, false)), Err(PlotError::Empty(_))));
    }

    #[test]
    fn flat_series_and_long_names_fit() {
        let long = "validation accuracy of the very long model name";
        let s = [series(long, &curve(5, |_| 0.8))];
        let svg = line_chart_svg(&chart(&s, false)).unwrap();
        let (w, _) = svg_test::size(&svg);
        let (attrs, _) = svg_test::texts(&svg).into_iter().find(|(_, t)| t == long).unwrap();
        assert!(svg_test::num(&attrs, "x") + text_width(long, LEGEND_SIZE) <= w);
    }
}
