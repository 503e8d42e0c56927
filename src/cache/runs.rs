//! Run records: which key each stage instance had in a run, so `status` can say *why* a stage
//! will rerun (by comparing with the entry it had last time) and `diff` can compare two runs.

use std::fs;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::store::{Cache, CacheError, atomic_write, now_unix};
use crate::report::{TIMINGS_MARKER, escape};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InstanceOutcome {
    Ran,
    Cached,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceRecord {
    pub id: String,
    pub stage: String,
    pub kind: String,
    pub key: Option<String>,
    pub outcome: InstanceOutcome,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub pipeline: String,
    pub path: String,
    pub started_unix: u64,
    pub seconds: f64,
    pub instances: Vec<InstanceRecord>,
}

impl RunRecord {
    pub fn key_of(&self, id: &str) -> Option<&str> {
        self.instances.iter().find(|r| r.id == id).and_then(|r| r.key.as_deref())
    }

    /// The report's stage timing section for this run (HTML).
    pub fn timings_html(&self) -> String {
        let mut ran = 0.0;
        let mut rows = String::new();
        for r in &self.instances {
            let (class, what) = match r.outcome {
                InstanceOutcome::Ran => ("ran", "ran"),
                InstanceOutcome::Cached => ("cached", "cached"),
                InstanceOutcome::Failed => ("ran", "failed"),
                InstanceOutcome::Skipped => ("", "skipped"),
            };
            if r.outcome == InstanceOutcome::Ran {
                ran += r.seconds;
            }
            rows.push_str(&format!(
                "<tr><td>{}</td><td class=\"{class}\" style=\"text-align:left\">{what}</td><td>{:.2}</td></tr>\n",
                escape(&r.id),
                r.seconds
            ));
        }
        let n_cached = self.instances.iter().filter(|r| r.outcome == InstanceOutcome::Cached).count();
        format!(
            "<h2 id=\"timings\">Stage timings</h2>\n<p>Run of {} instances: {} cached, {:.1} s of work ran, {:.1} s wall.</p>\n\
             <table><tr><th>instance</th><th>outcome</th><th>seconds</th></tr>\n{rows}</table>\n",
            self.instances.len(),
            n_cached,
            ran,
            self.seconds
        )
    }

    /// A report (see [`crate::report::Page`]) with this run's timings where its marker stands.
    pub fn fill_timings(&self, report_html: &str) -> String {
        report_html.replacen(TIMINGS_MARKER, &self.timings_html(), 1)
    }
}

fn safe_name(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}

impl Cache {
    fn runs_dir(&self, pipeline: &str) -> PathBuf {
        self.root().join("runs").join(safe_name(pipeline))
    }

    /// Saves a run as `runs/<pipeline>/<n>.json` and `latest.json`.
    pub fn save_run(&self, rec: &RunRecord) -> Result<PathBuf, CacheError> {
        let dir = self.runs_dir(&rec.pipeline);
        let text = serde_json::to_vec_pretty(rec).map_err(|e| CacheError::Invalid(e.to_string()))?;
        let name = format!("{}-{}.json", now_unix(), std::process::id());
        let p = dir.join(name);
        atomic_write(&self.tmp_dir(), &p, &text)?;
        atomic_write(&self.tmp_dir(), &dir.join("latest.json"), &text)?;
        Ok(p)
    }

    pub fn latest_run(&self, pipeline: &str) -> Option<RunRecord> {
        let p = self.runs_dir(pipeline).join("latest.json");
        serde_json::from_slice(&fs::read(p).ok()?).ok()
    }

    /// All saved runs of a pipeline, oldest first.
    pub fn runs(&self, pipeline: &str) -> Vec<(PathBuf, RunRecord)> {
        let mut v: Vec<(PathBuf, RunRecord)> = fs::read_dir(self.runs_dir(pipeline))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| n != "latest.json"))
            .filter_map(|p| Some((p.clone(), serde_json::from_slice(&fs::read(&p).ok()?).ok()?)))
            .collect();
        v.sort_by(|a, b| (a.1.started_unix, &a.0).cmp(&(b.1.started_unix, &b.0)));
        v
    }

    /// Every pipeline with run records.
    pub fn pipelines_with_runs(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.root().join("runs"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// What differs between two runs: instances added, removed, or keyed differently (and why).
pub fn runs_diff(cache: &Cache, a: &RunRecord, b: &RunRecord) -> Vec<String> {
    let mut out = Vec::new();
    let old: std::collections::HashMap<&str, &InstanceRecord> =
        a.instances.iter().map(|r| (r.id.as_str(), r)).collect();
    let new: std::collections::HashMap<&str, &InstanceRecord> =
        b.instances.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut same = 0;
    for r in &b.instances {
        match old.get(r.id.as_str()) {
            None => out.push(format!("+ {} (new instance)", r.id)),
            Some(o) if o.key == r.key => same += 1,
            Some(o) => {
                out.push(format!("~ {}", r.id));
                let why = match (o.key.as_deref(), r.key.as_deref()) {
                    (Some(ok), Some(nk)) => match (cache.read_manifest(ok), cache.read_manifest(nk)) {
                        (Ok(Some(x)), Ok(Some(y))) => {
                            super::key::explain_difference(&x.key_inputs, &y.key_inputs, &y.sources)
                        }
                        _ => vec!["entries no longer in the cache".into()],
                    },
                    (None, _) => vec![format!("did not complete in the earlier run ({:?})", o.outcome)],
                    (_, None) => vec![format!("did not complete in the later run ({:?})", r.outcome)],
                };
                out.extend(why.into_iter().map(|w| format!("    - {w}")));
            }
        }
    }
    for r in &a.instances {
        if !new.contains_key(r.id.as_str()) {
            out.push(format!("- {} (removed)", r.id));
        }
    }
    out.push(format!("{same} instances unchanged"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_the_reports_timing_section() {
        let html = crate::report::Page::new("r").finish();
        let run = RunRecord {
            pipeline: "p".into(),
            path: "p.toml".into(),
            started_unix: 0,
            seconds: 2.5,
            instances: vec![InstanceRecord {
                id: "train[cells=8]".into(),
                stage: "train".into(),
                kind: "train".into(),
                key: None,
                outcome: InstanceOutcome::Ran,
                seconds: 2.0,
            }],
        };
        let full = run.fill_timings(&html);
        assert!(!full.contains(TIMINGS_MARKER));
        assert!(full.contains("<td>train[cells=8]</td><td class=\"ran\""));
        assert!(full.contains("Run of 1 instances: 0 cached, 2.0 s of work ran, 2.5 s wall."));
    }
}
