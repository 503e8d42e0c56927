//! Executors run one stage instance whose key is not cached and leave its entry in the cache.
//!
//! The scheduler only decides *what* runs *when*; an executor decides *where*. The local one
//! runs the stage in-process (or, for a stage that may be retried after running out of memory or
//! time, in a child `tscpipe run-job` process under its limits); a cluster executor (SLURM)
//! implements the same trait by running `tscpipe` on a node against a shared cache.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::cache::{Cache, KeyInputs, Lookup, Manifest, Verify};
use crate::settings::CacheSettings;
use crate::stages::kind::{InputArtifact, Params, RunEnv, StageContext, StageError, StageKind, StageProgress};
use crate::util::resources::Request;

use crate::device::Device;

use super::usage::{InProcess, Usage};

/// A stage instance ready to run: its key is known and its inputs are in the cache.
pub struct Job {
    pub instance: String,
    /// The stage the instance belongs to (per-stage executor settings are looked up by it).
    pub stage: String,
    pub pipeline: String,
    pub kind: Arc<dyn StageKind>,
    pub params: Params,
    pub key_inputs: KeyInputs,
    pub key: String,
    pub sources: BTreeMap<String, Vec<String>>,
    pub inputs: BTreeMap<String, Vec<InputArtifact>>,
    pub device: Device,
    /// What this attempt asks for (see [`super::resources`]).
    pub request: Request,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Retries the instance has after running out of memory or time (all of them, not those left).
    pub retries: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Stage(#[from] StageError),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    #[error("stage did not write its declared output `{0}`")]
    MissingOutput(String),
    #[error("stage wrote `{0}`, which is not one of its declared outputs")]
    UndeclaredOutput(String),
    #[error("stage panicked: {0}")]
    Panicked(String),
    /// Killed for running out of memory or time, or lost with its node: a retry may succeed.
    #[error("{detail}")]
    Exceeded { what: Exceeded, detail: String, info: Box<RunInfo> },
}

/// What an attempt ran out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    Memory,
    Time,
    /// Its node failed or it was preempted (retried with the same request).
    Node,
}

impl ExecError {
    pub fn is_cancelled(&self) -> bool {
        matches!(self, ExecError::Stage(StageError::Cancelled))
    }
    pub fn exceeded(&self) -> Option<Exceeded> {
        match self {
            ExecError::Exceeded { what, .. } => Some(*what),
            _ => None,
        }
    }
    /// What the attempt is known to have used, where it was measured before it failed.
    pub fn info(&self) -> Option<&RunInfo> {
        match self {
            ExecError::Exceeded { info, .. } => Some(info.as_ref()),
            _ => None,
        }
    }
}

/// Where an attempt ran and what it used.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    pub usage: Option<Usage>,
    /// The SLURM job or array task.
    pub job: Option<String>,
    pub host: Option<String>,
}

/// What an executor did with a job.
pub struct Executed {
    pub manifest: Manifest,
    /// Another process finished the same entry first; nothing was computed here.
    pub reused: bool,
    pub info: RunInfo,
}

impl Executed {
    pub fn new(manifest: Manifest, reused: bool) -> Executed {
        Executed { manifest, reused, info: RunInfo::default() }
    }
}

pub trait Executor: Send + Sync {
    fn name(&self) -> &'static str;
    /// Runs the job and returns the committed manifest.
    fn execute(
        &self,
        job: &Job,
        progress: &(dyn Fn(StageProgress) + Sync),
        cancel: &AtomicBool,
    ) -> Result<Executed, ExecError>;
    /// Whether a job's CPUs come out of the scheduler's `-j` slots (they do for stages run on
    /// this machine; a cluster's scheduler counts its own).
    fn uses_local_cpus(&self) -> bool {
        true
    }
}

/// Runs stages on this machine: in the calling worker thread, or in a child process for stages
/// that may be retried (see [`Isolation`]).
pub struct LocalExecutor {
    pub cache: Cache,
    pub env: RunEnv,
    /// How to run a stage in a child process; `None`: always in this one.
    pub isolate: Option<Isolation>,
}

/// A stage with retries runs as `PROGRAM run-job JOB.json` in a child process, so that running
/// out of memory kills the child, not the run, and the retry can ask for more. The child's
/// limits are its request's: memory as `RLIMIT_DATA` (its private writable memory, heap and
/// anonymous mappings, which is at least its resident set: an allocation past it fails and the
/// stage aborts), time by SIGTERM (then SIGKILL) from here. A child the kernel's OOM killer took
/// (SIGKILL from elsewhere) has run out of memory too.
#[derive(Debug, Clone)]
pub struct Isolation {
    pub program: PathBuf,
    /// The remote cache the child uses, as the run does.
    pub remote: Option<CacheSettings>,
}

