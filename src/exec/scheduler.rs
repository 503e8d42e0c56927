//! The scheduler: takes the plan's walk (each instance keyed and looked up once its inputs are
//! resolved), and runs what is not cached in parallel, queuing accelerator stages per device,
//! until done, a failure, or cancellation. `-j N` is N CPU slots: an instance takes as many as it
//! asks CPUs for (see [`super::resources`]; at most N). An attempt that runs out of memory or
//! time goes back to the queue while it has retries, asking for `retry_factor` times more of
//! what ran out; every attempt is in the run record.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use crate::cache::runs::{Attempt, AttemptOutcome, InstanceOutcome, InstanceRecord, RunRecord, Usage};
use crate::cache::store::now_unix;
use crate::cache::{Cache, Lookup, Manifest, Verify};
use crate::device::Device;
use crate::dsl::Expanded;
use crate::plan::keys::run_device;
use crate::plan::{KeyBlock, Plan, Walk};
use crate::settings::ExecutorSettings;
use crate::stages::Registry;
use crate::stages::kind::{InputArtifact, RunEnv};

use super::events::{Event, EventSink};
use super::executor::{Exceeded, ExecError, Executed, Executor, Job};

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Stages run at once.
    pub jobs: usize,
    /// The device accelerator-wanting stages use.
    pub device: Device,
    /// Accelerator stages allowed on one device at once (1: no two trainings collide on a GPU).
    pub per_device: usize,
    pub keep_going: bool,
    /// The `[executor]` settings in force: resources and retries per stage.
    pub settings: ExecutorSettings,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { jobs: 1, device: Device::Cpu, per_device: 1, keep_going: false, settings: Default::default() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Outcome {
    Ran,
    Cached,
    Failed(String),
    /// Not run because an upstream stage failed or the run was stopped.
    Skipped(String),
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct InstanceResult {
    pub id: String,
    pub stage: String,
    pub outcome: Outcome,
    pub seconds: f64,
    #[serde(skip)]
    pub manifest: Option<Manifest>,
    /// What the successful attempt used (for a cached instance: what it used in the earlier run
    /// that computed it, then `usage_earlier`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub usage_earlier: bool,
    /// Every attempt of this run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
}

impl InstanceResult {
    fn new(id: String, stage: String, outcome: Outcome, seconds: f64, manifest: Option<Manifest>) -> InstanceResult {
        InstanceResult {
            id,
            stage,
            outcome,
            seconds,
            manifest,
            usage: None,
            usage_earlier: false,
            attempts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RunSummary {
    pub pipeline: String,
    pub results: Vec<InstanceResult>,
    pub seconds: f64,
    pub cancelled: bool,
}

impl RunSummary {
    pub fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.outcome)).count()
    }
    pub fn ran(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Ran))
    }
    pub fn cached(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Cached))
    }
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }
    pub fn ok(&self) -> bool {
        !self.cancelled && self.results.iter().all(|r| matches!(r.outcome, Outcome::Ran | Outcome::Cached))
    }
    pub fn manifest_of(&self, id: &str) -> Option<&Manifest> {
        self.results.iter().find(|r| r.id == id).and_then(|r| r.manifest.as_ref())
    }
}

pub struct Scheduler<'a> {
    pub registry: &'a Registry,
    pub env: &'a RunEnv,
    pub cache: &'a Cache,
    pub executor: &'a dyn Executor,
    pub events: &'a dyn EventSink,
}

enum Msg {
    Done(usize, Box<Result<Executed, ExecError>>, f64, Box<Job>),
    Progress(usize, Option<f64>, String),
}

/// What bounds the jobs running at once.
struct Limits {
    /// CPU slots (`-j`).
    jobs: usize,
    /// Accelerator stages on the device at once.
    per_device: usize,
    /// Whether a job's CPUs take slots (they do where it runs on this machine).
    local_cpus: bool,
}

impl Limits {
    /// The CPU slots a job takes.
    fn slots(&self, job: &Job) -> usize {
        if self.local_cpus { (job.request.cpus as usize).clamp(1, self.jobs) } else { 1 }
    }
}

