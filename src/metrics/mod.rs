//! Classification metrics: accuracy, balanced accuracy, macro precision/recall/F1, confusion
//! matrix and per-class precision/recall/F1/support, with JSON and CSV writers.
//!
//! Conventions follow scikit-learn's defaults: a class with no predictions has precision 0, a
//! class with precision + recall = 0 has F1 0, macro averages run over the classes that occur in
//! the true or the predicted labels, and balanced accuracy is the mean recall over the classes
//! that occur in the true labels.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Errors computing or writing metrics.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("{true_len} true labels but {pred_len} predictions")]
    LengthMismatch { true_len: usize, pred_len: usize },
    #[error("no labels to score")]
    Empty,
    #[error("label {label} at position {pos} is not a class index below {k}")]
    LabelOutOfRange { label: usize, pos: usize, k: usize },
    #[error("cannot write {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Scores of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub index: usize,
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Number of true instances of the class.
    pub support: usize,
    /// Number of predictions of the class.
    pub predicted: usize,
}

/// All metrics of one set of predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub n: usize,
    pub accuracy: f64,
    pub balanced_accuracy: f64,
    pub macro_precision: f64,
    pub macro_recall: f64,
    pub macro_f1: f64,
    /// Class names in index order.
    pub classes: Vec<String>,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
    pub per_class: Vec<ClassMetrics>,
}

/// `confusion[true][predicted]` for `k` classes.
pub fn confusion_matrix(y_true: &[usize], y_pred: &[usize], k: usize) -> Result<Vec<Vec<usize>>, MetricsError> {
    if y_true.len() != y_pred.len() {
        return Err(MetricsError::LengthMismatch { true_len: y_true.len(), pred_len: y_pred.len() });
    }
    let mut m = vec![vec![0usize; k]; k];
    for (pos, (&t, &p)) in y_true.iter().zip(y_pred).enumerate() {
        for label in [t, p] {
            if label >= k {
                return Err(MetricsError::LabelOutOfRange { label, pos, k });
            }
        }
        m[t][p] += 1;
    }
    Ok(m)
}

/// Fraction of correct predictions.
pub fn accuracy(y_true: &[usize], y_pred: &[usize]) -> Result<f64, MetricsError> {
    if y_true.len() != y_pred.len() {
        return Err(MetricsError::LengthMismatch { true_len: y_true.len(), pred_len: y_pred.len() });
    }
    if y_true.is_empty() {
        return Err(MetricsError::Empty);
    }
    let ok = y_true.iter().zip(y_pred).filter(|(t, p)| t == p).count();
    Ok(ok as f64 / y_true.len() as f64)
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { 0.0 } else { s / n as f64 }
}

impl Metrics {
    /// Scores `y_pred` against `y_true` (class indices into `classes`).
    pub fn compute(y_true: &[usize], y_pred: &[usize], classes: &[String]) -> Result<Metrics, MetricsError> {
        let k = classes.len();
        let confusion = confusion_matrix(y_true, y_pred, k)?;
        let acc = accuracy(y_true, y_pred)?;
        let per_class: Vec<ClassMetrics> = (0..k)
            .map(|c| {
                let tp = confusion[c][c];
                let support: usize = confusion[c].iter().sum();
                let predicted: usize = confusion.iter().map(|row| row[c]).sum();
                let precision = ratio(tp, predicted);
                let recall = ratio(tp, support);
                let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
                ClassMetrics { index: c, class: classes[c].clone(), precision, recall, f1, support, predicted }
            })
            .collect();
        let seen = || per_class.iter().filter(|c| c.support > 0 || c.predicted > 0);
        Ok(Metrics {
            n: y_true.len(),
            accuracy: acc,
            balanced_accuracy: mean(per_class.iter().filter(|c| c.support > 0).map(|c| c.recall)),
            macro_precision: mean(seen().map(|c| c.precision)),
            macro_recall: mean(seen().map(|c| c.recall)),
            macro_f1: mean(seen().map(|c| c.f1)),
            classes: classes.to_vec(),
            confusion,
            per_class,
        })
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("metrics serialise")
    }

    pub fn write_json(&self, path: &Path) -> Result<(), MetricsError> {
        write(path, self.to_json() + "\n")
    }

