//! Run records: which key each stage instance had in a run, so `status` can say *why* a stage
//! will rerun (by comparing with the entry it had last time) and `diff` can compare two runs;
//! what each instance used (wall time, CPU time, peak memory) and every attempt it took (a
//! retry after running out of memory or time asks for more), for `status` and the report's
//! timing section.
//!
//! Records written before usage and attempts were recorded read with neither.

use std::fs;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::store::{Cache, CacheError, atomic_write, now_unix};
use crate::report::{TIMINGS_MARKER, escape};
use crate::util::resources::Request;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InstanceOutcome {
    Ran,
    Cached,
    Failed,
    Skipped,
}

/// What one stage instance used while it ran.
///
/// On a cluster node, or in a child process locally, the figures are that process's own (the
/// stage is all it runs). For a stage run in the `tscpipe run` process itself they are the
/// process's over the stage's run: `peak_rss` is the largest resident set while the stage ran
/// (as tsml-eval measures a fit: the process's RSS, sampled; `peak_rss - start_rss` is its
/// figure), and when other stages ran in the process at the same time (`-j` > 1) `shared` is set
/// and both the CPU time and the peak include theirs.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Seconds from start to end.
    pub wall_s: f64,
    /// User + system CPU seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_s: Option<f64>,
    /// Peak resident memory, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss: Option<u64>,
    /// Resident memory when the stage started, bytes (in-process stages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_rss: Option<u64>,
    /// Measured in a process that ran other stages meanwhile: CPU time and peak include theirs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

/// How one attempt at running an instance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// Computed and committed.
    Ran,
    /// Another process had computed the entry meanwhile.
    Reused,
    /// Killed for using more memory than it asked for (SLURM's OUT_OF_MEMORY, the OOM killer, a
    /// local memory limit).
    OutOfMemory,
    /// Killed at its time limit.
    OutOfTime,
    /// Lost with its node (NODE_FAIL, BOOT_FAIL, PREEMPTED).
    NodeFailure,
    Failed,
    Cancelled,
}

impl AttemptOutcome {
    /// `out of memory`, `ran`, …
    pub fn describe(self) -> &'static str {
        match self {
            AttemptOutcome::Ran => "ran",
            AttemptOutcome::Reused => "reused",
            AttemptOutcome::OutOfMemory => "out of memory",
            AttemptOutcome::OutOfTime => "out of time",
            AttemptOutcome::NodeFailure => "node failure",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Cancelled => "cancelled",
        }
    }
}

/// One attempt at running an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub outcome: AttemptOutcome,
    /// What it asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// The SLURM job (`12345` or an array task `12345_7`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceRecord {
    pub id: String,
    pub stage: String,
    pub kind: String,
    pub key: Option<String>,
    pub outcome: InstanceOutcome,
    pub seconds: f64,
    /// What the successful attempt used; for a cached instance, what it used in the earlier run
    /// that computed its entry (then `usage_earlier`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub usage_earlier: bool,
    /// Every attempt of this run, in order (none for a cached instance).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
}

impl InstanceRecord {
    /// Seconds the stage ran: its measured wall time where there is one (on a cluster, without
    /// the time the job waited in the queue), else the time from dispatch to end.
    pub fn wall(&self) -> f64 {
        self.usage.filter(|_| !self.usage_earlier).map_or(self.seconds, |u| u.wall_s)
    }

    /// Attempts that ended in running out of memory or time, or with a lost node, and were retried.
    pub fn retried(&self) -> usize {
        self.attempts.len().saturating_sub(1)
    }
}

