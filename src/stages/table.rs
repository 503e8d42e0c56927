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

pub use crate::util::csv::{csv_field, wide_csv};

crate::stage_params! {
    /// Parameters of `table`.
    pub struct TableParams {
        /// the metric shown in the table
        pub metric: String [Enum(METRICS) = "accuracy"],
    }
}

impl TypedStage for Table {
    type Params = TableParams;
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
            OutputSpec::published("results.md", "the table in Markdown").summary(),
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
        let t = ResultsTable::build(records, metric).map_err(StageError::failed)?;
        ctx.write("results.csv", t.to_csv())?;
        ctx.write("results_long.csv", t.to_long_csv())?;
        ctx.write("results.md", t.to_markdown())?;
        Ok(())
    }
}
