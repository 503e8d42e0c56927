//! `train`: phase-1 training of a deep model (any [`ModelSpec`] kind) with Adam (or SGD),
//! ReduceLROnPlateau, class weights and keep-best; resumable from periodic checkpoints.

use serde::{Deserialize, Serialize};

use super::artifact::{DATASET_FILE, TIMING_FILE, Timing, read_dataset, timing_output, write_json};
use super::kind::{Params, StageContext, StageError, TypedStage};
use super::params::StageParams;
use super::spec::{InputSpec, OutputSpec};
use crate::device::Device;
use crate::models::{
    EpochRecord, ModelShape, ModelSpec, Monitor, Optimizer, PlateauConfig, TrainConfig, TrainContext, write_history_csv,
};

pub struct Train;

pub const WEIGHTS_FILE: &str = "model.mpk";
pub const SAFETENSORS_FILE: &str = "model.safetensors";
pub const SUMMARY_FILE: &str = "train.json";
pub const HISTORY_FILE: &str = "history.csv";

const MONITORS: &[&str] = &["train_loss", "validation", "test"];
const OPTIMIZERS: &[&str] = &["adam", "sgd"];

/// What a trained model carries to `predict` and `finetune`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainSummary {
    pub spec: ModelSpec,
    pub config: TrainConfig,
    pub shape: ModelShape,
    pub best_epoch: usize,
    pub best_monitored_loss: f64,
    pub monitor: Monitor,
    /// Set when weights were selected on the TEST split (the paper's protocol).
    pub protocol_note: Option<String>,
    pub digest: String,
    /// Fine-tuning only: the selected iteration (1-based).
    #[serde(default)]
    pub best_iteration: Option<usize>,
}

crate::stage_params! {
    /// The parameters of `train` (a group other training kinds may `include`).
    pub struct TrainParams {
        /// the model, e.g. { model = "lstm_fcn", cells = 8 }
        pub model: ModelSpec [Table],
        /// training epochs
        pub epochs: usize [Int = 2000],
        /// mini-batch size (capped at N)
        pub batch_size: usize [Int = 128],
        /// learning rate
        pub lr: f64 [Float = 1e-3],
        // optional (no written-out default), so the cache keys of existing Adam runs stay the same
        /// adam (when absent) or sgd
        pub optimizer: Option<String> [Enum(OPTIMIZERS), optional],
        /// SGD momentum in [0, 1), no dampening (0 when absent)
        pub momentum: Option<f64> [Float, optional],
        /// Adam ε (Keras 1e-7; burn's default is 1e-5)
        pub adam_epsilon: f64 [Float = 1e-7],
        /// ReduceLROnPlateau factor (1/∛2)
        pub lr_factor: f64 [Float = 1.0 / 2f64.cbrt()],
        /// ReduceLROnPlateau patience in epochs
        pub lr_patience: usize [Int = 100],
        /// ReduceLROnPlateau floor
        pub lr_min: f64 [Float = 1e-4],
        /// weight the loss by n / (K·n_c)
        pub class_weights: bool [Bool = true],
        /// seed of initialisation, shuffling and dropout
        pub seed: i64 [Int = 0],
        /// what keep-best and the LR schedule watch: train_loss, validation (needs a split stage), or test (the paper's protocol)
        pub monitor: String [Enum(MONITORS) = "train_loss"],
        /// return the best weights by the monitored loss
        pub keep_best: bool [Bool = true],
        /// checkpoint period in epochs (resume after a kill)
        pub checkpoint_every: usize [Int = 50],
    }
}

/// Validates the `model` table; writing back its full form makes `{ model = "lstm_fcn" }` and
/// the same with every default spelled out one cache key.
pub fn canonical_model(p: &mut Params) -> Result<ModelSpec, StageError> {
    let spec = TrainParams::from_params(p)?.model;
    spec.validate().map_err(model_err)?;
    let name = crate::param_name!(TrainParams, model);
    let full = serde_json::to_value(&spec).map_err(|source| StageError::ParamValue { name: name.into(), source })?;
    p.0.insert(name.into(), full);
    Ok(spec)
}

pub fn train_config(p: &TrainParams) -> TrainConfig {
    let monitor = match p.monitor.as_str() {
        "validation" => Monitor::Validation,
        "test" => Monitor::Test,
        _ => Monitor::TrainLoss,
    };
    TrainConfig {
        epochs: p.epochs,
        batch_size: p.batch_size,
        learning_rate: p.lr,
        adam_epsilon: p.adam_epsilon,
        plateau: PlateauConfig {
            factor: p.lr_factor,
            patience: p.lr_patience,
            min_lr: p.lr_min,
            ..PlateauConfig::default()
        },
        class_weights: p.class_weights,
        seed: p.seed as u64,
        monitor,
        keep_best: p.keep_best,
        checkpoint_every: p.checkpoint_every,
        optimizer: match p.optimizer.as_deref() {
            Some("sgd") => Optimizer::Sgd,
            _ => Optimizer::Adam,
        },
        momentum: p.momentum.unwrap_or(0.0),
        ..TrainConfig::default()
    }
}

