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

impl Scheduler<'_> {
    /// Runs what the plan's walk does not find in the cache, `opts.jobs` at a time, until
    /// everything is resolved, a failure stops the run (without `keep_going`), or `cancel` is set.
    pub fn run(&self, plan: &Plan<'_>, opts: &RunOptions, cancel: &AtomicBool) -> RunSummary {
        let p = plan.pipeline;
        let started = Instant::now();
        let n = plan.len();
        self.events.emit(&Event::Planned { pipeline: p.name.clone(), instances: n });
        self.cache.clean_stale_tmp();
        let mut walk = Walk::new(plan, self.registry, self.env, &opts.device, self.cache, Verify::Full);
        let mut results: Vec<Option<InstanceResult>> = vec![None; n];
        let mut queue_cpu: VecDeque<(usize, Job)> = VecDeque::new();
        let mut queue_dev: VecDeque<(usize, Job)> = VecDeque::new();
        // Instance → whether it holds a device slot, while it runs.
        let mut on_device: Vec<bool> = vec![false; n];
        // CPU slots each running instance holds.
        let mut held: Vec<usize> = vec![0; n];
        let mut attempts: Vec<Vec<Attempt>> = vec![Vec::new(); n];
        let mut running = 0usize;
        let mut used = 0usize;
        let mut running_dev = 0usize;
        let local_cpus = self.executor.uses_local_cpus();
        let factor = super::resources::retry_factor(&opts.settings);
        let mut stop = false;
        let jobs = opts.jobs.max(1);
        let (tx, rx) = mpsc::channel::<Msg>();
        let stage_name = |i: usize| plan.stage_name(i).to_string();

        std::thread::scope(|scope| {
            loop {
                // Resolve everything whose inputs are known: cached or queued.
                while let Some(step) = walk.next() {
                    let i = step.index;
                    let id = p.instances[i].id.clone();
                    let keyed = match step.keyed {
                        Ok(k) => k,
                        Err(KeyBlock::Upstream) => continue,
                        Err(KeyBlock::Source(e)) => {
                            self.events.emit(&Event::Failed { id: id.clone(), error: e.clone() });
                            results[i] = Some(InstanceResult::new(id, stage_name(i), Outcome::Failed(e), 0.0, None));
                            if !opts.keep_going {
                                stop = true;
                            }
                            continue;
                        }
                    };
                    match step.lookup {
                        Lookup::Hit(m) => {
                            let m = *m;
                            self.events.emit(&Event::Cached { id: id.clone() });
                            walk.resolve(i, m.clone());
                            results[i] = Some(InstanceResult::new(id, stage_name(i), Outcome::Cached, 0.0, Some(m)));
                            continue;
                        }
                        Lookup::Corrupt(reason) => self.events.emit(&Event::Corrupt { id: id.clone(), reason }),
                        Lookup::Missing => {}
                    }
                    let kind = step.kind;
                    let params = &p.instances[i].params;
                    let accel = kind.wants_accelerator(params);
                    let decl = &p.stages[p.instances[i].stage];
                    let request = super::resources::request(decl, kind.as_ref(), params, &opts.device, &opts.settings);
                    let job = Job {
                        instance: id,
                        stage: stage_name(i),
                        pipeline: p.name.clone(),
                        params: params.clone(),
                        inputs: artifacts(p, i, walk.resolved(), self.cache),
                        device: run_device(kind.as_ref(), params, &opts.device),
                        kind,
                        key_inputs: keyed.inputs,
                        key: keyed.key,
                        sources: keyed.sources,
                        request,
                        attempt: 1,
                        retries: super::resources::retries(decl, &opts.settings),
                    };
                    if accel { queue_dev.push_back((i, job)) } else { queue_cpu.push_back((i, job)) }
                }

                if cancel.load(Ordering::Relaxed) {
                    stop = true;
                }
                // Dispatch: the first queued instance whose CPUs fit in the free slots, accelerator
                // stages first while their device has room.
                let slots = |job: &Job| if local_cpus { (job.request.cpus as usize).clamp(1, jobs) } else { 1 };
                while !stop && used < jobs {
                    let free = jobs - used;
                    let dev_pick = if running_dev < opts.per_device.max(1) {
                        queue_dev.iter().position(|(_, j)| slots(j) <= free)
                    } else {
                        None
                    };
                    let next = match dev_pick {
                        Some(k) => queue_dev.remove(k).map(|j| (j, true)),
                        None => match queue_cpu.iter().position(|(_, j)| slots(j) <= free) {
                            Some(k) => queue_cpu.remove(k).map(|j| (j, false)),
                            None => None,
                        },
                    };
                    let Some(((i, job), dev)) = next else { break };
                    running += 1;
                    held[i] = slots(&job);
                    used += held[i];
                    if dev {
                        running_dev += 1;
                        on_device[i] = true;
                    }
                    self.events.emit(&Event::Started { id: job.instance.clone(), device: job.device.to_string() });
                    let tx = tx.clone();
                    let executor = self.executor;
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

                if running == 0 {
                    break;
                }
                let Ok(msg) = rx.recv() else { break };
                match msg {
                    Msg::Progress(i, fraction, message) => {
                        self.events.emit(&Event::Progress { id: p.instances[i].id.clone(), fraction, message });
                    }
                    Msg::Done(i, r, secs, job) => {
                        running -= 1;
                        used -= std::mem::take(&mut held[i]);
                        let was_dev = std::mem::take(&mut on_device[i]);
                        if was_dev {
                            running_dev -= 1;
                        }
                        let id = p.instances[i].id.clone();
                        let mut job = *job;
                        let attempt = |outcome: AttemptOutcome,
                                       info: Option<&super::executor::RunInfo>,
                                       error: Option<String>| {
                            Attempt {
                                outcome,
                                request: Some(job.request),
                                usage: info.and_then(|x| x.usage),
                                job: info.and_then(|x| x.job.clone()),
                                host: info.and_then(|x| x.host.clone()),
                                error,
                            }
                        };
                        match *r {
                            Ok(Executed { manifest: m, reused, info }) => {
                                let outcome = if reused {
                                    self.events.emit(&Event::Cached { id: id.clone() });
                                    Outcome::Cached
                                } else {
                                    self.events.emit(&Event::Finished { id: id.clone(), seconds: secs });
                                    Outcome::Ran
                                };
                                let done = if reused { AttemptOutcome::Reused } else { AttemptOutcome::Ran };
                                attempts[i].push(attempt(done, Some(&info), None));
                                walk.resolve(i, m.clone());
                                let mut res = InstanceResult::new(id, stage_name(i), outcome, secs, Some(m));
                                res.usage = if reused { None } else { info.usage };
                                results[i] = Some(res);
                            }
                            Err(e) if e.is_cancelled() => {
                                self.events.emit(&Event::Cancelled { id: id.clone() });
                                attempts[i].push(attempt(AttemptOutcome::Cancelled, None, None));
                                results[i] = Some(InstanceResult::new(
                                    id,
                                    stage_name(i),
                                    Outcome::Skipped("cancelled".into()),
                                    secs,
                                    None,
                                ));
                                stop = true;
                            }
                            Err(e) if e.exceeded().is_some() && job.attempt <= job.retries && !stop => {
                                let what = e.exceeded().unwrap_or(Exceeded::Node);
                                let outcome = match what {
                                    Exceeded::Memory => AttemptOutcome::OutOfMemory,
                                    Exceeded::Time => AttemptOutcome::OutOfTime,
                                    Exceeded::Node => AttemptOutcome::NodeFailure,
                                };
                                attempts[i].push(attempt(outcome, e.info(), Some(e.to_string())));
                                let before = job.request;
                                job.request = before.scaled(what == Exceeded::Memory, what == Exceeded::Time, factor);
                                job.attempt += 1;
                                let reason = match (what, before.mem, before.time) {
                                    (Exceeded::Memory, Some(m), _) => format!("out of memory ({m})"),
                                    (Exceeded::Time, _, Some(t)) => format!("out of time ({t})"),
                                    _ => outcome.describe().to_string(),
                                };
                                self.events.emit(&Event::Retry {
                                    id,
                                    attempt: job.attempt,
                                    reason,
                                    request: job.request.to_string(),
                                });
                                if was_dev { queue_dev.push_front((i, job)) } else { queue_cpu.push_front((i, job)) }
                            }
                            Err(e) => {
                                let msg = e.to_string();
                                let outcome = match e.exceeded() {
                                    Some(Exceeded::Memory) => AttemptOutcome::OutOfMemory,
                                    Some(Exceeded::Time) => AttemptOutcome::OutOfTime,
                                    Some(Exceeded::Node) => AttemptOutcome::NodeFailure,
                                    None => AttemptOutcome::Failed,
                                };
                                attempts[i].push(attempt(outcome, e.info(), Some(msg.clone())));
                                let msg = if job.attempt > 1 {
                                    format!("{msg} (attempt {} of {})", job.attempt, job.retries + 1)
                                } else if e.exceeded().is_some() && job.retries == 0 {
                                    format!(
                                        "{msg} (`retries = N` on the stage or in [executor] retries it asking for more)"
                                    )
                                } else {
                                    msg
                                };
                                self.events.emit(&Event::Failed { id: id.clone(), error: msg.clone() });
                                results[i] =
                                    Some(InstanceResult::new(id, stage_name(i), Outcome::Failed(msg), secs, None));
                                if !opts.keep_going {
                                    stop = true;
                                }
                            }
                        }
                    }
                }
            }
        });

        let cancelled = cancel.load(Ordering::Relaxed);
        let resolved = walk.resolved();
        let results: Vec<InstanceResult> = results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| {
                    let reason = if cancelled { "run interrupted".to_string() } else { blocked_reason(p, i, resolved) };
                    self.events.emit(&Event::Skipped { id: p.instances[i].id.clone(), reason: reason.clone() });
                    InstanceResult::new(p.instances[i].id.clone(), stage_name(i), Outcome::Skipped(reason), 0.0, None)
                })
            })
            .collect();
        // Every attempt, and for what was cached what it used in the run that computed it.
        let earlier = self.cache.latest_run(&p.name);
        let earlier: std::collections::HashMap<&str, &InstanceRecord> =
            earlier.iter().flat_map(|e| e.instances.iter()).map(|o| (o.id.as_str(), o)).collect();
        let mut results = results;
        for (r, a) in results.iter_mut().zip(attempts) {
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
