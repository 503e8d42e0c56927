//! The multiple comparison matrix (MCM; Ismail-Fawaz et al. 2023, as aeon's
//! `create_multi_comparison_matrix` draws it): one row and one column per method, ordered by
//! mean score; each cell shows the row method's mean difference to the column method, its
//! wins / ties / losses over datasets and the pair's Wilcoxon p-value (bold when significant),
//! coloured by the mean difference (coolwarm: red = row better).

use super::PlotError;
use super::svg::{Svg, coolwarm, hex, width};

/// One cell of the matrix, from the row method's side.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct McmCell {
    pub mean_difference: f64,
    pub wins: usize,
    pub ties: usize,
    pub losses: usize,
    /// The pair's Holm-adjusted Wilcoxon p.
    pub p: f64,
}

pub struct Mcm<'a> {
    pub title: &'a str,
    /// Methods in display order, with their mean score.
    pub methods: &'a [(String, f64)],
    /// `[row][column]`; `None` on the diagonal.
    pub cells: &'a [Vec<Option<McmCell>>],
    /// p below this is shown bold.
    pub alpha: f64,
    /// What the p-values are, for the legend (e.g. "Wilcoxon p, Holm-adjusted").
    pub p_label: &'a str,
    /// Whether a positive mean difference means the row method is better.
    pub higher_is_better: bool,
}

const FONT: f64 = 12.0;
const PAD: f64 = 10.0;

/// A column label in two lines broken at a word boundary (a space, or after `-`, `_`, `/`), the
/// one that makes the longer line shortest; a one-word label stays whole, on the second line.
fn label_lines(name: &str) -> (String, String) {
    let mut best: Option<(f64, String, String)> = None;
    for (i, c) in name.char_indices() {
        let (a, b) = match c {
            ' ' => (&name[..i], &name[i + 1..]),
            '-' | '_' | '/' => (&name[..i + 1], &name[i + 1..]),
            _ => continue,
        };
        let (a, b) = (a.trim_end(), b.trim_start());
        if a.is_empty() || b.is_empty() {
            continue;
        }
        let longer = width(a, FONT).max(width(b, FONT));
        if best.as_ref().is_none_or(|(w, _, _)| longer < *w) {
            best = Some((longer, a.to_string(), b.to_string()));
        }
    }
    best.map(|(_, a, b)| (a, b)).unwrap_or_else(|| (String::new(), name.to_string()))
}

fn fmt_p(p: f64) -> String {
    if p < 1e-4 { format!("{p:.1e}") } else { format!("{p:.4}") }
}

