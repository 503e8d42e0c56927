//! Where a run executes and which remote cache it shares: the `[cache]` and `[executor]` tables
//! of a pipeline or of the user's config file (`$TSCPIPE_CONFIG`, else
//! `$XDG_CONFIG_HOME/tscpipe/config.toml` or `~/.config/tscpipe/config.toml`).
//!
//! These tables say nothing about *what* is computed, so they never enter a cache key. Secrets
//! never live in a pipeline file (it is committed and shared): the remote's token is read from
//! the environment variable `token_env` names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use crate::util::resources::{Memory, Resources, TimeLimit};

use super::error::{DslError, DslErrorKind};
use super::value::{Node, SourceMap, Table};

/// The environment variable holding the remote cache's token unless `token_env` names another.
pub const DEFAULT_TOKEN_ENV: &str = "TSCPIPE_REMOTE_TOKEN";

/// `[cache]`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// Base URL of an HTTP cache (Bazel's layout: `<url>/cas/<digest>`, `<url>/ac/<key>`).
    pub remote: Option<String>,
    /// The environment variable holding the bearer token (default `TSCPIPE_REMOTE_TOKEN`).
    pub token_env: Option<String>,
    /// Seconds one request may take before the remote is considered down.
    pub timeout: Option<f64>,
    /// Upload what this run computes (false: read-only use of the remote).
    pub upload: Option<bool>,
    /// PEM file of the certificate authority that signed an https:// remote's certificate
    /// (a lab's own server); default: Mozilla's root certificates.
    pub ca_file: Option<std::path::PathBuf>,
}

/// Settings for the instances of one stage (`[executor.stages.NAME]`): what they ask for (over the
/// stage's own `resources` and its kind's declaration), where they go, how often they are retried.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StageSettings {
    #[serde(default, deserialize_with = "crate::util::resources::positive")]
    pub cpus: Option<u32>,
    /// Memory: `4G`, `500M`, or a number of MiB.
    pub mem: Option<Memory>,
    /// Time limit: `2h`, `90m`, or as sbatch writes it: `30` (minutes), `2:00:00`, `1-00:00:00`.
    pub time: Option<TimeLimit>,
    /// GPUs for stages that want an accelerator (`--gres=gpu:N`).
    pub gpus: Option<u32>,
    pub partition: Option<String>,
    /// Retries after running out of memory or time (each asks for `retry_factor` times more).
    pub retries: Option<u32>,
    /// Extra sbatch flags for this stage.
    #[serde(default)]
    pub extra: Vec<String>,
}

impl StageSettings {
    /// The resource fields of the table.
    pub fn resources(&self) -> Resources {
        Resources { cpus: self.cpus, mem: self.mem, time: self.time, gpus: self.gpus }
    }
}

/// `[executor]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExecutorSettings {
    /// `local` (default) or `slurm`.
    pub kind: Option<String>,
    pub partition: Option<String>,
    pub account: Option<String>,
    /// Extra sbatch flags for every job (e.g. `["--qos=long"]`).
    #[serde(default)]
    pub extra: Vec<String>,
    /// Resources for every stage instance whose stage does not set them (a stage kind's own
    /// declaration comes after these).
    #[serde(default, deserialize_with = "crate::util::resources::positive")]
    pub cpus: Option<u32>,
    pub mem: Option<Memory>,
    pub time: Option<TimeLimit>,
    pub gpus: Option<u32>,
    /// Retries after running out of memory or time, for every stage (default 0).
    pub retries: Option<u32>,
    /// What each retry multiplies the memory and time it asks for by (default 2).
    pub retry_factor: Option<f64>,
    /// Array tasks of one `sbatch --array` running at once: its `%N` throttle (default 100).
    pub max_jobs: Option<usize>,
    /// Stage instances submitted and not finished at once, over all arrays (default 1000;
    /// clusters count each array task against a user's job limit).
    pub max_queued: Option<usize>,
    /// Tasks in one array at most (default 1000; SLURM's MaxArraySize is 1001 unless raised).
    pub max_array: Option<usize>,
    /// Seconds a ready instance waits for others of its stage to join its array (default 5); an
    /// array goes out once a second passes with no new instance, or after this long.
    pub array_wait: Option<f64>,
    /// Seconds between job-state polls.
    pub poll: Option<f64>,
    /// The `tscpipe` binary the compute nodes run (default: this one).
    pub tscpipe: Option<PathBuf>,
    /// Per-stage settings, by stage name.
    #[serde(default)]
    pub stages: BTreeMap<String, StageSettings>,
}

