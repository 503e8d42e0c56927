//! 1-nearest-neighbour classification with Euclidean or DTW distance.
//!
//! Deterministic: the nearest neighbour is the train series with the smallest distance, ties
//! broken by the lowest train index, whatever order candidates are visited in and however many
//! threads run. Pruning (LB_Kim, LB_Keogh, early abandoning) only skips candidates that cannot be
//! strictly closer, so results equal the brute-force search.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::ClassicError;
use super::dtw::{DtwBuffers, Envelope, Window, dtw_bounded_with, lb_keogh, lb_kim, squared_euclidean_bounded};
use crate::data::Split;

/// The distance of the 1-NN classifier. Distances are reported without a square root.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "metric")]
pub enum Metric {
    /// Squared Euclidean distance over all dimensions and time points.
    Euclidean,
    /// Dependent DTW with squared point cost.
    Dtw { window: Window },
}

/// Predictions of a 1-NN run, one entry per test series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NnResult {
    /// Predicted class index (the nearest train series' label).
    pub predictions: Vec<usize>,
    /// Distance to the nearest train series (squared Euclidean, or DTW cost).
    pub distances: Vec<f64>,
    /// Index of the nearest train series.
    pub neighbours: Vec<usize>,
}

/// A fitted 1-NN classifier (owns a copy of the training split and, for DTW, its envelopes).
#[derive(Debug, Clone)]
pub struct OneNn {
    train: Split,
    metric: Metric,
    /// Band half-width in cells (DTW only).
    w: usize,
    envelopes: Vec<Envelope>,
}

impl OneNn {
    /// Prepares the classifier (precomputes LB_Keogh envelopes of the train series for DTW).
    pub fn fit(train: &Split, metric: Metric) -> Result<OneNn, ClassicError> {
        if train.n == 0 || train.len == 0 || train.dims == 0 {
            return Err(ClassicError::EmptyTrain);
        }
        let (w, envelopes) = match metric {
            Metric::Euclidean => (0, Vec::new()),
            Metric::Dtw { window } => {
                let w = window.cells(train.len);
                let envs = (0..train.n)
                    .into_par_iter()
                    .map(|i| Envelope::new(train.series(i), train.dims, train.len, w))
                    .collect();
                (w, envs)
            }
        };
        Ok(OneNn { train: train.clone(), metric, w, envelopes })
    }

    /// The band half-width in cells (0 for Euclidean).
    pub fn window_cells(&self) -> usize {
        self.w
    }

    /// The nearest train series of one `[dims][len]` query: `(train index, distance)`.
    pub fn nearest(&self, query: &[f64]) -> (usize, f64) {
        let t = &self.train;
        match self.metric {
            Metric::Euclidean => {
                let (mut best_i, mut best) = (0, f64::INFINITY);
                for i in 0..t.n {
                    let d = squared_euclidean_bounded(query, t.series(i), best);
                    if d < best {
                        best = d;
                        best_i = i;
                    }
                }
                (best_i, best)
            }
            Metric::Dtw { .. } => {
                let (dims, len) = (t.dims, t.len);
                // Visit candidates in increasing LB order; stop once the bound exceeds the best.
                let mut order: Vec<(f64, usize)> = (0..t.n)
                    .map(|i| {
                        let kim = lb_kim(query, t.series(i), dims, len);
                        let keogh = lb_keogh(query, &self.envelopes[i], f64::INFINITY);
                        (kim.max(keogh), i)
                    })
                    .collect();
                order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let mut buf = DtwBuffers::default();
                let (mut best_i, mut best) = (usize::MAX, f64::INFINITY);
                for &(lb, i) in &order {
                    if lb > best {
                        break;
                    }
                    let d = dtw_bounded_with(query, t.series(i), dims, len, self.w, best, &mut buf);
                    if d < best || (d == best && i < best_i) {
                        best = d;
                        best_i = i;
                    }
                }
                (if best_i == usize::MAX { 0 } else { best_i }, best)
            }
        }
    }

    /// Classifies every series of `test` (in parallel; results in test order).
    pub fn predict(&self, test: &Split) -> Result<NnResult, ClassicError> {
        if test.dims != self.train.dims || test.len != self.train.len {
            return Err(ClassicError::ShapeMismatch {
                train: (self.train.dims, self.train.len),
                test: (test.dims, test.len),
            });
        }
        let found: Vec<(usize, f64)> = (0..test.n).into_par_iter().map(|i| self.nearest(test.series(i))).collect();
        Ok(NnResult {
            predictions: found.iter().map(|&(j, _)| self.train.labels[j]).collect(),
            distances: found.iter().map(|&(_, d)| d).collect(),
            neighbours: found.iter().map(|&(j, _)| j).collect(),
        })
    }
}