/// A run in progress: the queues, what runs, and every instance's result and attempts so far.
struct RunState {
    results: Vec<Option<InstanceResult>>,
    attempts: Vec<Vec<Attempt>>,
    queue_cpu: VecDeque<(usize, Job)>,
    queue_dev: VecDeque<(usize, Job)>,
    /// Per instance while it runs: the CPU slots it holds, and whether it holds a device slot.
    held: Vec<usize>,
    on_device: Vec<bool>,
    running: usize,
    /// CPU slots taken.
    used: usize,
    running_dev: usize,
    /// No more jobs start (a failure without `keep_going`, or cancellation).
    stop: bool,
}

impl RunState {
    fn new(n: usize) -> RunState {
        RunState {
            results: vec![None; n],
            attempts: vec![Vec::new(); n],
            queue_cpu: VecDeque::new(),
            queue_dev: VecDeque::new(),
            held: vec![0; n],
            on_device: vec![false; n],
            running: 0,
            used: 0,
            running_dev: 0,
            stop: false,
        }
    }

    fn enqueue(&mut self, i: usize, job: Job, on_device: bool, front: bool) {
        let queue = if on_device { &mut self.queue_dev } else { &mut self.queue_cpu };
        if front { queue.push_front((i, job)) } else { queue.push_back((i, job)) }
    }

    /// The next job to start: the first queued one whose CPUs fit in the free slots,
    /// accelerator stages first while their device has room; its slots are taken.
    fn admit(&mut self, limits: &Limits) -> Option<(usize, Job)> {
        if self.stop || self.used >= limits.jobs {
            return None;
        }
        let free = limits.jobs - self.used;
        let fits = |(_, j): &(usize, Job)| limits.slots(j) <= free;
        let dev_pick = if self.running_dev < limits.per_device { self.queue_dev.iter().position(fits) } else { None };
        let (i, job, dev) = match dev_pick {
            Some(k) => self.queue_dev.remove(k).map(|(i, j)| (i, j, true))?,
            None => self
                .queue_cpu
                .iter()
                .position(fits)
                .and_then(|k| self.queue_cpu.remove(k))
                .map(|(i, j)| (i, j, false))?,
        };
        self.running += 1;
        self.held[i] = limits.slots(&job);
        self.used += self.held[i];
        if dev {
            self.running_dev += 1;
            self.on_device[i] = true;
        }
        Some((i, job))
    }

    /// Gives back what a finished job held; whether it held a device slot.
    fn release(&mut self, i: usize) -> bool {
        self.running -= 1;
        self.used -= std::mem::take(&mut self.held[i]);
        let was_dev = std::mem::take(&mut self.on_device[i]);
        if was_dev {
            self.running_dev -= 1;
        }
        was_dev
    }

    fn fail(&mut self, i: usize, result: InstanceResult, keep_going: bool) {
        self.results[i] = Some(result);
        if !keep_going {
            self.stop = true;
        }
    }
}

/// The record of one attempt of `job`.
fn attempt_record(
    job: &Job,
    outcome: AttemptOutcome,
    info: Option<&super::executor::RunInfo>,
    error: Option<String>,
) -> Attempt {
    Attempt {
        outcome,
        request: Some(job.request),
        usage: info.and_then(|x| x.usage),
        job: info.and_then(|x| x.job.clone()),
        host: info.and_then(|x| x.host.clone()),
        error,
    }
}

fn exceeded_outcome(e: Option<Exceeded>) -> AttemptOutcome {
    match e {
        Some(Exceeded::Memory) => AttemptOutcome::OutOfMemory,
        Some(Exceeded::Time) => AttemptOutcome::OutOfTime,
        Some(Exceeded::Node) => AttemptOutcome::NodeFailure,
        None => AttemptOutcome::Failed,
    }
}

/// Starts `job` on a thread of `scope`; it reports progress and its end on `tx`.
fn launch<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    executor: &'env dyn Executor,
    cancel: &'env AtomicBool,
    tx: &mpsc::Sender<Msg>,
    i: usize,
    job: Job,
) {
    let tx = tx.clone();
    scope.spawn(move || {
        let t0 = Instant::now();
        let ptx = tx.clone();
        let progress = move |sp: crate::stages::kind::StageProgress| {
            let _ = ptx.send(Msg::Progress(i, sp.fraction, sp.message));
        };
        let progress = std::sync::Mutex::new(progress);
        let report = |sp: crate::stages::kind::StageProgress| {
            if let Ok(f) = progress.lock() {
                f(sp)
            }
        };
        let r = executor.execute(&job, &report, cancel);
        let _ = tx.send(Msg::Done(i, Box::new(r), t0.elapsed().as_secs_f64(), Box::new(job)));
    });
}

