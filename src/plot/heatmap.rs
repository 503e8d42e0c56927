//! Heatmap for confusion matrices: rows are the true class, columns the predicted class, darker
//! blue for larger values, optionally each cell annotated with its value, and a colour bar.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{Anchor, Canvas, Figure, PlotError, max_text_width, mix, px, render_svg, text_width};

/// Input of a heatmap. Non-finite values (a normalised row of a class with no examples) are drawn
/// as grey "n/a" cells rather than rejected.
#[derive(Debug, Clone, Copy)]
pub struct Heatmap<'a> {
    pub title: &'a str,
    /// One label per row (true class).
    pub row_labels: &'a [String],
    /// One label per column (predicted class).
    pub col_labels: &'a [String],
    /// `values[row][col]`.
    pub values: &'a [Vec<f64>],
    /// Write each cell's value in it.
    pub annotate: bool,
}

/// The heatmap as an SVG document.
pub fn heatmap_svg(h: &Heatmap) -> Result<String, PlotError> {
    render_svg(&HeatmapLayout::new(h, ROW_TITLE, COL_TITLE)?)
}

/// A heatmap whose axes are not true/predicted class (e.g. examples × attention steps).
pub fn heatmap_svg_titled(h: &Heatmap, row_title: &str, col_title: &str) -> Result<String, PlotError> {
    render_svg(&HeatmapLayout::new(h, row_title, col_title)?)
}

const MARGIN: f64 = 16.0;
const TITLE_SIZE: f64 = 22.0;
const DESC_SIZE: f64 = 16.0;
const LABEL_SIZE: f64 = 15.0;
const VALUE_SIZE: f64 = 14.0;
const MIN_CELL: f64 = 44.0;
const BAR_W: f64 = 16.0;
const BAR_STEPS: usize = 64;
const ROW_TITLE: &str = "true class";
const COL_TITLE: &str = "predicted class";
const MISSING: &str = "n/a";

/// Sequential colour map from white to dark blue (ColorBrewer "Blues" stops).
const BLUES: [RGBColor; 5] = [
    RGBColor(247, 251, 255),
    RGBColor(198, 219, 239),
    RGBColor(107, 174, 214),
    RGBColor(33, 113, 181),
    RGBColor(8, 48, 107),
];

fn blues(t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let pos = t * (BLUES.len() - 1) as f64;
    let i = (pos.floor() as usize).min(BLUES.len() - 2);
    mix(BLUES[i], BLUES[i + 1], pos - i as f64)
}

