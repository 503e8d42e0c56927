//! The ROCKET-family transforms on a whole dataset: fitted on TRAIN, applied to every split,
//! producing the feature table the ridge classifier (or any `features_classify` classifier) reads;
//! and each method's own classifier on them (the ridge; QUANT's extremely randomised trees).

use std::path::Path;

use super::extra_trees::{ExtraTrees, ExtraTreesParams, TreeError, argmax};
use super::feature_file::{FeatureFileError, Header, Reader, SplitHeader, Writer};
use super::features::FeatureTable;
use super::hydra::{Hydra, SparseScaler};
use super::minirocket::{BiasMode, MiniRocket, RocketError};
use super::multirocket::MultiRocket;
use super::quant::Quant;
use super::random_kernels::Rocket;
use super::ridge::{RidgeError, RidgeFitPredict, ScaledRidge, Scaler};
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
    /// ROCKET's random kernels (PPV and max of each), on z-normalised series if `normalise`.
    Rocket {
        num_kernels: usize,
        normalise: bool,
        seed: u64,
    },
    /// MultiRocket-Hydra: Hydra's features (sparse-scaled) beside MultiRocket's (standardised).
    MrHydra {
        k: usize,
        g: usize,
        num_features: usize,
        max_dilations_per_kernel: usize,
        bias: BiasMode,
        first_difference: bool,
    },
    /// QUANT's interval quantiles (no randomness).
    Quant {
        depth: usize,
        divisor: usize,
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
            RocketTransform::MiniRocket { bias, .. }
            | RocketTransform::MultiRocket { bias, .. }
            | RocketTransform::MrHydra { bias, .. } => {
                *bias = match bias {
                    BiasMode::Random { .. } => BiasMode::Random { seed },
                    BiasMode::Deterministic { .. } => BiasMode::Deterministic { seed },
                };
            }
            RocketTransform::Hydra { seed: s, .. } | RocketTransform::Rocket { seed: s, .. } => *s = seed,
            RocketTransform::Quant { .. } => {}
        }
        t
    }

    /// A short name for feature columns and messages.
    pub fn name(&self) -> &'static str {
        match self {
            RocketTransform::MiniRocket { .. } => "minirocket",
            RocketTransform::MultiRocket { .. } => "multirocket",
            RocketTransform::Hydra { .. } => "hydra",
            RocketTransform::Rocket { .. } => "rocket",
            RocketTransform::MrHydra { .. } => "mr_hydra",
            RocketTransform::Quant { .. } => "quant",
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
    #[error(transparent)]
    Trees(#[from] TreeError),
    #[error(transparent)]
    File(#[from] FeatureFileError),
}

/// A fitted transform.
enum Fitted {
    Mini(MiniRocket),
    Multi(MultiRocket),
    Hydra(Hydra),
    Rocket(Rocket),
    MrHydra(Hydra, MultiRocket),
    Quant(Quant),
}

impl Fitted {
    fn width(&self) -> usize {
        match self {
            Fitted::Mini(m) => m.num_features(),
            Fitted::Multi(m) => m.num_features(),
            Fitted::Hydra(m) => m.num_features(),
            Fitted::Rocket(m) => m.num_features(),
            Fitted::MrHydra(h, m) => h.num_features() + m.num_features(),
            Fitted::Quant(m) => m.num_features(),
        }
    }
    fn apply(&self, x: &[f64], n: usize) -> Result<Vec<f32>, RocketError> {
        match self {
            Fitted::Mini(m) => m.transform(x, n),
            Fitted::Multi(m) => m.transform(x, n),
            Fitted::Hydra(m) => m.transform(x, n),
            Fitted::Rocket(m) => m.transform(x, n),
            Fitted::Quant(m) => m.transform(x, n),
            Fitted::MrHydra(h, m) => {
                let (a, b) = (h.transform(x, n)?, m.transform(x, n)?);
                let (wa, wb) = (h.num_features(), m.num_features());
                let mut out = Vec::with_capacity(n * (wa + wb));
                for i in 0..n {
                    out.extend_from_slice(&a[i * wa..(i + 1) * wa]);
                    out.extend_from_slice(&b[i * wb..(i + 1) * wb]);
                }
                Ok(out)
            }
        }
    }
    /// [`Fitted::apply`] in `f64`.
    fn apply64(&self, x: &[f64], n: usize) -> Result<Vec<f64>, RocketError> {
        Ok(self.apply(x, n)?.into_iter().map(f64::from).collect())
    }
}

fn univariate(method: &'static str, dims: usize) -> Result<(), RocketError> {
    if dims != 1 {
        return Err(RocketError::UnivariateOnly { method, channels: dims });
    }
    Ok(())
}

fn fit(ds: &Dataset, t: &RocketTransform) -> Result<Fitted, RocketError> {
    let (n, dims, len) = (ds.train.n, ds.train.dims, ds.train.len);
    let x = &ds.train.values;
    if n == 0 {
        return Err(RocketError::EmptyTrain);
    }
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
            univariate("Hydra", dims)?;
            Fitted::Hydra(Hydra::new(len, *k, *g, *seed)?)
        }
        RocketTransform::Rocket { num_kernels, normalise, seed } => {
            Fitted::Rocket(Rocket::generate(dims, len, *num_kernels, *normalise, *seed)?)
        }
        RocketTransform::MrHydra { k, g, num_features, max_dilations_per_kernel, bias, first_difference } => {
            univariate("MultiRocket-Hydra", dims)?;
            let seed = match bias {
                BiasMode::Random { seed } | BiasMode::Deterministic { seed } => *seed,
            };
            let hydra = Hydra::new(len, *k, *g, seed)?;
            let multi = MultiRocket::fit(
                x,
                (n, dims, len),
                *num_features,
                *max_dilations_per_kernel,
                *first_difference,
                *bias,
            )?;
            Fitted::MrHydra(hydra, multi)
        }
        RocketTransform::Quant { depth, divisor } => Fitted::Quant(Quant::fit(dims, len, *depth, *divisor)?),
    })
}

