//! The scheduler: walks the instance DAG, keys each instance from its inputs' digests, skips
//! what is cached, and runs the rest in parallel (`-j N`), queuing accelerator stages per device.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Instant;

use serde_json::Value as Json;

use crate::cache::key::explain_difference;
use crate::cache::runs::{InstanceOutcome, InstanceRecord, RunRecord};
use crate::cache::store::now_unix;
use crate::cache::{Cache, InputDigest, KeyInputs, Lookup, Manifest, Verify};
use crate::dsl::Expanded;
use crate::stages::Registry;
use crate::stages::kind::{InputArtifact, RunEnv, StageKind};

use super::device::Device;
use super::events::{Event, EventSink};
use super::executor::{ExecError, Executed, Executor, Job};

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Stages run at once.
    pub jobs: usize,
    /// The device accelerator-wanting stages use.
    pub device: Device,
    /// Accelerator stages allowed on one device at once (1: no two trainings collide on a GPU).
    pub per_device: usize,
    pub keep_going: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { jobs: 1, device: Device::Cpu, per_device: 1, keep_going: false }
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

/// Digests of files outside the cache, memoised for one run (many instances read one file).
#[derive(Default)]
pub struct FileDigests(std::sync::Mutex<std::collections::HashMap<std::path::PathBuf, String>>);

impl FileDigests {
    pub fn digest(&self, path: &std::path::Path) -> Result<String, String> {
        if let Some(d) = self.0.lock().ok().and_then(|m| m.get(path).cloned()) {
            return Ok(d);
        }
        let (d, _) = crate::cache::store::hash_file(path).map_err(|e| e.to_string())?;
        if let Ok(mut m) = self.0.lock() {
            m.insert(path.to_path_buf(), d.clone());
        }
        Ok(d)
    }
}

/// Why a key could not be computed.
pub enum KeyBlock {
    /// An upstream instance has no entry yet.
    Upstream,
    /// The stage's source files could not be read.
    Source(String),
}

/// Builds an instance's key inputs from its upstream manifests (all must be resolved) and the
/// digests of the files it reads from outside the cache.
#[allow(clippy::too_many_arguments)]
pub fn key_inputs(
    p: &Expanded,
    idx: usize,
    kind: &dyn StageKind,
    resolved: &[Option<Manifest>],
    device: &Device,
    env: &RunEnv,
    files: &FileDigests,
) -> Result<(KeyInputs, BTreeMap<String, Vec<String>>), KeyBlock> {
    let inst = &p.instances[idx];
    let mut inputs = BTreeMap::new();
    let mut sources = BTreeMap::new();
    for f in kind.source_files(&inst.params, env).map_err(|e| KeyBlock::Source(e.to_string()))? {
        let digest = files.digest(&f).map_err(KeyBlock::Source)?;
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        inputs.insert(format!("file:{name}"), vec![InputDigest { coords: Vec::new(), digest }]);
        sources.insert(format!("file:{name}"), vec![f.display().to_string()]);
    }
    for b in &inst.inputs {
        let mut ds = Vec::with_capacity(b.sources.len());
        let mut from = Vec::with_capacity(b.sources.len());
        for s in &b.sources {
            let m = resolved[s.instance].as_ref().ok_or(KeyBlock::Upstream)?;
            ds.push(InputDigest {
                coords: p.instances[s.instance].coords.clone(),
                digest: m.output_digest(s.output.as_deref()).ok_or(KeyBlock::Upstream)?,
            });
            from.push(p.instances[s.instance].id.clone());
        }
        inputs.insert(b.name.clone(), ds);
        sources.insert(b.name.clone(), from);
    }
    let device = if kind.wants_accelerator(&inst.params) { device.clone() } else { Device::Cpu };
    Ok((
        KeyInputs {
            kind: kind.name().to_string(),
            version: kind.version(),
            params: Json::Object(inst.params.0.clone()),
            inputs,
            env: kind.env_key(&inst.params, &device),
        },
        sources,
    ))
}

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

