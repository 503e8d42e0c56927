//! `cache ls | gc | verify`.

use std::collections::HashSet;
use std::fs;
use std::time::Duration;

use rayon::prelude::*;

use super::key::Manifest;
use super::store::{Cache, CacheError, hash_file, now_unix};

/// One row of `cache ls`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EntryInfo {
    pub key: String,
    pub instance: String,
    pub kind: String,
    pub pipeline: String,
    pub size: u64,
    pub created_unix: u64,
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct GcReport {
    pub entries_removed: usize,
    pub entries_kept: usize,
    pub blobs_removed: usize,
    pub bytes_freed: u64,
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub blobs_checked: usize,
    pub blobs_corrupt: Vec<String>,
    pub entries_checked: usize,
    /// Entries dropped (key, reason).
    pub entries_dropped: Vec<(String, String)>,
}

impl Cache {
    pub fn list(&self) -> Vec<EntryInfo> {
        self.entries()
            .into_iter()
            .filter_map(Result::ok)
            .map(|m| EntryInfo {
                size: m.total_size(),
                key: m.key,
                instance: m.instance,
                kind: m.key_inputs.kind,
                pipeline: m.pipeline,
                created_unix: m.created_unix,
            })
            .collect()
    }

    /// Removes entries no run record references (only the latest run of each pipeline counts,
    /// or with `max_age`, any run newer than that), then blobs no entry references.
    pub fn gc(&self, max_age: Option<Duration>) -> Result<GcReport, CacheError> {
        let _lock = self.lock_exclusive()?;
        let mut keep: HashSet<String> = HashSet::new();
        let now = now_unix();
        for p in self.pipelines_with_runs() {
            let runs = self.runs(&p);
            for (path, rec) in &runs {
                let recent = max_age.is_some_and(|a| now.saturating_sub(rec.started_unix) <= a.as_secs());
                if !recent {
                    // Old run records go too, except the latest.
                    if Some(path) != runs.last().map(|r| &r.0) {
                        let _ = fs::remove_file(path);
                    }
                    continue;
                }
                keep.extend(rec.instances.iter().filter_map(|i| i.key.clone()));
            }
            if let Some(latest) = self.latest_run(&p) {
                keep.extend(latest.instances.iter().filter_map(|i| i.key.clone()));
            }
        }
        let mut report = GcReport::default();
        let mut live_blobs: HashSet<String> = HashSet::new();
        for e in self.entries() {
            match e {
                Ok(m) if keep.contains(&m.key) => {
                    report.entries_kept += 1;
                    live_blobs.extend(m.outputs.values().map(|o| o.digest.clone()));
                }
                Ok(m) => {
                    self.remove_entry(&m.key);
                    report.entries_removed += 1;
                }
                Err((key, _)) => {
                    self.remove_entry(&key);
                    report.entries_removed += 1;
                }
            }
        }
        for (digest, path) in self.blobs() {
            if !live_blobs.contains(&digest) {
                report.bytes_freed += fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                if fs::remove_file(&path).is_ok() {
                    report.blobs_removed += 1;
                }
            }
        }
        // Checkpoints of entries that are gone, and stale staging folders.
        if let Ok(rd) = fs::read_dir(self.root().join("ckpt")) {
            for e in rd.flatten() {
                let key = e.file_name().to_string_lossy().into_owned();
                if !keep.contains(&key) {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
        self.clean_stale_tmp();
        Ok(report)
    }

    /// Re-hashes every blob and checks every manifest; drops whatever fails.
    pub fn verify_all(&self) -> Result<VerifyReport, CacheError> {
        let _lock = self.lock_exclusive()?;
        let blobs = self.blobs();
        let bad: Vec<String> = blobs
            .par_iter()
            .filter_map(|(digest, path)| match hash_file(path) {
                Ok((d, _)) if &d == digest => None,
                _ => {
                    let _ = fs::remove_file(path);
                    Some(digest.clone())
                }
            })
            .collect();
        let bad_set: HashSet<&String> = bad.iter().collect();
        let present: HashSet<&String> = blobs.iter().map(|(d, _)| d).collect();
        let mut report = VerifyReport { blobs_checked: blobs.len(), ..Default::default() };
        for e in self.entries() {
            report.entries_checked += 1;
            match e {
                Ok(m) => {
                    if let Some(why) = entry_problem(&m, &present, &bad_set) {
                        self.remove_entry(&m.key);
                        report.entries_dropped.push((m.key, why));
                    }
                }
                Err((key, why)) => {
                    self.remove_entry(&key);
                    report.entries_dropped.push((key, why.to_string()));
                }
            }
        }
        report.blobs_corrupt = bad;
        Ok(report)
    }
}

fn entry_problem(m: &Manifest, present: &HashSet<&String>, bad: &HashSet<&String>) -> Option<String> {
    for (name, o) in &m.outputs {
        if bad.contains(&o.digest) {
            return Some(format!("{}: output `{name}` is corrupt", m.instance));
        }
        if !present.contains(&o.digest) {
            return Some(format!("{}: output `{name}` is missing", m.instance));
        }
    }
    None
}
