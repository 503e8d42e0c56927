//! Critical-difference diagram of average ranks, in the style of Demšar (2006) and of the TSC
//! literature's `cd-diagram` script: a rank axis at the top, each method joined by an elbow line to
//! its average rank, thick bars joining methods that are not significantly different, and the
//! Nemenyi critical difference as a scale bar above the axis.
//!
//! Rank 1 (best) is at the LEFT end of the axis; the better half of the methods is listed on the
//! left, the rest on the right, each with its average rank to 4 decimals above its line.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{Anchor, Canvas, Figure, PlotError, max_text_width, px, render_png, render_svg, stroke, text_width};

/// Input of a CD diagram.
#[derive(Debug, Clone, Copy)]
pub struct CdDiagram<'a> {
    /// Method name and average rank (1 = best), in any order.
    pub methods: &'a [(String, f64)],
    /// Sets of methods (indices into `methods`) that are not significantly different; each set of
    /// two or more methods is drawn as one thick bar from its lowest to its highest rank.
    pub groups: &'a [Vec<usize>],
    /// Nemenyi critical difference, drawn as a scale bar above the axis when given.
    pub cd: Option<f64>,
    pub title: Option<&'a str>,
}

/// The diagram as an SVG document.
pub fn cd_diagram_svg(d: &CdDiagram) -> Result<String, PlotError> {
    render_svg(&CdLayout::new(d, 1.0)?)
}

/// The diagram as PNG file bytes, drawn at twice the SVG's pixel size so it stays sharp in papers.
pub fn cd_diagram_png(d: &CdDiagram) -> Result<Vec<u8>, PlotError> {
    render_png(&CdLayout::new(d, PNG_SCALE)?)
}

const PNG_SCALE: f64 = 2.0;

// Sizes at scale 1, in pixels (font sizes in plotters units; an SVG shows them at size / 1.24 px).
const MARGIN: f64 = 16.0;
const NAME_SIZE: f64 = 17.0;
const RANK_SIZE: f64 = 13.0;
const TICK_SIZE: f64 = 15.0;
const TITLE_SIZE: f64 = 22.0;
const CAPTION_SIZE: f64 = 14.0;
const ROW_H: f64 = 26.0;
const TEXT_GAP: f64 = 6.0;
const BAR_THICK: f64 = 5.0;
const BAR_STEP: f64 = 11.0;
/// Horizontal gap between two bars sharing a level, so they read as two bars.
const BAR_GAP: f64 = 12.0;
/// Bars overhang the extreme ranks a little, so a bar over two tied methods is still visible.
const BAR_OVERHANG: f64 = 4.0;
const TICK_MAJOR: f64 = 8.0;
const TICK_MINOR: f64 = 4.0;
/// Axis length per rank unit, and the least axis length (few methods still get a wide axis).
const UNIT: f64 = 40.0;
const MIN_AXIS: f64 = 360.0;

/// One method as placed on the canvas.
#[derive(Debug, Clone)]
pub(crate) struct Mark {
    pub name: String,
    pub rank: f64,
    /// x of the rank on the axis.
    pub axis_x: f64,
    /// y of the method's row (elbow and name).
    pub row_y: f64,
    /// x where the elbow's horizontal part ends, next to the name.
    pub end_x: f64,
    /// Listed on the left (better half) or the right.
    pub left: bool,
}

/// A thick bar joining a group of methods that are not significantly different.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bar {
    pub x0: f64,
    pub x1: f64,
    pub y: f64,
}

/// Everything the diagram draws, in pixels; shared by the SVG and PNG renderers and the tests.
#[derive(Debug, Clone)]
pub(crate) struct CdLayout {
    pub width: f64,
    pub height: f64,
    s: f64,
    k: usize,
    title: Option<(String, f64)>,
    caption_y: f64,
    /// Critical difference bar: x0, x1, y and its label.
    cd: Option<(f64, f64, f64, String)>,
    tick_label_y: f64,
    pub axis_y: f64,
    pub axis_x0: f64,
    pub axis_x1: f64,
    /// Methods in input order.
    pub marks: Vec<Mark>,
    pub bars: Vec<Bar>,
}

