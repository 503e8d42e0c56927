//! The training loop (phase 1 of the LSTM-FCN protocol).
//!
//! Adam (explicit ε, Keras' 1e-7 by default; or SGD with optional momentum, [`Optimizer`]) on the class-weighted categorical cross-entropy
//! `mean_i w_{y_i} · CE_i` with `w_c = n / (K · n_c)`; Keras' ReduceLROnPlateau on the monitored
//! loss; keep-best weights by the monitored loss (strictly lower wins, so ties keep the
//! earliest epoch). The monitored loss is, per [`Monitor`]:
//!
//! * `train_loss` — the epoch's mean training loss, as Keras reports `loss` (training mode,
//!   class-weighted): what the original code monitored after September 2018;
//! * `validation` — unweighted cross-entropy of `Dataset.validation` in inference mode;
//! * `test` — the same on the TEST split: the paper's protocol, which selects weights on the
//!   data it reports; outputs label it as such ([`Monitor::note`]).
//!
//! Determinism: initial weights, the epoch's shuffle and its dropout masks come from ChaCha8
//! streams of `seed` (stream 0 for initialisation, `1 + epoch` for epoch `epoch`), so a run is
//! a pure function of its inputs; on the CPU backend the weights are bit-identical run to run,
//! and resuming from a checkpoint gives the same bits as an uninterrupted run.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::epoch_loop::{LoopState, Totals, epoch_order};
use super::{
    Model, ModelError, ModelShape, ModelSpec, Result, load_weights, safetensors_bytes, weights_bytes, weights_digest,
};
use crate::data::dataset::{Dataset, Split};

/// Which loss drives keep-best and ReduceLROnPlateau.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    /// The epoch's mean training loss (Keras `loss`).
    #[default]
    TrainLoss,
    /// The validation split carved out of TRAIN (`Dataset.validation`).
    Validation,
    /// The TEST split — the original paper's protocol (optimistically biased test accuracy).
    Test,
}

impl Monitor {
    /// Its name in configurations: `train_loss`, `validation` or `test` (the serde form).
    pub fn param_name(&self) -> &'static str {
        match self {
            Monitor::TrainLoss => "train_loss",
            Monitor::Validation => "validation",
            Monitor::Test => "test",
        }
    }

    /// `train`, `validation` or `test`.
    pub fn split_name(&self) -> &'static str {
        match self {
            Monitor::TrainLoss => "train",
            Monitor::Validation => "validation",
            Monitor::Test => "test",
        }
    }

    /// A caveat to print next to results selected with this monitor.
    pub fn note(&self) -> Option<&'static str> {
        match self {
            Monitor::Test => Some(
                "weights selected on the TEST split (the original paper's protocol); \
                 test accuracy is optimistically biased",
            ),
            _ => None,
        }
    }
}

/// The optimiser of a training run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Optimizer {
    /// Adam with the configured ε and betas.
    #[default]
    Adam,
    /// SGD with [`TrainConfig::momentum`] (PyTorch semantics: no dampening; 0 = plain SGD), as
    /// the hybrid write-up trains its model without attention.
    Sgd,
}

impl Optimizer {
    fn is_adam(&self) -> bool {
        *self == Optimizer::Adam
    }
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// Keras' ReduceLROnPlateau.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlateauConfig {
    pub enabled: bool,
    /// Multiplier of the learning rate (paper: `1/∛2`).
    pub factor: f64,
    /// Epochs without improvement before a reduction (paper: 100).
    pub patience: usize,
    /// Floor of the learning rate (paper: 1e-4).
    pub min_lr: f64,
    /// An improvement must beat the best by more than this (Keras default 1e-4).
    pub min_delta: f64,
}

impl Default for PlateauConfig {
    fn default() -> Self {
        Self { enabled: true, factor: 1.0 / 2f64.cbrt(), patience: 100, min_lr: 1e-4, min_delta: 1e-4 }
    }
}

