//! Interpretability figure for ALSTM-FCN: where the model looks, per class. One panel per example;
//! inside it one lane per channel, the channel's line coloured and thickened by its attention weight
//! (relative to the example's largest, so the channel the model relies on stands out) and its lane
//! tinted likewise, with a bar and the number for the absolute weight. A univariate example (one
//! channel, weight 1) is one lane with a full bar.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{Anchor, Canvas, Figure, PlotError, max_text_width, mix, px, render_svg, stroke, text_width};

/// One example: its label (class), its channels (C channels × T values) and one attention weight
/// per channel (they sum to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct AttentionExample {
    pub label: String,
    pub channels: Vec<Vec<f64>>,
    pub weights: Vec<f64>,
}

/// Small multiples, one panel per example, as an SVG document. Non-finite values (padding of
/// variable-length series) break a channel's line instead of failing.
pub fn attention_svg(title: &str, examples: &[AttentionExample]) -> Result<String, PlotError> {
    render_svg(&AttentionLayout::new(title, examples)?)
}

const MARGIN: f64 = 16.0;
const TITLE_SIZE: f64 = 22.0;
const NOTE_SIZE: f64 = 13.0;
const PANEL_TITLE_SIZE: f64 = 16.0;
const CH_SIZE: f64 = 13.0;
const AXIS_SIZE: f64 = 12.0;
const PLOT_W: f64 = 320.0;
const BAR_MAX: f64 = 56.0;
const GAP_X: f64 = 32.0;
const GAP_Y: f64 = 26.0;
/// Lanes share this height among channels, within these bounds.
const LANES_H: f64 = 180.0;
const LANE_MIN: f64 = 18.0;
const LANE_MAX: f64 = 120.0;
const NOTE: &str =
    "line colour and width: attention weight relative to the example's largest; bar: weight; x: time step";

/// Grey for an ignored channel, dark orange for the most attended one.
const COLD: RGBColor = RGBColor(175, 175, 175);
const HOT: RGBColor = RGBColor(204, 76, 2);
const TINT: RGBColor = RGBColor(254, 227, 196);

#[derive(Debug, Clone)]
pub(crate) struct AttentionLayout {
    width: f64,
    height: f64,
    title: String,
    note_y: f64,
    examples: Vec<(String, Vec<Vec<f64>>, Vec<f64>)>,
    ncols: usize,
    /// Top-left of the first panel, panel size, and lane height.
    origin: (f64, f64),
    panel: (f64, f64),
    lane_h: f64,
    /// Widths inside a panel: channel label column and the weight-bar column before the plot.
    ch_w: f64,
    left_w: f64,
}

impl AttentionLayout {
    fn new(title: &str, examples: &[AttentionExample]) -> Result<Self, PlotError> {
        if examples.is_empty() {
            return Err(PlotError::Empty("an attention figure needs at least one example".into()));
        }
        for (i, e) in examples.iter().enumerate() {
            let what = format!("example {i} (`{}`)", e.label);
            if e.channels.is_empty() {
                return Err(PlotError::InvalidInput(format!("{what} has no channel")));
            }
            if e.weights.len() != e.channels.len() {
                return Err(PlotError::InvalidInput(format!(
                    "{what} has {} weights for {} channels",
                    e.weights.len(),
                    e.channels.len()
                )));
            }
            if let Some(w) = e.weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
                return Err(PlotError::InvalidInput(format!("{what} has attention weight {w}")));
            }
            if let Some(c) = e.channels.iter().position(Vec::is_empty) {
                return Err(PlotError::InvalidInput(format!("{what}: channel {} has no values", c + 1)));
            }
        }
        let max_c = examples.iter().map(|e| e.channels.len()).max().unwrap_or(1);
        let lane_h = (LANES_H / max_c as f64).clamp(LANE_MIN, LANE_MAX);
        let ch_w = text_width(&format!("ch {max_c}"), CH_SIZE);
        let weight_w = text_width("0.00", CH_SIZE);
        let left_w = ch_w + 6.0 + BAR_MAX + 4.0 + weight_w + 10.0;
        let label_w = max_text_width(examples.iter().map(|e| e.label.as_str()), PANEL_TITLE_SIZE);
        let panel_w = (left_w + PLOT_W).max(label_w);
        let panel_h = PANEL_TITLE_SIZE + 10.0 + max_c as f64 * lane_h + AXIS_SIZE + 8.0;

