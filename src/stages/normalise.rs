//! `normalise`: per-series z-score (LSTM-FCN report eq. 16), TRAIN-fitted z-score or min-max, none.

use std::str::FromStr;

use super::artifact::{DATASET_FILE, read_dataset, write_dataset, write_json};
use super::kind::{StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use crate::data::{Normalisation, normalise};

pub struct Normalise;

const METHODS: &[&str] = &["per-series", "train-zscore", "train-minmax", "none"];

crate::stage_params! {
    /// Parameters of `normalise`.
    pub struct NormaliseParams {
        /// normalisation scheme
        pub method: String [Enum(METHODS) = "per-series"],
    }
}

impl TypedStage for Normalise {
    type Params = NormaliseParams;
    fn resources(&self, _: &NormaliseParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::SHORT
    }
    fn name(&self) -> &'static str {
        "normalise"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Normalises series: per-series z-score, z-score or min-max fitted on TRAIN, or none"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "data", required: true, gather: false, doc: "a dataset (load, split)" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(DATASET_FILE, "the normalised dataset"),
            OutputSpec::file("scaler.json", "the TRAIN-fitted offsets and factors").optional(),
        ]
    }
    fn run(&self, ctx: &StageContext<'_>, p: &NormaliseParams) -> Result<(), StageError> {
        let how = Normalisation::from_str(&p.method).map_err(StageError::failed)?;
        let mut ds = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        if let Some(scaler) = normalise(&mut ds, how) {
            write_json(&ctx.output("scaler.json"), &scaler)?;
        }
        write_dataset(&ctx.output(DATASET_FILE), &ds)
    }
}
