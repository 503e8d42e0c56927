//! The headline numbers of one evaluation ([`EvalRecord`]), as `evaluate` writes them and
//! `table`, `select` and `analyze` gather them, and the resample id they carry.

use serde::{Deserialize, Serialize};

/// The metrics a results table or a comparison can be made of.
pub const METRICS: &[&str] = &["accuracy", "balanced_accuracy", "macro_f1", "macro_precision", "macro_recall", "error"];

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

impl EvalRecord {
    /// One of [`METRICS`] (and `macro_precision`, `macro_recall`), by name.
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

/// The matrix axis whose value is the resample id of everything downstream of it.
pub const RESAMPLE_AXIS: &str = "resample";

/// The resample id among an upstream instance's coordinates, if the pipeline has that axis.
pub fn resample_of(axes: &[(String, serde_json::Value)]) -> Option<i64> {
    axes.iter().find(|(a, _)| a == RESAMPLE_AXIS).and_then(|(_, v)| v.as_i64())
}

/// A record for tests: `correct` of 10 right on `dataset` by `method`.
#[cfg(test)]
pub(crate) fn test_record(dataset: &str, method: &str, resample: Option<i64>, correct: usize) -> EvalRecord {
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
