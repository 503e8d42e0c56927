//! `features_classify`: a linear SVM, an RBF SVM or a random forest on a `features` table,
//! standardised on TRAIN, predicting TEST in the format `evaluate` reads; or the ROCKET family's
//! ridge classifier (`ridge_cv`) on a `transform` table.

use super::artifact::{PREDICTIONS_FILE, Predictions, write_json};
use super::features::{FEATURES_FILE, read_features};
use super::kind::{Params, StageContext, StageError, StageKind};
use super::rocket_classify::ridge_record;
use super::spec::{InputSpec, OutputSpec, ParamSpec, ParamType};
use crate::classic::feature_models::{Classifier, DEFAULT_SVM_EPOCHS, fit_predict};
use crate::classic::ridge::default_alphas;
use crate::classic::rocket::{class_scores, ridge_on_table};

pub struct FeaturesClassify;

const CLASSIFIERS: &[&str] = &["linear_svm", "rbf_svm", "random_forest", "ridge_cv"];

/// The ridge penalties of the parameters: `alphas` if given, else `logspace(-3, 3, 10)`.
pub fn ridge_alphas(p: &Params) -> Result<Vec<f64>, StageError> {
    let bad = || StageError::param("alphas", "a non-empty array of positive numbers");
    match p.get("alphas") {
        None => Ok(default_alphas()),
        Some(v) => {
            let a: Vec<f64> =
                v.as_array().ok_or_else(bad)?.iter().map(|x| x.as_f64().ok_or_else(bad)).collect::<Result<_, _>>()?;
            if a.is_empty() || a.iter().any(|x| !(*x > 0.0 && x.is_finite())) {
                return Err(bad());
            }
            Ok(a)
        }
    }
}

fn positive(p: &Params, name: &'static str) -> Result<f64, StageError> {
    let v = p.f64(name)?;
    if v > 0.0 && v.is_finite() { Ok(v) } else { Err(StageError::param(name, "a positive number")) }
}

fn opt_usize(p: &Params, name: &'static str) -> Result<Option<usize>, StageError> {
    match p.get(name) {
        None => Ok(None),
        Some(_) => match p.usize(name)? {
            0 => Err(StageError::param(name, "a positive integer")),
            v => Ok(Some(v)),
        },
    }
}

fn epochs(p: &Params) -> Result<usize, StageError> {
    match p.usize("epochs")? {
        0 => Err(StageError::param("epochs", "a positive integer")),
        e => Ok(e),
    }
}

/// The classifier a stage's parameters describe.
pub fn classifier(p: &Params) -> Result<Classifier, StageError> {
    Ok(match p.str("classifier")? {
        "linear_svm" => Classifier::LinearSvm { c: positive(p, "c")?, epochs: epochs(p)?, seed: p.i64("seed")? as u64 },
        "ridge_cv" => return Err(StageError::failed("ridge_cv is not a smartcore classifier")),
        "rbf_svm" => Classifier::RbfSvm {
            c: positive(p, "c")?,
            gamma: if p.get("gamma").is_some() { Some(positive(p, "gamma")?) } else { None },
            epochs: epochs(p)?,
            seed: p.i64("seed")? as u64,
        },
        _ => {
            let trees = u16::try_from(p.usize("trees")?)
                .ok()
                .filter(|&t| t > 0)
                .ok_or_else(|| StageError::param("trees", "an integer in 1..=65535"))?;
            let max_depth = opt_usize(p, "max_depth")?
                .map(|d| u16::try_from(d).map_err(|_| StageError::param("max_depth", "at most 65535")))
                .transpose()?;
            Classifier::RandomForest {
                trees,
                max_depth,
                max_features: opt_usize(p, "max_features")?,
                seed: p.i64("seed")? as u64,
            }
        }
    })
}

