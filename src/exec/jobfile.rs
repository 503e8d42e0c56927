//! Job files: one stage instance written out for another process to run — a SLURM job on a
//! compute node, or a child process of a local run that must survive running out of memory —
//! and that process's side, `tscpipe run-job`.
//!
//! `job.json` says what to run; the process leaves `result.json` beside it when it finishes
//! (success or a stage error, with what it used), and nothing when it was killed or cancelled.
//! For a SLURM array, `tscpipe run-job --tasks LIST` runs the job file on line
//! `$SLURM_ARRAY_TASK_ID` of `LIST`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::cache::store::atomic_write;
use crate::cache::{Cache, KeyInputs};
use crate::device::Device;
use crate::settings::CacheSettings;
use crate::stages::Registry;
use crate::stages::kind::{InputArtifact, Params, RunEnv, StageError, StageProgress};
use crate::util::resources::Request;

use super::executor::{ExecError, Executor, Job, LocalExecutor};
use super::usage::{self, Usage};

/// One upstream artifact in a job file: output name → blob digest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpecArtifact {
    pub from: String,
    pub axes: Vec<(String, serde_json::Value)>,
    pub files: BTreeMap<String, String>,
}

/// Everything a process needs to run one stage instance (`job.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobSpec {
    pub instance: String,
    #[serde(default)]
    pub stage: String,
    pub pipeline: String,
    pub kind: String,
    pub params: serde_json::Map<String, serde_json::Value>,
    pub key_inputs: KeyInputs,
    pub key: String,
    pub sources: BTreeMap<String, Vec<String>>,
    pub inputs: BTreeMap<String, Vec<SpecArtifact>>,
    /// Written as its name (`"cpu"`, `"cuda:0"`), as job files always held it.
    pub device: Device,
    pub data_dirs: Vec<PathBuf>,
    pub pipeline_dir: PathBuf,
    pub cache_dir: PathBuf,
    /// The remote cache, when the process should use one (the token comes from its environment).
    pub remote: Option<CacheSettings>,
    /// What the attempt asked for (informational: the limits are the scheduler's to enforce).
    #[serde(default)]
    pub request: Option<Request>,
    #[serde(default)]
    pub attempt: u32,
}

/// What the process reports (`result.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobResult {
    pub ok: bool,
    pub error: Option<String>,
    /// Another process had already computed the entry.
    pub reused: bool,
    pub host: String,
    pub seconds: f64,
    /// The process's own wall time, CPU time and peak memory.
    #[serde(default)]
    pub usage: Option<Usage>,
}

/// Errors of the node side (`tscpipe run-job`).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
    /// A job or result file that does not read (or write) as JSON.
    #[error("{path}: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("this tscpipe has no stage kind `{0}`")]
    UnknownKind(String),
    /// The binary here keys the kind differently from the one that wrote the job.
    #[error(
        "the tscpipe here ({program}) computes `{kind}` differently from the one that submitted the job \
         (version {here} here, {there} there): install the same tscpipe on every node"
    )]
    OtherVersion { program: String, kind: String, here: u32, there: u32 },
    #[error(transparent)]
    Cache(Box<crate::cache::CacheError>),
    /// An input blob that is neither in the shared cache nor on the remote.
    #[error("input `{name}` from `{from}`: {source}")]
    Input { name: String, from: String, source: Box<crate::cache::store::BlobError> },
    #[error(transparent)]
    Exec(Box<ExecError>),
}

impl From<crate::cache::CacheError> for JobError {
    fn from(e: crate::cache::CacheError) -> Self {
        JobError::Cache(Box::new(e))
    }
}

impl From<ExecError> for JobError {
    fn from(e: ExecError) -> Self {
        JobError::Exec(Box::new(e))
    }
}

pub(crate) fn job_error(msg: impl Into<String>) -> ExecError {
    ExecError::Stage(StageError::failed(msg))
}

pub(crate) fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

pub(crate) fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Writes `dir/job.json` for `job` (any `result.json` of an earlier attempt removed).
pub fn write_spec(
    job: &Job,
    env: &RunEnv,
    cache: &Cache,
    remote: Option<&CacheSettings>,
    dir: &Path,
) -> Result<PathBuf, ExecError> {
    std::fs::create_dir_all(dir).map_err(|e| StageError::io(dir, e))?;
    let _ = std::fs::remove_file(dir.join("result.json"));
    let inputs = job
        .inputs
        .iter()
        .map(|(name, arts)| {
            let v = arts
                .iter()
                .map(|a| SpecArtifact {
                    from: a.from.clone(),
                    axes: a.axes.clone(),
                    files: a
                        .files
                        .iter()
                        .map(|(n, p)| {
                            (n.clone(), p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default())
                        })
                        .collect(),
                })
                .collect();
            (name.clone(), v)
        })
        .collect();
    let spec = JobSpec {
        instance: job.instance.clone(),
        stage: job.stage.clone(),
        pipeline: job.pipeline.clone(),
        kind: job.kind.name().to_string(),
        params: job.params.0.clone(),
        key_inputs: job.key_inputs.clone(),
        key: job.key.clone(),
        sources: job.sources.clone(),
        inputs,
        device: job.device,
        data_dirs: env.data_dirs.iter().map(|d| absolute(d)).collect(),
        pipeline_dir: absolute(&env.pipeline_dir),
        cache_dir: absolute(cache.root()),
        remote: remote.cloned(),
        request: Some(job.request),
        attempt: job.attempt,
    };
    let json = serde_json::to_vec_pretty(&spec).map_err(StageError::from)?;
    let path = dir.join("job.json");
    atomic_write(&cache.tmp_dir(), &path, &json)?;
    Ok(path)
}

