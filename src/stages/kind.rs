//! The trait every stage kind implements, and what a running stage sees.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value as Json;

use super::params::StageParams;
use super::spec::{InputSpec, OutputSpec, ParamSpec};
use crate::device::Device;
use crate::settings::{Memory, TimeLimit};

/// Validated parameters of one stage instance, every default written out: what enters the key.
/// A [`TypedStage`] reads them as its parameter struct; the accessors by name are for kinds that
/// implement [`StageKind`] directly.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Params(pub serde_json::Map<String, Json>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&Json> {
        self.0.get(name)
    }
    pub fn str(&self, name: &str) -> Result<&str, StageError> {
        self.get(name).and_then(Json::as_str).ok_or_else(|| StageError::param(name, "a string"))
    }
    pub fn opt_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Json::as_str)
    }
    pub fn f64(&self, name: &str) -> Result<f64, StageError> {
        self.get(name).and_then(Json::as_f64).ok_or_else(|| StageError::param(name, "a number"))
    }
    pub fn i64(&self, name: &str) -> Result<i64, StageError> {
        self.get(name).and_then(Json::as_i64).ok_or_else(|| StageError::param(name, "an integer"))
    }
    pub fn usize(&self, name: &str) -> Result<usize, StageError> {
        let v = self.i64(name)?;
        usize::try_from(v).map_err(|_| StageError::param(name, "a non-negative integer"))
    }
    pub fn bool(&self, name: &str) -> Result<bool, StageError> {
        self.get(name).and_then(Json::as_bool).ok_or_else(|| StageError::param(name, "a boolean"))
    }
}

/// Why a stage failed.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("cancelled")]
    Cancelled,
    #[error("parameter `{name}`: expected {expected}")]
    Param { name: String, expected: String },
    /// A table parameter that does not read as its type (e.g. an unknown model field).
    #[error("parameter `{name}`: {source}")]
    ParamValue { name: String, source: serde_json::Error },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// Built with `From`, which turns a cancelled training into [`StageError::Cancelled`].
    #[error(transparent)]
    Model(crate::models::ModelError),
    #[error(transparent)]
    Classic(#[from] crate::classic::ClassicError),
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    #[error(transparent)]
    Stats(#[from] crate::stats::StatsError),
    #[error(transparent)]
    Pairs(#[from] crate::pairs::PairError),
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
    /// Boxed: a command's errors carry paths and messages, and every stage's result is this type.
    #[error(transparent)]
    Command(Box<crate::command::CommandError>),
    /// A figure that could not be drawn, and which one.
    #[error("{figure}: {source}")]
    Figure { figure: String, source: crate::plot::PlotError },
    /// Encoding an artifact as JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Other(#[from] Box<dyn std::error::Error + Send + Sync>),
}

impl From<crate::models::ModelError> for StageError {
    fn from(e: crate::models::ModelError) -> Self {
        match e {
            crate::models::ModelError::Cancelled => StageError::Cancelled,
            other => StageError::Model(other),
        }
    }
}

impl From<crate::command::CommandError> for StageError {
    fn from(e: crate::command::CommandError) -> Self {
        match e {
            crate::command::CommandError::Cancelled => StageError::Cancelled,
            other => StageError::Command(Box::new(other)),
        }
    }
}

impl StageError {
    pub fn param(name: &str, expected: &str) -> Self {
        StageError::Param { name: name.into(), expected: expected.into() }
    }
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        StageError::Io { path: path.to_path_buf(), source }
    }
    pub fn failed(msg: impl Into<String>) -> Self {
        StageError::Failed(msg.into())
    }
}

/// One upstream instance's files, as a stage reads them.
#[derive(Debug, Clone)]
pub struct InputArtifact {
    /// The upstream instance id, e.g. `evaluate[dataset=GunPoint]`.
    pub from: String,
    /// The upstream instance's matrix coordinates.
    pub axes: Vec<(String, Json)>,
    /// Output name → verified file in the cache.
    pub files: BTreeMap<String, PathBuf>,
}

impl InputArtifact {
    pub fn file(&self, name: &str) -> Result<&Path, StageError> {
        self.files
            .get(name)
            .map(PathBuf::as_path)
            .ok_or_else(|| StageError::failed(format!("input from `{}` has no output `{name}`", self.from)))
    }
}

/// What the environment contributes to a stage: where data lives, which backend computes.
#[derive(Debug, Clone, Default)]
pub struct RunEnv {
    pub data_dirs: Vec<PathBuf>,
    /// Where the pipeline file lives (relative paths in parameters resolve against it).
    pub pipeline_dir: PathBuf,
    /// The cache's folder, where kinds keep what outlives an instance (a command's managed
    /// Python environments); `None` where no cache is open.
    pub cache_dir: Option<PathBuf>,
}

/// Progress a stage reports while it runs.
#[derive(Debug, Clone)]
pub struct StageProgress {
    /// Fraction done in `[0, 1]`, when known.
    pub fraction: Option<f64>,
    pub message: String,
}

/// Everything a running stage instance may touch.
pub struct StageContext<'a> {
    pub instance: &'a str,
    pub params: &'a Params,
    pub inputs: &'a BTreeMap<String, Vec<InputArtifact>>,
    /// Empty staging directory; the declared outputs are written here.
    pub out_dir: &'a Path,
    /// Survives a killed run, removed when the stage completes: for periodic checkpoints.
    pub checkpoint_dir: &'a Path,
    pub device: &'a Device,
    pub env: &'a RunEnv,
    pub progress: &'a (dyn Fn(StageProgress) + Sync),
    pub cancel: &'a AtomicBool,
    /// How long this attempt may run (its resource request's time), for stages that enforce it
    /// themselves (a command's child process).
    pub time_limit: Option<std::time::Duration>,
}

