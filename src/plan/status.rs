//! `status`: a dry run of the walk. What is cached (locally, or on the cache's remote), what
//! would run and why. Changes nothing on disk.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::cache::key::{Change, explain_changes};
use crate::cache::runs::{Attempt, AttemptOutcome, attempts_text};
use crate::cache::{Cache, Lookup, Verify};
use crate::device::Device;
use crate::dsl::Expanded;
use crate::stages::Registry;
use crate::stages::kind::RunEnv;

use super::keys::KeyBlock;
use super::{Plan, Walk};

/// What `status` says about one instance.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    Cached,
    /// Will run, for these reasons.
    Run {
        reasons: Vec<String>,
        /// Each reason without what is particular to this instance (for the per-stage summary).
        #[serde(skip)]
        summary: Vec<String>,
    },
    /// Its inputs will be recomputed first; it may still be cached afterwards (early cutoff).
    Waits {
        on: Vec<String>,
    },
    /// Not in the local cache but on the remote one: `run` fetches it instead of running it.
    Remote,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusRow {
    pub id: String,
    pub kind: String,
    #[serde(flatten)]
    pub status: Status,
    /// The instance's attempts in the pipeline's last run, where there was more than one (a
    /// retry after running out of memory or time) or the last failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub last_run: Vec<Attempt>,
}

/// Whether a run's attempts at an instance are worth showing: retried, or not successful.
fn notable(attempts: &[Attempt]) -> bool {
    attempts.len() > 1
        || attempts.last().is_some_and(|a| !matches!(a.outcome, AttemptOutcome::Ran | AttemptOutcome::Reused))
}

/// One row per instance, in instance order.
pub fn status(plan: &Plan<'_>, registry: &Registry, cache: &Cache, device: &Device, env: &RunEnv) -> Vec<StatusRow> {
    let p = plan.pipeline;
    let mut rows: Vec<Option<StatusRow>> = vec![None; plan.len()];
    let prev = cache.latest_run(&p.name);
    let prev_keys: HashMap<&str, &str> = prev
        .as_ref()
        .map(|r| r.instances.iter().filter_map(|i| Some((i.id.as_str(), i.key.as_deref()?))).collect())
        .unwrap_or_default();
    let prev_attempts: HashMap<&str, &[Attempt]> = prev
        .as_ref()
        .map(|r| {
            r.instances
                .iter()
                .filter(|i| notable(&i.attempts))
                .map(|i| (i.id.as_str(), i.attempts.as_slice()))
                .collect()
        })
        .unwrap_or_default();
    let mut walk = Walk::new(plan, registry, env, device, cache, Verify::Stat);
    let mut steps = Vec::new();
    while let Some(step) = walk.next() {
        let i = step.index;
        let resolved = match &step.lookup {
            Lookup::Hit(m) => Some((**m).clone()),
            Lookup::Missing => step.keyed.as_ref().ok().and_then(|k| cache.remote()?.peek_manifest(&k.key)),
            Lookup::Corrupt(_) => None,
        };
        if let Some(m) = resolved {
            walk.resolve(i, m);
        }
        steps.push(step);
    }
    steps.extend(walk.rest());
    for step in steps {
        let i = step.index;
        let inst = &p.instances[i];
        let last_run = prev_attempts.get(inst.id.as_str()).map(|a| a.to_vec()).unwrap_or_default();
        let row = |status| {
            Some(StatusRow { id: inst.id.clone(), kind: inst.kind.clone(), status, last_run: last_run.clone() })
        };
        rows[i] = match (step.keyed, step.lookup) {
            (Err(KeyBlock::Source(e)), _) => row(run(vec![Change {
                text: format!("cannot read its source files: {e}"),
                summary: "cannot read its source files".into(),
            }])),
            (Err(KeyBlock::Upstream), _) => {
                let resolved = walk.resolved();
                let on: BTreeSet<String> = plan
                    .upstream(i)
                    .iter()
                    .filter(|&&u| resolved[u].is_none())
                    .map(|&u| p.instances[u].id.clone())
                    .collect();
                row(Status::Waits { on: on.into_iter().collect() })
            }
            (Ok(_), Lookup::Hit(_)) => row(Status::Cached),
            (Ok(_), Lookup::Corrupt(why)) => row(run(vec![Change {
                text: format!("cache entry corrupt: {why}"),
                summary: "cache entry corrupt".into(),
            }])),
            (Ok(_), Lookup::Missing) if walk.resolved()[i].is_some() => row(Status::Remote),
            (Ok(k), Lookup::Missing) => {
                let one = |text: &str| vec![Change { text: text.into(), summary: text.into() }];
                let reasons = match prev_keys.get(inst.id.as_str()) {
                    None => one("never run"),
                    Some(&old) if old == k.key => one("cache entry missing (removed by gc or by hand)"),
                    Some(&old) => match cache.read_manifest(old) {
                        Ok(Some(m)) => {
                            let why = explain_changes(&m.key_inputs, &k.inputs, &k.sources);
                            if why.is_empty() { one("key changed") } else { why }
                        }
                        _ => one(
                            "changed since the last run (its previous entry is gone, so the change cannot be shown)",
                        ),
                    },
                };
                row(run(reasons))
            }
        };
    }
    rows.into_iter().flatten().collect()
}