impl Executor for LocalExecutor {
    fn name(&self) -> &'static str {
        "local"
    }

    fn execute(
        &self,
        job: &Job,
        progress: &(dyn Fn(StageProgress) + Sync),
        cancel: &AtomicBool,
    ) -> Result<Executed, ExecError> {
        if job.retries > 0
            && let Some(iso) = &self.isolate
        {
            return self.run_child(job, iso, cancel);
        }
        // Another tscpipe on the same cache may be computing this very entry: wait, then reuse.
        let _guard = self.cache.lock_key(&job.key)?;
        if let Lookup::Hit(manifest) = self.cache.lookup(&job.key, Verify::Full) {
            return Ok(Executed::new(*manifest, true));
        }
        let staging = self.cache.staging()?;
        let ckpt = self.cache.checkpoint_dir(&job.key);
        std::fs::create_dir_all(&ckpt).map_err(|e| StageError::io(&ckpt, e))?;
        let started = Instant::now();
        let ctx = StageContext {
            instance: &job.instance,
            params: &job.params,
            inputs: &job.inputs,
            out_dir: &staging.dir,
            checkpoint_dir: &ckpt,
            device: &job.device,
            env: &self.env,
            progress,
            cancel,
            time_limit: job.request.time.map(|t| t.duration()),
        };
        let measure = InProcess::start();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.kind.run(&ctx)));
        let usage = measure.finish();
        match result {
            Ok(r) => r?,
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                return Err(ExecError::Panicked(msg));
            }
        }
        let outputs = job.kind.outputs();
        for o in &outputs {
            if !o.optional && !staging.dir.join(o.name).exists() {
                return Err(ExecError::MissingOutput(o.name.to_string()));
            }
        }
        for e in std::fs::read_dir(&staging.dir).map_err(|e| StageError::io(&staging.dir, e))?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !outputs.iter().any(|o| o.name == name) {
                return Err(ExecError::UndeclaredOutput(name));
            }
        }
        let volatile: Vec<&str> = outputs.iter().filter(|o| o.volatile).map(|o| o.name).collect();
        let manifest = self.cache.commit(
            &staging,
            &volatile,
            job.key_inputs.clone(),
            job.sources.clone(),
            &job.instance,
            &job.pipeline,
            started.elapsed(),
        )?;
        Ok(Executed { manifest, reused: false, info: RunInfo { usage: Some(usage), job: None, host: None } })
    }
}

/// Why a child was signalled from here.
#[derive(Clone, Copy, PartialEq)]
enum Stopped {
    Cancelled,
    OutOfTime,
}

/// How long a child has between SIGTERM and SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(10);

