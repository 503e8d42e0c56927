//! The SLURM executor: stage instances that are not cached run as `tscpipe run-job` on compute
//! nodes, against the shared cache. The scheduler hands over an instance only once its inputs are
//! in the cache, so SLURM needs no job dependencies.
//!
//! Job arrays: ready instances of one stage that ask for the same resources go out together as
//! one `sbatch --array=0-(N-1)%M` (M = `max_jobs`, tasks running at once). An instance waits for
//! others to join its array until a second passes with none joining, or `array_wait` seconds
//! (default 5), or `max_array` have joined; a lone instance is a plain job. Task `k` runs the job
//! file on line `k` of the array's task list (`tscpipe run-job --tasks LIST`).
//!
//! Files: `<cache>/slurm/<key>/` holds `job.json` (what to run), `result.json` (the marker the
//! node writes when the stage finishes, with what it used) and `submitted.json` (the job or array
//! task it went out as, and its log). `<cache>/slurm/arrays/<name>/` holds an array's `job.sh`,
//! `tasks` and one log per task. Job state is followed with `squeue` (one query per poll for every
//! task in flight) and the markers, never `sacct` alone: a small cluster may have no accounting
//! storage, and `squeue` forgets finished jobs after `MinJobAge` (300 s by default).
//!
//! A task that ends OUT_OF_MEMORY or TIMEOUT (or with its node lost) is reported as such, and the
//! scheduler retries it with more memory or time where the stage has retries. Ctrl-C `scancel`s
//! every array and job of the run at once. A run started after an earlier one was killed adopts
//! that run's tasks still pending or running (found through `submitted.json`) instead of
//! submitting them again; finished work is in the cache and is not submitted at all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::cache::store::{atomic_write, now_unix};
use crate::cache::{Cache, Lookup, Verify};
use crate::settings::{CacheSettings, ExecutorSettings};
use crate::stages::kind::{RunEnv, StageError, StageProgress};
use crate::util::resources::Request;

use super::executor::{Exceeded, ExecError, Executed, Executor, Job, RunInfo, log_tail};
use super::jobfile::{absolute, job_error, read_result, sh_quote, write_spec};

