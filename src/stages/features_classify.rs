//! `features_classify`: a linear SVM, an RBF SVM or a random forest on a `features` table,
//! standardised on TRAIN, predicting TEST in the format `evaluate` reads.

use super::artifact::{PREDICTIONS_FILE, Predictions, write_json};
use super::features::{FEATURE_TABLE_FILE, read_features};
use super::kind::{Params, StageContext, StageError, TypedStage};
use super::params::StageParams;
use super::spec::{InputSpec, OutputSpec};
use crate::classic::feature_models::{Classifier, DEFAULT_SVM_EPOCHS, fit_predict};
use crate::param_name;

pub struct FeaturesClassify;

const CLASSIFIERS: &[&str] = &["linear_svm", "rbf_svm", "random_forest"];

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
    fn name(&self) -> &'static str {
        "features_classify"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Linear SVM, RBF SVM (one-vs-one) or random forest (smartcore) on a feature table, \
         standardised on TRAIN, predicting TEST"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "features", required: true, gather: false, doc: "a `features` table" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![OutputSpec::file(PREDICTIONS_FILE, "test predictions and per-class scores")]
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), StageError> {
        // Keep each classifier's key free of the others' settings.
        type P = FeaturesClassifyParams;
        let (c, gamma, epochs) = (param_name!(P, c), param_name!(P, gamma), param_name!(P, epochs));
        let (trees, max_depth, max_features) =
            (param_name!(P, trees), param_name!(P, max_depth), param_name!(P, max_features));
        let drop: &[&str] = match P::from_params(p)?.classifier.as_str() {
            "linear_svm" => &[gamma, trees, max_depth, max_features],
            "rbf_svm" => &[trees, max_depth, max_features],
            "random_forest" => &[c, gamma, epochs],
            _ => &[],
        };
        for k in drop {
            p.0.remove(*k);
        }
        Ok(())
    }
    fn run(&self, ctx: &StageContext<'_>, p: &FeaturesClassifyParams) -> Result<(), StageError> {
        let model = classifier(p)?;
        let t = read_features(ctx.input("features")?.file(FEATURE_TABLE_FILE)?)?;
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
