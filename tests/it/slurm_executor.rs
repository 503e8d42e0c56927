//! The SLURM executor against a real one-node cluster (`.ci/slurm-up.sh` starts munged,
//! slurmctld and slurmd on this machine, memory enforced by a cgroup per job; `.ci/run` does it
//! and sets `TSCPIPE_TEST_SLURM=1`). Without that variable the tests say "skipped"; with it, a
//! cluster that is not answering fails them.

/// Straight to stderr: the test harness captures `eprintln!` of passing tests, and a skip must
/// be seen.
fn skipped(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::{Project, SMALL, published, ran};
use tscpipe::app::{self, RunOutput};
use tscpipe::cache::runs::AttemptOutcome;
use tscpipe::exec::events::{CollectSink, Event, EventSink};
use tscpipe::exec::scheduler::RunOptions;
use tscpipe::settings::Settings;
use tscpipe::stages::Registry;

/// The tests share one cluster and one pipeline (so one set of job names): one at a time.
static CLUSTER: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn cluster(test: &str) -> bool {
    if std::env::var("TSCPIPE_TEST_SLURM").as_deref() != Ok("1") {
        skipped(&format!(
            "skipped: {test}: no SLURM cluster (eval \"$(.ci/slurm-up.sh)\" starts one and sets TSCPIPE_TEST_SLURM=1)"
        ));
        return false;
    }
    let ok = Command::new("sinfo").args(["-h", "-o", "%T"]).output().is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "TSCPIPE_TEST_SLURM=1 but `sinfo` fails: is slurmctld running (SLURM_CONF={:?})?",
        std::env::var("SLURM_CONF")
    );
    true
}

fn slurm_settings() -> Settings {
    let mut s = Settings::default();
    s.executor.kind = Some("slurm".into());
    s.executor.poll = Some(0.2);
    s.executor.mem = Some("200M".parse().expect("mem"));
    s.executor.time = Some("5".parse().expect("time"));
    s.executor.tscpipe = Some(env!("CARGO_BIN_EXE_tscpipe").into());
    s
}

fn run_slurm(p: &Project, file: &Path, sink: &dyn EventSink, cancel: &AtomicBool) -> RunOutput {
    run_with_settings(p, file, &slurm_settings(), sink, cancel)
}

fn run_with_settings(p: &Project, file: &Path, s: &Settings, sink: &dyn EventSink, cancel: &AtomicBool) -> RunOutput {
    app::run_with(file, &p.options(), &RunOptions::default(), s, &Registry::builtin(), sink, cancel).expect("run")
}

