//! Declared resources and retries without a cluster: `-j` slots taken by what an instance asks
//! CPUs for, a retry after running out of memory asking for more (every attempt recorded, shown
//! by `status` and the report), a local stage run in a child process under a memory limit, and
//! the usage every instance records.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tscpipe::app;
use tscpipe::cache::Cache;
use tscpipe::cache::runs::AttemptOutcome;
use tscpipe::exec::events::{CollectSink, Event};
use tscpipe::exec::executor::{Exceeded, ExecError, Executed, Executor, Job};
use tscpipe::exec::scheduler::{Outcome, RunOptions, Scheduler};
use tscpipe::plan::Plan;
use tscpipe::settings::Memory;
use tscpipe::stages::Registry;
use tscpipe::stages::kind::StageProgress;

use crate::common::{Project, SMALL, published};

/// Commits what a job declares without running it, after `sleep`, recording the CPU slots in use
/// at once; an instance of `fail_stage` runs out of memory while it asks for less than `needs`.
struct Fake {
    cache: Cache,
    sleep: Duration,
    in_use: AtomicUsize,
    most: AtomicUsize,
    fail_stage: &'static str,
    needs: Memory,
    requests: Mutex<Vec<(String, u32, Option<Memory>)>>,
}

impl Fake {
    fn new(cache: Cache, sleep: Duration, fail_stage: &'static str, needs: Memory) -> Fake {
        Fake {
            cache,
            sleep,
            in_use: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
            fail_stage,
            needs,
            requests: Mutex::new(Vec::new()),
        }
    }
}

impl Executor for Fake {
    fn name(&self) -> &'static str {
        "fake"
    }

    fn execute(&self, job: &Job, _: &(dyn Fn(StageProgress) + Sync), _: &AtomicBool) -> Result<Executed, ExecError> {
        self.requests.lock().expect("requests").push((job.instance.clone(), job.attempt, job.request.mem));
        let cpus = job.request.cpus as usize;
        let now = self.in_use.fetch_add(cpus, Ordering::SeqCst) + cpus;
        self.most.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(self.sleep);
        self.in_use.fetch_sub(cpus, Ordering::SeqCst);
        if job.stage == self.fail_stage && job.request.mem.is_none_or(|m| m < self.needs) {
            return Err(ExecError::Exceeded {
                what: Exceeded::Memory,
                detail: format!("killed at {:?}", job.request.mem),
                info: Box::default(),
            });
        }
        let staging = self.cache.staging()?;
        for o in job.kind.outputs().iter().filter(|o| !o.optional) {
            std::fs::write(staging.dir.join(o.name), format!("{} {}\n", job.key, o.name))
                .map_err(|e| ExecError::Panicked(e.to_string()))?;
        }
        let m = self.cache.commit(
            &staging,
            &[],
            job.key_inputs.clone(),
            job.sources.clone(),
            &job.instance,
            &job.pipeline,
            self.sleep,
        )?;
        Ok(Executed::new(m, false))
    }
}

fn fake_run(p: &Project, file: &Path, fake: &Fake, opts: &RunOptions) -> (tscpipe::exec::RunSummary, Vec<Event>) {
    let registry = Registry::builtin();
    let pipe = app::load(file, &p.options(), &registry).expect("pipeline loads");
    let cache = Cache::open(p.cache_dir()).expect("cache");
    let env = p.options().run_env(&pipe);
    let events = CollectSink::default();
    let s = Scheduler { registry: &registry, env: &env, cache: &cache, executor: fake, events: &events };
    let summary = s.run(&Plan::new(&pipe), opts, &AtomicBool::new(false));
    (summary, events.0.into_inner().expect("events"))
}

/// `load` (2 instances, 2 CPUs each) beside `nn` and `eval` (1 each).
fn two_cpu_loads() -> String {
    SMALL.replace("[stages.load]\nkind = \"load\"\n", "[stages.load]\nkind = \"load\"\nresources = { cpus = 2 }\n")
}

