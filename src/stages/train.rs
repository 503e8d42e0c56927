//! `train`: phase-1 training of a deep model (any [`ModelSpec`] kind) with Adam (or SGD),
//! ReduceLROnPlateau, class weights and keep-best; resumable from periodic checkpoints.

use serde::{Deserialize, Serialize};

use super::artifact::{DATASET_FILE, TIMING_FILE, Timing, read_dataset, timing_output, write_json};
use super::kind::{Params, StageContext, StageError, TypedStage};
use super::params::{self, StageParams};
use super::spec::{InputSpec, OutputSpec, ParamSpec, ParamType};
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
    /// The parameters of `train` (a group other training kinds may `include`): the model and
    /// the training configuration, read straight into the one [`TrainConfig`] the training loop
    /// takes.
    pub struct TrainParams {
        /// the model, e.g. { model = "lstm_fcn", cells = 8 }
        pub model: ModelSpec [Table],
        /// the training configuration
        pub config: TrainConfig [include],
    }
}

/// The training parameters of a stage, each declared once as a field of [`TrainConfig`] (its
/// default is the config's default, so the two cannot drift apart). The names are the stage's
/// (`lr`, `lr_factor`, …); `optimizer` and `momentum` are optional (absent: Adam, 0), so the keys of
/// runs written before they existed stay the same. Fields that are not parameters (Adam's betas,
/// the evaluation batch, shuffling, the plateau's `min_delta`) keep their defaults.
impl StageParams for TrainConfig {
    fn specs() -> Vec<ParamSpec> {
        let d = TrainConfig::default();
        vec![
            ParamSpec::with_default("epochs", ParamType::Int, d.epochs, "training epochs"),
            ParamSpec::with_default("batch_size", ParamType::Int, d.batch_size, "mini-batch size (capped at N)"),
            ParamSpec::with_default("lr", ParamType::Float, d.learning_rate, "learning rate"),
            ParamSpec::optional("optimizer", ParamType::Enum(OPTIMIZERS), "adam (when absent) or sgd"),
            ParamSpec::optional("momentum", ParamType::Float, "SGD momentum in [0, 1), no dampening (0 when absent)"),
            ParamSpec::with_default(
                "adam_epsilon",
                ParamType::Float,
                d.adam_epsilon,
                "Adam ε (Keras 1e-7; burn's default is 1e-5)",
            ),
            ParamSpec::with_default("lr_factor", ParamType::Float, d.plateau.factor, "ReduceLROnPlateau factor (1/∛2)"),
            ParamSpec::with_default(
                "lr_patience",
                ParamType::Int,
                d.plateau.patience,
                "ReduceLROnPlateau patience in epochs",
            ),
            ParamSpec::with_default("lr_min", ParamType::Float, d.plateau.min_lr, "ReduceLROnPlateau floor"),
            ParamSpec::with_default(
                "class_weights",
                ParamType::Bool,
                d.class_weights,
                "weight the loss by n / (K·n_c)",
            ),
            ParamSpec::with_default("seed", ParamType::Int, d.seed, "seed of initialisation, shuffling and dropout"),
            ParamSpec::with_default(
                "monitor",
                ParamType::Enum(MONITORS),
                d.monitor.param_name(),
                "what keep-best and the LR schedule watch: train_loss, validation (needs a split stage), or test (the paper's protocol)",
            ),
            ParamSpec::with_default(
                "keep_best",
                ParamType::Bool,
                d.keep_best,
                "return the best weights by the monitored loss",
            ),
            ParamSpec::with_default(
                "checkpoint_every",
                ParamType::Int,
                d.checkpoint_every,
                "checkpoint period in epochs (resume after a kill)",
            ),
        ]
    }

    fn from_params(p: &Params) -> Result<Self, StageError> {
        let specs = Self::specs();
        fn get<T: serde::de::DeserializeOwned>(p: &Params, specs: &[ParamSpec], name: &str) -> Result<T, StageError> {
            let s =
                specs.iter().find(|s| s.name == name).ok_or_else(|| StageError::param(name, "a declared parameter"))?;
            params::read(p, s.name, &s.ty, s.default.clone())
        }
        let d = TrainConfig::default();
        let optimizer: Option<Optimizer> = get(p, &specs, "optimizer")?;
        let momentum: Option<f64> = get(p, &specs, "momentum")?;
        // a seed is any integer, as it always was (negative ones wrap)
        let seed: i64 = get(p, &specs, "seed")?;
        Ok(TrainConfig {
            epochs: get(p, &specs, "epochs")?,
            batch_size: get(p, &specs, "batch_size")?,
            learning_rate: get(p, &specs, "lr")?,
            adam_epsilon: get(p, &specs, "adam_epsilon")?,
            plateau: PlateauConfig {
                factor: get(p, &specs, "lr_factor")?,
                patience: get(p, &specs, "lr_patience")?,
                min_lr: get(p, &specs, "lr_min")?,
                ..d.plateau
            },
            class_weights: get(p, &specs, "class_weights")?,
            seed: seed as u64,
            monitor: get(p, &specs, "monitor")?,
            keep_best: get(p, &specs, "keep_best")?,
            checkpoint_every: get(p, &specs, "checkpoint_every")?,
            optimizer: optimizer.unwrap_or_default(),
            momentum: momentum.unwrap_or(0.0),
            ..d
        })
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
        "Phase-1 training of a deep model: LSTM-FCN, ALSTM-FCN, FCN, ResNet, MLP, 1D CNN, hybrid CNN-LSTM, InceptionTime, LITE (Adam or SGD, ReduceLROnPlateau, class weights, keep-best)"
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
        let cfg = p.config.clone();
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
