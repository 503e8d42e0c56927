//! Ridge classifier with efficient leave-one-out selection of the penalty: scikit-learn's
//! `RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))` (the classifier of the ROCKET family), after
//! `StandardScaler(with_mean=False)` as aeon's `MiniRocketClassifier` pipeline does.
//!
//! What scikit-learn's `_RidgeGCV` does, and this module reproduces:
//! - targets one-vs-all in {−1, 1} (`LabelBinarizer(pos_label=1, neg_label=-1)`): one column
//!   per class, or a single column (+1 = the second class) for two classes;
//! - `fit_intercept=True`: X and Y are centred on their TRAIN means, the intercept is not
//!   penalised (the leave-one-out diagonal is corrected for it) and is
//!   `ȳ − x̄ · coef` afterwards;
//! - the decomposition: the thin SVD of the centred X when there are more rows than features
//!   (scikit-learn's `gcv_mode="svd"`), the eigendecomposition of the Gram matrix `X Xᵀ`
//!   otherwise (its `"gram"` mode); both give the same numbers up to rounding;
//! - the score of a penalty is minus the mean of the squared leave-one-out errors over all rows
//!   and target columns; the best score wins, and on a tie the first penalty in the list
//!   (scikit-learn compares with a strict `>`).
//!
//! The scaler divides each feature by its population standard deviation on TRAIN; a feature
//! scikit-learn considers constant (variance within rounding of zero) keeps scale 1.

use faer::{Mat, Side};

/// `np.logspace(-3, 3, 10)`: the penalties every ROCKET-family reference searches.
pub fn default_alphas() -> Vec<f64> {
    // NumPy: 10 ** (start + i * step), the last point set to `stop` exactly.
    let step = 6.0 / 9.0;
    (0..10).map(|i| if i == 9 { 1000.0 } else { 10f64.powf(-3.0 + i as f64 * step) }).collect()
}

/// What a list of penalties must be (for messages).
pub const ALPHAS_EXPECTED: &str = "a non-empty array of positive numbers";

/// The penalties a stage asked for: `alphas` if given (each a positive finite number), else
/// [`default_alphas`].
pub fn alphas_or_default(alphas: Option<&[f64]>) -> Result<Vec<f64>, RidgeError> {
    match alphas {
        None => Ok(default_alphas()),
        Some([]) => Err(RidgeError::NoAlphas),
        Some(a) => match a.iter().find(|x| !(**x > 0.0 && x.is_finite())) {
            Some(&bad) => Err(RidgeError::BadAlpha(bad)),
            None => Ok(a.to_vec()),
        },
    }
}

/// Why the ridge classifier could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RidgeError {
    #[error("no training rows")]
    EmptyTrain,
    #[error("no penalties to choose from")]
    NoAlphas,
    #[error("penalty {0} is not a positive number")]
    BadAlpha(f64),
    #[error("{rows} rows of {width} values do not fill a matrix of {len} values")]
    Shape { rows: usize, width: usize, len: usize },
    #[error("a feature value is not finite (row {row}, feature {feature})")]
    NotFinite { row: usize, feature: usize },
    #[error("rows to predict have {test} features but the model was fitted on {train}")]
    WidthMismatch { train: usize, test: usize },
}

/// `StandardScaler(with_mean=False)` fitted on TRAIN: divide by the population sd.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaler {
    pub scale: Vec<f64>,
}

impl Scaler {
    /// scikit-learn's `_incremental_mean_and_var` on one batch (corrected two-pass variance) and
    /// its `_is_constant_feature` rule for which features keep scale 1.
    pub fn fit(x: &[f64], n: usize, p: usize) -> Scaler {
        let eps = f64::EPSILON;
        let nf = n as f64;
        let mut scale = vec![1.0; p];
        for (j, s) in scale.iter_mut().enumerate() {
            let mean = (0..n).map(|i| x[i * p + j]).sum::<f64>() / nf;
            let (mut sq, mut corr) = (0.0, 0.0);
            for i in 0..n {
                let d = x[i * p + j] - mean;
                corr += d;
                sq += d * d;
            }
            let var = (sq - corr * corr / nf) / nf;
            let bound = nf * eps * var + (nf * mean * eps).powi(2);
            if var > bound {
                *s = var.sqrt();
            }
        }
        Scaler { scale }
    }

