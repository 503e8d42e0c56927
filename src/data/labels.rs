//! Deterministic re-indexing of class label tokens to `0..K` across TRAIN and TEST.
//!
//! Order: the declared order when the TRAIN file declares one (`.ts` `@classLabel true …`, ARFF
//! nominal class attribute), restricted to classes present in TRAIN; otherwise numeric order when
//! every TRAIN label parses as a number, otherwise lexicographic (byte) order. In numeric mode
//! tokens are compared by value (`1`, `1.0` and `1.0000000e+00` are one class) and the class name
//! is the shortest form of the number (`1`, `-1`, `0.5`).

use std::collections::HashMap;

use super::error::{DataError, DataErrorKind, DataResult};
use super::raw::RawFile;

/// The value of a numeric label token (finite numbers only).
pub fn numeric_label(tok: &str) -> Option<f64> {
    tok.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The canonical name of a numeric class: shortest round-trip form, no `-0`.
pub fn canonical_numeric(v: f64) -> String {
    let v = if v == 0.0 { 0.0 } else { v };
    format!("{v}")
}

/// Whether two label tokens denote the same class (equal strings, or equal numbers).
pub fn same_label(a: &str, b: &str) -> bool {
    a == b || matches!((numeric_label(a), numeric_label(b)), (Some(x), Some(y)) if x == y)
}

/// The mapping from label tokens to class indices.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassIndex {
    /// Class names in index order.
    pub classes: Vec<String>,
    /// Whether labels are compared as numbers.
    pub numeric: bool,
    lookup: HashMap<String, usize>,
}

impl ClassIndex {
    /// Builds the index from the labels of `train` (and its declared order, if any).
    pub fn from_train(train: &RawFile) -> DataResult<ClassIndex> {
        let declared = train.header.declared_classes.as_deref();
        let labels = train.cases.iter().map(|c| c.label.as_str());
        let numeric = train.cases.iter().all(|c| numeric_label(&c.label).is_some())
            && declared.is_none_or(|d| d.iter().all(|t| numeric_label(t).is_some()));
        Self::build(labels, declared, numeric)
    }

    /// Builds the index from an explicit list of label tokens (order only matters for `declared`).
    pub fn from_labels<'a>(
        labels: impl IntoIterator<Item = &'a str> + Clone,
        declared: Option<&[String]>,
    ) -> ClassIndex {
        let numeric = labels.clone().into_iter().all(|t| numeric_label(t).is_some())
            && declared.is_none_or(|d| d.iter().all(|t| numeric_label(t).is_some()));
        Self::build(labels, declared, numeric).expect("infallible")
    }

    fn build<'a>(
        labels: impl IntoIterator<Item = &'a str>,
        declared: Option<&[String]>,
        numeric: bool,
    ) -> DataResult<ClassIndex> {
        let key = |t: &str| -> String {
            if numeric { canonical_numeric(numeric_label(t).unwrap_or(f64::NAN)) } else { t.to_string() }
        };
        let mut present: Vec<String> = labels.into_iter().map(key).collect();
        present.sort_unstable();
        present.dedup();
        let classes: Vec<String> = match declared {
            Some(decl) => {
                let mut out: Vec<String> = Vec::with_capacity(present.len());
                for k in decl.iter().map(|t| key(t)) {
                    if present.binary_search(&k).is_ok() && !out.contains(&k) {
                        out.push(k);
                    }
                }
                // Readers check labels against the declaration; keep undeclared ones (if a caller
                // built a RawFile by hand) after the declared ones, in sorted order.
                for k in &present {
                    if !out.contains(k) {
                        out.push(k.clone());
                    }
                }
                out
            }
            None if numeric => {
                let mut v: Vec<(f64, String)> =
                    present.into_iter().map(|k| (numeric_label(&k).unwrap_or(f64::NAN), k)).collect();
                v.sort_by(|a, b| a.0.total_cmp(&b.0));
                v.into_iter().map(|(_, k)| k).collect()
            }
            None => present,
        };
        let lookup = classes.iter().enumerate().map(|(i, c)| (c.clone(), i)).collect();
        Ok(ClassIndex { classes, numeric, lookup })
    }

    /// The class index of a label token, if it is a known class.
    pub fn index(&self, token: &str) -> Option<usize> {
        if self.numeric {
            let v = numeric_label(token)?;
            self.lookup.get(&canonical_numeric(v)).copied()
        } else {
            self.lookup.get(token.trim()).copied()
        }
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// Class indices of every case of `file`; a label that is not a TRAIN class is an error at the
    /// line of its first occurrence.
    pub fn assign(&self, file: &RawFile) -> DataResult<Vec<usize>> {
        file.cases
            .iter()
            .map(|c| {
                self.index(&c.label).ok_or_else(|| {
                    DataError::at(
                        DataErrorKind::UnknownClass,
                        &file.path,
                        c.line,
                        format!(
                            "class {:?} does not occur in TRAIN (TRAIN classes: {})",
                            c.label,
                            self.classes.join(", ")
                        ),
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_order_and_forms() {
        let idx = ClassIndex::from_labels(["1", "-1", "1.0000000e+00", "10", "2"], None);
        assert_eq!(idx.classes, vec!["-1", "1", "2", "10"]);
        assert!(idx.numeric);
        assert_eq!(idx.index("1.0"), Some(1));
        assert_eq!(idx.index("-1.0000000e+00"), Some(0));
        assert_eq!(idx.index("3"), None);
    }

    #[test]
    fn lexicographic_and_declared() {
        let idx = ClassIndex::from_labels(["b", "a", "10", "2"], None);
        assert_eq!(idx.classes, vec!["10", "2", "a", "b"]);
        let decl = vec!["Standing".to_string(), "Running".into(), "Walking".into(), "Unused".into()];
        let idx = ClassIndex::from_labels(["Walking", "Running", "Standing"], Some(decl.as_slice()));
        assert_eq!(idx.classes, vec!["Standing", "Running", "Walking"]);
        let decl = vec!["2".to_string(), "1".into()];
        let idx = ClassIndex::from_labels(["1.0", "2"], Some(decl.as_slice()));
        assert_eq!(idx.classes, vec!["2", "1"]);
        assert_eq!(idx.index("1"), Some(1));
    }

    #[test]
    fn same_label_numbers() {
        assert!(same_label("1", "1.0000000e+00"));
        assert!(!same_label("1", "2"));
        assert!(same_label("a", "a"));
    }
}