fn run(changes: Vec<Change>) -> Status {
    let (reasons, summary) = changes.into_iter().map(|c| (c.text, c.summary)).unzip();
    Status::Run { reasons, summary }
}

/// The last line of `status`: how many instances are cached, on the remote, to run.
pub fn totals_line(rows: &[StatusRow]) -> String {
    let cached = rows.iter().filter(|r| r.status == Status::Cached).count();
    let on_remote = rows.iter().filter(|r| r.status == Status::Remote).count();
    let remote_note = if on_remote > 0 { format!(", {on_remote} on the remote cache") } else { String::new() };
    format!("{} stage instances: {cached} cached{remote_note}, {} to run", rows.len(), rows.len() - cached - on_remote)
}

/// `status --verbose`: every instance that is not cached locally, with its reasons, then the totals.
pub fn verbose_text(rows: &[StatusRow]) -> String {
    let mut out = String::new();
    for r in rows {
        match &r.status {
            Status::Cached if !r.last_run.is_empty() => out.push_str(&format!("cached  {}\n", r.id)),
            Status::Cached => {}
            Status::Remote => {
                out.push_str(&format!("remote  {}\n", r.id));
                out.push_str("          - on the remote cache: `run` fetches it instead of running it\n");
            }
            Status::Run { reasons, .. } => {
                out.push_str(&format!("run     {}\n", r.id));
                for why in reasons {
                    out.push_str(&format!("          - {why}\n"));
                }
            }
            Status::Waits { on } => {
                out.push_str(&format!("maybe   {}\n", r.id));
                out.push_str(&format!(
                    "          - waits on {} (may stay cached if its outputs do not change)\n",
                    on.join(", ")
                ));
            }
        }
        if !r.last_run.is_empty() {
            out.push_str(&format!("          - last run: {}\n", attempts_text(&r.last_run)));
        }
        // why the last attempt failed, as it said it (a command's exit status and stderr)
        if let Some(error) = r.last_run.last().and_then(|a| a.error.as_deref()) {
            for line in error.lines() {
                out.push_str(&format!("            {line}\n"));
            }
        }
    }
    out.push_str(&totals_line(rows));
    out.push('\n');
    out
}

/// Reasons shown per stage at most; `--verbose` lists them all.
const REASONS_PER_STAGE: usize = 3;

