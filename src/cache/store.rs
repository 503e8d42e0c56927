//! The content-addressed store on disk.
//!
//! Layout (the blob/action split of Bazel's remote cache, so a remote can mirror it):
//! `cas/ab/<blake3>` blobs, `ac/ab/<key>.json` manifests, `tmp/` staging, `ckpt/<key>/`
//! checkpoints of long stages, `locks/`, `runs/<pipeline>/` run records.
//!
//! Every file is written to `tmp/`, fsynced and renamed into place, so a crash leaves either the
//! old state or the new one. Blobs are written before the manifest that names them. Reads verify
//! digests; a bad entry is reported, removed and recomputed.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::key::{KeyInputs, Manifest, OutputEntry};

/// Cache failures. I/O errors name the path.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
    /// A record that could not be encoded as JSON.
    #[error("{path}: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("remote cache: {0}")]
    Remote(#[from] super::http::HttpError),
}

/// Why a manifest cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("manifest truncated")]
    Truncated,
    #[error("manifest checksum mismatch")]
    Checksum,
    #[error("manifest unreadable: {0}")]
    Unreadable(#[source] serde_json::Error),
    #[error("manifest belongs to another key")]
    OtherKey,
}

/// Why a blob is not in the local store.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// Not here, and no remote cache to fetch it from.
    #[error("blob {digest} is missing or corrupt in {}", root.display())]
    Missing { digest: String, root: PathBuf },
    /// The remote cache's copy does not hash to its digest: rejected (and remembered).
    #[error("{0}")]
    Poisoned(String),
    /// The remote cache is unreachable or lacks it.
    #[error("{0}")]
    Unavailable(String),
    /// Fetched, but it could not be stored.
    #[error(transparent)]
    Store(#[from] CacheError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CacheError + '_ {
    move |source| CacheError::Io { path: path.to_path_buf(), source }
}

/// Result of looking a key up.
#[derive(Debug)]
pub enum Lookup {
    Hit(Box<Manifest>),
    Missing,
    /// Present but damaged: the entry has been removed and must be recomputed.
    Corrupt(String),
}

/// How thoroughly a lookup checks the blobs of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Existence and size only (for `status`, which must be fast and changes nothing).
    Stat,
    /// Re-hash every blob (for `run`, before anything is trusted).
    Full,
}

#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    /// A shared remote cache behind this one (read-through, background upload).
    remote: Option<super::remote::Remote>,
}

