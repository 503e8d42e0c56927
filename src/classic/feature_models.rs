//! The CNN-TS paper's classical classifiers on feature vectors (SPEC §3): a linear SVM, an RBF
//! SVM and a random forest of 50 trees.
//!
//! - SVMs: smartcore's C-SVC (an online LaSVM-style solver, `epochs` passes over the rows in a
//!   seeded order), made multi-class one-vs-one like libsvm/scikit-learn: each pair votes for a
//!   class; ties in votes are broken by scikit-learn's rule (votes plus the summed confidences
//!   squeezed into `(−1/3, 1/3)`), a remaining tie goes to the lower class index, so the result
//!   never depends on hash order (smartcore's own `MultiClassSVC` breaks ties in `HashMap` order).
//!   smartcore's solver reads only the first `rows` entries of each feature vector, so a pair
//!   with fewer rows than features is first re-expressed exactly in fewer coordinates
//!   ([`SpanMap`]). (linfa-svm, a libsvm port, was not used: through `sprs` it switches on
//!   `num-complex`'s default features, which rebuilds the whole burn stack.)
//! - Random forest: smartcore's (Breiman: bootstrap per tree, `⌊√p⌋` features tried per split,
//!   Gini), seeded; the same seed gives the same forest.
//! - Features are standardised with the mean and population standard deviation of TRAIN only
//!   (a constant feature is centred and left unscaled), then the same transform is applied to
//!   the series to predict.

use smartcore::ensemble::random_forest_classifier::{RandomForestClassifier, RandomForestClassifierParameters};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::svm::Kernels;
use smartcore::svm::svc::{SVC, SVCParameters};

/// A row-major matrix of feature vectors with their class indices.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeatureRows {
    /// Number of rows (series).
    pub n: usize,
    /// Number of features per row.
    pub width: usize,
    /// Row-major values, `n * width`.
    pub values: Vec<f64>,
    /// Class index per row.
    pub labels: Vec<usize>,
}

impl FeatureRows {
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.width..(i + 1) * self.width]
    }
}

/// Which classifier, with its settings.
#[derive(Debug, Clone, PartialEq)]
pub enum Classifier {
    /// C-SVC with the linear kernel `⟨x, x'⟩`.
    LinearSvm { c: f64, epochs: usize, seed: u64 },
    /// C-SVC with the kernel `exp(−γ‖x − x'‖²)`; `gamma = None` is scikit-learn's `"scale"`,
    /// `1 / (p · Var(X_train))` on the standardised training matrix.
    RbfSvm { c: f64, gamma: Option<f64>, epochs: usize, seed: u64 },
    /// Random forest of `trees` trees; `max_features = None` tries `⌊√p⌋` features per split.
    RandomForest { trees: u16, max_depth: Option<u16>, max_features: Option<usize>, seed: u64 },
}

/// smartcore's default number of passes of its SVM solver over the training rows.
pub const DEFAULT_SVM_EPOCHS: usize = 2;

impl Classifier {
    /// Linear SVM, C = 1, the solver's default passes, seed 0.
    pub fn linear_svm() -> Classifier {
        Classifier::LinearSvm { c: 1.0, epochs: DEFAULT_SVM_EPOCHS, seed: 0 }
    }
    /// RBF SVM, C = 1, γ = "scale", the solver's default passes, seed 0.
    pub fn rbf_svm() -> Classifier {
        Classifier::RbfSvm { c: 1.0, gamma: None, epochs: DEFAULT_SVM_EPOCHS, seed: 0 }
    }
    /// Random forest of `trees` trees, unlimited depth, ⌊√p⌋ features per split.
    pub fn random_forest(trees: u16, seed: u64) -> Classifier {
        Classifier::RandomForest { trees, max_depth: None, max_features: None, seed }
    }
}