#[test]
fn a_pipeline_through_slurm_equals_a_local_run_and_a_rerun_submits_nothing() {
    let _one = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    if !cluster("a_pipeline_through_slurm_equals_a_local_run") {
        return;
    }
    let p = Project::new();
    let file = p.write("small.toml", SMALL);
    let sink = CollectSink::default();
    let out = run_slurm(&p, &file, &sink, &AtomicBool::new(false));
    assert!(out.summary.ok(), "{:?}", out.summary.results);
    assert_eq!(ran(&out).len(), 7);
    let st = out.slurm.expect("slurm stats");
    assert_eq!(st.submitted, 7, "every stage instance went out");
    assert!(st.sbatch_calls < 7, "the instances of a stage went out as arrays: {st:?}");
    // The jobs really ran through SLURM: each left its job file, result, where it went and its log,
    // and what it used on the node.
    for r in &out.summary.results {
        let key = &r.manifest.as_ref().expect("manifest").key;
        let dir = p.cache_dir().join("slurm").join(key);
        for f in ["job.json", "result.json", "submitted.json"] {
            assert!(dir.join(f).is_file(), "{}: no {f}", r.id);
        }
        let sub: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("submitted.json")).expect("read")).expect("json");
        let log = sub["log"].as_str().expect("log");
        assert!(Path::new(log).is_file(), "{}: no log {log}", r.id);
        let u = r.usage.unwrap_or_else(|| panic!("{}: no usage", r.id));
        assert!(u.peak_rss.is_some_and(|b| b > 1 << 20) && u.cpu_s.is_some() && !u.shared, "{}: {u:?}", r.id);
        assert_eq!(r.attempts[0].job.as_deref(), sub["job"].as_str(), "{}", r.id);
    }
    let states: Vec<String> = sink
        .0
        .lock()
        .expect("events")
        .iter()
        .filter_map(|e| match e {
            Event::Progress { message, .. } if message.starts_with("slurm job") => Some(message.clone()),
            _ => None,
        })
        .collect();
    assert!(states.iter().any(|m| m.ends_with("submitted")), "{states:?}");

    // The same pipeline in-process, in another cache: identical keys and outputs.
    let local = Project::new();
    let local_file = local.write("small.toml", SMALL);
    let l = local.run(&local_file);
    for (a, b) in out.summary.results.iter().zip(&l.summary.results) {
        let (ma, mb) = (a.manifest.as_ref().expect("m"), b.manifest.as_ref().expect("m"));
        assert_eq!(a.id, b.id);
        assert_eq!(ma.key, mb.key, "{}", a.id);
        // measured timings (volatile outputs) differ; everything dependents see is equal
        let seen = |m: &tscpipe::cache::Manifest| -> Vec<(String, String)> {
            m.outputs.iter().filter(|(_, o)| !o.volatile).map(|(n, o)| (n.clone(), o.digest.clone())).collect()
        };
        assert_eq!(seen(ma), seen(mb), "{}", a.id);
    }
    assert_eq!(published(&out, "results.csv"), published(&l, "results.csv"));

    // A rerun: everything is cached, nothing is submitted.
    let again = run_slurm(&p, &file, &CollectSink::default(), &AtomicBool::new(false));
    assert!(ran(&again).is_empty());
    assert_eq!(again.slurm.expect("stats").submitted, 0);
}

/// 200 cheap instances: one dataset, 199 resamples of it.
fn two_hundred() -> String {
    "[pipeline]\nname = \"many\"\n\
     [matrix]\nresample = { range = [1, 200] }\n\
     [stages.load]\nkind = \"load\"\ndataset = \"ItalyPowerDemand\"\n\
     [stages.rs]\nkind = \"resample\"\ninputs = { data = \"load\" }\nseed = \"${resample}\"\n"
        .to_string()
}

#[test]
fn two_hundred_instances_go_out_in_a_handful_of_sbatch_calls_and_equal_a_local_run() {
    let _one = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    if !cluster("two_hundred_instances_go_out_in_a_handful_of_sbatch_calls") {
        return;
    }
    let p = Project::new();
    let file = p.write("many.toml", &two_hundred());
    let sink = CollectSink::default();
    let mut s = slurm_settings();
    s.executor.max_jobs = Some(8);
    let out = run_with_settings(&p, &file, &s, &sink, &AtomicBool::new(false));
    assert!(out.summary.ok(), "{:?}", out.summary.results.iter().find(|r| r.manifest.is_none()));
    assert_eq!(out.summary.results.len(), 200);
    let st = out.slurm.expect("stats");
    assert_eq!(st.submitted, 200);
    assert!(st.sbatch_calls <= 3, "200 instances in {} sbatch calls", st.sbatch_calls);
    // The resamples went out as tasks of one array: `A_0` … `A_198`.
    let arrays: std::collections::BTreeSet<String> = out
        .summary
        .results
        .iter()
        .filter(|r| r.stage == "rs")
        .map(|r| r.attempts[0].job.clone().expect("job").split('_').next().unwrap_or("").to_string())
        .collect();
    assert_eq!(arrays.len(), 1, "{arrays:?}");
    let script = std::fs::read_dir(p.cache_dir().join("slurm/arrays"))
        .expect("arrays")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path().join("job.sh")).expect("job.sh"))
        .collect::<Vec<_>>();
    assert!(script.iter().any(|t| t.contains("run-job --tasks")), "{script:?}");

    // The same pipeline in-process: identical keys and outputs for all 200.
    let local = Project::new();
    let l = local.run(&local.write("many.toml", &two_hundred()));
    for (a, b) in out.summary.results.iter().zip(&l.summary.results) {
        let (ma, mb) = (a.manifest.as_ref().expect("m"), b.manifest.as_ref().expect("m"));
        assert_eq!((&a.id, &ma.key, &ma.outputs), (&b.id, &mb.key, &mb.outputs));
    }
    // A rerun submits nothing.
    let again = run_slurm(&p, &file, &CollectSink::default(), &AtomicBool::new(false));
    assert!(again.summary.ok() && ran(&again).is_empty());
    let st = again.slurm.expect("stats");
    assert_eq!((st.submitted, st.sbatch_calls), (0, 0));
}