    /// Scale 1 everywhere: no standardisation (Hydra's features arrive scaled).
    pub fn identity(p: usize) -> Scaler {
        Scaler { scale: vec![1.0; p] }
    }

    /// Divides every row of `x` (row-major, width `scale.len()`) in place.
    pub fn apply(&self, x: &mut [f64]) {
        let p = self.scale.len();
        for row in x.chunks_mut(p) {
            for (v, s) in row.iter_mut().zip(&self.scale) {
                *v /= s;
            }
        }
    }
}

/// Which decomposition the leave-one-out errors came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GcvMode {
    /// Thin SVD of the centred design matrix (more rows than features).
    Svd,
    /// Eigendecomposition of the Gram matrix (at most as many rows as features).
    Gram,
}

/// A fitted ridge classifier (on already scaled features).
#[derive(Debug, Clone, PartialEq)]
pub struct RidgeClassifier {
    /// The chosen penalty and its index in the list searched.
    pub alpha: f64,
    pub alpha_index: usize,
    /// Minus the mean squared leave-one-out error of every penalty, in list order.
    pub scores: Vec<f64>,
    pub mode: GcvMode,
    /// Features per row.
    pub width: usize,
    /// Target columns: 1 for two classes, else one per class.
    pub targets: usize,
    /// `targets × width`, row-major (scikit-learn's `coef_`).
    pub coef: Vec<f64>,
    pub intercept: Vec<f64>,
    /// The class indices present in TRAIN, ascending: target column `j` is class `classes[j]`.
    pub classes: Vec<usize>,
}

fn check_finite(x: &[f64], p: usize) -> Result<(), RidgeError> {
    match x.iter().position(|v| !v.is_finite()) {
        Some(k) => Err(RidgeError::NotFinite { row: k / p.max(1), feature: k % p.max(1) }),
        None => Ok(()),
    }
}