/// A staging directory for one stage instance's outputs.
#[derive(Debug)]
pub struct Staging {
    pub dir: PathBuf,
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

pub fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub fn hash_file(path: &Path) -> Result<(String, u64), CacheError> {
    let mut f = File::open(path).map_err(io(path))?;
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((h.finalize().to_hex().to_string(), size))
}

/// What an interpreter or a tool writes beside the files it reads (Python's bytecode caches,
/// Jupyter's checkpoints, macOS's folder metadata): never content, and written by running the
/// very code a folder holds, so a digest that counted them would change after the first run.
const NOT_CONTENT: &[&str] = &["__pycache__", ".ipynb_checkpoints", ".DS_Store"];

/// The digest of a folder: every file's relative path and content digest, in path order, so
/// that renaming, adding or editing a file changes it and nothing else does (its location,
/// modification times and permissions do not, nor [`NOT_CONTENT`]).
pub fn hash_tree(root: &Path) -> Result<String, CacheError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), CacheError> {
        for e in fs::read_dir(dir).map_err(io(dir))? {
            let p = e.map_err(io(dir))?.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if NOT_CONTENT.contains(&name) || name.ends_with(".pyc") {
                continue;
            }
            if p.is_dir() { walk(&p, out)? } else { out.push(p) }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(root, &mut files)?;
    files.sort();
    let mut h = blake3::Hasher::new();
    for f in files {
        let rel = f.strip_prefix(root).unwrap_or(&f).to_string_lossy().replace('\\', "/");
        let (d, _) = hash_file(&f)?;
        h.update(rel.as_bytes());
        h.update(b"\0");
        h.update(d.as_bytes());
        h.update(b"\n");
    }
    Ok(h.finalize().to_hex().to_string())
}

/// The digest of a file's content, or of a folder's ([`hash_tree`]).
pub fn hash_path(path: &Path) -> Result<String, CacheError> {
    if path.is_dir() { hash_tree(path) } else { hash_file(path).map(|(d, _)| d) }
}

/// Writes `bytes` to `dest` atomically: temp file in `tmp_dir`, fsync, rename, fsync the folder.
pub fn atomic_write(tmp_dir: &Path, dest: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    fs::create_dir_all(tmp_dir).map_err(io(tmp_dir))?;
    let mut tmp = tempfile::NamedTempFile::new_in(tmp_dir).map_err(io(tmp_dir))?;
    tmp.write_all(bytes).map_err(io(tmp.path()))?;
    tmp.as_file().sync_all().map_err(io(dest))?;
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    tmp.persist(dest).map_err(|e| CacheError::Io { path: dest.to_path_buf(), source: e.error })?;
    sync_dir(dest.parent());
    Ok(())
}

fn sync_dir(dir: Option<&Path>) {
    if let Some(Ok(f)) = dir.map(File::open) {
        let _ = f.sync_all();
    }
}

impl Cache {
    pub fn open(root: impl Into<PathBuf>) -> Result<Cache, CacheError> {
        let root = root.into();
        for sub in ["cas", "ac", "tmp", "ckpt", "locks", "runs"] {
            let p = root.join(sub);
            fs::create_dir_all(&p).map_err(io(&p))?;
        }
        Ok(Cache { root, remote: None })
    }

    /// This cache with a remote behind it: misses are looked up there, new entries uploaded.
    pub fn with_remote(mut self, remote: Option<super::remote::Remote>) -> Cache {
        self.remote = remote;
        self
    }

    pub fn remote(&self) -> Option<&super::remote::Remote> {
        self.remote.as_ref()
    }

    /// Makes sure a blob is in the local store (fetching it from the remote if there is one).
    pub fn ensure_blob(&self, digest: &str) -> Result<(), BlobError> {
        match (&self.remote, hash_file(&self.blob_path(digest))) {
            (_, Ok((d, _))) if d == digest => Ok(()),
            (Some(r), _) => r.fetch_blob(self, digest),
            (None, _) => Err(BlobError::Missing { digest: digest.to_string(), root: self.root.clone() }),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn blob_path(&self, digest: &str) -> PathBuf {
        self.root.join("cas").join(&digest[..2.min(digest.len())]).join(digest)
    }

    pub fn manifest_path(&self, key: &str) -> PathBuf {
        self.root.join("ac").join(&key[..2.min(key.len())]).join(format!("{key}.json"))
    }

    pub fn checkpoint_dir(&self, key: &str) -> PathBuf {
        self.root.join("ckpt").join(key)
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Reads and checks a manifest (its first line is the blake3 of the JSON that follows).
    pub fn read_manifest(&self, key: &str) -> Result<Option<Manifest>, ManifestError> {
        let path = self.manifest_path(key);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(ManifestError::Io { path, source }),
        };
        parse_manifest(&text, key).map(Some)
    }

    fn write_manifest(&self, m: &Manifest) -> Result<(), CacheError> {
        let body =
            serde_json::to_string(m).map_err(|e| CacheError::Json { path: self.manifest_path(&m.key), source: e })?;
        let text = format!("{}\n{body}", blake3::hash(body.as_bytes()).to_hex());
        atomic_write(&self.tmp_dir(), &self.manifest_path(&m.key), text.as_bytes())
    }

    /// Looks a key up; a damaged entry is removed so that the caller recomputes it. With a
    /// remote, a full lookup that misses locally restores the entry from the remote (verified).
    pub fn lookup(&self, key: &str, verify: Verify) -> Lookup {
        let local = self.lookup_local(key, verify);
        let (Some(remote), Verify::Full) = (&self.remote, verify) else { return local };
        if matches!(local, Lookup::Hit(_)) {
            return local;
        }
        match remote.fetch_entry(self, key) {
            super::remote::Fetch::Restored => match self.lookup_local(key, Verify::Full) {
                Lookup::Missing => local,
                other => other,
            },
            super::remote::Fetch::Missing => local,
            super::remote::Fetch::Rejected(why) => Lookup::Corrupt(format!("remote cache: {why}")),
        }
    }

    fn lookup_local(&self, key: &str, verify: Verify) -> Lookup {
        let m = match self.read_manifest(key) {
            Ok(Some(m)) => m,
            Ok(None) => return Lookup::Missing,
            Err(why) => {
                if verify == Verify::Full {
                    let _ = fs::remove_file(self.manifest_path(key));
                }
                return Lookup::Corrupt(why.to_string());
            }
        };
        for (name, out) in &m.outputs {
            let p = self.blob_path(&out.digest);
            let problem = match verify {
                Verify::Stat => match fs::metadata(&p) {
                    Ok(md) if md.len() == out.size => None,
                    Ok(md) => Some(format!("output `{name}` has {} bytes, expected {}", md.len(), out.size)),
                    Err(_) => Some(format!("output `{name}` is missing from the store")),
                },
                Verify::Full => match hash_file(&p) {
                    Ok((d, _)) if d == out.digest => None,
                    Ok(_) => {
                        let _ = fs::remove_file(&p);
                        Some(format!("output `{name}` is corrupt (digest mismatch)"))
                    }
                    Err(_) => Some(format!("output `{name}` is missing from the store")),
                },
            };
            if let Some(why) = problem {
                if verify == Verify::Full {
                    let _ = fs::remove_file(self.manifest_path(key));
                }
                return Lookup::Corrupt(why.to_string());
            }
        }
        Lookup::Hit(Box::new(m))
    }

    /// A fresh staging directory for a stage's outputs, removed when dropped.
    pub fn staging(&self) -> Result<Staging, CacheError> {
        let tmp = self.tmp_dir();
        let dir = tempfile::Builder::new()
            .prefix(&format!("stage-{}-", std::process::id()))
            .tempdir_in(&tmp)
            .map_err(io(&tmp))?
            .keep();
        Ok(Staging { dir })
    }

    /// Moves a stage's outputs into the store and then writes its manifest. Outputs named in
    /// `volatile` do not count towards the digest dependents see.
    #[allow(clippy::too_many_arguments)]
    pub fn commit(
        &self,
        staging: &Staging,
        volatile: &[&str],
        key_inputs: KeyInputs,
        sources: BTreeMap<String, Vec<String>>,
        instance: &str,
        pipeline: &str,
        duration: Duration,
    ) -> Result<Manifest, CacheError> {
        let mut outputs = BTreeMap::new();
        let mut files: Vec<PathBuf> = Vec::new();
        collect_files(&staging.dir, &mut files).map_err(io(&staging.dir))?;
        files.sort();
        for path in files {
            let rel =
                path.strip_prefix(&staging.dir).map(|r| r.to_string_lossy().replace('\\', "/")).unwrap_or_default();
            let f = File::open(&path).map_err(io(&path))?;
            f.sync_all().map_err(io(&path))?;
            let (digest, size) = hash_file(&path)?;
            let dest = self.blob_path(&digest);
            let present = matches!(hash_file(&dest), Ok((d, _)) if d == digest);
            if !present {
                if let Some(parent) = dest.parent() {
                    fs::create_dir_all(parent).map_err(io(parent))?;
                }
                set_readonly(&path);
                fs::rename(&path, &dest).map_err(io(&dest))?;
                sync_dir(dest.parent());
            }
            let volatile = volatile.contains(&rel.as_str());
            outputs.insert(rel, OutputEntry { digest, size, volatile });
        }
        let key = key_inputs.key();
        let m = Manifest {
            format: super::key::KEY_FORMAT,
            key: key.clone(),
            key_inputs,
            sources,
            outputs,
            instance: instance.to_string(),
            pipeline: pipeline.to_string(),
            created_unix: now_unix(),
            duration_ms: duration.as_millis() as u64,
        };
        self.write_manifest(&m)?;
        let _ = fs::remove_dir_all(self.checkpoint_dir(&key));
        if let Some(r) = &self.remote {
            r.enqueue(self, &m);
        }
        Ok(m)
    }

    /// Every manifest in the store (unreadable ones are returned as errors by key).
    pub fn entries(&self) -> Vec<Result<Manifest, (String, ManifestError)>> {
        let mut out = Vec::new();
        let ac = self.root.join("ac");
        let Ok(shards) = fs::read_dir(&ac) else { return out };
        let mut paths: Vec<PathBuf> = shards
            .flatten()
            .flat_map(|s| fs::read_dir(s.path()).into_iter().flatten().flatten().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for p in paths {
            let key = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            match self.read_manifest(&key) {
                Ok(Some(m)) => out.push(Ok(m)),
                Ok(None) => {}
                Err(e) => out.push(Err((key, e))),
            }
        }
        out
    }

    /// Every blob digest in the store.
    pub fn blobs(&self) -> Vec<(String, PathBuf)> {
        let cas = self.root.join("cas");
        let Ok(shards) = fs::read_dir(&cas) else { return Vec::new() };
        let mut v: Vec<(String, PathBuf)> = shards
            .flatten()
            .flat_map(|s| fs::read_dir(s.path()).into_iter().flatten().flatten().map(|e| e.path()))
            .map(|p| (p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), p))
            .collect();
        v.sort();
        v
    }

    pub fn remove_entry(&self, key: &str) {
        let _ = fs::remove_file(self.manifest_path(key));
    }

    /// Removes staging directories left by processes that no longer run (a crash, SIGKILL).
    pub fn clean_stale_tmp(&self) {
        let Ok(rd) = fs::read_dir(self.tmp_dir()) else { return };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name.strip_prefix("stage-").and_then(|r| r.split('-').next()).and_then(|p| p.parse::<u32>().ok());
            let stale = match pid {
                Some(pid) => pid != std::process::id() && !process_alive(pid),
                // Temp files from atomic_write: stale once old.
                None => e
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > Duration::from_secs(3600)),
            };
            if stale {
                let p = e.path();
                if p.is_dir() {
                    let _ = fs::remove_dir_all(&p);
                } else {
                    let _ = fs::remove_file(&p);
                }
            }
        }
    }
}

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") { Path::new(&format!("/proc/{pid}")).exists() } else { true }
}

