//! `window`: cuts continuous (multivariate) recordings into windows with a train/validation/test
//! split by recording (see [`crate::data::window`]), so no recording leaks across splits.

use super::artifact::{DATASET_FILE, read_dataset, write_dataset, write_json};
use super::kind::{StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use crate::data::window::{WindowSpec, window_dataset};

pub struct Window;

crate::stage_params! {
    /// Parameters of `window`.
    pub struct WindowParams {
        /// window length in time steps
        pub size: usize [Int = 50],
        /// steps between window starts
        pub stride: usize [Int = 10],
        /// fraction of each class's recordings for validation
        pub validation: f64 [Float = 0.1],
        /// fraction of each class's recordings for test
        pub test: f64 [Float = 0.1],
        /// random seed of the recording assignment
        pub seed: i64 [Int = 0],
    }
}

impl TypedStage for Window {
    type Params = WindowParams;
    fn resources(&self, _: &WindowParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::SHORT
    }
    fn name(&self) -> &'static str {
        "window"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Cuts recordings (the series of TRAIN/validation/TEST, pooled) into windows and splits them \
         train/validation/test by recording, stratified by class and seeded"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "data", required: true, gather: false, doc: "a dataset whose series are recordings" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(DATASET_FILE, "the windows as a dataset (train, validation, test)"),
            OutputSpec::published("groups.json", "every recording: its class, split and number of windows"),
        ]
    }
    fn run(&self, ctx: &StageContext<'_>, p: &WindowParams) -> Result<(), StageError> {
        let spec =
            WindowSpec { size: p.size, stride: p.stride, validation: p.validation, test: p.test, seed: p.seed as u64 };
        let ds = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        let w = window_dataset(&ds, &spec)?;
        let d = &w.dataset;
        ctx.report(
            None,
            format!(
                "{} windows: train {}, validation {}, test {}",
                d.train.n + d.test.n + d.validation.as_ref().map_or(0, |v| v.n),
                d.train.n,
                d.validation.as_ref().map_or(0, |v| v.n),
                d.test.n
            ),
        );
        write_dataset(&ctx.output(DATASET_FILE), d)?;
        let groups = serde_json::json!({
            "size": spec.size,
            "stride": spec.stride,
            "seed": spec.seed,
            "windows": { "train": d.train.n, "validation": d.validation.as_ref().map_or(0, |v| v.n), "test": d.test.n },
            "recordings": w.recordings,
        });
        write_json(&ctx.output("groups.json"), &groups)
    }
}
