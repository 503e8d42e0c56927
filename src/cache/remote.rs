//! A remote cache over HTTP or HTTPS, in the layout of Bazel's HTTP cache protocol so that existing
//! servers work unchanged (nginx with WebDAV `PUT`, bazel-remote, an object store behind HTTP):
//! `GET`/`HEAD`/`PUT <base>/cas/<blake3>` for blobs and `<base>/ac/<key>` for manifests.
//!
//! - Read-through: a local miss asks the remote; every downloaded blob is re-hashed before it
//!   is stored (a poisoned or truncated blob is rejected, reported and recomputed), and the
//!   manifest's own checksum and key are checked.
//! - Uploads run on a background thread behind a bounded queue, so a slow remote never slows
//!   the stages down; blobs go up before the manifest naming them, as on disk.
//! - The first connection failure or timeout marks the remote down for the rest of the process:
//!   one warning, then local-only. A run never fails because of the remote.

use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::http::{Client, HttpError, Response};
use super::key::Manifest;
use super::store::{BlobError, Cache, CacheError, atomic_write, parse_manifest};

/// How to reach a remote cache.
#[derive(Debug, Clone)]
pub struct RemoteConfig {
    /// Base URL without a trailing slash.
    pub url: String,
    pub token: Option<String>,
    /// Limit for one request (connect + transfer).
    pub timeout: Duration,
    pub upload: bool,
    /// Entries waiting for upload at most; further ones are left for `cache push`.
    pub queue: usize,
    /// PEM certificates to trust instead of Mozilla's roots (a lab's self-signed server).
    pub ca_file: Option<std::path::PathBuf>,
}

impl RemoteConfig {
    pub fn new(url: &str) -> RemoteConfig {
        RemoteConfig {
            url: url.trim_end_matches('/').to_string(),
            token: None,
            timeout: Duration::from_secs(30),
            upload: true,
            queue: 256,
            ca_file: None,
        }
    }
}

/// What the remote did in this process (for the end-of-run line and tests).
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RemoteStats {
    /// Entries restored from the remote.
    pub entries_fetched: usize,
    pub blobs_fetched: usize,
    /// Downloads refused because their content did not match their digest (or manifest checksum).
    pub rejected: usize,
    pub entries_uploaded: usize,
    pub blobs_uploaded: usize,
    pub upload_failures: usize,
    /// Entries not queued because the queue was full or the remote was down.
    pub not_uploaded: usize,
    /// The remote was found down or too slow and was switched off.
    pub down: bool,
}

/// Outcome of asking the remote for an entry.
#[derive(Debug)]
pub enum Fetch {
    /// The entry and all its blobs are now in the local store.
    Restored,
    Missing,
    /// The remote had it, but something failed verification; nothing was stored.
    Rejected(String),
}

enum Get {
    Found(Vec<u8>),
    NotFound,
    Failed(String),
}

struct Upload {
    key: String,
    digests: Vec<String>,
}

struct Inner {
    cfg: RemoteConfig,
    client: Client,
    down: AtomicBool,
    warnings: Mutex<Vec<String>>,
    stats: Mutex<RemoteStats>,
    /// Uploads queued and not finished, with a condvar to wait for zero.
    pending: (Mutex<usize>, Condvar),
    uploaded_blobs: Mutex<std::collections::HashSet<String>>,
    /// Blobs the remote served with wrong content: overwritten on upload, whatever HEAD says.
    poisoned: Mutex<std::collections::HashSet<String>>,
    /// Entries rejected once: not downloaded again in this process.
    rejected_keys: Mutex<std::collections::HashSet<String>>,
    /// Set when the caller reports warnings itself (a run, through its event sink): they wait
    /// in `unreported` instead of going to stderr.
    caller_reports: AtomicBool,
    unreported: Mutex<Vec<String>>,
}

/// A handle on a remote cache; clones share the connection pool, state and upload queue.
#[derive(Clone)]
pub struct Remote {
    inner: Arc<Inner>,
    tx: Arc<Mutex<Option<SyncSender<Upload>>>>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Remote({})", self.inner.cfg.url)
    }
}

