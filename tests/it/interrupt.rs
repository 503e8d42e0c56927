//! Killing a run (SIGKILL, Ctrl-C) leaves a cache the next run trusts and completes from.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Project, repo};

fn tscpipe(p: &Project, cache: &Path, results: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tscpipe"));
    c.current_dir(p.dir.path())
        .arg("run")
        .arg(repo().join("pipelines/baselines.toml"))
        .arg("--cache-dir")
        .arg(cache)
        .arg("--results-dir")
        .arg(results)
        .env("CI", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn entries(cache: &Path) -> usize {
    std::fs::read_dir(cache.join("ac"))
        .map(|shards| shards.flatten().map(|s| std::fs::read_dir(s.path()).map(|d| d.count()).unwrap_or(0)).sum())
        .unwrap_or(0)
}

fn kill(pid: u32, signal: &str) {
    let ok = Command::new("kill").arg(signal).arg(pid.to_string()).status().unwrap().success();
    assert!(ok, "kill {signal} {pid}");
}

fn interrupted_run_then_resume(signal: &str) {
    let p = Project::new();
    let cache = p.path("cache");
    let mut child = tscpipe(&p, &cache, &p.path("r1")).spawn().unwrap();
    // Wait until some (not all: 4 loads + 12 classify/evaluate + table = 29) entries exist.
    let t0 = Instant::now();
    while entries(&cache) < 5 && t0.elapsed() < Duration::from_secs(120) {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    kill(child.id(), signal);
    let status = child.wait().unwrap();
    let partial = entries(&cache);
    assert!(partial < 29, "run finished before it could be interrupted ({partial} entries)");
    if signal == "-INT" {
        assert_eq!(status.code(), Some(130), "Ctrl-C exits with 130");
    }

    let resumed = tscpipe(&p, &cache, &p.path("r1")).output().unwrap();
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(stdout.contains(&format!("{partial} cached")) || partial == 0, "resumed from the cache: {stdout}");

    let fresh = tscpipe(&p, &p.path("cache2"), &p.path("r2")).output().unwrap();
    assert!(fresh.status.success());
    let a = std::fs::read_to_string(p.path("r1/baselines/table/results.csv")).unwrap();
    let b = std::fs::read_to_string(p.path("r2/baselines/table/results.csv")).unwrap();
    assert_eq!(a, b, "interrupted + resumed equals uninterrupted");
    assert_eq!(std::fs::read_dir(cache.join("tmp")).unwrap().count(), 0, "no staging left behind");
}

#[test]
fn sigkill_mid_run_then_rerun_completes_with_identical_results() {
    interrupted_run_then_resume("-KILL");
}

#[test]
fn ctrl_c_stops_cleanly_and_the_next_run_resumes() {
    interrupted_run_then_resume("-INT");
}

#[test]
fn cli_reports_pipeline_errors_with_position_and_exit_code_2() {
    let p = Project::new();
    let file = p.write("bad.toml", &crate::common::SMALL.replace("kind = \"evaluate\"", "kind = \"evaluat\""));
    let out = Command::new(env!("CARGO_BIN_EXE_tscpipe")).arg("status").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:20:8") && err.contains("did you mean `evaluate`?"), "{err}");
}
