//! The SLURM executor: each stage instance that is not cached becomes one `sbatch` job that runs
//! `tscpipe run-job` on a compute node, which executes exactly that instance against the shared
//! cache and exits. The scheduler submits an instance only once its inputs are in the cache, so
//! SLURM needs no job dependencies.
//!
//! Per job, `<cache>/slurm/<key>/` holds `job.json` (what to run), `job.sh`, `out.log` (the
//! job's output) and `result.json`, the marker the node writes when it finishes. Job state is
//! followed with `squeue` and that marker, never `sacct` alone: a small cluster may have no
//! accounting storage, and `squeue` forgets finished jobs after `MinJobAge` (300 s by default).
//!
//! Jobs are named `tsc-<key prefix>`, so a run started after an earlier one was killed adopts
//! that run's jobs still pending or running instead of submitting them again; finished work is
//! in the cache and is not submitted at all.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::cache::store::atomic_write;
use crate::cache::{Cache, KeyInputs, Lookup, Verify};
use crate::settings::{CacheSettings, ExecutorSettings};
use crate::stages::Registry;
use crate::stages::kind::{InputArtifact, Params, RunEnv, StageError, StageProgress};

use super::executor::{ExecError, Executed, Executor, Job, LocalExecutor};
use crate::device::Device;

/// One upstream artifact in a job file: output name → blob digest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpecArtifact {
    pub from: String,
    pub axes: Vec<(String, serde_json::Value)>,
    pub files: BTreeMap<String, String>,
}

/// Everything a node needs to run one stage instance (`job.json`).
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
    pub device: String,
    pub data_dirs: Vec<PathBuf>,
    pub pipeline_dir: PathBuf,
    pub cache_dir: PathBuf,
    /// The remote cache, when the nodes should use one (the token comes from the job's environment).
    pub remote: Option<CacheSettings>,
}

/// What the node reports (`result.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobResult {
    pub ok: bool,
    pub error: Option<String>,
    /// Another process had already computed the entry.
    pub reused: bool,
    pub host: String,
    pub seconds: f64,
}

/// SLURM job id → (state, reason), as `squeue` reports them.
type JobStates = HashMap<String, (String, String)>;

/// Errors of the node side (`tscpipe run-job`).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
}

pub struct SlurmExecutor {
    pub cache: Cache,
    pub env: RunEnv,
    pub settings: ExecutorSettings,
    /// Handed to the nodes so they read through / upload to the same remote.
    pub remote: Option<CacheSettings>,
    /// The binary the nodes run.
    pub program: PathBuf,
    /// Jobs this executor submitted (adopted ones not counted).
    pub submitted: AtomicUsize,
    pub adopted: AtomicUsize,
    /// One `squeue` answer shared by every followed job, refreshed at most once per poll, so
    /// a hundred jobs in flight cost the controller one query per interval, not a hundred.
    states: std::sync::Mutex<Option<(Instant, Result<JobStates, String>)>>,
}

