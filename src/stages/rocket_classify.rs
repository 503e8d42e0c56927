//! `rocket_classify`: a ROCKET-family transform and the ridge classifier in one stage, predicting
//! TEST (what the `protocols/minirocket` fragment runs). The same two steps as a `transform` stage
//! feeding `features_classify` with `classifier = "ridge_cv"`, which caches the features between
//! them; this kind keeps the fragment a single stage that takes a dataset.

use super::artifact::{
    DATASET_FILE, PREDICTIONS_FILE, Predictions, TIMING_FILE, Timing, read_dataset, timing_output, write_json,
};
use super::features_classify::ridge_alphas;
use super::kind::{Params, StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use super::transform::{TransformParams, canonicalize_transform, transform_from_params};
use crate::classic::rocket::{class_scores, classify_dataset};

pub struct RocketClassify;

crate::stage_params! {
    /// Parameters of `rocket_classify`: the transform's, the ridge penalties and the label.
    pub struct RocketClassifyParams {
        pub transform: TransformParams [include],
        /// ridge penalties searched by leave-one-out (absent = logspace(-3, 3, 10))
        pub alphas: Option<Vec<f64>> [List(Float), optional],
        /// the method name in results tables
        pub label: String [Str = "${stage}"],
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
        1
    }
    fn about(&self) -> &'static str {
        "MiniRocket, MultiRocket or Hydra fitted on TRAIN, then StandardScaler (Hydra: its sparse scaler) \
         + RidgeClassifierCV (penalty by leave-one-out), predicting TEST"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "data", required: true, gather: false, doc: "a dataset" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(PREDICTIONS_FILE, "test predictions and ridge decision values"),
            OutputSpec::file("ridge.json", "the chosen penalty and the leave-one-out score of each"),
            timing_output(),
        ]
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), StageError> {
        canonicalize_transform(p)
    }
    fn run(&self, ctx: &StageContext<'_>, p: &RocketClassifyParams) -> Result<(), StageError> {
        let t = transform_from_params(&p.transform)?;
        let alphas = ridge_alphas(p.alphas.as_deref(), crate::param_name!(RocketClassifyParams, alphas))?;
        let ds = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        ctx.report(Some(0.0), format!("{} on {} series", t.name(), ds.train.n + ds.test.n));
        let r = classify_dataset(&ds, &t, &alphas).map_err(|e| StageError::failed(format!("{}: {e}", ds.name)))?;
        write_json(&ctx.output("ridge.json"), &ridge_record(&r.model, &alphas))?;
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

/// What the ridge selection saw: each penalty with its mean squared leave-one-out error.
pub fn ridge_record(m: &crate::classic::ridge::RidgeClassifier, alphas: &[f64]) -> serde_json::Value {
    serde_json::json!({
        "alpha": m.alpha,
        "alphas": alphas,
        "loo_mse": m.scores.iter().map(|s| -s).collect::<Vec<_>>(),
        "decomposition": format!("{:?}", m.mode).to_lowercase(),
        "targets": m.targets,
    })
}