impl Remote {
    pub fn new(cfg: RemoteConfig) -> Result<Remote, CacheError> {
        let client = Client::new(&cfg.url, cfg.token.clone(), cfg.ca_file.as_deref(), cfg.timeout)?;
        let inner = Arc::new(Inner {
            cfg,
            client,
            down: AtomicBool::new(false),
            warnings: Mutex::new(Vec::new()),
            stats: Mutex::new(RemoteStats::default()),
            pending: (Mutex::new(0), Condvar::new()),
            uploaded_blobs: Mutex::new(Default::default()),
            poisoned: Mutex::new(Default::default()),
            rejected_keys: Mutex::new(Default::default()),
            caller_reports: AtomicBool::new(false),
            unreported: Mutex::new(Vec::new()),
        });
        Ok(Remote { inner, tx: Arc::new(Mutex::new(None)) })
    }

    pub fn url(&self) -> &str {
        &self.inner.cfg.url
    }

    pub fn uploads(&self) -> bool {
        self.inner.cfg.upload
    }

    pub fn is_down(&self) -> bool {
        self.inner.down.load(Ordering::Relaxed)
    }

    pub fn stats(&self) -> RemoteStats {
        let mut s = self.inner.stats.lock().map(|s| s.clone()).unwrap_or_default();
        s.down = self.is_down();
        s
    }