impl LocalExecutor {
    fn run_child(&self, job: &Job, iso: &Isolation, cancel: &AtomicBool) -> Result<Executed, ExecError> {
        use super::jobfile::{job_error, read_result, write_spec};
        if let Lookup::Hit(m) = self.cache.lookup(&job.key, Verify::Full) {
            return Ok(Executed::new(*m, true));
        }
        let dir = self.cache.root().join("local").join(&job.key);
        let spec = write_spec(job, &self.env, &self.cache, iso.remote.as_ref(), &dir)?;
        let log_path = dir.join("out.log");
        let log = std::fs::File::create(&log_path).map_err(|e| StageError::io(&log_path, e))?;
        let log2 = log.try_clone().map_err(|e| StageError::io(&log_path, e))?;
        let mut cmd = std::process::Command::new(&iso.program);
        // No backtraces: symbolising one allocates, and a panic's backtrace failing to allocate
        // under the memory limit deadlocks in the allocation-error hook instead of aborting.
        cmd.arg("run-job")
            .arg(&spec)
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .stdin(std::process::Stdio::null())
            .stdout(log)
            .stderr(log2);
        if let Some(limit) = job.request.mem.map(|m| m.bytes() as libc::rlim_t) {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let r = libc::rlimit { rlim_cur: limit, rlim_max: limit };
                    if libc::setrlimit(libc::RLIMIT_DATA, &r) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let started = Instant::now();
        let child = cmd.spawn().map_err(|e| {
            job_error(format!(
                "cannot start {} run-job: {e} (`[executor] tscpipe` names the binary)",
                iso.program.display()
            ))
        })?;
        let pid = child.id() as libc::pid_t;
        // Reaped below with wait4 (for its rusage); the handle is not waited on again.
        drop(child);
        let deadline = job.request.time.map(|t| started + t.duration());
        let mut stopped: Option<(Instant, Stopped)> = None;
        let (status, ru) = loop {
            let mut status: libc::c_int = 0;
            // SAFETY: wait4 on our own child, writing into the zeroed rusage.
            let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
            let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
            if r == pid {
                break (status, ru);
            }
            if r < 0 {
                return Err(job_error(format!("waiting for run-job {pid}: {}", std::io::Error::last_os_error())));
            }
            let why = if cancel.load(Ordering::Relaxed) {
                Some(Stopped::Cancelled)
            } else if deadline.is_some_and(|d| Instant::now() >= d) {
                Some(Stopped::OutOfTime)
            } else {
                None
            };
            match (stopped, why) {
                (None, Some(w)) => {
                    // SAFETY: signalling our own child, not yet reaped.
                    unsafe { libc::kill(pid, libc::SIGTERM) };
                    stopped = Some((Instant::now(), w));
                }
                (Some((at, _)), _) if at.elapsed() > TERM_GRACE => {
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
                _ => {}
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let (cpu, peak) = super::usage::from_rusage(&ru);
        let usage = Usage {
            wall_s: started.elapsed().as_secs_f64(),
            cpu_s: Some(cpu),
            peak_rss: Some(peak),
            ..Default::default()
        };
        let info = Box::new(RunInfo { usage: Some(usage), job: None, host: None });
        match stopped.map(|(_, w)| w) {
            Some(Stopped::Cancelled) => return Err(ExecError::Stage(StageError::Cancelled)),
            Some(Stopped::OutOfTime) => {
                let t = job.request.time.map(|t| t.to_string()).unwrap_or_default();
                return Err(ExecError::Exceeded {
                    what: Exceeded::Time,
                    detail: format!("stopped at its time limit ({t}); {}", log_tail(&log_path)),
                    info,
                });
            }
            None => {}
        }
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let out_of_memory = |text: &str| {
            ["memory allocation of", "out of memory", "Cannot allocate memory"].iter().any(|m| text.contains(m))
        };
        let mem = job.request.mem.map(|m| format!(" ({m})")).unwrap_or_default();
        if libc::WIFSIGNALED(status) {
            let sig = libc::WTERMSIG(status);
            if sig == libc::SIGKILL || (sig == libc::SIGABRT && out_of_memory(&log)) {
                return Err(ExecError::Exceeded {
                    what: Exceeded::Memory,
                    detail: format!(
                        "ran out of memory{mem} ({}); {}",
                        if sig == libc::SIGKILL { "killed, by the OOM killer" } else { "an allocation failed" },
                        log_tail(&log_path)
                    ),
                    info,
                });
            }
            return Err(job_error(format!("run-job died of signal {sig}; {}", log_tail(&log_path))));
        }
        match read_result(&dir) {
            Some(Ok(r)) if r.ok => match self.cache.lookup(&job.key, Verify::Full) {
                Lookup::Hit(m) => Ok(Executed { manifest: *m, reused: r.reused, info: *info }),
                _ => Err(job_error(format!("run-job reported success but left no entry for {}", job.key))),
            },
            Some(Ok(r)) => {
                let e = r.error.unwrap_or_else(|| "failed".into());
                if out_of_memory(&e) && job.request.mem.is_some() {
                    return Err(ExecError::Exceeded {
                        what: Exceeded::Memory,
                        detail: format!("ran out of memory{mem}: {e}"),
                        info,
                    });
                }
                Err(job_error(e))
            }
            Some(Err(e)) => Err(job_error(e.to_string())),
            None if out_of_memory(&log) => Err(ExecError::Exceeded {
                what: Exceeded::Memory,
                detail: format!("ran out of memory{mem}; {}", log_tail(&log_path)),
                info,
            }),
            None => Err(job_error(format!(
                "run-job exited with status {} and left no result; {}",
                libc::WEXITSTATUS(status),
                log_tail(&log_path)
            ))),
        }
    }
}

/// The last lines of a job's output, for an error message.
pub(crate) fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(8)..].join("\n");
    if tail.is_empty() {
        format!("(no output in {})", path.display())
    } else {
        format!("last lines of {}:\n{tail}", path.display())
    }
}
