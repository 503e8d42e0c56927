//! `rocket_classify`: a ROCKET-family transform and the ridge classifier in one stage, predicting
//! TEST (what the `protocols/minirocket` fragment runs), or QUANT's transform and its extremely
//! randomised trees (`protocols/quant`). For the ridge, the same two steps as a `transform` stage
//! feeding `features_classify` with `classifier = "ridge_cv"`, which caches the features between
//! them; this kind keeps the fragment a single stage that takes a dataset.

use super::artifact::{
    DATASET_FILE, PREDICTIONS_FILE, Predictions, TIMING_FILE, Timing, read_dataset, timing_output, write_json,
};
use super::kind::{Params, StageContext, StageError, TypedStage};
use super::params::StageParams;
use super::spec::{InputSpec, OutputSpec};
use super::transform::{TransformParams, canonicalize_transform, transform_from_params};
use crate::classic::extra_trees::ExtraTreesParams;
use crate::classic::ridge::{ALPHAS_EXPECTED, alphas_or_default};
use crate::classic::rocket::{class_scores, classify_dataset, forest_dataset};
use crate::data::Dataset;
use crate::param_name;

pub struct RocketClassify;

crate::stage_params! {
    /// Parameters of `rocket_classify`: the transform's, the classifier's and the label.
    pub struct RocketClassifyParams {
        pub transform: TransformParams [include],
        /// ridge penalties searched by leave-one-out (absent = logspace(-3, 3, 10); not QUANT)
        pub alphas: Option<Vec<f64>> [List(Float), optional],
        /// the method name in results tables
        pub label: String [Str = "${stage}"],
        /// QUANT: extremely randomised trees (absent = 200)
        pub trees: Option<usize> [Int, optional],
        /// QUANT: share of the features drawn at each split (absent = 0.1)
        pub max_features: Option<f64> [Float, optional],
    }
}

impl TypedStage for RocketClassify {
    type Params = RocketClassifyParams;
    fn resources(&self, _: &RocketClassifyParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::CLASSIC
    }
    fn name(&self) -> &'static str {
        "rocket_classify"
    }
    fn version(&self) -> u32 {
        // 2: MultiRocket's MPV is summed in 16 lanes (its last bits may change); the kind gained
        // ROCKET, MR-Hydra and QUANT.
        2
    }
    fn about(&self) -> &'static str {
        "ROCKET, MiniRocket, MultiRocket, Hydra or MultiRocket-Hydra fitted on TRAIN, then StandardScaler \
         (Hydra: its sparse scaler; MR-Hydra: both) + RidgeClassifierCV (penalty by leave-one-out); or QUANT \
         + extremely randomised trees; predicting TEST"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "data", required: true, gather: false, doc: "a dataset" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(PREDICTIONS_FILE, "test predictions and ridge decision values"),
            OutputSpec::file("ridge.json", "the chosen penalty and the leave-one-out score of each (not QUANT)")
                .optional(),
            timing_output(),
        ]
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), StageError> {
        type P = RocketClassifyParams;
        canonicalize_transform(p)?;
        let (trees, share, alphas) = (param_name!(P, trees), param_name!(P, max_features), param_name!(P, alphas));
        if P::from_params(p)?.transform.method == "quant" {
            p.0.entry(trees.to_string()).or_insert(ExtraTreesParams::QUANT.trees.into());
            p.0.entry(share.to_string()).or_insert(ExtraTreesParams::QUANT.max_features.into());
            p.0.remove(alphas);
        } else {
            p.0.remove(trees);
            p.0.remove(share);
        }
        Ok(())
    }
    fn run(&self, ctx: &StageContext<'_>, p: &RocketClassifyParams) -> Result<(), StageError> {
        let t = transform_from_params(&p.transform)?;
        if p.transform.method == "quant" {
            return run_forest(ctx, p, t);
        }
        let alphas = alphas_or_default(p.alphas.as_deref())
            .map_err(|_| StageError::param(crate::param_name!(RocketClassifyParams, alphas), ALPHAS_EXPECTED))?;
        let ds = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        ctx.report(Some(0.0), format!("{} on {} series", t.name(), ds.train.n + ds.test.n));
        let r = classify_dataset(&ds, &t, &alphas).map_err(|e| StageError::failed(format!("{}: {e}", ds.name)))?;
        write_json(&ctx.output("ridge.json"), &r.model.record(&alphas))?;
        let preds = Predictions {
            dataset: ds.name.clone(),
            method: p.label.clone(),
            protocol: format!(
                "fit on TRAIN (seed {}); ridge penalty {} chosen by leave-one-out on TRAIN",
                p.transform.seed, r.model.alpha
            ),
            classes: ds.classes.clone(),
            truth: ds.test.labels.clone(),
            predicted: r.predicted.clone(),
            scores: Some(class_scores(&r, ds.classes.len())),
            selection_loss: Some(-r.model.scores[r.model.alpha_index]),
        };
        write_json(&ctx.output(TIMING_FILE), &Timing::new(Some(r.fit_time), Some(r.predict_time)))?;
        write_json(&ctx.output(PREDICTIONS_FILE), &preds)
    }
}

/// QUANT: the transform and the forest; scores are the forest's class proportions.
fn run_forest(
    ctx: &StageContext<'_>,
    p: &RocketClassifyParams,
    t: crate::classic::rocket::RocketTransform,
) -> Result<(), StageError> {
    type P = RocketClassifyParams;
    let trees = match p.trees.unwrap_or(ExtraTreesParams::QUANT.trees) {
        0 => return Err(StageError::param(param_name!(P, trees), "a positive integer")),
        n => n,
    };
    let max_features = match p.max_features.unwrap_or(ExtraTreesParams::QUANT.max_features) {
        s if s > 0.0 && s <= 1.0 => s,
        _ => return Err(StageError::param(param_name!(P, max_features), "a number in (0, 1]")),
    };
    let params = ExtraTreesParams { trees, max_features, seed: p.transform.seed as u64 };
    let ds: Dataset = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
    ctx.report(Some(0.0), format!("{} on {} series", t.name(), ds.train.n + ds.test.n));
    let r = forest_dataset(&ds, &t, &params).map_err(|e| StageError::failed(format!("{}: {e}", ds.name)))?;
    let preds = Predictions {
        dataset: ds.name.clone(),
        method: p.label.clone(),
        protocol: format!(
            "fit on TRAIN; {trees} extremely randomised trees, max_features {max_features}, seed {}",
            p.transform.seed
        ),
        classes: ds.classes.clone(),
        truth: ds.test.labels.clone(),
        predicted: r.predicted,
        scores: Some(r.proba),
        selection_loss: None,
    };
    write_json(&ctx.output(TIMING_FILE), &Timing::new(Some(r.fit_time), Some(r.predict_time)))?;
    write_json(&ctx.output(PREDICTIONS_FILE), &preds)
}