        let n = examples.len();
        let ncols = match n {
            1..=3 => n,
            4 => 2,
            _ => 3,
        };
        let nrows = n.div_ceil(ncols);
        let content_w = 2.0 * MARGIN + ncols as f64 * panel_w + (ncols - 1) as f64 * GAP_X;
        let width =
            content_w.max(text_width(title, TITLE_SIZE) + 2.0 * MARGIN).max(text_width(NOTE, NOTE_SIZE) + 2.0 * MARGIN);
        let mut y = MARGIN;
        if !title.is_empty() {
            y += TITLE_SIZE + 8.0;
        }
        let note_y = y + NOTE_SIZE / 2.0;
        y += NOTE_SIZE + 18.0;
        let height = y + nrows as f64 * panel_h + (nrows - 1) as f64 * GAP_Y + MARGIN;

        Ok(AttentionLayout {
            width: width.ceil(),
            height: height.ceil(),
            title: title.to_string(),
            note_y,
            examples: examples.iter().map(|e| (e.label.clone(), e.channels.clone(), e.weights.clone())).collect(),
            ncols,
            origin: (MARGIN + (width - content_w) / 2.0, y),
            panel: (panel_w, panel_h),
            lane_h,
            ch_w,
            left_w,
        })
    }
}

/// Points of one channel in lane pixels, split where values are not finite. Long series keep the
/// first, lowest, highest and last value of each pixel column, which looks the same at a tenth of
/// the size.
fn lane_paths(values: &[f64], x0: f64, w: f64, y_top: f64, h: f64) -> Vec<Vec<(f64, f64)>> {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let pad = (h * 0.12).min(6.0);
    let y_of = |v: f64| {
        if hi > lo { y_top + h - pad - (v - lo) / (hi - lo) * (h - 2.0 * pad) } else { y_top + h / 2.0 }
    };
    let t = values.len();
    let x_of = |i: usize| if t > 1 { x0 + i as f64 / (t - 1) as f64 * w } else { x0 + w / 2.0 };
    let mut paths = Vec::new();
    let mut run: Vec<(f64, f64)> = Vec::new();
    let mut column: Vec<(usize, f64)> = Vec::new();
    let flush_column = |column: &mut Vec<(usize, f64)>, run: &mut Vec<(f64, f64)>| {
        if column.len() <= 4 {
            run.extend(column.iter().map(|&(i, v)| (x_of(i), y_of(v))));
        } else {
            let first = column[0];
            let last = column[column.len() - 1];
            let lo = column.iter().copied().fold(first, |a, b| if b.1 < a.1 { b } else { a });
            let hi = column.iter().copied().fold(first, |a, b| if b.1 > a.1 { b } else { a });
            let mut keep = [first, lo, hi, last];
            keep.sort_by_key(|p| p.0);
            run.extend(keep.iter().map(|&(i, v)| (x_of(i), y_of(v))));
        }
        column.clear();
    };
    for (i, &v) in values.iter().enumerate() {
        if !v.is_finite() {
            flush_column(&mut column, &mut run);
            if !run.is_empty() {
                paths.push(std::mem::take(&mut run));
            }
            continue;
        }
        if column.first().is_some_and(|&(j, _)| x_of(j).floor() != x_of(i).floor()) {
            flush_column(&mut column, &mut run);
        }
        column.push((i, v));
    }
    flush_column(&mut column, &mut run);
    if !run.is_empty() {
        paths.push(run);
    }
    paths
}

impl Figure for AttentionLayout {
    fn size(&self) -> (u32, u32) {
        (self.width as u32, self.height as u32)
    }

