//! `train_pairs`: trains CNN-TS (or its base network) on the index pairs of a `pair_expand`
//! stage, gathering each mini-batch's series on the fly.
//!
//! A kind of its own rather than a `train` option: `train` fits one-input class models (the
//! `ModelSpec` family) on series, with class weights and a validation/test monitor; this one
//! fits a two-input, three-head network on pairs with per-output class coefficients, and
//! carries the representatives to inference. The optimiser, learning-rate schedule, keep-best,
//! checkpoints and the history file are the same as `train`'s, so `report` draws its curves.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::artifact::{DATASET_FILE, read_dataset, write_json};
use super::kind::{Params, StageContext, StageError, StageKind};
use super::pair_expand::PAIRS_FILE;
use super::spec::{InputSpec, OutputSpec, ParamSpec, ParamType};
use super::train::{
    HISTORY_FILE, SUMMARY_FILE, WEIGHTS_FILE, append_history_csv, epoch_progress, model_err, train_context,
};
use crate::device::Device;
use crate::models::cnn_ts::CnnTsSpec;
use crate::models::pair_train::train_pairs;
use crate::models::{ModelShape, Monitor, PlateauConfig, TrainConfig};
use crate::pairs::{PairCounts, PairSet};

pub struct TrainPairs;

/// The pair models (a `model` tag, like `train`'s `ModelSpec`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum PairModelSpec {
    CnnTs(CnnTsSpec),
}

impl PairModelSpec {
    pub fn cnn_ts(&self) -> &CnnTsSpec {
        match self {
            PairModelSpec::CnnTs(s) => s,
        }
    }
}

/// What a trained pair model carries to `predict_pairs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairTrainSummary {
    pub spec: PairModelSpec,
    pub config: TrainConfig,
    pub shape: ModelShape,
    pub best_epoch: usize,
    pub best_loss: f64,
    pub digest: String,
    /// Indices of the representatives in the TRAIN split, and their classes.
    pub representatives: Vec<usize>,
    pub representative_classes: Vec<usize>,
    /// blake3 of the TRAIN split the model was trained on (inference checks it).
    pub train_digest: String,
    pub pair_counts: PairCounts,
    /// Class coefficients of O_m (different, same), O_1 and O_2.
    pub coefficients: [Vec<f64>; 3],
}

/// blake3 of a split's shape, values and labels.
pub fn split_digest(s: &crate::data::dataset::Split) -> String {
    let mut h = blake3::Hasher::new();
    for d in [s.n, s.dims, s.len] {
        h.update(&(d as u64).to_le_bytes());
    }
    for v in &s.values {
        h.update(&v.to_le_bytes());
    }
    for l in &s.labels {
        h.update(&(*l as u64).to_le_bytes());
    }
    h.finalize().to_hex().to_string()
}

fn canonical_model(p: &mut Params) -> Result<PairModelSpec, String> {
    let raw = p.get("model").cloned().unwrap_or(Json::Null);
    let spec: PairModelSpec = serde_json::from_value(raw).map_err(|e| format!("parameter `model`: {e}"))?;
    spec.cnn_ts().validate().map_err(|e| e.to_string())?;
    p.0.insert("model".into(), serde_json::to_value(&spec).map_err(|e| e.to_string())?);
    Ok(spec)
}

fn config(p: &Params) -> Result<TrainConfig, StageError> {
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
        class_weights: false,
        seed: p.i64("seed")? as u64,
        monitor: Monitor::TrainLoss,
        keep_best: p.bool("keep_best")?,
        checkpoint_every: p.usize("checkpoint_every")?,
        ..TrainConfig::default()
    })
}

impl StageKind for TrainPairs {
    fn name(&self) -> &'static str {
        "train_pairs"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Trains CNN-TS / its base network on pair_expand's pairs (Adam, ReduceLROnPlateau, keep-best on training loss)"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::with_default(
                "model",
                ParamType::Table,
                serde_json::json!({ "model": "cnn_ts" }),
                "the pair model, e.g. { model = \"cnn_ts\", intermediate_targets = false }",
            ),
            ParamSpec::with_default("epochs", ParamType::Int, 1500, "training epochs (ResNet-for-TSC: 1500)"),
            ParamSpec::with_default(
                "batch_size",
                ParamType::Int,
                64,
                "pairs per mini-batch (capped at the pair count)",
            ),
            ParamSpec::with_default("lr", ParamType::Float, 1e-3, "Adam learning rate"),
            ParamSpec::with_default("adam_epsilon", ParamType::Float, 1e-7, "Adam ε (Keras 1e-7)"),
            ParamSpec::with_default(
                "lr_factor",
                ParamType::Float,
                0.5,
                "ReduceLROnPlateau factor (ResNet-for-TSC: 0.5)",
            ),
            ParamSpec::with_default("lr_patience", ParamType::Int, 50, "ReduceLROnPlateau patience in epochs"),
            ParamSpec::with_default("lr_min", ParamType::Float, 1e-4, "ReduceLROnPlateau floor"),
            ParamSpec::with_default("seed", ParamType::Int, 0, "seed of initialisation and pair order"),
            ParamSpec::with_default(
                "keep_best",
                ParamType::Bool,
                true,
                "return the weights of the lowest training loss",
            ),
            ParamSpec::with_default("checkpoint_every", ParamType::Int, 50, "checkpoint period in epochs"),
        ]
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![
            InputSpec { name: "data", required: true, gather: false, doc: "the dataset the pairs were expanded from" },
            InputSpec { name: "pairs", required: true, gather: false, doc: "a pair_expand stage" },
        ]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::file(WEIGHTS_FILE, "the weights (burn record)"),
            OutputSpec::file(SUMMARY_FILE, "model spec, training config, representatives, pair counts, coefficients"),
            OutputSpec::file(HISTORY_FILE, "per-epoch loss, O_m pair accuracy, learning rate, seconds").volatile(),
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
        let cfg = config(&params)?;
        let data = read_dataset(ctx.input("data")?.file(DATASET_FILE)?)?;
        let ppath = ctx.input("pairs")?.file(PAIRS_FILE)?;
        let bytes = std::fs::read(ppath).map_err(|e| StageError::io(ppath, e))?;
        let pairs = PairSet::from_bytes(&bytes).map_err(|e| StageError::failed(format!("{}: {e}", ppath.display())))?;
        let tctx = train_context(ctx);
        let out = train_pairs(spec.cnn_ts(), &data.train, data.n_classes(), &pairs, &cfg, &tctx, |r| {
            epoch_progress(ctx, "", cfg.epochs, 0, r)
        })
        .map_err(model_err)?;
        ctx.write(WEIGHTS_FILE, &out.weights)?;
        let mut csv = Vec::new();
        append_history_csv(&out.history, Monitor::TrainLoss, &mut csv)?;
        ctx.write(HISTORY_FILE, csv)?;
        let representatives: Vec<usize> = pairs.partners.iter().map(|&j| j as usize).collect();
        let summary = PairTrainSummary {
            spec,
            config: cfg,
            shape: out.shape,
            best_epoch: out.best_epoch,
            best_loss: out.best_loss,
            digest: out.digest,
            representative_classes: representatives.iter().map(|&j| data.train.labels[j]).collect(),
            representatives,
            train_digest: split_digest(&data.train),
            pair_counts: pairs.counts(),
            coefficients: out.coefficients,
        };
        write_json(&ctx.output(SUMMARY_FILE), &summary)
    }
}
