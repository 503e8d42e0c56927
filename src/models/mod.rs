//! Deep-learning models (LSTM-FCN, ALSTM-FCN, and the zoo: FCN, ResNet, MLP, a plain 1D CNN,
//! the hybrid CNN-LSTM ± spatial attention, InceptionTime's and H-InceptionTime's network, LITE)
//! and their training loop, on burn 0.22.
//!
//! * [`ModelSpec`] — serde-deserialisable description of a model; every size is a field so an
//!   ablation is a config edit. [`ModelSpec::build`] is the factory.
//! * [`train::train`] — Adam + ReduceLROnPlateau + keep-best training with per-epoch callback,
//!   periodic checkpoints and bit-identical resume ([`checkpoint`]).
//! * [`finetune::finetune`] — the LSTM-FCN paper's fine-tuning phase.
//! * [`predict::predict`] — batched inference (probabilities, labels, attention weights).
//! * [`cnn_ts`], [`pair_train`] — CNN-TS (two inputs, intermediate targets) trained on index
//!   pairs ([`crate::pairs`]), and its inference over representatives.
//! * [`crate::device::Device`] — `cpu` (burn's `flex` backend), `cuda:N` (feature `cuda`) or `wgpu:N`
//!   (feature `wgpu`); [`probe`] lists what the machine has.
//!
//! Randomness never goes through burn's global RNG (flex keeps one process-wide generator, so
//! two trainings in parallel threads would interleave their draws): initial weights, shuffling
//! and dropout masks come from ChaCha8 streams derived from the run's seed, and every parameter
//! gets a deterministic [`ParamId`](burn::module::ParamId). Same seed → bit-identical weights.

pub mod attention_lstm;
pub mod checkpoint;
pub mod cnn1d;
pub mod cnn_ts;
pub mod conv_bn;
pub mod conv_gemm;
pub mod device;
pub mod ensemble;
mod epoch_loop;
pub mod fcn;
pub mod fcn_block;
pub mod finetune;
pub mod gemm;
pub mod handcrafted;
pub mod host_memory;
pub mod hybrid;
pub mod inception;
pub(crate) mod init;
pub mod layers;
pub mod lite;
pub mod lstm;
pub mod lstm_fcn;
pub mod mlp;
pub mod pair_train;
pub mod predict;
pub mod probe;
pub mod residual;
pub mod resnet;
pub mod step_bench;
pub mod train;

use burn::module::Module;
use burn::store::{ModuleRecord, ModuleSnapshot, SafetensorsStore};
use burn::tensor::{Bytes, Device, Tensor};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use cnn1d::{Cnn1d, Cnn1dSpec};
pub use fcn::{Fcn, FcnSpec};
pub use finetune::{FinetuneConfig, FinetuneOutcome, IterationResult, finetune, finetune_schedule};
pub use host_memory::tune_host_allocator;
pub use hybrid::{Hybrid, HybridSpec};
pub use inception::{InceptionNet, InceptionSpec};
pub use lite::{Lite, LiteSpec};
pub use lstm_fcn::LstmFcn;
pub use mlp::{Mlp, MlpSpec};
pub use predict::{Predictions, predict};
pub use resnet::{Resnet, ResnetSpec};
pub use train::{
    EpochRecord, Monitor, Optimizer, PlateauConfig, TrainConfig, TrainContext, TrainOutcome, evaluate, train,
    write_history_csv,
};

/// Errors of the model stages.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("invalid model spec: {0}")]
    InvalidSpec(String),
    #[error("invalid training configuration: {0}")]
    InvalidConfig(String),
    #[error("data does not fit the model: {0}")]
    InvalidData(String),
    #[error("device: {0}")]
    Device(String),
    #[error("weights: {0}")]
    Weights(String),
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("training cancelled")]
    Cancelled,
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// Activation of the attention energy `act(h_{t-1} W_ah + x_j U_a + b_a) · b_ra`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnergyActivation {
    /// What the original Keras code (`titu1994/LSTM-FCN`, `AttentionLSTM`) uses.
    #[default]
    Tanh,
    /// What the reproduction report's eq. 7 writes.
    HardSigmoid,
}

