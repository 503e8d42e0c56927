//! The ROCKET-family transforms on a whole dataset: fitted on TRAIN, applied to every split,
//! producing the feature table the ridge classifier (or any `features_classify` classifier) reads.

use super::feature_models::FeatureRows;
use super::features::FeatureTable;
use super::hydra::{Hydra, SparseScaler};
use super::minirocket::{BiasMode, MiniRocket, RocketError};
use super::multirocket::MultiRocket;
use super::ridge::{RidgeError, RidgeFitPredict, ScaledRidge};
use crate::data::dataset::{Dataset, Split};

/// Default number of MiniRocket features (the reference's `num_features = 10_000`).
pub const MINIROCKET_FEATURES: usize = 10_000;
/// The reference's `max_dilations_per_kernel`.
pub const MAX_DILATIONS_PER_KERNEL: usize = 32;

/// A transform with its settings.
#[derive(Debug, Clone, PartialEq)]
pub enum RocketTransform {
    MiniRocket {
        num_features: usize,
        max_dilations_per_kernel: usize,
        bias: BiasMode,
    },
    MultiRocket {
        num_features: usize,
        max_dilations_per_kernel: usize,
        bias: BiasMode,
        first_difference: bool,
    },
    /// Hydra with `k` kernels per group and `g` groups.
    Hydra {
        k: usize,
        g: usize,
        seed: u64,
    },
}

impl RocketTransform {
    /// MiniRocket with the reference's defaults and random biases from `seed`.
    pub fn minirocket(seed: u64) -> RocketTransform {
        RocketTransform::MiniRocket {
            num_features: MINIROCKET_FEATURES,
            max_dilations_per_kernel: MAX_DILATIONS_PER_KERNEL,
            bias: BiasMode::Random { seed },
        }
    }

    /// The same transform with another seed (e.g. one per resample).
    pub fn with_seed(&self, seed: u64) -> RocketTransform {
        let mut t = self.clone();
        match &mut t {
            RocketTransform::MiniRocket { bias, .. } | RocketTransform::MultiRocket { bias, .. } => {
                *bias = match bias {
                    BiasMode::Random { .. } => BiasMode::Random { seed },
                    BiasMode::Deterministic { .. } => BiasMode::Deterministic { seed },
                };
            }
            RocketTransform::Hydra { seed: s, .. } => *s = seed,
        }
        t
    }

    /// A short name for feature columns and messages.
    pub fn name(&self) -> &'static str {
        match self {
            RocketTransform::MiniRocket { .. } => "minirocket",
            RocketTransform::MultiRocket { .. } => "multirocket",
            RocketTransform::Hydra { .. } => "hydra",
        }
    }
}

