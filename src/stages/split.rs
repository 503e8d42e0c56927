//! `split`: a seeded, stratified validation split carved out of TRAIN.

use super::artifact::{DATASET_FILE, read_dataset, write_dataset};
use super::kind::{StageContext, StageError, StageKind};
use super::spec::{InputSpec, OutputSpec, ParamSpec, ParamType};
use crate::data::split_validation;

pub struct SplitStage;

impl StageKind for SplitStage {
    fn name(&self) -> &'static str {
        "split"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Moves a seeded, stratified fraction of TRAIN into a validation split"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::with_default("fraction", ParamType::Float, 0.2, "fraction of TRAIN held out per class"),
            ParamSpec::with_default("seed", ParamType::Int, 0, "random seed"),
        ]
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "data", required: true, gather: false, doc: "a dataset" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![OutputSpec::file(DATASET_FILE, "the dataset with a validation split")]
    }
    fn run(&self, ctx: &StageContext<'_>) -> Result<(), StageError> {
        let fraction = ctx.params.f64("fraction")?;
        if !(0.0..1.0).contains(&fraction) {
            return Err(StageError::failed(format!("fraction must be in [0, 1), got {fraction}")));
        }
        let seed = ctx.params.i64("seed")? as u64;
        let mut ds = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        split_validation(&mut ds, fraction, seed).map_err(|e| StageError::failed(e.to_string()))?;
        write_dataset(&ctx.output(DATASET_FILE), &ds)
    }
}
