//! `classify`: the 1-nearest-neighbour baselines (Euclidean, DTW with a Sakoe–Chiba band).

use serde_json::Number;

use super::artifact::{
    DATASET_FILE, PREDICTIONS_FILE, Predictions, TIMING_FILE, Timing, read_dataset, timing_output, write_json,
};
use super::kind::{Params, StageContext, StageError, TypedStage};
use super::params::StageParams;
use super::spec::{InputSpec, OutputSpec};
use crate::classic::{Metric, Window, one_nn};

pub struct Classify;

const DISTANCES: &[&str] = &["euclidean", "dtw"];

crate::stage_params! {
    /// Parameters of `classify`.
    pub struct ClassifyParams {
        /// distance measure
        pub distance: String [Enum(DISTANCES) = "euclidean"],
        /// DTW Sakoe–Chiba band: a fraction of the length (1.0 = full) or an integer number of cells
        pub window: Number [Number = 1.0],
        /// the method name in results tables
        pub label: String [Str = "${stage}"],
    }
}

fn window(n: &Number) -> Result<Window, StageError> {
    match n {
        n if n.is_f64() => {
            let f = n.as_f64().unwrap_or(1.0);
            if !(0.0..=1.0).contains(&f) {
                return Err(StageError::failed(format!(
                    "window {f}: a fraction must be in [0, 1]; use an integer for cells"
                )));
            }
            Ok(if f >= 1.0 { Window::Full } else { Window::Fraction(f) })
        }
        n => Ok(Window::Cells(n.as_u64().unwrap_or(0) as usize)),
    }
}

impl TypedStage for Classify {
    type Params = ClassifyParams;
    fn resources(&self, _: &ClassifyParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::CLASSIC
    }
    fn name(&self) -> &'static str {
        "classify"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "1-nearest-neighbour on TRAIN, predicting TEST (Euclidean or DTW with LB_Keogh)"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "data", required: true, gather: false, doc: "a dataset" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![OutputSpec::file(PREDICTIONS_FILE, "test predictions and nearest distances"), timing_output()]
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), StageError> {
        // The window means nothing for Euclidean distance: keep it out of that key.
        if ClassifyParams::from_params(p)?.distance == "euclidean" {
            p.0.remove(crate::param_name!(ClassifyParams, window));
        }
        Ok(())
    }
    fn run(&self, ctx: &StageContext<'_>, p: &ClassifyParams) -> Result<(), StageError> {
        let ds = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        let metric = match p.distance.as_str() {
            "dtw" => Metric::Dtw { window: window(&p.window)? },
            _ => Metric::Euclidean,
        };
        ctx.report(Some(0.0), format!("{} test series", ds.test.n));
        let start = std::time::Instant::now();
        let r = one_nn(&ds.train, &ds.test, metric)?;
        // 1-NN keeps TRAIN as it is: fitting is nothing, predicting is the search
        let timing = Timing::new(Some(std::time::Duration::ZERO), Some(start.elapsed()));
        let scores = r.distances.iter().map(|d| vec![*d]).collect();
        let preds = Predictions {
            dataset: ds.name.clone(),
            method: p.label.clone(),
            protocol: "deterministic (no model selection)".into(),
            classes: ds.classes.clone(),
            truth: ds.test.labels.clone(),
            predicted: r.predictions,
            scores: Some(scores),
            selection_loss: None,
        };
        write_json(&ctx.output(TIMING_FILE), &timing)?;
        write_json(&ctx.output(PREDICTIONS_FILE), &preds)
    }
}
