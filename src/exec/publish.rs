//! Copies what a person wants to open (tables, reports, plots) from the cache to a predictable
//! folder: `results/<pipeline>/<stage>/[<axis=value,…>/]<file>`, refreshed on every run.

use std::fs;
use std::path::{Path, PathBuf};

use crate::cache::Cache;
use crate::dsl::Expanded;
use crate::stages::Registry;

use super::scheduler::RunSummary;

/// The folder a pipeline's files are published to: `results/<pipeline>`, its name made safe for a
/// path (a pipeline named `../../x` publishes to `results/.._.._x`).
pub fn pipeline_dir(results: &Path, p: &Expanded) -> PathBuf {
    results.join(safe(&p.name))
}

/// The folder of one instance's published files.
pub fn instance_dir(results: &Path, p: &Expanded, i: usize) -> PathBuf {
    let inst = &p.instances[i];
    let mut d = pipeline_dir(results, p).join(safe(&p.stages[inst.stage].name));
    if !inst.coords.is_empty() {
        let label: Vec<String> =
            inst.coords.iter().map(|(a, v)| format!("{a}={}", crate::dsl::expand::scalar(v))).collect();
        d = d.join(safe(&label.join(",")));
    }
    d
}

fn safe(s: &str) -> String {
    s.chars().map(|c| if c.is_alphanumeric() || "-_.=,+".contains(c) { c } else { '_' }).collect()
}

/// Publishes the outputs of every published stage; returns the files written.
///
/// The files are first written to a private staging folder next to `results/<pipeline>` and then
/// renamed into place, so that two runs publishing at once (or a crash mid-copy) never leave a
/// half-written folder or trip over each other's deletions. A full run replaces
/// `results/<pipeline>` as a whole; a `--target` run (some stages have no instances) replaces
/// only the folders of the stages it ran and keeps the others' earlier files.
pub fn publish(
    results: &Path,
    p: &Expanded,
    summary: &RunSummary,
    registry: &Registry,
    cache: &Cache,
) -> std::io::Result<Vec<PathBuf>> {
    fs::create_dir_all(results)?;
    let staging = unique_sibling(results, ".publishing");
    fs::create_dir_all(&staging)?;
    let outcome = write_tree(&staging, p, summary, registry, cache).and_then(|written| {
        let name = safe(&p.name);
        let (from, to) = (staging.join(&name), results.join(&name));
        if !from.exists() {
            fs::create_dir_all(&from)?;
        }
        let partial = p.stages.iter().any(|s| s.instances.is_empty());
        if partial {
            fs::create_dir_all(&to)?;
            for entry in fs::read_dir(&from)? {
                let entry = entry?;
                replace(&entry.path(), &to.join(entry.file_name()))?;
            }
        } else {
            replace(&from, &to)?;
        }
        Ok(written.into_iter().filter_map(|w| w.strip_prefix(&staging).ok().map(|r| results.join(r))).collect())
    });
    let _ = fs::remove_dir_all(&staging);
    outcome
}

/// `dir/<prefix>-<pid>-<n>`, a name no other process or call uses.
fn unique_sibling(dir: &Path, prefix: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    dir.join(format!("{prefix}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)))
}

/// Moves `src` to `dst`, replacing whatever is there; the old copy is moved aside before it is
/// deleted, so `dst` is always either the old or the new complete folder. Retries when another
/// publisher puts its copy in between.
fn replace(src: &Path, dst: &Path) -> std::io::Result<()> {
    let parent = dst.parent().unwrap_or(Path::new("."));
    let mut last = None;
    for _ in 0..20 {
        if dst.exists() {
            let trash = unique_sibling(parent, ".replaced");
            match fs::rename(dst, &trash) {
                Ok(()) => {
                    let _ = fs::remove_dir_all(&trash).or_else(|_| fs::remove_file(&trash));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        match fs::rename(src, dst) {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("could not publish")))
}

/// Copies `src`'s bytes into a new file `dst` whose permissions the user's umask decides, as
/// `cp` gives them (0644 under umask 022). `fs::copy` would carry over the cache blob's
/// read-only mode, and making that writable again sets every write bit (0666).
fn copy_as_new(src: &Path, dst: &Path) -> std::io::Result<()> {
    let mut from = fs::File::open(src)?;
    let mut to = fs::File::create(dst)?;
    std::io::copy(&mut from, &mut to)?;
    Ok(())
}

/// Writes the published files of `summary` under `results` (the staging folder).
fn write_tree(
    results: &Path,
    p: &Expanded,
    summary: &RunSummary,
    registry: &Registry,
    cache: &Cache,
) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (i, inst) in p.instances.iter().enumerate() {
        let decl = &p.stages[inst.stage];
        let Some(kind) = registry.get(&inst.kind) else { continue };
        let Some(m) = summary.results.get(i).and_then(|r| r.manifest.as_ref()) else { continue };
        let outs = kind.outputs();
        for (name, o) in &m.outputs {
            // a file inside a declared folder output (`tsml/FCN/…`) has that output's roles
            let top = name.split('/').next().unwrap_or(name);
            let declared = outs.iter().find(|s| s.name == top);
            if !(decl.publish && declared.is_none_or(|s| s.publish || outs.iter().all(|x| !x.publish))) {
                continue;
            }
            let dir = instance_dir(results, p, i);
            fs::create_dir_all(&dir)?;
            let dest = dir.join(name);
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent)?;
            }
            if declared.is_some_and(|s| s.timings) {
                // the run's own stage timings complete the report
                let html = fs::read_to_string(cache.blob_path(&o.digest))?;
                let run = super::scheduler::run_record(p, summary, 0);
                fs::write(&dest, run.fill_timings(&html))?;
                written.push(dest);
                continue;
            }
            copy_as_new(&cache.blob_path(&o.digest), &dest)?;
            written.push(dest);
        }
    }
    Ok(written)
}