/// Why SLURM could not be asked (or told) something.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SlurmError {
    /// The `tscpipe` binary to hand to the nodes is not known.
    #[error("cannot find this tscpipe binary: {0}")]
    Program(#[source] Arc<std::io::Error>),
    /// A SLURM command that could not be started.
    #[error("cannot run {command}: {source}")]
    Spawn { command: &'static str, source: Arc<std::io::Error> },
    /// A SLURM command that failed, with what it said.
    #[error("{command}: {stderr}")]
    Failed { command: &'static str, stderr: String },
}

/// Where an instance went out (`submitted.json` in its job folder).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Submitted {
    /// `12345`, or an array task `12345_7`.
    pub job: String,
    /// The output file SLURM writes for it.
    pub log: PathBuf,
    pub submitted_unix: u64,
    #[serde(default)]
    pub request: Option<Request>,
}

/// SLURM job id (`12345` or `12345_7`) → (state, reason), as `squeue -r` reports them.
type JobStates = HashMap<String, (String, String)>;

/// Instances waiting to go out together: same stage, same request.
type BatchKey = (String, Request);

struct Member {
    ticket: u64,
    spec: PathBuf,
    dir: PathBuf,
}

struct Batch {
    /// The first job that joined: its settings (stage, request) make the sbatch flags.
    members: Vec<Member>,
    opened: Instant,
    last_join: Instant,
}

/// Why a batch's members were not submitted (each member reports it).
#[derive(Debug, Clone)]
enum NotSubmitted {
    Cancelled,
    /// The batch's `sbatch` failed: its error, for every member.
    Failed(String),
}

#[derive(Default)]
struct Batches {
    open: HashMap<BatchKey, Batch>,
    /// ticket → (task id, log) or why it was not submitted.
    done: HashMap<u64, Result<(String, PathBuf), NotSubmitted>>,
}

pub struct SlurmExecutor {
    pub cache: Cache,
    pub env: RunEnv,
    pub settings: ExecutorSettings,
    /// Handed to the nodes so they read through / upload to the same remote.
    pub remote: Option<CacheSettings>,
    /// The binary the nodes run.
    pub program: PathBuf,
    /// Instances (array tasks) this executor submitted (adopted ones not counted).
    pub submitted: AtomicUsize,
    pub adopted: AtomicUsize,
    /// `sbatch` calls (one per array or lone job).
    pub sbatch_calls: AtomicUsize,
    /// One `squeue` answer shared by every followed task, refreshed at most once per poll, so
    /// a thousand tasks in flight cost the controller one query per interval, not a thousand.
    states: Mutex<Option<(Instant, Result<JobStates, SlurmError>)>>,
    batches: Mutex<Batches>,
    batch_cv: Condvar,
    tickets: AtomicU64,
    /// Arrays and jobs submitted or adopted, for one `scancel` of them all on Ctrl-C.
    live: Mutex<Vec<String>>,
    cancelled_all: AtomicBool,
}

/// SLURM states of a job that has not finished.
const ALIVE: &[&str] = &[
    "PENDING",
    "RUNNING",
    "CONFIGURING",
    "COMPLETING",
    "SUSPENDED",
    "REQUEUED",
    "REQUEUE_HOLD",
    "REQUEUE_FED",
    "RESIZING",
    "SIGNALING",
    "STAGE_OUT",
];

impl SlurmExecutor {
    pub fn new(
        cache: Cache,
        env: RunEnv,
        settings: ExecutorSettings,
        remote: Option<CacheSettings>,
    ) -> Result<SlurmExecutor, SlurmError> {
        let program = tscpipe_program(&settings)?;
        Ok(SlurmExecutor {
            cache,
            env,
            settings,
            remote,
            program,
            submitted: AtomicUsize::new(0),
            adopted: AtomicUsize::new(0),
            sbatch_calls: AtomicUsize::new(0),
            states: Mutex::new(None),
            batches: Mutex::new(Batches::default()),
            batch_cv: Condvar::new(),
            tickets: AtomicU64::new(0),
            live: Mutex::new(Vec::new()),
            cancelled_all: AtomicBool::new(false),
        })
    }

    fn poll_interval(&self) -> Duration {
        Duration::from_secs_f64(self.settings.poll.filter(|p| *p > 0.0).unwrap_or(2.0))
    }

    fn job_dir(&self, key: &str) -> PathBuf {
        self.cache.root().join("slurm").join(key)
    }

    /// The sbatch flags for a job's attempt: its request, then where the settings send its stage.
    pub fn sbatch_args(&self, job: &Job) -> Vec<String> {
        let s = &self.settings;
        let stage = s.stages.get(&job.stage);
        let q = job.request;
        let mut a = vec![format!("--cpus-per-task={}", q.cpus)];
        if let Some(m) = q.mem {
            a.push(format!("--mem={}", m.sbatch()));
        }
        if let Some(t) = q.time {
            a.push(format!("--time={}", t.sbatch()));
        }
        if q.gpus > 0 {
            a.push(format!("--gres=gpu:{}", q.gpus));
        }
        if let Some(p) = stage.and_then(|r| r.partition.clone()).or(s.partition.clone()) {
            a.push(format!("--partition={p}"));
        }
        if let Some(acc) = &s.account {
            a.push(format!("--account={acc}"));
        }
        a.extend(s.extra.iter().cloned());
        if let Some(r) = stage {
            a.extend(r.extra.iter().cloned());
        }
        a
    }

    /// A task an earlier run submitted for this key that SLURM still has queued or running.
    fn adoptable(&self, dir: &Path) -> Option<Submitted> {
        let text = std::fs::read_to_string(dir.join("submitted.json")).ok()?;
        let sub: Submitted = serde_json::from_str(&text).ok()?;
        match self.state_of(&sub.job) {
            Ok(Some((state, _))) if ALIVE.contains(&state.as_str()) => Some(sub),
            _ => None,
        }
    }

    /// Queues `job` for the next array of its stage and request; returns its task id and log
    /// once the array is submitted.
    fn join_batch(
        &self,
        job: &Job,
        spec: PathBuf,
        dir: PathBuf,
        cancel: &AtomicBool,
    ) -> Result<(String, PathBuf), ExecError> {
        let ticket = self.tickets.fetch_add(1, Ordering::Relaxed);
        let key: BatchKey = (job.stage.clone(), job.request);
        let max = self.settings.max_array.unwrap_or(1000).max(1);
        let wait = Duration::from_secs_f64(self.settings.array_wait.filter(|w| *w >= 0.0).unwrap_or(5.0));
        let quiet = wait.min(Duration::from_secs(1));
        let lead = {
            let mut b = self.batches.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            match b.open.get_mut(&key) {
                Some(batch) if batch.members.len() < max => {
                    batch.members.push(Member { ticket, spec, dir });
                    batch.last_join = now;
                    false
                }
                _ => {
                    // (a full batch was taken by its leader already, or there is none)
                    b.open.insert(
                        key.clone(),
                        Batch { members: vec![Member { ticket, spec, dir }], opened: now, last_join: now },
                    );
                    true
                }
            }
        };
        if lead {
            // Collect until quiet, old or full; then submit what joined.
            let batch = loop {
                std::thread::sleep(Duration::from_millis(20));
                let mut b = self.batches.lock().unwrap_or_else(|p| p.into_inner());
                let ready = b.open.get(&key).is_none_or(|x| {
                    x.members.len() >= max
                        || x.last_join.elapsed() >= quiet
                        || x.opened.elapsed() >= wait
                        || cancel.load(Ordering::Relaxed)
                });
                if ready {
                    break b.open.remove(&key);
                }
            };
            let members = batch.map(|x| x.members).unwrap_or_default();
            let outcome = if cancel.load(Ordering::Relaxed) {
                Err(NotSubmitted::Cancelled)
            } else {
                // One error for every member: its text.
                self.submit(job, &members).map_err(|e| NotSubmitted::Failed(e.to_string()))
            };
            let mut b = self.batches.lock().unwrap_or_else(|p| p.into_inner());
            match outcome {
                Ok(ids) => {
                    for (m, id) in members.iter().zip(ids) {
                        b.done.insert(m.ticket, Ok(id));
                    }
                }
                Err(e) => {
                    for m in &members {
                        b.done.insert(m.ticket, Err(e.clone()));
                    }
                }
            }
            self.batch_cv.notify_all();
        }
        let mut b = self.batches.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(r) = b.done.remove(&ticket) {
                return match r {
                    Ok(x) => Ok(x),
                    Err(NotSubmitted::Cancelled) => Err(ExecError::Stage(StageError::Cancelled)),
                    Err(NotSubmitted::Failed(e)) => Err(job_error(e)),
                };
            }
            b = self.batch_cv.wait_timeout(b, Duration::from_millis(200)).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// One `sbatch` for the batch's members (an array unless there is one); their task ids and logs.
    fn submit(&self, job: &Job, members: &[Member]) -> Result<Vec<(String, PathBuf)>, ExecError> {
        if members.is_empty() {
            return Ok(Vec::new());
        }
        let program = sh_quote(&absolute(&self.program).to_string_lossy());
        let mut cmd = Command::new("sbatch");
        cmd.arg("--parsable").arg(format!("--job-name=tsc-{}", job.stage));
        let (script, logs) = if members.len() == 1 {
            let dir = &members[0].dir;
            let script = dir.join("job.sh");
            let text = format!(
                "#!/bin/sh\n# tscpipe stage instance {}\nexec {program} run-job {}\n",
                job.instance.replace('\n', " "),
                sh_quote(&members[0].spec.to_string_lossy()),
            );
            atomic_write(&self.cache.tmp_dir(), &script, text.as_bytes())?;
            let log = dir.join("out.log");
            cmd.arg(format!("--output={}", log.display()));
            (script, vec![log])
        } else {
            let seq = self.tickets.fetch_add(1, Ordering::Relaxed);
            let name = format!("{}-{}-{}-{seq}", safe(&job.stage), now_unix(), std::process::id());
            let dir = self.cache.root().join("slurm").join("arrays").join(name);
            std::fs::create_dir_all(&dir).map_err(|e| StageError::io(&dir, e))?;
            let list: String = members.iter().map(|m| format!("{}\n", m.spec.display())).collect();
            atomic_write(&self.cache.tmp_dir(), &dir.join("tasks"), list.as_bytes())?;
            let script = dir.join("job.sh");
            let text = format!(
                "#!/bin/sh\n# tscpipe: {} instances of stage {}\nexec {program} run-job --tasks {}\n",
                members.len(),
                job.stage.replace('\n', " "),
                sh_quote(&dir.join("tasks").to_string_lossy()),
            );
            atomic_write(&self.cache.tmp_dir(), &script, text.as_bytes())?;
            let throttle = self.settings.max_jobs.unwrap_or(100).max(1);
            cmd.arg(format!("--array=0-{}%{throttle}", members.len() - 1))
                .arg(format!("--output={}", dir.join("%a.log").display()));
            (script, (0..members.len()).map(|k| dir.join(format!("{k}.log"))).collect())
        };
        cmd.args(self.sbatch_args(job)).arg(&script);
        let out =
            cmd.output().map_err(|e| job_error(format!("cannot run sbatch: {e} (is slurm-client installed?)")))?;
        self.sbatch_calls.fetch_add(1, Ordering::Relaxed);
        if !out.status.success() {
            return Err(job_error(format!("sbatch failed: {}", String::from_utf8_lossy(&out.stderr).trim())));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let id = stdout.trim().split(';').next().unwrap_or("").trim().to_string();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(job_error(format!("sbatch printed no job id: `{}`", stdout.trim())));
        }
        self.live.lock().unwrap_or_else(|p| p.into_inner()).push(id.clone());
        self.submitted.fetch_add(members.len(), Ordering::Relaxed);
        let tasks: Vec<(String, PathBuf)> = if members.len() == 1 {
            vec![(id, logs[0].clone())]
        } else {
            logs.into_iter().enumerate().map(|(k, log)| (format!("{id}_{k}"), log)).collect()
        };
        for (m, (task, log)) in members.iter().zip(&tasks) {
            let sub = Submitted {
                job: task.clone(),
                log: log.clone(),
                submitted_unix: now_unix(),
                request: Some(job.request),
            };
            if let Ok(json) = serde_json::to_vec_pretty(&sub) {
                let _ = atomic_write(&self.cache.tmp_dir(), &m.dir.join("submitted.json"), &json);
            }
        }
        Ok(tasks)
    }

    /// On Ctrl-C: one `scancel` for every array and job of this run.
    fn cancel_all(&self) {
        if self.cancelled_all.swap(true, Ordering::SeqCst) {
            return;
        }
        let ids = self.live.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if !ids.is_empty() {
            let _ = Command::new("scancel").args(&ids).status();
        }
    }

    /// Follows a task until it leaves its result, fails, or the run is cancelled.
    fn follow(
        &self,
        job: &Job,
        id: &str,
        dir: &Path,
        log: &Path,
        progress: &(dyn Fn(StageProgress) + Sync),
        cancel: &AtomicBool,
    ) -> Result<Executed, ExecError> {
        let poll = self.poll_interval();
        let mut last_state = String::new();
        let mut gone_since: Option<Instant> = None;
        let mut squeue_errors = 0u32;
        let mut first = true;
        loop {
            // Sleep in small steps so Ctrl-C is prompt.
            let until = Instant::now() + if first { Duration::ZERO } else { poll };
            first = false;
            while Instant::now() < until {
                if cancel.load(Ordering::Relaxed) {
                    self.cancel_all();
                    return Err(ExecError::Stage(StageError::Cancelled));
                }
                std::thread::sleep(Duration::from_millis(50).min(poll));
            }
            if cancel.load(Ordering::Relaxed) {
                self.cancel_all();
                return Err(ExecError::Stage(StageError::Cancelled));
            }
            let state = self.state_of(id);
            let (state, reason) = match state {
                Ok(Some(s)) => {
                    squeue_errors = 0;
                    s
                }
                Ok(None) => (String::new(), String::new()),
                Err(e) => {
                    squeue_errors += 1;
                    if squeue_errors >= 30 {
                        return Err(job_error(format!("slurm job {id}: squeue keeps failing: {e}")));
                    }
                    continue;
                }
            };
            // A pending task has left no result: spare the shared filesystem the look.
            if state != "PENDING"
                && let Some(r) = read_result(dir)
            {
                let r = r.map_err(|e| job_error(format!("slurm job {id}: {e}")))?;
                let info = RunInfo { usage: r.usage, job: Some(id.to_string()), host: Some(r.host.clone()) };
                if !r.ok {
                    return Err(job_error(format!(
                        "slurm job {id} on {}: {}",
                        r.host,
                        r.error.unwrap_or_else(|| "failed".into())
                    )));
                }
                return match self.cache.lookup(&job.key, Verify::Full) {
                    Lookup::Hit(m) => Ok(Executed { manifest: *m, reused: r.reused, info }),
                    _ => Err(job_error(format!(
                        "slurm job {id} reported success on {} but its entry is not in the cache at {} \
                         (is the cache on a filesystem every node shares?)",
                        r.host,
                        self.cache.root().display()
                    ))),
                };
            }
            if !state.is_empty() && state != last_state {
                let msg = if reason.is_empty() || reason == "None" {
                    format!("slurm job {id}: {}", state.to_lowercase())
                } else {
                    format!("slurm job {id}: {} ({reason})", state.to_lowercase())
                };
                progress(StageProgress { fraction: None, message: msg });
                last_state = state.clone();
            }
            if ALIVE.contains(&state.as_str()) {
                gone_since = None;
                continue;
            }
            let info = RunInfo { usage: None, job: Some(id.to_string()), host: None };
            if let Some(what) = exceeded_state(&state) {
                return Err(exceeded(what, job, id, &state, log, info));
            }
            // Finished (or forgotten by squeue) without a result marker yet: give a shared
            // filesystem a moment to show the file, then ask sacct if present.
            let since = *gone_since.get_or_insert_with(Instant::now);
            if since.elapsed() < Duration::from_secs(10).max(poll * 3) {
                continue;
            }
            let state = if state.is_empty() { sacct_state(id).unwrap_or_default() } else { state };
            let first_word = state.split_whitespace().next().unwrap_or("");
            let what = exceeded_state(first_word).or_else(|| exceeded_log(log));
            if let Some(what) = what {
                return Err(exceeded(what, job, id, &state, log, info));
            }
            let what =
                if state.is_empty() { "is no longer known to squeue".to_string() } else { format!("ended {state}") };
            return Err(job_error(format!(
                "slurm job {id} {what} without leaving a result (killed, out of time or memory, node \
                 failure?); {}",
                log_tail(log)
            )));
        }
    }

    /// `squeue`'s view of a job or task: `Ok(None)` when it does not (or no longer) know it.
    fn state_of(&self, id: &str) -> Result<Option<(String, String)>, SlurmError> {
        let mut g = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = g.as_ref().is_some_and(|(at, _)| at.elapsed() < self.poll_interval() / 2);
        if !fresh {
            *g = Some((Instant::now(), squeue_mine()));
        }
        match g.as_ref().map(|(_, r)| r) {
            Some(Ok(m)) => Ok(m.get(id).cloned()),
            Some(Err(e)) => Err(e.clone()),
            None => Ok(None),
        }
    }
}

/// The `tscpipe` a job runs: `[executor] tscpipe`, else `$TSCPIPE_BIN`, else this binary.
pub fn tscpipe_program(settings: &ExecutorSettings) -> Result<PathBuf, SlurmError> {
    match &settings.tscpipe {
        Some(p) => Ok(p.clone()),
        None => match std::env::var_os("TSCPIPE_BIN") {
            Some(p) => Ok(PathBuf::from(p)),
            None => std::env::current_exe().map_err(|e| SlurmError::Program(Arc::new(e))),
        },
    }
}

fn safe(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}

/// What a SLURM end state says ran out.
fn exceeded_state(state: &str) -> Option<Exceeded> {
    match state {
        "OUT_OF_MEMORY" => Some(Exceeded::Memory),
        "TIMEOUT" | "DEADLINE" => Some(Exceeded::Time),
        "NODE_FAIL" | "BOOT_FAIL" | "PREEMPTED" => Some(Exceeded::Node),
        _ => None,
    }
}

/// What slurmstepd wrote into a job's output when it killed it, for clusters whose end state
/// does not say (memory enforced by polling rather than a cgroup, squeue past `MinJobAge`).
fn exceeded_log(log: &Path) -> Option<Exceeded> {
    let text = std::fs::read_to_string(log).ok()?;
    if text.contains("oom-kill")
        || text.contains("Exceeded job memory limit")
        || text.contains("Exceeded step memory limit")
    {
        Some(Exceeded::Memory)
    } else if text.contains("DUE TO TIME LIMIT") {
        Some(Exceeded::Time)
    } else {
        None
    }
}

fn exceeded(what: Exceeded, job: &Job, id: &str, state: &str, log: &Path, info: RunInfo) -> ExecError {
    let asked = match what {
        Exceeded::Memory => job.request.mem.map(|m| format!(" (asked for {m})")).unwrap_or_default(),
        Exceeded::Time => job.request.time.map(|t| format!(" (asked for {t})")).unwrap_or_default(),
        Exceeded::Node => String::new(),
    };
    let what_text = match what {
        Exceeded::Memory => "ran out of memory",
        Exceeded::Time => "ran out of time",
        Exceeded::Node => "lost its node",
    };
    ExecError::Exceeded {
        what,
        detail: format!("slurm job {id} {what_text}{asked}: {state}; {}", log_tail(log)),
        info: Box::new(info),
    }
}

/// All of this user's jobs SLURM still knows, finished ones and each task of an array included:
/// id → (state, reason).
fn squeue_mine() -> Result<JobStates, SlurmError> {
    let out = Command::new("squeue")
        .args(["-h", "-r", "-t", "all", "--me", "-o", "%i|%T|%r"])
        .output()
        .map_err(|e| SlurmError::Spawn { command: "squeue", source: Arc::new(e) })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(SlurmError::Failed { command: "squeue", stderr });
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.trim().splitn(3, '|');
            let id = it.next()?.to_string();
            let state = it.next()?.to_string();
            Some((id, (state, it.next().unwrap_or("").to_string())))
        })
        .collect())
}