/// The result a process left in `dir`, if any.
pub fn read_result(dir: &Path) -> Option<Result<JobResult, JobError>> {
    let marker = dir.join("result.json");
    let text = std::fs::read_to_string(&marker).ok()?;
    Some(serde_json::from_str(&text).map_err(|source| JobError::Json { path: marker, source }))
}

/// `tscpipe run-job --tasks LIST`: the job file on line `$SLURM_ARRAY_TASK_ID` (from 0) of `LIST`.
pub fn task_job_file(list: &Path) -> Result<PathBuf, JobError> {
    let text = std::fs::read_to_string(list).map_err(|e| JobError::Io { path: list.to_path_buf(), source: e })?;
    let task: usize =
        std::env::var("SLURM_ARRAY_TASK_ID").ok().and_then(|t| t.trim().parse().ok()).ok_or_else(|| {
            JobError::Invalid("run-job --tasks: $SLURM_ARRAY_TASK_ID is not set (not an array task?)".into())
        })?;
    text.lines()
        .nth(task)
        .filter(|l| !l.trim().is_empty())
        .map(|l| PathBuf::from(l.trim()))
        .ok_or_else(|| JobError::Invalid(format!("{}: no task {task}", list.display())))
}

/// `tscpipe run-job JOB.json`: runs one stage instance and leaves `result.json` beside the job
/// file. Returns whether the stage succeeded.
pub fn run_job_file(path: &Path, registry: &Registry, cancel: &AtomicBool) -> Result<bool, JobError> {
    let started = Instant::now();
    let text = std::fs::read_to_string(path).map_err(|e| JobError::Io { path: path.to_path_buf(), source: e })?;
    let spec: JobSpec =
        serde_json::from_str(&text).map_err(|source| JobError::Json { path: path.to_path_buf(), source })?;
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let host = hostname();
    let outcome = run_spec(&spec, registry, cancel);
    let usage = Some(usage::whole_process(started.elapsed()));
    let seconds = started.elapsed().as_secs_f64();
    let result = match outcome {
        Ok(reused) => JobResult { ok: true, error: None, reused, host, seconds, usage },
        Err(e) => {
            eprintln!("tscpipe run-job {}: {e}", spec.instance);
            JobResult { ok: false, error: Some(e.to_string()), reused: false, host, seconds, usage }
        }
    };
    // A cancelled job leaves no marker: the runner that cancelled it is not waiting for one, and a
    // job stopped at its time limit (SIGTERM) must read as out of time, not as a stage error.
    if cancel.load(Ordering::Relaxed) && !result.ok {
        return Ok(false);
    }
    let marker = dir.join("result.json");
    let json = serde_json::to_vec_pretty(&result).map_err(|source| JobError::Json { path: marker.clone(), source })?;
    atomic_write(&spec.cache_dir.join("tmp"), &marker, &json)?;
    Ok(result.ok)
}

fn run_spec(spec: &JobSpec, registry: &Registry, cancel: &AtomicBool) -> Result<bool, JobError> {
    let kind = registry.get_arc(&spec.kind).ok_or_else(|| JobError::UnknownKind(spec.kind.clone()))?;
    if kind.version() != spec.key_inputs.version || spec.key_inputs.key() != spec.key {
        return Err(JobError::OtherVersion {
            program: std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
            kind: spec.kind.clone(),
            here: kind.version(),
            there: spec.key_inputs.version,
        });
    }
    let cache = match &spec.remote {
        Some(s) => super::cache_setup::open_cache(&spec.cache_dir, s),
        None => Cache::open(&spec.cache_dir),
    }?;
    let mut inputs = BTreeMap::new();
    for (name, arts) in &spec.inputs {
        let mut v = Vec::new();
        for a in arts {
            let mut files = BTreeMap::new();
            for (n, digest) in &a.files {
                cache.ensure_blob(digest).map_err(|source| JobError::Input {
                    name: name.clone(),
                    from: a.from.clone(),
                    source: Box::new(source),
                })?;
                files.insert(n.clone(), cache.blob_path(digest));
            }
            v.push(InputArtifact { from: a.from.clone(), axes: a.axes.clone(), files });
        }
        inputs.insert(name.clone(), v);
    }
    let job = Job {
        instance: spec.instance.clone(),
        stage: spec.stage.clone(),
        pipeline: spec.pipeline.clone(),
        kind,
        params: Params(spec.params.clone()),
        key_inputs: spec.key_inputs.clone(),
        key: spec.key.clone(),
        sources: spec.sources.clone(),
        inputs,
        device: spec.device,
        request: spec.request.unwrap_or_default(),
        attempt: spec.attempt.max(1),
        retries: 0,
    };
    let env = RunEnv {
        data_dirs: spec.data_dirs.clone(),
        pipeline_dir: spec.pipeline_dir.clone(),
        cache_dir: Some(spec.cache_dir.clone()),
    };
    // in this process: it is the isolation
    let executor = LocalExecutor { cache: cache.clone(), env, isolate: None };
    let progress = |p: StageProgress| {
        if !p.message.is_empty() {
            println!("{}", p.message);
        }
    };
    let r = executor.execute(&job, &progress, cancel);
    if let Some(remote) = cache.remote() {
        remote.flush(Duration::from_secs(300));
    }
    Ok(r?.reused)
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "?".into())
}
