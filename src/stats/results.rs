//! Results tables made of evaluation records: the dataset × method table of one metric
//! ([`ResultsTable`], averaged over resamples), mean ± sd over resamples ([`MeanSd`]) and the
//! exact scores the comparison reads ([`scores_from_records`]).

use std::collections::BTreeMap;

use super::StatsError;
use super::analysis::InputLayout;
use super::{Score, Scores};
use crate::metrics::record::EvalRecord;
use crate::util::csv::{csv_field, wide_csv};

fn unknown_metric(metric: &str) -> StatsError {
    StatsError::Invalid(format!("unknown metric `{metric}`"))
}

/// A results table in memory: rows are datasets, columns methods, in first-seen order.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultsTable {
    pub metric: String,
    pub datasets: Vec<String>,
    pub methods: Vec<String>,
    /// `[dataset][method]`, `None` where a method was not run on a dataset.
    pub values: Vec<Vec<Option<f64>>>,
    pub records: Vec<EvalRecord>,
}

/// The datasets and methods of some records, each in the order first seen.
fn datasets_and_methods(records: &[EvalRecord]) -> (Vec<String>, Vec<String>) {
    let mut datasets: Vec<String> = Vec::new();
    let mut methods: Vec<String> = Vec::new();
    for r in records {
        if !datasets.contains(&r.dataset) {
            datasets.push(r.dataset.clone());
        }
        if !methods.contains(&r.method) {
            methods.push(r.method.clone());
        }
    }
    (datasets, methods)
}

/// Datasets (rows), methods (columns), both in first-seen order, and `value` of each record in
/// its cell (`None` where a method was not run on a dataset). Two records for one cell are an
/// error: the table and the statistics need one number per dataset and method.
#[allow(clippy::type_complexity)]
pub fn record_matrix<T: Clone>(
    records: &[EvalRecord],
    mut value: impl FnMut(&EvalRecord) -> Result<T, StatsError>,
) -> Result<(Vec<String>, Vec<String>, Vec<Vec<Option<T>>>), StatsError> {
    let (datasets, methods) = datasets_and_methods(records);
    let mut values = vec![vec![None; methods.len()]; datasets.len()];
    for r in records {
        let d = datasets.iter().position(|x| *x == r.dataset).unwrap_or(0);
        let m = methods.iter().position(|x| *x == r.method).unwrap_or(0);
        if values[d][m].is_some() {
            if let Some(other) = records.iter().find(|o| o.dataset == r.dataset && o.method == r.method)
                && other.resample != r.resample
            {
                return Err(StatsError::Invalid(format!(
                    "several resamples of dataset `{}` and method `{}`: gather a `table` stage, which averages the resamples (`results_long.csv` keeps each one)",
                    r.dataset, r.method
                )));
            }
            return Err(StatsError::Invalid(format!(
                "two results for dataset `{}` and method `{}`: give the evaluate stages distinct `method` labels (e.g. method = \"LSTM-FCN-${{cells}}\")",
                r.dataset, r.method
            )));
        }
        values[d][m] = Some(value(r)?);
    }
    Ok((datasets, methods, values))
}

/// Like [`record_matrix`] for records of a resampled pipeline: each cell is the mean of `metric`
/// over that dataset's and method's resamples, and one resample may appear once per cell.
#[allow(clippy::type_complexity)]
fn resample_means(
    records: &[EvalRecord],
    metric: &str,
) -> Result<(Vec<String>, Vec<String>, Vec<Vec<Option<f64>>>), StatsError> {
    if let Some(r) = records.iter().find(|r| r.resample.is_none()) {
        return Err(StatsError::Invalid(format!(
            "the result of method `{}` on dataset `{}` has no resample id while others have one: every evaluation gathered must sit on the `resample` axis",
            r.method, r.dataset
        )));
    }
    let (datasets, methods) = datasets_and_methods(records);
    let mut seen = std::collections::HashSet::new();
    let mut sums: Vec<Vec<Option<(f64, usize)>>> = vec![vec![None; methods.len()]; datasets.len()];
    for r in records {
        if !seen.insert((&r.dataset, &r.method, r.resample)) {
            return Err(StatsError::Invalid(format!(
                "two results for dataset `{}`, method `{}` and resample {}: give the evaluate stages distinct `method` labels",
                r.dataset,
                r.method,
                r.resample.unwrap_or_default()
            )));
        }
        let v = r.metric(metric).ok_or_else(|| unknown_metric(metric))?;
        let d = datasets.iter().position(|x| *x == r.dataset).unwrap_or(0);
        let m = methods.iter().position(|x| *x == r.method).unwrap_or(0);
        let cell = sums[d][m].get_or_insert((0.0, 0));
        cell.0 += v;
        cell.1 += 1;
    }
    let values = sums.into_iter().map(|row| row.into_iter().map(|c| c.map(|(s, n)| s / n as f64)).collect()).collect();
    Ok((datasets, methods, values))
}