    /// Warnings so far (each also printed to stderr once, as it happens, unless
    /// [`Remote::report_through_caller`] was called).
    pub fn warnings(&self) -> Vec<String> {
        self.inner.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// From now on new warnings are not printed but kept for [`Remote::take_warnings`] (a run
    /// shows them through its event sink, so they neither tear the live view nor escape
    /// `--json`).
    pub fn report_through_caller(&self) {
        self.inner.caller_reports.store(true, Ordering::SeqCst);
    }

    /// The warnings not yet taken (see [`Remote::report_through_caller`]).
    pub fn take_warnings(&self) -> Vec<String> {
        self.inner.unreported.lock().map(|mut w| std::mem::take(&mut *w)).unwrap_or_default()
    }

    /// Looks an entry up remotely and, when every part verifies, stores it in `cache`.
    pub fn fetch_entry(&self, cache: &Cache, key: &str) -> Fetch {
        if self.is_down() || self.inner.rejected_keys.lock().is_ok_and(|r| r.contains(key)) {
            return Fetch::Missing;
        }
        let r = self.fetch_entry_once(cache, key);
        if matches!(r, Fetch::Rejected(_))
            && let Ok(mut k) = self.inner.rejected_keys.lock()
        {
            k.insert(key.to_string());
        }
        r
    }

    fn fetch_entry_once(&self, cache: &Cache, key: &str) -> Fetch {
        let text = match self.inner.get(&format!("ac/{key}")) {
            Get::Found(b) => b,
            Get::NotFound | Get::Failed(_) => return Fetch::Missing,
        };
        let m = match String::from_utf8(text)
            .map_err(|_| "not UTF-8".to_string())
            .and_then(|t| parse_manifest(&t, key).map(|m| (m, t)).map_err(|e| e.to_string()))
        {
            Ok(m) => m,
            Err(why) => {
                let why = format!("remote manifest of {} rejected: {why}", short(key));
                self.inner.reject(&why);
                return Fetch::Rejected(why);
            }
        };
        let (manifest, text): (Manifest, String) = m;
        for (name, o) in &manifest.outputs {
            match self.fetch_blob(cache, &o.digest) {
                Ok(()) => {}
                Err(BlobError::Poisoned(why)) => return Fetch::Rejected(format!("output `{name}`: {why}")),
                // Unreachable, or the blob is not there (yet): an ordinary miss.
                Err(BlobError::Unavailable(_) | BlobError::Missing { .. } | BlobError::Store(_)) => {
                    return Fetch::Missing;
                }
            }
        }
        if let Err(e) = atomic_write(&cache.tmp_dir(), &cache.manifest_path(key), text.as_bytes()) {
            return Fetch::Rejected(format!("cannot store the fetched manifest: {e}"));
        }
        if let Ok(mut s) = self.inner.stats.lock() {
            s.entries_fetched += 1;
        }
        Fetch::Restored
    }

    /// Makes sure a blob is in the local store, downloading and verifying it if needed.
    pub fn fetch_blob(&self, cache: &Cache, digest: &str) -> Result<(), BlobError> {
        let dest = cache.blob_path(digest);
        if matches!(super::store::hash_file(&dest), Ok((d, _)) if d == digest) {
            return Ok(());
        }
        if self.is_down() {
            return Err(BlobError::Unavailable("the remote cache is unreachable".into()));
        }
        let bytes = match self.inner.get(&format!("cas/{digest}")) {
            Get::Found(b) => b,
            Get::NotFound => {
                return Err(BlobError::Unavailable(format!("blob {} is missing on the remote", short(digest))));
            }
            Get::Failed(why) => return Err(BlobError::Unavailable(why)),
        };
        let actual = blake3::hash(&bytes).to_hex().to_string();
        if actual != digest {
            let why = format!(
                "remote blob {} rejected: its content hashes to {} ({} bytes; poisoned or truncated)",
                short(digest),
                short(&actual),
                bytes.len()
            );
            self.inner.reject(&why);
            if let Ok(mut p) = self.inner.poisoned.lock() {
                p.insert(digest.to_string());
            }
            return Err(BlobError::Poisoned(why));
        }
        atomic_write(&cache.tmp_dir(), &dest, &bytes)?;
        super::store::set_readonly(&dest);
        if let Ok(mut s) = self.inner.stats.lock() {
            s.blobs_fetched += 1;
        }
        Ok(())
    }

    /// Queues an entry for upload (blobs, then the manifest) without waiting for it.
    pub fn enqueue(&self, cache: &Cache, m: &Manifest) {
        if !self.inner.cfg.upload {
            return;
        }
        if self.is_down() {
            self.inner.count(|s| s.not_uploaded += 1);
            return;
        }
        let Ok(mut tx) = self.tx.lock() else { return };
        if tx.is_none() {
            let (s, r) = sync_channel::<Upload>(self.inner.cfg.queue.max(1));
            let inner = self.inner.clone();
            // Without the remote: the worker must not keep its own queue alive.
            let cache = cache.clone().with_remote(None);
            std::thread::Builder::new()
                .name("tscpipe-upload".into())
                .spawn(move || upload_worker(inner, cache, r))
                .ok();
            *tx = Some(s);
        }
        let job = Upload { key: m.key.clone(), digests: m.outputs.values().map(|o| o.digest.clone()).collect() };
        if let Ok(mut p) = self.inner.pending.0.lock() {
            *p += 1;
        }
        let sent = match tx.as_ref().map(|t| t.try_send(job)) {
            Some(Ok(())) => true,
            Some(Err(TrySendError::Full(_))) => {
                self.inner.warn_once(
                    "queue",
                    format!(
                        "remote cache upload queue is full ({} entries): the rest stays local; \
                         `tscpipe cache push` uploads it",
                        self.inner.cfg.queue
                    ),
                );
                false
            }
            _ => false,
        };
        if !sent {
            self.inner.count(|s| s.not_uploaded += 1);
            self.inner.done_one();
        }
    }

    /// Uploads one entry now, in this thread (for `cache push`). Returns whether it went up.
    pub fn upload_now(&self, cache: &Cache, m: &Manifest) -> bool {
        upload_entry(&self.inner, cache, &m.key, m.outputs.values().map(|o| o.digest.clone()))
    }

    /// Waits up to `limit` for queued uploads to finish. Returns how many are still pending.
    pub fn flush(&self, limit: Duration) -> usize {
        let deadline = Instant::now() + limit;
        let (lock, cv) = &self.inner.pending;
        let Ok(mut p) = lock.lock() else { return 0 };
        while *p > 0 {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            match cv.wait_timeout(p, deadline - now) {
                Ok((g, _)) => p = g,
                Err(_) => return 0,
            }
        }
        *p
    }

    /// The remote's manifest for `key`, read and checked but not stored (for `status`, which
    /// changes nothing on disk). Its blobs are not looked at: `run` verifies them when it
    /// fetches the entry.
    pub fn peek_manifest(&self, key: &str) -> Option<Manifest> {
        if self.is_down() {
            return None;
        }
        match self.inner.get(&format!("ac/{key}")) {
            Get::Found(b) => String::from_utf8(b).ok().and_then(|t| parse_manifest(&t, key).ok()),
            Get::NotFound | Get::Failed(_) => None,
        }
    }

    /// Whether the remote has a manifest for `key` (`HEAD`).
    pub fn has_entry(&self, key: &str) -> bool {
        !self.is_down() && self.inner.head(&format!("ac/{key}")) == Some(true)
    }
}

fn short(s: &str) -> &str {
    &s[..12.min(s.len())]
}

impl Inner {
    fn count(&self, f: impl FnOnce(&mut RemoteStats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
        }
    }

    fn done_one(&self) {
        if let Ok(mut p) = self.pending.0.lock() {
            *p = p.saturating_sub(1);
            self.pending.1.notify_all();
        }
    }