/// Both tables, as merged from the user's config, the pipeline and the command line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub cache: CacheSettings,
    pub executor: ExecutorSettings,
}

impl CacheSettings {
    /// `over`'s values win where set.
    pub fn merged(self, over: CacheSettings) -> CacheSettings {
        CacheSettings {
            remote: over.remote.or(self.remote),
            token_env: over.token_env.or(self.token_env),
            timeout: over.timeout.or(self.timeout),
            upload: over.upload.or(self.upload),
            ca_file: over.ca_file.or(self.ca_file),
        }
    }
}

impl ExecutorSettings {
    /// `over`'s values win where set; per-stage tables and extra flags are combined.
    pub fn merged(self, over: ExecutorSettings) -> ExecutorSettings {
        let mut stages = self.stages;
        stages.extend(over.stages);
        let mut extra = self.extra;
        extra.extend(over.extra);
        ExecutorSettings {
            kind: over.kind.or(self.kind),
            partition: over.partition.or(self.partition),
            account: over.account.or(self.account),
            extra,
            cpus: over.cpus.or(self.cpus),
            mem: over.mem.or(self.mem),
            time: over.time.or(self.time),
            gpus: over.gpus.or(self.gpus),
            retries: over.retries.or(self.retries),
            retry_factor: over.retry_factor.or(self.retry_factor),
            max_jobs: over.max_jobs.or(self.max_jobs),
            max_queued: over.max_queued.or(self.max_queued),
            max_array: over.max_array.or(self.max_array),
            array_wait: over.array_wait.or(self.array_wait),
            poll: over.poll.or(self.poll),
            tscpipe: over.tscpipe.or(self.tscpipe),
            stages,
        }
    }
}

impl ExecutorSettings {
    /// The resource defaults of the table (for every stage).
    pub fn resources(&self) -> Resources {
        Resources { cpus: self.cpus, mem: self.mem, time: self.time, gpus: self.gpus }
    }
}

impl Settings {
    pub fn merged(self, over: Settings) -> Settings {
        Settings { cache: self.cache.merged(over.cache), executor: self.executor.merged(over.executor) }
    }

    /// Reads `[cache]` and `[executor]` from a parsed document (pipeline or user config).
    pub fn from_table(sources: &SourceMap, root: &Table) -> Result<Settings, DslError> {
        let mut s = Settings::default();
        if let Some(node) = root.get("cache") {
            if let Some(t) = node.as_table()
                && let Some(tok) = t.get("token")
            {
                return Err(DslError::at(
                    DslErrorKind::Invalid,
                    sources,
                    &tok.key_loc,
                    "a token never goes in a file that is shared; put it in an environment variable and name \
                     that here: token_env = \"MY_CACHE_TOKEN\" (default TSCPIPE_REMOTE_TOKEN)",
                ));
            }
            s.cache = parse(sources, node, "[cache]")?;
            // a relative CA file is relative to the file that names it, as a data folder is
            if let Some(ca) = s.cache.ca_file.take() {
                let dir = sources.file(node.loc.file).and_then(|f| f.path.parent().map(Path::to_path_buf));
                s.cache.ca_file = Some(match dir {
                    Some(d) if ca.is_relative() => d.join(ca),
                    _ => ca,
                });
            }
        }
        if let Some(node) = root.get("executor") {
            s.executor = parse(sources, node, "[executor]")?;
            let at = |key: &str| node.as_table().and_then(|t| t.get(key)).map(|n| n.loc.clone()).unwrap_or_default();
            if s.executor.retry_factor.is_some_and(|f| !(f.is_finite() && f >= 1.0)) {
                return Err(DslError::at(
                    DslErrorKind::Invalid,
                    sources,
                    &at("retry_factor"),
                    "[executor] retry_factor must be at least 1 (what a retry multiplies memory and time by)",
                ));
            }
            for key in ["max_jobs", "max_queued", "max_array"] {
                let zero = match key {
                    "max_jobs" => s.executor.max_jobs == Some(0),
                    "max_queued" => s.executor.max_queued == Some(0),
                    _ => s.executor.max_array == Some(0),
                };
                if zero {
                    return Err(DslError::at(
                        DslErrorKind::Invalid,
                        sources,
                        &at(key),
                        format!("[executor] {key} must be at least 1"),
                    ));
                }
            }
        }
        Ok(s)
    }

    /// The user's config file, if there is one.
    pub fn user_config_path() -> Option<PathBuf> {
        if let Some(p) = std::env::var_os("TSCPIPE_CONFIG") {
            return Some(PathBuf::from(p));
        }
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(base.join("tscpipe").join("config.toml"))
    }