/// The accounting database's view, where the cluster has one.
fn sacct_state(id: &str) -> Option<String> {
    let out = Command::new("sacct").args(["-n", "-X", "-P", "-j", id, "-o", "State,ExitCode"]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8_lossy(&out.stdout).lines().next()?.trim().replace('|', " exit ");
    (!s.is_empty()).then_some(s)
}

impl Executor for SlurmExecutor {
    fn name(&self) -> &'static str {
        "slurm"
    }

    fn uses_local_cpus(&self) -> bool {
        false
    }

    fn execute(
        &self,
        job: &Job,
        progress: &(dyn Fn(StageProgress) + Sync),
        cancel: &AtomicBool,
    ) -> Result<Executed, ExecError> {
        if let Lookup::Hit(m) = self.cache.lookup(&job.key, Verify::Full) {
            return Ok(Executed::new(*m, true));
        }
        let dir = self.job_dir(&job.key);
        std::fs::create_dir_all(&dir).map_err(|e| StageError::io(&dir, e))?;
        // An earlier run's task for this key, still queued or running (not this run's own earlier
        // attempt: that one has ended).
        let (id, log) = match self.adoptable(&dir).filter(|_| job.attempt == 1) {
            Some(sub) => {
                self.adopted.fetch_add(1, Ordering::Relaxed);
                self.live.lock().unwrap_or_else(|p| p.into_inner()).push(sub.job.clone());
                progress(StageProgress {
                    fraction: None,
                    message: format!("slurm job {}: adopted from an earlier run", sub.job),
                });
                (sub.job, sub.log)
            }
            None => {
                let _ = std::fs::remove_file(dir.join("submitted.json"));
                let spec = write_spec(job, &self.env, &self.cache, self.remote.as_ref(), &dir)?;
                let (id, log) = self.join_batch(job, spec, dir.clone(), cancel)?;
                progress(StageProgress { fraction: None, message: format!("slurm job {id}: submitted") });
                (id, log)
            }
        };
        self.follow(job, &id, &dir, &log, progress, cancel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Device;
    use crate::settings::StageSettings;
    use crate::stages::Registry;
    use crate::stages::kind::Params;

    fn job(kind: &str, stage: &str, instance: &str, device: Device, settings: &ExecutorSettings) -> Job {
        let kind = Registry::builtin().get_arc(kind).expect("kind");
        let key_inputs = crate::cache::KeyInputs {
            kind: kind.name().into(),
            version: kind.version(),
            params: serde_json::json!({}),
            inputs: Default::default(),
            env: None,
        };
        // valid for every kind the tests use (a training needs its model table)
        let params =
            Params(serde_json::json!({ "model": { "model": "fcn" } }).as_object().cloned().unwrap_or_default());
        let decl = crate::dsl::StageDecl {
            name: stage.into(),
            kind: kind.name().into(),
            axes: Vec::new(),
            instances: Vec::new(),
            publish: false,
            loc: Default::default(),
            resources: Default::default(),
            retries: None,
        };
        let request = super::super::resources::request(&decl, kind.as_ref(), &params, &device, settings);
        Job {
            instance: instance.into(),
            stage: stage.into(),
            pipeline: "p".into(),
            kind,
            params,
            key: key_inputs.key(),
            key_inputs,
            sources: Default::default(),
            inputs: Default::default(),
            device,
            request,
            attempt: 1,
            retries: 0,
        }
    }

    #[test]
    fn sbatch_flags_follow_the_request_and_the_stages_placement_and_gpus_only_where_wanted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = ExecutorSettings {
            cpus: Some(2),
            mem: Some("4G".parse().expect("mem")),
            partition: Some("cpu".into()),
            account: Some("lab".into()),
            extra: vec!["--qos=normal".into()],
            ..Default::default()
        };
        s.stages.insert(
            "train".into(),
            StageSettings {
                partition: Some("gpu".into()),
                time: Some("12:00:00".parse().expect("time")),
                gpus: Some(2),
                ..Default::default()
            },
        );
        let ex = SlurmExecutor::new(Cache::open(dir.path()).expect("cache"), RunEnv::default(), s.clone(), None)
            .expect("executor");
        let train = ex.sbatch_args(&job("train", "train", "train[d=A]", Device::Cuda(0), &s));
        assert_eq!(
            train,
            [
                "--cpus-per-task=2",
                "--mem=4G",
                "--time=12:00:00",
                "--gres=gpu:2",
                "--partition=gpu",
                "--account=lab",
                "--qos=normal"
            ]
        );
        // The same stage computing on the CPU asks for no GPU (it would wait for one forever).
        let cpu = ex.sbatch_args(&job("train", "train", "train[d=A]", Device::Cpu, &s));
        assert!(!cpu.iter().any(|a| a.starts_with("--gres")), "{cpu:?}");
        // An evaluation: the executor's defaults, and its kind's time class for the time limit.
        let eval = ex.sbatch_args(&job("evaluate", "eval", "eval[d=A]", Device::Cpu, &s));
        assert_eq!(
            eval,
            ["--cpus-per-task=2", "--mem=4G", "--time=01:00:00", "--partition=cpu", "--account=lab", "--qos=normal"]
        );
        // Nothing set anywhere: a training asks for what its kind declares.
        let bare = ExecutorSettings::default();
        let t = ex.sbatch_args(&job("train", "train", "train[d=A]", Device::Cuda(0), &bare));
        assert_eq!(&t[..4], ["--cpus-per-task=2", "--mem=8G", "--time=1-00:00:00", "--gres=gpu:1"]);
    }

    #[test]
    fn end_states_and_slurmstepd_messages_say_what_ran_out() {
        assert_eq!(exceeded_state("OUT_OF_MEMORY"), Some(Exceeded::Memory));
        assert_eq!(exceeded_state("TIMEOUT"), Some(Exceeded::Time));
        assert_eq!(exceeded_state("NODE_FAIL"), Some(Exceeded::Node));
        assert_eq!(exceeded_state("FAILED"), None);
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("x.log");
        std::fs::write(&log, "slurmstepd: error: Detected 1 oom-kill event(s) in StepId=7.batch.\n").expect("write");
        assert_eq!(exceeded_log(&log), Some(Exceeded::Memory));
        std::fs::write(&log, "slurmstepd: error: *** JOB 8 ON n1 CANCELLED AT 2026 DUE TO TIME LIMIT ***\n")
            .expect("write");
        assert_eq!(exceeded_log(&log), Some(Exceeded::Time));
        std::fs::write(&log, "error: stage failed\n").expect("write");
        assert_eq!(exceeded_log(&log), None);
    }
}