/// Parses a manifest file's text (its first line is the blake3 of the JSON that follows).
pub fn parse_manifest(text: &str, key: &str) -> Result<Manifest, ManifestError> {
    let (sum, body) = text.split_once('\n').ok_or(ManifestError::Truncated)?;
    if blake3::hash(body.as_bytes()).to_hex().as_str() != sum {
        return Err(ManifestError::Checksum);
    }
    let m: Manifest = serde_json::from_str(body).map_err(ManifestError::Unreadable)?;
    if m.key != key {
        return Err(ManifestError::OtherKey);
    }
    Ok(m)
}

pub(crate) fn set_readonly(path: &Path) {
    if let Ok(md) = fs::metadata(path) {
        let mut perm = md.permissions();
        perm.set_readonly(true);
        let _ = fs::set_permissions(path, perm);
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if e.file_type()?.is_dir() {
            collect_files(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ki(n: i64) -> KeyInputs {
        KeyInputs { kind: "k".into(), version: 1, params: json!({ "n": n }), inputs: BTreeMap::new(), env: None }
    }

    fn put(cache: &Cache, n: i64, content: &str) -> Manifest {
        let st = cache.staging().unwrap();
        fs::write(st.dir.join("out.txt"), content).unwrap();
        cache.commit(&st, &[], ki(n), BTreeMap::new(), "s", "p", Duration::ZERO).unwrap()
    }

    #[test]
    fn commit_then_hit() {
        let d = tempfile::tempdir().unwrap();
        let c = Cache::open(d.path()).unwrap();
        let m = put(&c, 1, "hello");
        assert!(matches!(c.lookup(&m.key, Verify::Full), Lookup::Hit(_)));
        assert!(matches!(c.lookup(&ki(2).key(), Verify::Full), Lookup::Missing));
        assert_eq!(fs::read_dir(c.tmp_dir()).unwrap().count(), 0, "staging cleaned up");
    }

    #[test]
    fn flipped_byte_is_detected_and_entry_dropped() {
        let d = tempfile::tempdir().unwrap();
        let c = Cache::open(d.path()).unwrap();
        let m = put(&c, 1, "hello world");
        let blob = c.blob_path(&m.outputs["out.txt"].digest);
        let mut bytes = fs::read(&blob).unwrap();
        bytes[3] ^= 0x01;
        let mut perm = fs::metadata(&blob).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perm.set_readonly(false);
        fs::set_permissions(&blob, perm).unwrap();
        fs::write(&blob, bytes).unwrap();
        // Same size: a stat check cannot see it, a full check must.
        assert!(matches!(c.lookup(&m.key, Verify::Stat), Lookup::Hit(_)));
        assert!(matches!(c.lookup(&m.key, Verify::Full), Lookup::Corrupt(_)));
        assert!(matches!(c.lookup(&m.key, Verify::Full), Lookup::Missing));
    }

    #[test]
    fn truncated_manifest_is_corrupt() {
        let d = tempfile::tempdir().unwrap();
        let c = Cache::open(d.path()).unwrap();
        let m = put(&c, 1, "x");
        let p = c.manifest_path(&m.key);
        let text = fs::read_to_string(&p).unwrap();
        fs::write(&p, &text[..text.len() / 2]).unwrap();
        assert!(matches!(c.lookup(&m.key, Verify::Full), Lookup::Corrupt(_)));
    }
}