impl StageKind for FeaturesClassify {
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
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::required("classifier", ParamType::Enum(CLASSIFIERS), "which classifier"),
            ParamSpec::with_default("c", ParamType::Float, 1.0, "SVM regularisation C"),
            ParamSpec::optional(
                "gamma",
                ParamType::Float,
                "RBF width γ in exp(−γ‖x−x'‖²); absent = scikit-learn's \"scale\", 1 / (features · Var(X_train))",
            ),
            ParamSpec::with_default("trees", ParamType::Int, 50, "random forest: number of trees"),
            ParamSpec::optional("max_depth", ParamType::Int, "random forest: maximum tree depth (absent = unlimited)"),
            ParamSpec::optional(
                "max_features",
                ParamType::Int,
                "random forest: features tried per split (absent = ⌊√features⌋)",
            ),
            ParamSpec::with_default(
                "epochs",
                ParamType::Int,
                DEFAULT_SVM_EPOCHS as i64,
                "SVM: passes of smartcore's solver over the training rows",
            ),
            ParamSpec::with_default(
                "seed",
                ParamType::Int,
                0,
                "seed of the SVM solver's visiting order, or of the forest's bootstraps and splits",
            ),
            ParamSpec::optional(
                "alphas",
                ParamType::List(Box::new(ParamType::Float)),
                "ridge_cv: penalties searched by leave-one-out (absent = logspace(-3, 3, 10))",
            ),
            ParamSpec::optional(
                "standardise",
                ParamType::Bool,
                "ridge_cv: divide each feature by its TRAIN sd first (absent = true; Hydra's features arrive scaled)",
            ),
            ParamSpec::with_default("label", ParamType::Str, "${stage}", "the method name in results tables"),
        ]
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "features", required: true, gather: false, doc: "a `features` table" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(PREDICTIONS_FILE, "test predictions and per-class scores"),
            OutputSpec::file(RIDGE_FILE, "ridge_cv: the chosen penalty and the leave-one-out error of each").optional(),
        ]
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), String> {
        // Keep each classifier's key free of the others' settings.
        let drop: &[&str] = match p.opt_str("classifier") {
            Some("linear_svm") => &["gamma", "trees", "max_depth", "max_features", "alphas", "standardise"],
            Some("rbf_svm") => &["trees", "max_depth", "max_features", "alphas", "standardise"],
            Some("random_forest") => &["c", "gamma", "epochs", "alphas", "standardise"],
            Some("ridge_cv") => &["c", "gamma", "epochs", "seed", "trees", "max_depth", "max_features"],
            _ => &[],
        };
        for k in drop {
            p.0.remove(*k);
        }
        Ok(())
    }
    fn run(&self, ctx: &StageContext<'_>) -> Result<(), StageError> {
        if ctx.params.str("classifier")? == "ridge_cv" {
            return run_ridge(ctx);
        }
        let model = classifier(ctx.params)?;
        let t = read_features(ctx.input("features")?.file(FEATURES_FILE)?)?;
        ctx.report(None, format!("{} training rows × {} features", t.train.n, t.train.width));
        let r = fit_predict(&t.train, &t.test, t.classes.len(), &model)
            .map_err(|e| StageError::failed(format!("{}: {e}", t.dataset)))?;
        let protocol = format!("fit on TRAIN (standardised on TRAIN), seed {}", ctx.params.i64("seed")?);
        let preds = Predictions {
            dataset: t.dataset.clone(),
            method: ctx.params.str("label")?.to_string(),
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

/// `ridge_cv`: StandardScaler(with_mean=False) + RidgeClassifierCV on the table (no further
/// standardisation: the scaler is the reference pipeline's).
fn run_ridge(ctx: &StageContext<'_>) -> Result<(), StageError> {
    let alphas = ridge_alphas(ctx.params)?;
    let t = read_features(ctx.input("features")?.file(FEATURES_FILE)?)?;
    ctx.report(None, format!("{} training rows × {} features", t.train.n, t.train.width));
    let standardise = ctx.params.get("standardise").and_then(serde_json::Value::as_bool).unwrap_or(true);
    let r = ridge_on_table(&t, &alphas, standardise).map_err(|e| StageError::failed(format!("{}: {e}", t.dataset)))?;
    write_json(&ctx.output(RIDGE_FILE), &ridge_record(&r.model, &alphas))?;
    let preds = Predictions {
        dataset: t.dataset.clone(),
        method: ctx.params.str("label")?.to_string(),
        protocol: format!("fit on TRAIN; ridge penalty {} chosen by leave-one-out on TRAIN", r.model.alpha),
        classes: t.classes.clone(),
        truth: t.test.labels.clone(),
        predicted: r.predicted.clone(),
        scores: Some(class_scores(&r, t.classes.len())),
        selection_loss: Some(-r.model.scores[r.model.alpha_index]),
    };
    write_json(&ctx.output(PREDICTIONS_FILE), &preds)
}

/// The ridge selection record (`ridge_cv` only).
const RIDGE_FILE: &str = "ridge.json";
