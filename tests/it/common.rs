//! Helpers shared by the end-to-end tests: a throw-away project folder with its own cache.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use tscpipe::app::{self, Options, RunOutput};
use tscpipe::dsl::PipelineOptions;
use tscpipe::exec::events::{CollectSink, Event};
use tscpipe::exec::scheduler::{Outcome, RunOptions};
use tscpipe::stages::Registry;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Project {
    pub dir: tempfile::TempDir,
    pub sets: Vec<String>,
    pub data_dirs: Vec<PathBuf>,
    /// `--target`s of the runs.
    pub targets: Vec<String>,
}

impl Project {
    pub fn new() -> Project {
        Project {
            dir: tempfile::tempdir().expect("tempdir"),
            sets: Vec::new(),
            data_dirs: Vec::new(),
            targets: Vec::new(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, text).expect("write");
        p
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.path("cache")
    }

    pub fn options(&self) -> Options {
        Options {
            cache_dir: self.cache_dir(),
            results_dir: self.path("results"),
            data_dirs: self.data_dirs.clone(),
            load: PipelineOptions { sets: self.sets.clone(), targets: self.targets.clone(), ..Default::default() },
        }
    }

    pub fn try_run(&self, pipeline: &Path) -> Result<(RunOutput, Vec<Event>), app::Error> {
        let sink = CollectSink::default();
        let out = app::run(
            pipeline,
            &self.options(),
            &RunOptions::default(),
            &Registry::builtin(),
            &sink,
            &AtomicBool::new(false),
        )?;
        let events = sink.0.into_inner().expect("events");
        Ok((out, events))
    }

    pub fn run(&self, pipeline: &Path) -> RunOutput {
        match self.try_run(pipeline) {
            Ok((out, _)) => {
                for r in &out.summary.results {
                    if let Outcome::Failed(e) = &r.outcome {
                        panic!("{} failed: {e}", r.id);
                    }
                }
                out
            }
            Err(e) => panic!("run failed: {e}"),
        }
    }

    /// `tscpipe status FILE --cache-dir … EXTRA…`: what it prints.
    pub fn status(&self, pipeline: &Path, extra: &[&str]) -> String {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tscpipe"))
            .arg("status")
            .arg(pipeline)
            .arg("--cache-dir")
            .arg(self.cache_dir())
            .args(extra)
            .output()
            .expect("tscpipe status");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn load_err(&self, pipeline: &Path) -> String {
        match app::load(pipeline, &self.options(), &Registry::builtin()) {
            Ok(_) => panic!("expected {} to be rejected", pipeline.display()),
            Err(e) => e.to_string(),
        }
    }
}

/// Ids of the instances that ran (not cached) in a run.
pub fn ran(out: &RunOutput) -> Vec<String> {
    out.summary.results.iter().filter(|r| r.outcome == Outcome::Ran).map(|r| r.id.clone()).collect()
}

/// The text of one published file.
pub fn published(out: &RunOutput, suffix: &str) -> String {
    let p = out
        .published
        .iter()
        .find(|p| p.to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("no published file ending in {suffix}: {:?}", out.published));
    std::fs::read_to_string(p).expect("read published")
}

/// A small pipeline over the bundled data: load → 1-NN ED → evaluate → table.
pub const SMALL: &str = r#"
[pipeline]
name = "small"
main = "table"

[matrix]
dataset = ["ItalyPowerDemand", "Coffee"]

[stages.load]
kind = "load"
dataset = "${dataset}"

[stages.nn]
kind = "classify"
inputs = { data = "load" }
distance = "euclidean"
label = "1NN-ED"

[stages.eval]
kind = "evaluate"
inputs = { predictions = "nn" }

[stages.table]
kind = "table"
inputs = { results = "eval" }
"#;