/// Cell text: whole numbers for counts, two decimals for rates, one for other values.
fn value_text(v: f64, all_integral: bool, max_abs: f64) -> String {
    if !v.is_finite() {
        MISSING.to_string()
    } else if all_integral {
        format!("{v:.0}")
    } else if max_abs <= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

#[derive(Debug, Clone)]
pub(crate) struct HeatmapLayout {
    width: f64,
    height: f64,
    title: String,
    title_y: f64,
    rows: Vec<String>,
    cols: Vec<String>,
    values: Vec<Vec<f64>>,
    texts: Vec<Vec<String>>,
    annotate: bool,
    /// Value range mapped onto the colour map.
    lo: f64,
    hi: f64,
    /// Grid origin and (square, whole-pixel) cell side.
    pub grid_x: f64,
    pub grid_y: f64,
    pub cell: f64,
    cols_rotated: bool,
    row_title: String,
    col_title: String,
    row_title_x: f64,
    col_title_y: f64,
    bar_x: f64,
    bar_labels: Vec<String>,
}

impl HeatmapLayout {
    fn new(h: &Heatmap, row_title: &str, col_title: &str) -> Result<Self, PlotError> {
        let (nr, nc) = (h.row_labels.len(), h.col_labels.len());
        if nr == 0 || nc == 0 {
            return Err(PlotError::Empty("a heatmap needs at least one row and one column".into()));
        }
        if h.values.len() != nr {
            return Err(PlotError::InvalidInput(format!("{} rows of values for {nr} row labels", h.values.len())));
        }
        if let Some((r, row)) = h.values.iter().enumerate().find(|(_, row)| row.len() != nc) {
            return Err(PlotError::InvalidInput(format!("row {r} has {} values for {nc} column labels", row.len())));
        }
        let finite = || h.values.iter().flatten().copied().filter(|v| v.is_finite());
        let (min, max) = finite().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        // Counts and rates start at zero: anchor the scale there so one class does not look empty.
        let lo = if min.is_finite() { min.min(0.0) } else { 0.0 };
        let hi = if max.is_finite() && max > lo { max } else { lo + 1.0 };
        let all_integral = finite().all(|v| v.fract() == 0.0 && v.abs() < 1e12);
        let max_abs = finite().map(f64::abs).fold(0.0, f64::max);
        let texts: Vec<Vec<String>> =
            h.values.iter().map(|row| row.iter().map(|&v| value_text(v, all_integral, max_abs)).collect()).collect();

        let value_w =
            if h.annotate { max_text_width(texts.iter().flatten().map(String::as_str), VALUE_SIZE) } else { 0.0 };
        let cell = (value_w + 16.0).max(MIN_CELL).ceil();
        let row_w = max_text_width(h.row_labels.iter().map(String::as_str), LABEL_SIZE);
        let col_w = max_text_width(h.col_labels.iter().map(String::as_str), LABEL_SIZE);
        let cols_rotated = col_w > cell - 6.0;
        let col_labels_h = if cols_rotated { col_w } else { LABEL_SIZE };
        let bar_labels =
            [hi, (lo + hi) / 2.0, lo].map(|v| value_text(v, all_integral && v.fract() == 0.0, max_abs)).to_vec();
        let bar_label_w = max_text_width(bar_labels.iter().map(String::as_str), VALUE_SIZE);

        // x: margin, row title (vertical), row labels, grid, colour bar and its labels, margin.
        let row_title_x = MARGIN + DESC_SIZE / 2.0;
        let grid_x0 = MARGIN + DESC_SIZE + 10.0 + row_w + 8.0;
        let grid_w = nc as f64 * cell;
        let bar_x0 = grid_x0 + grid_w + 18.0;
        let content_w = bar_x0 + BAR_W + 6.0 + bar_label_w + MARGIN;
        let title_w = text_width(h.title, TITLE_SIZE) + 2.0 * MARGIN;
        let col_title_w = text_width(col_title, DESC_SIZE);
        let width = content_w.max(title_w).max(grid_x0 + grid_w / 2.0 + col_title_w / 2.0 + MARGIN);
        let dx = (width - content_w).max(0.0) / 2.0;

        // y: margin, title, grid, column labels, column title, margin.
        let title_y = MARGIN + TITLE_SIZE / 2.0;
        let grid_y = MARGIN + if h.title.is_empty() { 0.0 } else { TITLE_SIZE + 14.0 };
        let grid_h = nr as f64 * cell;
        let col_title_y = grid_y + grid_h + 8.0 + col_labels_h + 10.0 + DESC_SIZE / 2.0;
        let height = (col_title_y + DESC_SIZE / 2.0 + MARGIN).max(grid_y + grid_h + VALUE_SIZE + MARGIN);
        // The vertical row title must fit the grid's height, else the canvas grows downwards.
        let height = height.max(grid_y + grid_h / 2.0 + text_width(row_title, DESC_SIZE) / 2.0 + MARGIN);

        Ok(HeatmapLayout {
            width: width.ceil(),
            height: height.ceil(),
            title: h.title.to_string(),
            title_y,
            rows: h.row_labels.to_vec(),
            cols: h.col_labels.to_vec(),
            values: h.values.to_vec(),
            texts,
            annotate: h.annotate,
            lo,
            hi,
            grid_x: (grid_x0 + dx).round(),
            grid_y: grid_y.round(),
            cell,
            cols_rotated,
            row_title: row_title.to_string(),
            col_title: col_title.to_string(),
            row_title_x: row_title_x + dx,
            col_title_y,
            bar_x: bar_x0 + dx,
            bar_labels,
        })
    }
}

impl Figure for HeatmapLayout {
    fn size(&self) -> (u32, u32) {
        (self.width as u32, self.height as u32)
    }

    fn draw<DB: DrawingBackend>(&self, c: &Canvas<DB>) -> Result<(), PlotError> {
        let root = c.area;
        let ink = RGBColor(0, 0, 0);
        let grey = RGBColor(110, 110, 110);
        let (gx, gy, cell) = (self.grid_x, self.grid_y, self.cell);
        let (nr, nc) = (self.rows.len(), self.cols.len());
        c.text(
            &self.title,
            (self.width / 2.0, self.title_y),
            TITLE_SIZE,
            ink,
            Anchor::new(HPos::Center, VPos::Center),
        )?;

        for (r, row) in self.values.iter().enumerate() {
            for (col, &v) in row.iter().enumerate() {
                let (x0, y0) = (gx + col as f64 * cell, gy + r as f64 * cell);
                let t = (v - self.lo) / (self.hi - self.lo);
                let fill = if v.is_finite() { blues(t) } else { RGBColor(225, 225, 225) };
                root.draw(&Rectangle::new([px(x0, y0), px(x0 + cell, y0 + cell)], fill.filled()))?;
                if self.annotate {
                    let color = if !v.is_finite() {
                        grey
                    } else if t > 0.55 {
                        RGBColor(255, 255, 255)
                    } else {
                        ink
                    };
                    let at = (x0 + cell / 2.0, y0 + cell / 2.0);
                    c.text(&self.texts[r][col], at, VALUE_SIZE, color, Anchor::new(HPos::Center, VPos::Center))?;
                }
            }
        }
        // Thin frame so light cells at the border still show where the matrix ends.
        let frame = RGBColor(160, 160, 160);
        root.draw(&Rectangle::new([px(gx, gy), px(gx + nc as f64 * cell, gy + nr as f64 * cell)], frame))?;

        for (r, label) in self.rows.iter().enumerate() {
            let at = (gx - 8.0, gy + (r as f64 + 0.5) * cell);
            c.text(label, at, LABEL_SIZE, ink, Anchor::new(HPos::Right, VPos::Center))?;
        }
        let label_top = gy + nr as f64 * cell + 8.0;
        for (col, label) in self.cols.iter().enumerate() {
            let x = gx + (col as f64 + 0.5) * cell;
            if self.cols_rotated {
                // Reads bottom to top and ends just under its column.
                c.text(label, (x, label_top), LABEL_SIZE, ink, Anchor::up(HPos::Right, VPos::Center))?;
            } else {
                c.text(label, (x, label_top), LABEL_SIZE, ink, Anchor::new(HPos::Center, VPos::Top))?;
            }
        }
        let grid_mid = (gx + nc as f64 * cell / 2.0, gy + nr as f64 * cell / 2.0);
        c.text(
            &self.col_title,
            (grid_mid.0, self.col_title_y),
            DESC_SIZE,
            ink,
            Anchor::new(HPos::Center, VPos::Center),
        )?;
        c.text(
            &self.row_title,
            (self.row_title_x, grid_mid.1),
            DESC_SIZE,
            ink,
            Anchor::up(HPos::Center, VPos::Center),
        )?;

        // Colour bar: high values at the top, as the eye expects.
        let bar_h = nr as f64 * cell;
        let step = bar_h / BAR_STEPS as f64;
        for i in 0..BAR_STEPS {
            let t = 1.0 - (i as f64 + 0.5) / BAR_STEPS as f64;
            let y0 = gy + i as f64 * step;
            root.draw(&Rectangle::new(
                [px(self.bar_x, y0), px(self.bar_x + BAR_W, y0 + step + 1.0)],
                blues(t).filled(),
            ))?;
        }
        root.draw(&Rectangle::new([px(self.bar_x, gy), px(self.bar_x + BAR_W, gy + bar_h)], frame))?;
        for (i, label) in self.bar_labels.iter().enumerate() {
            let y = gy + bar_h * i as f64 / 2.0;
            let v = match i {
                0 => VPos::Top,
                1 => VPos::Center,
                _ => VPos::Bottom,
            };
            c.text(label, (self.bar_x + BAR_W + 6.0, y), VALUE_SIZE, grey, Anchor::new(HPos::Left, v))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::svg_test;

    fn labels(n: usize, prefix: &str) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    fn matrix(n: usize) -> Vec<Vec<f64>> {
        (0..n)
            .map(|r| (0..n).map(|c| if r == c { 40.0 + r as f64 } else { ((r * 7 + c * 3) % 5) as f64 }).collect())
            .collect()
    }

    fn cells(svg: &str, cell: f64) -> usize {
        svg_test::elements(svg, "rect")
            .iter()
            .filter(|e| e["fill"] != "none" && svg_test::num(e, "width") == cell && svg_test::num(e, "height") == cell)
            .count()
    }

    #[test]
    fn one_cell_per_value_with_its_annotation() {
        let l = labels(5, "class ");
        let v = matrix(5);
        let h = Heatmap { title: "Confusion", row_labels: &l, col_labels: &l, values: &v, annotate: true };
        let svg = heatmap_svg(&h).unwrap();
        let layout = HeatmapLayout::new(&h, ROW_TITLE, COL_TITLE).unwrap();
        assert_eq!(cells(&svg, layout.cell), 25);
        let texts: Vec<String> = svg_test::texts(&svg).into_iter().map(|(_, t)| t).collect();
        for row in &v {
            for x in row {
                assert!(texts.contains(&format!("{x:.0}")), "{x} not annotated");
            }
        }
        for t in l.iter().map(String::as_str).chain(["Confusion", ROW_TITLE, COL_TITLE]) {
            assert!(texts.iter().any(|x| x == t), "{t} missing");
        }
    }

    #[test]
    fn rectangular_without_annotations() {
        let rows = labels(2, "r");
        let cols = labels(3, "c");
        let v = vec![vec![0.1, 0.5, 0.4], vec![0.9, 0.05, 0.05]];
        let h = Heatmap { title: "", row_labels: &rows, col_labels: &cols, values: &v, annotate: false };
        let svg = heatmap_svg(&h).unwrap();
        assert_eq!(cells(&svg, HeatmapLayout::new(&h, ROW_TITLE, COL_TITLE).unwrap().cell), 6);
        assert!(!svg_test::texts(&svg).iter().any(|(_, t)| t == "0.50"));
    }

    #[test]
    fn rates_get_two_decimals_and_nan_is_marked() {
        let l = labels(2, "k");
        let v = vec![vec![0.75, 0.25], vec![f64::NAN, f64::NAN]];
        let h = Heatmap { title: "normalised", row_labels: &l, col_labels: &l, values: &v, annotate: true };
        let svg = heatmap_svg(&h).unwrap();
        let texts: Vec<String> = svg_test::texts(&svg).into_iter().map(|(_, t)| t).collect();
        assert!(texts.contains(&"0.75".to_string()) && texts.contains(&"0.25".to_string()));
        assert_eq!(texts.iter().filter(|t| *t == MISSING).count(), 2);
    }

    #[test]
    fn long_column_labels_turn_vertical_and_fit() {
        let l: Vec<String> = (0..4).map(|i| format!("a rather long class name {i}")).collect();
        let v = matrix(4);
        let h = Heatmap { title: "t", row_labels: &l, col_labels: &l, values: &v, annotate: true };
        let layout = HeatmapLayout::new(&h, ROW_TITLE, COL_TITLE).unwrap();
        assert!(layout.cols_rotated);
        let svg = heatmap_svg(&h).unwrap();
        let (w, ht) = svg_test::size(&svg);
        for (a, t) in svg_test::texts(&svg) {
            let (x, y) = (svg_test::num(&a, "x"), svg_test::num(&a, "y"));
            let tw = text_width(&t, svg_test::num(&a, "font-size") * 1.24);
            if a.contains_key("transform") {
                // Rotated to read upwards: the anchor's end of the text is the top.
                let (top, bottom) = match a["text-anchor"].as_str() {
                    "end" => (y, y + tw),
                    "middle" => (y - tw / 2.0, y + tw / 2.0),
                    _ => (y - tw, y),
                };
                assert!(top >= 0.0 && bottom <= ht, "`{t}` leaves the canvas");
            } else {
                let left = match a["text-anchor"].as_str() {
                    "end" => x - tw,
                    "middle" => x - tw / 2.0,
                    _ => x,
                };
                assert!(left >= 0.0 && left + tw <= w, "`{t}` leaves the canvas");
            }
        }
    }

    #[test]
    fn inconsistent_shapes_are_errors() {
        let l = labels(2, "k");
        let ragged = vec![vec![1.0, 2.0], vec![3.0]];
        let short = vec![vec![1.0, 2.0]];
        let h = |v: &[Vec<f64>]| {
            heatmap_svg(&Heatmap { title: "", row_labels: &l, col_labels: &l, values: v, annotate: true })
        };
        assert!(matches!(h(&ragged), Err(PlotError::InvalidInput(_))));
        assert!(matches!(h(&short), Err(PlotError::InvalidInput(_))));
        let none: Vec<String> = vec![];
        let e = heatmap_svg(&Heatmap { title: "", row_labels: &none, col_labels: &none, values: &[], annotate: true });
        assert!(matches!(e, Err(PlotError::Empty(_))));
    }

    #[test]
    fn colour_map_runs_light_to_dark() {
        let lum = |c: RGBColor| u32::from(c.0) + u32::from(c.1) + u32::from(c.2);
        let steps: Vec<u32> = (0..=10).map(|i| lum(blues(i as f64 / 10.0))).collect();
        assert!(steps.windows(2).all(|w| w[0] > w[1]), "{steps:?}");
    }
}
