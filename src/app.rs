//! The operations of the command line as library calls: load a pipeline with the usual search
//! paths, run it, report its status, diff runs.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::cache::remote::RemoteStats;
use crate::cache::{Cache, CacheError};
use crate::device::Device;
use crate::dsl::{DslError, Expanded, PipelineOptions};
use crate::exec::executor::Isolation;
use crate::exec::scheduler::{RunOptions, RunSummary, Scheduler};
use crate::exec::slurm::SlurmExecutor;
use crate::exec::{EventSink, Executor, LocalExecutor, publish};
use crate::plan::{Plan, Walk};
use crate::settings::{CacheSettings, Settings};
use crate::stages::Registry;
use crate::stages::kind::CheckEnv;
use crate::stats::compare::{Comparison, External, FigureError, render};
use crate::stats::{Analysis, StatsError};

/// Errors at the library's edge.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Dsl(#[from] DslError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Target(#[from] crate::plan::restrict::UnknownTarget),
    #[error(transparent)]
    Slurm(#[from] crate::exec::slurm::SlurmError),
    #[error(transparent)]
    Stats(#[from] StatsError),
    #[error(transparent)]
    Figure(#[from] FigureError),
    /// `--device` names no device, or one this build cannot compute on.
    #[error(transparent)]
    DeviceName(#[from] crate::device::DeviceError),
    /// `--device` names a device this machine does not have.
    #[error("--device {device}: {source}")]
    Device { device: Device, source: crate::models::ModelError },
}

/// Where things live for one invocation.
#[derive(Debug, Clone)]
pub struct Options {
    pub cache_dir: PathBuf,
    pub results_dir: PathBuf,
    /// Extra dataset folders (`--data-dir`), searched before the defaults.
    pub data_dirs: Vec<PathBuf>,
    pub load: PipelineOptions,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cache_dir: std::env::var_os("TSCPIPE_CACHE").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("cache")),
            results_dir: PathBuf::from("results"),
            data_dirs: Vec::new(),
            load: PipelineOptions::default(),
        }
    }
}

impl Options {
    /// Dataset search path: `--data-dir`s, `$TSCPIPE_DATA`, `$UCR_ARCHIVE`, the pipeline's own
    /// `data_dirs`, then `data/` next to the pipeline's project, in the current directory, and in
    /// this crate.
    pub fn data_search_path(&self, pipeline: &Path, declared: &[PathBuf]) -> Vec<PathBuf> {
        let mut dirs = self.data_dirs.clone();
        for var in ["TSCPIPE_DATA", "UCR_ARCHIVE"] {
            if let Some(v) = std::env::var_os(var) {
                dirs.extend(std::env::split_paths(&v));
            }
        }
        dirs.extend(declared.iter().cloned());
        if let Some(parent) = pipeline.parent() {
            dirs.push(parent.join("..").join("data"));
            dirs.push(parent.join("data"));
        }
        dirs.push(PathBuf::from("data"));
        dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data"));
        dirs
    }

    pub fn check_env(&self, pipeline: &Path, declared: &[PathBuf]) -> CheckEnv {
        CheckEnv {
            data_dirs: self.data_search_path(pipeline, declared),
            pipeline_dir: pipeline.parent().map(Path::to_path_buf).unwrap_or_default(),
            cache_dir: Some(self.cache_dir.clone()),
        }
    }

    /// The environment stages of an expanded pipeline run in (its declared data dirs included).
    pub fn run_env(&self, p: &Expanded) -> CheckEnv {
        self.check_env(&p.path, &p.data_dirs)
    }

    /// `status` for a pipeline file, with the same search paths as `run`.
    pub fn status(
        &self,
        p: &Expanded,
        registry: &Registry,
        device: &Device,
    ) -> Result<Vec<crate::exec::StatusRow>, Error> {
        let cache = Cache::open(&self.cache_dir)?;
        Ok(self.status_in(p, registry, &cache, device))
    }

    /// `status` against an opened cache: with a remote behind it (see [`open_cache`]), entries
    /// only there are reported as [`crate::exec::Status::Remote`]; nothing is downloaded.
    pub fn status_in(
        &self,
        p: &Expanded,
        registry: &Registry,
        cache: &Cache,
        device: &Device,
    ) -> Vec<crate::exec::StatusRow> {
        crate::plan::status(&Plan::new(p), registry, cache, device, &self.run_env(p))
    }
}

/// A `--device` resolved once, as every command takes it (`run`, `status`, `cache pull`,
/// `devices --bench`): a device this build can compute on and this machine has, or `auto`, which
/// becomes what [`crate::models::probe::auto`] picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceArg {
    pub device: Device,
    /// Whether it was `auto` (a command says what auto picked).
    pub auto: bool,
}