/// Training hyper-parameters (model hyper-parameters, dropout included, live in the
/// [`ModelSpec`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    pub epochs: usize,
    /// Mini-batch size, capped at the number of training series.
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Adam ε (Keras 1e-7; burn's default would be 1e-5).
    pub adam_epsilon: f64,
    pub adam_beta1: f64,
    pub adam_beta2: f64,
    pub plateau: PlateauConfig,
    /// Weight the loss by `n / (K · n_c)`.
    pub class_weights: bool,
    pub seed: u64,
    pub monitor: Monitor,
    /// Return the best weights by the monitored loss (else the last epoch's).
    pub keep_best: bool,
    /// Write a checkpoint every this many epochs (when a checkpoint directory is given; 0 =
    /// only at the end and on cancellation).
    pub checkpoint_every: usize,
    /// Batch size of evaluation passes (no effect on results).
    pub eval_batch_size: usize,
    /// Shuffle the training series every epoch.
    pub shuffle: bool,
    /// Adam (default) or SGD. Left out of the serialised form when Adam, so configurations
    /// (and checkpoint fingerprints) written before the choice existed are unchanged.
    #[serde(skip_serializing_if = "Optimizer::is_adam")]
    pub optimizer: Optimizer,
    /// SGD momentum in [0, 1) (ignored by Adam).
    #[serde(skip_serializing_if = "is_zero")]
    pub momentum: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 2000,
            batch_size: 128,
            learning_rate: 1e-3,
            adam_epsilon: 1e-7,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            plateau: PlateauConfig::default(),
            class_weights: true,
            seed: 0,
            monitor: Monitor::TrainLoss,
            keep_best: true,
            checkpoint_every: 50,
            eval_batch_size: 256,
            shuffle: true,
            optimizer: Optimizer::Adam,
            momentum: 0.0,
        }
    }
}

impl TrainConfig {
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(ModelError::InvalidConfig(m.to_string()));
        if self.epochs == 0 {
            return bad("epochs must be positive");
        }
        if self.batch_size == 0 || self.eval_batch_size == 0 {
            return bad("batch sizes must be positive");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate must be positive");
        }
        if self.adam_epsilon.is_nan() || self.adam_epsilon <= 0.0 {
            return bad("adam_epsilon must be positive");
        }
        if !((0.0..1.0).contains(&self.adam_beta1) && (0.0..1.0).contains(&self.adam_beta2)) {
            return bad("Adam betas must be in [0, 1)");
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return bad("momentum must be in [0, 1)");
        }
        let p = &self.plateau;
        if p.enabled && !(p.factor > 0.0 && p.factor < 1.0) {
            return bad("plateau.factor must be in (0, 1)");
        }
        if p.enabled && (p.patience == 0 || p.min_lr < 0.0 || p.min_delta < 0.0) {
            return bad("plateau: patience must be positive, min_lr and min_delta >= 0");
        }
        Ok(())
    }
}

/// Run-time context of a training run (not part of its identity, except the initial weights).
#[derive(Debug, Clone, Default)]
pub struct TrainContext<'a> {
    pub device: crate::device::Device,
    /// Where to write periodic checkpoints; an existing checkpoint of the same run is resumed.
    pub checkpoint_dir: Option<&'a Path>,
    /// Start from these weights ([`weights_bytes`] format) instead of a fresh initialisation.
    pub initial_weights: Option<&'a [u8]>,
}

/// One epoch of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based.
    pub epoch: usize,
    /// Mean class-weighted training loss over the epoch (training mode, as Keras `loss`).
    pub train_loss: f64,
    /// Training accuracy over the epoch (training mode, as Keras `acc`).
    pub train_acc: f64,
    /// The monitored loss/accuracy (equal to the training ones for `Monitor::TrainLoss`).
    pub monitored_loss: f64,
    pub monitored_acc: f64,
    /// Learning rate used during this epoch.
    pub lr: f64,
    /// Wall-clock seconds of the epoch (training + monitoring).
    pub seconds: f64,
    /// Whether this epoch became the best so far.
    pub improved: bool,
}

/// What a training run produces.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// Selected weights (best or last), full-precision burn record ([`weights_bytes`]).
    pub weights: Vec<u8>,
    /// The same weights as SafeTensors.
    pub safetensors: Vec<u8>,
    /// blake3 of `weights`.
    pub digest: String,
    pub history: Vec<EpochRecord>,
    /// 1-based epoch of the selected weights (0: none was better than +∞, e.g. NaN losses).
    pub best_epoch: usize,
    pub best_monitored_loss: f64,
    pub monitor: Monitor,
    pub shape: ModelShape,
    /// Learning rate at the end (after plateau reductions).
    pub final_lr: f64,
    /// Epoch a resumed run started from (None: started fresh).
    pub resumed_from: Option<usize>,
}