#[test]
fn an_instance_takes_as_many_slots_as_it_asks_cpus_for() {
    let p = Project::new();
    let file = p.write("small.toml", &two_cpu_loads());
    let fake =
        Fake::new(Cache::open(p.cache_dir()).expect("cache"), Duration::from_millis(150), "none", Memory::mib(1));
    let opts = RunOptions { jobs: 3, ..Default::default() };
    let (summary, _) = fake_run(&p, &file, &fake, &opts);
    assert!(summary.ok(), "{:?}", summary.results);
    // two loads of 2 CPUs never run together on 3 slots; a load and a 1-CPU stage may
    assert!(fake.most.load(Ordering::SeqCst) <= 3, "{} slots in use at once", fake.most.load(Ordering::SeqCst));
    // with -j 1 a 2-CPU instance still runs (alone)
    let p = Project::new();
    let file = p.write("small.toml", &two_cpu_loads());
    let fake = Fake::new(Cache::open(p.cache_dir()).expect("cache"), Duration::from_millis(10), "none", Memory::mib(1));
    let (summary, _) = fake_run(&p, &file, &fake, &RunOptions::default());
    assert!(summary.ok(), "{:?}", summary.results);
    assert_eq!(fake.most.load(Ordering::SeqCst), 2, "the fake counts what the job asks for");
}

#[test]
fn an_instance_out_of_memory_is_retried_asking_for_more_and_every_attempt_is_recorded() {
    let p = Project::new();
    // nn asks for 100M and needs 300M: 100M → 200M → 400M with the default factor of 2
    let text = SMALL.replace(
        "[stages.nn]\nkind = \"classify\"\n",
        "[stages.nn]\nkind = \"classify\"\nresources = { mem = \"100M\" }\nretries = 3\n",
    );
    let file = p.write("small.toml", &text);
    let fake = Fake::new(Cache::open(p.cache_dir()).expect("cache"), Duration::ZERO, "nn", Memory::mib(300));
    let (summary, events) = fake_run(&p, &file, &fake, &RunOptions::default());
    assert!(summary.ok(), "{:?}", summary.results);
    let nn = summary.results.iter().find(|r| r.id == "nn[dataset=Coffee]").expect("nn");
    let outcomes: Vec<(AttemptOutcome, Option<Memory>)> =
        nn.attempts.iter().map(|a| (a.outcome, a.request.and_then(|q| q.mem))).collect();
    assert_eq!(
        outcomes,
        [
            (AttemptOutcome::OutOfMemory, Some(Memory::mib(100))),
            (AttemptOutcome::OutOfMemory, Some(Memory::mib(200))),
            (AttemptOutcome::Ran, Some(Memory::mib(400))),
        ]
    );
    let retries: Vec<&Event> = events.iter().filter(|e| matches!(e, Event::Retry { .. })).collect();
    assert_eq!(retries.len(), 4, "two retries for each of the two nn instances: {retries:?}");
    assert!(
        events.iter().any(|e| matches!(e, Event::Retry { id, attempt: 2, reason, request }
            if id == "nn[dataset=Coffee]" && reason == "out of memory (100M)" && request == "1 cpu, 200M, 6h")),
        "{retries:?}"
    );
    // the run record keeps every attempt; `status` shows them
    let cache = Cache::open(p.cache_dir()).expect("cache");
    let rec = cache.latest_run("small").expect("record");
    let r = rec.instances.iter().find(|r| r.id == "nn[dataset=Coffee]").expect("nn record");
    assert_eq!(r.attempts.len(), 3);
    let text = p.status(&file, &[]);
    assert!(text.contains("last run: 2 retried (4 × out of memory)"), "{text}");
    let text = p.status(&file, &["--verbose"]);
    assert!(
        text.contains("cached  nn[dataset=Coffee]\n          - last run: out of memory (100M, 6h) → out of memory (200M, 6h) → ran (400M, 6h)"),
        "{text}"
    );

    // Without retries the first time it runs out fails the instance, and says how to retry.
    let p = Project::new();
    let file = p.write("small.toml", &text_without_retries());
    let fake = Fake::new(Cache::open(p.cache_dir()).expect("cache"), Duration::ZERO, "nn", Memory::mib(300));
    let (summary, _) = fake_run(&p, &file, &fake, &RunOptions { keep_going: true, ..Default::default() });
    let failed: Vec<&str> = summary
        .results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Failed(e) => Some(e.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 2, "{:?}", summary.results);
    assert!(failed[0].contains("retries = N"), "{}", failed[0]);
}

fn text_without_retries() -> String {
    SMALL.replace(
        "[stages.nn]\nkind = \"classify\"\n",
        "[stages.nn]\nkind = \"classify\"\nresources = { mem = \"100M\" }\n",
    )
}

