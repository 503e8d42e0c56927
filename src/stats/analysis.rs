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
use super::wilcoxon::{self, Wilcoxon};

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
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            alpha: 0.05,
            higher_is_better: true,
            wilcoxon: wilcoxon::Options::default(),
            groups: GroupTest::WilcoxonHolm,
        }
    }
}

/// One pair of methods, `a` before `b` in the table's order; wins/losses are `a`'s.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    pub a: String,
    pub b: String,
    pub wins: usize,
    pub ties: usize,
    pub losses: usize,
    pub wilcoxon: Wilcoxon,
    /// Holm-adjusted p over all pairs.
    pub p_holm: f64,
    pub significant: bool,
    /// |R_a − R_b| > CD.
    pub nemenyi_significant: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub metric: String,
    pub higher_is_better: bool,
    pub options: AnalysisOptions,
    pub datasets: Vec<String>,
    pub methods: Vec<String>,
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
}

/// Runs the comparison. `scores` must be complete (see [`Scores::complete`]).
pub fn analyze(scores: &Scores, opts: &AnalysisOptions, dropped: Vec<DroppedDataset>) -> Result<Analysis, StatsError> {
    let k = scores.methods.len();
    let n = scores.datasets.len();
    if k < 2 {
        return Err(StatsError::Invalid(format!("an analysis needs at least 2 methods, {} has {k}", scores.source)));
    }
    if n < 2 {
        return Err(StatsError::Invalid(format!("an analysis needs at least 2 datasets, {} has {n}", scores.source)));
    }
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
        return Err(StatsError::Invalid(format!("alpha must be in (0, 1), not {}", opts.alpha)));
    }
    let mut rows: Vec<Vec<Exact>> = Vec::with_capacity(n);
    for (d, row) in scores.datasets.iter().zip(&scores.values) {
        let r: Option<Vec<Exact>> = row.iter().copied().collect();
        rows.push(r.ok_or_else(|| StatsError::Invalid(format!("dataset `{d}` lacks a result for some method")))?);
    }
    let better_first = |a: &Exact, b: &Exact| if opts.higher_is_better { b.cmp(a) } else { a.cmp(b) };
    let mut ranks = Vec::with_capacity(n);
    let mut ties = Vec::with_capacity(n);
    for row in &rows {
        let (r, t) = average_ranks(row, better_first);
        ranks.push(r);
        ties.push(t);
    }
    let friedman_result = friedman(&ranks, &ties);
    let average_ranks: Vec<f64> = (0..k).map(|j| ranks.iter().map(|r| r[j]).sum::<f64>() / n as f64).collect();
    let mean_scores: Vec<f64> = (0..k).map(|j| rows.iter().map(|r| r[j].to_f64()).sum::<f64>() / n as f64).collect();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| average_ranks[a].total_cmp(&average_ranks[b]).then(a.cmp(&b)));

    let mpce = match scores.metric.as_str() {
        "accuracy" | "error" if scores.datasets.iter().all(|d| scores.n_classes.contains_key(d)) => Some(
            (0..k)
                .map(|j| {
                    rows.iter()
                        .zip(&scores.datasets)
                        .map(|(r, d)| {
                            let v = r[j].to_f64();
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

    let cd = critical_difference(opts.alpha, k, n);
    let mut pairs = Vec::new();
    for a in 0..k {
        for b in a + 1..k {
            let d: Vec<Exact> = rows.iter().map(|r| r[a] - r[b]).collect();
            let better = |x: &Exact| if opts.higher_is_better { x.signum() > 0 } else { x.signum() < 0 };
            let wins = d.iter().filter(|x| better(x)).count();
            let ties = d.iter().filter(|x| x.is_zero()).count();
            let w = wilcoxon::wilcoxon(&d, &opts.wilcoxon)
                .ok_or_else(|| StatsError::Invalid("no paired results".into()))?;
            pairs.push(Pair {
                a: scores.methods[a].clone(),
                b: scores.methods[b].clone(),
                wins,
                ties,
                losses: n - wins - ties,
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
    })
    .into_iter()
    .map(|g| g.into_iter().map(|m| scores.methods[m].clone()).collect())
    .collect();

    Ok(Analysis {
        metric: scores.metric.clone(),
        higher_is_better: opts.higher_is_better,
        options: opts.clone(),
        datasets: scores.datasets.clone(),
        methods: scores.methods.clone(),
        ranks,
        average_ranks,
        mean_scores,
        mpce,
        order,
        friedman: friedman_result,
        pairs,
        nemenyi_cd: cd,
        groups,
        dropped,
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
            "method_a,method_b,wins,ties,losses,n,zeros,r_plus,r_minus,statistic,z,p,p_method,p_holm,significant,nemenyi_significant\n",
        );
        for p in &self.pairs {
            let w = &p.wilcoxon;
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{:e},{},{:e},{},{}\n",
                field(&p.a),
                field(&p.b),
                p.wins,
                p.ties,
                p.losses,
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
        s.push_str("| method A | method B | W/T/L (A) | Wilcoxon statistic | p | p (Holm) | significant |\n");
        s.push_str("|---|---|---:|---:|---:|---:|:---:|\n");
        for p in &self.pairs {
            s.push_str(&format!(
                "| {} | {} | {}/{}/{} | {} | {} | {} | {} |\n",
                p.a,
                p.b,
                p.wins,
                p.ties,
                p.losses,
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
    fn too_few_methods_or_datasets_are_errors() {
        let s = Scores::parse_csv("t.csv", "dataset,A\nd1,0.9\nd2,0.8\n", "accuracy", &Resample::Mean).unwrap();
        assert!(
            analyze(&s, &AnalysisOptions::default(), vec![]).unwrap_err().to_string().contains("at least 2 methods")
        );
        let s = Scores::parse_csv("t.csv", "dataset,A,B\nd1,0.9,0.8\n", "accuracy", &Resample::Mean).unwrap();
        assert!(analyze(&s, &AnalysisOptions::default(), vec![]).unwrap_err().to_string().contains("2 datasets"));
    }
}
