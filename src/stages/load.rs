//! `load`: reads a dataset (UCR .tsv, .ts, .arff, old .txt, CSV, Parquet) into the shared form.

use std::path::PathBuf;
use std::str::FromStr;

use super::artifact::{DATASET_FILE, write_dataset};
use super::kind::{CheckError, Params, RunEnv, StageContext, StageError, TypedStage};
use super::params::StageParams;
use super::spec::{InputSpec, OutputSpec};
use crate::data::{self, DatasetRef, Format, LengthPolicy, LoadOptions, MissingPolicy, ResolvedDataset};

pub struct Load;

const FORMATS: &[&str] = &["auto", "tsv", "ts", "arff", "txt", "csv", "parquet"];
const MISSING: &[&str] = &["auto", "error", "interpolate", "keep"];

crate::stage_params! {
    /// Parameters of `load`.
    // The help text is shown as written (`resample:<len>`), not as HTML.
    #[allow(rustdoc::invalid_html_tags)]
    pub struct LoadParams {
        /// dataset name (e.g. GunPoint), looked up in the data directories
        pub dataset: String [Str],
        /// explicit TRAIN file, relative to the pipeline file
        pub train: Option<String> [Str, optional],
        /// explicit TEST file, relative to the pipeline file
        pub test: Option<String> [Str, optional],
        /// force a file format
        pub format: String [Enum(FORMATS) = "auto"],
        /// variable-length policy: error, pad-zero, pad-last, truncate, resample:<len>
        pub length: String [Str = "error"],
        /// missing values (`?`/NaN inside a series)
        pub missing: String [Enum(MISSING) = "auto"],
    }
}

/// The reading options these parameters ask for (a parameter that does not convert is named).
fn options(p: &LoadParams) -> Result<LoadOptions, CheckError> {
    let format = match p.format.as_str() {
        "auto" => None,
        f => Some(Format::from_extension(f).ok_or_else(|| {
            CheckError::param(crate::param_name!(LoadParams, format), format!("unknown format `{f}`"))
        })?),
    };
    let length =
        LengthPolicy::from_str(&p.length).map_err(|m| CheckError::param(crate::param_name!(LoadParams, length), m))?;
    let missing = match p.missing.as_str() {
        "error" => MissingPolicy::Error,
        "interpolate" => MissingPolicy::Interpolate,
        "keep" => MissingPolicy::Keep,
        _ => MissingPolicy::Auto,
    };
    Ok(LoadOptions { format, length, missing, ..Default::default() })
}

fn reference(p: &LoadParams, env: &RunEnv) -> DatasetRef {
    let name = p.dataset.clone();
    match (&p.train, &p.test) {
        (Some(tr), Some(te)) => {
            DatasetRef::Paths { name: Some(name), train: env.pipeline_dir.join(tr), test: env.pipeline_dir.join(te) }
        }
        _ => DatasetRef::Name(name),
    }
}

/// The files of the dataset, in the format given or detected.
fn resolve(p: &LoadParams, opts: &LoadOptions, env: &RunEnv) -> Result<ResolvedDataset, data::DataError> {
    data::resolve(&reference(p, env), &env.data_dirs, opts.format)
}

/// A parameter error found while running (`check` reports them before a run).
fn invalid(e: CheckError) -> StageError {
    StageError::failed(format!("parameter `{}`: {}", e.param.unwrap_or("?"), e.message))
}

impl TypedStage for Load {
    type Params = LoadParams;
    fn resources(&self, _: &LoadParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::SHORT
    }
    fn name(&self) -> &'static str {
        "load"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Reads a TRAIN/TEST dataset by name (searched in data dirs) or by explicit paths"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        Vec::new()
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![OutputSpec::file(DATASET_FILE, "the dataset (postcard)")]
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), StageError> {
        // One spelling per policy (`pad` and `pad-zero` are the same key).
        let length = LengthPolicy::from_str(&LoadParams::from_params(p)?.length).map_err(StageError::failed)?;
        p.0.insert(crate::param_name!(LoadParams, length).into(), length.to_string().into());
        Ok(())
    }
    fn check(&self, p: &LoadParams, env: &RunEnv) -> Result<(), CheckError> {
        let opts = options(p)?;
        resolve(p, &opts, env)
            .map(|_| ())
            .map_err(|e| CheckError::param(crate::param_name!(LoadParams, dataset), e.to_string()))
    }
    fn source_files(&self, p: &LoadParams, env: &RunEnv) -> Result<Vec<PathBuf>, StageError> {
        let r = resolve(p, &options(p).map_err(invalid)?, env)?;
        Ok(vec![r.train, r.test])
    }
    fn run(&self, ctx: &StageContext<'_>, p: &LoadParams) -> Result<(), StageError> {
        let opts = options(p).map_err(invalid)?;
        let r = resolve(p, &opts, ctx.env)?;
        ctx.report(None, format!("reading {}", r.train.display()));
        let ds = data::load_resolved(&r, &opts)?;
        write_dataset(&ctx.output(DATASET_FILE), &ds)
    }
}