    fn warn_once(&self, tag: &str, msg: String) {
        if let Ok(mut w) = self.warnings.lock() {
            if w.iter().any(|x| x.starts_with(&format!("[{tag}]"))) && tag != "reject" {
                return;
            }
            w.push(format!("[{tag}] {msg}"));
            if self.caller_reports.load(Ordering::SeqCst) {
                if let Ok(mut u) = self.unreported.lock() {
                    u.push(msg);
                }
            } else {
                eprintln!("warning: {msg}");
            }
        }
    }

    fn reject(&self, why: &str) {
        self.count(|s| s.rejected += 1);
        self.warn_once("reject", why.to_string());
    }

    /// A transport failure (refused, reset, timeout): switch the remote off for this process.
    fn went_down(&self, what: &str, e: &HttpError) {
        if !self.down.swap(true, Ordering::SeqCst) {
            self.warn_once(
                "down",
                format!(
                    "remote cache {} is unreachable or too slow ({what}: {e}); continuing with the local cache only",
                    self.cfg.url
                ),
            );
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<&[u8]>) -> Result<Response, HttpError> {
        let r = self.client.request(method, path, body);
        if let Err(e) = &r
            && e.is_transport()
        {
            self.went_down(&format!("{method} {path}"), e);
        }
        r
    }

    fn get(&self, path: &str) -> Get {
        match self.call("GET", path, None) {
            Ok(r) if r.is_success() => Get::Found(r.body),
            Ok(r) if r.status == 404 => Get::NotFound,
            Ok(r) => {
                let msg = format!("GET {}/{path}: HTTP {}", self.cfg.url, r.status);
                self.warn_once("status", format!("remote cache answered {msg}; treated as a miss"));
                Get::Failed(msg)
            }
            Err(e) => {
                if matches!(e, HttpError::Protocol(_)) {
                    self.warn_once("protocol", format!("remote cache: GET {path}: {e}; treated as a miss"));
                }
                Get::Failed(e.to_string())
            }
        }
    }

    fn head(&self, path: &str) -> Option<bool> {
        match self.call("HEAD", path, None) {
            Ok(r) if r.is_success() => Some(true),
            Ok(r) if r.status == 404 => Some(false),
            _ => None,
        }
    }

    /// `PUT`; any 2xx is success (servers answer 200, 201 or 204).
    fn put(&self, path: &str, body: &[u8]) -> bool {
        match self.call("PUT", path, Some(body)) {
            Ok(r) if r.is_success() => true,
            Ok(r) => {
                self.warn_once("put", format!("remote cache refused PUT {}/{path}: HTTP {}", self.cfg.url, r.status));
                false
            }
            Err(_) => false,
        }
    }
}

fn upload_worker(inner: Arc<Inner>, cache: Cache, rx: Receiver<Upload>) {
    while let Ok(job) = rx.recv() {
        if inner.down.load(Ordering::Relaxed) {
            inner.count(|s| s.not_uploaded += 1);
        } else {
            upload_entry(&inner, &cache, &job.key, job.digests.into_iter());
        }
        inner.done_one();
    }
}

fn upload_entry(inner: &Inner, cache: &Cache, key: &str, digests: impl Iterator<Item = String>) -> bool {
    for d in digests {
        if inner.uploaded_blobs.lock().is_ok_and(|s| s.contains(&d)) {
            continue;
        }
        let path = format!("cas/{d}");
        // Content-addressed: what is there under the digest is what we would send.
        let poisoned = inner.poisoned.lock().is_ok_and(|p| p.contains(&d));
        if poisoned || inner.head(&path) != Some(true) {
            let Ok(bytes) = fs::read(cache.blob_path(&d)) else {
                inner.count(|s| s.upload_failures += 1);
                return false;
            };
            if inner.down.load(Ordering::Relaxed) || !inner.put(&path, &bytes) {
                inner.count(|s| s.upload_failures += 1);
                return false;
            }
            inner.count(|s| s.blobs_uploaded += 1);
        }
        if let Ok(mut s) = inner.uploaded_blobs.lock() {
            s.insert(d);
        }
    }
    let Ok(text) = fs::read(cache.manifest_path(key)) else {
        inner.count(|s| s.upload_failures += 1);
        return false;
    };
    if inner.down.load(Ordering::Relaxed) || !inner.put(&format!("ac/{key}"), &text) {
        inner.count(|s| s.upload_failures += 1);
        return false;
    }
    inner.count(|s| s.entries_uploaded += 1);
    true
}
