//! One call that runs the whole comparison on a complete [`Scores`] table, and its JSON, CSV
//! and Markdown forms.

use serde::Serialize;

use super::StatsError;
use super::exact::Exact;
use super::friedman::{Friedman, friedman};
use super::groups::not_different_groups;
use super::holm::holm;
use super::nemenyi::critical_difference;
use super::ranks::average_ranks;
use super::scores::{DroppedDataset, Scores};
use super::value::{Arith, Mode, Score};
use super::wilcoxon::{self, Alternative, Wilcoxon, ZeroMethod};

/// Which test decides the groups joined in the critical-difference diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupTest {
    /// Pairwise Wilcoxon signed-rank tests, Holm-adjusted (Benavoli et al. 2016; the TSC default).
    #[default]
    WilcoxonHolm,
    /// Average ranks closer than Nemenyi's critical difference (Demšar 2006).
    Nemenyi,
}

impl GroupTest {
    pub const NAMES: &'static [&'static str] = &["wilcoxon_holm", "nemenyi"];
    pub fn parse(s: &str) -> Option<GroupTest> {
        match s {
            "wilcoxon_holm" | "wilcoxon-holm" | "wilcoxon" => Some(GroupTest::WilcoxonHolm),
            "nemenyi" => Some(GroupTest::Nemenyi),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisOptions {
    pub alpha: f64,
    pub higher_is_better: bool,
    pub wilcoxon: wilcoxon::Options,
    pub groups: GroupTest,
    /// The arithmetic of differences, ties and means.
    pub mode: Mode,
}

/// SciPy's float64 arithmetic, Wilcoxon with Pratt's zeros (as aeon's MCM, dl-4-tsc and the
/// Wilcoxon–Holm CD diagram call it), no continuity correction (SciPy's default), two-sided.
impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            alpha: 0.05,
            higher_is_better: true,
            wilcoxon: wilcoxon::Options { zero_method: ZeroMethod::Pratt, ..wilcoxon::Options::default() },
            groups: GroupTest::WilcoxonHolm,
            mode: Mode::Float,
        }
    }
}

/// One pair of methods; wins/losses and the mean difference are `a`'s. Pairs are listed in
/// table order (`a` before `b`); for a one-sided test `a` is the method with the better average
/// rank (as aeon tests them), so `greater` asks whether it is really better.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    pub a: String,
    pub b: String,
    pub wins: usize,
    pub ties: usize,
    pub losses: usize,
    /// Mean over datasets of `a − b`.
    pub mean_difference: f64,
    pub wilcoxon: Wilcoxon,
    /// Holm-adjusted p over all pairs.
    pub p_holm: f64,
    pub significant: bool,
    /// |R_a − R_b| > CD.
    pub nemenyi_significant: bool,
}

/// Where one input table came from and how it was read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputLayout {
    pub source: String,
    pub layout: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub metric: String,
    pub higher_is_better: bool,
    pub options: AnalysisOptions,
    pub inputs: Vec<InputLayout>,
    pub datasets: Vec<String>,
    pub methods: Vec<String>,
    /// `[dataset][method]`: the scores compared (means over resamples), in the mode's arithmetic.
    pub scores: Vec<Vec<f64>>,
    /// `[dataset][method]`, 1 = best, ties averaged.
    pub ranks: Vec<Vec<f64>>,
    pub average_ranks: Vec<f64>,
    pub mean_scores: Vec<f64>,
    /// Mean per-class error, where every dataset's number of classes is known.
    pub mpce: Option<Vec<f64>>,
    /// Method indices, best average rank first.
    pub order: Vec<usize>,
    pub friedman: Option<Friedman>,
    pub pairs: Vec<Pair>,
    pub nemenyi_cd: f64,
    /// Groups not significantly different (by `options.groups`), method names best first.
    pub groups: Vec<Vec<String>>,
    /// Datasets left out because a method had no result on them.
    pub dropped: Vec<DroppedDataset>,
    /// Why there are no tests (fewer than 2 methods or datasets), when there are none.
    pub untestable: Option<String>,
    /// Decisions the other arithmetic ([`Mode::other`]) would take differently.
    pub mode_disagreements: Vec<String>,
    /// Per dataset and method, mean and sample sd over resamples, where there were several.
    pub resamples: Option<ResampleSummary>,
}

