//! `evaluate`: accuracy, balanced accuracy, macro precision/recall/F1, confusion matrix and
//! per-class metrics of a set of predictions, as JSON and CSV.

use super::artifact::{PREDICTIONS_FILE, Predictions, read_json, write_json};
use super::kind::{StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use crate::metrics::Metrics;
use crate::metrics::record::{EvalRecord, resample_of};
use crate::util::csv::csv_field;

pub struct Evaluate;

crate::stage_params! {
    /// Parameters of `evaluate`.
    pub struct EvaluateParams {
        /// overrides the method label carried by the predictions
        pub method: Option<String> [Str, optional],
    }
}

impl TypedStage for Evaluate {
    type Params = EvaluateParams;
    fn resources(&self, _: &EvaluateParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::SHORT
    }
    fn name(&self) -> &'static str {
        "evaluate"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Scores predictions: accuracy, balanced accuracy, macro P/R/F1, confusion matrix, per class"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "predictions", required: true, gather: false, doc: "a classifier's predictions" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file("metrics.json", "summary record and full metrics"),
            OutputSpec::file("metrics.csv", "per-class precision, recall, F1, support"),
            OutputSpec::file("confusion.csv", "confusion matrix, rows = true class"),
        ]
    }
    fn run(&self, ctx: &StageContext<'_>, params: &EvaluateParams) -> Result<(), StageError> {
        let input = ctx.input("predictions")?;
        let p: Predictions = read_json(input.file(PREDICTIONS_FILE)?)?;
        let m = Metrics::compute(&p.truth, &p.predicted, &p.classes)?;
        let correct = p.truth.iter().zip(&p.predicted).filter(|(a, b)| a == b).count();
        let k = p.classes.len().max(1);
        let record = EvalRecord {
            dataset: p.dataset.clone(),
            method: params.method.clone().unwrap_or(p.method.clone()),
            protocol: p.protocol.clone(),
            n_classes: p.classes.len(),
            correct,
            total: p.truth.len(),
            accuracy: m.accuracy,
            balanced_accuracy: m.balanced_accuracy,
            macro_precision: m.macro_precision,
            macro_recall: m.macro_recall,
            macro_f1: m.macro_f1,
            per_class_error: (1.0 - m.accuracy) / k as f64,
            selection_loss: p.selection_loss,
            resample: resample_of(&input.axes),
        };
        write_json(&ctx.output("metrics.json"), &serde_json::json!({ "summary": record, "metrics": m }))?;
        ctx.write("metrics.csv", m.to_csv())?;
        let mut conf = String::from("true\\predicted");
        for c in &p.classes {
            conf.push(',');
            conf.push_str(&csv_field(c));
        }
        conf.push('\n');
        for (c, row) in p.classes.iter().zip(&m.confusion) {
            conf.push_str(&csv_field(c));
            for v in row {
                conf.push_str(&format!(",{v}"));
            }
            conf.push('\n');
        }
        ctx.write("confusion.csv", conf)
    }
}