impl ResultsTable {
    /// One value per dataset and method: the record's, or the mean over resamples when the
    /// records carry resample ids.
    pub fn build(records: Vec<EvalRecord>, metric: &str) -> Result<ResultsTable, StatsError> {
        let (datasets, methods, values) = if records.iter().any(|r| r.resample.is_some()) {
            resample_means(&records, metric)?
        } else {
            record_matrix(&records, |r| r.metric(metric).ok_or_else(|| unknown_metric(metric)))?
        };
        Ok(ResultsTable { metric: metric.to_string(), datasets, methods, values, records })
    }

    /// The number of distinct resamples behind the table (0 without a resample axis).
    pub fn resamples(&self) -> usize {
        let ids: std::collections::BTreeSet<i64> = self.records.iter().filter_map(|r| r.resample).collect();
        ids.len()
    }

    pub fn to_csv(&self) -> String {
        let rows = self.datasets.iter().zip(&self.values).map(|(d, row)| {
            (d.as_str(), row.iter().map(|v| v.map(|v| format!("{v:.6}")).unwrap_or_default()).collect())
        });
        wide_csv(&self.methods, rows)
    }

    /// Long form with the exact counts, for analyses that must see ties exactly; with a
    /// `resample` column (one row per resample) when the pipeline has a resample axis.
    pub fn to_long_csv(&self) -> String {
        let resampled = self.resamples() > 0;
        let mut s = String::from(if resampled { "dataset,method,resample," } else { "dataset,method," });
        s.push_str("correct,total,n_classes,accuracy,balanced_accuracy,macro_f1,protocol\n");
        for r in &self.records {
            let resample = match (resampled, r.resample) {
                (true, Some(k)) => format!("{k},"),
                _ => String::new(),
            };
            s.push_str(&format!(
                "{},{},{resample}{},{},{},{:.6},{:.6},{:.6},{}\n",
                csv_field(&r.dataset),
                csv_field(&r.method),
                r.correct,
                r.total,
                r.n_classes,
                r.accuracy,
                r.balanced_accuracy,
                r.macro_f1,
                csv_field(&r.protocol)
            ));
        }
        s
    }

    /// Markdown with the best value per dataset in bold.
    pub fn to_markdown(&self) -> String {
        let higher_better = self.metric != "error";
        let mut s =
            format!("| dataset | {} |\n|---|{}\n", self.methods.join(" | "), "---:|".repeat(self.methods.len()));
        for (d, row) in self.datasets.iter().zip(&self.values) {
            let best = row.iter().flatten().copied().fold(None, |acc: Option<f64>, v| match acc {
                None => Some(v),
                Some(a) => Some(if (v > a) == higher_better { v } else { a }),
            });
            let cells: Vec<String> = row
                .iter()
                .map(|v| match v {
                    Some(v) if best.is_some_and(|b| format!("{b:.4}") == format!("{v:.4}")) => format!("**{v:.4}**"),
                    Some(v) => format!("{v:.4}"),
                    None => "–".into(),
                })
                .collect();
            s.push_str(&format!("| {d} | {} |\n", cells.join(" | ")));
        }
        let over = match self.resamples() {
            0 => String::new(),
            n => format!(", mean over {n} resample{}", if n == 1 { "" } else { "s" }),
        };
        s.push_str(&format!(
            "\n{} ({} better{over}); best per dataset in bold.\n",
            self.metric,
            if higher_better { "higher" } else { "lower" }
        ));
        s
    }
}

/// Mean and sample standard deviation over resamples per (dataset, method), for tables whose
/// every cell holds the same number (two or more) of evaluation records — one per resample.
#[derive(Debug, Clone, PartialEq)]
pub struct MeanSd {
    pub metric: String,
    pub datasets: Vec<String>,
    pub methods: Vec<String>,
    /// `[dataset][method]`: (mean, sd, resamples); `None` where a method was not run.
    pub cells: Vec<Vec<Option<(f64, f64, usize)>>>,
}