/// Mean ± sd over resamples per (dataset, method), in the analysis' dataset/method order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResampleSummary {
    /// `[dataset][method]`: (resamples, mean, sd).
    pub cells: Vec<Vec<(usize, f64, Option<f64>)>>,
}

/// One cell of the multiple comparison matrix, from the row method's side (the figure's own
/// cell type: what the statistics compute is what is drawn).
pub use crate::plot::mcm::McmCell;

/// What the multiple comparison matrix shows: methods (name, mean score) in display order and
/// `[row][column]` cells (`None` on the diagonal).
pub struct McmParts {
    pub methods: Vec<(String, f64)>,
    pub cells: Vec<Vec<Option<McmCell>>>,
}

/// The tests of one arithmetic.
struct Core {
    ranks: Vec<Vec<f64>>,
    average_ranks: Vec<f64>,
    mean_scores: Vec<f64>,
    order: Vec<usize>,
    friedman: Option<Friedman>,
    pairs: Vec<Pair>,
    groups: Vec<Vec<usize>>,
}

fn ranks_of<T: Arith>(rows: &[Vec<T>], higher_is_better: bool) -> (Vec<Vec<f64>>, Vec<Vec<usize>>) {
    let better_first = |a: &T, b: &T| if higher_is_better { b.order(a) } else { a.order(b) };
    rows.iter().map(|row| average_ranks(row, better_first)).unzip()
}

fn mean_over_rows(rows: &[Vec<f64>], k: usize) -> Vec<f64> {
    let n = rows.len();
    (0..k).map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n as f64).collect()
}

/// `cd` is Nemenyi's critical difference (computed once: it is the costly part for small tables).
fn core<T: Arith>(rows: &[Vec<T>], methods: &[String], opts: &AnalysisOptions, cd: f64) -> Result<Core, StatsError> {
    let k = methods.len();
    let n = rows.len();
    let (ranks, ties) = ranks_of(rows, opts.higher_is_better);
    let friedman_result = friedman(&ranks, &ties);
    let average_ranks = mean_over_rows(&ranks, k);
    let floats: Vec<Vec<f64>> = rows.iter().map(|r| r.iter().map(|v| v.as_f64()).collect()).collect();
    let mean_scores = mean_over_rows(&floats, k);
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| average_ranks[a].total_cmp(&average_ranks[b]).then(a.cmp(&b)));

    let one_sided = opts.wilcoxon.alternative != Alternative::TwoSided;
    let mut pairs = Vec::new();
    for i in 0..k {
        for j in i + 1..k {
            // one-sided: test the better-ranked method against the other, as aeon does
            let (a, b) = if one_sided && average_ranks[j] < average_ranks[i] { (j, i) } else { (i, j) };
            let d: Vec<T> = rows.iter().map(|r| r[a].minus(r[b])).collect();
            let better = |x: &T| if opts.higher_is_better { x.sign() > 0 } else { x.sign() < 0 };
            let wins = d.iter().filter(|x| better(x)).count();
            let ties = d.iter().filter(|x| x.is_zero()).count();
            let w = wilcoxon::wilcoxon(&d, &opts.wilcoxon)
                .ok_or_else(|| StatsError::Invalid("no paired results".into()))?;
            pairs.push(Pair {
                a: methods[a].clone(),
                b: methods[b].clone(),
                wins,
                ties,
                losses: n - wins - ties,
                mean_difference: d.iter().map(|x| x.as_f64()).sum::<f64>() / n as f64,
                wilcoxon: w,
                p_holm: 0.0,
                significant: false,
                nemenyi_significant: (average_ranks[a] - average_ranks[b]).abs() > cd,
            });
        }
    }
    let adjusted = holm(&pairs.iter().map(|p| p.wilcoxon.p).collect::<Vec<_>>());
    for (p, adj) in pairs.iter_mut().zip(adjusted) {
        p.p_holm = adj;
        p.significant = adj < opts.alpha;
    }
    let pair_index = |a: usize, b: usize| {
        let (a, b) = (a.min(b), a.max(b));
        // pairs are laid out row by row over a < b
        a * k - a * (a + 1) / 2 + (b - a - 1)
    };
    let groups = not_different_groups(&order, |a, b| {
        let p = &pairs[pair_index(a, b)];
        match opts.groups {
            GroupTest::WilcoxonHolm => p.significant,
            GroupTest::Nemenyi => p.nemenyi_significant,
        }
    });
    Ok(Core { ranks, average_ranks, mean_scores, order, friedman: friedman_result, pairs, groups })
}

