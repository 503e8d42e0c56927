//! `resample`: the stratified resample `seed` of TRAIN + TEST, identical to aeon's and tsml-eval's
//! (seed 0 = the archive's own split).

use super::artifact::{DATASET_FILE, read_dataset, write_dataset, write_json};
use super::kind::{CheckError, Params, RunEnv, StageContext, StageError, StageKind};
use super::spec::{InputSpec, OutputSpec, ParamSpec, ParamType};
use crate::data::resample::resample;

pub struct Resample;

/// The file that lists which pooled series went where, for checking against aeon.
pub const INDICES_FILE: &str = "resample.json";

fn seed(p: &Params) -> Result<u32, String> {
    let s = p.i64("seed").map_err(|e| e.to_string())?;
    // NumPy's legacy seeding takes integers in [0, 2**32) only.
    u32::try_from(s).map_err(|_| format!("seed must be between 0 and 4294967295 (NumPy's RandomState), got {s}"))
}

impl StageKind for Resample {
    fn name(&self) -> &'static str {
        "resample"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Stratified resample of TRAIN + TEST as aeon/tsml-eval make it (seed 0 = the archive's split)"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![ParamSpec::with_default(
            "seed",
            ParamType::Int,
            0,
            "resample id: 0 keeps the archive's TRAIN/TEST split, k ≥ 1 is aeon's stratified_resample_data(random_state=k)",
        )]
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
    fn check(&self, p: &Params, _env: &RunEnv) -> Result<(), CheckError> {
        seed(p).map(|_| ()).map_err(|m| CheckError::param("seed", m))
    }
    fn run(&self, ctx: &StageContext<'_>) -> Result<(), StageError> {
        let seed = seed(ctx.params).map_err(StageError::failed)?;
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