/// Why fitting or predicting failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("no training rows")]
    EmptyTrain,
    #[error("training rows have {train} features but rows to predict have {test}")]
    WidthMismatch { train: usize, test: usize },
    #[error("a feature value is not finite (row {row}, feature {feature})")]
    NotFinite { row: usize, feature: usize },
    #[error("{0}")]
    Svm(String),
    #[error("random forest: {0}")]
    Forest(String),
}

/// Standardisation fitted on TRAIN: `(x − mean) / sd`, population sd, sd 0 → 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
}

impl Standardizer {
    pub fn fit(rows: &FeatureRows) -> Standardizer {
        let (n, w) = (rows.n.max(1) as f64, rows.width);
        let mut mean = vec![0.0; w];
        for i in 0..rows.n {
            for (m, v) in mean.iter_mut().zip(rows.row(i)) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0; w];
        for i in 0..rows.n {
            for ((s, v), m) in var.iter_mut().zip(rows.row(i)).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        let scale = var
            .iter()
            .zip(&mean)
            .map(|(s, m)| {
                let sd = (s / n).sqrt();
                if sd > 1e-12 * m.abs().max(1e-300) && sd > 0.0 { sd } else { 1.0 }
            })
            .collect();
        Standardizer { mean, scale }
    }

    /// The standardised rows.
    pub fn apply(&self, rows: &FeatureRows) -> Vec<Vec<f64>> {
        (0..rows.n)
            .map(|i| rows.row(i).iter().enumerate().map(|(j, v)| (v - self.mean[j]) / self.scale[j]).collect())
            .collect()
    }
}

/// Predicted class indices and per-class scores (vote shares, or OvO votes plus confidences).
#[derive(Debug, Clone, PartialEq)]
pub struct FitPredict {
    pub predicted: Vec<usize>,
    pub scores: Vec<Vec<f64>>,
}

fn check(rows: &FeatureRows) -> Result<(), ModelError> {
    for i in 0..rows.n {
        if let Some(j) = rows.row(i).iter().position(|v| !v.is_finite()) {
            return Err(ModelError::NotFinite { row: i, feature: j });
        }
    }
    Ok(())
}

/// Standardises on `train`, fits `model`, predicts `test` over `k` classes.
pub fn fit_predict(
    train: &FeatureRows,
    test: &FeatureRows,
    k: usize,
    model: &Classifier,
) -> Result<FitPredict, ModelError> {
    if train.n == 0 {
        return Err(ModelError::EmptyTrain);
    }
    if train.width != test.width {
        return Err(ModelError::WidthMismatch { train: train.width, test: test.width });
    }
    check(train)?;
    check(test)?;
    let k = k.max(train.labels.iter().map(|&l| l + 1).max().unwrap_or(0));
    let std = Standardizer::fit(train);
    let xtr = std.apply(train);
    let xte = std.apply(test);
    match *model {
        Classifier::LinearSvm { c, epochs, seed } => {
            svm_ovo(&xtr, &train.labels, &xte, k, SvmSettings { c, gamma: None, epochs, seed })
        }
        Classifier::RbfSvm { c, gamma, epochs, seed } => {
            let gamma = Some(gamma.unwrap_or_else(|| scale_gamma(&xtr)));
            svm_ovo(&xtr, &train.labels, &xte, k, SvmSettings { c, gamma, epochs, seed })
        }
        Classifier::RandomForest { trees, max_depth, max_features, seed } => {
            forest(&xtr, &train.labels, &xte, k, trees, max_depth, max_features, seed)
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct SvmSettings {
    c: f64,
    gamma: Option<f64>,
    epochs: usize,
    seed: u64,
}

/// scikit-learn's `gamma="scale"`: `1 / (p · Var(X))` over all entries of X (population variance).
pub fn scale_gamma(x: &[Vec<f64>]) -> f64 {
    let p = x.first().map_or(1, Vec::len).max(1) as f64;
    let count = x.iter().map(Vec::len).sum::<usize>().max(1) as f64;
    let mean = x.iter().flatten().sum::<f64>() / count;
    let var = x.iter().flatten().map(|v| (v - mean) * (v - mean)).sum::<f64>() / count;
    if var > 0.0 { 1.0 / (p * var) } else { 1.0 / p }
}

/// One-vs-one C-SVC; `gamma = None` is the linear kernel.
fn svm_ovo(
    x: &[Vec<f64>],
    labels: &[usize],
    xte: &[Vec<f64>],
    k: usize,
    svm: SvmSettings,
) -> Result<FitPredict, ModelError> {
    let present: Vec<usize> = (0..k).filter(|c| labels.contains(c)).collect();
    let n_test = xte.len();
    let width = x.first().map_or(0, Vec::len);
    let mut votes = vec![vec![0.0f64; k]; n_test];
    let mut conf = vec![vec![0.0f64; k]; n_test];
    if present.len() == 1 {
        // One class in TRAIN: nothing to separate; every series gets it.
        votes.iter_mut().for_each(|v| v[present[0]] = 1.0);
    }
    let kernel = match svm.gamma {
        None => Kernels::linear(),
        Some(g) => Kernels::rbf().with_gamma(g),
    };
    let params =
        SVCParameters::default().with_c(svm.c).with_epoch(svm.epochs).with_kernel(kernel).with_seed(Some(svm.seed));
    for (ai, &a) in present.iter().enumerate() {
        for &b in &present[ai + 1..] {
            let idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == a || labels[i] == b).collect();
            let rows: Vec<Vec<f64>> = idx.iter().map(|&i| x[i].clone()).collect();
            // smartcore's solver reads only the first `rows` entries of each feature vector;
            // with fewer rows than features, first re-express everything exactly in fewer
            // coordinates (see `SpanMap`).
            let (xm, xt) = if rows.len() <= width {
                let map = SpanMap::fit(&rows);
                let rows: Vec<Vec<f64>> = rows.iter().map(|r| map.apply(r)).collect();
                let test: Vec<Vec<f64>> = xte.iter().map(|r| map.apply(r)).collect();
                (dense(&rows)?, dense(&test)?)
            } else {
                (dense(&rows)?, dense(xte)?)
            };
            // Class `a` is 1, `b` is 0: smartcore's decision > 0 means the larger label, `a`.
            let y: Vec<i32> = idx.iter().map(|&i| i32::from(labels[i] == a)).collect();
            let svc = SVC::fit(&xm, &y, &params).map_err(|e| ModelError::Svm(e.to_string()))?;
            let f = svc.decision_function(&xt).map_err(|e| ModelError::Svm(e.to_string()))?;
            for (t, f) in f.into_iter().enumerate() {
                if f > 0.0 {
                    votes[t][a] += 1.0;
                } else {
                    votes[t][b] += 1.0;
                }
                conf[t][a] += f;
                conf[t][b] -= f;
            }
        }
    }
    let mut predicted = Vec::with_capacity(n_test);
    let mut scores = Vec::with_capacity(n_test);
    for (v, cf) in votes.iter().zip(&conf) {
        // scikit-learn's _ovr_decision_function: confidences squeezed into (−1/3, 1/3).
        let s: Vec<f64> = v.iter().zip(cf).map(|(v, c)| v + c / (3.0 * (c.abs() + 1.0))).collect();
        predicted.push(argmax(&s));
        scores.push(s);
    }
    Ok(FitPredict { predicted, scores })
}

fn dense(rows: &[Vec<f64>]) -> Result<DenseMatrix<f64>, ModelError> {
    let width = rows.first().map_or(0, Vec::len);
    let values: Vec<f64> = rows.iter().flatten().copied().collect();
    DenseMatrix::new(rows.len(), width, values, false).map_err(|e| ModelError::Svm(format!("matrix: {e}")))
}

/// An exact change of coordinates for SVM training on `n` rows of `p ≥ n` features:
/// `x ↦ (Q(x − m), ‖(x − m) − QᵀQ(x − m)‖)`, with `m` the rows' mean and `Q` an orthonormal
/// basis (rows) of the centred training rows' span (rank `r ≤ n − 1`, so `r + 1 ≤ n` coordinates).
///
/// Every distance from any point to a training row, and every inner product of centred
/// points with a centred training row, is unchanged; the SVM dual with its bias depends on the
/// data only through these (its constraint `Σ αᵢyᵢ = 0` cancels the shift by `m` in the linear
/// kernel), so the fitted decision function is the same.
struct SpanMap {
    mean: Vec<f64>,
    basis: Vec<Vec<f64>>,
}

impl SpanMap {
    fn fit(rows: &[Vec<f64>]) -> SpanMap {
        let p = rows.first().map_or(0, Vec::len);
        let n = rows.len().max(1) as f64;
        let mut mean = vec![0.0; p];
        for r in rows {
            mean.iter_mut().zip(r).for_each(|(m, v)| *m += v / n);
        }
        let scale = rows.iter().map(|r| dist(r, &mean)).fold(0.0, f64::max);
        let mut basis: Vec<Vec<f64>> = Vec::new();
        for r in rows {
            let mut v: Vec<f64> = r.iter().zip(&mean).map(|(a, b)| a - b).collect();
            // Modified Gram–Schmidt, twice for orthogonality to rounding.
            for _ in 0..2 {
                for q in &basis {
                    let d = dot(&v, q);
                    v.iter_mut().zip(q).for_each(|(a, b)| *a -= d * b);
                }
            }
            let norm = dot(&v, &v).sqrt();
            if norm > 1e-10 * scale.max(f64::MIN_POSITIVE) {
                basis.push(v.iter().map(|a| a / norm).collect());
            }
        }
        SpanMap { mean, basis }
    }

    fn apply(&self, x: &[f64]) -> Vec<f64> {
        let c: Vec<f64> = x.iter().zip(&self.mean).map(|(a, b)| a - b).collect();
        let mut out: Vec<f64> = self.basis.iter().map(|q| dot(&c, q)).collect();
        let inside: f64 = out.iter().map(|v| v * v).sum();
        out.push((dot(&c, &c) - inside).max(0.0).sqrt());
        out
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// Index of the largest value; the first one on ties.
fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

#[allow(clippy::too_many_arguments)]
fn forest(
    x: &[Vec<f64>],
    labels: &[usize],
    xte: &[Vec<f64>],
    k: usize,
    trees: u16,
    max_depth: Option<u16>,
    max_features: Option<usize>,
    seed: u64,
) -> Result<FitPredict, ModelError> {
    let xtr = dense(x)?;
    let xt = dense(xte)?;
    let y: Vec<u32> = labels.iter().map(|&l| l as u32).collect();
    let mut p = RandomForestClassifierParameters::default().with_n_trees(trees.max(1)).with_seed(seed);
    if let Some(d) = max_depth {
        p = p.with_max_depth(d);
    }
    if let Some(m) = max_features {
        p = p.with_m(m.clamp(1, x.first().map_or(1, Vec::len).max(1)));
    }
    let rf = RandomForestClassifier::fit(&xtr, &y, p).map_err(|e| ModelError::Forest(e.to_string()))?;
    let pred: Vec<u32> = rf.predict(&xt).map_err(|e| ModelError::Forest(e.to_string()))?;
    let predicted: Vec<usize> = pred.iter().map(|&p| p as usize).collect();
    let scores = predicted
        .iter()
        .map(|&p| {
            let mut s = vec![0.0; k];
            if p < k {
                s[p] = 1.0;
            }
            s
        })
        .collect();
    Ok(FitPredict { predicted, scores })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two Gaussian-ish blobs per class in 3 dimensions, deterministic.
    fn blobs(n_per: usize, k: usize, offset: usize) -> FeatureRows {
        let mut values = Vec::new();
        let mut labels = Vec::new();
        for c in 0..k {
            for i in 0..n_per {
                let j = (i + offset) as f64;
                let jitter = |s: f64| ((j * 12.9898 + s * 78.233).sin() * 43758.5453).fract() - 0.5;
                values.extend([c as f64 * 3.0 + jitter(1.0), (c % 2) as f64 * 2.0 + jitter(2.0), jitter(3.0) * 10.0]);
                labels.push(c);
            }
        }
        FeatureRows { n: n_per * k, width: 3, values, labels }
    }

    #[test]
    fn every_classifier_separates_separable_blobs() {
        let train = blobs(15, 3, 0);
        let test = blobs(10, 3, 100);
        for m in [Classifier::linear_svm(), Classifier::rbf_svm(), Classifier::random_forest(50, 0)] {
            let r = fit_predict(&train, &test, 3, &m).unwrap();
            let correct = r.predicted.iter().zip(&test.labels).filter(|(a, b)| a == b).count();
            assert!(correct >= 28, "{m:?}: {correct}/30");
        }
    }

    #[test]
    fn standardizer_uses_train_statistics_only() {
        let train = FeatureRows { n: 2, width: 2, values: vec![0.0, 5.0, 2.0, 5.0], labels: vec![0, 1] };
        let s = Standardizer::fit(&train);
        assert_eq!(s.mean, vec![1.0, 5.0]);
        assert_eq!(s.scale, vec![1.0, 1.0]); // sd 1, and a constant feature left unscaled
        let test = FeatureRows { n: 1, width: 2, values: vec![3.0, 7.0], labels: vec![0] };
        assert_eq!(s.apply(&test), vec![vec![2.0, 2.0]]);
    }

    #[test]
    fn span_map_keeps_distances_and_inner_products_to_training_rows() {
        // 4 rows of 7 features: smartcore alone would read only 4 of them.
        let rows: Vec<Vec<f64>> =
            (0..4).map(|i| (0..7).map(|j| ((i * 7 + j) as f64 * 0.37).sin() + j as f64 * 0.1).collect()).collect();
        let map = SpanMap::fit(&rows);
        let mapped: Vec<Vec<f64>> = rows.iter().map(|r| map.apply(r)).collect();
        assert!(mapped[0].len() <= rows.len(), "{} coordinates", mapped[0].len());
        let q: Vec<f64> = (0..7).map(|j| (j as f64 * 1.3).cos()).collect();
        let mq = map.apply(&q);
        let centred = |v: &[f64]| -> Vec<f64> { v.iter().zip(&map.mean).map(|(a, b)| a - b).collect() };
        for (r, m) in rows.iter().zip(&mapped) {
            assert!((dist(&q, r) - dist(&mq, m)).abs() < 1e-12, "distance");
            assert!((dot(&centred(&q), &centred(r)) - dot(&mq, m)).abs() < 1e-12, "inner product");
        }
    }

    #[test]
    fn more_features_than_rows_still_classifies() {
        // 5 rows per class, 12 features: the pair has fewer rows than features.
        let make = |offset: usize| {
            let base = blobs(5, 2, offset);
            let values = (0..base.n).flat_map(|i| base.row(i).repeat(4)).collect();
            FeatureRows { n: base.n, width: 12, values, labels: base.labels }
        };
        for m in [Classifier::linear_svm(), Classifier::rbf_svm()] {
            let test = make(50);
            let r = fit_predict(&make(0), &test, 2, &m).unwrap();
            let correct = r.predicted.iter().zip(&test.labels).filter(|(a, b)| a == b).count();
            assert!(correct >= 9, "{m:?}: {correct}/10");
        }
    }

    #[test]
    fn non_finite_features_are_refused() {
        let mut train = blobs(3, 2, 0);
        train.values[4] = f64::NAN;
        let err = fit_predict(&train, &blobs(2, 2, 9), 2, &Classifier::linear_svm()).unwrap_err();
        assert!(matches!(err, ModelError::NotFinite { row: 1, feature: 1 }), "{err}");
    }
}