    fn draw<DB: DrawingBackend>(&self, c: &Canvas<DB>) -> Result<(), PlotError> {
        let root = c.area;
        let ink = RGBColor(0, 0, 0);
        let grey = RGBColor(110, 110, 110);
        let rule = RGBColor(200, 200, 200);
        c.title(&self.title, self.width, MARGIN, TITLE_SIZE)?;
        c.text(NOTE, (self.width / 2.0, self.note_y), NOTE_SIZE, grey, Anchor::new(HPos::Center, VPos::Center))?;

        let (pw, ph) = self.panel;
        for (n, (label, channels, weights)) in self.examples.iter().enumerate() {
            let px0 = self.origin.0 + (n % self.ncols) as f64 * (pw + GAP_X);
            let py0 = self.origin.1 + (n / self.ncols) as f64 * (ph + GAP_Y);
            c.text(
                label,
                (px0, py0 + PANEL_TITLE_SIZE / 2.0),
                PANEL_TITLE_SIZE,
                ink,
                Anchor::new(HPos::Left, VPos::Center),
            )?;
            let lanes_top = py0 + PANEL_TITLE_SIZE + 10.0;
            let plot_x0 = px0 + self.left_w;
            let plot_w = pw - self.left_w;
            let lanes_bottom = lanes_top + channels.len() as f64 * self.lane_h;
            let w_max = weights.iter().copied().fold(0.0, f64::max);

            for (ch, (values, &w)) in channels.iter().zip(weights).enumerate() {
                let rel = if w_max > 0.0 { w / w_max } else { 0.0 };
                let y0 = lanes_top + ch as f64 * self.lane_h;
                let mid = y0 + self.lane_h / 2.0;
                let line = mix(COLD, HOT, rel);
                if rel > 0.0 {
                    let tint = mix(RGBColor(255, 255, 255), TINT, rel);
                    root.draw(&Rectangle::new(
                        [px(plot_x0, y0), px(plot_x0 + plot_w, y0 + self.lane_h)],
                        tint.filled(),
                    ))?;
                }
                if ch > 0 {
                    root.draw(&PathElement::new(vec![px(plot_x0, y0), px(plot_x0 + plot_w, y0)], rule))?;
                }
                // Label, weight bar (full length = weight 1) and the weight itself.
                c.text(
                    &format!("ch {}", ch + 1),
                    (px0 + self.ch_w, mid),
                    CH_SIZE,
                    ink,
                    Anchor::new(HPos::Right, VPos::Center),
                )?;
                let bar_x = px0 + self.ch_w + 6.0;
                let bar_h = (self.lane_h * 0.5).min(10.0);
                let (b0, b1) = (mid - bar_h / 2.0, mid + bar_h / 2.0);
                root.draw(&Rectangle::new([px(bar_x, b0), px(bar_x + BAR_MAX, b1)], RGBColor(238, 238, 238).filled()))?;
                if w > 0.0 {
                    let len = (BAR_MAX * w.min(1.0)).max(1.0);
                    root.draw(&Rectangle::new([px(bar_x, b0), px(bar_x + len, b1)], line.filled()))?;
                }
                let at = (bar_x + BAR_MAX + 4.0, mid);
                c.text(&format!("{w:.2}"), at, CH_SIZE, ink, Anchor::new(HPos::Left, VPos::Center))?;

                let style = line.stroke_width(stroke(1.0 + 2.0 * rel));
                for path in lane_paths(values, plot_x0 + 4.0, plot_w - 8.0, y0, self.lane_h) {
                    if path.len() == 1 {
                        root.draw(&Circle::new(px(path[0].0, path[0].1), 3, line.filled()))?;
                    } else {
                        root.draw(&PathElement::new(
                            path.into_iter().map(|(x, y)| px(x, y)).collect::<Vec<_>>(),
                            style,
                        ))?;
                    }
                }
            }
            root.draw(&Rectangle::new([px(plot_x0, lanes_top), px(plot_x0 + plot_w, lanes_bottom)], rule))?;
            // Time axis: first and last step under the plot's ends.
            let t_max = channels.iter().map(Vec::len).max().unwrap_or(1).saturating_sub(1);
            let ty = lanes_bottom + 4.0;
            c.text("0", (plot_x0 + 4.0, ty), AXIS_SIZE, grey, Anchor::new(HPos::Center, VPos::Top))?;
            if t_max > 0 {
                c.text(
                    &t_max.to_string(),
                    (plot_x0 + plot_w - 4.0, ty),
                    AXIS_SIZE,
                    grey,
                    Anchor::new(HPos::Center, VPos::Top),
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::svg_test;

    fn wave(t: usize, f: f64) -> Vec<f64> {
        (0..t).map(|i| (i as f64 * f).sin()).collect()
    }

    /// Channel lines: polylines with more than two points (lane rules have two).
    fn lines(svg: &str) -> Vec<std::collections::HashMap<String, String>> {
        svg_test::elements(svg, "polyline").into_iter().filter(|p| p["points"].split_whitespace().count() > 2).collect()
    }

    #[test]
    fn univariate_renders_one_full_weight_lane() {
        let ex = [AttentionExample { label: "class A".into(), channels: vec![wave(100, 0.1)], weights: vec![1.0] }];
        let svg = attention_svg("uni", &ex).unwrap();
        assert_eq!(lines(&svg).len(), 1);
        let texts: Vec<String> = svg_test::texts(&svg).into_iter().map(|(_, t)| t).collect();
        for t in ["uni", "class A", "ch 1", "1.00", "0", "99"] {
            assert!(texts.iter().any(|x| x == t), "{t} missing in {texts:?}");
        }
        // Full weight: the line is drawn in the "hot" colour, at its thickest.
        let l = &lines(&svg)[0];
        assert_eq!(l["stroke"], format!("#{:02X}{:02X}{:02X}", HOT.0, HOT.1, HOT.2));
        assert_eq!(l["stroke-width"], "3");
    }

    #[test]
    fn three_channels_thickness_follows_weight() {
        let weights = vec![0.1, 0.62, 0.28];
        let ex = [
            AttentionExample {
                label: "a".into(),
                channels: vec![wave(50, 0.1), wave(50, 0.2), wave(50, 0.3)],
                weights,
            },
            AttentionExample {
                label: "b".into(),
                channels: vec![wave(50, 0.1), wave(50, 0.2), wave(50, 0.3)],
                weights: vec![0.2, 0.3, 0.5],
            },
        ];
        let svg = attention_svg("multi", &ex).unwrap();
        let l = lines(&svg);
        assert_eq!(l.len(), 6);
        let widths: Vec<u32> = l[..3].iter().map(|p| p["stroke-width"].parse().unwrap()).collect();
        assert!(widths[1] > widths[2] && widths[2] >= widths[0], "{widths:?}");
        let texts: Vec<String> = svg_test::texts(&svg).into_iter().map(|(_, t)| t).collect();
        for t in ["ch 1", "ch 2", "ch 3", "0.62", "0.28", "0.10", "0.50"] {
            assert!(texts.iter().any(|x| x == t), "{t} missing");
        }
    }

    #[test]
    fn long_series_are_thinned_and_nan_breaks_the_line() {
        let mut v = wave(20_000, 0.01);
        v[10_000] = f64::NAN;
        let ex = [AttentionExample { label: "long".into(), channels: vec![v], weights: vec![1.0] }];
        let svg = attention_svg("", &ex).unwrap();
        let l = lines(&svg);
        assert_eq!(l.len(), 2);
        let points: usize = l.iter().map(|p| p["points"].split_whitespace().count()).sum();
        assert!(points < 2_000, "{points} points kept");
    }

    #[test]
    fn single_value_and_flat_channels_render() {
        let ex =
            [AttentionExample { label: "x".into(), channels: vec![vec![1.0], vec![2.0; 10]], weights: vec![0.5, 0.5] }];
        let svg = attention_svg("t", &ex).unwrap();
        assert_eq!(svg_test::elements(&svg, "circle").len(), 1);
        assert_eq!(lines(&svg).len(), 1);
    }

    #[test]
    fn bad_input_is_an_error() {
        let ok = || AttentionExample { label: "x".into(), channels: vec![wave(5, 0.1)], weights: vec![1.0] };
        assert!(matches!(attention_svg("t", &[]), Err(PlotError::Empty(_))));
        let mut e = ok();
        e.weights = vec![0.5, 0.5];
        assert!(matches!(attention_svg("t", &[e]), Err(PlotError::InvalidInput(_))));
        let mut e = ok();
        e.weights = vec![f64::NAN];
        assert!(matches!(attention_svg("t", &[e]), Err(PlotError::InvalidInput(_))));
        let mut e = ok();
        e.weights = vec![-0.1];
        assert!(matches!(attention_svg("t", &[e]), Err(PlotError::InvalidInput(_))));
        let mut e = ok();
        e.channels = vec![vec![]];
        assert!(matches!(attention_svg("t", &[e]), Err(PlotError::InvalidInput(_))));
        let mut e = ok();
        e.channels = vec![];
        e.weights = vec![];
        assert!(matches!(attention_svg("t", &[e]), Err(PlotError::InvalidInput(_))));
    }

    #[test]
    fn many_examples_wrap_into_rows_and_fit() {
        let ex: Vec<AttentionExample> = (0..7)
            .map(|i| AttentionExample {
                label: format!("class {i} with a fairly long descriptive label"),
                channels: vec![wave(30, 0.2); 2],
                weights: vec![0.5, 0.5],
            })
            .collect();
        let layout = AttentionLayout::new("seven", &ex).unwrap();
        assert_eq!(layout.ncols, 3);
        let svg = attention_svg("seven", &ex).unwrap();
        let (w, h) = svg_test::size(&svg);
        for (a, t) in svg_test::texts(&svg) {
            let x = svg_test::num(&a, "x");
            let tw = text_width(&t, svg_test::num(&a, "font-size") * 1.24);
            let left = match a["text-anchor"].as_str() {
                "end" => x - tw,
                "middle" => x - tw / 2.0,
                _ => x,
            };
            assert!(left >= 0.0 && left + tw <= w + 0.5, "`{t}` leaves the canvas");
            assert!(svg_test::num(&a, "y") < h);
        }
    }
}
