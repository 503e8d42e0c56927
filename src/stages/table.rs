//! `table`: gathers evaluation records into a dataset × method results table (CSV + Markdown).

use super::artifact::read_record;
use super::kind::{StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use crate::metrics::record::METRICS;
use crate::stats::results::{MeanSd, ResultsTable};

pub struct Table;

crate::stage_params! {
    /// Parameters of `table`.
    pub struct TableParams {
        /// the metric shown in the table
        pub metric: String [Enum(METRICS) = "accuracy"],
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
            records.push(read_record(a)?);
        }
        if records.is_empty() {
            return Err(StageError::failed("no results to tabulate"));
        }
        let mean_sd = MeanSd::from_records(&records, metric)?;
        let t = ResultsTable::build(records, metric)?;
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
