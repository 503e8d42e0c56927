//! Scatter plot of a 2-D embedding (t-SNE of series or learned features), one colour per class,
//! with the legend outside the plot. Embedding axes have no units, so the frame has no ticks.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{Anchor, Canvas, Figure, PALETTE, PlotError, max_text_width, px, render_png, render_svg, text_width};

/// Input of a scatter plot: `points[i]` is drawn in the colour of class `labels[i]`.
#[derive(Debug, Clone, Copy)]
pub struct Scatter<'a> {
    pub title: &'a str,
    pub classes: &'a [String],
    pub points: &'a [[f64; 2]],
    pub labels: &'a [usize],
}

/// The plot as an SVG document.
pub fn scatter_svg(s: &Scatter) -> Result<String, PlotError> {
    render_svg(&ScatterLayout::new(s)?)
}

/// The plot as PNG bytes (text rasterised with the bundled font).
pub fn scatter_png(s: &Scatter) -> Result<Vec<u8>, PlotError> {
    render_png(&ScatterLayout::new(s)?)
}

const MARGIN: f64 = 16.0;
const TITLE_SIZE: f64 = 20.0;
const LEGEND_SIZE: f64 = 15.0;
const PLOT: f64 = 420.0;
const LEGEND_ROW: f64 = 22.0;
const RADIUS: i32 = 3;

struct ScatterLayout {
    width: f64,
    height: f64,
    title: String,
    /// `(legend text, colour)` per class.
    legend: Vec<(String, RGBColor)>,
    /// Pixel position and colour per point, in input order.
    dots: Vec<((i32, i32), RGBColor)>,
    plot: (f64, f64),
    legend_x: f64,
}

fn colour(c: usize) -> RGBColor {
    PALETTE[c % PALETTE.len()]
}

impl ScatterLayout {
    fn new(s: &Scatter) -> Result<Self, PlotError> {
        if s.points.is_empty() {
            return Err(PlotError::Empty("a scatter plot needs at least one point".into()));
        }
        if s.points.len() != s.labels.len() {
            return Err(PlotError::InvalidInput(format!("{} points but {} labels", s.points.len(), s.labels.len())));
        }
        if let Some(&l) = s.labels.iter().find(|&&l| l >= s.classes.len()) {
            return Err(PlotError::InvalidInput(format!("label {l} but {} classes", s.classes.len())));
        }
        if let Some(i) = s.points.iter().position(|p| !(p[0].is_finite() && p[1].is_finite())) {
            return Err(PlotError::InvalidInput(format!("point {i} is not finite")));
        }
        let range = |k: usize| {
            let (lo, hi) =
                s.points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p[k]), b.max(p[k])));
            if hi > lo { (lo, hi) } else { (lo - 1.0, hi + 1.0) }
        };
        let (xr, yr) = (range(0), range(1));
        let mut counts = vec![0usize; s.classes.len()];
        for &l in s.labels {
            counts[l] += 1;
        }
        let legend: Vec<(String, RGBColor)> = s
            .classes
            .iter()
            .enumerate()
            .filter(|(c, _)| counts[*c] > 0)
            .map(|(c, name)| (format!("{name} ({})", counts[c]), colour(c)))
            .collect();
        let legend_w = 12.0 + 8.0 + max_text_width(legend.iter().map(|(t, _)| t.as_str()), LEGEND_SIZE) + 8.0;
        let title_h = if s.title.is_empty() { 0.0 } else { TITLE_SIZE + 12.0 };
        let content_w = MARGIN + PLOT + 16.0 + legend_w + MARGIN;
        let width = content_w.max(text_width(s.title, TITLE_SIZE) + 2.0 * MARGIN);
        let left = MARGIN + (width - content_w) / 2.0;
        let top = MARGIN + title_h;
        let height = (top + PLOT).max(top + legend.len() as f64 * LEGEND_ROW) + MARGIN;
        // Points inset from the frame by their radius plus a little air.
        let inset = 8.0;
        let map = |v: f64, (lo, hi): (f64, f64)| (v - lo) / (hi - lo) * (PLOT - 2.0 * inset) + inset;
        let dots = s
            .points
            .iter()
            .zip(s.labels)
            .map(|(p, &l)| (px(left + map(p[0], xr), top + PLOT - map(p[1], yr)), colour(l)))
            .collect();
        Ok(ScatterLayout {
            width: width.ceil(),
            height: height.ceil(),
            title: s.title.to_string(),
            legend,
            dots,
            plot: (left, top),
            legend_x: left + PLOT + 16.0,
        })
    }
}

