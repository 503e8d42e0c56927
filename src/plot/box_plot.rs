//! Box plots of each method's scores over datasets, one horizontal box per method, best median
//! on top: quartiles by linear interpolation (NumPy's default), whiskers to the furthest point
//! within 1.5 IQR, points beyond drawn one by one.

use super::PALETTE;
use super::PlotError;
use super::svg::{Svg, ticks, width};

pub struct BoxPlot<'a> {
    pub title: &'a str,
    pub axis_label: &'a str,
    /// Method names and their scores (one per dataset).
    pub groups: &'a [(String, Vec<f64>)],
    /// Orders the boxes best first.
    pub higher_is_better: bool,
}

/// NumPy's `quantile(..., method="linear")` of sorted values.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

const FONT: f64 = 12.0;
const PAD: f64 = 10.0;
const ROW: f64 = 26.0;
const PLOT_W: f64 = 460.0;

pub fn box_plot_svg(b: &BoxPlot) -> Result<String, PlotError> {
    if b.groups.is_empty() || b.groups.iter().all(|(_, v)| v.is_empty()) {
        return Err(PlotError::Empty("a box plot needs scores".into()));
    }
    if let Some((name, _)) = b.groups.iter().find(|(_, v)| v.iter().any(|x| !x.is_finite())) {
        return Err(PlotError::InvalidInput(format!("method `{name}` has a score that is not a number")));
    }
    let mut stats: Vec<(usize, Vec<f64>, [f64; 5])> = b
        .groups
        .iter()
        .enumerate()
        .filter(|(_, (_, v))| !v.is_empty())
        .map(|(i, (_, v))| {
            let mut v = v.clone();
            v.sort_by(f64::total_cmp);
            let (q1, med, q3) = (quantile(&v, 0.25), quantile(&v, 0.5), quantile(&v, 0.75));
            let iqr = q3 - q1;
            let lo = v.iter().copied().find(|x| *x >= q1 - 1.5 * iqr).unwrap_or(q1);
            let hi = v.iter().rev().copied().find(|x| *x <= q3 + 1.5 * iqr).unwrap_or(q3);
            (i, v, [lo, q1, med, q3, hi])
        })
        .collect();
    stats.sort_by(|a, b2| {
        let o = a.2[2].total_cmp(&b2.2[2]);
        if b.higher_is_better { o.reverse() } else { o }
    });
    let all = stats.iter().flat_map(|s| s.1.iter().copied());
    let (mut lo, mut hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(x), h.max(x)));
    if hi - lo < 1e-12 {
        lo -= 0.5;
        hi += 0.5;
    }
    let margin = (hi - lo) * 0.03;
    let (lo, hi) = (lo - margin, hi + margin);
    let label_w = stats.iter().map(|s| width(&b.groups[s.0].0, FONT)).fold(0.0, f64::max) + 2.0 * PAD;
    let top = 2.0 * FONT + 2.0 * PAD;
    let plot_h = stats.len() as f64 * ROW;
    let w = (label_w + PLOT_W).max(width(b.title, FONT * 1.2)) + 2.0 * PAD;
    let h = top + plot_h + 3.5 * FONT + PAD;
    let x_of = |v: f64| label_w + (v - lo) / (hi - lo) * PLOT_W;

    let mut s = Svg::new(w, h);
    s.text((w / 2.0, PAD + FONT), FONT * 1.2, "middle", true, b.title);
    for t in ticks(lo, hi) {
        let x = x_of(t);
        s.line((x, top), (x, top + plot_h), "#e5e5e5", 1.0);
        s.text((x, top + plot_h + FONT), FONT * 0.9, "middle", false, &format!("{t:.3}"));
    }
    s.line((label_w, top + plot_h), (label_w + PLOT_W, top + plot_h), "#000000", 1.0);
    s.text((label_w + PLOT_W / 2.0, top + plot_h + 2.6 * FONT), FONT, "middle", false, b.axis_label);
    for (row, (i, v, [wlo, q1, med, q3, whi])) in stats.iter().enumerate() {
        let c = PALETTE[*i % PALETTE.len()];
        let color = format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2);
        let y = top + (row as f64 + 0.5) * ROW;
        s.text((label_w - PAD, y), FONT, "end", false, &b.groups[*i].0);
        s.line((x_of(*wlo), y), (x_of(*q1), y), "#333333", 1.0);
        s.line((x_of(*q3), y), (x_of(*whi), y), "#333333", 1.0);
        for wx in [*wlo, *whi] {
            s.line((x_of(wx), y - ROW * 0.2), (x_of(wx), y + ROW * 0.2), "#333333", 1.0);
        }
        s.rect(x_of(*q1), y - ROW * 0.32, (x_of(*q3) - x_of(*q1)).max(1.0), ROW * 0.64, &color, Some("#333333"));
        s.line((x_of(*med), y - ROW * 0.32), (x_of(*med), y + ROW * 0.32), "#000000", 2.0);
        for x in v.iter().filter(|x| **x < *wlo || **x > *whi) {
            s.circle((x_of(*x), y), 2.5, "#333333", &format!("{x:.4}"));
        }
    }
    Ok(s.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_numpys_and_boxes_are_ordered_by_median() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!((quantile(&v, 0.25), quantile(&v, 0.5), quantile(&v, 0.75)), (1.75, 2.5, 3.25));
        let groups = vec![("low".to_string(), vec![0.1, 0.2, 0.3]), ("high".to_string(), vec![0.7, 0.8, 0.9, 0.0])];
        let svg =
            box_plot_svg(&BoxPlot { title: "t", axis_label: "accuracy", groups: &groups, higher_is_better: true })
                .unwrap();
        assert!(svg.find(">high<").unwrap() < svg.find(">low<").unwrap());
        assert!(svg.contains("<circle"), "0.0 is an outlier of `high`");
        assert!(box_plot_svg(&BoxPlot { title: "t", axis_label: "", groups: &[], higher_is_better: true }).is_err());
    }
}