impl MeanSd {
    /// `None` unless every (dataset, method) cell with results has the same count ≥ 2 (a table
    /// of single results stays as it is; mixed counts are left to [`ResultsTable::build`] to
    /// report as duplicates).
    pub fn from_records(records: &[EvalRecord], metric: &str) -> Result<Option<MeanSd>, StatsError> {
        let (datasets, methods) = datasets_and_methods(records);
        let mut groups: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); methods.len()]; datasets.len()];
        for r in records {
            let d = datasets.iter().position(|x| *x == r.dataset).unwrap_or(0);
            let m = methods.iter().position(|x| *x == r.method).unwrap_or(0);
            groups[d][m].push(r.metric(metric).ok_or_else(|| unknown_metric(metric))?);
        }
        let counts: std::collections::BTreeSet<usize> =
            groups.iter().flatten().map(Vec::len).filter(|&n| n > 0).collect();
        if counts.len() != 1 || counts.first().is_none_or(|&n| n < 2) {
            return Ok(None);
        }
        let cells = groups
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| {
                        let mean = super::value::kahan_mean(v.iter().copied());
                        super::value::sample_sd(v).map(|sd| (mean, sd, v.len()))
                    })
                    .collect()
            })
            .collect();
        Ok(Some(MeanSd { metric: metric.to_string(), datasets, methods, cells }))
    }

    /// The wide table of means (what `results.csv` holds when there are resamples).
    pub fn means_table(&self, records: Vec<EvalRecord>) -> ResultsTable {
        let values = self.cells.iter().map(|r| r.iter().map(|c| c.map(|c| c.0)).collect()).collect();
        ResultsTable {
            metric: self.metric.clone(),
            datasets: self.datasets.clone(),
            methods: self.methods.clone(),
            values,
            records,
        }
    }

    /// `dataset,<method> mean,<method> sd,…`.
    pub fn to_csv(&self) -> String {
        let columns: Vec<String> = self.methods.iter().flat_map(|m| [format!("{m} mean"), format!("{m} sd")]).collect();
        let rows = self.datasets.iter().zip(&self.cells).map(|(d, row)| {
            let cells = row
                .iter()
                .flat_map(|c| match c {
                    Some((m, sd, _)) => [format!("{m:.6}"), format!("{sd:.6}")],
                    None => [String::new(), String::new()],
                })
                .collect();
            (d.as_str(), cells)
        });
        wide_csv(&columns, rows)
    }

    /// Markdown: mean ± sd per cell, the best mean per dataset in bold.
    pub fn to_markdown(&self) -> String {
        let higher_better = self.metric != "error";
        let n = self.cells.iter().flatten().flatten().map(|c| c.2).next().unwrap_or(0);
        let mut s =
            format!("| dataset | {} |\n|---|{}\n", self.methods.join(" | "), "---:|".repeat(self.methods.len()));
        for (d, row) in self.datasets.iter().zip(&self.cells) {
            let best = row.iter().flatten().map(|c| c.0).fold(None, |acc: Option<f64>, v| match acc {
                None => Some(v),
                Some(a) => Some(if (v > a) == higher_better { v } else { a }),
            });
            let cells: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Some((m, sd, _)) if best.is_some_and(|b| format!("{b:.4}") == format!("{m:.4}")) => {
                        format!("**{m:.4}** ± {sd:.4}")
                    }
                    Some((m, sd, _)) => format!("{m:.4} ± {sd:.4}"),
                    None => "–".into(),
                })
                .collect();
            s.push_str(&format!("| {d} | {} |\n", cells.join(" | ")));
        }
        s.push_str(&format!(
            "\n{} ({} better): mean ± sample standard deviation over {n} resamples; best mean per dataset in bold.\n",
            self.metric,
            if higher_better { "higher" } else { "lower" }
        ));
        s
    }
}

