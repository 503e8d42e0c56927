//! `table`: gathers evaluation records into a dataset × method results table (CSV + Markdown).

use super::evaluate::EvalRecord;
use super::kind::{StageContext, StageError, StageKind};
use super::spec::{InputSpec, OutputSpec, ParamSpec, ParamType};

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
#[allow(clippy::type_complexity)]
pub fn record_matrix<T: Clone>(
    records: &[EvalRecord],
    mut value: impl FnMut(&EvalRecord) -> Result<T, String>,
) -> Result<(Vec<String>, Vec<String>, Vec<Vec<Option<T>>>), String> {
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
    let mut values = vec![vec![None; methods.len()]; datasets.len()];
    for r in records {
        let d = datasets.iter().position(|x| *x == r.dataset).unwrap_or(0);
        let m = methods.iter().position(|x| *x == r.method).unwrap_or(0);
        if values[d][m].is_some() {
            return Err(format!(
                "two results for dataset `{}` and method `{}`: give the evaluate stages distinct `method` labels (e.g. method = \"LSTM-FCN-${{cells}}\")",
                r.dataset, r.method
            ));
        }
        values[d][m] = Some(value(r)?);
    }
    Ok((datasets, methods, values))
}

impl ResultsTable {
    pub fn build(records: Vec<EvalRecord>, metric: &str) -> Result<ResultsTable, String> {
        let (datasets, methods, values) =
            record_matrix(&records, |r| r.metric(metric).ok_or_else(|| format!("unknown metric `{metric}`")))?;
        Ok(ResultsTable { metric: metric.to_string(), datasets, methods, values, records })
    }

    pub fn to_csv(&self) -> String {
        let rows = self.datasets.iter().zip(&self.values).map(|(d, row)| {
            (d.as_str(), row.iter().map(|v| v.map(|v| format!("{v:.6}")).unwrap_or_default()).collect())
        });
        wide_csv(&self.methods, rows)
    }

    /// Long form with the exact counts, for analyses that must see ties exactly.
    pub fn to_long_csv(&self) -> String {
        let mut s =
            String::from("dataset,method,correct,total,n_classes,accuracy,balanced_accuracy,macro_f1,protocol\n");
        for r in &self.records {
            s.push_str(&format!(
                "{},{},{},{},{},{:.6},{:.6},{:.6},{}\n",
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
        s.push_str(&format!(
            "\n{} ({} better); best per dataset in bold.\n",
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
    pub fn from_records(records: &[EvalRecord], metric: &str) -> Result<Option<MeanSd>, String> {
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

/// A `dataset,<column>…` CSV: one row per (name, cells).
pub fn wide_csv<'a>(columns: &[String], rows: impl IntoIterator<Item = (&'a str, Vec<String>)>) -> String {
    let mut s = String::from("dataset");
    for c in columns {
        s.push(',');
        s.push_str(&csv_field(c));
    }
    s.push('\n');
    for (name, cells) in rows {
        s.push_str(&csv_field(name));
        for c in cells {
            s.push(',');
            s.push_str(&c);
        }
        s.push('\n');
    }
    s
}

pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

impl StageKind for Table {
    fn name(&self) -> &'static str {
        "table"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Gathers evaluation results into a dataset × method table (CSV, long CSV, Markdown)"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![ParamSpec::with_default("metric", ParamType::Enum(METRICS), "accuracy", "the metric shown in the table")]
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "results", required: true, gather: true, doc: "evaluate stages to gather" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::published("results.csv", "wide table: one row per dataset, one column per method"),
            OutputSpec::published("results_long.csv", "one row per (dataset, method) with exact counts"),
            OutputSpec::published("results.md", "the table in Markdown").summary(),
            OutputSpec::published(
                "results_mean_sd.csv",
                "mean and standard deviation over resamples per dataset and method (with resamples only)",
            )
            .optional(),
        ]
    }
    fn run(&self, ctx: &StageContext<'_>) -> Result<(), StageError> {
        let metric = ctx.params.str("metric")?;
        let mut records = Vec::new();
        for a in ctx.gathered("results") {
            records.push(super::evaluate::read_record(a)?);
        }
        if records.is_empty() {
            return Err(StageError::failed("no results to tabulate"));
        }
        if let Some(ms) = MeanSd::from_records(&records, metric).map_err(StageError::failed)? {
            let t = ms.means_table(records);
            ctx.write("results.csv", t.to_csv())?;
            ctx.write("results_long.csv", t.to_long_csv())?;
            ctx.write("results.md", ms.to_markdown())?;
            ctx.write("results_mean_sd.csv", ms.to_csv())?;
            return Ok(());
        }
        let t = ResultsTable::build(records, metric).map_err(StageError::failed)?;
        ctx.write("results.csv", t.to_csv())?;
        ctx.write("results_long.csv", t.to_long_csv())?;
        ctx.write("results.md", t.to_markdown())?;
        Ok(())
    }
}

#[cfg(test)]
mod mean_sd_tests {
    use super::*;

    fn rec(dataset: &str, method: &str, correct: usize) -> EvalRecord {
        let acc = correct as f64 / 10.0;
        EvalRecord {
            dataset: dataset.into(),
            method: method.into(),
            protocol: String::new(),
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
        }
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