impl RidgeClassifier {
    /// Fits on `n` rows of width `p` (row-major `x`) with class indices `labels`, choosing the
    /// penalty among `alphas` by exact leave-one-out error.
    pub fn fit(x: &[f64], n: usize, p: usize, labels: &[usize], alphas: &[f64]) -> Result<Self, RidgeError> {
        if n == 0 || labels.len() != n {
            return Err(RidgeError::EmptyTrain);
        }
        if x.len() != n * p {
            return Err(RidgeError::Shape { rows: n, width: p, len: x.len() });
        }
        if alphas.is_empty() {
            return Err(RidgeError::NoAlphas);
        }
        if let Some(&a) = alphas.iter().find(|a| !(**a > 0.0 && a.is_finite())) {
            return Err(RidgeError::BadAlpha(a));
        }
        check_finite(x, p)?;
        let mut classes: Vec<usize> = labels.to_vec();
        classes.sort_unstable();
        classes.dedup();
        let m = if classes.len() <= 2 { 1 } else { classes.len() };
        let nf = n as f64;
        // Targets in {−1, 1}; a single column marks the second class (all −1 with one class).
        let y = Mat::<f64>::from_fn(n, m, |i, j| {
            let c = if m == 1 { classes.get(1).copied() } else { Some(classes[j]) };
            if Some(labels[i]) == c { 1.0 } else { -1.0 }
        });
        let y_offset: Vec<f64> = (0..m).map(|j| (0..n).map(|i| y.read(i, j)).sum::<f64>() / nf).collect();
        let yc = Mat::<f64>::from_fn(n, m, |i, j| y.read(i, j) - y_offset[j]);
        let x_offset: Vec<f64> = {
            let mut s = vec![0.0; p];
            for row in x.chunks(p.max(1)) {
                for (a, v) in s.iter_mut().zip(row) {
                    *a += v;
                }
            }
            s.iter().map(|v| v / nf).collect()
        };
        let xc = Mat::<f64>::from_fn(n, p, |i, j| x[i * p + j] - x_offset[j]);
        let ones = Mat::<f64>::from_fn(n, 1, |_, _| 1.0);

        // Per penalty: the leave-one-out errors `looe` (n × m); the coefficients of the best one.
        let (mode, scores, best, coef_t) = if n > p {
            let svd = xc.thin_svd();
            let (u, v) = (svd.u(), svd.v());
            let s: Vec<f64> = (0..p).map(|k| svd.s_diagonal().read(k)).collect();
            let ut_y = u.transpose() * &yc;
            let ut_1 = u.transpose() * &ones;
            let looe = |alpha: f64| {
                let mm: Vec<f64> = s.iter().map(|s| alpha / (s * s + alpha) - 1.0).collect();
                let (c, d) = loo_parts(u, &mm, &ut_y, &ut_1, &yc, 1.0);
                score(&c, &d)
            };
            let (scores, best) = choose(alphas, looe);
            let alpha = alphas[best];
            let w = Mat::<f64>::from_fn(p, m, |k, j| s[k] / (s[k] * s[k] + alpha) * ut_y.read(k, j));
            (GcvMode::Svd, scores, best, v * &w)
        } else {
            let k = &xc * xc.transpose();
            let evd = k.selfadjoint_eigendecomposition(Side::Lower);
            let q = evd.u();
            let e: Vec<f64> = (0..n).map(|i| evd.s().column_vector().read(i)).collect();
            let qt_y = q.transpose() * &yc;
            let qt_1 = q.transpose() * &ones;
            let looe = |alpha: f64| {
                let dd: Vec<f64> = e.iter().map(|e| 1.0 / (e + alpha)).collect();
                let (c, d) = loo_parts(q, &dd, &qt_y, &qt_1, &yc, 0.0);
                score(&c, &d)
            };
            let (scores, best) = choose(alphas, looe);
            let alpha = alphas[best];
            let w = Mat::<f64>::from_fn(n, m, |i, j| qt_y.read(i, j) / (e[i] + alpha));
            let c = q * &w;
            (GcvMode::Gram, scores, best, xc.transpose() * &c)
        };
        let mut coef = vec![0.0; m * p];
        for j in 0..m {
            for f in 0..p {
                coef[j * p + f] = coef_t.read(f, j);
            }
        }
        let intercept =
            (0..m).map(|j| y_offset[j] - (0..p).map(|f| x_offset[f] * coef[j * p + f]).sum::<f64>()).collect();
        Ok(RidgeClassifier {
            alpha: alphas[best],
            alpha_index: best,
            scores,
            mode,
            width: p,
            targets: m,
            coef,
            intercept,
            classes,
        })
    }

    /// `X · coefᵀ + intercept` per row (scikit-learn's `decision_function`), `targets` values each.
    pub fn decision(&self, x: &[f64]) -> Result<Vec<Vec<f64>>, RidgeError> {
        let p = self.width;
        if p == 0 || !x.len().is_multiple_of(p) {
            return Err(RidgeError::WidthMismatch { train: p, test: x.len() });
        }
        check_finite(x, p)?;
        Ok(x.chunks(p)
            .map(|row| {
                (0..self.targets)
                    .map(|j| {
                        let w = &self.coef[j * p..(j + 1) * p];
                        row.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + self.intercept[j]
                    })
                    .collect()
            })
            .collect())
    }

    /// What the penalty selection saw, for a stage's `ridge.json`: the chosen penalty, each
    /// penalty's mean squared leave-one-out error, the decomposition and the target count.
    pub fn record(&self, alphas: &[f64]) -> serde_json::Value {
        serde_json::json!({
            "alpha": self.alpha,
            "alphas": alphas,
            "loo_mse": self.scores.iter().map(|s| -s).collect::<Vec<_>>(),
            "decomposition": format!("{:?}", self.mode).to_lowercase(),
            "targets": self.targets,
        })
    }

    /// The predicted class index of a decision row: the sign for two classes, else the first
    /// largest value.
    pub fn class_of(&self, d: &[f64]) -> usize {
        if self.targets == 1 {
            let pos = usize::from(d[0] > 0.0);
            return self.classes.get(pos).or(self.classes.first()).copied().unwrap_or(0);
        }
        let mut best = 0;
        for (j, v) in d.iter().enumerate() {
            if *v > d[best] {
                best = j;
            }
        }
        self.classes[best]
    }
}