    /// Long-format CSV `scope,class,metric,value`: overall scores, per-class scores, and the
    /// confusion matrix (`scope = confusion`, `class` = true class, `metric = pred:<class>`).
    pub fn to_csv(&self) -> String {
        let mut s = String::from("scope,class,metric,value\n");
        let _ = writeln!(s, "overall,,n,{}", self.n);
        for (name, v) in [
            ("accuracy", self.accuracy),
            ("balanced_accuracy", self.balanced_accuracy),
            ("macro_precision", self.macro_precision),
            ("macro_recall", self.macro_recall),
            ("macro_f1", self.macro_f1),
        ] {
            let _ = writeln!(s, "overall,,{name},{v}");
        }
        for c in &self.per_class {
            let name = csv_field(&c.class);
            let _ = writeln!(s, "class,{name},precision,{}", c.precision);
            let _ = writeln!(s, "class,{name},recall,{}", c.recall);
            let _ = writeln!(s, "class,{name},f1,{}", c.f1);
            let _ = writeln!(s, "class,{name},support,{}", c.support);
        }
        for (t, row) in self.confusion.iter().enumerate() {
            let tname = csv_field(&self.classes[t]);
            for (p, count) in row.iter().enumerate() {
                let metric = csv_field(&format!("pred:{}", self.classes[p]));
                let _ = writeln!(s, "confusion,{tname},{metric},{count}");
            }
        }
        s
    }

    pub fn write_csv(&self, path: &Path) -> Result<(), MetricsError> {
        write(path, self.to_csv())
    }

    /// Header of the one-line summary CSV (see [`Metrics::summary_csv_row`]).
    pub fn summary_csv_header() -> &'static str {
        "n,accuracy,balanced_accuracy,macro_precision,macro_recall,macro_f1"
    }

    /// One CSV row of the overall scores, to collect many runs in one table.
    pub fn summary_csv_row(&self) -> String {
        format!(
            "{},{},{},{},{},{}",
            self.n, self.accuracy, self.balanced_accuracy, self.macro_precision, self.macro_recall, self.macro_f1
        )
    }
}

fn write(path: &Path, text: String) -> Result<(), MetricsError> {
    std::fs::write(path, text).map_err(|source| MetricsError::Io { path: path.display().to_string(), source })
}

pub use crate::util::csv::csv_field;

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hand_checked_values() {
        // true: 0 0 0 1 1 2 ; pred: 0 0 1 1 2 2
        let t = [0, 0, 0, 1, 1, 2];
        let p = [0, 0, 1, 1, 2, 2];
        let m = Metrics::compute(&t, &p, &names(&["a", "b", "c"])).unwrap();
        assert_eq!(m.confusion, vec![vec![2, 1, 0], vec![0, 1, 1], vec![0, 0, 1]]);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-15);
        let rec = [2.0 / 3.0, 0.5, 1.0];
        let prec = [1.0, 0.5, 0.5];
        for c in 0..3 {
            assert!((m.per_class[c].recall - rec[c]).abs() < 1e-15);
            assert!((m.per_class[c].precision - prec[c]).abs() < 1e-15);
        }
        assert_eq!(m.per_class[0].support, 3);
        let f1: Vec<f64> = (0..3).map(|c| 2.0 * prec[c] * rec[c] / (prec[c] + rec[c])).collect();
        assert!((m.macro_f1 - f1.iter().sum::<f64>() / 3.0).abs() < 1e-15);
        assert!((m.balanced_accuracy - (rec.iter().sum::<f64>() / 3.0)).abs() < 1e-15);
        assert!((m.macro_precision - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn absent_classes_and_zero_division() {
        // Class 2 never occurs; class 1 is never predicted.
        let m = Metrics::compute(&[0, 1, 0], &[0, 0, 0], &names(&["x", "y", "z"])).unwrap();
        assert_eq!(m.per_class[1].precision, 0.0);
        assert_eq!(m.per_class[1].f1, 0.0);
        assert!((m.balanced_accuracy - 0.5).abs() < 1e-15);
        assert!((m.macro_recall - 0.5).abs() < 1e-15);
        assert!(Metrics::compute(&[0, 3], &[0, 0], &names(&["x"])).is_err());
        assert!(Metrics::compute(&[0], &[0, 0], &names(&["x"])).is_err());
        assert!(Metrics::compute(&[], &[], &names(&["x"])).is_err());
    }

    #[test]
    fn writers() {
        let m = Metrics::compute(&[0, 1], &[0, 0], &names(&["a,b", "c"])).unwrap();
        let back: Metrics = serde_json::from_str(&m.to_json()).unwrap();
        assert_eq!(back, m);
        let csv = m.to_csv();
        assert!(csv.starts_with("scope,class,metric,value\noverall,,n,2\noverall,,accuracy,0.5\n"), "{csv}");
        assert!(csv.contains("class,\"a,b\",support,1\n"), "{csv}");
        assert!(csv.contains("confusion,c,\"pred:a,b\",1\n"), "{csv}");
        let dir = tempfile::tempdir().unwrap();
        m.write_json(&dir.path().join("m.json")).unwrap();
        m.write_csv(&dir.path().join("m.csv")).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("m.csv")).unwrap(), csv);
        assert_eq!(Metrics::summary_csv_header().split(',').count(), m.summary_csv_row().split(',').count());
    }
}