impl DeviceArg {
    /// The resolver: clap's `value_parser` for `--device`.
    pub fn resolve(spec: &str) -> Result<DeviceArg, Error> {
        if spec.trim().eq_ignore_ascii_case("auto") {
            return Ok(DeviceArg { device: crate::models::probe::auto(), auto: true });
        }
        let device = spec.parse::<Device>().and_then(Device::check_available)?;
        let device = crate::models::probe::check_present(device).map_err(|source| Error::Device { device, source })?;
        Ok(DeviceArg { device, auto: false })
    }
}

/// `cuda:0`, or `cuda:0 (auto)` where auto chose it.
impl std::fmt::Display for DeviceArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.device, if self.auto { " (auto)" } else { "" })
    }
}

/// What `tscpipe devices` prints: the CPU backend, wgpu adapters, CUDA devices, and `auto`'s pick.
pub fn devices() -> crate::models::probe::DevicesReport {
    crate::models::probe::report()
}

/// Reads, expands and validates a pipeline.
pub fn load(path: &Path, opts: &Options, registry: &Registry) -> Result<Expanded, Error> {
    load_with_settings(path, opts, registry).map(|(p, _)| p)
}

/// [`load`], plus the pipeline's `[cache]` and `[executor]` tables.
pub fn load_with_settings(path: &Path, opts: &Options, registry: &Registry) -> Result<(Expanded, Settings), Error> {
    if !path.exists() {
        return Err(Error::Usage(format!("pipeline file {} does not exist", path.display())));
    }
    let src = crate::dsl::load(path, &opts.load)?;
    let settings = Settings::from_table(&src.sources, &src.root)?;
    let env = opts.check_env(path, &crate::dsl::declared_data_dirs(&src));
    let expanded = crate::dsl::expand(src, registry, &env)?;
    let expanded = crate::plan::restrict(expanded, &opts.load.targets)?;
    Ok((expanded, settings))
}

/// The settings in force: the user's config file, then the pipeline's tables, then `cli`.
pub fn effective_settings(pipeline: Settings, cli: &Settings) -> Result<Settings, Error> {
    Ok(Settings::user()?.merged(pipeline).merged(cli.clone()))
}

/// The cache at `dir` with the remote the settings name (if any) behind it.
pub fn open_cache(dir: &Path, settings: &CacheSettings) -> Result<Cache, Error> {
    Ok(crate::exec::cache_setup::open_cache(dir, settings)?)
}

/// The outcome of [`run`]: what happened and which files were published.
pub struct RunOutput {
    pub pipeline: Expanded,
    pub summary: RunSummary,
    pub published: Vec<PathBuf>,
    /// What the remote cache did, when one was configured.
    pub remote: Option<RemoteStats>,
    /// SLURM jobs submitted (and adopted from an earlier run), with the SLURM executor.
    pub slurm: Option<SlurmStats>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SlurmStats {
    /// Stage instances submitted (each array task counts).
    pub submitted: usize,
    pub adopted: usize,
    /// `sbatch` calls: one per array or lone job.
    pub sbatch_calls: usize,
}

/// Runs a pipeline: only what is not cached executes.
pub fn run(
    path: &Path,
    opts: &Options,
    run: &RunOptions,
    registry: &Registry,
    events: &dyn EventSink,
    cancel: &AtomicBool,
) -> Result<RunOutput, Error> {
    run_with(path, opts, run, &Settings::default(), registry, events, cancel)
}

/// Longest wait at the end of a run for background uploads to the remote cache.
const UPLOAD_FLUSH: std::time::Duration = std::time::Duration::from_secs(120);

/// [`run`] with settings from the command line (`--executor`, `--remote`) over the user's
/// config file and the pipeline's `[cache]`/`[executor]` tables.
#[allow(clippy::too_many_arguments)]
pub fn run_with(
    path: &Path,
    opts: &Options,
    run: &RunOptions,
    cli: &Settings,
    registry: &Registry,
    events: &dyn EventSink,
    cancel: &AtomicBool,
) -> Result<RunOutput, Error> {
    let (pipeline, declared) = load_with_settings(path, opts, registry)?;
    let settings = effective_settings(declared, cli)?;
    let cache = open_cache(&opts.cache_dir, &settings.cache)?;
    let _lock = cache.lock_shared()?;
    let env = opts.run_env(&pipeline);
    let plan = Plan::new(&pipeline);
    let mut run = run.clone();
    run.settings = settings.executor.clone();
    let remote = settings.cache.remote.is_some().then(|| settings.cache.clone());
    // Stages with retries run in a child process (see `Isolation`); the binary is found lazily
    // so that a run without retries needs none.
    let isolate = crate::exec::slurm::tscpipe_program(&settings.executor)
        .ok()
        .map(|program| Isolation { program, remote: remote.clone() });
    let local = LocalExecutor { cache: cache.clone(), env: env.clone(), isolate };
    let slurm = match settings.executor.kind.as_deref().unwrap_or("local") {
        "local" => None,
        "slurm" => {
            let s = SlurmExecutor::new(cache.clone(), env.clone(), settings.executor.clone(), remote)?;
            // Tasks wait in SLURM's queue, not here: keep many in flight, GPU stages included;
            // SLURM counts their CPUs.
            let max = settings.executor.max_queued.unwrap_or(1000).max(1);
            run.jobs = run.jobs.max(max);
            run.per_device = run.per_device.max(max);
            Some(s)
        }
        other => {
            return Err(Error::Usage(format!("unknown executor `{other}` (expected `local` or `slurm`)")));
        }
    };
    let executor: &dyn Executor = match &slurm {
        Some(s) => s,
        None => &local,
    };
    if let Some(r) = cache.remote() {
        r.report_through_caller();
    }
    let events = &RemoteWarnings { events, cache: &cache };
    let scheduler = Scheduler { registry, env: &env, cache: &cache, executor, events };
    let summary = scheduler.run(&plan, &run, cancel);
    let slurm_stats = slurm.as_ref().map(|s| SlurmStats {
        submitted: s.submitted.load(std::sync::atomic::Ordering::Relaxed),
        adopted: s.adopted.load(std::sync::atomic::Ordering::Relaxed),
        sbatch_calls: s.sbatch_calls.load(std::sync::atomic::Ordering::Relaxed),
    });
    let published = publish::publish(&opts.results_dir, &pipeline, &summary, registry, &cache)
        .map_err(|source| Error::Io { path: opts.results_dir.clone(), source });
    let remote = cache.remote().map(|r| {
        r.flush(UPLOAD_FLUSH);
        r.stats()
    });
    // After the uploads' last warnings.
    events.finish();
    let published = published?;
    Ok(RunOutput { pipeline, summary, published, remote, slurm: slurm_stats })
}

/// Passes the remote cache's new warnings to the run's event sink ahead of each event, so they
/// show in the live view, the plain log and `--json` alike.
struct RemoteWarnings<'a> {
    events: &'a dyn EventSink,
    cache: &'a Cache,
}