fn job_error(msg: impl Into<String>) -> ExecError {
    ExecError::Stage(StageError::failed(msg))
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl SlurmExecutor {
    pub fn new(
        cache: Cache,
        env: RunEnv,
        settings: ExecutorSettings,
        remote: Option<CacheSettings>,
    ) -> Result<SlurmExecutor, String> {
        let program = match &settings.tscpipe {
            Some(p) => p.clone(),
            None => match std::env::var_os("TSCPIPE_BIN") {
                Some(p) => PathBuf::from(p),
                None => std::env::current_exe().map_err(|e| format!("cannot find this tscpipe binary: {e}"))?,
            },
        };
        Ok(SlurmExecutor {
            cache,
            env,
            settings,
            remote,
            program,
            submitted: AtomicUsize::new(0),
            adopted: AtomicUsize::new(0),
            states: std::sync::Mutex::new(None),
        })
    }

    fn poll_interval(&self) -> Duration {
        Duration::from_secs_f64(self.settings.poll.filter(|p| *p > 0.0).unwrap_or(2.0))
    }

    fn job_dir(&self, key: &str) -> PathBuf {
        self.cache.root().join("slurm").join(key)
    }

    /// The sbatch flags for a job: defaults, then the stage's own table.
    pub fn sbatch_args(&self, job: &Job) -> Vec<String> {
        let s = &self.settings;
        let stage = s.stages.get(&job.stage);
        let mut a = Vec::new();
        let cpus = stage.and_then(|r| r.cpus).or(s.cpus).unwrap_or(1);
        a.push(format!("--cpus-per-task={cpus}"));
        if let Some(m) = stage.and_then(|r| r.mem.clone()).or(s.mem.clone()) {
            a.push(format!("--mem={m}"));
        }
        if let Some(t) = stage.and_then(|r| r.time.clone()).or(s.time.clone()) {
            a.push(format!("--time={t}"));
        }
        // A GPU only for stages that want one and a run that computes on one.
        if job.kind.wants_accelerator(&job.params) && job.device != Device::Cpu {
            let n = stage.and_then(|r| r.gpus).or(s.gpus).unwrap_or(1);
            a.push(format!("--gres=gpu:{n}"));
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

    fn write_spec(&self, job: &Job, dir: &Path) -> Result<(), ExecError> {
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
        let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
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
            device: job.device.to_string(),
            data_dirs: self.env.data_dirs.iter().map(|d| abs(d)).collect(),
            pipeline_dir: abs(&self.env.pipeline_dir),
            cache_dir: abs(self.cache.root()),
            remote: self.remote.clone(),
        };
        let json = serde_json::to_vec_pretty(&spec).map_err(|e| job_error(e.to_string()))?;
        atomic_write(&self.cache.tmp_dir(), &dir.join("job.json"), &json)?;
        let script = format!(
            "#!/bin/sh\n# tscpipe stage instance {}\nexec {} run-job {}\n",
            job.instance.replace('\n', " "),
            sh_quote(&abs(&self.program).to_string_lossy()),
            sh_quote(&dir.join("job.json").to_string_lossy()),
        );
        atomic_write(&self.cache.tmp_dir(), &dir.join("job.sh"), script.as_bytes())?;
        Ok(())
    }

    /// A job of an earlier (killed) run for the same key, still queued or running.
    fn existing_job(&self, name: &str) -> Option<String> {
        let out =
            Command::new("squeue").args(["-h", "--me", "-n", name, "-t", "PD,R,CF,CG", "-o", "%i"]).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).lines().map(str::trim).find(|l| !l.is_empty()).map(String::from)
    }

    fn submit(&self, job: &Job, dir: &Path, name: &str) -> Result<String, ExecError> {
        let mut cmd = Command::new("sbatch");
        cmd.arg("--parsable")
            .arg(format!("--job-name={name}"))
            .arg(format!("--output={}", dir.join("out.log").display()))
            .args(self.sbatch_args(job))
            .arg(dir.join("job.sh"));
        let out =
            cmd.output().map_err(|e| job_error(format!("cannot run sbatch: {e} (is slurm-client installed?)")))?;
        if !out.status.success() {
            return Err(job_error(format!("sbatch failed: {}", String::from_utf8_lossy(&out.stderr).trim())));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let id = stdout.trim().split(';').next().unwrap_or("").trim().to_string();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit() || c == '_') {
            return Err(job_error(format!("sbatch printed no job id: `{}`", stdout.trim())));
        }
        Ok(id)
    }

    fn log_tail(dir: &Path) -> String {
        let text = std::fs::read_to_string(dir.join("out.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(8)..].join("\n");
        if tail.is_empty() {
            format!("(no output in {})", dir.join("out.log").display())
        } else {
            format!("last lines of {}:\n{tail}", dir.join("out.log").display())
        }
    }

    /// Follows a job until it leaves its result, fails, or the run is cancelled.
    fn follow(
        &self,
        job: &Job,
        id: &str,
        dir: &Path,
        progress: &(dyn Fn(StageProgress) + Sync),
        cancel: &AtomicBool,
    ) -> Result<Executed, ExecError> {
        let marker = dir.join("result.json");
        let poll = self.poll_interval();
        let mut last_state = String::new();
        let mut gone_since: Option<Instant> = None;
        let mut squeue_errors = 0u32;
        loop {
            // Sleep in small steps so Ctrl-C is prompt.
            let until = Instant::now() + poll;
            while Instant::now() < until {
                if cancel.load(Ordering::Relaxed) {
                    let _ = Command::new("scancel").arg(id).status();
                    return Err(ExecError::Stage(StageError::Cancelled));
                }
                if marker.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50).min(poll));
            }
            if let Ok(text) = std::fs::read_to_string(&marker) {
                let r: JobResult = serde_json::from_str(&text)
                    .map_err(|e| job_error(format!("slurm job {id}: unreadable {}: {e}", marker.display())))?;
                if !r.ok {
                    return Err(job_error(format!(
                        "slurm job {id} on {}: {}",
                        r.host,
                        r.error.unwrap_or_else(|| "failed".into())
                    )));
                }
                return match self.cache.lookup(&job.key, Verify::Full) {
                    Lookup::Hit(m) => Ok(Executed { manifest: *m, reused: r.reused }),
                    _ => Err(job_error(format!(
                        "slurm job {id} reported success on {} but its entry is not in the cache at {} \
                         (is the cache on a filesystem every node shares?)",
                        r.host,
                        self.cache.root().display()
                    ))),
                };
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
            if !state.is_empty() && state != last_state {
                let msg = if reason.is_empty() || reason == "None" {
                    format!("slurm job {id}: {}", state.to_lowercase())
                } else {
                    format!("slurm job {id}: {} ({reason})", state.to_lowercase())
                };
                progress(StageProgress { fraction: None, message: msg });
                last_state = state.clone();
            }
            match state.as_str() {
                "PENDING" | "RUNNING" | "CONFIGURING" | "COMPLETING" | "SUSPENDED" | "REQUEUED" | "RESIZING"
                | "SIGNALING" | "STAGE_OUT" => gone_since = None,
                _ => {
                    // Finished (or forgotten by squeue) without a result marker yet: give a
                    // shared filesystem a moment to show the file, then ask sacct if present.
                    let since = *gone_since.get_or_insert_with(Instant::now);
                    if since.elapsed() < Duration::from_secs(10).max(poll * 3) {
                        continue;
                    }
                    let state = if state.is_empty() { sacct_state(id).unwrap_or_default() } else { state };
                    let what = if state.is_empty() {
                        "is no longer known to squeue".to_string()
                    } else {
                        format!("ended {state}")
                    };
                    return Err(job_error(format!(
                        "slurm job {id} {what} without leaving a result (killed, out of time or memory, node \
                         failure?); {}",
                        Self::log_tail(dir)
                    )));
                }
            }
        }
    }
}

impl SlurmExecutor {
    /// `squeue`'s view of a job: `Ok(None)` when it does not (or no longer) know the job.
    fn state_of(&self, id: &str) -> Result<Option<(String, String)>, String> {
        let Ok(mut g) = self.states.lock() else { return Err("state cache poisoned".into()) };
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

/// All of this user's jobs SLURM still knows, finished ones included: id → (state, reason).
fn squeue_mine() -> Result<JobStates, String> {
    let out = Command::new("squeue")
        .args(["-h", "-t", "all", "--me", "-o", "%i|%T|%r"])
        .output()
        .map_err(|e| format!("cannot run squeue: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
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

    fn execute(
        &self,
        job: &Job,
        progress: &(dyn Fn(StageProgress) + Sync),
        cancel: &AtomicBool,
    ) -> Result<Executed, ExecError> {
        if let Lookup::Hit(m) = self.cache.lookup(&job.key, Verify::Full) {
            return Ok(Executed { manifest: *m, reused: true });
        }
        let dir = self.job_dir(&job.key);
        std::fs::create_dir_all(&dir).map_err(|e| StageError::io(&dir, e))?;
        let name = format!("tsc-{}", &job.key[..16.min(job.key.len())]);
        let id = match self.existing_job(&name) {
            Some(id) => {
                self.adopted.fetch_add(1, Ordering::Relaxed);
                progress(StageProgress {
                    fraction: None,
                    message: format!("slurm job {id}: adopted from an earlier run"),
                });
                id
            }
            None => {
                let _ = std::fs::remove_file(dir.join("result.json"));
                self.write_spec(job, &dir)?;
                let id = self.submit(job, &dir, &name)?;
                self.submitted.fetch_add(1, Ordering::Relaxed);
                progress(StageProgress { fraction: None, message: format!("slurm job {id}: submitted") });
                id
            }
        };
        self.follow(job, &id, &dir, progress, cancel)
    }
}

/// `tscpipe run-job JOB.json`: runs one stage instance on a compute node and leaves
/// `result.json` beside the job file. Returns whether the stage succeeded.
pub fn run_job_file(path: &Path, registry: &Registry, cancel: &AtomicBool) -> Result<bool, JobError> {
    let text = std::fs::read_to_string(path).map_err(|e| JobError::Io { path: path.to_path_buf(), source: e })?;
    let spec: JobSpec =
        serde_json::from_str(&text).map_err(|e| JobError::Invalid(format!("{}: {e}", path.display())))?;
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let started = Instant::now();
    let host = hostname();
    let outcome = run_spec(&spec, registry, cancel);
    let result = match outcome {
        Ok(reused) => JobResult { ok: true, error: None, reused, host, seconds: started.elapsed().as_secs_f64() },
        Err(e) => {
            eprintln!("tscpipe run-job {}: {e}", spec.instance);
            JobResult { ok: false, error: Some(e), reused: false, host, seconds: started.elapsed().as_secs_f64() }
        }
    };
    // A cancelled job leaves no marker: the runner that cancelled it is not waiting for one.
    if cancel.load(Ordering::Relaxed) && !result.ok {
        return Ok(false);
    }
    let json = serde_json::to_vec_pretty(&result).map_err(|e| JobError::Invalid(e.to_string()))?;
    let tmp = spec.cache_dir.join("tmp");
    atomic_write(&tmp, &dir.join("result.json"), &json).map_err(|e| JobError::Invalid(e.to_string()))?;
    Ok(result.ok)
}

fn run_spec(spec: &JobSpec, registry: &Registry, cancel: &AtomicBool) -> Result<bool, String> {
    let kind = registry.get_arc(&spec.kind).ok_or_else(|| format!("this tscpipe has no stage kind `{}`", spec.kind))?;
    if kind.version() != spec.key_inputs.version || spec.key_inputs.key() != spec.key {
        return Err(format!(
            "the tscpipe on this node ({}) computes `{}` differently from the one that submitted the job \
             (version {} here, {} there): install the same tscpipe on every node",
            std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
            spec.kind,
            kind.version(),
            spec.key_inputs.version
        ));
    }
    let device: Device = spec.device.parse()?;
    let cache = match &spec.remote {
        Some(s) => super::cache_setup::open_cache(&spec.cache_dir, s),
        None => Cache::open(&spec.cache_dir),
    }
    .map_err(|e| e.to_string())?;
    let mut inputs = BTreeMap::new();
    for (name, arts) in &spec.inputs {
        let mut v = Vec::new();
        for a in arts {
            let mut files = BTreeMap::new();
            for (n, digest) in &a.files {
                cache.ensure_blob(digest).map_err(|e| format!("input `{name}` from `{}`: {e}", a.from))?;
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
        device,
    };
    let env = RunEnv { data_dirs: spec.data_dirs.clone(), pipeline_dir: spec.pipeline_dir.clone() };
    let executor = LocalExecutor { cache: cache.clone(), env };
    let progress = |p: StageProgress| {
        if !p.message.is_empty() {
            println!("{}", p.message);
        }
    };
    let r = executor.execute(&job, &progress, cancel).map_err(|e| e.to_string());
    if let Some(remote) = cache.remote() {
        remote.flush(Duration::from_secs(300));
    }
    r.map(|e| e.reused)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Resources;

    fn job(kind: &str, stage: &str, instance: &str, device: Device) -> Job {
        let kind = Registry::builtin().get_arc(kind).expect("kind");
        let key_inputs = KeyInputs {
            kind: kind.name().into(),
            version: kind.version(),
            params: serde_json::json!({}),
            inputs: BTreeMap::new(),
            env: None,
        };
        Job {
            instance: instance.into(),
            stage: stage.into(),
            pipeline: "p".into(),
            kind,
            // valid for every kind the tests use (a training needs its model table)
            params: Params(serde_json::json!({ "model": { "model": "fcn" } }).as_object().cloned().unwrap_or_default()),
            key: key_inputs.key(),
            key_inputs,
            sources: BTreeMap::new(),
            inputs: BTreeMap::new(),
            device,
        }
    }

    #[test]
    fn resources_come_from_the_stage_table_then_the_defaults_and_gpus_only_where_wanted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = ExecutorSettings {
            cpus: Some(2),
            mem: Some("4G".into()),
            partition: Some("cpu".into()),
            account: Some("lab".into()),
            extra: vec!["--qos=normal".into()],
            ..Default::default()
        };
        s.stages.insert(
            "train".into(),
            Resources {
                partition: Some("gpu".into()),
                time: Some("12:00:00".into()),
                gpus: Some(2),
                ..Default::default()
            },
        );
        let ex =
            SlurmExecutor::new(Cache::open(dir.path()).expect("cache"), RunEnv::default(), s, None).expect("executor");
        let train = ex.sbatch_args(&job("train", "train", "train[d=A]", Device::Cuda(0)));
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
        assert!(
            !ex.sbatch_args(&job("train", "train", "train[d=A]", Device::Cpu)).iter().any(|a| a.starts_with("--gres"))
        );
        let eval = ex.sbatch_args(&job("evaluate", "eval", "eval[d=A]", Device::Cpu));
        assert_eq!(eval, ["--cpus-per-task=2", "--mem=4G", "--partition=cpu", "--account=lab", "--qos=normal"]);
    }
}