/// What the reference does to the features between the transform and the ridge, fitted on
/// TRAIN: nothing here (the ridge standardises), Hydra's sparse scaler, or for MultiRocket-Hydra
/// the sparse scaler on Hydra's block and `StandardScaler` on MultiRocket's.
enum Post {
    None,
    Sparse(SparseScaler),
    Split { hydra: usize, sparse: SparseScaler, scaler: Scaler },
}

impl Post {
    fn fit(f: &Fitted, train: &[f64], n: usize) -> Post {
        let width = f.width();
        match f {
            Fitted::Hydra(_) => Post::Sparse(SparseScaler::fit(train, n, width)),
            Fitted::MrHydra(h, _) => {
                let hydra = h.num_features();
                let (mut a, mut b) = (Vec::with_capacity(n * hydra), Vec::with_capacity(n * (width - hydra)));
                for row in train.chunks(width) {
                    a.extend_from_slice(&row[..hydra]);
                    b.extend_from_slice(&row[hydra..]);
                }
                Post::Split {
                    hydra,
                    sparse: SparseScaler::fit(&a, n, hydra),
                    scaler: Scaler::fit(&b, n, width - hydra),
                }
            }
            _ => Post::None,
        }
    }

    /// Rows of the transform's width, in place.
    fn apply(&self, rows: &mut [f64]) {
        match self {
            Post::None => {}
            Post::Sparse(s) => s.apply(rows),
            Post::Split { hydra, sparse, scaler } => {
                let width = hydra + scaler.scale.len();
                for row in rows.chunks_mut(width) {
                    let (a, b) = row.split_at_mut(*hydra);
                    sparse.apply(a);
                    scaler.apply(b);
                }
            }
        }
    }

    /// Whether the ridge still standardises (the features arrive unscaled).
    fn standardise(&self) -> bool {
        matches!(self, Post::None)
    }
}

fn same_shape(ds: &Dataset, s: &Split) -> Result<(), RocketError> {
    let fitted = (ds.train.dims, ds.train.len);
    if (s.dims, s.len) != fitted {
        return Err(RocketError::ShapeMismatch { fitted, given: (s.dims, s.len) });
    }
    Ok(())
}

/// Fits the transform on TRAIN and writes its features of TRAIN, the validation split and TEST
/// to an `f32` feature file ([`super::feature_file`]), TEST a chunk of series at a time. Hydra's
/// features leave already through its sparse scaler (fitted on TRAIN), as its reference feeds
/// them to the classifier; MultiRocket-Hydra's through both its scalers. Returns the width.
pub fn transform_to_file(ds: &Dataset, t: &RocketTransform, path: &Path) -> Result<usize, RocketRunError> {
    let fitted = fit(ds, t)?;
    let width = fitted.width();
    let splits: Vec<(&str, &Split)> =
        [("train", Some(&ds.train)), ("validation", ds.validation.as_ref()), ("test", Some(&ds.test))]
            .into_iter()
            .filter_map(|(name, s)| s.map(|s| (name, s)))
            .collect();
    let header = Header {
        dataset: ds.name.clone(),
        classes: ds.classes.clone(),
        names: (0..width).map(|i| format!("{}_{i}", t.name())).collect(),
        prescaled: matches!(fitted, Fitted::Hydra(_) | Fitted::MrHydra(..)),
        splits: splits
            .iter()
            .map(|(name, s)| SplitHeader { name: name.to_string(), n: s.n, width, labels: s.labels.clone() })
            .collect(),
    };
    let mut out = Writer::create(path, header)?;
    let mut train = fitted.apply64(&ds.train.values, ds.train.n)?;
    let post = Post::fit(&fitted, &train, ds.train.n);
    post.apply(&mut train);
    out.rows(&train.iter().map(|v| *v as f32).collect::<Vec<_>>())?;
    drop(train);
    for (_, s) in &splits[1..] {
        same_shape(ds, s)?;
        let w = (s.dims * s.len).max(1);
        for chunk in s.values.chunks(TEST_CHUNK * w) {
            let n = chunk.len() / w;
            if matches!(post, Post::None) {
                out.rows(&fitted.apply(chunk, n)?)?;
            } else {
                let mut f = fitted.apply64(chunk, n)?;
                post.apply(&mut f);
                out.rows(&f.iter().map(|v| *v as f32).collect::<Vec<_>>())?;
            }
        }
    }
    out.finish()?;
    Ok(width)
}

