//! The cache key of a stage instance: the one place that turns an instance, its upstream
//! manifests and the files it reads into [`KeyInputs`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::cache::{InputDigest, KeyInputs, Manifest};
use crate::device::Device;
use crate::dsl::Expanded;
use crate::stages::kind::{RunEnv, StageKind};

/// Digests of files outside the cache, memoised for one walk (many instances read one file).
#[derive(Default)]
pub struct FileDigests(std::sync::Mutex<std::collections::HashMap<PathBuf, String>>);

impl FileDigests {
    pub fn digest(&self, path: &Path) -> Result<String, String> {
        if let Some(d) = self.0.lock().ok().and_then(|m| m.get(path).cloned()) {
            return Ok(d);
        }
        let d = if path.is_dir() {
            tree_digest(path)?
        } else {
            crate::cache::store::hash_file(path).map_err(|e| e.to_string())?.0
        };
        if let Ok(mut m) = self.0.lock() {
            m.insert(path.to_path_buf(), d.clone());
        }
        Ok(d)
    }
}

/// A folder a stage reads (a tsml-eval results collection): the digest of every file's relative
/// path and content, in path order, so that renaming, adding or editing a file changes it and
/// nothing else does.
fn tree_digest(root: &Path) -> Result<String, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let p = e?.path();
            if p.is_dir() { walk(&p, out)? } else { out.push(p) }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(root, &mut files).map_err(|e| format!("{}: {e}", root.display()))?;
    files.sort();
    let mut h = blake3::Hasher::new();
    for f in files {
        let rel = f.strip_prefix(root).unwrap_or(&f).to_string_lossy().replace('\\', "/");
        let (d, _) = crate::cache::store::hash_file(&f).map_err(|e| e.to_string())?;
        h.update(rel.as_bytes());
        h.update(b"\0");
        h.update(d.as_bytes());
        h.update(b"\n");
    }
    Ok(h.finalize().to_hex().to_string())
}

/// Why a key could not be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyBlock {
    /// An upstream instance has no entry yet.
    Upstream,
    /// The stage's source files could not be read.
    Source(String),
}

/// An instance's key, what it was computed from, and where each input came from (instance ids
/// or file paths, for explaining a change).
#[derive(Debug, Clone)]
pub struct Keyed {
    pub inputs: KeyInputs,
    pub sources: BTreeMap<String, Vec<String>>,
    pub key: String,
}

/// Builds an instance's key inputs from its upstream manifests (all must be resolved) and the
/// digests of the files it reads from outside the cache. `device` enters the key only of kinds
/// that want an accelerator (the others compute on the CPU whatever the run's device).
pub fn key_inputs(
    p: &Expanded,
    idx: usize,
    kind: &dyn StageKind,
    resolved: &[Option<Manifest>],
    device: &Device,
    env: &RunEnv,
    files: &FileDigests,
) -> Result<Keyed, KeyBlock> {
    let inst = &p.instances[idx];
    let mut inputs = BTreeMap::new();
    let mut sources = BTreeMap::new();
    for f in kind.source_files(&inst.params, env).map_err(|e| KeyBlock::Source(e.to_string()))? {
        let digest = files.digest(&f).map_err(KeyBlock::Source)?;
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        inputs.insert(format!("file:{name}"), vec![InputDigest { coords: Vec::new(), digest }]);
        sources.insert(format!("file:{name}"), vec![f.display().to_string()]);
    }
    for b in &inst.inputs {
        let mut ds = Vec::with_capacity(b.sources.len());
        let mut from = Vec::with_capacity(b.sources.len());
        for s in &b.sources {
            let m = resolved[s.instance].as_ref().ok_or(KeyBlock::Upstream)?;
            ds.push(InputDigest {
                coords: p.instances[s.instance].coords.clone(),
                digest: m.output_digest(s.output.as_deref()).ok_or(KeyBlock::Upstream)?,
            });
            from.push(p.instances[s.instance].id.clone());
        }
        inputs.insert(b.name.clone(), ds);
        sources.insert(b.name.clone(), from);
    }
    let device = run_device(kind, &inst.params, device);
    let inputs = KeyInputs {
        kind: kind.name().to_string(),
        version: kind.version(),
        params: Json::Object(inst.params.0.clone()),
        inputs,
        env: kind.env_key(&inst.params, &device),
    };
    let key = inputs.key();
    Ok(Keyed { inputs, sources, key })
}

/// The device an instance computes on: the run's for kinds that want an accelerator, else the CPU.
pub fn run_device(kind: &dyn StageKind, params: &crate::stages::kind::Params, device: &Device) -> Device {
    if kind.wants_accelerator(params) { *device } else { Device::Cpu }
}