impl CdLayout {
    /// Validates the input and places every element; `s` scales all sizes (PNG is drawn larger).
    pub(crate) fn new(d: &CdDiagram, s: f64) -> Result<Self, PlotError> {
        let k = d.methods.len();
        if k == 0 {
            return Err(PlotError::Empty("a CD diagram needs methods".into()));
        }
        if k < 2 {
            return Err(PlotError::InvalidInput("a CD diagram compares at least 2 methods".into()));
        }
        for (name, r) in d.methods {
            if !r.is_finite() {
                return Err(PlotError::InvalidInput(format!("method `{name}` has average rank {r}")));
            }
            // Average ranks of k methods always lie in [1, k]: anything else is a caller's bug.
            if *r < 1.0 - 1e-9 || *r > k as f64 + 1e-9 {
                return Err(PlotError::InvalidInput(format!(
                    "method `{name}` has average rank {r}, outside 1..={k} for {k} methods"
                )));
            }
        }
        for (g, members) in d.groups.iter().enumerate() {
            if let Some(&i) = members.iter().find(|&&i| i >= k) {
                return Err(PlotError::InvalidInput(format!(
                    "group {g} refers to method index {i}, but there are only {k} methods"
                )));
            }
        }
        let cd = match d.cd {
            Some(cd) if !(cd.is_finite() && cd > 0.0) => {
                return Err(PlotError::InvalidInput(format!("critical difference {cd} is not a positive number")));
            }
            other => other,
        };

        // Order by rank (ties by input order, so output is deterministic); the better half, rounded
        // up, goes to the left.
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| d.methods[a].1.total_cmp(&d.methods[b].1).then(a.cmp(&b)));
        let n_left = k.div_ceil(2);
        let (left_ids, right_ids) = order.split_at(n_left);

        let rank_text = |i: usize| format!("{:.4}", d.methods[i].1);
        let name_w = |ids: &[usize]| max_text_width(ids.iter().map(|&i| d.methods[i].0.as_str()), NAME_SIZE * s);
        let left_w = name_w(left_ids);
        let right_w = name_w(right_ids);
        let rank_w = (0..k).map(|i| text_width(&rank_text(i), RANK_SIZE * s)).fold(0.0, f64::max);
        let tick_w = text_width(&k.to_string(), TICK_SIZE * s);

        // Horizontal: [margin | left names | gap | rank labels | axis | rank labels | gap | right names | margin].
        let gap = TEXT_GAP * s;
        let pad = (rank_w + 2.0 * gap + 10.0 * s).max(tick_w);
        let axis_len = (MIN_AXIS * s).max((k - 1) as f64 * UNIT * s);
        let unit = axis_len / (k - 1) as f64;
        let left_end = MARGIN * s + left_w + gap;
        let axis_x0 = left_end + pad;
        let axis_x1 = axis_x0 + axis_len;
        let right_end = axis_x1 + pad;
        let mut content_w = right_end + gap + right_w + MARGIN * s;
        let cd_label = cd.map(|c| format!("CD = {c:.4}"));
        if let (Some(c), Some(label)) = (cd, &cd_label) {
            // A CD wider than the axis (few data sets) still gets drawn to scale.
            let reach = axis_x0 + c * unit;
            let label_reach = axis_x0 + c * unit / 2.0 + text_width(label, CAPTION_SIZE * s) / 2.0;
            content_w = content_w.max(reach.max(label_reach) + MARGIN * s);
        }
        let caption = caption();
        let title_w = d.title.map_or(0.0, |t| text_width(t, TITLE_SIZE * s));
        let width =
            content_w.max(title_w + 2.0 * MARGIN * s).max(text_width(caption, CAPTION_SIZE * s) + 2.0 * MARGIN * s);
        // Centre the content when the title is the widest thing.
        let dx = (width - content_w) / 2.0;
        let x = |r: f64| dx + axis_x0 + (r - 1.0) * unit;