/// Fits on `train` and classifies `test` in one call.
pub fn one_nn(train: &Split, test: &Split, metric: Metric) -> Result<NnResult, ClassicError> {
    OneNn::fit(train, metric)?.predict(test)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::dtw::tests::dtw_naive;
    use crate::data::{Dataset, DatasetRef, LoadOptions, load_dataset};

    fn load(name: &str) -> Dataset {
        load_dataset(&DatasetRef::Name(name.into()), &[crate::data::shared_datasets()], &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn accuracy(ds: &Dataset, r: &NnResult) -> f64 {
        let ok = r.predictions.iter().zip(&ds.test.labels).filter(|(p, l)| p == l).count();
        ok as f64 / ds.test.n as f64
    }

    fn assert_acc(ds: &Dataset, metric: Metric, expect: f64) {
        let r = one_nn(&ds.train, &ds.test, metric).unwrap();
        let acc = accuracy(ds, &r);
        assert_eq!(format!("{acc:.4}"), format!("{expect:.4}"), "{} {metric:?}: {acc}", ds.name);
    }

    /// Brute force: every candidate, full computation, lowest index on ties.
    fn brute(ds: &Dataset, w: usize) -> (Vec<usize>, Vec<f64>) {
        let t = &ds.train;
        (0..ds.test.n)
            .into_par_iter()
            .map(|q| {
                let mut best = (usize::MAX, f64::INFINITY);
                for i in 0..t.n {
                    let d = dtw_naive(ds.test.series(q), t.series(i), t.dims, t.len, w);
                    if d < best.1 {
                        best = (i, d);
                    }
                }
                best
            })
            .unzip()
    }

    #[test]
    fn published_euclidean_accuracies() {
        for (name, acc) in [("GunPoint", 0.9133), ("ItalyPowerDemand", 0.9553), ("Coffee", 1.0), ("ArrowHead", 0.8)] {
            assert_acc(&load(name), Metric::Euclidean, acc);
        }
    }

    #[test]
    fn published_full_dtw_accuracies() {
        for (name, acc) in [("GunPoint", 0.9067), ("ItalyPowerDemand", 0.9504)] {
            assert_acc(&load(name), Metric::Dtw { window: Window::Full }, acc);
        }
    }

    #[test]
    fn pruned_dtw_equals_brute_force() {
        for (name, window) in [
            ("GunPoint", Window::Fraction(0.1)),
            ("ItalyPowerDemand", Window::Fraction(0.05)),
            ("ItalyPowerDemand", Window::Full),
            ("ArrowHead", Window::Cells(3)),
        ] {
            let ds = load(name);
            let nn = OneNn::fit(&ds.train, Metric::Dtw { window }).unwrap();
            let r = nn.predict(&ds.test).unwrap();
            let (idx, dist) = brute(&ds, nn.window_cells());
            assert_eq!(r.neighbours, idx, "{name} {window:?}");
            for (a, b) in r.distances.iter().zip(&dist) {
                assert_eq!(a.to_bits(), b.to_bits(), "{name} {window:?}");
            }
        }
    }

    #[test]
    fn multivariate_dependent_dtw_and_determinism() {
        let ds = load("BasicMotions");
        let a = one_nn(&ds.train, &ds.test, Metric::Dtw { window: Window::Fraction(0.1) }).unwrap();
        let b = one_nn(&ds.train, &ds.test, Metric::Dtw { window: Window::Fraction(0.1) }).unwrap();
        assert_eq!(a, b);
        let (idx, _) = brute(&ds, Window::Fraction(0.1).cells(ds.train.len));
        assert_eq!(a.neighbours, idx);
        assert!(accuracy(&ds, &a) > 0.9, "{}", accuracy(&ds, &a));
        let ed = one_nn(&ds.train, &ds.test, Metric::Euclidean).unwrap();
        assert_eq!(ed.predictions.len(), ds.test.n);
    }

    #[test]
    fn ties_go_to_the_lowest_index() {
        let train = Split { n: 3, dims: 1, len: 2, values: vec![5.0, 5.0, 1.0, 1.0, 1.0, 1.0], labels: vec![0, 1, 2] };
        let test = Split { n: 1, dims: 1, len: 2, values: vec![1.0, 1.0], labels: vec![1] };
        for m in [Metric::Euclidean, Metric::Dtw { window: Window::Full }] {
            let r = one_nn(&train, &test, m).unwrap();
            assert_eq!((r.neighbours[0], r.predictions[0], r.distances[0]), (1, 1, 0.0));
        }
        let bad = Split { n: 1, dims: 1, len: 3, values: vec![0.0; 3], labels: vec![0] };
        assert!(one_nn(&train, &bad, Metric::Euclidean).is_err());
    }
}
