//! `predict_pairs`: classifies TEST with a `train_pairs` model by voting over the
//! representatives (rules in [`crate::pairs::vote`]); writes the predictions format `evaluate`
//! reads, so tables, analyses and reports treat CNN-TS like any classifier.

use super::artifact::{
    DATASET_FILE, FEATURES_FILE, FeatureSet, Features, PREDICTIONS_FILE, Predictions, read_dataset, read_json,
    write_json,
};
use super::kind::{StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use super::train::{SUMMARY_FILE, WEIGHTS_FILE, model_err};
use super::train_pairs::{PairTrainSummary, split_digest};
use crate::device::Device;
use crate::models::pair_train::{same_probabilities, series_features};
use crate::pairs::{VoteRule, vote};

pub struct PredictPairs;

const RULES: &[&str] = &["majority", "mean_probability"];

crate::stage_params! {
    /// Parameters of `predict_pairs`.
    pub struct PredictPairsParams {
        /// the method name in results tables
        pub label: String [Str = "${stage}"],
        /// majority (the paper; ties → more confident votes, none same → closest representative) or mean_probability
        pub vote: String [Enum(RULES) = "majority"],
        /// pairs per inference batch (no effect on results)
        pub batch_size: usize [Int = 1024],
        // optional (no written-out default), so existing cache keys stay the same
        /// write features.json: the O_1 and O_m features of every TEST series, for t-SNE figures (off when absent)
        pub export_features: Option<bool> [Bool, optional],
    }
}

impl TypedStage for PredictPairs {
    type Params = PredictPairsParams;
    fn resources(&self, _: &PredictPairsParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::CLASSIC
    }
    fn name(&self) -> &'static str {
        "predict_pairs"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "CNN-TS inference: each TEST series against every representative, class by vote"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![
            InputSpec { name: "model", required: true, gather: false, doc: "a train_pairs stage" },
            InputSpec { name: "data", required: true, gather: false, doc: "the dataset it was trained on" },
        ]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(PREDICTIONS_FILE, "test predictions; scores = mean same-probability per class"),
            OutputSpec::file(
                "votes.json",
                "per test series: votes per class and whether no representative was judged same",
            ),
            OutputSpec::file(FEATURES_FILE, "learned features per TEST series (export_features = true)").optional(),
        ]
    }
    fn env_key(&self, _: &PredictPairsParams, _: &Device) -> Option<String> {
        Some(Device::Cpu.backend_id())
    }
    fn run(&self, ctx: &StageContext<'_>, params: &PredictPairsParams) -> Result<(), StageError> {
        let m = ctx.input("model")?;
        let summary: PairTrainSummary = read_json(m.file(SUMMARY_FILE)?)?;
        let wpath = m.file(WEIGHTS_FILE)?;
        let weights = std::fs::read(wpath).map_err(|e| StageError::io(wpath, e))?;
        let ds = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        if split_digest(&ds.train) != summary.train_digest {
            return Err(StageError::failed(format!(
                "{}: the model was trained on another TRAIN split (its representatives index that one)",
                ds.name
            )));
        }
        let rule = match params.vote.as_str() {
            "mean_probability" => VoteRule::MeanProbability,
            _ => VoteRule::Majority,
        };
        let dev = Device::Cpu.device().map_err(model_err)?;
        let model = summary.spec.cnn_ts().load(summary.shape, &weights, &dev).map_err(model_err)?;
        let reps = ds.train.subset(&summary.representatives);
        ctx.report(None, format!("{} test series × {} representatives", ds.test.n, reps.n));
        let p = same_probabilities(&model, &ds.test, &reps, &dev, params.batch_size).map_err(model_err)?;
        let k = ds.n_classes();
        let votes: Vec<_> = p.iter().map(|row| vote(row, &summary.representative_classes, k, rule)).collect();
        let no_same = votes.iter().filter(|v| v.no_same).count();
        let preds = Predictions {
            dataset: ds.name.clone(),
            method: params.label.clone(),
            protocol: format!("weights selected on training loss; {rule:?} vote over {} representatives", reps.n),
            classes: ds.classes.clone(),
            truth: ds.test.labels.clone(),
            predicted: votes.iter().map(|v| v.class).collect(),
            scores: Some(votes.iter().map(|v| v.scores.clone()).collect()),
            selection_loss: Some(summary.best_loss),
        };
        write_json(&ctx.output(PREDICTIONS_FILE), &preds)?;
        let doc = serde_json::json!({
            "dataset": ds.name,
            "rule": rule,
            "representatives": summary.representatives,
            "representative_classes": summary.representative_classes,
            "no_same": no_same,
            "votes": votes.iter().map(|v| &v.votes).collect::<Vec<_>>(),
            "same_probabilities": p,
        });
        write_json(&ctx.output("votes.json"), &doc)?;
        if params.export_features == Some(true) {
            let f = series_features(&model, &ds.test, &reps, &dev, params.batch_size).map_err(model_err)?;
            let sets = vec![
                FeatureSet::new("O_1 (Block 1 GAP)", f.o1),
                FeatureSet::new(format!("O_m (Block 4 GAP × {} representatives)", reps.n), f.om),
            ];
            Features::new(&ds, &preds.method, sets).write(&ctx.output(FEATURES_FILE))?;
        }
        Ok(())
    }
}