#[test]
fn a_job_over_its_memory_limit_ends_out_of_memory_and_its_retry_asks_for_more() {
    let _one = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    if !cluster("a_job_over_its_memory_limit_ends_out_of_memory") {
        return;
    }
    // MiniRocket on ItalyPowerDemand needs about 40 MiB more than the process starts with: the
    // job's cgroup kills it at 24M, and the retry at 24M × 4 completes.
    let text = "[pipeline]\nname = \"oom\"\n\
                [stages.load]\nkind = \"load\"\ndataset = \"ItalyPowerDemand\"\n\
                [stages.mr]\nuse = \"protocols/minirocket\"\ninputs = { data = \"load\" }\n\
                resources = { mem = \"24M\" }\nretries = 1\n\
                [executor]\nretry_factor = 4\n";
    let p = Project::new();
    let file = p.write("oom.toml", text);
    let sink = CollectSink::default();
    let out = run_slurm(&p, &file, &sink, &AtomicBool::new(false));
    assert!(out.summary.ok(), "{:?}", out.summary.results);
    let mr = out.summary.results.iter().find(|r| r.stage == "mr").expect("mr");
    let attempts: Vec<(AttemptOutcome, String)> = mr
        .attempts
        .iter()
        .map(|a| (a.outcome, a.request.and_then(|q| q.mem).map(|m| m.to_string()).unwrap_or_default()))
        .collect();
    assert_eq!(attempts, [(AttemptOutcome::OutOfMemory, "24M".into()), (AttemptOutcome::Ran, "96M".into())]);
    let first = mr.attempts[0].error.as_deref().unwrap_or_default();
    assert!(first.contains("ran out of memory (asked for 24M): OUT_OF_MEMORY"), "{first}");
    assert_ne!(mr.attempts[0].job, mr.attempts[1].job, "the retry is a new job");
    assert!(mr.usage.and_then(|u| u.peak_rss).is_some_and(|b| b < 96 << 20), "{:?}", mr.usage);
    let events = sink.0.lock().expect("events");
    assert!(
        events.iter().any(|e| matches!(e, Event::Retry { attempt: 2, reason, .. } if reason == "out of memory (24M)")),
        "{events:?}"
    );
    drop(events);
    // `status` shows the attempts of the last run.
    let text = p.status(&file, &[]);
    assert!(text.contains("last run: 1 retried (1 × out of memory)"), "{text}");
    // The numbers are a local run's.
    let local = Project::new();
    let l = local.run(&local.write("oom.toml", "[pipeline]\nname = \"oom\"\n[stages.load]\nkind = \"load\"\ndataset = \"ItalyPowerDemand\"\n[stages.mr]\nuse = \"protocols/minirocket\"\ninputs = { data = \"load\" }\n"));
    let key = |o: &RunOutput| {
        // what dependents see (the volatile measured timings differ run to run)
        o.summary.results.iter().map(|r| r.manifest.as_ref().map(|m| m.output_digest(None))).collect::<Vec<_>>()
    };
    assert_eq!(key(&out), key(&l));
}

/// Cancels the run (as Ctrl-C does) as soon as a job has been submitted.
struct CancelOnSubmit<'a> {
    cancel: &'a AtomicBool,
    job: std::sync::Mutex<Option<String>>,
}

impl EventSink for CancelOnSubmit<'_> {
    fn emit(&self, e: &Event) {
        if let Event::Progress { message, .. } = e
            && let Some(id) = message.strip_prefix("slurm job ").and_then(|m| m.strip_suffix(": submitted"))
        {
            if let Ok(mut j) = self.job.lock() {
                j.get_or_insert(id.to_string());
            }
            self.cancel.store(true, Ordering::SeqCst);
        }
    }
}

