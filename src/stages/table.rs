//! `table`: gathers evaluation records into a dataset × method results table (CSV + Markdown).

use super::evaluate::EvalRecord;
use super::kind::{StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};

pub struct Table;

pub const METRICS: &[&str] = &["accuracy", "balanced_accuracy", "macro_f1", "macro_precision", "macro_recall", "error"];

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

/// Datasets (rows), methods (columns), both in first-seen order, and `value` of each record in
/// its cell (`None` where a method was not run on a dataset). Two records for one cell are an
/// error: the table and the statistics need one number per dataset and method.
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

#[allow(clippy::type_complexity)]
pub fn record_matrix<T: Clone>(
    records: &[EvalRecord],
    mut value: impl FnMut(&EvalRecord) -> Result<T, String>,
) -> Result<(Vec<String>, Vec<String>, Vec<Vec<Option<T>>>), String> {
    let (datasets, methods) = datasets_and_methods(records);
    let mut values = vec![vec![None; methods.len()]; datasets.len()];
    for r in records {
        let d = datasets.iter().position(|x| *x == r.dataset).unwrap_or(0);
        let m = methods.iter().position(|x| *x == r.method).unwrap_or(0);
        if values[d][m].is_some() {
            if let Some(other) = records.iter().find(|o| o.dataset == r.dataset && o.method == r.method)
                && other.resample != r.resample
            {
                return Err(format!(
                    "several resamples of dataset `{}` and method `{}`: gather a `table` stage, which averages the resamples (`results_long.csv` keeps each one)",
                    r.dataset, r.method
                ));
            }
            return Err(format!(
                "two results for dataset `{}` and method `{}`: give the evaluate stages distinct `method` labels (e.g. method = \"LSTM-FCN-${{cells}}\")",
                r.dataset, r.method
            ));
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
) -> Result<(Vec<String>, Vec<String>, Vec<Vec<Option<f64>>>), String> {
    if let Some(r) = records.iter().find(|r| r.resample.is_none()) {
        return Err(format!(
            "the result of method `{}` on dataset `{}` has no resample id while others have one: every evaluation gathered must sit on the `resample` axis",
            r.method, r.dataset
        ));
    }
    let (datasets, methods) = datasets_and_methods(records);
    let mut seen = std::collections::HashSet::new();
    let mut sums: Vec<Vec<Option<(f64, usize)>>> = vec![vec![None; methods.len()]; datasets.len()];
    for r in records {
        if !seen.insert((&r.dataset, &r.method, r.resample)) {
            return Err(format!(
                "two results for dataset `{}`, method `{}` and resample {}: give the evaluate stages distinct `method` labels",
                r.dataset,
                r.method,
                r.resample.unwrap_or_default()
            ));
        }
        let v = r.metric(metric).ok_or_else(|| format!("unknown metric `{metric}`"))?;
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
    pub fn build(records: Vec<EvalRecord>, metric: &str) -> Result<ResultsTable, String> {
        let (datasets, methods, values) = if records.iter().any(|r| r.resample.is_some()) {
            resample_means(&records, metric)?
        } else {
            record_matrix(&records, |r| r.metric(metric).ok_or_else(|| format!("unknown metric `{metric}`")))?
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

pub use crate::util::csv::{csv_field, wide_csv};

crate::stage_params! {
    /// Parameters of `table`.
    pub struct TableParams {
        /// the metric shown in the table
        pub metric: String [Enum(METRICS) = "accuracy"],
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
    pub fn from_records(records: &[EvalRecord], metric: &str) -> Result<Option<MeanSd>, String> {
        let (datasets, methods) = datasets_and_methods(records);
        let mut groups: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); methods.len()]; datasets.len()];
        for r in records {
            let d = datasets.iter().position(|x| *x == r.dataset).unwrap_or(0);
            let m = methods.iter().position(|x| *x == r.method).unwrap_or(0);
            groups[d][m].push(r.metric(metric).ok_or_else(|| format!("unknown metric `{metric}`"))?);
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
                        let mean = crate::stats::value::kahan_mean(v.iter().copied());
                        crate::stats::value::sample_sd(v).map(|sd| (mean, sd, v.len()))
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

impl TypedStage for Table {
    type Params = TableParams;
    fn resources(&self, _: &TableParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::SHORT
    }
    fn name(&self) -> &'static str {
        "table"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Gathers evaluation results into a dataset × method table (CSV, long CSV, Markdown)"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "results", required: true, gather: true, doc: "evaluate stages to gather" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::published("results.csv", "wide table: one row per dataset, one column per method"),
            OutputSpec::published("results_long.csv", "one row per (dataset, method) with exact counts"),
            OutputSpec::published(
                "results.md",
                "the table in Markdown (mean ± sd over resamples when there are several)",
            )
            .summary(),
            OutputSpec::published(
                "results_mean_sd.csv",
                "mean and standard deviation over resamples per dataset and method",
            )
            .optional(),
        ]
    }
    fn run(&self, ctx: &StageContext<'_>, p: &TableParams) -> Result<(), StageError> {
        let metric = p.metric.as_str();
        let mut records = Vec::new();
        for a in ctx.gathered("results") {
            records.push(super::evaluate::read_record(a)?);
        }
        if records.is_empty() {
            return Err(StageError::failed("no results to tabulate"));
        }
        let mean_sd = MeanSd::from_records(&records, metric).map_err(StageError::failed)?;
        let t = ResultsTable::build(records, metric).map_err(StageError::failed)?;
        ctx.write("results.csv", t.to_csv())?;
        ctx.write("results_long.csv", t.to_long_csv())?;
        match mean_sd.filter(|_| t.resamples() > 1) {
            Some(ms) => {
                ctx.write("results.md", ms.to_markdown())?;
                ctx.write("results_mean_sd.csv", ms.to_csv())?;
            }
            None => ctx.write("results.md", t.to_markdown())?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn rec(dataset: &str, method: &str, resample: Option<i64>, correct: usize) -> EvalRecord {
        let acc = correct as f64 / 10.0;
        EvalRecord {
            dataset: dataset.into(),
            method: method.into(),
            protocol: "p".into(),
            n_classes: 2,
            correct,
            total: 10,
            accuracy: acc,
            balanced_accuracy: acc,
            macro_precision: acc,
            macro_recall: acc,
            macro_f1: acc,
            per_class_error: (1.0 - acc) / 2.0,
            selection_loss: None,
            resample,
        }
    }

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
        assert!(ResultsTable::build(dup, "accuracy").unwrap_err().contains("and resample 1"));
        let mut mixed = recs.clone();
        mixed.push(rec("E", "A", None, 7));
        assert!(ResultsTable::build(mixed, "accuracy").unwrap_err().contains("has no resample id"));
        // The one-number-per-cell matrix (the analysis of evaluate stages) points at `table`.
        let err = record_matrix(&recs, |r| Ok::<f64, String>(r.accuracy)).unwrap_err();
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
