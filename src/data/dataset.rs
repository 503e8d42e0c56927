//! The in-memory dataset every stage exchanges: rectangular `[n][dims][len]` series plus labels.
//!
//! Variable-length inputs are made rectangular by the loader's length policy, so downstream code
//! (distances, models) never has to deal with ragged data.

use serde::{Deserialize, Serialize};

/// One split (TRAIN, TEST or a validation split) of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// Number of series.
    pub n: usize,
    /// Number of dimensions (channels); 1 for univariate data.
    pub dims: usize,
    /// Length of every series (after the length policy).
    pub len: usize,
    /// Values, row-major `[series][dim][t]`, length `n * dims * len`.
    pub values: Vec<f64>,
    /// Class index `0..K` per series.
    pub labels: Vec<usize>,
}

impl Split {
    /// The `[dims][len]` block of series `i`.
    pub fn series(&self, i: usize) -> &[f64] {
        let w = self.dims * self.len;
        &self.values[i * w..(i + 1) * w]
    }

    /// Mutable `[dims][len]` block of series `i`.
    pub fn series_mut(&mut self, i: usize) -> &mut [f64] {
        let w = self.dims * self.len;
        &mut self.values[i * w..(i + 1) * w]
    }

    /// Selects the given series (in the given order) into a new split.
    pub fn subset(&self, idx: &[usize]) -> Split {
        let mut values = Vec::with_capacity(idx.len() * self.dims * self.len);
        let mut labels = Vec::with_capacity(idx.len());
        for &i in idx {
            values.extend_from_slice(self.series(i));
            labels.push(self.labels[i]);
        }
        Split { n: idx.len(), dims: self.dims, len: self.len, values, labels }
    }

    /// Number of series per class, for `k` classes.
    pub fn class_counts(&self, k: usize) -> Vec<usize> {
        let mut c = vec![0; k];
        for &l in &self.labels {
            if l < k {
                c[l] += 1;
            }
        }
        c
    }
}

/// A dataset with its class names; class index `i` is `classes[i]` in the source files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub name: String,
    /// Original label tokens, in the deterministic order that defines the class indices.
    pub classes: Vec<String>,
    pub train: Split,
    pub test: Split,
    /// A validation split carved out of TRAIN by the `split` stage, if any.
    pub validation: Option<Split>,
}

impl Dataset {
    pub fn n_classes(&self) -> usize {
        self.classes.len()
    }
}