pub fn mcm_svg(m: &Mcm) -> Result<String, PlotError> {
    let k = m.methods.len();
    if k < 2 {
        return Err(PlotError::Empty("an MCM needs at least 2 methods".into()));
    }
    if m.cells.len() != k || m.cells.iter().any(|r| r.len() != k) {
        return Err(PlotError::InvalidInput(format!("an MCM of {k} methods needs {k} × {k} cells")));
    }
    let lines = |c: &McmCell| {
        [format!("{:+.4}", c.mean_difference), format!("{} / {} / {}", c.wins, c.ties, c.losses), fmt_p(c.p)]
    };
    let mut cell_w: f64 = 0.0;
    for c in m.cells.iter().flatten().flatten() {
        for l in lines(c) {
            cell_w = cell_w.max(width(&l, FONT));
        }
    }
    // Column labels take two lines where they are wider than the cells' numbers.
    let labels: Vec<(String, String)> = m
        .methods
        .iter()
        .map(|(name, _)| if width(name, FONT) <= cell_w { (String::new(), name.clone()) } else { label_lines(name) })
        .collect();
    for (a, b) in &labels {
        cell_w = cell_w.max(width(a, FONT)).max(width(b, FONT));
    }
    let cell_w = cell_w + 2.0 * PAD;
    let cell_h = 3.0 * FONT * 1.35 + PAD;
    let row_label_w = m
        .methods
        .iter()
        .map(|(n, s)| width(n, FONT).max(width(&format!("mean {s:.4}"), FONT * 0.9)))
        .fold(0.0, f64::max)
        + 2.0 * PAD;
    let top = 2.0 * FONT + 3.0 * PAD + FONT * 1.4 * 2.0;
    let legend_h = 3.0 * FONT + 2.0 * PAD;
    let better = if m.higher_is_better { "higher" } else { "lower" };
    let legend = [
        format!("Each cell: mean difference (row − column); row wins / ties / losses; {}.", m.p_label),
        format!("Bold p: below α = {}. Red: row better ({better} is better), blue: column better.", m.alpha),
    ];
    let legend_w = legend.iter().map(|l| width(l, FONT * 0.9)).fold(width(m.title, FONT * 1.2), f64::max);
    let w = (row_label_w + k as f64 * cell_w).max(legend_w) + 2.0 * PAD;
    let h = top + k as f64 * cell_h + legend_h + PAD;
    let max_abs = m.cells.iter().flatten().flatten().map(|c| c.mean_difference.abs()).fold(0.0, f64::max);
    let max_abs = if max_abs > 0.0 { max_abs } else { 1.0 };

    let mut s = Svg::new(w, h);
    s.text((w / 2.0, PAD + FONT), FONT * 1.2, "middle", true, m.title);
    for (j, (a, b)) in labels.iter().enumerate() {
        let x = row_label_w + (j as f64 + 0.5) * cell_w;
        s.text((x, top - FONT * 2.6), FONT, "middle", false, a);
        s.text((x, top - FONT * 1.2), FONT, "middle", false, b);
    }
    for (i, (name, mean)) in m.methods.iter().enumerate() {
        let y = top + i as f64 * cell_h;
        s.text((PAD, y + cell_h * 0.38), FONT, "start", true, name);
        s.text((PAD, y + cell_h * 0.68), FONT * 0.9, "start", false, &format!("mean {mean:.4}"));
        for j in 0..k {
            let x = row_label_w + j as f64 * cell_w;
            match &m.cells[i][j] {
                None => s.rect(x, y, cell_w, cell_h, "#ffffff", Some("#cccccc")),
                Some(c) => {
                    let t = c.mean_difference / max_abs * if m.higher_is_better { 1.0 } else { -1.0 };
                    s.rect(x, y, cell_w, cell_h, &hex(coolwarm(t)), Some("#ffffff"));
                    let [a, b, p] = lines(c);
                    let cx = x + cell_w / 2.0;
                    s.text((cx, y + PAD / 2.0 + FONT * 0.8), FONT, "middle", false, &a);
                    s.text((cx, y + PAD / 2.0 + FONT * 2.1), FONT, "middle", false, &b);
                    s.text((cx, y + PAD / 2.0 + FONT * 3.4), FONT, "middle", c.p < m.alpha, &p);
                }
            }
        }
    }
    let ly = top + k as f64 * cell_h + PAD + FONT;
    for (i, l) in legend.iter().enumerate() {
        s.text((PAD, ly + i as f64 * FONT * 1.4), FONT * 0.9, "start", false, l);
    }
    Ok(s.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_show_difference_counts_and_bold_significant_p() {
        let methods = vec![("A".to_string(), 0.9), ("B".to_string(), 0.8)];
        let c = McmCell { mean_difference: 0.1, wins: 9, ties: 1, losses: 0, p: 0.003 };
        let r = McmCell { mean_difference: -0.1, wins: 0, ties: 1, losses: 9, p: 0.003 };
        let cells = vec![vec![None, Some(c)], vec![Some(r), None]];
        let m =
            Mcm { title: "MCM", methods: &methods, cells: &cells, alpha: 0.05, p_label: "p", higher_is_better: true };
        let svg = mcm_svg(&m).unwrap();
        assert!(svg.contains(">+0.1000<") && svg.contains(">-0.1000<"));
        assert!(svg.contains(">9 / 1 / 0<") && svg.contains(">0 / 1 / 9<"));
        assert!(svg.contains("font-weight=\"bold\">0.0030<"), "{svg}");
        assert!(svg.contains("fill=\"#b40426\""), "the row that wins by the most is full red");
        assert!(mcm_svg(&Mcm { methods: &methods[..1], cells: &cells[..1], ..m }).is_err());
    }

    #[test]
    fn column_labels_break_between_words_never_inside_one() {
        assert_eq!(label_lines("MiniRocket"), (String::new(), "MiniRocket".to_string()));
        assert_eq!(label_lines("LSTM-FCN cells 8"), ("LSTM-FCN".to_string(), "cells 8".to_string()));
        assert_eq!(label_lines("rocket_ridge_cv"), ("rocket_".to_string(), "ridge_cv".to_string()));
        let methods: Vec<(String, f64)> =
            ["MiniRocket", "MultiRocket Hydra", "A"].iter().map(|n| (n.to_string(), 0.5)).collect();
        let cell = McmCell { mean_difference: 0.0, wins: 1, ties: 0, losses: 1, p: 0.5 };
        let cells: Vec<Vec<Option<McmCell>>> =
            (0..3).map(|i| (0..3).map(|j| (i != j).then_some(cell)).collect()).collect();
        let m =
            Mcm { title: "MCM", methods: &methods, cells: &cells, alpha: 0.05, p_label: "p", higher_is_better: true };
        let svg = mcm_svg(&m).unwrap();
        assert!(svg.contains(">MiniRocket<") && !svg.contains(">MiniR<"), "{svg}");
        assert!(svg.contains(">MultiRocket<") && svg.contains(">Hydra<"), "{svg}");
    }
}
