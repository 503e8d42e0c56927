//! Fine-tuning (phase 2 of the LSTM-FCN protocol): K iterations, each a training run that
//! starts from the previous iteration's best weights, with the learning rate halved every
//! iteration (floor 1e-4) and the batch size halved every second iteration (floor 1); the
//! iteration with the lowest monitored loss wins (ties: the earliest).
//!
//! With a checkpoint directory, iteration `i` checkpoints into `dir/iter-<i>`; a finished
//! iteration's final checkpoint lets a re-run skip it, so an interrupted fine-tune resumes
//! where it stopped.

use serde::{Deserialize, Serialize};

use super::train::{EpochRecord, Monitor, TrainConfig, TrainContext, train};
use super::{ModelError, ModelSpec, Result};
use crate::data::dataset::Dataset;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FinetuneConfig {
    /// K (paper: 5).
    pub iterations: usize,
    /// Epochs of every iteration (the original script: 3000).
    pub epochs_per_iteration: usize,
    /// Floor of the halved learning rate.
    pub lr_floor: f64,
    /// Floor of the halved batch size.
    pub batch_floor: usize,
    /// Start every iteration from the best iteration so far instead of the previous one
    /// ("reverting a stage whose monitored metric got worse", as the original script did).
    pub revert_to_best: bool,
}

impl Default for FinetuneConfig {
    fn default() -> Self {
        Self { iterations: 5, epochs_per_iteration: 3000, lr_floor: 1e-4, batch_floor: 1, revert_to_best: false }
    }
}

/// The `(learning rate, batch size)` of each iteration: `lr_i = max(lr0 / 2^i, lr_floor)`,
/// `batch_i = max(batch0 / 2^(i / 2), batch_floor)` for `i = 0..iterations`.
pub fn finetune_schedule(
    lr0: f64,
    batch0: usize,
    iterations: usize,
    lr_floor: f64,
    batch_floor: usize,
) -> Vec<(f64, usize)> {
    (0..iterations)
        .map(|i| {
            let lr = (lr0 / 2f64.powi(i as i32)).max(lr_floor);
            let shift = (i / 2).min(usize::BITS as usize - 1);
            let batch = (batch0 >> shift).max(batch_floor).max(1);
            (lr, batch)
        })
        .collect()
}

/// Summary of one fine-tuning iteration.
#[derive(Debug, Clone)]
pub struct IterationResult {
    /// 1-based.
    pub iteration: usize,
    pub learning_rate: f64,
    /// Scheduled batch size (training caps it at the number of series).
    pub batch_size: usize,
    pub best_epoch: usize,
    pub best_monitored_loss: f64,
    pub best_monitored_acc: f64,
    pub history: Vec<EpochRecord>,
    pub digest: String,
}

#[derive(Debug, Clone)]
pub struct FinetuneOutcome {
    pub iterations: Vec<IterationResult>,
    /// 1-based index of the selected iteration.
    pub best_iteration: usize,
    /// Weights of the selected iteration (burn record bytes) and their SafeTensors export.
    pub weights: Vec<u8>,
    pub safetensors: Vec<u8>,
    pub digest: String,
    pub monitor: Monitor,
}

/// Fine-tunes `initial_weights` (a phase-1 result of the same `spec`). `base` supplies the
/// starting learning rate and batch size and everything else (monitor, class weights, seed,
/// plateau schedule); `ctx.initial_weights` is ignored. `progress(iteration, record)` is called
/// after every epoch (iteration 1-based); `false` cancels.
pub fn finetune(
    spec: &ModelSpec,
    data: &Dataset,
    base: &TrainConfig,
    ft: &FinetuneConfig,
    ctx: &TrainContext<'_>,
    initial_weights: &[u8],
    mut progress: impl FnMut(usize, &EpochRecord) -> bool,
) -> Result<FinetuneOutcome> {
    if ft.iterations == 0 || ft.epochs_per_iteration == 0 {
        return Err(ModelError::InvalidConfig(
            "fine-tuning needs at least one iteration and one epoch per iteration".into(),
        ));
    }
    let schedule = finetune_schedule(base.learning_rate, base.batch_size, ft.iterations, ft.lr_floor, ft.batch_floor);
    let mut start: Vec<u8> = initial_weights.to_vec();
    let mut results = Vec::with_capacity(ft.iterations);
    let mut best: Option<BestIteration> = None;
    for (i, &(lr, batch)) in schedule.iter().enumerate() {
        let it = i + 1;
        let cfg = TrainConfig {
            epochs: ft.epochs_per_iteration,
            learning_rate: lr,
            batch_size: batch,
            seed: base.seed.wrapping_add((it as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            ..base.clone()
        };
        let dir = ctx.checkpoint_dir.map(|d| d.join(format!("iter-{it}")));
        let ictx = TrainContext { device: ctx.device, checkpoint_dir: dir.as_deref(), initial_weights: Some(&start) };
        let out = train(spec, data, &cfg, &ictx, |r| progress(it, r))?;
        let acc = out.best_record().map_or(f64::NAN, |r| r.monitored_acc);
        results.push(IterationResult {
            iteration: it,
            learning_rate: lr,
            batch_size: batch,
            best_epoch: out.best_epoch,
            best_monitored_loss: out.best_monitored_loss,
            best_monitored_acc: acc,
            history: out.history,
            digest: out.digest.clone(),
        });
        let better = best.as_ref().is_none_or(|b| out.best_monitored_loss < b.loss);
        if better {
            best = Some(BestIteration {
                iteration: it,
                loss: out.best_monitored_loss,
                weights: out.weights.clone(),
                safetensors: out.safetensors,
                digest: out.digest,
            });
        }
        start = if ft.revert_to_best {
            best.as_ref().map(|b| b.weights.clone()).unwrap_or(out.weights)
        } else {
            out.weights
        };
    }
    let best = best.expect("at least one iteration ran");
    Ok(FinetuneOutcome {
        iterations: results,
        best_iteration: best.iteration,
        weights: best.weights,
        safetensors: best.safetensors,
        digest: best.digest,
        monitor: base.monitor,
    })
}

/// The iteration kept so far and what it produced.
struct BestIteration {
    iteration: usize,
    loss: f64,
    weights: Vec<u8>,
    safetensors: Vec<u8>,
    digest: String,
}