/// Activation of the LSTM's input/forget/output gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateActivation {
    /// Keras 2.0–2.2 default (`clip(0.2x + 0.5, 0, 1)`), used by the original code for both the
    /// plain and the attention LSTM, and by the report's eqs. 10–13.
    #[default]
    HardSigmoid,
    /// The logistic sigmoid (PyTorch, Keras ≥ 2.3, report eqs. 1–6).
    Sigmoid,
}

/// LSTM-FCN / ALSTM-FCN hyper-parameters (SPEC §2). Defaults are the paper's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LstmFcnSpec {
    /// Filters of the FCN convolutions (paper: 128, 256, 128).
    pub filters: Vec<usize>,
    /// Kernel sizes of the FCN convolutions, one per filter entry (paper: 8, 5, 3).
    pub kernels: Vec<usize>,
    /// LSTM cells (paper searches 8, 64, 128).
    pub cells: usize,
    /// Dropout rate after the LSTM (paper: 0.8 — i.e. 80 % of the units are dropped).
    pub dropout: f64,
    /// Whether the LSTM branch exists (false = FCN alone, an ablation).
    pub lstm: bool,
    /// Attention LSTM (ALSTM-FCN) instead of the plain LSTM.
    pub attention: bool,
    /// Activation of the attention energy.
    pub attention_activation: EnergyActivation,
    /// Gate activation of the (attention) LSTM.
    pub gate_activation: GateActivation,
    /// BatchNorm momentum in the Keras convention (`running = m·running + (1-m)·batch`).
    pub bn_momentum: f64,
    /// BatchNorm epsilon.
    pub bn_epsilon: f64,
    /// Forget-gate bias initialised to 1 (Keras `unit_forget_bias`).
    pub unit_forget_bias: bool,
}

impl Default for LstmFcnSpec {
    fn default() -> Self {
        Self {
            filters: vec![128, 256, 128],
            kernels: vec![8, 5, 3],
            cells: 8,
            dropout: 0.8,
            lstm: true,
            attention: false,
            attention_activation: EnergyActivation::Tanh,
            gate_activation: GateActivation::HardSigmoid,
            bn_momentum: 0.99,
            bn_epsilon: 1e-3,
            unit_forget_bias: true,
        }
    }
}

impl LstmFcnSpec {
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ModelError::InvalidSpec(m));
        if self.filters.is_empty() {
            return bad("at least one convolution is needed (filters is empty)".into());
        }
        if self.filters.len() != self.kernels.len() {
            return bad(format!(
                "filters ({}) and kernels ({}) must have the same length",
                self.filters.len(),
                self.kernels.len()
            ));
        }
        if self.filters.contains(&0) || self.kernels.contains(&0) {
            return bad("filters and kernels must be positive".into());
        }
        if self.lstm && self.cells == 0 {
            return bad("cells must be positive when the LSTM branch exists".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        if !(0.0..=1.0).contains(&self.bn_momentum) {
            return bad(format!("bn_momentum must be in [0, 1], got {}", self.bn_momentum));
        }
        if !(self.bn_epsilon > 0.0 && self.bn_epsilon.is_finite()) {
            return bad(format!("bn_epsilon must be positive, got {}", self.bn_epsilon));
        }
        if self.attention && !self.lstm {
            return bad("attention requires the LSTM branch (lstm = true)".into());
        }
        Ok(())
    }
}

/// A model description. Serialised with a `model` tag, e.g.
/// `{"model": "alstm_fcn", "cells": 64}`; omitted fields take the paper's values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum ModelSpec {
    /// LSTM-FCN (its `attention` field may switch the attention LSTM on, for ablations).
    LstmFcn(LstmFcnSpec),
    /// ALSTM-FCN: the same fields, attention always on.
    AlstmFcn(LstmFcnSpec),
    /// FCN of Wang et al. 2017.
    Fcn(FcnSpec),
    /// ResNet of Wang et al. 2017.
    Resnet(ResnetSpec),
    /// MLP of Wang et al. 2017.
    Mlp(MlpSpec),
    /// The write-up's plain 1D CNN.
    Cnn1d(Cnn1dSpec),
    /// The write-up's hybrid CNN-LSTM (spatial attention unless `attention = false`).
    Hybrid(HybridSpec),
    /// InceptionTime's network (Ismail Fawaz et al. 2020); `hybrid = true` is H-InceptionTime's.
    InceptionTime(InceptionSpec),
    /// LITE, LITETime's network (Ismail-Fawaz et al. 2023).
    Lite(LiteSpec),
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec::LstmFcn(LstmFcnSpec::default())
    }
}

