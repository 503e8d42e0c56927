//! The files stages hand to each other, and how they are (de)serialised.
//!
//! Datasets travel as postcard (compact, deterministic bytes: the same numbers give the same
//! digest, which is what early cutoff needs); predictions and metrics as JSON people can read.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::kind::{InputArtifact, StageError};
use super::spec::OutputSpec;
use crate::data::dataset::Dataset;
use crate::metrics::record::EvalRecord;

pub const DATASET_FILE: &str = "dataset.bin";
pub const PREDICTIONS_FILE: &str = "predictions.json";
/// Learned features per test series (`predict` with `export_features`), which `report` plots;
/// not the `features` stage's table ([`super::features::FEATURE_TABLE_FILE`]).
pub const FEATURES_FILE: &str = "features.json";
/// A classifier's measured fit and predict times ([`Timing`]).
pub const TIMING_FILE: &str = "timing.json";

pub fn write_dataset(path: &Path, d: &Dataset) -> Result<(), StageError> {
    let bytes = postcard::to_stdvec(d).map_err(|e| StageError::failed(format!("encoding dataset: {e}")))?;
    std::fs::write(path, bytes).map_err(|e| StageError::io(path, e))
}

pub fn read_dataset(path: &Path) -> Result<Dataset, StageError> {
    let bytes = std::fs::read(path).map_err(|e| StageError::io(path, e))?;
    postcard::from_bytes(&bytes)
        .map_err(|e| StageError::failed(format!("{}: not a dataset artifact: {e}", path.display())))
}

/// A classifier's output on the test split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predictions {
    pub dataset: String,
    pub method: String,
    /// How the model was selected/monitored, e.g. "train-only" or "monitored on TEST (paper protocol)".
    pub protocol: String,
    pub classes: Vec<String>,
    pub truth: Vec<usize>,
    pub predicted: Vec<usize>,
    /// Per-series class scores (probabilities or negative distances), when the model has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Vec<Vec<f64>>>,
    /// The loss the model was selected on (deep models), for honest model selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_loss: Option<f64>,
}

/// Learned features of the TEST series (inference stages with `export_features = true`), with the
/// raw series beside them so the report can project both the same way. Stored as `f32`: the
/// figures need no more, and the file stays about half the size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    pub dataset: String,
    pub method: String,
    pub classes: Vec<String>,
    /// True class of each TEST series (row order of `raw` and of every set).
    pub labels: Vec<usize>,
    /// The TEST series, channels concatenated, as the model saw them.
    pub raw: Vec<Vec<f32>>,
    pub sets: Vec<FeatureSet>,
}

/// One named feature space, one row per TEST series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSet {
    pub name: String,
    pub rows: Vec<Vec<f32>>,
}

impl FeatureSet {
    pub fn new(name: impl Into<String>, rows: Vec<Vec<f64>>) -> Self {
        FeatureSet {
            name: name.into(),
            rows: rows.into_iter().map(|r| r.into_iter().map(|v| v as f32).collect()).collect(),
        }
    }
}

impl Features {
    pub fn new(ds: &Dataset, method: &str, sets: Vec<FeatureSet>) -> Self {
        Features {
            dataset: ds.name.clone(),
            method: method.to_string(),
            classes: ds.classes.clone(),
            labels: ds.test.labels.clone(),
            raw: (0..ds.test.n).map(|i| ds.test.series(i).iter().map(|&v| v as f32).collect()).collect(),
            sets,
        }
    }

    /// Compact JSON (one line: thousands of rows pretty-printed would be mostly whitespace).
    pub fn write(&self, path: &Path) -> Result<(), StageError> {
        let text = serde_json::to_string(self)?;
        std::fs::write(path, text).map_err(|e| StageError::io(path, e))
    }
}

pub fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<(), StageError> {
    let text = serde_json::to_string_pretty(v)?;
    std::fs::write(path, text).map_err(|e| StageError::io(path, e))
}

pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, StageError> {
    let text = std::fs::read_to_string(path).map_err(|e| StageError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| StageError::failed(format!("{}: {e}", path.display())))
}

/// How long a classifier took, as tsml-eval's results files report it: the wall time of fitting
/// on TRAIN and of predicting TEST, in milliseconds. Measured, so it differs run to run: stages
/// write it as a volatile output ([`timing_output`]) that no dependent's key sees, and a cached
/// entry keeps the times of the run that computed it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predict_ms: Option<u64>,
}

impl Timing {
    pub fn new(fit: Option<std::time::Duration>, predict: Option<std::time::Duration>) -> Self {
        let ms = |d: std::time::Duration| d.as_millis() as u64;
        Timing { fit_ms: fit.map(ms), predict_ms: predict.map(ms) }
    }

    /// The timing an upstream instance recorded; none when it has none (a kind that does not
    /// time itself, or an entry cached before it did).
    pub fn of(a: &InputArtifact) -> Timing {
        a.files.get(TIMING_FILE).and_then(|p| read_json(p).ok()).unwrap_or_default()
    }
}

/// The declaration of [`TIMING_FILE`]: optional (entries cached without it stay valid) and
/// volatile.
pub fn timing_output() -> OutputSpec {
    OutputSpec::file(TIMING_FILE, "fit and predict wall times in ms (for results exports)").optional().volatile()
}

/// The file an evaluate (or select) stage writes: `{ "summary": EvalRecord, "metrics": … }`.
pub const METRICS_FILE: &str = "metrics.json";

/// The evaluation record an evaluate (or select) stage wrote, as gathered by `table`, `select`
/// and `analyze`.
pub fn read_record(a: &InputArtifact) -> Result<EvalRecord, StageError> {
    let p = a.file(METRICS_FILE)?;
    let text = std::fs::read_to_string(p).map_err(|e| StageError::io(p, e))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| StageError::failed(format!("{}: {e}", a.from)))?;
    serde_json::from_value(v.get("summary").cloned().unwrap_or(serde_json::Value::Null))
        .map_err(|e| StageError::failed(format!("{}: not an evaluation record: {e}", a.from)))
}