        // Vertical, top down: title, caption, CD bar, tick labels, axis, group bars, rows.
        let mut y = MARGIN * s;
        let title = d.title.map(|t| {
            let ty = y + TITLE_SIZE * s / 2.0;
            y += TITLE_SIZE * s + 10.0 * s;
            (t.to_string(), ty)
        });
        let caption_y = y + CAPTION_SIZE * s / 2.0;
        y += CAPTION_SIZE * s + 8.0 * s;
        let cd_bar = match (cd, cd_label) {
            (Some(c), Some(label)) => {
                // Room for the label above the bar (drawn bottom-anchored just over it).
                y += CAPTION_SIZE * s + 8.0 * s;
                let bar = (x(1.0), x(1.0) + c * unit, y, label);
                y += 12.0 * s;
                Some(bar)
            }
            _ => None,
        };
        let tick_label_y = y + TICK_SIZE * s / 2.0;
        y += TICK_SIZE * s + 4.0 * s;
        let axis_y = y + TICK_MAJOR * s;

        let bars = stack_bars(d, &|r| x(r), axis_y + 14.0 * s, s);
        let bars_bottom = bars.iter().map(|b| b.y + BAR_THICK * s / 2.0).fold(axis_y, f64::max);
        let rows_top = bars_bottom + if bars.is_empty() { 22.0 * s } else { 16.0 * s };

        let mut marks: Vec<Option<Mark>> = vec![None; k];
        for (row, &i) in left_ids.iter().enumerate() {
            marks[i] = Some(Mark {
                name: d.methods[i].0.clone(),
                rank: d.methods[i].1,
                axis_x: x(d.methods[i].1),
                row_y: rows_top + row as f64 * ROW_H * s,
                end_x: dx + left_end,
                left: true,
            });
        }
        // Right side: the worst method on the top row, so elbows nest without crossing.
        for (row, &i) in right_ids.iter().rev().enumerate() {
            marks[i] = Some(Mark {
                name: d.methods[i].0.clone(),
                rank: d.methods[i].1,
                axis_x: x(d.methods[i].1),
                row_y: rows_top + row as f64 * ROW_H * s,
                end_x: dx + right_end,
                left: false,
            });
        }
        let marks: Vec<Mark> = marks.into_iter().flatten().collect();
        let rows = n_left.max(k - n_left) as f64;
        let height = rows_top + (rows - 1.0) * ROW_H * s + ROW_H * s / 2.0 + MARGIN * s;

        Ok(CdLayout {
            width: width.ceil(),
            height: height.ceil(),
            s,
            k,
            title,
            caption_y,
            cd: cd_bar,
            tick_label_y,
            axis_y,
            axis_x0: x(1.0),
            axis_x1: x(k as f64),
            marks,
            bars,
        })
    }
}

fn caption() -> &'static str {
    "average rank (1 = best)"
}

/// One bar per group of two or more distinct methods, each on the first level where it does not
/// touch a bar already there (groups sorted by lowest rank), so bars never overlap.
fn stack_bars(d: &CdDiagram, x: &dyn Fn(f64) -> f64, top: f64, s: f64) -> Vec<Bar> {
    let mut spans: Vec<(f64, f64)> = d
        .groups
        .iter()
        .filter_map(|g| {
            let mut members = g.clone();
            members.sort_unstable();
            members.dedup();
            if members.len() < 2 {
                return None;
            }
            let ranks = members.iter().map(|&i| d.methods[i].1);
            let lo = ranks.clone().fold(f64::INFINITY, f64::min);
            let hi = ranks.fold(f64::NEG_INFINITY, f64::max);
            Some((x(lo) - BAR_OVERHANG * s, x(hi) + BAR_OVERHANG * s))
        })
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut level_ends: Vec<f64> = Vec::new();
    let mut bars = Vec::with_capacity(spans.len());
    for (x0, x1) in spans {
        let level = match level_ends.iter().position(|&end| end + BAR_GAP * s <= x0) {
            Some(l) => l,
            None => {
                level_ends.push(f64::NEG_INFINITY);
                level_ends.len() - 1
            }
        };
        level_ends[level] = x1;
        bars.push(Bar { x0, x1, y: top + level as f64 * BAR_STEP * s });
    }
    bars
}

