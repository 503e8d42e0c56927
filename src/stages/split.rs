//! `split`: a seeded, stratified validation split carved out of TRAIN.

use super::artifact::{DATASET_FILE, read_dataset, write_dataset};
use super::kind::{StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use crate::data::split_validation;

pub struct SplitStage;

crate::stage_params! {
    /// Parameters of `split`.
    pub struct SplitParams {
        /// fraction of TRAIN held out per class
        pub fraction: f64 [Float = 0.2],
        /// random seed
        pub seed: i64 [Int = 0],
    }
}

impl TypedStage for SplitStage {
    type Params = SplitParams;
    fn resources(&self, _: &SplitParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::SHORT
    }
    fn name(&self) -> &'static str {
        "split"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Moves a seeded, stratified fraction of TRAIN into a validation split"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "data", required: true, gather: false, doc: "a dataset" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![OutputSpec::file(DATASET_FILE, "the dataset with a validation split")]
    }
    fn run(&self, ctx: &StageContext<'_>, p: &SplitParams) -> Result<(), StageError> {
        let fraction = p.fraction;
        if !(0.0..1.0).contains(&fraction) {
            return Err(StageError::failed(format!("fraction must be in [0, 1), got {fraction}")));
        }
        let seed = p.seed as u64;
        let mut ds = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        split_validation(&mut ds, fraction, seed)?;
        write_dataset(&ctx.output(DATASET_FILE), &ds)
    }
}