impl ModelSpec {
    /// ALSTM-FCN with the paper's defaults.
    pub fn alstm_fcn() -> Self {
        ModelSpec::AlstmFcn(LstmFcnSpec::default())
    }

    /// Short name, the serde tag: `lstm_fcn`, `alstm_fcn`, `fcn`, `resnet`, `mlp`, `cnn1d`, `hybrid`,
    /// `inception_time`, `lite`.
    pub fn name(&self) -> &'static str {
        match self {
            ModelSpec::LstmFcn(_) => "lstm_fcn",
            ModelSpec::AlstmFcn(_) => "alstm_fcn",
            ModelSpec::Fcn(_) => "fcn",
            ModelSpec::Resnet(_) => "resnet",
            ModelSpec::Mlp(_) => "mlp",
            ModelSpec::Cnn1d(_) => "cnn1d",
            ModelSpec::Hybrid(_) => "hybrid",
            ModelSpec::InceptionTime(_) => "inception_time",
            ModelSpec::Lite(_) => "lite",
        }
    }

    /// The effective LSTM-FCN hyper-parameters (attention forced on for `AlstmFcn`); `None`
    /// for the other models.
    pub fn lstm_fcn_spec(&self) -> Option<LstmFcnSpec> {
        match self {
            ModelSpec::LstmFcn(s) => Some(s.clone()),
            ModelSpec::AlstmFcn(s) => Some(LstmFcnSpec { attention: true, ..s.clone() }),
            _ => None,
        }
    }

    pub fn validate(&self) -> Result<()> {
        match self {
            ModelSpec::LstmFcn(_) | ModelSpec::AlstmFcn(_) => self.lstm_fcn_spec().map_or(Ok(()), |s| s.validate()),
            ModelSpec::Fcn(s) => s.validate(),
            ModelSpec::Resnet(s) => s.validate(),
            ModelSpec::Mlp(s) => s.validate(),
            ModelSpec::Cnn1d(s) => s.validate(),
            ModelSpec::Hybrid(s) => s.validate(),
            ModelSpec::InceptionTime(s) => s.validate(),
            ModelSpec::Lite(s) => s.validate(),
        }
    }

    /// Whether inference returns attention weights.
    pub fn has_attention(&self) -> bool {
        match self {
            ModelSpec::Hybrid(s) => s.attention,
            _ => self.lstm_fcn_spec().is_some_and(|s| s.lstm && s.attention),
        }
    }

    /// What the attention weights are over: `"channels"` (ALSTM-FCN: `[B, C, C]`, steps are the
    /// input's channels after the dimension shuffle) or `"time"` (hybrid: `[B, 1, S]` over the
    /// pooled time steps); `None` without attention.
    pub fn attention_axis(&self) -> Option<&'static str> {
        match self {
            ModelSpec::Hybrid(s) if s.attention => Some("time"),
            _ if self.has_attention() => Some("channels"),
            _ => None,
        }
    }

    /// Builds a freshly initialised model on `device` (an autodiff device for training).
    /// Initialisation depends only on `seed`.
    pub fn build(&self, shape: ModelShape, seed: u64, device: &Device) -> Result<Model> {
        self.validate()?;
        shape.validate()?;
        let mut init = init::Init::new(seed, device);
        Ok(match self {
            ModelSpec::LstmFcn(s) => Model::LstmFcn(LstmFcn::new(s, shape, &mut init)),
            ModelSpec::AlstmFcn(s) => {
                Model::LstmFcn(LstmFcn::new(&LstmFcnSpec { attention: true, ..s.clone() }, shape, &mut init))
            }
            ModelSpec::Fcn(s) => Model::Fcn(Fcn::new(s, shape, &mut init)),
            ModelSpec::Resnet(s) => Model::Resnet(Resnet::new(s, shape, &mut init)),
            ModelSpec::Mlp(s) => Model::Mlp(Mlp::new(s, shape, &mut init)),
            ModelSpec::Cnn1d(s) => {
                s.check_shape(shape)?;
                Model::Cnn1d(Cnn1d::new(s, shape, &mut init))
            }
            ModelSpec::Hybrid(s) => {
                s.check_shape(shape)?;
                Model::Hybrid(Hybrid::new(s, shape, &mut init))
            }
            ModelSpec::InceptionTime(s) => Model::Inception(InceptionNet::new(s, shape, &mut init)),
            ModelSpec::Lite(s) => Model::Lite(Lite::new(s, shape, &mut init)),
        })
    }

    /// Builds the model and loads weights produced by [`weights_bytes`] (or a training run).
    pub fn load(&self, shape: ModelShape, weights: &[u8], device: &Device) -> Result<Model> {
        let model = self.build(shape, 0, device)?;
        load_weights(model, weights)
    }
}