/// `status`: one line per stage (instances cached, on the remote, to run, and that may run once
/// their inputs are recomputed), the reasons counted over the stage's instances ("24 × parameter
/// `epochs`: 10 → 12") and what its waiting instances wait on, by stage ("waits on 24 ×
/// finetune"); then the totals.
pub fn summary_text(p: &Expanded, rows: &[StatusRow]) -> String {
    let index: HashMap<&str, usize> = p.instances.iter().enumerate().map(|(i, inst)| (inst.id.as_str(), i)).collect();
    let width = p.stages.iter().map(|s| s.name.len()).chain(["stage".len()]).max().unwrap_or(5);
    let mut out = format!("{:<width$}  {:>6}  {:>6}  {:>6}  {:>6}\n", "stage", "cached", "remote", "run", "maybe");
    let count = |n: usize| if n == 0 { "-".to_string() } else { n.to_string() };
    for (si, stage) in p.stages.iter().enumerate() {
        let stage_rows: Vec<&StatusRow> =
            rows.iter().filter(|r| index.get(r.id.as_str()).is_some_and(|&i| p.instances[i].stage == si)).collect();
        if stage_rows.is_empty() {
            continue;
        }
        let (mut cached, mut remote, mut run, mut waits) = (0, 0, 0, 0);
        // Reason summary → instances giving it, in order of first appearance.
        let mut reasons: Vec<(String, usize)> = Vec::new();
        let mut waited_on: BTreeSet<&str> = BTreeSet::new();
        // The last run: instances retried, and how their attempts ended before the last.
        let (mut retried, mut failed) = (0, 0);
        let mut ran_out: Vec<(&'static str, usize)> = Vec::new();
        for r in &stage_rows {
            if r.last_run.len() > 1 {
                retried += 1;
            }
            if r.last_run.last().is_some_and(|a| !matches!(a.outcome, AttemptOutcome::Ran | AttemptOutcome::Reused)) {
                failed += 1;
            }
            for a in &r.last_run {
                if matches!(a.outcome, AttemptOutcome::Ran | AttemptOutcome::Reused) {
                    continue;
                }
                match ran_out.iter_mut().find(|(t, _)| *t == a.outcome.describe()) {
                    Some((_, n)) => *n += 1,
                    None => ran_out.push((a.outcome.describe(), 1)),
                }
            }
        }
        for r in &stage_rows {
            match &r.status {
                Status::Cached => cached += 1,
                Status::Remote => remote += 1,
                Status::Run { summary, .. } => {
                    run += 1;
                    let distinct: BTreeSet<&String> = summary.iter().collect();
                    for s in distinct {
                        match reasons.iter_mut().find(|(t, _)| t == s) {
                            Some((_, n)) => *n += 1,
                            None => reasons.push((s.clone(), 1)),
                        }
                    }
                }
                Status::Waits { on } => {
                    waits += 1;
                    waited_on.extend(on.iter().map(String::as_str));
                }
            }
        }
        // Most frequent first; the sort is stable, so ties keep their first appearance.
        reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
        let mut why: Vec<String> =
            reasons.iter().take(REASONS_PER_STAGE).map(|(text, n)| format!("{n} × {text}")).collect();
        if reasons.len() > REASONS_PER_STAGE {
            why.push(format!("{} more reasons (--verbose)", reasons.len() - REASONS_PER_STAGE));
        }
        if waits > 0 {
            // Upstream instances by stage, in the pipeline's stage order.
            let mut by_stage: BTreeMap<usize, usize> = BTreeMap::new();
            for id in waited_on {
                if let Some(&i) = index.get(id) {
                    *by_stage.entry(p.instances[i].stage).or_default() += 1;
                }
            }
            let on: Vec<String> = by_stage.iter().map(|(&s, n)| format!("{n} × {}", p.stages[s].name)).collect();
            why.push(format!("waits on {}", on.join(", ")));
        }
        if retried + failed > 0 {
            let mut parts = Vec::new();
            if retried > 0 {
                parts.push(format!("{retried} retried"));
            }
            if failed > 0 {
                parts.push(format!("{failed} failed"));
            }
            let how: Vec<String> = ran_out.iter().map(|(t, n)| format!("{n} × {t}")).collect();
            why.push(format!("last run: {} ({})", parts.join(", "), how.join(", ")));
        }
        let line = format!(
            "{:<width$}  {:>6}  {:>6}  {:>6}  {:>6}",
            stage.name,
            count(cached),
            count(remote),
            count(run),
            count(waits)
        );
        if why.is_empty() {
            out.push_str(line.trim_end());
        } else {
            out.push_str(&format!("{line}  {}", why.join("; ")));
        }
        out.push('\n');
    }
    out.push_str(&totals_line(rows));
    out.push('\n');
    if rows.iter().any(|r| r.status == Status::Remote) {
        out.push_str("(remote: on the remote cache; `run` fetches it instead of running it)\n");
    }
    if rows.iter().any(|r| matches!(r.status, Status::Waits { .. })) {
        out.push_str("(maybe: runs only if what it waits on changes its outputs; `--verbose` lists every instance)\n");
    }
    out
}
