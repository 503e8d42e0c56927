//! `tscpipe status` reads at a glance: one line per stage with the reasons counted, the full
//! list behind `--verbose`, everything in `--json`.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tscpipe::app;
use tscpipe::cache::Cache;
use tscpipe::exec::events::CollectSink;
use tscpipe::exec::executor::{ExecError, Executed, Executor, Job};
use tscpipe::exec::scheduler::{RunOptions, Scheduler};
use tscpipe::plan::Plan;
use tscpipe::stages::Registry;
use tscpipe::stages::kind::StageProgress;

use crate::common::{Project, repo};

/// Writes every declared output of a job (its key and the file name as content) instead of
/// running the stage: the cache then holds what a real run would key, in a second instead of
/// the quick profile's minutes of training.
struct Pretend {
    cache: Cache,
}

impl Executor for Pretend {
    fn name(&self) -> &'static str {
        "pretend"
    }

    fn execute(&self, job: &Job, _: &(dyn Fn(StageProgress) + Sync), _: &AtomicBool) -> Result<Executed, ExecError> {
        let staging = self.cache.staging()?;
        for o in job.kind.outputs() {
            std::fs::write(staging.dir.join(o.name), format!("{} {}\n", job.key, o.name))
                .map_err(|e| ExecError::Panicked(e.to_string()))?;
        }
        let manifest = self.cache.commit(
            &staging,
            &[],
            job.key_inputs.clone(),
            job.sources.clone(),
            &job.instance,
            &job.pipeline,
            Duration::ZERO,
        )?;
        Ok(Executed::new(manifest, false))
    }
}

fn pretend_run(p: &Project, file: &Path) {
    let registry = Registry::builtin();
    let mut opts = p.options();
    opts.load.profile = Some("quick".into());
    let pipe = app::load(file, &opts, &registry).expect("pipeline loads");
    let cache = Cache::open(p.cache_dir()).expect("cache");
    let env = opts.run_env(&pipe);
    let executor = Pretend { cache: cache.clone() };
    let events = CollectSink::default();
    let scheduler = Scheduler { registry: &registry, env: &env, cache: &cache, executor: &executor, events: &events };
    let summary = scheduler.run(&Plan::new(&pipe), &RunOptions::default(), &AtomicBool::new(false));
    assert!(summary.ok(), "{:?}", summary.results.iter().find(|r| r.manifest.is_none()));
}

fn status(p: &Project, file: &Path, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tscpipe"))
        .arg("status")
        .arg(file)
        .args(["--profile", "quick", "--cache-dir"])
        .arg(p.cache_dir())
        .args(extra)
        .env_remove("TSCPIPE_DATA")
        .env_remove("UCR_ARCHIVE")
        .output()
        .expect("tscpipe runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn one_parameter_edit_reads_on_one_screen() {
    let p = Project::new();
    let original = std::fs::read_to_string(repo().join("pipelines/paper_repro.toml")).expect("paper_repro.toml");
    let file = p.write("pipelines/paper_repro.toml", &original);
    pretend_run(&p, &file);
    assert!(status(&p, &file, &[]).contains("0 to run"), "everything is cached after the run");

    let edited = original.replace("stages.finetune.epochs = 10", "stages.finetune.epochs = 12");
    assert_ne!(edited, original, "the quick profile sets the fine-tuning epochs");
    p.write("pipelines/paper_repro.toml", &edited);
    let text = status(&p, &file, &[]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() <= 40, "{} lines:\n{text}", lines.len());
    let finetune = lines.iter().find(|l| l.starts_with("finetune ")).expect("a finetune line");
    assert!(finetune.contains("24 × parameter `epochs`: 10 → 12"), "{text}");
    let predict_ft = lines.iter().find(|l| l.starts_with("predict_ft ")).expect("a predict_ft line");
    assert!(predict_ft.contains("waits on 24 × finetune"), "{text}");
    let train = lines.iter().find(|l| l.starts_with("train ")).expect("a train line");
    assert!(!train.contains('×'), "training is cached: {text}");
    // Every instance once, cached or not.
    let json: Vec<serde_json::Value> = serde_json::from_str(&status(&p, &file, &["--json"])).expect("json");
    let totals = lines.iter().find(|l| l.contains("stage instances:")).expect("totals");
    assert!(totals.starts_with(&format!("{} stage instances: ", json.len())), "{totals}");
    let runs = json.iter().filter(|r| r["state"] == "run").count();
    assert_eq!(runs, 24, "only the fine-tuning reruns for sure");
    assert!(json.iter().any(|r| r["state"] == "waits"));

    // `--verbose` lists the instances, each with its reason.
    let verbose = status(&p, &file, &["--verbose"]);
    assert_eq!(verbose.lines().filter(|l| l.starts_with("run     finetune[")).count(), 24, "{verbose}");
    assert_eq!(verbose.matches("- parameter `epochs`: 10 → 12").count(), 24);
    assert!(verbose.lines().count() > 40);
}
