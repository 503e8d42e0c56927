//! Executors run one stage instance whose key is not cached and leave its entry in the cache.
//!
//! The scheduler only decides *what* runs *when*; an executor decides *where*. The local one
//! runs the stage in-process; a cluster executor (SLURM) can implement the same trait by
//! running `tscpipe` on a node against a shared cache.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::cache::{Cache, KeyInputs, Lookup, Manifest, Verify};
use crate::stages::kind::{InputArtifact, Params, RunEnv, StageContext, StageError, StageKind, StageProgress};

use crate::device::Device;

/// A stage instance ready to run: its key is known and its inputs are in the cache.
pub struct Job {
    pub instance: String,
    /// The stage the instance belongs to (per-stage executor settings are looked up by it).
    pub stage: String,
    pub pipeline: String,
    pub kind: Arc<dyn StageKind>,
    pub params: Params,
    pub key_inputs: KeyInputs,
    pub key: String,
    pub sources: BTreeMap<String, Vec<String>>,
    pub inputs: BTreeMap<String, Vec<InputArtifact>>,
    pub device: Device,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Stage(#[from] StageError),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    #[error("stage did not write its declared output `{0}`")]
    MissingOutput(String),
    #[error("stage wrote `{0}`, which is not one of its declared outputs")]
    UndeclaredOutput(String),
    #[error("stage panicked: {0}")]
    Panicked(String),
}

impl ExecError {
    pub fn is_cancelled(&self) -> bool {
        matches!(self, ExecError::Stage(StageError::Cancelled))
    }
}

/// What an executor did with a job.
pub struct Executed {
    pub manifest: Manifest,
    /// Another process finished the same entry first; nothing was computed here.
    pub reused: bool,
}

pub trait Executor: Send + Sync {
    fn name(&self) -> &'static str;
    /// Runs the job and returns the committed manifest.
    fn execute(
        &self,
        job: &Job,
        progress: &(dyn Fn(StageProgress) + Sync),
        cancel: &AtomicBool,
    ) -> Result<Executed, ExecError>;
}

/// Runs stages in this process, in the calling worker thread.
pub struct LocalExecutor {
    pub cache: Cache,
    pub env: RunEnv,
}

impl Executor for LocalExecutor {
    fn name(&self) -> &'static str {
        "local"
    }

    fn execute(
        &self,
        job: &Job,
        progress: &(dyn Fn(StageProgress) + Sync),
        cancel: &AtomicBool,
    ) -> Result<Executed, ExecError> {
        // Another tscpipe on the same cache may be computing this very entry: wait, then reuse.
        let _guard = self.cache.lock_key(&job.key)?;
        if let Lookup::Hit(manifest) = self.cache.lookup(&job.key, Verify::Full) {
            return Ok(Executed { manifest: *manifest, reused: true });
        }
        let staging = self.cache.staging()?;
        let ckpt = self.cache.checkpoint_dir(&job.key);
        std::fs::create_dir_all(&ckpt).map_err(|e| StageError::io(&ckpt, e))?;
        let started = Instant::now();
        let ctx = StageContext {
            instance: &job.instance,
            params: &job.params,
            inputs: &job.inputs,
            out_dir: &staging.dir,
            checkpoint_dir: &ckpt,
            device: &job.device,
            env: &self.env,
            progress,
            cancel,
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.kind.run(&ctx)));
        match result {
            Ok(r) => r?,
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                return Err(ExecError::Panicked(msg));
            }
        }
        let outputs = job.kind.outputs();
        for o in &outputs {
            if !o.optional && !staging.dir.join(o.name).exists() {
                return Err(ExecError::MissingOutput(o.name.to_string()));
            }
        }
        for e in std::fs::read_dir(&staging.dir).map_err(|e| StageError::io(&staging.dir, e))?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !outputs.iter().any(|o| o.name == name) {
                return Err(ExecError::UndeclaredOutput(name));
            }
        }
        let volatile: Vec<&str> = outputs.iter().filter(|o| o.volatile).map(|o| o.name).collect();
        let manifest = self.cache.commit(
            &staging,
            &volatile,
            job.key_inputs.clone(),
            job.sources.clone(),
            &job.instance,
            &job.pipeline,
            started.elapsed(),
        )?;
        Ok(Executed { manifest, reused: false })
    }
}
