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
    /// The digest of a file's or a folder's content (see [`crate::cache::store::hash_path`]);
    /// the error names the path.
    pub fn digest(&self, path: &Path) -> Result<String, crate::cache::CacheError> {
        if let Some(d) = self.0.lock().ok().and_then(|m| m.get(path).cloned()) {
            return Ok(d);
        }
        let d = crate::cache::store::hash_path(path)?;
        if let Ok(mut m) = self.0.lock() {
            m.insert(path.to_path_buf(), d.clone());
        }
        Ok(d)
    }
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
        let digest = files.digest(&f).map_err(|e| KeyBlock::Source(e.to_string()))?;
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut entry = format!("file:{name}");
        if inputs.contains_key(&entry) {
            // two sources with one file name (`a/util.py`, `b/util.py`): the later one by its
            // path as the pipeline names it, relative to the pipeline's folder
            let rel = f.strip_prefix(&env.pipeline_dir).unwrap_or(&f);
            entry = format!("file:{}", rel.display());
        }
        inputs.insert(entry.clone(), vec![InputDigest { coords: Vec::new(), digest }]);
        sources.insert(entry, vec![f.display().to_string()]);
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
    let measured = kind.key_environment(&inst.params, env).map_err(|e| KeyBlock::Source(e.to_string()))?;
    let env = match (kind.env_key(&inst.params, &device), measured) {
        (declared, None) => declared,
        (None, Some(m)) => Some(m),
        (Some(d), Some(m)) => Some(format!("{d}\n{m}")),
    };
    let inputs = KeyInputs {
        kind: kind.name().to_string(),
        version: kind.version(),
        params: Json::Object(inst.params.0.clone()),
        inputs,
        env,
    };
    let key = inputs.key();
    Ok(Keyed { inputs, sources, key })
}

/// The device an instance computes on: the run's for kinds that want an accelerator, else the CPU.
pub fn run_device(kind: &dyn StageKind, params: &crate::stages::kind::Params, device: &Device) -> Device {
    if kind.wants_accelerator(params) { *device } else { Device::Cpu }
}