fn core_in(
    mode: Mode,
    rows: &[Vec<Score>],
    methods: &[String],
    opts: &AnalysisOptions,
    cd: f64,
) -> Result<Core, StatsError> {
    match mode {
        Mode::Float => {
            let r: Vec<Vec<f64>> = rows.iter().map(|r| r.iter().map(|v| v.float).collect()).collect();
            core(&r, methods, opts, cd)
        }
        Mode::Exact => {
            let r: Vec<Vec<Exact>> = rows.iter().map(|r| r.iter().map(|v| v.exact).collect()).collect();
            core(&r, methods, opts, cd)
        }
    }
}

/// What the other arithmetic would decide differently: Friedman's verdict, a pair's
/// significance, the CD diagram's groups.
fn disagreements(main: &Core, other: &Core, mode: Mode, methods: &[String], alpha: f64) -> Vec<String> {
    let (m, o) = (mode.name(), mode.other().name());
    let mut out = Vec::new();
    if let (Some(a), Some(b)) = (&main.friedman, &other.friedman)
        && (a.p < alpha) != (b.p < alpha)
    {
        out.push(format!("Friedman: p = {} in {m} arithmetic, {} in {o}", fmt_p(a.p), fmt_p(b.p)));
    }
    for (a, b) in main.pairs.iter().zip(&other.pairs) {
        if a.significant != b.significant {
            out.push(format!(
                "{} vs {}: Holm p = {} in {m} arithmetic ({}), {} in {o} ({})",
                a.a,
                a.b,
                fmt_p(a.p_holm),
                if a.significant { "significant" } else { "not significant" },
                fmt_p(b.p_holm),
                if b.significant { "significant" } else { "not significant" },
            ));
        }
    }
    let names = |g: &[Vec<usize>]| -> Vec<String> {
        g.iter().map(|g| g.iter().map(|&i| methods[i].as_str()).collect::<Vec<_>>().join(", ")).collect()
    };
    if names(&main.groups) != names(&other.groups) {
        let show = |g: Vec<String>| if g.is_empty() { "none".to_string() } else { format!("[{}]", g.join("]; [")) };
        out.push(format!(
            "CD-diagram groups: {} in {m} arithmetic, {} in {o}",
            show(names(&main.groups)),
            show(names(&other.groups))
        ));
    }
    out
}

