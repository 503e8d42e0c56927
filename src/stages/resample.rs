//! `resample`: the stratified resample `seed` of TRAIN + TEST, identical to aeon's and tsml-eval's
//! (seed 0 = the archive's own split).

use super::artifact::{DATASET_FILE, read_dataset, write_dataset, write_json};
use super::kind::{CheckError, RunEnv, StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use crate::data::resample::resample;

pub struct Resample;

/// The file that lists which pooled series went where, for checking against aeon.
pub const INDICES_FILE: &str = "resample.json";

crate::stage_params! {
    /// Parameters of `resample`.
    pub struct ResampleParams {
        /// resample id: 0 keeps the archive's TRAIN/TEST split, k ≥ 1 is aeon's stratified_resample_data(random_state=k)
        pub seed: i64 [Int = 0],
    }
}

fn seed(p: &ResampleParams) -> Result<u32, CheckError> {
    // NumPy's legacy seeding takes integers in [0, 2**32) only.
    u32::try_from(p.seed).map_err(|_| {
        CheckError::param(
            crate::param_name!(ResampleParams, seed),
            format!("seed must be between 0 and 4294967295 (NumPy's RandomState), got {}", p.seed),
        )
    })
}

impl TypedStage for Resample {
    type Params = ResampleParams;
    fn resources(&self, _: &ResampleParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::SHORT
    }
    fn name(&self) -> &'static str {
        "resample"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Stratified resample of TRAIN + TEST as aeon/tsml-eval make it (seed 0 = the archive's split)"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "data", required: true, gather: false, doc: "a dataset (load, normalise)" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(DATASET_FILE, "the resampled dataset"),
            OutputSpec::file(INDICES_FILE, "the new TRAIN and TEST as positions in TRAIN then TEST"),
        ]
    }
    fn check(&self, p: &ResampleParams, _env: &RunEnv) -> Result<(), CheckError> {
        seed(p).map(|_| ())
    }
    fn run(&self, ctx: &StageContext<'_>, p: &ResampleParams) -> Result<(), StageError> {
        let seed = seed(p).map_err(|e| StageError::failed(e.message))?;
        let ds = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        let (out, idx) =
            resample(&ds, seed).map_err(|e| StageError::failed(format!("resample {seed} of {}: {e}", ds.name)))?;
        write_json(
            &ctx.output(INDICES_FILE),
            &serde_json::json!({ "dataset": ds.name, "seed": seed, "train": idx.train, "test": idx.test }),
        )?;
        write_dataset(&ctx.output(DATASET_FILE), &out)
    }
}