/// [`ridge_on_table`] on an `f32` feature file, TEST read and predicted a chunk at a time.
pub fn ridge_on_file(path: &Path, alphas: &[f64], standardise: bool) -> Result<RidgeFitPredict, RocketRunError> {
    let start = std::time::Instant::now();
    let mut file = Reader::open(path)?;
    let train = file.rows64("train")?;
    let fitted = ScaledRidge::fit_scaled(train.values, train.n, train.width, &train.labels, alphas, standardise)?;
    let fit_time = start.elapsed();
    let (mut scores, mut failed) = (Vec::new(), None);
    file.for_each_chunk("test", TEST_CHUNK, |rows, _| {
        match fitted.decision(rows.iter().map(|v| f64::from(*v)).collect()) {
            Ok(d) => scores.extend(d),
            Err(e) => failed = Some(e),
        }
        Ok(())
    })?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    let predicted = scores.iter().map(|d| fitted.model.class_of(d)).collect();
    Ok(RidgeFitPredict { model: fitted.model, predicted, scores, fit_time, predict_time: start.elapsed() - fit_time })
}

/// Series of TEST transformed at a time by [`classify_dataset`], bounding its memory.
const TEST_CHUNK: usize = 256;

/// TEST in chunks of [`TEST_CHUNK`] series.
fn test_chunks(ds: &Dataset) -> Result<impl Iterator<Item = (&[f64], usize)>, RocketError> {
    same_shape(ds, &ds.test)?;
    let w = (ds.test.dims * ds.test.len).max(1);
    Ok(ds.test.values.chunks(TEST_CHUNK * w).map(move |c| (c, c.len() / w)))
}

/// Transform + ridge in one pass, TEST in chunks (the features of TEST are never all held): the
/// same numbers as [`transform_to_file`] followed by [`ridge_on_file`] (bit for bit where the
/// features are `f32` already, i.e. all but Hydra's and MultiRocket-Hydra's scaled ones).
pub fn classify_dataset(ds: &Dataset, t: &RocketTransform, alphas: &[f64]) -> Result<RidgeFitPredict, RocketRunError> {
    let start = std::time::Instant::now();
    let fitted = fit(ds, t)?;
    let width = fitted.width();
    let mut train = fitted.apply64(&ds.train.values, ds.train.n)?;
    let post = Post::fit(&fitted, &train, ds.train.n);
    post.apply(&mut train);
    let ridge = ScaledRidge::fit_scaled(train, ds.train.n, width, &ds.train.labels, alphas, post.standardise())?;
    let fit_time = start.elapsed();
    let mut scores = Vec::with_capacity(ds.test.n);
    for (chunk, n) in test_chunks(ds)? {
        let mut f = fitted.apply64(chunk, n)?;
        post.apply(&mut f);
        scores.extend(ridge.decision(f)?);
    }
    let predicted = scores.iter().map(|d| ridge.model.class_of(d)).collect();
    let predict_time = start.elapsed() - fit_time;
    Ok(RidgeFitPredict { model: ridge.model, predicted, scores, fit_time, predict_time })
}

/// A forest's predictions of TEST.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestFitPredict {
    pub predicted: Vec<usize>,
    /// Class proportions per test row, one per class of the dataset.
    pub proba: Vec<Vec<f64>>,
    pub fit_time: std::time::Duration,
    pub predict_time: std::time::Duration,
}

/// A transform (QUANT's, or any other) + extremely randomised trees, TEST in chunks.
pub fn forest_dataset(
    ds: &Dataset,
    t: &RocketTransform,
    params: &ExtraTreesParams,
) -> Result<ForestFitPredict, RocketRunError> {
    let start = std::time::Instant::now();
    let fitted = fit(ds, t)?;
    let width = fitted.width();
    let train = fitted.apply(&ds.train.values, ds.train.n)?;
    let forest = ExtraTrees::fit(&train, ds.train.n, width, &ds.train.labels, ds.classes.len(), params)?;
    drop(train);
    let fit_time = start.elapsed();
    let mut proba = Vec::with_capacity(ds.test.n);
    for (chunk, n) in test_chunks(ds)? {
        proba.extend(forest.predict_proba_rows(&fitted.apply(chunk, n)?)?);
    }
    let predicted = proba.iter().map(|p| argmax(p)).collect();
    Ok(ForestFitPredict { predicted, proba, fit_time, predict_time: start.elapsed() - fit_time })
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
