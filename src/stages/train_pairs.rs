//! `train_pairs`: trains CNN-TS (or its base network) on the index pairs of a `pair_expand`
//! stage, gathering each mini-batch's series on the fly.
//!
//! A kind of its own rather than a `train` option: `train` fits one-input class models (the
//! `ModelSpec` family) on series, with class weights and a validation/test monitor; this one
//! fits a two-input, three-head network on pairs with per-output class coefficients, and
//! carries the representatives to inference. The optimiser, learning-rate schedule, keep-best,
//! checkpoints and the history file are the same as `train`'s, so `report` draws its curves.

use serde::{Deserialize, Serialize};

use super::artifact::{DATASET_FILE, read_dataset, write_json};
use super::kind::{Params, StageContext, StageError, TypedStage};
use super::pair_expand::PAIRS_FILE;
use super::params::StageParams;
use super::spec::{InputSpec, OutputSpec};
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

crate::stage_params! {
    /// Parameters of `train_pairs`.
    pub struct TrainPairsParams {
        /// the pair model, e.g. { model = "cnn_ts", intermediate_targets = false }
        pub model: PairModelSpec [Table = serde_json::json!({ "model": "cnn_ts" })],
        /// training epochs (ResNet-for-TSC: 1500)
        pub epochs: usize [Int = 1500],
        /// pairs per mini-batch (capped at the pair count)
        pub batch_size: usize [Int = 64],
        /// Adam learning rate
        pub lr: f64 [Float = 1e-3],
        /// Adam ε (Keras 1e-7)
        pub adam_epsilon: f64 [Float = 1e-7],
        /// ReduceLROnPlateau factor (ResNet-for-TSC: 0.5)
        pub lr_factor: f64 [Float = 0.5],
        /// ReduceLROnPlateau patience in epochs
        pub lr_patience: usize [Int = 50],
        /// ReduceLROnPlateau floor
        pub lr_min: f64 [Float = 1e-4],
        /// seed of initialisation and pair order
        pub seed: i64 [Int = 0],
        /// return the weights of the lowest training loss
        pub keep_best: bool [Bool = true],
        /// checkpoint period in epochs
        pub checkpoint_every: usize [Int = 50],
    }
}

/// Validates the `model` table and writes back its full form (one key per model).
fn canonical_model(p: &mut Params) -> Result<PairModelSpec, StageError> {
    let spec = TrainPairsParams::from_params(p)?.model;
    spec.cnn_ts().validate().map_err(model_err)?;
    let name = crate::param_name!(TrainPairsParams, model);
    let full = serde_json::to_value(&spec).map_err(|source| StageError::ParamValue { name: name.into(), source })?;
    p.0.insert(name.into(), full);
    Ok(spec)
}

fn config(p: &TrainPairsParams) -> TrainConfig {
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
        class_weights: false,
        seed: p.seed as u64,
        monitor: Monitor::TrainLoss,
        keep_best: p.keep_best,
        checkpoint_every: p.checkpoint_every,
        ..TrainConfig::default()
    }
}

impl TypedStage for TrainPairs {
    type Params = TrainPairsParams;
    fn resources(&self, _: &TrainPairsParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::TRAINING
    }
    fn name(&self) -> &'static str {
        "train_pairs"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "Trains CNN-TS / its base network on pair_expand's pairs (Adam, ReduceLROnPlateau, keep-best on training loss)"
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
    fn wants_accelerator(&self, _: &TrainPairsParams) -> bool {
        true
    }
    fn env_key(&self, _: &TrainPairsParams, device: &Device) -> Option<String> {
        Some(device.backend_id())
    }
    fn canonicalize(&self, p: &mut Params) -> Result<(), StageError> {
        canonical_model(p).map(|_| ())
    }
    fn run(&self, ctx: &StageContext<'_>, p: &TrainPairsParams) -> Result<(), StageError> {
        let spec = p.model.clone();
        spec.cnn_ts().validate().map_err(model_err)?;
        let cfg = config(p);
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
