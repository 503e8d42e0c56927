//! Advisory file locks (std's `File::lock*`, i.e. `flock`).
//!
//! Concurrent runs are safe without locks (every write is an atomic rename of content-addressed
//! data); the locks avoid wasted work and protect `gc`:
//! - every `run` holds the store lock *shared*; `cache gc` and `cache verify` take it *exclusive*;
//! - a stage being computed holds `locks/<key>.lock`, so a second run wanting the same entry
//!   waits for it and then finds it cached instead of computing it twice.

use std::fs::{File, OpenOptions};
use std::path::Path;

use super::store::{Cache, CacheError};

/// Held for as long as the lock should last; released on drop (or process death).
#[derive(Debug)]
pub struct LockGuard {
    _file: File,
}

fn open(path: &Path) -> Result<File, CacheError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|source| CacheError::Io { path: path.to_path_buf(), source })
}

impl Cache {
    /// Shared lock on the whole store, held by `run` and `status`.
    pub fn lock_shared(&self) -> Result<LockGuard, CacheError> {
        let p = self.root().join("store.lock");
        let f = open(&p)?;
        f.lock_shared().map_err(|source| CacheError::Io { path: p, source })?;
        Ok(LockGuard { _file: f })
    }

    /// Exclusive lock on the whole store, for `gc` and `verify`; fails fast when a run is active.
    pub fn lock_exclusive(&self) -> Result<LockGuard, CacheError> {
        let p = self.root().join("store.lock");
        let f = open(&p)?;
        match f.try_lock() {
            Ok(()) => Ok(LockGuard { _file: f }),
            Err(_) => Err(CacheError::Invalid(format!(
                "the cache at {} is in use by a running tscpipe; try again when it has finished",
                self.root().display()
            ))),
        }
    }

    /// Exclusive lock on one key while it is being computed (blocks until free).
    pub fn lock_key(&self, key: &str) -> Result<LockGuard, CacheError> {
        let p = self.root().join("locks").join(format!("{key}.lock"));
        let f = open(&p)?;
        f.lock().map_err(|source| CacheError::Io { path: p, source })?;
        Ok(LockGuard { _file: f })
    }
}