impl StageContext<'_> {
    /// The single artifact bound to a non-gather input.
    pub fn input(&self, name: &str) -> Result<&InputArtifact, StageError> {
        self.inputs
            .get(name)
            .and_then(|v| v.first())
            .ok_or_else(|| StageError::failed(format!("missing input `{name}`")))
    }
    pub fn input_opt(&self, name: &str) -> Option<&InputArtifact> {
        self.inputs.get(name).and_then(|v| v.first())
    }
    /// All artifacts of a gather input, in matrix order.
    pub fn gathered(&self, name: &str) -> &[InputArtifact] {
        self.inputs.get(name).map(Vec::as_slice).unwrap_or(&[])
    }
    pub fn output(&self, name: &str) -> PathBuf {
        self.out_dir.join(name)
    }
    pub fn report(&self, fraction: Option<f64>, message: impl Into<String>) {
        (self.progress)(StageProgress { fraction, message: message.into() });
    }
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
    pub fn check_cancel(&self) -> Result<(), StageError> {
        if self.cancelled() { Err(StageError::Cancelled) } else { Ok(()) }
    }
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> Result<(), StageError> {
        let p = self.output(name);
        std::fs::write(&p, bytes).map_err(|e| StageError::io(&p, e))
    }
}

/// Validation (before anything runs) sees the same environment as running.
pub type CheckEnv = RunEnv;

/// A problem found by [`StageKind::check`], pointing at the parameter it is about.
#[derive(Debug, Clone)]
pub struct CheckError {
    pub param: Option<&'static str>,
    pub message: String,
}

impl CheckError {
    pub fn param(param: &'static str, message: impl Into<String>) -> Self {
        CheckError { param: Some(param), message: message.into() }
    }
}

/// An input slot as validation sees it: the files its upstream instances will hand over.
#[derive(Debug, Clone)]
pub struct BoundInput {
    pub name: String,
    pub gather: bool,
    /// Output names every upstream stage of the slot has (see [`StageKind::output_names`]).
    pub outputs: Vec<String>,
}

/// How long one instance of a kind is expected to run. On a cluster it is the time limit a job
/// asks for when neither the pipeline nor the settings give one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeClass {
    /// Seconds to minutes (loading, splitting, evaluating, tables, reports): 1 hour.
    Short,
    /// Minutes to an hour or two on a large dataset (1-NN DTW, the ROCKET family, features): 6 hours.
    Medium,
    /// Hours (training a deep model): 24 hours.
    Long,
}

impl TimeClass {
    pub fn limit(self) -> TimeLimit {
        match self {
            TimeClass::Short => TimeLimit::hours(1),
            TimeClass::Medium => TimeLimit::hours(6),
            TimeClass::Long => TimeLimit::hours(24),
        }
    }
}

/// What one instance of a kind needs, as the kind itself declares it: defaults that a pipeline
/// (`resources = { … }` on the stage) and the settings (`[executor]`, `[executor.stages.NAME]`)
/// override. Whether it wants an accelerator is [`StageKind::wants_accelerator`].
///
/// None of it enters the cache key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Declared {
    /// CPU threads an instance keeps busy: `--cpus-per-task` on SLURM, `-j` slots locally.
    /// `None`: one.
    pub threads: Option<u32>,
    /// What an instance is expected to use at most on a typical dataset (a cluster job's `--mem`
    /// when nothing else sets it; a retry after running out asks for more).
    pub mem: Option<Memory>,
    pub time: Option<TimeClass>,
}

impl Declared {
    /// Quick stages on one core: loading, preparing, evaluating, tables, reports.
    pub const SHORT: Declared = Declared { threads: None, mem: Some(Memory::gib(2)), time: Some(TimeClass::Short) };
    /// Classic classifiers and transforms on one core, which can run for an hour on a large dataset.
    pub const CLASSIC: Declared = Declared { threads: None, mem: Some(Memory::gib(4)), time: Some(TimeClass::Medium) };
    /// Deep-model training: two threads (the batches and the backend), hours.
    pub const TRAINING: Declared =
        Declared { threads: Some(2), mem: Some(Memory::gib(8)), time: Some(TimeClass::Long) };
}