/// Why a dataset could not be transformed or classified.
#[derive(Debug, thiserror::Error)]
pub enum RocketRunError {
    #[error(transparent)]
    Transform(#[from] RocketError),
    #[error(transparent)]
    Ridge(#[from] RidgeError),
}

/// A fitted transform.
enum Fitted {
    Mini(MiniRocket),
    Multi(MultiRocket),
    Hydra(Hydra),
}

impl Fitted {
    fn width(&self) -> usize {
        match self {
            Fitted::Mini(m) => m.num_features(),
            Fitted::Multi(m) => m.num_features(),
            Fitted::Hydra(m) => m.num_features(),
        }
    }
    fn apply(&self, x: &[f64], n: usize) -> Result<Vec<f32>, RocketError> {
        match self {
            Fitted::Mini(m) => m.transform(x, n),
            Fitted::Multi(m) => m.transform(x, n),
            Fitted::Hydra(m) => m.transform(x, n),
        }
    }
}

fn fit(ds: &Dataset, t: &RocketTransform) -> Result<Fitted, RocketError> {
    let (n, dims, len) = (ds.train.n, ds.train.dims, ds.train.len);
    let x = &ds.train.values;
    Ok(match t {
        RocketTransform::MiniRocket { num_features, max_dilations_per_kernel, bias } => {
            Fitted::Mini(MiniRocket::fit(x, n, dims, len, *num_features, *max_dilations_per_kernel, *bias)?)
        }
        RocketTransform::MultiRocket { num_features, max_dilations_per_kernel, bias, first_difference } => {
            Fitted::Multi(MultiRocket::fit(
                x,
                (n, dims, len),
                *num_features,
                *max_dilations_per_kernel,
                *first_difference,
                *bias,
            )?)
        }
        RocketTransform::Hydra { k, g, seed } => {
            if dims != 1 {
                return Err(RocketError::UnivariateOnly { method: "Hydra", channels: dims });
            }
            Fitted::Hydra(Hydra::new(len, *k, *g, *seed)?)
        }
    })
}

fn same_shape(ds: &Dataset, s: &Split) -> Result<(), RocketError> {
    let fitted = (ds.train.dims, ds.train.len);
    if (s.dims, s.len) != fitted {
        return Err(RocketError::ShapeMismatch { fitted, given: (s.dims, s.len) });
    }
    Ok(())
}

/// Fits the transform on TRAIN and applies it to TRAIN, the validation split and TEST. Hydra's
/// features leave already through its sparse scaler (fitted on TRAIN), as its reference feeds
/// them to the classifier.
pub fn transform_dataset(ds: &Dataset, t: &RocketTransform) -> Result<FeatureTable, RocketRunError> {
    let fitted = fit(ds, t)?;
    let width = fitted.width();
    let features = |s: &Split| -> Result<Vec<f64>, RocketError> {
        same_shape(ds, s)?;
        Ok(fitted.apply(&s.values, s.n)?.into_iter().map(f64::from).collect())
    };
    let mut train = features(&ds.train)?;
    let sparse = matches!(fitted, Fitted::Hydra(_)).then(|| SparseScaler::fit(&train, ds.train.n, width));
    let finish = |mut v: Vec<f64>, s: &Split| {
        if let Some(sc) = &sparse {
            sc.apply(&mut v);
        }
        FeatureRows { n: s.n, width, values: v, labels: s.labels.clone() }
    };
    if let Some(sc) = &sparse {
        sc.apply(&mut train);
    }
    let train = FeatureRows { n: ds.train.n, width, values: train, labels: ds.train.labels.clone() };
    let validation = match &ds.validation {
        Some(v) => Some(finish(features(v)?, v)),
        None => None,
    };
    let test = finish(features(&ds.test)?, &ds.test);
    Ok(FeatureTable {
        dataset: ds.name.clone(),
        classes: ds.classes.clone(),
        names: (0..width).map(|i| format!("{}_{i}", t.name())).collect(),
        train,
        validation,
        test,
    })
}

/// Series of TEST transformed at a time by [`classify_dataset`], bounding its memory.
const TEST_CHUNK: usize = 256;

/// Transform + ridge in one pass, TEST in chunks (the features of TEST are never all held): the
/// same numbers as [`transform_dataset`] followed by [`ridge_on_table`].
pub fn classify_dataset(ds: &Dataset, t: &RocketTransform, alphas: &[f64]) -> Result<RidgeFitPredict, RocketRunError> {
    let start = std::time::Instant::now();
    let fitted = fit(ds, t)?;
    let width = fitted.width();
    let mut train: Vec<f64> = fitted.apply(&ds.train.values, ds.train.n)?.into_iter().map(f64::from).collect();
    // Hydra: its sparse scaler instead of the standard one (the references' pipelines).
    let sparse = matches!(fitted, Fitted::Hydra(_)).then(|| SparseScaler::fit(&train, ds.train.n, width));
    if let Some(sc) = &sparse {
        sc.apply(&mut train);
    }
    let ridge = ScaledRidge::fit_scaled(train, ds.train.n, width, &ds.train.labels, alphas, sparse.is_none())?;
    let fit_time = start.elapsed();
    same_shape(ds, &ds.test)?;
    let w = ds.test.dims * ds.test.len;
    let mut scores = Vec::with_capacity(ds.test.n);
    for chunk in ds.test.values.chunks(TEST_CHUNK * w.max(1)) {
        let n = chunk.len() / w.max(1);
        let mut f: Vec<f64> = fitted.apply(chunk, n)?.into_iter().map(f64::from).collect();
        if let Some(sc) = &sparse {
            sc.apply(&mut f);
        }
        scores.extend(ridge.decision(f)?);
    }
    let predicted = scores.iter().map(|d| ridge.model.class_of(d)).collect();
    let predict_time = start.elapsed() - fit_time;
    Ok(RidgeFitPredict { model: ridge.model, predicted, scores, fit_time, predict_time })
}

/// The ridge classifier of the ROCKET papers on a feature table: TRAIN-scaled (unless
/// `standardise` is false), penalty by leave-one-out, predicting TEST.
pub fn ridge_on_table(t: &FeatureTable, alphas: &[f64], standardise: bool) -> Result<RidgeFitPredict, RidgeError> {
    let start = std::time::Instant::now();
    let fitted = ScaledRidge::fit_scaled(
        t.train.values.clone(),
        t.train.n,
        t.train.width,
        &t.train.labels,
        alphas,
        standardise,
    )?;
    let fit_time = start.elapsed();
    let scores = fitted.decision(t.test.values.clone())?;
    let predicted = scores.iter().map(|d| fitted.model.class_of(d)).collect();
    Ok(RidgeFitPredict { model: fitted.model, predicted, scores, fit_time, predict_time: start.elapsed() - fit_time })
}

/// Per-class scores from the ridge decision values: `(−d, d)` for two classes (the second class
/// is positive), the decision values themselves otherwise.
pub fn class_scores(r: &RidgeFitPredict, n_classes: usize) -> Vec<Vec<f64>> {
    r.scores
        .iter()
        .map(|d| {
            // A class absent from TRAIN gets the lowest finite score (JSON has no infinity).
            let mut s = vec![f64::MIN; n_classes];
            if r.model.targets == 1 {
                let c = &r.model.classes;
                if let Some(&c0) = c.first() {
                    s[c0] = -d[0];
                }
                if let Some(&c1) = c.get(1) {
                    s[c1] = d[0];
                }
            } else {
                for (j, &c) in r.model.classes.iter().enumerate() {
                    s[c] = d[j];
                }
            }
            s
        })
        .collect()
}
