//! The cache a run uses, as the `[cache]` settings describe it: the local store with the remote
//! they name (if any) behind it. Lives here, above both, so that the cache knows nothing of
//! settings files.

use std::path::Path;
use std::time::Duration;

use crate::cache::remote::{Remote, RemoteConfig};
use crate::cache::{Cache, CacheError};
use crate::settings::{CacheSettings, DEFAULT_TOKEN_ENV};

/// The remote `[cache]` names; `None` when none is configured. The token comes from the
/// environment variable the settings name.
pub fn remote_config(s: &CacheSettings) -> Result<Option<RemoteConfig>, CacheError> {
    let Some(url) = s.remote.as_deref().filter(|u| !u.is_empty()) else { return Ok(None) };
    let mut c = RemoteConfig::new(url);
    let var = s.token_env.as_deref().unwrap_or(DEFAULT_TOKEN_ENV);
    c.token = std::env::var(var).ok().filter(|t| !t.is_empty());
    if let Some(t) = s.timeout {
        if !(t > 0.0 && t.is_finite()) {
            return Err(CacheError::Invalid(format!("[cache] timeout must be positive seconds, not {t}")));
        }
        c.timeout = Duration::from_secs_f64(t);
    }
    if let Some(u) = s.upload {
        c.upload = u;
    }
    c.ca_file = s.ca_file.clone();
    Ok(Some(c))
}

/// The cache at `dir` with the remote the settings name (if any) behind it.
pub fn open_cache(dir: &Path, settings: &CacheSettings) -> Result<Cache, CacheError> {
    let cache = Cache::open(dir)?;
    Ok(match remote_config(settings)? {
        Some(cfg) => cache.with_remote(Some(Remote::new(cfg)?)),
        None => cache,
    })
}
