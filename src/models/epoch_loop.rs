//! The bookkeeping every training loop shares around its batches: keep-best, ReduceLROnPlateau,
//! the per-epoch history, periodic checkpoints, resuming from one, and cancellation. Written once
//! so the class-model loop ([`super::train`]) and the pair loop ([`super::pair_train`]) resume and
//! stop identically.

use std::path::Path;
use std::time::Instant;

use burn::optim::ModuleOptimizer;
use burn::tensor::{Int, Tensor};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::checkpoint::{self, Checkpoint};
use super::init;
use super::train::PlateauState;
use super::{EpochRecord, ModelError, Result, TrainConfig};

/// State carried from epoch to epoch (and through a checkpoint) of a loop training an `M`.
pub(crate) struct LoopState<'a, M> {
    pub plateau: PlateauState,
    pub history: Vec<EpochRecord>,
    pub best_loss: f64,
    /// 1-based epoch of `best_loss` (0 before the first epoch).
    pub best_epoch: usize,
    pub best: Option<M>,
    /// First epoch to run (0, or the checkpoint's epoch count).
    pub start_epoch: usize,
    pub resumed_from: Option<usize>,
    /// Where checkpoints go (none: no checkpoints), and the run's fingerprint they carry.
    dir: Option<&'a Path>,
    fingerprint: [u8; 32],
    /// The model's checkpoint bytes.
    to_bytes: &'a dyn Fn(&M) -> Result<Vec<u8>>,
}

impl<'a, M> LoopState<'a, M> {
    pub fn new(
        lr: f64,
        dir: Option<&'a Path>,
        fingerprint: [u8; 32],
        to_bytes: &'a dyn Fn(&M) -> Result<Vec<u8>>,
    ) -> Self {
        LoopState {
            dir,
            fingerprint,
            to_bytes,
            plateau: PlateauState::new(lr),
            history: Vec::new(),
            best_loss: f64::INFINITY,
            best_epoch: 0,
            best: None,
            start_epoch: 0,
            resumed_from: None,
        }
    }

    /// Resumes from the checkpoint in the directory, if there is one written by the same run:
    /// restores this state (the best weights through `load_best`) and returns the current
    /// weights' bytes for the caller to load, with the optimizer's state restored. A checkpoint
    /// of another run is an error, never silently reused.
    pub fn resume(
        &mut self,
        optim: ModuleOptimizer,
        load_best: impl FnOnce(&[u8]) -> Result<M>,
    ) -> Result<(Option<Vec<u8>>, ModuleOptimizer)> {
        let Some(dir) = self.dir else { return Ok((None, optim)) };
        let Some(ck) = checkpoint::load(dir)? else { return Ok((None, optim)) };
        if ck.fingerprint != self.fingerprint {
            return Err(ModelError::Checkpoint(format!(
                "{} holds a checkpoint of a different run (model, configuration, data or seed \
                 differ); remove it or use another directory",
                dir.display()
            )));
        }
        super::device::check_restore_staging()?;
        let optim = optim.load_record(checkpoint::optimizer_record(&ck.optimizer)?);
        if let Some(b) = &ck.best {
            self.best = Some(load_best(b)?);
        }
        self.plateau = ck.plateau;
        self.best_loss = ck.best_loss;
        self.best_epoch = ck.best_epoch;
        self.history = ck.history;
        self.start_epoch = ck.epoch;
        self.resumed_from = Some(ck.epoch);
        Ok((Some(ck.model), optim))
    }

    /// After epoch `epoch` (0-based): keep-best (strictly lower monitored loss wins; `valid`
    /// gives the inference-mode model to keep), the LR schedule, the history, a checkpoint every
    /// `checkpoint_every` epochs and at the end, and cancellation (checkpoint first, then
    /// `Err(Cancelled)`) when `progress` returns false.
    #[allow(clippy::too_many_arguments)]
    pub fn end_epoch(
        &mut self,
        cfg: &TrainConfig,
        epoch: usize,
        started: Instant,
        lr: f64,
        (train_loss, train_acc): (f64, f64),
        (monitored_loss, monitored_acc): (f64, f64),
        (model, optim): (&M, &ModuleOptimizer),
        valid: impl FnOnce() -> M,
        progress: &mut impl FnMut(&EpochRecord) -> bool,
    ) -> Result<()> {
        let improved = monitored_loss < self.best_loss;
        if improved {
            self.best_loss = monitored_loss;
            self.best_epoch = epoch + 1;
            if cfg.keep_best {
                self.best = Some(valid());
            }
        }
        self.plateau.step(&cfg.plateau, monitored_loss);
        let rec = EpochRecord {
            epoch: epoch + 1,
            train_loss,
            train_acc,
            monitored_loss,
            monitored_acc,
            lr,
            seconds: started.elapsed().as_secs_f64(),
            improved,
        };
        self.history.push(rec.clone());
        let done = epoch + 1;
        let scheduled = (cfg.checkpoint_every > 0 && done.is_multiple_of(cfg.checkpoint_every)) || done == cfg.epochs;
        let save = |st: &Self| -> Result<()> {
            let Some(dir) = st.dir else { return Ok(()) };
            let ck = Checkpoint {
                fingerprint: st.fingerprint,
                epoch: done,
                plateau: st.plateau,
                best_loss: st.best_loss,
                best_epoch: st.best_epoch,
                history: st.history.clone(),
                model: (st.to_bytes)(model)?,
                optimizer: optim.into_bytes().map_err(|e| ModelError::Checkpoint(e.to_string()))?.to_vec(),
                best: st.best.as_ref().map(st.to_bytes).transpose()?,
            };
            checkpoint::save(dir, &ck)
        };
        if scheduled {
            save(self)?;
        }
        if !progress(&rec) {
            if !scheduled {
                save(self)?;
            }
            return Err(ModelError::Cancelled);
        }
        Ok(())
    }
}

/// The epoch's random stream (stream `1 + epoch` of the run's seed: shuffling, then dropout) and
/// the order in which it visits `n` items (Fisher–Yates from that stream when `shuffle`).
pub(crate) fn epoch_order(seed: u64, epoch: usize, n: usize, shuffle: bool) -> (ChaCha8Rng, Vec<usize>) {
    let mut rng = init::rng(seed, 1 + epoch as u64);
    let mut order: Vec<usize> = (0..n).collect();
    if shuffle {
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            order.swap(i, j);
        }
    }
    (rng, order)
}

/// Running sums of loss and correct predictions over batches, kept on the device (one read at
/// the end instead of a synchronising read per batch).
#[derive(Default)]
pub(crate) struct Totals {
    loss: Option<Tensor<1>>,
    correct: Option<Tensor<1, Int>>,
}

impl Totals {
    /// Adds a batch's summed loss and its number of correct predictions.
    pub fn add(&mut self, loss_sum: Tensor<1>, hits: Tensor<1, Int>) {
        self.loss = Some(match self.loss.take() {
            Some(s) => s + loss_sum,
            None => loss_sum,
        });
        self.correct = Some(match self.correct.take() {
            Some(c) => c + hits,
            None => hits,
        });
    }

    /// Mean loss and accuracy over `n` items; `None` when nothing was added.
    pub fn means(self, n: f64) -> Option<(f64, f64)> {
        let (loss, correct) = (self.loss?, self.correct?);
        Some((loss.into_scalar::<f64>() / n, correct.into_scalar::<i64>() as f64 / n))
    }
}