impl RemoteWarnings<'_> {
    fn drain(&self) {
        for message in self.cache.remote().map(|r| r.take_warnings()).unwrap_or_default() {
            self.events.emit(&crate::exec::events::Event::Warning { message });
        }
    }
}

impl EventSink for RemoteWarnings<'_> {
    fn emit(&self, event: &crate::exec::events::Event) {
        self.drain();
        self.events.emit(event);
    }

    fn finish(&self) {
        self.drain();
        self.events.finish();
    }
}

/// `tscpipe cache push`: uploads every local entry the remote lacks.
pub fn cache_push(cache: &Cache) -> Result<PushReport, Error> {
    let remote = cache.remote().ok_or_else(|| no_remote("push"))?;
    let mut r = PushReport::default();
    for m in cache.entries().into_iter().flatten() {
        if remote.is_down() {
            r.failed += 1;
        } else if remote.has_entry(&m.key) {
            r.present += 1;
        } else if remote.upload_now(cache, &m) {
            r.uploaded += 1;
        } else {
            r.failed += 1;
        }
    }
    Ok(r)
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PushReport {
    pub uploaded: usize,
    pub present: usize,
    pub failed: usize,
}

/// What `tscpipe cache pull` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PullReport {
    /// Entries that were local already.
    pub local: usize,
    /// Entries restored from the remote.
    pub fetched: usize,
    /// Instances neither has (they will run).
    pub missing: usize,
}

fn no_remote(what: &str) -> Error {
    Error::Usage(format!(
        "no remote cache to {what}: pass --remote https://…, or set `[cache] remote` in the pipeline or in {}",
        Settings::user_config_path().map(|p| p.display().to_string()).unwrap_or_else(|| "the user config".into())
    ))
}

/// `tscpipe cache pull P.toml`: restores from the remote every entry the pipeline would use,
/// in dependency order (a remote has no listing, so the keys come from the pipeline).
pub fn cache_pull(
    pipeline: &Expanded,
    opts: &Options,
    cache: &Cache,
    registry: &Registry,
    device: &Device,
) -> Result<PullReport, Error> {
    use crate::cache::{Lookup, Verify};
    if cache.remote().is_none() {
        return Err(no_remote("pull from"));
    }
    let local_only = cache.clone().with_remote(None);
    let env = opts.run_env(pipeline);
    let plan = Plan::new(pipeline);
    let mut walk = Walk::new(&plan, registry, &env, device, &local_only, Verify::Full);
    let mut r = PullReport::default();
    while let Some(step) = walk.next() {
        let found = match (&step.keyed, step.lookup) {
            (Err(_), _) => None,
            (Ok(_), Lookup::Hit(m)) => {
                r.local += 1;
                Some(*m)
            }
            (Ok(k), _) => match cache.lookup(&k.key, Verify::Full) {
                Lookup::Hit(m) => {
                    r.fetched += 1;
                    Some(*m)
                }
                _ => None,
            },
        };
        match found {
            Some(m) => walk.resolve(step.index, m),
            None => r.missing += 1,
        }
    }
    // Instances below a missing one cannot be keyed: they will run too.
    r.missing += walk.rest().len();
    Ok(r)
}