#[test]
fn cancelling_a_run_scancels_its_jobs_and_the_next_run_completes() {
    let _one = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    if !cluster("cancelling_a_run_scancels_its_jobs") {
        return;
    }
    let p = Project::new();
    let file = p.write("small.toml", SMALL);
    // Hold the first job in the queue so that it is certainly live when the run is cancelled.
    let cancel = AtomicBool::new(false);
    let sink = CancelOnSubmit { cancel: &cancel, job: Default::default() };
    let mut s = slurm_settings();
    s.executor.extra = vec!["--hold".into()];
    let out = run_with_settings(&p, &file, &s, &sink, &cancel);
    assert!(out.summary.cancelled);
    let id = sink.job.lock().expect("job").clone().expect("a job was submitted");
    // scancel took it out of the queue.
    let t0 = Instant::now();
    loop {
        let o = Command::new("squeue").args(["-h", "-t", "all", "-j", &id, "-o", "%T"]).output().expect("squeue");
        let state = String::from_utf8_lossy(&o.stdout).trim().to_string();
        if state == "CANCELLED" || state.is_empty() {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "job {id} still {state} after the run was cancelled");
        std::thread::sleep(Duration::from_millis(100));
    }
    let again = run_slurm(&p, &file, &CollectSink::default(), &AtomicBool::new(false));
    assert!(again.summary.ok(), "{:?}", again.summary.results);
    assert_eq!(again.summary.ran() + again.summary.cached(), 7);
}

/// Releases held jobs (whole arrays) as the run adopts their tasks.
struct ReleaseOnAdopt;

impl EventSink for ReleaseOnAdopt {
    fn emit(&self, e: &Event) {
        if let Event::Progress { message, .. } = e
            && let Some(id) =
                message.strip_prefix("slurm job ").and_then(|m| m.strip_suffix(": adopted from an earlier run"))
        {
            let array = id.split('_').next().unwrap_or(id);
            let _ = Command::new("scontrol").args(["release", array]).output();
        }
    }
}

#[test]
fn a_run_killed_with_jobs_queued_is_resumed_without_submitting_them_twice() {
    let _one = CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    if !cluster("a_run_killed_with_jobs_queued_is_resumed") {
        return;
    }
    use std::io::BufRead;
    let p = Project::new();
    let bin = env!("CARGO_BIN_EXE_tscpipe");
    // The first run's jobs are held in the queue, then the runner is killed (SIGKILL: no
    // chance to scancel anything).
    let text =
        format!("{SMALL}\n[executor]\nkind = \"slurm\"\npoll = 0.2\ntscpipe = \"{bin}\"\nextra = [\"--hold\"]\n");
    let file = p.write("small.toml", &text);
    let mut child = Command::new(bin)
        .arg("run")
        .arg(&file)
        .arg("--json")
        .arg("--cache-dir")
        .arg(p.cache_dir())
        .arg("--results-dir")
        .arg(p.path("results"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start tscpipe");
    let stdout = child.stdout.take().expect("stdout");
    let mut submitted = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("line");
        let v: serde_json::Value = serde_json::from_str(&line).expect("json event");
        if let Some(id) =
            v["message"].as_str().and_then(|m| m.strip_prefix("slurm job ")).and_then(|m| m.strip_suffix(": submitted"))
        {
            submitted.push(id.to_string());
            if submitted.len() == 2 {
                break;
            }
        }
    }
    child.kill().expect("kill");
    let _ = child.wait();
    assert_eq!(submitted.len(), 2, "both load instances were submitted");
    assert!(submitted.iter().all(|id| id.contains('_')), "as the two tasks of one array: {submitted:?}");

    // The second run (without --hold) adopts the two queued jobs instead of submitting them again.
    let file = p.write("small.toml", &text.replace("extra = [\"--hold\"]\n", ""));
    let mut s = Settings::default();
    s.executor.tscpipe = Some(bin.into());
    let out = run_with_settings(&p, &file, &s, &ReleaseOnAdopt, &AtomicBool::new(false));
    assert!(out.summary.ok(), "{:?}", out.summary.results);
    let st = out.slurm.expect("stats");
    assert_eq!((st.adopted, st.submitted), (2, 5), "{st:?}");
}