impl Figure for ScatterLayout {
    fn size(&self) -> (u32, u32) {
        (self.width as u32, self.height as u32)
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<DB>) -> Result<(), PlotError> {
        let root = canvas.area;
        let ink = RGBColor(0, 0, 0);
        canvas.title(&self.title, self.width, MARGIN, TITLE_SIZE)?;
        let (l, t) = self.plot;
        root.draw(&Rectangle::new([px(l, t), px(l + PLOT, t + PLOT)], RGBColor(150, 150, 150)))?;
        for &(at, c) in &self.dots {
            root.draw(&Circle::new(at, RADIUS, c.mix(0.75).filled()))?;
        }
        let mut y = t + 8.0 + LEGEND_ROW / 2.0;
        for (text, c) in &self.legend {
            root.draw(&Circle::new(px(self.legend_x + 6.0, y), 5, c.filled()))?;
            canvas.text(text, (self.legend_x + 20.0, y), LEGEND_SIZE, ink, Anchor::new(HPos::Left, VPos::Center))?;
            y += LEGEND_ROW;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::svg_test;

    fn classes(n: usize) -> Vec<String> {
        (0..n).map(|c| format!("class {c}")).collect()
    }

    #[test]
    fn one_dot_per_point_coloured_by_class_with_legend() {
        let cls = classes(2);
        let points = [[0.0, 0.0], [1.0, 1.0], [5.0, 5.0], [6.0, 4.0], [5.5, 6.0]];
        let labels = [0, 0, 1, 1, 1];
        let svg = scatter_svg(&Scatter { title: "t-SNE", classes: &cls, points: &points, labels: &labels }).unwrap();
        let circles = svg_test::elements(&svg, "circle");
        assert_eq!(circles.len(), 5 + 2, "5 points and 2 legend markers");
        let fill = |i: usize| circles[i]["fill"].clone();
        assert_eq!(fill(0), fill(1));
        assert_ne!(fill(0), fill(2));
        let texts: Vec<String> = svg_test::texts(&svg).into_iter().map(|(_, t)| t).collect();
        for t in ["t-SNE", "class 0 (2)", "class 1 (3)"] {
            assert!(texts.iter().any(|x| x == t), "{t} missing in {texts:?}");
        }
        // the point with the largest x is right of the one with the smallest, y grows upwards
        let (a, c) = (&circles[0], &circles[2]);
        assert!(svg_test::num(c, "cx") > svg_test::num(a, "cx"));
        assert!(svg_test::num(c, "cy") < svg_test::num(a, "cy"));
        // every dot inside the canvas
        let (w, h) = svg_test::size(&svg);
        assert!(
            circles
                .iter()
                .all(|e| (0.0..w).contains(&svg_test::num(e, "cx")) && (0.0..h).contains(&svg_test::num(e, "cy")))
        );
    }

    #[test]
    fn png_renders() {
        let cls = classes(3);
        let points: Vec<[f64; 2]> = (0..30).map(|i| [i as f64, (i * i % 7) as f64]).collect();
        let labels: Vec<usize> = (0..30).map(|i| i % 3).collect();
        let png = scatter_png(&Scatter { title: "raw", classes: &cls, points: &points, labels: &labels }).unwrap();
        let (w, h, _) = svg_test::decode_png(&png);
        assert!(w > 400 && h > 400);
    }

    #[test]
    fn bad_input_is_an_error() {
        let cls = classes(2);
        let s = |points: &'static [[f64; 2]], labels: &'static [usize]| {
            scatter_svg(&Scatter { title: "", classes: &cls, points, labels })
        };
        assert!(matches!(s(&[], &[]), Err(PlotError::Empty(_))));
        assert!(matches!(s(&[[0.0, 0.0]], &[0, 1]), Err(PlotError::InvalidInput(_))));
        assert!(matches!(s(&[[0.0, 0.0]], &[2]), Err(PlotError::InvalidInput(_))));
        assert!(matches!(s(&[[f64::NAN, 0.0]], &[0]), Err(PlotError::InvalidInput(_))));
        // a single point (zero range) still draws
        assert!(s(&[[1.0, 1.0]], &[1]).is_ok());
    }
}