/// The summary file of the pipeline's main stage (or of the last stage that has one).
pub fn main_summary(out: &RunOutput, registry: &Registry, cache: &Cache) -> Option<(String, String)> {
    let p = &out.pipeline;
    let candidates: Vec<usize> = match &p.main {
        Some(m) => p.stages.iter().position(|s| &s.name == m).into_iter().collect(),
        None => (0..p.stages.len()).rev().collect(),
    };
    for si in candidates {
        let decl = &p.stages[si];
        let kind = registry.get(&decl.kind)?;
        let Some(spec) = kind.outputs().into_iter().find(|o| o.summary) else { continue };
        for &ii in &decl.instances {
            if let Some(m) = out.summary.results.get(ii).and_then(|r| r.manifest.as_ref())
                && let Some(o) = m.outputs.get(spec.name)
                && let Ok(text) = std::fs::read_to_string(cache.blob_path(&o.digest))
            {
                return Some((p.instances[ii].id.clone(), text));
            }
        }
    }
    None
}

/// `tscpipe analyze`: what the `analyze` stage computes, on result tables given directly (the
/// one-call use people know from autorank or cd-diagram scripts), with the stage's options.
/// Writes the stage's files to `out_dir`.
pub fn analyze_tables(files: &[External], comparison: &Comparison, out_dir: &Path) -> Result<Analysis, Error> {
    let mut parts = Vec::new();
    for f in files {
        if !f.path.exists() {
            return Err(Error::Usage(format!("no such file or folder: {}", f.path.display())));
        }
        parts.push(comparison.read_table(f)?);
    }
    let analysis = comparison.analyse(parts)?;
    std::fs::create_dir_all(out_dir).map_err(|e| Error::Io { path: out_dir.to_path_buf(), source: e })?;
    for (name, bytes) in render(&analysis)? {
        crate::cache::store::atomic_write(out_dir, &out_dir.join(name), &bytes)?;
    }
    Ok(analysis)
}

/// `tscpipe report`: rebuilds the published report(s) of a pipeline's last run from the cache,
/// with that run's stage timings, without running anything.
pub fn report(path: &Path, opts: &Options, registry: &Registry) -> Result<Vec<PathBuf>, Error> {
    use crate::cache::store::{Lookup, Verify};
    let pipeline = load(path, opts, registry)?;
    let cache = Cache::open(&opts.cache_dir)?;
    let run = cache.latest_run(&pipeline.name).ok_or_else(|| {
        Error::Usage(format!("`{}` has not been run yet: tscpipe run {}", pipeline.name, path.display()))
    })?;
    let mut written = Vec::new();
    for (i, inst) in pipeline.instances.iter().enumerate() {
        // Reports are the outputs that take the run's timings.
        let Some(kind) = registry.get(&inst.kind) else { continue };
        let with_timings: Vec<&str> = kind.outputs().iter().filter(|o| o.timings).map(|o| o.name).collect();
        if with_timings.is_empty() {
            continue;
        }
        let Some(key) = run.key_of(&inst.id) else { continue };
        let Lookup::Hit(m) = cache.lookup(key, Verify::Full) else {
            return Err(Error::Usage(format!(
                "the cached report of `{}` is gone (cache gc?): run the pipeline again",
                inst.id
            )));
        };
        let dir = publish::instance_dir(&opts.results_dir, &pipeline, i);
        std::fs::create_dir_all(&dir).map_err(|e| Error::Io { path: dir.clone(), source: e })?;
        for (name, o) in &m.outputs {
            let bytes = std::fs::read(cache.blob_path(&o.digest))
                .map_err(|e| Error::Io { path: cache.blob_path(&o.digest), source: e })?;
            let bytes = if with_timings.contains(&name.as_str()) {
                run.fill_timings(&String::from_utf8_lossy(&bytes)).into_bytes()
            } else {
                bytes
            };
            crate::cache::store::atomic_write(&dir, &dir.join(name), &bytes)?;
            written.push(dir.join(name));
        }
    }
    if written.is_empty() {
        return Err(Error::Usage(format!("`{}` has no report stage that completed in its last run", pipeline.name)));
    }
    Ok(written)
}
