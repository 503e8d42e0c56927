//! `predict`: batched inference of a trained deep model on the TEST split; keeps the attention
//! weights of attention models (the model's explanation, drawn by the report).

use super::artifact::{
    DATASET_FILE, FEATURES_FILE, FeatureSet, Features, PREDICTIONS_FILE, Predictions, TIMING_FILE, Timing,
    read_dataset, read_json, timing_output, write_json,
};
use super::kind::{StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use super::train::{SUMMARY_FILE, TrainSummary, WEIGHTS_FILE, model_err};
use crate::device::Device;

pub struct Predict;

crate::stage_params! {
    /// Parameters of `predict`.
    pub struct PredictParams {
        /// the method name in results tables
        pub label: String [Str = "${stage}"],
        /// inference batch size (no effect on results)
        pub batch_size: usize [Int = 256],
        // optional (no written-out default), so existing cache keys stay the same
        /// write features.json: what the final dense layer sees, per TEST series, for t-SNE figures (off when absent)
        pub export_features: Option<bool> [Bool, optional],
    }
}

impl TypedStage for Predict {
    type Params = PredictParams;
    fn resources(&self, _: &PredictParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::SHORT
    }
    fn name(&self) -> &'static str {
        "predict"
    }
    fn version(&self) -> u32 {
        2
    }
    fn about(&self) -> &'static str {
        "Batched inference of a trained model on TEST (probabilities, labels, attention weights)"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![
            InputSpec { name: "model", required: true, gather: false, doc: "a train or finetune stage" },
            InputSpec {
                name: "data",
                required: true,
                gather: false,
                doc: "the dataset (normalised like the training data)",
            },
        ]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(PREDICTIONS_FILE, "test predictions with class probabilities"),
            OutputSpec::file(
                "attention.json",
                "attention weights per test series [n][step][input step], and one example series per class",
            )
            .optional(),
            OutputSpec::file(FEATURES_FILE, "learned features per TEST series (export_features = true)").optional(),
            timing_output(),
        ]
    }
    fn env_key(&self, _: &PredictParams, _: &Device) -> Option<String> {
        Some(Device::Cpu.backend_id())
    }
    fn run(&self, ctx: &StageContext<'_>, params: &PredictParams) -> Result<(), StageError> {
        let m = ctx.input("model")?;
        let summary: TrainSummary = read_json(m.file(SUMMARY_FILE)?)?;
        let wpath = m.file(WEIGHTS_FILE)?;
        let weights = std::fs::read(wpath).map_err(|e| StageError::io(wpath, e))?;
        let ds = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        let dev = Device::Cpu;
        let start = std::time::Instant::now();
        let model = summary.spec.load(summary.shape, &weights, &dev.device().map_err(model_err)?).map_err(model_err)?;
        let p = crate::models::predict(&model, &ds.test, &dev, params.batch_size).map_err(model_err)?;
        // the fit is the training stage's; a results export reads both from here
        let timing = Timing { predict_ms: Timing::new(None, Some(start.elapsed())).predict_ms, ..Timing::of(m) };
        write_json(&ctx.output(TIMING_FILE), &timing)?;
        let protocol = match &summary.protocol_note {
            Some(n) => n.clone(),
            None => format!("weights selected on {} loss", summary.monitor.split_name()),
        };
        let preds = Predictions {
            dataset: ds.name.clone(),
            method: params.label.clone(),
            protocol,
            classes: ds.classes.clone(),
            truth: ds.test.labels.clone(),
            predicted: p.labels,
            scores: Some(p.probabilities.iter().map(|r| r.iter().map(|&v| v as f64).collect()).collect()),
            selection_loss: Some(summary.best_monitored_loss),
        };
        write_json(&ctx.output(PREDICTIONS_FILE), &preds)?;
        if params.export_features == Some(true) {
            let set = FeatureSet { name: "features before the final dense layer".into(), rows: p.features };
            Features::new(&ds, &preds.method, vec![set]).write(&ctx.output(FEATURES_FILE))?;
        }
        if let Some(att) = p.attention {
            // The first test series of each class, for the report's "where the model looks" figure.
            let mut examples = Vec::new();
            for (c, class) in ds.classes.iter().enumerate() {
                if let Some(i) = ds.test.labels.iter().position(|&l| l == c) {
                    let channels: Vec<&[f64]> = ds.test.series(i).chunks(ds.test.len.max(1)).collect();
                    examples.push(serde_json::json!({ "index": i, "label": class, "channels": channels }));
                }
            }
            // axis: what a weight row is over, "channels" (ALSTM-FCN) or "time" (hybrid's pooled steps)
            let doc = serde_json::json!({
                "dataset": ds.name,
                "method": preds.method,
                "axis": summary.spec.attention_axis(),
                "weights": att,
                "examples": examples,
            });
            write_json(&ctx.output("attention.json"), &doc)?;
        }
        Ok(())
    }
}