/// Input/output sizes a model is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelShape {
    /// Channels (dimensions) C of the `(B, C, T)` input.
    pub dims: usize,
    /// Series length T.
    pub len: usize,
    /// Number of classes K.
    pub classes: usize,
}

impl ModelShape {
    pub fn validate(&self) -> Result<()> {
        if self.dims == 0 || self.len == 0 {
            return Err(ModelError::InvalidData(format!("empty input shape (dims {}, len {})", self.dims, self.len)));
        }
        if self.classes < 2 {
            return Err(ModelError::InvalidData(format!("at least 2 classes are needed, got {}", self.classes)));
        }
        Ok(())
    }
}

/// Result of a forward pass.
#[derive(Debug, Clone)]
pub struct ModelOutput {
    /// Unnormalised class scores `[B, K]` (softmax gives the probabilities).
    pub logits: Tensor<2>,
    /// Attention weights `[B, rows, steps]`, each row a distribution over `steps`, for attention
    /// models: ALSTM-FCN `[B, C, C]` (`[b, t, j]` = weight of input step `j` when the attention
    /// LSTM computes step `t`); the hybrid `[B, 1, S]` (weight of pooled time step `j`).
    pub attention: Option<Tensor<3>>,
    /// What the final dense layer sees `[B, F]` (pooled features; for feature export / t-SNE).
    pub features: Tensor<2>,
}

/// Every model of this module (an enum, so the training loop is shared).
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant, reason = "burn's Module derive does not accept Box; one value per model")]
pub enum Model {
    LstmFcn(LstmFcn),
    Fcn(Fcn),
    Resnet(Resnet),
    Mlp(Mlp),
    Cnn1d(Cnn1d),
    Hybrid(Hybrid),
    Inception(InceptionNet),
    Lite(Lite),
}

impl Model {
    /// Forward pass on `(B, C, T)`. `dropout_rng` = `Some` in training (dropout masks are drawn
    /// from it on the host), `None` for inference.
    pub fn forward(&self, x: Tensor<3>, dropout_rng: Option<&mut ChaCha8Rng>) -> ModelOutput {
        match self {
            Model::LstmFcn(m) => m.forward(x, dropout_rng),
            Model::Fcn(m) => m.forward(x),
            Model::Resnet(m) => m.forward(x),
            Model::Mlp(m) => m.forward(x, dropout_rng),
            Model::Cnn1d(m) => m.forward(x),
            Model::Hybrid(m) => m.forward(x),
            Model::Inception(m) => m.forward(x),
            Model::Lite(m) => m.forward(x),
        }
    }

