//! The pairwise scatter of two methods' scores over datasets (as aeon's
//! `plot_pairwise_scatter`): one point per dataset, method A on x, B on y, the diagonal where
//! they tie; points on B's side of the diagonal are B's wins.

use super::PlotError;
use super::svg::{Svg, ticks, width};

pub struct PairwiseScatter<'a> {
    pub title: &'a str,
    pub a: &'a str,
    pub b: &'a str,
    /// (dataset, score of A, score of B).
    pub points: &'a [(String, f64, f64)],
    pub higher_is_better: bool,
    /// A caption line under the plot (e.g. W/T/L and the p-value).
    pub note: &'a str,
}

const FONT: f64 = 12.0;
const PAD: f64 = 10.0;
const SIDE: f64 = 360.0;

pub fn pairwise_scatter_svg(p: &PairwiseScatter) -> Result<String, PlotError> {
    if p.points.is_empty() {
        return Err(PlotError::Empty("a pairwise scatter needs datasets".into()));
    }
    if let Some((d, _, _)) = p.points.iter().find(|(_, x, y)| !(x.is_finite() && y.is_finite())) {
        return Err(PlotError::InvalidInput(format!("dataset `{d}` has a score that is not a number")));
    }
    let (mut lo, mut hi) = p
        .points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, x, y)| (l.min(*x).min(*y), h.max(*x).max(*y)));
    if hi - lo < 1e-12 {
        lo -= 0.5;
        hi += 0.5;
    }
    let m = (hi - lo) * 0.04;
    let (lo, hi) = (lo - m, hi + m);
    let left = 3.0 * FONT + 4.0 * PAD + width("0.000", FONT * 0.9);
    let top = 2.0 * FONT + 2.0 * PAD;
    let w = (left + SIDE).max(width(p.note, FONT * 0.9)).max(width(p.title, FONT * 1.2)) + 2.0 * PAD;
    let h = top + SIDE + 5.0 * FONT + PAD;
    let x_of = |v: f64| left + (v - lo) / (hi - lo) * SIDE;
    let y_of = |v: f64| top + SIDE - (v - lo) / (hi - lo) * SIDE;

    let mut s = Svg::new(w, h);
    s.text((w / 2.0, PAD + FONT), FONT * 1.2, "middle", true, p.title);
    for t in ticks(lo, hi) {
        s.line((x_of(t), top), (x_of(t), top + SIDE), "#eeeeee", 1.0);
        s.line((left, y_of(t)), (left + SIDE, y_of(t)), "#eeeeee", 1.0);
        s.text((x_of(t), top + SIDE + FONT), FONT * 0.9, "middle", false, &format!("{t:.3}"));
        s.text((left - PAD / 2.0, y_of(t)), FONT * 0.9, "end", false, &format!("{t:.3}"));
    }
    s.rect(left, top, SIDE, SIDE, "none", Some("#000000"));
    s.dashed((x_of(lo), y_of(lo)), (x_of(hi), y_of(hi)), "#555555");
    s.text((left + SIDE / 2.0, top + SIDE + 2.6 * FONT), FONT, "middle", false, p.a);
    s.text_up((PAD + FONT, top + SIDE / 2.0), FONT, p.b);
    for (d, x, y) in p.points {
        let b_wins = if p.higher_is_better { y > x } else { y < x };
        let color = if x == y {
            "#2ca02c"
        } else if b_wins {
            "#d62728"
        } else {
            "#1f77b4"
        };
        s.circle((x_of(*x), y_of(*y)), 3.5, color, &format!("{d}: {x:.4} vs {y:.4}"));
    }
    s.text((PAD, top + SIDE + 4.0 * FONT), FONT * 0.9, "start", false, p.note);
    Ok(s.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_coloured_by_who_wins() {
        let pts = vec![("d1".to_string(), 0.9, 0.8), ("d2".to_string(), 0.5, 0.7), ("d3".to_string(), 0.6, 0.6)];
        let p =
            PairwiseScatter { title: "A vs B", a: "A", b: "B", points: &pts, higher_is_better: true, note: "1/1/1" };
        let svg = pairwise_scatter_svg(&p).unwrap();
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("#1f77b4") && svg.contains("#d62728") && svg.contains("#2ca02c"));
        assert!(svg.contains("<title>d2: 0.5000 vs 0.7000</title>"));
        assert!(pairwise_scatter_svg(&PairwiseScatter { points: &[], ..p }).is_err());
    }
}