/// `out of memory (200M) → ran (400M)`: each attempt's outcome and the memory (and time) it asked for.
pub fn attempts_text(attempts: &[Attempt]) -> String {
    attempts
        .iter()
        .map(|a| match a.request.and_then(|q| q.mem.map(|m| (m, q.time))) {
            Some((m, Some(t))) => format!("{} ({m}, {t})", a.outcome.describe()),
            Some((m, None)) => format!("{} ({m})", a.outcome.describe()),
            None => match a.request.and_then(|q| q.time) {
                Some(t) => format!("{} ({t})", a.outcome.describe()),
                None => a.outcome.describe().to_string(),
            },
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

/// `1.2 GiB`, `340 MiB`.
pub fn human_bytes(b: u64) -> String {
    let b = b as f64;
    if b >= (1u64 << 30) as f64 {
        format!("{:.1} GiB", b / (1u64 << 30) as f64)
    } else if b >= (1u64 << 20) as f64 {
        format!("{:.0} MiB", b / (1u64 << 20) as f64)
    } else {
        format!("{:.0} KiB", b / 1024.0)
    }
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

    /// The report's stage timing section for this run (HTML): per stage, the instances that ran,
    /// their wall and CPU time and the largest peak memory against what they asked for; then
    /// every instance with its attempts.
    pub fn timings_html(&self) -> String {
        let mut ran = 0.0;
        let mut rows = String::new();
        let mut stages: Vec<(&str, StageTotals)> = Vec::new();
        for r in &self.instances {
            let (class, what) = match r.outcome {
                InstanceOutcome::Ran => ("ran", "ran"),
                InstanceOutcome::Cached => ("cached", "cached"),
                InstanceOutcome::Failed => ("ran", "failed"),
                InstanceOutcome::Skipped => ("", "skipped"),
            };
            if r.outcome == InstanceOutcome::Ran {
                ran += r.wall();
            }
            let t = match stages.iter_mut().find(|(s, _)| *s == r.stage) {
                Some((_, t)) => t,
                None => {
                    stages.push((r.stage.as_str(), StageTotals::default()));
                    &mut stages.last_mut().expect("pushed").1
                }
            };
            t.add(r);
            let u = r.usage.as_ref();
            let earlier =
                if r.usage_earlier { " class=\"note\" title=\"measured in the run that computed it\"" } else { "" };
            let cpu = u.and_then(|u| u.cpu_s).map(|c| format!("{c:.2}")).unwrap_or_default();
            let peak = u.and_then(|u| u.peak_rss).map(human_bytes).unwrap_or_default();
            let shared = if u.is_some_and(|u| u.shared) { "*" } else { "" };
            let attempts = if r.attempts.len() > 1 { escape(&attempts_text(&r.attempts)) } else { String::new() };
            rows.push_str(&format!(
                "<tr><td>{}</td><td class=\"{class}\" style=\"text-align:left\">{what}</td><td>{:.2}</td>\
                 <td{earlier}>{cpu}{shared}</td><td{earlier}>{peak}{shared}</td><td style=\"text-align:left\">{attempts}</td></tr>\n",
                escape(&r.id),
                r.wall()
            ));
        }
        let n_cached = self.instances.iter().filter(|r| r.outcome == InstanceOutcome::Cached).count();
        let mut by_stage = String::new();
        for (name, t) in &stages {
            by_stage.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape(name),
                t.instances,
                t.ran,
                t.wall,
                t.wall_max,
                t.cpu.map(|c| format!("{c:.1}")).unwrap_or_default(),
                t.peak.map(human_bytes).unwrap_or_default(),
                t.requested.map(|m| m.to_string()).unwrap_or_default(),
                if t.retried > 0 { t.retried.to_string() } else { String::new() },
            ));
        }
        let shared_note = if self.instances.iter().any(|r| r.usage.is_some_and(|u| u.shared)) {
            "<p class=\"note\">* measured in a process that ran other stages at the same time (<code>-j</code> &gt; 1): \
             CPU time and peak memory include theirs.</p>\n"
        } else {
            ""
        };
        format!(
            "<h2 id=\"timings\">Stage timings</h2>\n<p>Run of {} instances: {} cached, {:.1} s of work ran, {:.1} s wall.</p>\n\
             <table><tr><th>stage</th><th>instances</th><th>ran</th><th>wall s</th><th>longest s</th><th>CPU s</th>\
             <th>peak memory</th><th>asked for</th><th>retries</th></tr>\n{by_stage}</table>\n\
             <p class=\"note\">Wall and CPU seconds are sums over the instances that ran in this run (a cluster job's own, \
             not its time in the queue); peak memory is the \
             largest of any instance, cached ones included (measured when they ran); \"asked for\" is the largest memory \
             request.</p>\n{shared_note}\
             <details><summary>Every instance</summary>\n\
             <table><tr><th>instance</th><th>outcome</th><th>seconds</th><th>CPU s</th><th>peak memory</th><th>attempts</th></tr>\n{rows}</table>\n\
             </details>\n",
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

/// One stage's line of the timing section.
#[derive(Default)]
struct StageTotals {
    instances: usize,
    ran: usize,
    wall: f64,
    wall_max: f64,
    cpu: Option<f64>,
    peak: Option<u64>,
    requested: Option<crate::util::resources::Memory>,
    retried: usize,
}

impl StageTotals {
    fn add(&mut self, r: &InstanceRecord) {
        self.instances += 1;
        if r.outcome == InstanceOutcome::Ran {
            self.ran += 1;
            self.wall += r.wall();
            self.wall_max = self.wall_max.max(r.wall());
            if let Some(c) = r.usage.and_then(|u| u.cpu_s) {
                self.cpu = Some(self.cpu.unwrap_or(0.0) + c);
            }
        }
        if let Some(p) = r.usage.and_then(|u| u.peak_rss) {
            self.peak = Some(self.peak.map_or(p, |q| q.max(p)));
        }
        if let Some(m) = r.attempts.iter().filter_map(|a| a.request.and_then(|q| q.mem)).max() {
            self.requested = Some(self.requested.map_or(m, |q| q.max(m)));
        }
        self.retried += r.retried();
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
        let name = format!("{}-{}.json", now_unix(), std::process::id());
        let p = dir.join(name);
        let text = serde_json::to_vec_pretty(rec).map_err(|source| CacheError::Json { path: p.clone(), source })?;
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
                usage: Some(Usage { wall_s: 2.0, cpu_s: Some(3.5), peak_rss: Some(300 << 20), ..Default::default() }),
                usage_earlier: false,
                attempts: vec![
                    Attempt {
                        outcome: AttemptOutcome::OutOfMemory,
                        request: Some(Request { mem: Some("200M".parse().expect("mem")), ..Default::default() }),
                        usage: None,
                        job: Some("7_0".into()),
                        host: None,
                        error: None,
                    },
                    Attempt {
                        outcome: AttemptOutcome::Ran,
                        request: Some(Request { mem: Some("400M".parse().expect("mem")), ..Default::default() }),
                        usage: None,
                        job: Some("8_0".into()),
                        host: None,
                        error: None,
                    },
                ],
            }],
        };
        let full = run.fill_timings(&html);
        assert!(!full.contains(TIMINGS_MARKER));
        assert!(full.contains("<td>train[cells=8]</td><td class=\"ran\""));
        assert!(full.contains("Run of 1 instances: 0 cached, 2.0 s of work ran, 2.5 s wall."));
        // the stage line: 1 instance ran, 2.0 s, 3.5 CPU s, a 300 MiB peak against 400M asked for, 1 retry
        assert!(
            full.contains("<tr><td>train</td><td>1</td><td>1</td><td>2.0</td><td>2.0</td><td>3.5</td><td>300 MiB</td><td>400M</td><td>1</td></tr>"),
            "{full}"
        );
        assert!(full.contains("out of memory (200M) → ran (400M)"), "{full}");
    }

    #[test]
    fn records_without_usage_or_attempts_still_read() {
        let old = r#"{"pipeline":"p","path":"p.toml","started_unix":1,"seconds":1.0,"instances":[
            {"id":"a","stage":"a","kind":"load","key":"k","outcome":"Ran","seconds":0.5}]}"#;
        let r: RunRecord = serde_json::from_str(old).expect("an old record reads");
        assert!(r.instances[0].usage.is_none() && r.instances[0].attempts.is_empty());
        assert!(r.timings_html().contains("<td>a</td>"));
        // and a new one leaves the empty fields out
        let text = serde_json::to_string(&r).expect("json");
        assert!(!text.contains("attempts") && !text.contains("usage"), "{text}");
    }
}
