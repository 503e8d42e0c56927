//! Using tscpipe as a library: run a pipeline file, then read what each stage instance did and
//! where its outputs are, without the command-line front end.
//!
//! `cargo run --example run_pipeline -- [PIPELINE.toml] [--profile NAME]`
//! (default: `pipelines/baselines.toml`, the 1-NN baselines; a second run is all cache hits).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use tscpipe::app::{self, Options};
use tscpipe::dsl::PipelineOptions;
use tscpipe::exec::events::NullSink;
use tscpipe::exec::scheduler::{Outcome, RunOptions};
use tscpipe::stages::Registry;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let profile = args.iter().position(|a| a == "--profile").and_then(|i| args.get(i + 1)).cloned();
    let pipeline = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--profile"))
        .map(|(_, a)| PathBuf::from(a))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("pipelines/baselines.toml"));

    // The same defaults as `tscpipe run`: ./cache and ./results (or $TSCPIPE_CACHE).
    let opts = Options { load: PipelineOptions { profile, ..Default::default() }, ..Default::default() };
    let registry = Registry::builtin();
    let out = app::run(&pipeline, &opts, &RunOptions::default(), &registry, &NullSink, &AtomicBool::new(false))?;

    for r in &out.summary.results {
        let what = match &r.outcome {
            Outcome::Ran => format!("ran in {:.2}s", r.seconds),
            Outcome::Cached => "cached".to_string(),
            Outcome::Failed(e) => format!("FAILED: {e}"),
            Outcome::Skipped(why) => format!("skipped: {why}"),
        };
        let files = r.manifest.as_ref().map(|m| m.outputs.len()).unwrap_or(0);
        println!("{:<55} {what} ({files} output files)", r.id);
    }
    println!(
        "{} ran, {} cached, {:.1}s",
        out.summary.ran(),
        out.summary.count(|o| *o == Outcome::Cached),
        out.summary.seconds
    );
    for p in &out.published {
        println!("published {}", p.display());
    }
    Ok(())
}