impl Scheduler<'_> {
    /// Runs what the plan's walk does not find in the cache, `opts.jobs` at a time, until
    /// everything is resolved, a failure stops the run (without `keep_going`), or `cancel` is set.
    pub fn run(&self, plan: &Plan<'_>, opts: &RunOptions, cancel: &AtomicBool) -> RunSummary {
        let p = plan.pipeline;
        let started = Instant::now();
        self.events.emit(&Event::Planned { pipeline: p.name.clone(), instances: plan.len() });
        self.cache.clean_stale_tmp();
        let mut walk = Walk::new(plan, self.registry, self.env, &opts.device, self.cache, Verify::Full);
        let mut state = RunState::new(plan.len());
        let limits = Limits {
            jobs: opts.jobs.max(1),
            per_device: opts.per_device.max(1),
            local_cpus: self.executor.uses_local_cpus(),
        };
        let (tx, rx) = mpsc::channel::<Msg>();
        std::thread::scope(|scope| {
            loop {
                self.take_ready(plan, opts, &mut walk, &mut state);
                if cancel.load(Ordering::Relaxed) {
                    state.stop = true;
                }
                while let Some((i, job)) = state.admit(&limits) {
                    self.events.emit(&Event::Started { id: job.instance.clone(), device: job.device.to_string() });
                    launch(scope, self.executor, cancel, &tx, i, job);
                }
                if state.running == 0 {
                    break;
                }
                let Ok(msg) = rx.recv() else { break };
                match msg {
                    Msg::Progress(i, fraction, message) => {
                        self.events.emit(&Event::Progress { id: p.instances[i].id.clone(), fraction, message });
                    }
                    Msg::Done(i, r, secs, job) => self.collect(plan, opts, &mut walk, &mut state, (i, *job, secs), *r),
                }
            }
        });
        self.finish(plan, &walk, state, started, cancel)
    }

    /// Takes every instance the walk can resolve now: cached ones are done, the others queued
    /// as jobs (on the device queue when they want an accelerator).
    fn take_ready(&self, plan: &Plan<'_>, opts: &RunOptions, walk: &mut Walk<'_, '_>, state: &mut RunState) {
        let p = plan.pipeline;
        while let Some(step) = walk.next() {
            let i = step.index;
            let id = p.instances[i].id.clone();
            let keyed = match step.keyed {
                Ok(k) => k,
                Err(KeyBlock::Upstream) => continue,
                Err(KeyBlock::Source(e)) => {
                    self.events.emit(&Event::Failed { id: id.clone(), error: e.clone() });
                    let r = InstanceResult::new(id, plan.stage_name(i).to_string(), Outcome::Failed(e), 0.0, None);
                    state.fail(i, r, opts.keep_going);
                    continue;
                }
            };
            match step.lookup {
                Lookup::Hit(m) => {
                    let m = *m;
                    self.events.emit(&Event::Cached { id: id.clone() });
                    walk.resolve(i, m.clone());
                    let stage = plan.stage_name(i).to_string();
                    state.results[i] = Some(InstanceResult::new(id, stage, Outcome::Cached, 0.0, Some(m)));
                    continue;
                }
                Lookup::Corrupt(reason) => self.events.emit(&Event::Corrupt { id: id.clone(), reason }),
                Lookup::Missing => {}
            }
            let kind = step.kind;
            let params = &p.instances[i].params;
            let accel = kind.wants_accelerator(params);
            let decl = &p.stages[p.instances[i].stage];
            let job = Job {
                instance: id,
                stage: plan.stage_name(i).to_string(),
                pipeline: p.name.clone(),
                params: params.clone(),
                inputs: artifacts(p, i, walk.resolved(), self.cache),
                device: run_device(kind.as_ref(), params, &opts.device),
                request: super::resources::request(decl, kind.as_ref(), params, &opts.device, &opts.settings),
                kind,
                key_inputs: keyed.inputs,
                key: keyed.key,
                sources: keyed.sources,
                attempt: 1,
                retries: super::resources::retries(decl, &opts.settings),
            };
            state.enqueue(i, job, accel, false);
        }
    }

    /// Records how a job ended: done (its manifest resolves its instance), cancelled, out of
    /// memory or time with retries left (requeued), or failed.
    fn collect(
        &self,
        plan: &Plan<'_>,
        opts: &RunOptions,
        walk: &mut Walk<'_, '_>,
        state: &mut RunState,
        (i, job, secs): (usize, Job, f64),
        r: Result<Executed, ExecError>,
    ) {
        let was_dev = state.release(i);
        let id = plan.pipeline.instances[i].id.clone();
        let stage = plan.stage_name(i).to_string();
        match r {
            Ok(Executed { manifest: m, reused, info }) => {
                let outcome = if reused {
                    self.events.emit(&Event::Cached { id: id.clone() });
                    Outcome::Cached
                } else {
                    self.events.emit(&Event::Finished { id: id.clone(), seconds: secs });
                    Outcome::Ran
                };
                let done = if reused { AttemptOutcome::Reused } else { AttemptOutcome::Ran };
                state.attempts[i].push(attempt_record(&job, done, Some(&info), None));
                walk.resolve(i, m.clone());
                let mut res = InstanceResult::new(id, stage, outcome, secs, Some(m));
                res.usage = if reused { None } else { info.usage };
                state.results[i] = Some(res);
            }
            Err(e) if e.is_cancelled() => {
                self.events.emit(&Event::Cancelled { id: id.clone() });
                state.attempts[i].push(attempt_record(&job, AttemptOutcome::Cancelled, None, None));
                let skipped = Outcome::Skipped("cancelled".into());
                state.results[i] = Some(InstanceResult::new(id, stage, skipped, secs, None));
                state.stop = true;
            }
            Err(e) if e.exceeded().is_some() && job.attempt <= job.retries && !state.stop => {
                self.requeue(opts, state, (i, job, was_dev), &e);
            }
            Err(e) => {
                let msg = e.to_string();
                let outcome = exceeded_outcome(e.exceeded());
                state.attempts[i].push(attempt_record(&job, outcome, e.info(), Some(msg.clone())));
                let msg = if job.attempt > 1 {
                    format!("{msg} (attempt {} of {})", job.attempt, job.retries + 1)
                } else if e.exceeded().is_some() && job.retries == 0 {
                    format!("{msg} (`retries = N` on the stage or in [executor] retries it asking for more)")
                } else {
                    msg
                };
                self.events.emit(&Event::Failed { id: id.clone(), error: msg.clone() });
                state.fail(i, InstanceResult::new(id, stage, Outcome::Failed(msg), secs, None), opts.keep_going);
            }
        }
    }

    /// Queues another attempt of a job that ran out of memory or time (or lost its node),
    /// asking for `retry_factor` times more of what ran out, ahead of the others.
    fn requeue(
        &self,
        opts: &RunOptions,
        state: &mut RunState,
        (i, mut job, was_dev): (usize, Job, bool),
        e: &ExecError,
    ) {
        let what = e.exceeded().unwrap_or(Exceeded::Node);
        let outcome = exceeded_outcome(Some(what));
        state.attempts[i].push(attempt_record(&job, outcome, e.info(), Some(e.to_string())));
        let before = job.request;
        let factor = super::resources::retry_factor(&opts.settings);
        job.request = before.scaled(what == Exceeded::Memory, what == Exceeded::Time, factor);
        job.attempt += 1;
        let reason = match (what, before.mem, before.time) {
            (Exceeded::Memory, Some(m), _) => format!("out of memory ({m})"),
            (Exceeded::Time, _, Some(t)) => format!("out of time ({t})"),
            _ => outcome.describe().to_string(),
        };
        self.events.emit(&Event::Retry {
            id: job.instance.clone(),
            attempt: job.attempt,
            reason,
            request: job.request.to_string(),
        });
        state.enqueue(i, job, was_dev, true);
    }

    /// The run's summary, saved as its run record: what did not run is skipped (with why), and
    /// what was cached carries what it used in the run that computed it.
    fn finish(
        &self,
        plan: &Plan<'_>,
        walk: &Walk<'_, '_>,
        state: RunState,
        started: Instant,
        cancel: &AtomicBool,
    ) -> RunSummary {
        let p = plan.pipeline;
        let cancelled = cancel.load(Ordering::Relaxed);
        let resolved = walk.resolved();
        let mut results: Vec<InstanceResult> = state
            .results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| {
                    let reason = if cancelled { "run interrupted".to_string() } else { blocked_reason(p, i, resolved) };
                    self.events.emit(&Event::Skipped { id: p.instances[i].id.clone(), reason: reason.clone() });
                    let stage = plan.stage_name(i).to_string();
                    InstanceResult::new(p.instances[i].id.clone(), stage, Outcome::Skipped(reason), 0.0, None)
                })
            })
            .collect();
        // Every attempt, and for what was cached what it used in the run that computed it.
        let earlier = self.cache.latest_run(&p.name);
        let earlier: std::collections::HashMap<&str, &InstanceRecord> =
            earlier.iter().flat_map(|e| e.instances.iter()).map(|o| (o.id.as_str(), o)).collect();
        for (r, a) in results.iter_mut().zip(state.attempts) {
            r.attempts = a;
            if r.outcome == Outcome::Cached
                && r.usage.is_none()
                && let Some(m) = &r.manifest
                && let Some(old) = earlier.get(r.id.as_str()).filter(|o| o.key.as_deref() == Some(&m.key))
            {
                r.usage = old.usage;
                r.usage_earlier = old.usage.is_some();
            }
        }
        let summary =
            RunSummary { pipeline: p.name.clone(), results, seconds: started.elapsed().as_secs_f64(), cancelled };
        let _ = self.cache.save_run(&run_record(p, &summary, now_unix()));
        summary
    }
}