/// A kind of stage: a small, declarative unit the engine can validate, key, cache and run.
pub trait StageKind: Send + Sync {
    fn name(&self) -> &'static str;
    /// Bumped whenever the kind's numbers could change; enters the cache key.
    fn version(&self) -> u32;
    fn about(&self) -> &'static str;
    fn params(&self) -> Vec<ParamSpec>;
    fn inputs(&self) -> Vec<InputSpec>;
    fn outputs(&self) -> Vec<OutputSpec>;
    /// Whether the stage should queue for an accelerator (GPU) rather than the CPU pool.
    fn wants_accelerator(&self, _params: &Params) -> bool {
        false
    }
    /// What an instance needs (threads, memory, expected time); nothing declared by default.
    fn resources(&self, _params: &Params) -> Declared {
        Declared::default()
    }
    /// Extra parts of the cache key the environment decides (e.g. the numeric backend).
    fn env_key(&self, _params: &Params, _device: &Device) -> Option<String> {
        None
    }
    /// Fills defaults inside free-form tables, so equivalent spellings share a cache key.
    fn canonicalize(&self, _params: &mut Params) -> Result<(), StageError> {
        Ok(())
    }
    /// Files outside the cache whose *content* the stage reads (e.g. dataset files): their
    /// digests enter the key under their file names, so an edited data file reruns the stage
    /// while a moved data folder (another machine) does not.
    fn source_files(&self, _params: &Params, _env: &RunEnv) -> Result<Vec<PathBuf>, StageError> {
        Ok(Vec::new())
    }
    /// Checks that need the environment (e.g. the dataset exists), run before anything executes.
    fn check(&self, _params: &Params, _env: &CheckEnv) -> Result<(), CheckError> {
        Ok(())
    }
    /// Whether the kind takes inputs of any name (a `command` names its own), not only those of
    /// [`StageKind::inputs`].
    fn accepts_any_input(&self) -> bool {
        false
    }
    /// The output files an instance with these parameters can leave (folder outputs as
    /// `folder/file`); the declared outputs unless the parameters decide.
    fn output_names(&self, _params: &Params) -> Vec<String> {
        self.outputs().iter().map(|o| o.name.to_string()).collect()
    }
    /// Checks of the parameters against what the inputs will hold, at load time.
    fn check_inputs(&self, _params: &Params, _inputs: &[BoundInput]) -> Result<(), CheckError> {
        Ok(())
    }
    /// A part of the key the environment decides and only running something can tell (a
    /// command's `env_key` output, its Python environment's `pip freeze`); computed once per
    /// run by each kind that caches it.
    fn key_environment(&self, _params: &Params, _env: &RunEnv) -> Result<Option<String>, StageError> {
        Ok(None)
    }
    /// What `tscpipe show` should say about an instance beyond its parameters (e.g. that a
    /// command line runs under `sh -c`).
    fn notes(&self, _params: &Params) -> Vec<String> {
        Vec::new()
    }
    fn run(&self, ctx: &StageContext<'_>) -> Result<(), StageError>;
}

/// A stage kind written against its typed parameters (a [`stage_params!`](crate::stage_params)
/// struct). Every `TypedStage` is a [`StageKind`] through the implementation below: `params()`
/// comes from the struct, and the hooks get the struct read from the validated parameters.
pub trait TypedStage: Send + Sync {
    type Params: StageParams;
    fn name(&self) -> &'static str;
    /// Bumped whenever the kind's numbers could change; enters the cache key.
    fn version(&self) -> u32;
    fn about(&self) -> &'static str;
    fn inputs(&self) -> Vec<InputSpec>;
    fn outputs(&self) -> Vec<OutputSpec>;
    /// Whether the stage should queue for an accelerator (GPU) rather than the CPU pool.
    fn wants_accelerator(&self, _params: &Self::Params) -> bool {
        false
    }
    /// What an instance needs (see [`StageKind::resources`]); nothing declared by default.
    fn resources(&self, _params: &Self::Params) -> Declared {
        Declared::default()
    }
    /// Extra parts of the cache key the environment decides (e.g. the numeric backend).
    fn env_key(&self, _params: &Self::Params, _device: &Device) -> Option<String> {
        None
    }
    /// Works on the parameters as they enter the key (JSON): fills defaults inside free-form
    /// tables, or leaves out parameters that cannot matter, so equivalent spellings share a key.
    /// Name parameters with [`param_name!`](crate::param_name).
    fn canonicalize(&self, _params: &mut Params) -> Result<(), StageError> {
        Ok(())
    }
    /// Files outside the cache whose *content* the stage reads (see [`StageKind::source_files`]).
    fn source_files(&self, _params: &Self::Params, _env: &RunEnv) -> Result<Vec<PathBuf>, StageError> {
        Ok(Vec::new())
    }
    /// Checks that need the environment (e.g. the dataset exists), run before anything executes.
    fn check(&self, _params: &Self::Params, _env: &CheckEnv) -> Result<(), CheckError> {
        Ok(())
    }
    /// See [`StageKind::accepts_any_input`].
    fn accepts_any_input(&self) -> bool {
        false
    }
    /// See [`StageKind::output_names`]; `None`: the declared outputs.
    fn output_names(&self, _params: &Self::Params) -> Option<Vec<String>> {
        None
    }
    /// See [`StageKind::check_inputs`].
    fn check_inputs(&self, _params: &Self::Params, _inputs: &[BoundInput]) -> Result<(), CheckError> {
        Ok(())
    }
    /// See [`StageKind::key_environment`].
    fn key_environment(&self, _params: &Self::Params, _env: &RunEnv) -> Result<Option<String>, StageError> {
        Ok(None)
    }
    /// See [`StageKind::notes`].
    fn notes(&self, _params: &Self::Params) -> Vec<String> {
        Vec::new()
    }
    fn run(&self, ctx: &StageContext<'_>, params: &Self::Params) -> Result<(), StageError>;
}

/// The typed parameters of a validated instance. Validation reads them once (in `check`), so
/// past it they always read.
fn typed<T: TypedStage>(p: &Params) -> Result<T::Params, StageError> {
    T::Params::from_params(p)
}

impl<T: TypedStage> StageKind for T {
    fn name(&self) -> &'static str {
        TypedStage::name(self)
    }
    fn version(&self) -> u32 {
        TypedStage::version(self)
    }
    fn about(&self) -> &'static str {
        TypedStage::about(self)
    }
    fn params(&self) -> Vec<ParamSpec> {
        T::Params::specs()
    }
    fn inputs(&self) -> Vec<InputSpec> {
        TypedStage::inputs(self)
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        TypedStage::outputs(self)
    }
    fn wants_accelerator(&self, params: &Params) -> bool {
        typed::<T>(params).is_ok_and(|p| TypedStage::wants_accelerator(self, &p))
    }
    fn resources(&self, params: &Params) -> Declared {
        typed::<T>(params).map(|p| TypedStage::resources(self, &p)).unwrap_or_default()
    }
    fn env_key(&self, params: &Params, device: &Device) -> Option<String> {
        typed::<T>(params).ok().and_then(|p| TypedStage::env_key(self, &p, device))
    }
    fn canonicalize(&self, params: &mut Params) -> Result<(), StageError> {
        TypedStage::canonicalize(self, params)
    }
    fn source_files(&self, params: &Params, env: &RunEnv) -> Result<Vec<PathBuf>, StageError> {
        TypedStage::source_files(self, &typed::<T>(params)?, env)
    }
    fn check(&self, params: &Params, env: &CheckEnv) -> Result<(), CheckError> {
        let p = typed::<T>(params).map_err(|e| {
            let name = match &e {
                StageError::Param { name, .. } | StageError::ParamValue { name, .. } => Some(name.as_str()),
                _ => None,
            };
            // The spec's own `&'static str`, so the error points at the parameter in the file.
            let param = name.and_then(|n| T::Params::specs().into_iter().find(|s| s.name == n).map(|s| s.name));
            CheckError { param, message: e.to_string() }
        })?;
        TypedStage::check(self, &p, env)
    }
    fn accepts_any_input(&self) -> bool {
        TypedStage::accepts_any_input(self)
    }
    fn output_names(&self, params: &Params) -> Vec<String> {
        typed::<T>(params)
            .ok()
            .and_then(|p| TypedStage::output_names(self, &p))
            .unwrap_or_else(|| TypedStage::outputs(self).iter().map(|o| o.name.to_string()).collect())
    }
    fn check_inputs(&self, params: &Params, inputs: &[BoundInput]) -> Result<(), CheckError> {
        match typed::<T>(params) {
            Ok(p) => TypedStage::check_inputs(self, &p, inputs),
            Err(_) => Ok(()), // `check` has said why already
        }
    }
    fn key_environment(&self, params: &Params, env: &RunEnv) -> Result<Option<String>, StageError> {
        TypedStage::key_environment(self, &typed::<T>(params)?, env)
    }
    fn notes(&self, params: &Params) -> Vec<String> {
        typed::<T>(params).map(|p| TypedStage::notes(self, &p)).unwrap_or_default()
    }
    fn run(&self, ctx: &StageContext<'_>) -> Result<(), StageError> {
        TypedStage::run(self, ctx, &typed::<T>(ctx.params)?)
    }
}