/// A local stage that needs more than its memory limit runs in a child process, is killed by its
/// `RLIMIT_DATA`, and succeeds on the retry that asks for more; its results are an in-process
/// run's.
#[test]
fn a_local_stage_over_its_memory_limit_runs_again_with_more() {
    let p = Project::new();
    // MiniRocket on ItalyPowerDemand keeps 1096 series × 9996 features: about 40 MiB beyond the
    // 4 MiB the process starts with. 24M is too little; 24M × 4 is enough.
    let text = format!(
        "[pipeline]\nname = \"rocket\"\n\
         [stages.load]\nkind = \"load\"\ndataset = \"ItalyPowerDemand\"\n\
         [stages.mr]\nuse = \"protocols/minirocket\"\ninputs = {{ data = \"load\" }}\nresources = {{ mem = \"24M\" }}\nretries = 2\n\
         [stages.eval]\nkind = \"evaluate\"\ninputs = {{ predictions = \"mr\" }}\n\
         [stages.table]\nkind = \"table\"\ninputs = {{ results = \"eval\" }}\n\
         [executor]\nretry_factor = 4\ntscpipe = \"{}\"\n",
        env!("CARGO_BIN_EXE_tscpipe")
    );
    let file = p.write("rocket.toml", &text);
    let sink = CollectSink::default();
    let out =
        app::run(&file, &p.options(), &RunOptions::default(), &Registry::builtin(), &sink, &AtomicBool::new(false))
            .expect("run");
    assert!(out.summary.ok(), "{:?}", out.summary.results);
    let nn = out.summary.results.iter().find(|r| r.stage == "mr").expect("mr");
    let outcomes: Vec<(AttemptOutcome, Option<Memory>)> =
        nn.attempts.iter().map(|a| (a.outcome, a.request.and_then(|q| q.mem))).collect();
    assert_eq!(
        outcomes,
        [(AttemptOutcome::OutOfMemory, Some(Memory::mib(24))), (AttemptOutcome::Ran, Some(Memory::mib(96)))]
    );
    let first = nn.attempts[0].error.as_deref().unwrap_or_default();
    assert!(first.contains("ran out of memory (24M)") && first.contains("memory allocation of"), "{first}");
    // the child's own figures: its CPU time and peak memory, which the limit bounded
    let u = nn.usage.expect("usage");
    assert!(u.peak_rss.expect("peak") > 0 && u.cpu_s.is_some() && !u.shared, "{u:?}");
    assert!(p.cache_dir().join("local").join(&nn.manifest.as_ref().expect("m").key).join("out.log").is_file());
    // the same numbers as an in-process run
    let local = Project::new();
    let plain = local.write("rocket.toml", &text.replace("retries = 2\n", ""));
    let l = local.run(&plain);
    assert_eq!(published(&out, "results.csv"), published(&l, "results.csv"));
    let key = |o: &app::RunOutput| {
        o.summary.results.iter().map(|r| r.manifest.as_ref().map(|m| m.key.clone())).collect::<Vec<_>>()
    };
    assert_eq!(key(&out), key(&l), "resources and retries are not part of any key");
}

#[test]
fn every_instance_records_its_usage_and_the_report_shows_wall_time_and_peak_memory() {
    let p = Project::new();
    let text =
        format!("{SMALL}\n[stages.report]\nkind = \"report\"\ninputs = {{ tables = \"table\" }}\ntitle = \"r\"\n");
    let file = p.write("small.toml", &text);
    let out = p.run(&file);
    for r in &out.summary.results {
        let u = r.usage.unwrap_or_else(|| panic!("{}: no usage", r.id));
        assert!(u.wall_s > 0.0 && u.cpu_s.is_some() && u.peak_rss.is_some_and(|b| b > 1 << 20), "{}: {u:?}", r.id);
        assert_eq!(r.attempts.len(), 1, "{}", r.id);
    }
    let html = published(&out, "report.html");
    assert!(html.contains("<th>peak memory</th>") && html.contains("<th>wall s</th>"), "{html}");
    assert!(html.contains("<tr><td>nn</td><td>2</td><td>2</td>"), "{html}");
    // A rerun: all cached, and the report still shows what each instance used when it ran.
    let again = p.run(&file);
    assert!(again.summary.results.iter().all(|r| r.outcome == Outcome::Cached && r.usage_earlier));
    let html = published(&again, "report.html");
    assert!(html.contains("title=\"measured in the run that computed it\""), "{html}");
}