impl TrainOutcome {
    /// Total training seconds recorded in the history.
    pub fn seconds(&self) -> f64 {
        self.history.iter().map(|r| r.seconds).sum()
    }

    /// The history record of the selected epoch.
    pub fn best_record(&self) -> Option<&EpochRecord> {
        self.history.iter().find(|r| r.epoch == self.best_epoch)
    }
}

/// Writes the history as CSV. The monitored columns are named after the monitored split
/// (`train_`/`validation_`/`test_`), and a `monitored_split` column repeats it.
pub fn write_history_csv(history: &[EpochRecord], monitor: Monitor, mut w: impl Write) -> std::io::Result<()> {
    let m = monitor.split_name();
    writeln!(w, "epoch,train_loss,train_acc,monitored_split,{m}_loss,{m}_acc,lr,seconds,improved")?;
    for r in history {
        writeln!(
            w,
            "{},{},{},{},{},{},{},{:.6},{}",
            r.epoch, r.train_loss, r.train_acc, m, r.monitored_loss, r.monitored_acc, r.lr, r.seconds, r.improved
        )?;
    }
    Ok(())
}

/// ReduceLROnPlateau state (Keras semantics, cooldown 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlateauState {
    pub lr: f64,
    /// Best monitored value so far (+∞ at the start).
    pub best: f64,
    pub wait: usize,
}

impl PlateauState {
    pub fn new(lr: f64) -> Self {
        Self { lr, best: f64::INFINITY, wait: 0 }
    }

    /// Feeds the epoch's monitored loss; may lower `lr` for the next epoch.
    pub fn step(&mut self, cfg: &PlateauConfig, current: f64) {
        if !cfg.enabled {
            return;
        }
        if current < self.best - cfg.min_delta {
            self.best = current;
            self.wait = 0;
        } else {
            self.wait += 1;
            if self.wait >= cfg.patience {
                if self.lr > cfg.min_lr {
                    self.lr = (self.lr * cfg.factor).max(cfg.min_lr);
                }
                self.wait = 0;
            }
        }
    }
}

/// A split uploaded once: inputs `[n, C, T]`, labels `[n]` and (weighted) one-hot targets.
pub(crate) struct DeviceSplit {
    pub n: usize,
    pub x: Tensor<3>,
    pub y: Tensor<1, Int>,
    pub targets: Tensor<2>,
}

impl DeviceSplit {
    pub(crate) fn new(split: &Split, classes: usize, weights: &[f64], device: &Device) -> Self {
        let n = split.n;
        let x: Vec<f32> = split.values.iter().map(|&v| v as f32).collect();
        let y: Vec<i64> = split.labels.iter().map(|&l| l as i64).collect();
        let mut t = vec![0f32; n * classes];
        for (i, &l) in split.labels.iter().enumerate() {
            t[i * classes + l] = weights[l] as f32;
        }
        Self {
            n,
            x: Tensor::from_data(TensorData::new(x, [n, split.dims, split.len]), device),
            y: Tensor::from_data(TensorData::new(y, [n]), device),
            targets: Tensor::from_data(TensorData::new(t, [n, classes]), device),
        }
    }
}

/// Unweighted mean cross-entropy and accuracy of `model` (inference mode) on `split`.
pub fn evaluate(model: &Model, split: &Split, device: &crate::device::Device, batch_size: usize) -> Result<(f64, f64)> {
    let dev = device.device()?;
    let shape = model.shape();
    check_split(split, shape, "evaluated")?;
    let ds = DeviceSplit::new(split, shape.classes, &vec![1.0; shape.classes], &dev);
    Ok(evaluate_device(&model.valid(), &ds, batch_size))
}

pub(crate) fn evaluate_device(model: &Model, ds: &DeviceSplit, batch_size: usize) -> (f64, f64) {
    let mut totals = Totals::default();
    let mut start = 0;
    while start < ds.n {
        let b = batch_size.min(ds.n - start);
        let out = model.forward(ds.x.clone().narrow(0, start, b), None);
        let nll = log_softmax(out.logits.clone(), 1).mul(ds.targets.clone().narrow(0, start, b)).sum().neg();
        let hits = out.logits.argmax(1).reshape([b]).equal(ds.y.clone().narrow(0, start, b)).int().sum();
        totals.add(nll, hits);
        start += b;
    }
    totals.means(ds.n.max(1) as f64).unwrap_or((0.0, 0.0))
}