/// The cached files of `idx`'s inputs, as the stage reads them.
fn artifacts(
    p: &Expanded,
    idx: usize,
    resolved: &[Option<Manifest>],
    cache: &Cache,
) -> BTreeMap<String, Vec<InputArtifact>> {
    let mut out = BTreeMap::new();
    for b in &p.instances[idx].inputs {
        let v = b
            .sources
            .iter()
            .filter_map(|s| {
                let m = resolved[s.instance].as_ref()?;
                let files = m
                    .outputs
                    .iter()
                    .filter(|(name, _)| s.output.as_deref().is_none_or(|o| o == name.as_str()))
                    .map(|(name, o)| (name.clone(), cache.blob_path(&o.digest)))
                    .collect();
                Some(InputArtifact {
                    from: p.instances[s.instance].id.clone(),
                    axes: p.instances[s.instance].coords.clone(),
                    files,
                })
            })
            .collect();
        out.insert(b.name.clone(), v);
    }
    out
}

fn blocked_reason(p: &Expanded, i: usize, resolved: &[Option<Manifest>]) -> String {
    let missing: Vec<&str> = p.instances[i]
        .inputs
        .iter()
        .flat_map(|b| b.sources.iter())
        .filter(|s| resolved[s.instance].is_none())
        .map(|s| p.instances[s.instance].id.as_str())
        .collect();
    match missing.first() {
        Some(first) => format!("upstream `{first}` did not complete"),
        None => "the run stopped after a failure".into(),
    }
}

/// The record of a run, as saved for `status`, `diff` and `report`.
pub fn run_record(p: &Expanded, s: &RunSummary, started: u64) -> RunRecord {
    RunRecord {
        pipeline: p.name.clone(),
        path: p.path.display().to_string(),
        started_unix: started,
        seconds: s.seconds,
        instances: s
            .results
            .iter()
            .zip(&p.instances)
            .map(|(r, inst)| InstanceRecord {
                id: r.id.clone(),
                stage: r.stage.clone(),
                kind: inst.kind.clone(),
                key: r.manifest.as_ref().map(|m| m.key.clone()),
                outcome: match r.outcome {
                    Outcome::Ran => InstanceOutcome::Ran,
                    Outcome::Cached => InstanceOutcome::Cached,
                    Outcome::Failed(_) => InstanceOutcome::Failed,
                    Outcome::Skipped(_) => InstanceOutcome::Skipped,
                },
                seconds: r.seconds,
                usage: r.usage,
                usage_earlier: r.usage_earlier,
                attempts: r.attempts.clone(),
            })
            .collect(),
    }
}