/// Where a training stage trains: the instance's device, with periodic checkpoints in its
/// checkpoint folder (resumed after a kill), from a fresh initialisation.
pub fn train_context<'a>(ctx: &'a StageContext<'_>) -> TrainContext<'a> {
    TrainContext { device: *ctx.device, checkpoint_dir: Some(ctx.checkpoint_dir), initial_weights: None }
}

/// Appends a per-epoch history as CSV (the `history.csv` every training stage writes).
pub fn append_history_csv(history: &[EpochRecord], monitor: Monitor, csv: &mut Vec<u8>) -> Result<(), StageError> {
    write_history_csv(history, monitor, csv).map_err(|e| StageError::io(std::path::Path::new(HISTORY_FILE), e))
}

/// A model error as a stage error (a cancelled training is [`StageError::Cancelled`]).
pub fn model_err(e: crate::models::ModelError) -> StageError {
    e.into()
}

/// Reports an epoch to the live view and checks for Ctrl-C.
pub fn epoch_progress(ctx: &StageContext<'_>, prefix: &str, total: usize, done_before: usize, r: &EpochRecord) -> bool {
    let done = done_before + r.epoch;
    ctx.report(
        Some(done as f64 / total.max(1) as f64),
        format!(
            "{prefix}epoch {}/{} loss {:.4} acc {:.3} {} loss {:.4} lr {:.1e}",
            done, total, r.train_loss, r.train_acc, "mon", r.monitored_loss, r.lr
        ),
    );
    !ctx.cancelled()
}

impl TypedStage for Train {
    type Params = TrainParams;
    fn resources(&self, _: &TrainParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::TRAINING
    }
    fn name(&self) -> &'static str {
        "train"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Phase-1 training of a deep model: LSTM-FCN, ALSTM-FCN, FCN, ResNet, MLP, 1D CNN, hybrid CNN-LSTM (Adam or SGD, ReduceLROnPlateau, class weights, keep-best)"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec { name: "data", required: true, gather: false, doc: "a (normalised) dataset" }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(WEIGHTS_FILE, "the weights (burn record)"),
            OutputSpec::file(SAFETENSORS_FILE, "the weights as SafeTensors"),
            OutputSpec::file(SUMMARY_FILE, "model spec, training config, best epoch, protocol"),
            OutputSpec::file(HISTORY_FILE, "per-epoch loss, accuracy, learning rate, seconds").volatile(),
            timing_output(),
        ]
    }
    fn wants_accelerator(&self, _: &TrainParams) -> bool {
        true
    }
    fn env_key(&self, _: &TrainParams, device: &Device) -> Option<String> {
        Some(device.backend_id())
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), StageError> {
        canonical_model(p).map(|_| ())
    }
    fn run(&self, ctx: &StageContext<'_>, p: &TrainParams) -> Result<(), StageError> {
        let spec = p.model.clone();
        spec.validate().map_err(model_err)?;
        let cfg = train_config(p);
        let data = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        if cfg.monitor == Monitor::Validation && data.validation.is_none() {
            return Err(StageError::failed(
                "monitor = \"validation\" needs a dataset with a validation split (a `split` stage upstream)",
            ));
        }
        let tctx = train_context(ctx);
        // a training resumed from its checkpoint counts only the epochs run this time
        let start = std::time::Instant::now();
        let out = crate::models::train(&spec, &data, &cfg, &tctx, |r| epoch_progress(ctx, "", cfg.epochs, 0, r))
            .map_err(model_err)?;
        write_json(&ctx.output(TIMING_FILE), &Timing::new(Some(start.elapsed()), None))?;
        ctx.write(WEIGHTS_FILE, &out.weights)?;
        ctx.write(SAFETENSORS_FILE, &out.safetensors)?;
        let mut csv = Vec::new();
        append_history_csv(&out.history, out.monitor, &mut csv)?;
        ctx.write(HISTORY_FILE, csv)?;
        let summary = TrainSummary {
            spec,
            config: cfg,
            shape: out.shape,
            best_epoch: out.best_epoch,
            best_monitored_loss: out.best_monitored_loss,
            monitor: out.monitor,
            protocol_note: out.monitor.note().map(str::to_string),
            digest: out.digest.clone(),
            best_iteration: None,
        };
        write_json(&ctx.output(SUMMARY_FILE), &summary)
    }
}
