//! `train`: phase-1 training of a deep model (any [`ModelSpec`] kind) with Adam (or SGD),
//! ReduceLROnPlateau, class weights and keep-best; resumable from periodic checkpoints.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::artifact::{DATASET_FILE, read_dataset, write_json};
use super::kind::{Params, StageContext, StageError, StageKind};
use super::spec::{InputSpec, OutputSpec, ParamSpec, ParamType};
use crate::device::Device;
use crate::models::{
    DeviceSpec, EpochRecord, ModelShape, ModelSpec, Monitor, Optimizer, PlateauConfig, TrainConfig, TrainContext,
    write_history_csv,
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

/// The training parameters shared by `train` and `finetune`.
pub fn train_params() -> Vec<ParamSpec> {
    vec![
        ParamSpec::required("model", ParamType::Table, "the model, e.g. { model = \"lstm_fcn\", cells = 8 }"),
        ParamSpec::with_default("epochs", ParamType::Int, 2000, "training epochs"),
        ParamSpec::with_default("batch_size", ParamType::Int, 128, "mini-batch size (capped at N)"),
        ParamSpec::with_default("lr", ParamType::Float, 1e-3, "learning rate"),
        // optional (no written-out default), so the cache keys of existing Adam runs stay the same
        ParamSpec::optional("optimizer", ParamType::Enum(OPTIMIZERS), "adam (when absent) or sgd"),
        ParamSpec::optional("momentum", ParamType::Float, "SGD momentum in [0, 1), no dampening (0 when absent)"),
        ParamSpec::with_default("adam_epsilon", ParamType::Float, 1e-7, "Adam ε (Keras 1e-7; burn's default is 1e-5)"),
        ParamSpec::with_default("lr_factor", ParamType::Float, 1.0 / 2f64.cbrt(), "ReduceLROnPlateau factor (1/∛2)"),
        ParamSpec::with_default("lr_patience", ParamType::Int, 100, "ReduceLROnPlateau patience in epochs"),
        ParamSpec::with_default("lr_min", ParamType::Float, 1e-4, "ReduceLROnPlateau floor"),
        ParamSpec::with_default("class_weights", ParamType::Bool, true, "weight the loss by n / (K·n_c)"),
        ParamSpec::with_default("seed", ParamType::Int, 0, "seed of initialisation, shuffling and dropout"),
        ParamSpec::with_default(
            "monitor",
            ParamType::Enum(MONITORS),
            "train_loss",
            "what keep-best and the LR schedule watch: train_loss, validation (needs a split stage), or test (the paper's protocol)",
        ),
        ParamSpec::with_default("keep_best", ParamType::Bool, true, "return the best weights by the monitored loss"),
        ParamSpec::with_default(
            "checkpoint_every",
            ParamType::Int,
            50,
            "checkpoint period in epochs (resume after a kill)",
        ),
    ]
}

/// Parses and validates the `model` table; writing back its full form makes
/// `{ model = "lstm_fcn" }` and the same with every default spelled out one cache key.
pub fn canonical_model(p: &mut Params) -> Result<ModelSpec, String> {
    let raw = p.get("model").cloned().unwrap_or(Json::Null);
    let spec: ModelSpec = serde_json::from_value(raw).map_err(|e| format!("parameter `model`: {e}"))?;
    spec.validate().map_err(|e| e.to_string())?;
    p.0.insert("model".into(), serde_json::to_value(&spec).map_err(|e| e.to_string())?);
    Ok(spec)
}

pub fn train_config(p: &Params) -> Result<TrainConfig, StageError> {
    let monitor = match p.str("monitor")? {
        "validation" => Monitor::Validation,
        "test" => Monitor::Test,
        _ => Monitor::TrainLoss,
    };
    Ok(TrainConfig {
        epochs: p.usize("epochs")?,
        batch_size: p.usize("batch_size")?,
        learning_rate: p.f64("lr")?,
        adam_epsilon: p.f64("adam_epsilon")?,
        plateau: PlateauConfig {
            factor: p.f64("lr_factor")?,
            patience: p.usize("lr_patience")?,
            min_lr: p.f64("lr_min")?,
            ..PlateauConfig::default()
        },
        class_weights: p.bool("class_weights")?,
        seed: p.i64("seed")? as u64,
        monitor,
        keep_best: p.bool("keep_best")?,
        checkpoint_every: p.usize("checkpoint_every")?,
        optimizer: match p.opt_str("optimizer") {
            Some("sgd") => Optimizer::Sgd,
            _ => Optimizer::Adam,
        },
        momentum: if p.get("momentum").is_some() { p.f64("momentum")? } else { 0.0 },
        ..TrainConfig::default()
    })
}

pub fn device_spec(d: &Device) -> DeviceSpec {
    match d {
        Device::Cpu => DeviceSpec::Cpu,
        Device::Cuda(i) => DeviceSpec::Cuda(*i),
    }
}

/// Where a training stage trains: the instance's device, with periodic checkpoints in its
/// checkpoint folder (resumed after a kill), from a fresh initialisation.
pub fn train_context<'a>(ctx: &'a StageContext<'_>) -> TrainContext<'a> {
    TrainContext { device: device_spec(ctx.device), checkpoint_dir: Some(ctx.checkpoint_dir), initial_weights: None }
}

/// Appends a per-epoch history as CSV (the `history.csv` every training stage writes).
pub fn append_history_csv(history: &[EpochRecord], monitor: Monitor, csv: &mut Vec<u8>) -> Result<(), StageError> {
    write_history_csv(history, monitor, csv).map_err(|e| StageError::failed(e.to_string()))
}

pub fn model_err(e: crate::models::ModelError) -> StageError {
    match e {
        crate::models::ModelError::Cancelled => StageError::Cancelled,
        other => StageError::failed(other.to_string()),
    }
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

impl StageKind for Train {
    fn name(&self) -> &'static str {
        "train"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Phase-1 training of a deep model: LSTM-FCN, ALSTM-FCN, FCN, ResNet, MLP, 1D CNN, hybrid CNN-LSTM (Adam or SGD, ReduceLROnPlateau, class weights, keep-best)"
    }
    fn params(&self) -> Vec<ParamSpec> {
        train_params()
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
        ]
    }
    fn wants_accelerator(&self, _: &Params) -> bool {
        true
    }
    fn env_key(&self, _: &Params, device: &Device) -> Option<String> {
        Some(device.backend_id())
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), String> {
        canonical_model(p).map(|_| ())
    }
    fn run(&self, ctx: &StageContext<'_>) -> Result<(), StageError> {
        let mut params = ctx.params.clone();
        let spec = canonical_model(&mut params).map_err(StageError::failed)?;
        let cfg = train_config(&params)?;
        let data = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        if cfg.monitor == Monitor::Validation && data.validation.is_none() {
            return Err(StageError::failed(
                "monitor = \"validation\" needs a dataset with a validation split (a `split` stage upstream)",
            ));
        }
        let tctx = train_context(ctx);
        let out = crate::models::train(&spec, &data, &cfg, &tctx, |r| epoch_progress(ctx, "", cfg.epochs, 0, r))
            .map_err(model_err)?;
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