fn dependents(p: &Expanded) -> Vec<Vec<usize>> {
    let mut deps = vec![Vec::new(); p.instances.len()];
    for (i, inst) in p.instances.iter().enumerate() {
        for b in &inst.inputs {
            for s in &b.sources {
                deps[s.instance].push(i);
            }
        }
    }
    // An instance may read one upstream through several inputs: count it once.
    for d in &mut deps {
        d.dedup();
    }
    deps
}

fn upstream_count(p: &Expanded, i: usize) -> usize {
    let mut ups: Vec<usize> = p.instances[i].inputs.iter().flat_map(|b| b.sources.iter().map(|s| s.instance)).collect();
    ups.sort_unstable();
    ups.dedup();
    ups.len()
}

pub struct Scheduler<'a> {
    pub registry: &'a Registry,
    pub env: &'a RunEnv,
    pub cache: &'a Cache,
    pub executor: &'a dyn Executor,
    pub events: &'a dyn EventSink,
}

enum Msg {
    Done(usize, Box<Result<Executed, ExecError>>, f64),
    Progress(usize, Option<f64>, String),
}

impl Scheduler<'_> {
    pub fn run(&self, p: &Expanded, opts: &RunOptions, cancel: &AtomicBool) -> RunSummary {
        let started = Instant::now();
        let n = p.instances.len();
        self.events.emit(&Event::Planned { pipeline: p.name.clone(), instances: n });
        self.cache.clean_stale_tmp();
        let deps = dependents(p);
        let mut waiting: Vec<usize> = (0..n).map(|i| upstream_count(p, i)).collect();
        let mut resolved: Vec<Option<Manifest>> = vec![None; n];
        let mut results: Vec<Option<InstanceResult>> = vec![None; n];
        let mut ready: VecDeque<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
        let mut queue_cpu: VecDeque<(usize, Job)> = VecDeque::new();
        let mut queue_dev: VecDeque<(usize, Job)> = VecDeque::new();
        let mut running = 0usize;
        let mut running_dev = 0usize;
        let mut stop = false;
        let jobs = opts.jobs.max(1);
        let (tx, rx) = mpsc::channel::<Msg>();

        let kind_of = |i: usize| -> Arc<dyn StageKind> {
            self.registry.get_arc(&p.instances[i].kind).expect("kinds were validated")
        };
        let stage_name = |i: usize| p.stages[p.instances[i].stage].name.clone();
        let files = FileDigests::default();

        std::thread::scope(|scope| {
            loop {
                // Resolve everything whose inputs are known: cached or queued.
                while let Some(i) = ready.pop_front() {
                    let kind = kind_of(i);
                    let id = p.instances[i].id.clone();
                    let (ki, sources) = match key_inputs(p, i, kind.as_ref(), &resolved, &opts.device, self.env, &files)
                    {
                        Ok(k) => k,
                        Err(KeyBlock::Upstream) => continue,
                        Err(KeyBlock::Source(e)) => {
                            self.events.emit(&Event::Failed { id: id.clone(), error: e.clone() });
                            results[i] = Some(InstanceResult {
                                id,
                                stage: stage_name(i),
                                outcome: Outcome::Failed(e),
                                seconds: 0.0,
                                manifest: None,
                            });
                            if !opts.keep_going {
                                stop = true;
                            }
                            continue;
                        }
                    };
                    let key = ki.key();
                    match self.cache.lookup(&key, Verify::Full) {
                        Lookup::Hit(m) => {
                            let m = *m;
                            self.events.emit(&Event::Cached { id: id.clone() });
                            resolved[i] = Some(m.clone());
                            results[i] = Some(InstanceResult {
                                id,
                                stage: stage_name(i),
                                outcome: Outcome::Cached,
                                seconds: 0.0,
                                manifest: Some(m),
                            });
                            for &d in &deps[i] {
                                waiting[d] -= 1;
                                if waiting[d] == 0 {
                                    ready.push_back(d);
                                }
                            }
                            continue;
                        }
                        Lookup::Corrupt(reason) => self.events.emit(&Event::Corrupt { id: id.clone(), reason }),
                        Lookup::Missing => {}
                    }
                    let accel = kind.wants_accelerator(&p.instances[i].params);
                    let job = Job {
                        instance: id,
                        pipeline: p.name.clone(),
                        params: p.instances[i].params.clone(),
                        inputs: artifacts(p, i, &resolved, self.cache),
                        kind,
                        key_inputs: ki,
                        key,
                        sources,
                        device: if accel { opts.device.clone() } else { Device::Cpu },
                    };
                    if accel { queue_dev.push_back((i, job)) } else { queue_cpu.push_back((i, job)) }
                }

                if cancel.load(Ordering::Relaxed) {
                    stop = true;
                }
                // Dispatch.
                while !stop && running < jobs {
                    let next = if running_dev < opts.per_device.max(1) && !queue_dev.is_empty() {
                        queue_dev.pop_front().map(|j| (j, true))
                    } else {
                        queue_cpu.pop_front().map(|j| (j, false))
                    };
                    let Some(((i, job), dev)) = next else { break };
                    running += 1;
                    if dev {
                        running_dev += 1;
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
                        let _ = tx.send(Msg::Done(i, Box::new(r), t0.elapsed().as_secs_f64()));
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
                    Msg::Done(i, r, secs) => {
                        running -= 1;
                        if kind_of(i).wants_accelerator(&p.instances[i].params) {
                            running_dev -= 1;
                        }
                        let id = p.instances[i].id.clone();
                        match *r {
                            Ok(Executed { manifest: m, reused }) => {
                                let outcome = if reused {
                                    self.events.emit(&Event::Cached { id: id.clone() });
                                    Outcome::Cached
                                } else {
                                    self.events.emit(&Event::Finished { id: id.clone(), seconds: secs });
                                    Outcome::Ran
                                };
                                resolved[i] = Some(m.clone());
                                results[i] = Some(InstanceResult {
                                    id,
                                    stage: stage_name(i),
                                    outcome,
                                    seconds: secs,
                                    manifest: Some(m),
                                });
                                for &d in &deps[i] {
                                    waiting[d] -= 1;
                                    if waiting[d] == 0 {
                                        ready.push_back(d);
                                    }
                                }
                            }
                            Err(e) if e.is_cancelled() => {
                                self.events.emit(&Event::Cancelled { id: id.clone() });
                                results[i] = Some(InstanceResult {
                                    id,
                                    stage: stage_name(i),
                                    outcome: Outcome::Skipped("cancelled".into()),
                                    seconds: secs,
                                    manifest: None,
                                });
                                stop = true;
                            }
                            Err(e) => {
                                let msg = e.to_string();
                                self.events.emit(&Event::Failed { id: id.clone(), error: msg.clone() });
                                results[i] = Some(InstanceResult {
                                    id,
                                    stage: stage_name(i),
                                    outcome: Outcome::Failed(msg),
                                    seconds: secs,
                                    manifest: None,
                                });
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
        let results: Vec<InstanceResult> = results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| {
                    let reason =
                        if cancelled { "run interrupted".to_string() } else { blocked_reason(p, i, &resolved) };
                    self.events.emit(&Event::Skipped { id: p.instances[i].id.clone(), reason: reason.clone() });
                    InstanceResult {
                        id: p.instances[i].id.clone(),
                        stage: stage_name(i),
                        outcome: Outcome::Skipped(reason),
                        seconds: 0.0,
                        manifest: None,
                    }
                })
            })
            .collect();
        let summary =
            RunSummary { pipeline: p.name.clone(), results, seconds: started.elapsed().as_secs_f64(), cancelled };
        let _ = self.cache.save_run(&run_record(p, &summary, now_unix()));
        summary
    }
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
            })
            .collect(),
    }
}

/// What `status` says about one instance.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    Cached,
    /// Will run, for these reasons.
    Run {
        reasons: Vec<String>,
    },
    /// Its inputs will be recomputed first; it may still be cached afterwards (early cutoff).
    Waits {
        on: Vec<String>,
    },
    /// Not in the local cache but on the remote one: `run` fetches it instead of running it.
    Remote,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusRow {
    pub id: String,
    pub kind: String,
    #[serde(flatten)]
    pub status: Status,
}

/// A dry run: what is cached (locally, or on `cache`'s remote), what would run and why.
/// Changes nothing on disk.
pub fn status(p: &Expanded, registry: &Registry, cache: &Cache, device: &Device, env: &RunEnv) -> Vec<StatusRow> {
    let files = FileDigests::default();
    let n = p.instances.len();
    let mut resolved: Vec<Option<Manifest>> = vec![None; n];
    let mut rows: Vec<Option<StatusRow>> = vec![None; n];
    let prev = cache.latest_run(&p.name);
    let prev_keys: std::collections::HashMap<&str, &str> = prev
        .as_ref()
        .map(|r| r.instances.iter().filter_map(|i| Some((i.id.as_str(), i.key.as_deref()?))).collect())
        .unwrap_or_default();
    let order = {
        let edges: Vec<(usize, usize)> = p
            .instances
            .iter()
            .enumerate()
            .flat_map(|(i, inst)| inst.inputs.iter().flat_map(move |b| b.sources.iter().map(move |s| (s.instance, i))))
            .collect();
        crate::graph::topo_order(n, &edges).unwrap_or_else(|_| (0..n).collect())
    };
    for i in order {
        let inst = &p.instances[i];
        let Some(kind) = registry.get(&inst.kind) else { continue };
        let row = |status| StatusRow { id: inst.id.clone(), kind: inst.kind.clone(), status };
        match key_inputs(p, i, kind, &resolved, device, env, &files) {
            Err(KeyBlock::Source(e)) => {
                rows[i] = Some(row(Status::Run { reasons: vec![format!("cannot read its source files: {e}")] }));
            }
            Err(KeyBlock::Upstream) => {
                let on: Vec<String> = inst
                    .inputs
                    .iter()
                    .flat_map(|b| b.sources.iter())
                    .filter(|s| resolved[s.instance].is_none())
                    .map(|s| p.instances[s.instance].id.clone())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                rows[i] = Some(row(Status::Waits { on }));
            }
            Ok((ki, sources)) => {
                let key = ki.key();
                match cache.lookup(&key, Verify::Stat) {
                    Lookup::Hit(m) => {
                        resolved[i] = Some(*m);
                        rows[i] = Some(row(Status::Cached));
                    }
                    Lookup::Corrupt(why) => {
                        rows[i] = Some(row(Status::Run { reasons: vec![format!("cache entry corrupt: {why}")] }));
                    }
                    Lookup::Missing if let Some(m) = cache.remote().and_then(|r| r.peek_manifest(&key)) => {
                        resolved[i] = Some(m);
                        rows[i] = Some(row(Status::Remote));
                    }
                    Lookup::Missing => {
                        let reasons = match prev_keys.get(inst.id.as_str()) {
                            None => vec!["never run".to_string()],
                            Some(&old) if old == key => vec!["cache entry missing (removed by gc or by hand)".to_string()],
                            Some(&old) => match cache.read_manifest(old) {
                                Ok(Some(m)) => {
                                    let why = explain_difference(&m.key_inputs, &ki, &sources);
                                    if why.is_empty() { vec!["key changed".to_string()] } else { why }
                                }
                                _ => vec!["changed since the last run (its previous entry is gone, so the change cannot be shown)".to_string()],
                            },
                        };
                        rows[i] = Some(row(Status::Run { reasons }));
                    }
                }
            }
        }
    }
    rows.into_iter().flatten().collect()
}