/// Runs the comparison. `scores` must be complete (see [`Scores::complete`]). Fewer than two
/// methods or datasets is not an error: the analysis then holds the scores and ranks and says
/// why there are no tests.
pub fn analyze(scores: &Scores, opts: &AnalysisOptions, dropped: Vec<DroppedDataset>) -> Result<Analysis, StatsError> {
    let k = scores.methods.len();
    let n = scores.datasets.len();
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
        return Err(StatsError::Invalid(format!("alpha must be in (0, 1), not {}", opts.alpha)));
    }
    let mut rows: Vec<Vec<Score>> = Vec::with_capacity(n);
    for (d, row) in scores.datasets.iter().zip(&scores.values) {
        let r: Option<Vec<Score>> = row.iter().copied().collect();
        rows.push(r.ok_or_else(|| StatsError::Invalid(format!("dataset `{d}` lacks a result for some method")))?);
    }
    let untestable = match (k, n) {
        (0, _) => Some("there are no methods to compare".to_string()),
        (1, _) => Some(format!("there is only one method ({}): tests compare two or more", scores.methods[0])),
        (_, 0) => Some("no dataset has a result for every method".to_string()),
        (_, 1) => Some(format!(
            "there is only one dataset ({}): the tests need two or more datasets to compare over",
            scores.datasets[0]
        )),
        _ => None,
    };
    let cd = if untestable.is_none() { critical_difference(opts.alpha, k, n) } else { f64::NAN };
    let main = if untestable.is_none() {
        core_in(opts.mode, &rows, &scores.methods, opts, cd)?
    } else {
        // ranks and means only
        let vals: Vec<Vec<f64>> = rows.iter().map(|r| r.iter().map(|v| v.get(opts.mode)).collect()).collect();
        let (ranks, _) = ranks_of(&vals, opts.higher_is_better);
        let average_ranks = if n > 0 { mean_over_rows(&ranks, k) } else { vec![f64::NAN; k] };
        let mean_scores = if n > 0 { mean_over_rows(&vals, k) } else { vec![f64::NAN; k] };
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| average_ranks[a].total_cmp(&average_ranks[b]).then(a.cmp(&b)));
        Core { ranks, average_ranks, mean_scores, order, friedman: None, pairs: vec![], groups: vec![] }
    };
    let mode_disagreements = if untestable.is_none() {
        let other = core_in(opts.mode.other(), &rows, &scores.methods, opts, cd)?;
        disagreements(&main, &other, opts.mode, &scores.methods, opts.alpha)
    } else {
        vec![]
    };

    let mpce = match scores.metric.as_str() {
        "accuracy" | "error" if n > 0 && scores.datasets.iter().all(|d| scores.n_classes.contains_key(d)) => Some(
            (0..k)
                .map(|j| {
                    rows.iter()
                        .zip(&scores.datasets)
                        .map(|(r, d)| {
                            let v = r[j].get(opts.mode);
                            let err = if scores.metric == "accuracy" { 1.0 - v } else { v };
                            err / scores.n_classes[d] as f64
                        })
                        .sum::<f64>()
                        / n as f64
                })
                .collect(),
        ),
        _ => None,
    };
    let resamples = scores.resample_summary();
    let Core { ranks, average_ranks, mean_scores, order, friedman, pairs, groups } = main;
    Ok(Analysis {
        metric: scores.metric.clone(),
        higher_is_better: opts.higher_is_better,
        options: opts.clone(),
        inputs: scores.layouts.clone(),
        datasets: scores.datasets.clone(),
        methods: scores.methods.clone(),
        scores: rows.iter().map(|r| r.iter().map(|v| v.get(opts.mode)).collect()).collect(),
        ranks,
        average_ranks,
        mean_scores,
        mpce,
        order,
        friedman,
        pairs,
        nemenyi_cd: cd,
        groups: groups.into_iter().map(|g| g.into_iter().map(|m| scores.methods[m].clone()).collect()).collect(),
        dropped,
        untestable,
        mode_disagreements,
        resamples,
    })
}

/// What a critical-difference diagram draws (see [`crate::plot::cd_diagram::CdDiagram`]).
pub struct CdParts {
    /// Method names and average ranks.
    pub methods: Vec<(String, f64)>,
    /// Indices into `methods` of each group not significantly different.
    pub groups: Vec<Vec<usize>>,
    pub cd: Option<f64>,
}

fn fmt_p(p: f64) -> String {
    if p < 1e-4 { format!("{p:.2e}") } else { format!("{p:.4}") }
}

impl Analysis {
    /// The critical-difference diagram's input: bars follow `options.groups`; the Nemenyi CD
    /// scale bar is drawn when Nemenyi decides the groups.
    pub fn cd_diagram_parts(&self) -> CdParts {
        let methods: Vec<(String, f64)> =
            self.methods.iter().cloned().zip(self.average_ranks.iter().copied()).collect();
        let groups = self
            .groups
            .iter()
            .map(|g| g.iter().filter_map(|name| self.methods.iter().position(|m| m == name)).collect())
            .collect();
        let cd = (self.options.groups == GroupTest::Nemenyi).then_some(self.nemenyi_cd);
        CdParts { methods, groups, cd }
    }

    /// A one-line caption for the diagram.
    pub fn cd_caption(&self) -> String {
        let by = match self.options.groups {
            GroupTest::WilcoxonHolm => "Wilcoxon–Holm",
            GroupTest::Nemenyi => "Nemenyi",
        };
        format!("{}, {} datasets; bars: {by}, α = {}", self.metric, self.datasets.len(), self.options.alpha)
    }

