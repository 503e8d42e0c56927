//! `features_classify`: a linear SVM, an RBF SVM or a random forest on a `features` table,
//! standardised on TRAIN, predicting TEST in the format `evaluate` reads; or the ROCKET family's
//! ridge classifier (`ridge_cv`) on a `transform` table.

use super::artifact::{PREDICTIONS_FILE, Predictions, TIMING_FILE, Timing, timing_output, write_json};
use super::features::{FEATURE_TABLE_FILE, read_features};
use super::kind::{Params, StageContext, StageError, TypedStage};
use super::params::StageParams;
use super::spec::{InputSpec, OutputSpec};
use crate::classic::feature_file::{Reader, is_f32_file};
use crate::classic::feature_models::{Classifier, DEFAULT_SVM_EPOCHS, fit_predict};
use crate::classic::features::FeatureTable;
use crate::classic::ridge::{ALPHAS_EXPECTED, alphas_or_default};
use crate::classic::rocket::{class_scores, ridge_on_file, ridge_on_table};
use crate::param_name;

pub struct FeaturesClassify;

const CLASSIFIERS: &[&str] = &["linear_svm", "rbf_svm", "random_forest", "ridge_cv"];

/// The ridge selection record (`ridge_cv` only).
const RIDGE_FILE: &str = "ridge.json";

crate::stage_params! {
    /// Parameters of `features_classify`.
    pub struct FeaturesClassifyParams {
        /// which classifier
        pub classifier: String [Enum(CLASSIFIERS)],
        /// SVM regularisation C
        pub c: f64 [Float = 1.0],
        /// RBF width γ in exp(−γ‖x−x'‖²); absent = scikit-learn's "scale", 1 / (features · Var(X_train))
        pub gamma: Option<f64> [Float, optional],
        /// random forest: number of trees
        pub trees: usize [Int = 50],
        /// random forest: maximum tree depth (absent = unlimited)
        pub max_depth: Option<usize> [Int, optional],
        /// random forest: features tried per split (absent = ⌊√features⌋)
        pub max_features: Option<usize> [Int, optional],
        /// SVM: passes of smartcore's solver over the training rows
        pub epochs: usize [Int = DEFAULT_SVM_EPOCHS as i64],
        /// seed of the SVM solver's visiting order, or of the forest's bootstraps and splits
        pub seed: i64 [Int = 0],
        /// ridge_cv: penalties searched by leave-one-out (absent = logspace(-3, 3, 10))
        pub alphas: Option<Vec<f64>> [List(Float), optional],
        /// ridge_cv: divide each feature by its TRAIN sd first (absent = true, except for a transform's Hydra or MR-Hydra features, which arrive scaled)
        pub standardise: Option<bool> [Bool, optional],
        /// the method name in results tables
        pub label: String [Str = "${stage}"],
    }
}

fn positive(v: f64, name: &'static str) -> Result<f64, StageError> {
    if v > 0.0 && v.is_finite() { Ok(v) } else { Err(StageError::param(name, "a positive number")) }
}

fn nonzero(v: Option<usize>, name: &'static str) -> Result<Option<usize>, StageError> {
    match v {
        Some(0) => Err(StageError::param(name, "a positive integer")),
        v => Ok(v),
    }
}

fn epochs(p: &FeaturesClassifyParams) -> Result<usize, StageError> {
    match p.epochs {
        0 => Err(StageError::param(param_name!(FeaturesClassifyParams, epochs), "a positive integer")),
        e => Ok(e),
    }
}

/// The classifier a stage's parameters describe.
pub fn classifier(p: &FeaturesClassifyParams) -> Result<Classifier, StageError> {
    type P = FeaturesClassifyParams;
    let seed = p.seed as u64;
    Ok(match p.classifier.as_str() {
        "linear_svm" => Classifier::LinearSvm { c: positive(p.c, param_name!(P, c))?, epochs: epochs(p)?, seed },
        "ridge_cv" => return Err(StageError::failed("ridge_cv is not a smartcore classifier")),
        "rbf_svm" => Classifier::RbfSvm {
            c: positive(p.c, param_name!(P, c))?,
            gamma: p.gamma.map(|g| positive(g, param_name!(P, gamma))).transpose()?,
            epochs: epochs(p)?,
            seed,
        },
        _ => {
            let trees = u16::try_from(p.trees)
                .ok()
                .filter(|&t| t > 0)
                .ok_or_else(|| StageError::param(param_name!(P, trees), "an integer in 1..=65535"))?;
            let max_depth = nonzero(p.max_depth, param_name!(P, max_depth))?
                .map(|d| u16::try_from(d).map_err(|_| StageError::param(param_name!(P, max_depth), "at most 65535")))
                .transpose()?;
            Classifier::RandomForest {
                trees,
                max_depth,
                max_features: nonzero(p.max_features, param_name!(P, max_features))?,
                seed,
            }
        }
    })
}

