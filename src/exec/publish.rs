//! Copies what a person wants to open (tables, reports, plots) from the cache to a predictable
//! folder: `results/<pipeline>/<stage>/[<axis=value,…>/]<file>`, refreshed on every run.

use std::fs;
use std::path::{Path, PathBuf};

use crate::cache::Cache;
use crate::dsl::Expanded;
use crate::stages::Registry;

use super::scheduler::RunSummary;

/// The folder of one instance's published files.
pub fn instance_dir(results: &Path, p: &Expanded, i: usize) -> PathBuf {
    let inst = &p.instances[i];
    let mut d = results.join(safe(&p.name)).join(safe(&p.stages[inst.stage].name));
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
pub fn publish(
    results: &Path,
    p: &Expanded,
    summary: &RunSummary,
    registry: &Registry,
    cache: &Cache,
) -> std::io::Result<Vec<PathBuf>> {
    let root = results.join(safe(&p.name));
    if root.exists() {
        fs::remove_dir_all(&root)?;
    }
    let mut written = Vec::new();
    for (i, inst) in p.instances.iter().enumerate() {
        let decl = &p.stages[inst.stage];
        let Some(kind) = registry.get(&inst.kind) else { continue };
        let Some(m) = summary.results.get(i).and_then(|r| r.manifest.as_ref()) else { continue };
        let outs = kind.outputs();
        for (name, o) in &m.outputs {
            let declared = outs.iter().find(|s| s.name == name);
            if !(decl.publish && declared.is_none_or(|s| s.publish || outs.iter().all(|x| !x.publish))) {
                continue;
            }
            let dir = instance_dir(results, p, i);
            fs::create_dir_all(&dir)?;
            let dest = dir.join(name);
            if inst.kind == "report" && name == "report.html" {
                // the run's own stage timings complete the report
                let html = fs::read_to_string(cache.blob_path(&o.digest))?;
                let run = super::scheduler::run_record(p, summary, 0);
                fs::write(&dest, crate::report::with_timings(&html, &run))?;
                written.push(dest);
                continue;
            }
            fs::copy(cache.blob_path(&o.digest), &dest)?;
            let mut perm = fs::metadata(&dest)?.permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            fs::set_permissions(&dest, perm)?;
            written.push(dest);
        }
    }
    Ok(written)
}