    /// The MCM's input: methods by mean score (best first, as aeon's default order), and per
    /// (row, column) the row's mean difference, W/T/L and the pair's Holm-adjusted p.
    pub fn mcm_parts(&self) -> McmParts {
        let mut order: Vec<usize> = (0..self.methods.len()).collect();
        order.sort_by(|&a, &b| {
            let o = self.mean_scores[b].total_cmp(&self.mean_scores[a]);
            if self.higher_is_better { o } else { o.reverse() }
        });
        let methods = order.iter().map(|&i| (self.methods[i].clone(), self.mean_scores[i])).collect();
        let cells = order
            .iter()
            .map(|&r| {
                order
                    .iter()
                    .map(|&c| {
                        let (rn, cn) = (&self.methods[r], &self.methods[c]);
                        let p = self.pairs.iter().find(|p| (&p.a, &p.b) == (rn, cn) || (&p.a, &p.b) == (cn, rn))?;
                        let forward = p.a == *rn;
                        Some(McmCell {
                            mean_difference: if forward { p.mean_difference } else { -p.mean_difference },
                            wins: if forward { p.wins } else { p.losses },
                            ties: p.ties,
                            losses: if forward { p.losses } else { p.wins },
                            p: p.p_holm,
                        })
                    })
                    .collect()
            })
            .collect();
        McmParts { methods, cells }
    }

    /// The MCM as a Markdown table (row method's view: mean difference, W/T/L, Holm p).
    pub fn mcm_markdown(&self) -> String {
        let McmParts { methods, cells } = self.mcm_parts();
        let mut s = String::from("| row vs column |");
        for (m, _) in &methods {
            s.push_str(&format!(" {m} |"));
        }
        s.push_str("\n|---|");
        s.push_str(&"---:|".repeat(methods.len()));
        s.push('\n');
        for ((m, mean), row) in methods.iter().zip(&cells) {
            s.push_str(&format!("| **{m}** ({mean:.4}) |"));
            for c in row {
                match c {
                    None => s.push_str(" – |"),
                    Some(c) => {
                        let p = fmt_p(c.p);
                        let p = if c.p < self.options.alpha { format!("**{p}**") } else { p };
                        s.push_str(&format!(" {:+.4} · {}/{}/{} · {p} |", c.mean_difference, c.wins, c.ties, c.losses));
                    }
                }
            }
            s.push('\n');
        }
        s
    }