pub(crate) fn check_split(split: &Split, shape: ModelShape, what: &str) -> Result<()> {
    if split.dims != shape.dims || split.len != shape.len {
        return Err(ModelError::InvalidData(format!(
            "{what} split is {}×{} (dims×len) but the model expects {}×{}",
            split.dims, split.len, shape.dims, shape.len
        )));
    }
    if split.values.len() != split.n * split.dims * split.len || split.labels.len() != split.n {
        return Err(ModelError::InvalidData(format!("{what} split has inconsistent sizes")));
    }
    if let Some(&l) = split.labels.iter().find(|&&l| l >= shape.classes) {
        return Err(ModelError::InvalidData(format!(
            "{what} split has label {l} but the model has {} classes",
            shape.classes
        )));
    }
    if split.values.iter().any(|v| !v.is_finite()) {
        return Err(ModelError::InvalidData(format!(
            "{what} split contains NaN or infinite values (apply a length/missing-value policy first)"
        )));
    }
    Ok(())
}

/// Class weights `n / (K · n_c)` (1 for absent classes), or all ones.
pub fn class_weights(split: &Split, classes: usize, enabled: bool) -> Vec<f64> {
    if !enabled {
        return vec![1.0; classes];
    }
    split
        .class_counts(classes)
        .iter()
        .map(|&c| if c == 0 { 1.0 } else { split.n as f64 / (classes as f64 * c as f64) })
        .collect()
}

fn monitored_split(data: &Dataset, monitor: Monitor) -> Result<Option<&Split>> {
    match monitor {
        Monitor::TrainLoss => Ok(None),
        Monitor::Validation => data.validation.as_ref().map(Some).ok_or_else(|| {
            ModelError::InvalidConfig("monitor = validation but the dataset has no validation split".into())
        }),
        Monitor::Test => Ok(Some(&data.test)),
    }
}

/// Identity of a run for checkpoint matching: everything that changes its result (the number
/// of epochs excluded, so a run can be extended).
fn fingerprint(spec: &ModelSpec, cfg: &TrainConfig, data: &Dataset, initial: Option<&[u8]>) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(b"tscpipe.models.train.v1\0");
    h.update(serde_json::to_string(spec).unwrap_or_default().as_bytes());
    let cfg = TrainConfig { epochs: 0, checkpoint_every: 0, eval_batch_size: 0, ..cfg.clone() };
    h.update(serde_json::to_string(&cfg).unwrap_or_default().as_bytes());
    let mut split = |s: &Split| {
        h.update(&(s.n as u64).to_le_bytes());
        h.update(&(s.dims as u64).to_le_bytes());
        h.update(&(s.len as u64).to_le_bytes());
        for v in &s.values {
            h.update(&v.to_le_bytes());
        }
        for l in &s.labels {
            h.update(&(*l as u64).to_le_bytes());
        }
    };
    split(&data.train);
    if let Ok(Some(s)) = monitored_split(data, cfg.monitor) {
        split(s);
    }
    h.update(&(data.n_classes() as u64).to_le_bytes());
    match initial {
        Some(w) => h.update(blake3::hash(w).as_bytes()),
        None => h.update(b"fresh"),
    };
    *h.finalize().as_bytes()
}

/// The configured optimiser (its state starts empty).
/// The configured optimizer (Adam with explicit ε and betas, or SGD with optional momentum).
pub(crate) fn optimizer(cfg: &TrainConfig) -> ModuleOptimizer {
    match cfg.optimizer {
        Optimizer::Adam => AdamConfig::new()
            .with_epsilon(cfg.adam_epsilon as f32)
            .with_beta_1(cfg.adam_beta1 as f32)
            .with_beta_2(cfg.adam_beta2 as f32)
            .init(),
        Optimizer::Sgd => {
            // burn's momentum defaults to dampening 0.1; PyTorch's (the write-up's) is 0.
            let momentum = (cfg.momentum > 0.0).then_some(MomentumConfig {
                momentum: cfg.momentum,
                dampening: 0.0,
                nesterov: false,
            });
            SgdConfig::new().with_momentum(momentum).init()
        }
    }
}

