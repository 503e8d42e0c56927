//! Training checkpoints: one file, `checkpoint.bin`, replaced atomically (written to a
//! temporary sibling, synced, renamed).
//!
//! Contents: the run's fingerprint, the number of finished epochs, the ReduceLROnPlateau state
//! (learning rate, best, wait), the keep-best state, the history, the model weights, the Adam
//! state (moments and step counts) and the best weights so far. Numbers are stored as raw
//! little-endian bits, so a resumed run continues bit-for-bit. The RNG needs no state: every
//! epoch draws from its own ChaCha8 stream `(seed, 1 + epoch)`, and the seed is part of the
//! fingerprint.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::optim::OptimizerRecord;
use burn::tensor::Bytes;

use super::train::{EpochRecord, PlateauState};
use super::{ModelError, Result};

/// File name inside the checkpoint directory.
pub const FILE_NAME: &str = "checkpoint.bin";
const MAGIC: &[u8; 8] = b"TSCCKPT1";

/// The state of an interrupted run.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub fingerprint: [u8; 32],
    /// Finished epochs.
    pub epoch: usize,
    pub plateau: PlateauState,
    pub best_loss: f64,
    pub best_epoch: usize,
    pub history: Vec<EpochRecord>,
    /// Current weights ([`super::weights_bytes`]).
    pub model: Vec<u8>,
    /// Adam state (burn optimizer record bytes).
    pub optimizer: Vec<u8>,
    /// Best weights so far, if keep-best has one.
    pub best: Option<Vec<u8>>,
}

/// Path of the checkpoint file in `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Finished epochs of the checkpoint in `dir`, if any (reads the whole file).
pub fn epoch(dir: &Path) -> Result<Option<usize>> {
    Ok(load(dir)?.map(|c| c.epoch))
}

struct Enc(Vec<u8>);

impl Enc {
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
}

struct Dec<'a>(&'a [u8]);

impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(ModelError::Checkpoint("truncated checkpoint file".into()));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
    fn usize(&mut self) -> Result<usize> {
        usize::try_from(self.u64()?).map_err(|_| ModelError::Checkpoint("bad size".into()))
    }
    fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn bytes(&mut self) -> Result<Vec<u8>> {
        let n = self.usize()?;
        Ok(self.take(n)?.to_vec())
    }
}

fn encode(c: &Checkpoint) -> Vec<u8> {
    let mut e = Enc(Vec::with_capacity(c.model.len() * 2 + c.optimizer.len() + 4096 + c.history.len() * 64));
    e.0.extend_from_slice(MAGIC);
    e.0.extend_from_slice(&c.fingerprint);
    e.u64(c.epoch as u64);
    e.f64(c.plateau.lr);
    e.f64(c.plateau.best);
    e.u64(c.plateau.wait as u64);
    e.f64(c.best_loss);
    e.u64(c.best_epoch as u64);
    e.u64(c.history.len() as u64);
    for r in &c.history {
        e.u64(r.epoch as u64);
        e.f64(r.train_loss);
        e.f64(r.train_acc);
        e.f64(r.monitored_loss);
        e.f64(r.monitored_acc);
        e.f64(r.lr);
        e.f64(r.seconds);
        e.u64(r.improved as u64);
    }
    e.bytes(&c.model);
    e.bytes(&c.optimizer);
    match &c.best {
        Some(b) => {
            e.u64(1);
            e.bytes(b);
        }
        None => e.u64(0),
    }
    let digest = blake3::hash(&e.0);
    e.0.extend_from_slice(digest.as_bytes());
    e.0
}

fn decode(buf: &[u8]) -> Result<Checkpoint> {
    if buf.len() < MAGIC.len() + 32 || &buf[..MAGIC.len()] != MAGIC {
        return Err(ModelError::Checkpoint("not a tscpipe checkpoint".into()));
    }
    let (body, sum) = buf.split_at(buf.len() - 32);
    if blake3::hash(body).as_bytes() != sum {
        return Err(ModelError::Checkpoint("checkpoint checksum mismatch".into()));
    }
    let mut d = Dec(&body[MAGIC.len()..]);
    let fingerprint: [u8; 32] = d.take(32)?.try_into().expect("32 bytes");
    let epoch = d.usize()?;
    let plateau = PlateauState { lr: d.f64()?, best: d.f64()?, wait: d.usize()? };
    let best_loss = d.f64()?;
    let best_epoch = d.usize()?;
    let n = d.usize()?;
    let mut history = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        history.push(EpochRecord {
            epoch: d.usize()?,
            train_loss: d.f64()?,
            train_acc: d.f64()?,
            monitored_loss: d.f64()?,
            monitored_acc: d.f64()?,
            lr: d.f64()?,
            seconds: d.f64()?,
            improved: d.u64()? != 0,
        });
    }
    let model = d.bytes()?;
    let optimizer = d.bytes()?;
    let best = match d.u64()? {
        0 => None,
        _ => Some(d.bytes()?),
    };
    Ok(Checkpoint { fingerprint, epoch, plateau, best_loss, best_epoch, history, model, optimizer, best })
}

/// Writes `c` to `dir/checkpoint.bin` atomically (creating `dir`).
pub fn save(dir: &Path, c: &Checkpoint) -> Result<()> {
    fs::create_dir_all(dir)?;
    let target = path(dir);
    let tmp = dir.join(format!("{FILE_NAME}.{}.tmp", std::process::id()));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&encode(c))?;
        f.sync_all()?;
    }
    fs::rename(&tmp, &target)?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Reads the checkpoint in `dir`, if one exists.
pub fn load(dir: &Path) -> Result<Option<Checkpoint>> {
    let p = path(dir);
    match fs::read(&p) {
        Ok(buf) => decode(&buf).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Removes the checkpoint in `dir` (no error if there is none).
pub fn remove(dir: &Path) -> Result<()> {
    match fs::remove_file(path(dir)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn optimizer_record(bytes: &[u8]) -> Result<OptimizerRecord> {
    OptimizerRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| ModelError::Checkpoint(format!("optimizer state: {e}")))
}