    /// The best-ranked method and the runner-up: the pair the report's scatter shows.
    pub fn top_pair(&self) -> Option<(usize, usize)> {
        (self.order.len() >= 2).then(|| (self.order[0], self.order[1]))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Ranks per dataset, then the average rank (and mean score) of each method.
    pub fn ranks_csv(&self) -> String {
        let fmt = |v: &[f64], p: Option<usize>| -> Vec<String> {
            v.iter().map(|x| p.map_or_else(|| x.to_string(), |p| format!("{x:.p$}"))).collect()
        };
        let mean = format!("mean {}", self.metric);
        let rows = self.datasets.iter().zip(&self.ranks).map(|(d, r)| (d.as_str(), fmt(r, None))).chain([
            ("average rank", fmt(&self.average_ranks, Some(6))),
            (mean.as_str(), fmt(&self.mean_scores, Some(6))),
        ]);
        crate::util::csv::wide_csv(&self.methods, rows)
    }

    pub fn pairs_csv(&self) -> String {
        let field = crate::util::csv::csv_field;
        let mut s = String::from(
            "method_a,method_b,wins,ties,losses,mean_difference,n,zeros,r_plus,r_minus,statistic,z,p,p_method,p_holm,significant,nemenyi_significant\n",
        );
        for p in &self.pairs {
            let w = &p.wilcoxon;
            s.push_str(&format!(
                "{},{},{},{},{},{:e},{},{},{},{},{},{},{:e},{},{:e},{},{}\n",
                field(&p.a),
                field(&p.b),
                p.wins,
                p.ties,
                p.losses,
                p.mean_difference,
                w.n,
                w.zeros,
                w.r_plus,
                w.r_minus,
                w.statistic,
                w.z.map(|z| format!("{z:.6}")).unwrap_or_default(),
                w.p,
                serde_json::to_value(w.p_method).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
                p.p_holm,
                p.significant,
                p.nemenyi_significant
            ));
        }
        s
    }

    /// The analysis as a reader of a paper's results section wants it.
    pub fn to_markdown(&self) -> String {
        let (k, n) = (self.methods.len(), self.datasets.len());
        let mut s = format!(
            "## Comparison of {k} methods on {n} datasets ({}, {} is better)\n\n",
            self.metric,
            if self.higher_is_better { "higher" } else { "lower" }
        );
        s.push_str(&format!("| rank | method | average rank | mean {} |", self.metric));
        if self.mpce.is_some() {
            s.push_str(" MPCE |");
        }
        s.push_str("\n|---:|---|---:|---:|");
        if self.mpce.is_some() {
            s.push_str("---:|");
        }
        s.push('\n');
        for (pos, &m) in self.order.iter().enumerate() {
            s.push_str(&format!(
                "| {} | {} | {:.4} | {:.4} |",
                pos + 1,
                self.methods[m],
                self.average_ranks[m],
                self.mean_scores[m]
            ));
            if let Some(mpce) = &self.mpce {
                s.push_str(&format!(" {:.4} |", mpce[m]));
            }
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.method_note());
        if !self.inputs.is_empty() {
            s.push_str("\nInputs:\n");
            for i in &self.inputs {
                s.push_str(&format!("- {}: read as {}\n", i.source, i.layout));
            }
        }
        if let Some(why) = &self.untestable {
            s.push_str(&format!("\nNo statistical tests: {why}.\n"));
            s.push_str(&self.resamples_markdown());
            s.push_str(&self.dropped_markdown());
            return s;
        }
        if let Some(f) = &self.friedman {
            s.push_str(&format!(
                "\nFriedman χ² = {:.4} (df {}), p = {}; Iman–Davenport F = {:.4} (df {}, {}), p = {}.\n",
                f.chi2,
                k - 1,
                fmt_p(f.p),
                f.iman_davenport_f,
                k - 1,
                (k - 1) * (n - 1),
                fmt_p(f.iman_davenport_p)
            ));
            let verdict = if f.p < self.options.alpha { "reject" } else { "do not reject" };
            s.push_str(&format!("At α = {} we {verdict} that all methods perform alike.\n", self.options.alpha));
        }
        s.push_str(&format!("Nemenyi critical difference at α = {}: {:.4}.\n\n", self.options.alpha, self.nemenyi_cd));
        s.push_str(
            "| method A | method B | W/T/L (A) | mean A − B | Wilcoxon statistic | p | p (Holm) | significant |\n",
        );
        s.push_str("|---|---|---:|---:|---:|---:|---:|:---:|\n");
        for p in &self.pairs {
            s.push_str(&format!(
                "| {} | {} | {}/{}/{} | {:+.4} | {} | {} | {} | {} |\n",
                p.a,
                p.b,
                p.wins,
                p.ties,
                p.losses,
                p.mean_difference,
                p.wilcoxon.statistic,
                fmt_p(p.wilcoxon.p),
                fmt_p(p.p_holm),
                if p.significant { "yes" } else { "no" }
            ));
        }
        let by = match self.options.groups {
            GroupTest::WilcoxonHolm => "Wilcoxon–Holm",
            GroupTest::Nemenyi => "Nemenyi",
        };
        if self.groups.is_empty() {
            s.push_str(&format!("\nEvery pair of methods differs significantly ({by}).\n"));
        } else {
            s.push_str(&format!("\nGroups not significantly different ({by}, α = {}):\n", self.options.alpha));
            for g in &self.groups {
                s.push_str(&format!("- {}\n", g.join(", ")));
            }
        }
        s.push_str(&format!(
            "\nMultiple comparison matrix (Ismail-Fawaz et al. 2023; methods by mean {}; each cell: row − column mean difference · row wins/ties/losses · Holm-adjusted Wilcoxon p, bold below α):\n\n",
            self.metric
        ));
        s.push_str(&self.mcm_markdown());
        if self.mode_disagreements.is_empty() {
            s.push_str(&format!(
                "\nIn {} arithmetic every significance decision and CD-diagram group is the same.\n",
                self.options.mode.other().name()
            ));
        } else {
            s.push_str(&format!(
                "\nIn {} arithmetic these decisions would differ:\n",
                self.options.mode.other().name()
            ));
            for d in &self.mode_disagreements {
                s.push_str(&format!("- {d}\n"));
            }
        }
        s.push_str(&self.resamples_markdown());
        s.push_str(&self.dropped_markdown());
        s
    }

    /// Per dataset and method, mean ± sd over resamples (when some cell had several).
    fn resamples_markdown(&self) -> String {
        let Some(r) = &self.resamples else { return String::new() };
        let mut s = format!(
            "\nPer dataset, mean ± sample standard deviation of {} over resamples (count where not all alike):\n\n| dataset | {} |\n|---|{}\n",
            self.metric,
            self.methods.join(" | "),
            "---:|".repeat(self.methods.len())
        );
        let usual = r.cells.iter().flatten().map(|c| c.0).max().unwrap_or(0);
        for (d, row) in self.datasets.iter().zip(&r.cells) {
            let cells: Vec<String> = row
                .iter()
                .map(|&(n, m, sd)| {
                    let count = if n != usual { format!(" ({n})") } else { String::new() };
                    match sd {
                        Some(sd) => format!("{m:.4} ± {sd:.4}{count}"),
                        None => format!("{m:.4}{count}"),
                    }
                })
                .collect();
            s.push_str(&format!("| {d} | {} |\n", cells.join(" | ")));
        }
        s
    }

    /// How the statistics were computed, in one paragraph.
    fn method_note(&self) -> String {
        let o = &self.options;
        let w = &o.wilcoxon;
        let arithmetic = match o.mode {
            Mode::Float => "float64 arithmetic, as SciPy and pandas compute (differences by float subtraction)",
            Mode::Exact => "exact decimal arithmetic (equal gaps such as 0.54 − 0.37 and 0.64 − 0.47 tie)",
        };
        let zeros = match w.zero_method {
            ZeroMethod::Wilcox => "wilcox",
            ZeroMethod::Pratt => "pratt",
            ZeroMethod::Zsplit => "zsplit",
        };
        let method = match w.method {
            wilcoxon::Method::Auto => "auto (SciPy's choice)",
            wilcoxon::Method::Exact => "exact",
            wilcoxon::Method::Approx => "normal approximation",
        };
        let sided = match w.alternative {
            Alternative::TwoSided => String::new(),
            a => {
                format!(" (A is the method with the better average rank; `{}`: A's scores are {})", a.name(), a.name())
            }
        };
        format!(
            "Statistics: mode `{}`, {arithmetic}; Wilcoxon signed-rank: zero_method `{zeros}`, continuity correction {}, alternative `{}`{sided}, p-values {method}; Holm's step-down over all pairs.\n",
            o.mode.name(),
            if w.correction { "on" } else { "off" },
            w.alternative.name(),
        )
    }

    fn dropped_markdown(&self) -> String {
        let mut s = String::new();
        if !self.dropped.is_empty() {
            s.push_str(&format!("\n{} datasets left out for missing results:\n", self.dropped.len()));
            // one line per set of missing methods: published tables can leave out a hundred datasets
            let mut by_missing: Vec<(Vec<String>, Vec<&str>)> = Vec::new();
            for d in &self.dropped {
                match by_missing.iter_mut().find(|(m, _)| *m == d.missing) {
                    Some((_, names)) => names.push(&d.dataset),
                    None => by_missing.push((d.missing.clone(), vec![&d.dataset])),
                }
            }
            for (missing, names) in by_missing {
                s.push_str(&format!("- no result for {}: {}\n", missing.join(", "), names.join(", ")));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::scores::Resample;

    #[test]
    fn ranks_wins_and_groups_on_a_small_table() {
        let text = "dataset,A,B,C\nd1,0.9,0.8,0.7\nd2,0.9,0.9,0.6\nd3,0.8,0.7,0.9\nd4,1,0.5,0.4\nd5,0.95,0.9,0.3\n";
        let s = Scores::parse_csv("t.csv", text, "accuracy", &Resample::Mean).unwrap();
        let a = analyze(&s, &AnalysisOptions::default(), vec![]).unwrap();
        assert_eq!(a.ranks[1], vec![1.5, 1.5, 3.0]);
        assert_eq!(a.average_ranks, vec![1.3, 2.1, 2.6]);
        assert_eq!(a.order, vec![0, 1, 2]);
        let ab = &a.pairs[0];
        assert_eq!((ab.wins, ab.ties, ab.losses), (4, 1, 0));
        // lower is better flips the ranks
        let lo = analyze(&s, &AnalysisOptions { higher_is_better: false, ..Default::default() }, vec![]).unwrap();
        assert_eq!(lo.ranks[0], vec![3.0, 2.0, 1.0]);
        // with 5 datasets nothing is significant after Holm: one group of all three
        assert_eq!(a.groups, vec![vec!["A".to_string(), "B".into(), "C".into()]]);
        let md = a.to_markdown();
        assert!(md.contains("| 1 | A | 1.3000 |"), "{md}");
        assert!(a.ranks_csv().contains("average rank,1.300000,2.100000,2.600000"));
        assert_eq!(a.pairs_csv().lines().count(), 4);
    }

    #[test]
    fn too_few_methods_or_datasets_give_ranks_and_the_reason_instead_of_tests() {
        let s = Scores::parse_csv("t.csv", "dataset,A\nd1,0.9\nd2,0.8\n", "accuracy", &Resample::Mean).unwrap();
        let a = analyze(&s, &AnalysisOptions::default(), vec![]).unwrap();
        assert!(a.untestable.as_deref().unwrap().contains("only one method (A)"));
        assert!(a.pairs.is_empty() && a.friedman.is_none());
        assert_eq!(a.average_ranks, vec![1.0]);
        let md = a.to_markdown();
        assert!(md.contains("No statistical tests: there is only one method"), "{md}");
        let s = Scores::parse_csv("t.csv", "dataset,A,B\nd1,0.9,0.8\n", "accuracy", &Resample::Mean).unwrap();
        let a = analyze(&s, &AnalysisOptions::default(), vec![]).unwrap();
        assert!(a.untestable.as_deref().unwrap().contains("only one dataset (d1)"));
        assert_eq!(a.ranks, vec![vec![1.0, 2.0]]);
        assert!(a.to_markdown().contains("| 1 | A | 1.0000 | 0.9000 |"));
    }

    #[test]
    fn the_two_arithmetics_disagreeing_is_reported() {
        // Gaps of 0.17 (and 0.05, 0.11) tie exactly but not as float64 differences. SciPy
        // (pratt, no correction) on the floats: p = 0.06021638946535957; on exactly tied
        // gaps: p = 0.04707076737601282 — the decision flips.
        let a = "0.69,0.46,0.44,0.91,0.70,0.59,0.34,0.54,0.50,0.51,0.69,0.46,0.66,0.80,0.49";
        let b = "0.52,0.41,0.47,0.94,0.59,0.76,0.29,0.37,0.33,0.46,0.72,0.29,0.77,0.63,0.32";
        let mut text = String::from("dataset,A,B\n");
        for (i, (x, y)) in a.split(',').zip(b.split(',')).enumerate() {
            text.push_str(&format!("d{i},{x},{y}\n"));
        }
        let s = Scores::parse_csv("t.csv", &text, "accuracy", &Resample::Mean).unwrap();
        let f = analyze(&s, &AnalysisOptions::default(), vec![]).unwrap();
        let e = analyze(&s, &AnalysisOptions { mode: Mode::Exact, ..Default::default() }, vec![]).unwrap();
        assert!((f.pairs[0].wilcoxon.p / 0.06021638946535957 - 1.0).abs() < 1e-9, "{}", f.pairs[0].wilcoxon.p);
        assert!((e.pairs[0].wilcoxon.p / 0.04707076737601282 - 1.0).abs() < 1e-9, "{}", e.pairs[0].wilcoxon.p);
        assert_eq!(f.mode_disagreements.len(), 2, "{:?}", f.mode_disagreements);
        assert!(f.mode_disagreements[0].starts_with("A vs B: Holm p = 0.0602 in float arithmetic (not significant)"));
        assert!(f.mode_disagreements[1].starts_with("CD-diagram groups: [A, B] in float arithmetic, none in exact"));
        let md = f.to_markdown();
        assert!(md.contains("Statistics: mode `float`") && md.contains("zero_method `pratt`"), "{md}");
        assert!(md.contains("continuity correction off") && md.contains("alternative `two-sided`"), "{md}");
        assert!(md.contains("In exact arithmetic these decisions would differ:\n- A vs B"), "{md}");
        assert_eq!(e.mode_disagreements.len(), 2);
    }
}
