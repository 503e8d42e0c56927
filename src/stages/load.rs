//! `load`: reads a dataset (UCR .tsv, .ts, .arff, old .txt, CSV, Parquet) into the shared form.

use std::path::PathBuf;
use std::str::FromStr;

use super::artifact::{DATASET_FILE, write_dataset};
use super::kind::{CheckError, Params, RunEnv, StageContext, StageError, StageKind};
use super::spec::{InputSpec, OutputSpec, ParamSpec, ParamType};
use crate::data::{self, DatasetRef, Format, LengthPolicy, LoadOptions, MissingPolicy, ResolvedDataset};

pub struct Load;

const FORMATS: &[&str] = &["auto", "tsv", "ts", "arff", "txt", "csv", "parquet"];
const MISSING: &[&str] = &["auto", "error", "interpolate", "keep"];

fn options(p: &Params) -> Result<LoadOptions, String> {
    let format = match p.opt_str("format").unwrap_or("auto") {
        "auto" => None,
        f => Some(Format::from_extension(f).ok_or_else(|| format!("unknown format `{f}`"))?),
    };
    let length = LengthPolicy::from_str(p.opt_str("length").unwrap_or("error"))?;
    let missing = match p.opt_str("missing").unwrap_or("auto") {
        "error" => MissingPolicy::Error,
        "interpolate" => MissingPolicy::Interpolate,
        "keep" => MissingPolicy::Keep,
        _ => MissingPolicy::Auto,
    };
    Ok(LoadOptions { format, length, missing, ..Default::default() })
}

fn reference(p: &Params, env: &RunEnv) -> DatasetRef {
    let name = p.opt_str("dataset").unwrap_or_default().to_string();
    match (p.opt_str("train"), p.opt_str("test")) {
        (Some(tr), Some(te)) => {
            DatasetRef::Paths { name: Some(name), train: env.pipeline_dir.join(tr), test: env.pipeline_dir.join(te) }
        }
        _ => DatasetRef::Name(name),
    }
}

fn resolve(p: &Params, env: &RunEnv) -> Result<ResolvedDataset, String> {
    let opts = options(p)?;
    data::resolve(&reference(p, env), &env.data_dirs, opts.format).map_err(|e| e.to_string())
}

impl StageKind for Load {
    fn name(&self) -> &'static str {
        "load"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Reads a TRAIN/TEST dataset by name (searched in data dirs) or by explicit paths"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::required(
                "dataset",
                ParamType::Str,
                "dataset name (e.g. GunPoint), looked up in the data directories",
            ),
            ParamSpec::optional("train", ParamType::Str, "explicit TRAIN file, relative to the pipeline file"),
            ParamSpec::optional("test", ParamType::Str, "explicit TEST file, relative to the pipeline file"),
            ParamSpec::with_default("format", ParamType::Enum(FORMATS), "auto", "force a file format"),
            ParamSpec::with_default(
                "length",
                ParamType::Str,
                "error",
                "variable-length policy: error, pad-zero, pad-last, truncate, resample:<len>",
            ),
            ParamSpec::with_default(
                "missing",
                ParamType::Enum(MISSING),
                "auto",
                "missing values (`?`/NaN inside a series)",
            ),
        ]
    }
    fn inputs(&self) -> Vec<InputSpec> {
        Vec::new()
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![OutputSpec::file(DATASET_FILE, "the dataset (postcard)")]
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), String> {
        // One spelling per policy (`pad` and `pad-zero` are the same key).
        let length = LengthPolicy::from_str(p.opt_str("length").unwrap_or("error"))?;
        p.0.insert("length".into(), length.to_string().into());
        Ok(())
    }
    fn check(&self, p: &Params, env: &RunEnv) -> Result<(), CheckError> {
        options(p).map_err(|m| CheckError::param("length", m))?;
        resolve(p, env).map(|_| ()).map_err(|m| CheckError::param("dataset", m))
    }
    fn source_files(&self, p: &Params, env: &RunEnv) -> Result<Vec<PathBuf>, StageError> {
        let r = resolve(p, env).map_err(StageError::failed)?;
        Ok(vec![r.train, r.test])
    }
    fn run(&self, ctx: &StageContext<'_>) -> Result<(), StageError> {
        let opts = options(ctx.params).map_err(StageError::failed)?;
        let r = resolve(ctx.params, ctx.env).map_err(StageError::failed)?;
        ctx.report(None, format!("reading {}", r.train.display()));
        let ds = data::load_resolved(&r, &opts).map_err(|e| StageError::failed(e.to_string()))?;
        write_dataset(&ctx.output(DATASET_FILE), &ds)
    }
}