/// Trains `spec` on `data.train`. `progress` is called after every epoch; returning `false`
/// cancels the run (a checkpoint is written first when a checkpoint directory is set) and
/// yields [`ModelError::Cancelled`].
pub fn train(
    spec: &ModelSpec,
    data: &Dataset,
    cfg: &TrainConfig,
    ctx: &TrainContext<'_>,
    mut progress: impl FnMut(&EpochRecord) -> bool,
) -> Result<TrainOutcome> {
    spec.validate()?;
    cfg.validate()?;
    let shape = ModelShape { dims: data.train.dims, len: data.train.len, classes: data.n_classes() };
    shape.validate()?;
    if data.train.n == 0 {
        return Err(ModelError::InvalidData("the training split is empty".into()));
    }
    check_split(&data.train, shape, "training")?;
    let mon_split = monitored_split(data, cfg.monitor)?;
    if let Some(s) = mon_split {
        if s.n == 0 {
            return Err(ModelError::InvalidData(format!("the monitored {} split is empty", cfg.monitor.split_name())));
        }
        check_split(s, shape, cfg.monitor.split_name())?;
    }

    let device = ctx.device.train_device()?;
    let eval_device = ctx.device.device()?;
    let mut model = spec.build(shape, cfg.seed, &device)?;
    if let Some(w) = ctx.initial_weights {
        model = load_weights(model, w)?;
    }
    let optim = optimizer(cfg);

    let weights = class_weights(&data.train, shape.classes, cfg.class_weights);
    let train_ds = DeviceSplit::new(&data.train, shape.classes, &weights, &device);
    let mon_ds = mon_split.map(|s| DeviceSplit::new(s, shape.classes, &vec![1.0; shape.classes], &eval_device));

    let fp = fingerprint(spec, cfg, data, ctx.initial_weights);
    let to_bytes = |m: &Model| weights_bytes(m);
    let mut st = LoopState::new(cfg.learning_rate, ctx.checkpoint_dir, fp, &to_bytes);
    let (current, mut optim) = st.resume(optim, |b| load_weights(spec.build(shape, cfg.seed, &eval_device)?, b))?;
    if let Some(w) = current {
        model = load_weights(model, &w)?;
    }

    let n = data.train.n;
    let batch = cfg.batch_size.min(n);
    for epoch in st.start_epoch..cfg.epochs {
        let t0 = Instant::now();
        let lr = st.plateau.lr;
        let (mut rng, order) = epoch_order(cfg.seed, epoch, n, cfg.shuffle);
        let mut totals = Totals::default();
        for chunk in order.chunks(batch) {
            let b = chunk.len();
            let rows: Vec<i64> = chunk.iter().map(|&i| i as i64).collect();
            let idx: Tensor<1, Int> = Tensor::from_data(TensorData::new(rows, [b]), &device);
            let xb = train_ds.x.clone().select(0, idx.clone());
            let tb = train_ds.targets.clone().select(0, idx.clone());
            let yb = train_ds.y.clone().select(0, idx);
            let out = model.forward(xb, Some(&mut rng));
            let hits = out.logits.clone().detach().argmax(1).reshape([b]).equal(yb).int().sum();
            let loss = log_softmax(out.logits, 1).mul(tb).sum().neg().div_scalar(b as f64);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr, model, grads);
            totals.add(loss.detach().mul_scalar(b as f64), hits);
        }
        let (train_loss, train_acc) = totals.means(n as f64).unwrap_or((f64::NAN, 0.0));

        let (monitored_loss, monitored_acc, valid) = match &mon_ds {
            Some(ds) => {
                let v = model.valid();
                let (l, a) = evaluate_device(&v, ds, cfg.eval_batch_size);
                (l, a, Some(v))
            }
            None => (train_loss, train_acc, None),
        };
        st.end_epoch(
            cfg,
            epoch,
            t0,
            lr,
            (train_loss, train_acc),
            (monitored_loss, monitored_acc),
            (&model, &optim),
            || valid.unwrap_or_else(|| model.valid()),
            &mut progress,
        )?;
    }

    let selected = match (cfg.keep_best, st.best) {
        (true, Some(b)) => b,
        _ => model.valid(),
    };
    let weights = weights_bytes(&selected)?;
    Ok(TrainOutcome {
        safetensors: safetensors_bytes(&selected)?,
        digest: weights_digest(&weights),
        weights,
        history: st.history,
        best_epoch: st.best_epoch,
        best_monitored_loss: st.best_loss,
        monitor: cfg.monitor,
        shape,
        final_lr: st.plateau.lr,
        resumed_from: st.resumed_from,
    })
}