    /// Reads the user's config file; a missing file means no settings.
    pub fn user() -> Result<Settings, DslError> {
        match Self::user_config_path() {
            Some(p) if p.is_file() => Self::from_file(&p),
            _ => Ok(Settings::default()),
        }
    }

    pub fn from_file(path: &Path) -> Result<Settings, DslError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DslError::general(DslErrorKind::Io, format!("cannot read {}: {e}", path.display())))?;
        let mut sources = SourceMap::default();
        let id = sources.add(path.to_path_buf(), text);
        let root = super::parse::parse_source(&sources, id)?;
        for (k, node) in &root {
            if k != "cache" && k != "executor" {
                return Err(DslError::at(
                    DslErrorKind::UnknownKey,
                    &sources,
                    &node.key_loc,
                    format!("unknown table `{k}` in a config file (expected cache, executor)"),
                ));
            }
        }
        Self::from_table(&sources, &root)
    }
}

fn parse<T: serde::de::DeserializeOwned>(sources: &SourceMap, node: &Node, what: &str) -> Result<T, DslError> {
    if node.as_table().is_none() {
        return Err(DslError::at(DslErrorKind::Type, sources, &node.loc, format!("{what} must be a table")));
    }
    serde_json::from_value(node.to_json())
        .map_err(|e| DslError::at(DslErrorKind::Invalid, sources, &node.key_loc, format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Settings, DslError> {
        let mut sources = SourceMap::default();
        let id = sources.add("p.toml", text.to_string());
        let root = crate::config::parse::parse_source(&sources, id)?;
        Settings::from_table(&sources, &root)
    }

    #[test]
    fn reads_both_tables_and_merges_with_the_later_winning() {
        let s = parse_text(
            "[cache]\nremote = \"http://a/\"\n[executor]\nkind = \"slurm\"\ncpus = 2\n[executor.stages.train]\ngpus = 1\n",
        )
        .unwrap();
        assert_eq!(s.cache.remote.as_deref(), Some("http://a/"));
        assert_eq!(s.executor.stages["train"].gpus, Some(1));
        let over = parse_text("[cache]\nremote = \"http://b/\"\n").unwrap();
        let m = s.merged(over);
        assert_eq!(m.cache.remote.as_deref(), Some("http://b/"));
        assert_eq!(m.executor.kind.as_deref(), Some("slurm"));
        assert_eq!(m.executor.cpus, Some(2));
    }

    #[test]
    fn a_token_in_the_file_is_refused_and_typos_are_named() {
        let e = parse_text("[cache]\nremote = \"http://a/\"\ntoken = \"s3cret\"\n").unwrap_err().to_string();
        assert!(e.contains("token_env"), "{e}");
        let e = parse_text("[executor]\ncpu = 2\n").unwrap_err().to_string();
        assert!(e.contains("unknown field `cpu`"), "{e}");
    }

    #[test]
    fn quantities_retries_and_array_settings_read_and_bad_ones_are_refused() {
        let s = parse_text(
            "[executor]\nmem = \"4G\"\ntime = \"2h\"\nretries = 2\nretry_factor = 1.5\nmax_queued = 500\n\
             [executor.stages.train]\nmem = 16384\ntime = \"1-00:00:00\"\nretries = 3\n",
        )
        .unwrap();
        assert_eq!(s.executor.mem, Some(Memory::gib(4)));
        assert_eq!(s.executor.time, Some(TimeLimit::hours(2)));
        assert_eq!(
            (s.executor.retries, s.executor.retry_factor, s.executor.max_queued),
            (Some(2), Some(1.5), Some(500))
        );
        let train = &s.executor.stages["train"];
        assert_eq!(
            (train.mem, train.time, train.retries),
            (Some(Memory::gib(16)), Some(TimeLimit::hours(24)), Some(3))
        );
        let merged = s.clone().merged(parse_text("[executor]\nretries = 0\n").unwrap());
        assert_eq!((merged.executor.retries, merged.executor.retry_factor), (Some(0), Some(1.5)));
        for (text, what) in [
            ("[executor]\nmem = \"4Q\"\n", "memory `4Q`"),
            ("[executor]\ntime = \"soon\"\n", "time `soon`"),
            ("[executor]\nretry_factor = 0.5\n", "retry_factor must be at least 1"),
            ("[executor]\nmax_jobs = 0\n", "max_jobs must be at least 1"),
            ("[executor.stages.x]\ncpus = 0\n", "at least 1"),
        ] {
            let e = parse_text(text).unwrap_err().to_string();
            assert!(e.contains(what), "{text}: {e}");
        }
    }
}
