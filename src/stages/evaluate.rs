//! `evaluate`: accuracy, balanced accuracy, macro precision/recall/F1, confusion matrix and
//! per-class metrics of a set of predictions, as JSON and CSV.

use serde::{Deserialize, Serialize};

use super::artifact::{PREDICTIONS_FILE, Predictions, read_json, write_json};
use super::kind::{StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use crate::metrics::Metrics;

pub struct Evaluate;

/// The headline numbers of one evaluation, as gathered by `table` and `analyze`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalRecord {
    pub dataset: String,
    pub method: String,
    pub protocol: String,
    pub n_classes: usize,
    /// Exact counts, so equal accuracies compare as ties.
    pub correct: usize,
    pub total: usize,
    pub accuracy: f64,
    pub balanced_accuracy: f64,
    pub macro_precision: f64,
    pub macro_recall: f64,
    pub macro_f1: f64,
    /// error / n_classes: averaged over datasets this is MPCE.
    pub per_class_error: f64,
    /// The loss the model was selected on, when it has one (used by `select`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_loss: Option<f64>,
    /// The resample id (the `resample` matrix axis), in pipelines that have one; absent
    /// elsewhere, so their records stay byte for byte what they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resample: Option<i64>,
}

/// The matrix axis whose value is the resample id of everything downstream of it.
pub const RESAMPLE_AXIS: &str = "resample";

/// The resample id among an upstream instance's coordinates, if the pipeline has that axis.
pub fn resample_of(axes: &[(String, serde_json::Value)]) -> Option<i64> {
    axes.iter().find(|(a, _)| a == RESAMPLE_AXIS).and_then(|(_, v)| v.as_i64())
}

/// The evaluation record an evaluate (or select) stage wrote, as gathered by `table` and `analyze`.
pub fn read_record(a: &super::kind::InputArtifact) -> Result<EvalRecord, StageError> {
    let p = a.file("metrics.json")?;
    let text = std::fs::read_to_string(p).map_err(|e| StageError::io(p, e))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| StageError::failed(format!("{}: {e}", a.from)))?;
    serde_json::from_value(v.get("summary").cloned().unwrap_or(serde_json::Value::Null))
        .map_err(|e| StageError::failed(format!("{}: not an evaluation record: {e}", a.from)))
}

impl EvalRecord {
    pub fn metric(&self, name: &str) -> Option<f64> {
        Some(match name {
            "accuracy" => self.accuracy,
            "balanced_accuracy" => self.balanced_accuracy,
            "macro_f1" => self.macro_f1,
            "macro_precision" => self.macro_precision,
            "macro_recall" => self.macro_recall,
            "error" => 1.0 - self.accuracy,
            _ => return None,
        })
    }
}

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
            conf.push_str(&super::table::csv_field(c));
        }
        conf.push('\n');
        for (c, row) in p.classes.iter().zip(&m.confusion) {
            conf.push_str(&super::table::csv_field(c));
            for v in row {
                conf.push_str(&format!(",{v}"));
            }
            conf.push('\n');
        }
        ctx.write("confusion.csv", conf)
    }
}