impl Figure for CdLayout {
    fn size(&self) -> (u32, u32) {
        (self.width as u32, self.height as u32)
    }

    fn draw<DB: DrawingBackend>(&self, c: &Canvas<DB>) -> Result<(), PlotError> {
        let root = c.area;
        let s = self.s;
        let ink = RGBColor(0, 0, 0);
        let thin = ink.stroke_width(stroke(1.2 * s));
        let center = self.width / 2.0;

        if let Some((t, y)) = &self.title {
            c.text(t, (center, *y), TITLE_SIZE * s, ink, Anchor::new(HPos::Center, VPos::Center))?;
        }
        let mid_axis = (self.axis_x0 + self.axis_x1) / 2.0;
        let grey = RGBColor(80, 80, 80);
        c.text(caption(), (mid_axis, self.caption_y), CAPTION_SIZE * s, grey, Anchor::new(HPos::Center, VPos::Center))?;

        if let Some((x0, x1, y, label)) = &self.cd {
            root.draw(&PathElement::new(vec![px(*x0, *y), px(*x1, *y)], thin))?;
            for xe in [*x0, *x1] {
                root.draw(&PathElement::new(vec![px(xe, y - 4.0 * s), px(xe, y + 4.0 * s)], thin))?;
            }
            let at = ((x0 + x1) / 2.0, y - 6.0 * s);
            c.text(label, at, CAPTION_SIZE * s, ink, Anchor::new(HPos::Center, VPos::Bottom))?;
        }

        // Axis with a major tick and label at every whole rank, a minor tick at every half.
        let unit = (self.axis_x1 - self.axis_x0) / (self.k - 1) as f64;
        root.draw(&PathElement::new(vec![px(self.axis_x0, self.axis_y), px(self.axis_x1, self.axis_y)], thin))?;
        for half in 0..=(2 * (self.k - 1)) {
            let xt = self.axis_x0 + half as f64 * unit / 2.0;
            let len = if half % 2 == 0 { TICK_MAJOR } else { TICK_MINOR } * s;
            root.draw(&PathElement::new(vec![px(xt, self.axis_y - len), px(xt, self.axis_y)], thin))?;
            if half % 2 == 0 {
                let label = (half / 2 + 1).to_string();
                c.text(&label, (xt, self.tick_label_y), TICK_SIZE * s, ink, Anchor::new(HPos::Center, VPos::Center))?;
            }
        }

        // Elbows, names and ranks.
        for m in &self.marks {
            let elbow = vec![px(m.axis_x, self.axis_y), px(m.axis_x, m.row_y), px(m.end_x, m.row_y)];
            root.draw(&PathElement::new(elbow, thin))?;
            let (name_x, name_h, rank_x, rank_h) = if m.left {
                (m.end_x - TEXT_GAP * s, HPos::Right, m.end_x + 3.0 * s, HPos::Left)
            } else {
                (m.end_x + TEXT_GAP * s, HPos::Left, m.end_x - 3.0 * s, HPos::Right)
            };
            c.text(&m.name, (name_x, m.row_y), NAME_SIZE * s, ink, Anchor::new(name_h, VPos::Center))?;
            let rank = format!("{:.4}", m.rank);
            c.text(&rank, (rank_x, m.row_y - 3.0 * s), RANK_SIZE * s, grey, Anchor::new(rank_h, VPos::Bottom))?;
        }

        // Group bars last, over the elbows, as in the literature's figures.
        for b in &self.bars {
            let half = BAR_THICK * s / 2.0;
            root.draw(&Rectangle::new([px(b.x0, b.y - half), px(b.x1, b.y + half)], ink.filled()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::svg_test;

    fn methods(ranks: &[f64], name_len: usize) -> Vec<(String, f64)> {
        ranks
            .iter()
            .enumerate()
            .map(|(i, &r)| {
                let base = format!("Method{i}-");
                let name = base.chars().chain(std::iter::repeat('x')).take(name_len.max(base.len())).collect();
                (name, r)
            })
            .collect()
    }

    /// k average ranks that are valid (sum to k(k+1)/2) and spread out unevenly.
    fn spread_ranks(k: usize) -> Vec<f64> {
        let raw: Vec<f64> = (0..k).map(|i| 1.0 + (i as f64).powf(1.3)).collect();
        let lo = raw[0];
        let hi = raw[k - 1];
        // Map into [1.2, k - 0.3], then shuffle deterministically.
        let mut r: Vec<f64> = raw.iter().map(|v| 1.2 + (v - lo) / (hi - lo) * (k as f64 - 1.5)).collect();
        r.reverse();
        r.rotate_left(k / 3);
        r
    }

    fn diagram<'a>(m: &'a [(String, f64)], g: &'a [Vec<usize>], cd: Option<f64>) -> CdDiagram<'a> {
        CdDiagram { methods: m, groups: g, cd, title: Some("Average ranks on 128 UCR datasets") }
    }

    #[test]
    fn every_name_and_rank_appears() {
        let m = methods(&[2.5, 1.25, 3.75, 2.5], 0);
        let svg = cd_diagram_svg(&diagram(&m, &[vec![0, 1, 3]], Some(1.2))).unwrap();
        let texts: Vec<String> = svg_test::texts(&svg).into_iter().map(|(_, t)| t).collect();
        for (name, r) in &m {
            assert!(texts.contains(name), "{name} missing in {texts:?}");
            assert!(texts.contains(&format!("{r:.4}")), "rank {r} missing");
        }
        assert!(texts.iter().any(|t| t.starts_with("CD")));
    }

    #[test]
    fn names_are_escaped() {
        let m = vec![("A<B & \"C\"".to_string(), 1.0), ("D".to_string(), 2.0)];
        let svg = cd_diagram_svg(&diagram(&m, &[], None)).unwrap();
        assert!(svg.contains("A&lt;B &amp; &quot;C&quot;"));
        assert!(svg_test::texts(&svg).iter().any(|(_, t)| t == "A<B & \"C\""));
    }

    /// Bars are the only black filled rectangles.
    fn bar_rects(svg: &str) -> usize {
        svg_test::elements(svg, "rect").iter().filter(|e| e.get("fill").map(String::as_str) == Some("#000000")).count()
    }

    #[test]
    fn one_bar_per_group_of_two_or_more() {
        let m = methods(&spread_ranks(8), 10);
        let groups = vec![vec![0, 1, 2], vec![3], vec![2, 3, 4, 5], vec![6, 7], vec![5, 5], vec![1, 4]];
        let svg = cd_diagram_svg(&diagram(&m, &groups, Some(2.0))).unwrap();
        assert_eq!(bar_rects(&svg), 4);
        let layout = CdLayout::new(&diagram(&m, &groups, None), 1.0).unwrap();
        assert_eq!(layout.bars.len(), 4);
        // Stacked bars never overlap: same level means disjoint spans.
        for (i, a) in layout.bars.iter().enumerate() {
            for b in &layout.bars[i + 1..] {
                if (a.y - b.y).abs() < 1e-9 {
                    assert!(a.x1 < b.x0 || b.x1 < a.x0, "{a:?} overlaps {b:?}");
                }
            }
        }
        // And all bars lie between the axis and the first row of names.
        let first_row = layout.marks.iter().map(|m| m.row_y).fold(f64::INFINITY, f64::min);
        assert!(layout.bars.iter().all(|b| b.y > layout.axis_y && b.y + BAR_THICK / 2.0 < first_row));
        let none = cd_diagram_svg(&diagram(&m, &[], None)).unwrap();
        assert_eq!(bar_rects(&none), 0);
    }

    #[test]
    fn bar_spans_its_members() {
        let m = methods(&[1.0, 2.0, 3.0, 4.0], 0);
        let layout = CdLayout::new(&diagram(&m, &[vec![3, 1]], None), 1.0).unwrap();
        let b = layout.bars[0];
        assert!(b.x0 < layout.marks[1].axis_x && layout.marks[1].axis_x - b.x0 < 10.0);
        assert!(b.x1 > layout.marks[3].axis_x && b.x1 - layout.marks[3].axis_x < 10.0);
    }

    #[test]
    fn x_is_monotone_in_rank_best_on_the_left() {
        let m = methods(&spread_ranks(9), 12);
        let layout = CdLayout::new(&diagram(&m, &[], None), 1.0).unwrap();
        let mut marks = layout.marks.clone();
        marks.sort_by(|a, b| a.rank.total_cmp(&b.rank));
        for w in marks.windows(2) {
            assert!(w[0].axis_x < w[1].axis_x, "{:?} vs {:?}", w[0], w[1]);
        }
        // Better half listed left (names end left of the axis), the rest right.
        assert!(marks[..5].iter().all(|m| m.left && m.end_x < layout.axis_x0));
        assert!(marks[5..].iter().all(|m| !m.left && m.end_x > layout.axis_x1));
        // The SVG agrees: each elbow starts at the axis x of its method.
        let svg = cd_diagram_svg(&diagram(&m, &[], None)).unwrap();
        let starts: Vec<f64> = svg_test::elements(&svg, "polyline")
            .iter()
            .filter_map(|p| {
                let pts: Vec<&str> = p["points"].split_whitespace().collect();
                (pts.len() == 3).then(|| pts[0].split(',').next().unwrap().parse().unwrap())
            })
            .collect();
        assert_eq!(starts.len(), m.len());
        for mk in &layout.marks {
            assert!(starts.iter().any(|&x| (x - mk.axis_x).abs() <= 1.0));
        }
    }

    #[test]
    fn elbows_do_not_cross_on_either_side() {
        let m = methods(&spread_ranks(12), 5);
        let layout = CdLayout::new(&diagram(&m, &[], None), 1.0).unwrap();
        for a in &layout.marks {
            for b in &layout.marks {
                // b's vertical line (from the axis down to b's row) must not cut a's horizontal line.
                if a.left == b.left && b.row_y > a.row_y {
                    let (lo, hi) = if a.left { (a.end_x, a.axis_x) } else { (a.axis_x, a.end_x) };
                    assert!(!(lo < b.axis_x && b.axis_x < hi) || b.axis_x == a.axis_x, "{a:?} / {b:?}");
                }
            }
        }
    }

    fn assert_fits(m: &[(String, f64)]) {
        let groups = [vec![0, 1]];
        let d = diagram(m, &groups, Some(3.0));
        let layout = CdLayout::new(&d, 1.0).unwrap();
        let svg = cd_diagram_svg(&d).unwrap();
        let (w, h) = svg_test::size(&svg);
        assert_eq!((w, h), (layout.width, layout.height));
        for (attrs, text) in svg_test::texts(&svg) {
            let x = svg_test::num(&attrs, "x");
            let y = svg_test::num(&attrs, "y");
            let tw = text_width(&text, svg_test::num(&attrs, "font-size") * 1.24);
            let (left, right) = match attrs["text-anchor"].as_str() {
                "start" => (x, x + tw),
                "end" => (x - tw, x),
                _ => (x - tw / 2.0, x + tw / 2.0),
            };
            assert!(left >= 0.0 && right <= w, "`{text}` spans {left}..{right}, canvas width {w}");
            assert!(y > 0.0 && y < h, "`{text}` at y {y}, canvas height {h}");
        }
    }

    #[test]
    fn two_and_twenty_methods_with_long_names_fit() {
        assert_fits(&methods(&[1.4, 1.6], 40));
        assert_fits(&methods(&spread_ranks(20), 40));
        assert_fits(&methods(&spread_ranks(20), 3));
        // A long title widens the canvas instead of being cut.
        let m = methods(&[1.0, 2.0], 1);
        let title = "A very long title that is much wider than two short method names on an axis";
        let d = CdDiagram { methods: &m, groups: &[], cd: None, title: Some(title) };
        let layout = CdLayout::new(&d, 1.0).unwrap();
        assert!(layout.width >= text_width(title, TITLE_SIZE) + 2.0 * MARGIN);
    }

    #[test]
    fn cd_wider_than_the_axis_is_drawn_to_scale() {
        let m = methods(&[1.2, 1.8], 4);
        let d = diagram(&m, &[], Some(1.9));
        let layout = CdLayout::new(&d, 1.0).unwrap();
        let (x0, x1, _, _) = layout.cd.clone().unwrap();
        let unit = layout.axis_x1 - layout.axis_x0;
        assert!(((x1 - x0) / unit - 1.9).abs() < 1e-9);
        assert!(x1 < layout.width);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let ok = methods(&[1.0, 2.0], 3);
        let nan = methods(&[1.0, f64::NAN], 3);
        let out_of_range = methods(&[1.0, 7.0], 3);
        let empty: Vec<(String, f64)> = vec![];
        let one = methods(&[1.0], 3);
        assert!(matches!(cd_diagram_svg(&diagram(&empty, &[], None)), Err(PlotError::Empty(_))));
        assert!(matches!(cd_diagram_svg(&diagram(&one, &[], None)), Err(PlotError::InvalidInput(_))));
        assert!(matches!(cd_diagram_svg(&diagram(&nan, &[], None)), Err(PlotError::InvalidInput(_))));
        assert!(matches!(cd_diagram_png(&diagram(&out_of_range, &[], None)), Err(PlotError::InvalidInput(_))));
        assert!(matches!(cd_diagram_svg(&diagram(&ok, &[vec![0, 2]], None)), Err(PlotError::InvalidInput(_))));
        for cd in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(cd_diagram_svg(&diagram(&ok, &[], Some(cd))), Err(PlotError::InvalidInput(_))));
        }
    }

    #[test]
    fn ties_and_many_groups_render() {
        // All methods tied, every pair a group: one bar per pair, stacked, nothing overlapping.
        let m = methods(&[2.5; 4], 6);
        let pairs: Vec<Vec<usize>> = (0..4).flat_map(|a| (a + 1..4).map(move |b| vec![a, b])).collect();
        let layout = CdLayout::new(&diagram(&m, &pairs, Some(0.5)), 1.0).unwrap();
        assert_eq!(layout.bars.len(), 6);
        let levels: std::collections::HashSet<i64> = layout.bars.iter().map(|b| b.y.round() as i64).collect();
        assert_eq!(levels.len(), 6);
        assert!(layout.bars.iter().all(|b| b.x1 - b.x0 >= 2.0 * BAR_OVERHANG));
        assert_eq!(bar_rects(&cd_diagram_svg(&diagram(&m, &pairs, None)).unwrap()), 6);
    }

    #[test]
    fn png_decodes_with_positive_size() {
        let m = methods(&spread_ranks(5), 15);
        let groups = [vec![0, 1, 2], vec![2, 3, 4]];
        let d = diagram(&m, &groups, Some(1.5));
        let bytes = cd_diagram_png(&d).unwrap();
        let (w, h, rgb) = svg_test::decode_png(&bytes);
        let layout = CdLayout::new(&d, PNG_SCALE).unwrap();
        assert_eq!((w, h), (layout.width as u32, layout.height as u32));
        // Something was drawn, and text too: the left names' column (left of the axis) has ink.
        let dark = |x0: u32, x1: u32| (0..h).any(|y| (x0..x1).any(|x| rgb[(y * w + x) as usize * 3] < 128));
        assert!(dark(0, w));
        assert!(dark(0, (layout.marks.iter().find(|m| m.left).unwrap().end_x - 10.0) as u32));
    }
}