/// The leave-one-out numerator `c` and denominator `d` from a decomposition `B` (`u` or `q`):
/// `c = B (w ∘ Bᵀy) + shift·y`, `d = diag(B w Bᵀ) + shift − (B (w ∘ Bᵀ1) + shift·1) / n`, the last
/// term removing the unpenalised intercept (scikit-learn's `sw_sum` correction, unit weights).
fn loo_parts(
    b: faer::MatRef<'_, f64>,
    w: &[f64],
    bt_y: &Mat<f64>,
    bt_1: &Mat<f64>,
    y: &Mat<f64>,
    shift: f64,
) -> (Mat<f64>, Vec<f64>) {
    let (n, r, m) = (b.nrows(), b.ncols(), y.ncols());
    let wy = Mat::<f64>::from_fn(r, m, |k, j| w[k] * bt_y.read(k, j));
    let w1 = Mat::<f64>::from_fn(r, 1, |k, _| w[k] * bt_1.read(k, 0));
    let mut c = b * &wy;
    let g1 = b * &w1;
    for j in 0..m {
        for i in 0..n {
            c.write(i, j, c.read(i, j) + shift * y.read(i, j));
        }
    }
    let d = (0..n)
        .map(|i| {
            let diag: f64 = (0..r).map(|k| w[k] * b.read(i, k) * b.read(i, k)).sum();
            diag + shift - (g1.read(i, 0) + shift) / n as f64
        })
        .collect();
    (c, d)
}

/// Minus the mean squared leave-one-out error.
fn score(c: &Mat<f64>, d: &[f64]) -> f64 {
    let (n, m) = (c.nrows(), c.ncols());
    let mut s = 0.0;
    for j in 0..m {
        for (i, di) in d.iter().enumerate() {
            let e = c.read(i, j) / di;
            s += e * e;
        }
    }
    -s / (n * m) as f64
}

/// Scores every penalty; the best wins, the first one on a tie (strict `>` as scikit-learn).
fn choose(alphas: &[f64], score: impl Fn(f64) -> f64) -> (Vec<f64>, usize) {
    let scores: Vec<f64> = alphas.iter().map(|a| score(*a)).collect();
    let mut best = 0;
    for (i, s) in scores.iter().enumerate() {
        if *s > scores[best] {
            best = i;
        }
    }
    (scores, best)
}

/// The classifier of the ROCKET family on a feature matrix: scale on TRAIN, fit, predict.
#[derive(Debug, Clone, PartialEq)]
pub struct RidgeFitPredict {
    pub model: RidgeClassifier,
    pub predicted: Vec<usize>,
    /// The decision values per test row (one per target column).
    pub scores: Vec<Vec<f64>>,
    /// Wall time of fitting on TRAIN and of predicting TEST, as tsml-eval records them.
    pub fit_time: std::time::Duration,
    pub predict_time: std::time::Duration,
}

/// `make_pipeline(StandardScaler(with_mean=False), RidgeClassifierCV(alphas))`, fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaledRidge {
    pub scaler: Scaler,
    pub model: RidgeClassifier,
}

impl ScaledRidge {
    /// Fits the scaler and the classifier on `n × p` rows (consumed: scaled in place).
    pub fn fit(train: Vec<f64>, n: usize, p: usize, labels: &[usize], alphas: &[f64]) -> Result<Self, RidgeError> {
        Self::fit_scaled(train, n, p, labels, alphas, true)
    }

    /// [`ScaledRidge::fit`], without the scaler when `standardise` is false.
    pub fn fit_scaled(
        mut train: Vec<f64>,
        n: usize,
        p: usize,
        labels: &[usize],
        alphas: &[f64],
        standardise: bool,
    ) -> Result<Self, RidgeError> {
        if train.len() != n * p {
            return Err(RidgeError::Shape { rows: n, width: p, len: train.len() });
        }
        let scaler = if standardise { Scaler::fit(&train, n, p) } else { Scaler::identity(p) };
        scaler.apply(&mut train);
        let model = RidgeClassifier::fit(&train, n, p, labels, alphas)?;
        Ok(ScaledRidge { scaler, model })
    }