impl TypedStage for FeaturesClassify {
    type Params = FeaturesClassifyParams;
    fn resources(&self, _: &FeaturesClassifyParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::CLASSIC
    }
    fn name(&self) -> &'static str {
        "features_classify"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Linear SVM, RBF SVM (one-vs-one) or random forest (smartcore) on a feature table, \
         standardised on TRAIN, predicting TEST; or RidgeClassifierCV (ridge_cv) as the ROCKET family uses it"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "features", required: true, gather: false, doc: "a `features` table" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(PREDICTIONS_FILE, "test predictions and per-class scores"),
            OutputSpec::file(RIDGE_FILE, "ridge_cv: the chosen penalty and the leave-one-out error of each").optional(),
            timing_output(),
        ]
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), StageError> {
        // Keep each classifier's key free of the others' settings.
        type P = FeaturesClassifyParams;
        let (c, gamma, epochs) = (param_name!(P, c), param_name!(P, gamma), param_name!(P, epochs));
        let (trees, max_depth, max_features) =
            (param_name!(P, trees), param_name!(P, max_depth), param_name!(P, max_features));
        let (alphas, standardise, seed) = (param_name!(P, alphas), param_name!(P, standardise), param_name!(P, seed));
        let drop: &[&str] = match P::from_params(p)?.classifier.as_str() {
            "linear_svm" => &[gamma, trees, max_depth, max_features, alphas, standardise],
            "rbf_svm" => &[trees, max_depth, max_features, alphas, standardise],
            "random_forest" => &[c, gamma, epochs, alphas, standardise],
            "ridge_cv" => &[c, gamma, epochs, seed, trees, max_depth, max_features],
            _ => &[],
        };
        for k in drop {
            p.0.remove(*k);
        }
        Ok(())
    }
    fn run(&self, ctx: &StageContext<'_>, p: &FeaturesClassifyParams) -> Result<(), StageError> {
        if p.classifier == "ridge_cv" {
            return run_ridge(ctx, p);
        }
        let model = classifier(p)?;
        let t = read_table(ctx.input("features")?.file(FEATURE_TABLE_FILE)?)?;
        ctx.report(None, format!("{} training rows × {} features", t.train.n, t.train.width));
        let r = fit_predict(&t.train, &t.test, t.classes.len(), &model)
            .map_err(|e| StageError::failed(format!("{}: {e}", t.dataset)))?;
        let protocol = format!("fit on TRAIN (standardised on TRAIN), seed {}", p.seed);
        let preds = Predictions {
            dataset: t.dataset.clone(),
            method: p.label.clone(),
            protocol,
            classes: t.classes.clone(),
            truth: t.test.labels.clone(),
            predicted: r.predicted,
            scores: Some(r.scores),
            selection_loss: None,
        };
        write_json(&ctx.output(PREDICTIONS_FILE), &preds)
    }
}

/// A `features` table (postcard, f64) or a `transform` one (f32 rows), as an f64 table.
fn read_table(path: &std::path::Path) -> Result<FeatureTable, StageError> {
    let failed = |e: crate::classic::feature_file::FeatureFileError| StageError::failed(e.to_string());
    if is_f32_file(path).map_err(failed)? {
        return Reader::open(path).and_then(Reader::table64).map_err(failed);
    }
    read_features(path)
}

/// `ridge_cv`: StandardScaler(with_mean=False) + RidgeClassifierCV on the table (no further
/// standardisation: the scaler is the reference pipeline's). A `transform` table is read a chunk
/// of TEST rows at a time.
fn run_ridge(ctx: &StageContext<'_>, p: &FeaturesClassifyParams) -> Result<(), StageError> {
    let alphas = alphas_or_default(p.alphas.as_deref())
        .map_err(|_| StageError::param(param_name!(FeaturesClassifyParams, alphas), ALPHAS_EXPECTED))?;
    let path = ctx.input("features")?.file(FEATURE_TABLE_FILE)?;
    let failed = |e: &dyn std::fmt::Display| StageError::failed(format!("{}: {e}", path.display()));
    let (dataset, classes, truth, r) = if is_f32_file(path).map_err(|e| failed(&e))? {
        let h = Reader::open(path).map_err(|e| failed(&e))?.header;
        let truth = h.split("test").map(|s| s.labels.clone()).unwrap_or_default();
        ctx.report(None, format!("{} features, TEST streamed", h.names.len()));
        let r = ridge_on_file(path, &alphas, p.standardise.unwrap_or(!h.prescaled)).map_err(|e| failed(&e))?;
        (h.dataset, h.classes, truth, r)
    } else {
        let t = read_features(path)?;
        ctx.report(None, format!("{} training rows × {} features", t.train.n, t.train.width));
        let r = ridge_on_table(&t, &alphas, p.standardise.unwrap_or(true)).map_err(|e| failed(&e))?;
        (t.dataset, t.classes, t.test.labels, r)
    };
    write_json(&ctx.output(RIDGE_FILE), &r.model.record(&alphas))?;
    let preds = Predictions {
        dataset,
        method: p.label.clone(),
        protocol: format!("fit on TRAIN; ridge penalty {} chosen by leave-one-out on TRAIN", r.model.alpha),
        scores: Some(class_scores(&r, classes.len())),
        classes,
        truth,
        predicted: r.predicted.clone(),
        selection_loss: Some(-r.model.scores[r.model.alpha_index]),
    };
    // the features were made upstream: this is the ridge's own fit, not the pipeline's
    write_json(&ctx.output(TIMING_FILE), &Timing::new(Some(r.fit_time), Some(r.predict_time)))?;
    write_json(&ctx.output(PREDICTIONS_FILE), &preds)
}