    /// The architecture's name (`lstm_fcn` covers ALSTM-FCN too).
    pub fn name(&self) -> &'static str {
        match self {
            Model::LstmFcn(_) => "lstm_fcn",
            Model::Fcn(_) => "fcn",
            Model::Resnet(_) => "resnet",
            Model::Mlp(_) => "mlp",
            Model::Cnn1d(_) => "cnn1d",
            Model::Hybrid(_) => "hybrid",
            Model::Inception(_) => "inception_time",
            Model::Lite(_) => "lite",
        }
    }

    pub fn shape(&self) -> ModelShape {
        match self {
            Model::LstmFcn(m) => m.shape(),
            Model::Fcn(m) => m.shape(),
            Model::Resnet(m) => m.shape(),
            Model::Mlp(m) => m.shape(),
            Model::Cnn1d(m) => m.shape(),
            Model::Hybrid(m) => m.shape(),
            Model::Inception(m) => m.shape(),
            Model::Lite(m) => m.shape(),
        }
    }

    /// Trainable parameters (what Keras' `count_params` calls trainable: BatchNorm's running
    /// statistics and the hand-crafted filters are constants, not parameters).
    pub fn trainable_params(&self) -> usize {
        let mut v = TrainableCount::default();
        self.visit(&mut v);
        v.count
    }
}

/// Counts parameter elements outside BatchNorm's running statistics (burn's `num_params` visits
/// those too, as parameters of the `running_mean` / `running_var` fields).
#[derive(Default)]
struct TrainableCount {
    path: Vec<String>,
    count: usize,
}

impl burn::module::ModuleVisitor for TrainableCount {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        if !self.path.last().is_some_and(|n| n.starts_with("running_")) {
            self.count += param.lazy_shape().num_elements();
        }
    }
}

/// Full-precision burn record of the model (burnpack bytes, parameter paths and ids included).
/// BatchNorm running statistics are synchronised first.
pub fn weights_bytes(model: &Model) -> Result<Vec<u8>> {
    let bytes = model.valid().into_record().into_bytes().map_err(|e| ModelError::Weights(e.to_string()))?;
    Ok(bytes.to_vec())
}

/// Loads [`weights_bytes`] output into a model of the same spec and shape.
pub fn load_weights(model: Model, weights: &[u8]) -> Result<Model> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights.to_vec()))
        .map_err(|e| ModelError::Weights(e.to_string()))?;
    model.try_load_record(record).map_err(|e| ModelError::Weights(e.to_string()))
}

/// SafeTensors export of the model's tensors (named by module path, e.g.
/// `fcn.convs.0.weight`), for use outside burn.
pub fn safetensors_bytes(model: &Model) -> Result<Vec<u8>> {
    let mut store = SafetensorsStore::from_bytes(None).metadata("tscpipe_model", model.name()).skip_enum_variants(true);
    model.valid().save_into(&mut store).map_err(|e| ModelError::Weights(e.to_string()))?;
    let bytes = store.get_bytes().map_err(|e| ModelError::Weights(e.to_string()))?;
    canonical_safetensors(&bytes)
}

/// Rewrites a SafeTensors header with sorted keys: burn-store writes its metadata from a
/// `HashMap`, so the same tensors would otherwise give different bytes (and digests) run to run.
/// Tensor offsets are relative to the data section, so only the header changes.
fn canonical_safetensors(bytes: &[u8]) -> Result<Vec<u8>> {
    let bad = |why: &str| ModelError::Weights(format!("safetensors export: {why}"));
    let len_bytes: [u8; 8] = bytes.get(..8).and_then(|b| b.try_into().ok()).ok_or_else(|| bad("too short"))?;
    let header_len = usize::try_from(u64::from_le_bytes(len_bytes)).map_err(|_| bad("header length"))?;
    let header = bytes.get(8..8 + header_len).ok_or_else(|| bad("truncated header"))?;
    let json: serde_json::Value = serde_json::from_slice(header).map_err(|e| bad(&e.to_string()))?;
    let mut canonical = crate::cache::key::canonical_json(&json).into_bytes();
    // The format asks for the data section to start 8-byte aligned; pad with spaces as it does.
    while !(8 + canonical.len()).is_multiple_of(8) {
        canonical.push(b' ');
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&(canonical.len() as u64).to_le_bytes());
    out.extend_from_slice(&canonical);
    out.extend_from_slice(&bytes[8 + header_len..]);
    Ok(out)
}

/// blake3 hex digest of [`weights_bytes`].
pub fn weights_digest(weights: &[u8]) -> String {
    blake3::hash(weights).to_hex().to_string()
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod zoo_tests;