/// Scores of the pipeline's own evaluations, exact from counts where the metric allows. When
/// every (dataset, method) has the same number (≥ 2) of records — one per resample — each cell
/// is their mean.
pub fn scores_from_records(source: &str, records: &[EvalRecord], metric: &str) -> Result<Scores, StatsError> {
    let score = |r: &EvalRecord| {
        match metric {
            "accuracy" => Score::from_counts(r.correct, r.total),
            "error" => Score::from_counts(r.total.saturating_sub(r.correct), r.total),
            other => r.metric(other).and_then(Score::from_f64),
        }
        .ok_or_else(|| StatsError::Invalid(format!("no `{metric}` for {} on {}", r.method, r.dataset)))
    };
    let n_classes = records.iter().map(|r| (r.dataset.clone(), r.n_classes)).collect();
    let mut s = Scores {
        source: source.to_string(),
        metric: metric.to_string(),
        datasets: vec![],
        methods: vec![],
        values: vec![],
        n_classes,
        layouts: vec![],
        per_resample: Default::default(),
    };
    let mut cells: BTreeMap<(String, String), Vec<Score>> = BTreeMap::new();
    for r in records {
        cells.entry((r.dataset.clone(), r.method.clone())).or_default().push(score(r)?);
    }
    let counts: std::collections::BTreeSet<usize> = cells.values().map(Vec::len).collect();
    let layout = if counts.len() == 1 && counts.first().is_some_and(|&n| n >= 2) {
        let mut seen = std::collections::BTreeSet::new();
        let firsts: Vec<EvalRecord> =
            records.iter().filter(|r| seen.insert((r.dataset.clone(), r.method.clone()))).cloned().collect();
        let (datasets, methods, values) = record_matrix(&firsts, |r| {
            let vs = &cells[&(r.dataset.clone(), r.method.clone())];
            Score::mean(vs).ok_or_else(|| StatsError::Invalid(format!("no mean for {} on {}", r.method, r.dataset)))
        })?;
        for ((d, m), vs) in &cells {
            s.per_resample.insert((d.clone(), m.clone()), vs.iter().map(|v| v.float).collect());
        }
        (s.datasets, s.methods, s.values) = (datasets, methods, values);
        format!(
            "the pipeline's evaluation records (exact counts), mean over {} resamples",
            counts.first().unwrap_or(&0)
        )
    } else {
        let (datasets, methods, values) = record_matrix(records, score)?;
        (s.datasets, s.methods, s.values) = (datasets, methods, values);
        "the pipeline's evaluation records (exact counts)".to_string()
    };
    s.layouts.push(InputLayout { source: source.to_string(), layout });
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) use crate::metrics::record::test_record as rec;

    #[test]
    fn resampled_records_average_per_cell_and_keep_one_row_each() {
        let recs = vec![rec("D", "A", Some(0), 8), rec("D", "A", Some(1), 9), rec("D", "B", Some(0), 5)];
        let t = ResultsTable::build(recs.clone(), "accuracy").unwrap();
        assert_eq!(t.values, vec![vec![Some((0.8 + 0.9) / 2.0), Some(0.5)]], "float means, as pandas'");
        assert_eq!(t.resamples(), 2);
        let long = t.to_long_csv();
        assert!(long.starts_with("dataset,method,resample,correct,"), "{long}");
        assert!(long.contains("\nD,A,1,9,10,2,0.900000,"), "{long}");
        assert!(t.to_markdown().contains("mean over 2 resamples"));

        let mut dup = recs.clone();
        dup.push(rec("D", "A", Some(1), 7));
        assert!(ResultsTable::build(dup, "accuracy").unwrap_err().to_string().contains("and resample 1"));
        let mut mixed = recs.clone();
        mixed.push(rec("E", "A", None, 7));
        assert!(ResultsTable::build(mixed, "accuracy").unwrap_err().to_string().contains("has no resample id"));
        // The one-number-per-cell matrix (the analysis of evaluate stages) points at `table`.
        let err = record_matrix(&recs, |r| Ok::<f64, StatsError>(r.accuracy)).unwrap_err().to_string();
        assert!(err.contains("gather a `table` stage"), "{err}");
    }

    #[test]
    fn without_resamples_the_long_table_has_no_resample_column() {
        let t = ResultsTable::build(vec![rec("D", "A", None, 8)], "accuracy").unwrap();
        assert_eq!(
            t.to_long_csv(),
            "dataset,method,correct,total,n_classes,accuracy,balanced_accuracy,macro_f1,protocol\nD,A,8,10,2,0.800000,0.800000,0.800000,p\n"
        );
        assert!(t.to_markdown().ends_with("accuracy (higher better); best per dataset in bold.\n"));
    }
}

#[cfg(test)]
mod mean_sd_tests {
    use super::*;

    /// One record per call; the resample id is left out, as `MeanSd` counts records per cell.
    fn rec(dataset: &str, method: &str, correct: usize) -> EvalRecord {
        super::tests::rec(dataset, method, None, correct)
    }

    #[test]
    fn mean_and_sd_only_with_resamples() {
        let one = vec![rec("X", "A", 8), rec("X", "B", 7)];
        assert_eq!(MeanSd::from_records(&one, "accuracy").unwrap(), None);
        let three = vec![
            rec("X", "A", 8),
            rec("X", "A", 9),
            rec("X", "A", 7),
            rec("X", "B", 5),
            rec("X", "B", 5),
            rec("X", "B", 5),
        ];
        let ms = MeanSd::from_records(&three, "accuracy").unwrap().unwrap();
        let (m, sd, n) = ms.cells[0][0].unwrap();
        assert!((m - 0.8).abs() < 1e-12 && (sd - 0.1).abs() < 1e-12 && n == 3);
        assert!(ms.to_markdown().contains("| X | **0.8000** ± 0.1000 | 0.5000 ± 0.0000 |"), "{}", ms.to_markdown());
        assert!(ms.to_csv().starts_with("dataset,A mean,A sd,B mean,B sd\nX,0.800000,0.100000,0.500000,0.000000"));
        assert!(ms.means_table(three).to_csv().contains("X,0.800000,0.500000"));
        // mixed counts are duplicates, left for `build` to report
        assert_eq!(
            MeanSd::from_records(&[rec("X", "A", 8), rec("X", "A", 9), rec("X", "B", 5)], "accuracy").unwrap(),
            None
        );
    }
}