    /// Decision values of rows (consumed: scaled in place).
    pub fn decision(&self, mut x: Vec<f64>) -> Result<Vec<Vec<f64>>, RidgeError> {
        if !x.len().is_multiple_of(self.model.width.max(1)) {
            return Err(RidgeError::WidthMismatch { train: self.model.width, test: x.len() });
        }
        self.scaler.apply(&mut x);
        self.model.decision(&x)
    }
}

/// [`ScaledRidge`] fitted on `train` (`n_train × p`) and applied to `test`.
pub fn ridge_fit_predict(
    train: Vec<f64>,
    n_train: usize,
    p: usize,
    labels: &[usize],
    test: Vec<f64>,
    alphas: &[f64],
) -> Result<RidgeFitPredict, RidgeError> {
    let start = std::time::Instant::now();
    let fitted = ScaledRidge::fit(train, n_train, p, labels, alphas)?;
    let fit_time = start.elapsed();
    let scores = fitted.decision(test)?;
    let predicted = scores.iter().map(|d| fitted.model.class_of(d)).collect();
    Ok(RidgeFitPredict { model: fitted.model, predicted, scores, fit_time, predict_time: start.elapsed() - fit_time })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(n: usize, p: usize) -> (Vec<f64>, Vec<usize>) {
        let x = (0..n * p).map(|k| ((k * 7919 % 101) as f64 / 50.0 - 1.0) + (k % p) as f64 * 0.01).collect();
        let y = (0..n).map(|i| i % 3).collect();
        (x, y)
    }

    #[test]
    fn logspace_matches_numpy() {
        let a = default_alphas();
        assert_eq!(a.len(), 10);
        assert_eq!(a[0], 0.001);
        assert_eq!(a[9], 1000.0);
        assert!((a[1] - 0.004641588833612777).abs() < 1e-18);
    }

    #[test]
    fn svd_and_gram_modes_agree() {
        // The same problem solved both ways: 30 rows, 12 features (SVD) versus the Gram route on
        // the same rows padded with zero features (which change neither X Xᵀ nor the fit).
        let (x, y) = toy(30, 12);
        let a = RidgeClassifier::fit(&x, 30, 12, &y, &default_alphas()).unwrap();
        assert_eq!(a.mode, GcvMode::Svd);
        let mut wide = Vec::new();
        for row in x.chunks(12) {
            wide.extend_from_slice(row);
            wide.extend(std::iter::repeat_n(0.0, 30));
        }
        let b = RidgeClassifier::fit(&wide, 30, 42, &y, &default_alphas()).unwrap();
        assert_eq!(b.mode, GcvMode::Gram);
        assert_eq!(a.alpha_index, b.alpha_index);
        for (s, t) in a.scores.iter().zip(&b.scores) {
            assert!((s - t).abs() <= 1e-9 * s.abs(), "{s} vs {t}");
        }
        for j in 0..a.targets {
            for f in 0..12 {
                let (u, v) = (a.coef[j * 12 + f], b.coef[j * 42 + f]);
                assert!((u - v).abs() <= 1e-8 * u.abs().max(1e-3), "{u} vs {v}");
            }
        }
    }

    #[test]
    fn first_of_tied_penalties_wins() {
        let (x, y) = toy(20, 50);
        let m = RidgeClassifier::fit(&x, 20, 50, &y, &[5.0, 5.0, 5.0]).unwrap();
        assert_eq!(m.alpha_index, 0);
        assert_eq!(m.scores[0], m.scores[2]);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let (x, y) = toy(4, 3);
        assert_eq!(RidgeClassifier::fit(&x, 4, 3, &y, &[]), Err(RidgeError::NoAlphas));
        assert_eq!(RidgeClassifier::fit(&x, 4, 3, &y, &[0.0]), Err(RidgeError::BadAlpha(0.0)));
        let mut bad = x.clone();
        bad[4] = f64::NAN;
        assert_eq!(RidgeClassifier::fit(&bad, 4, 3, &y, &[1.0]), Err(RidgeError::NotFinite { row: 1, feature: 1 }));
    }
}
