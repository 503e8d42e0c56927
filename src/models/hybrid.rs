//! The write-up's hybrid CNN-LSTM with spatial attention (SPEC §4), and the variant without
//! attention as `attention = false`:
//!
//! ```text
//! x (B, C, T) ─ Conv1D(C→16, k3) ─ ReLU ─ MaxPool(pool) ─ Conv1D(16→32, k3) ─ ReLU ─ AdaptiveMaxPool(S)
//!   ─ [spatial attention: 1×1 Conv1D(32→1) ─ softmax over the S steps ─ × features]
//!   ─ S steps of 32 features ─ LSTM(8) ─ last hidden state ─ Linear ─ softmax
//! ```
//!
//! With attention the write-up uses MaxPool(1) (no pooling) and S = 16; without it MaxPool(2)
//! and S = 10 (stdlib `hybrid_cnn_lstm.toml`). Its LSTM is PyTorch's: logistic gates, zero
//! forget bias. The attention weights (`[B, 1, S]`, one distribution over the pooled steps per
//! series) come out in [`ModelOutput::attention`].

use burn::module::Module;
use burn::nn::PaddingConfig1d;
use burn::nn::conv::Conv1d;
use burn::nn::pool::{MaxPool1d, MaxPool1dConfig};
use burn::tensor::Tensor;
use burn::tensor::activation::{relu, softmax};
use serde::{Deserialize, Serialize};

use super::conv_gemm::conv_same;
use super::init::Init;
use super::layers::{Dense, adaptive_max_pool1d, conv1d};
use super::lstm::Lstm;
use super::{GateActivation, ModelError, ModelOutput, ModelShape, Result};

/// Hybrid CNN-LSTM hyper-parameters; defaults are the write-up's attention model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HybridSpec {
    /// Filters of the convolutions (write-up: 16, 32).
    pub filters: Vec<usize>,
    /// Kernel size of every convolution ("same" padding; the write-up's k 3, padding 1).
    pub kernel: usize,
    /// Max-pooling window and stride between convolutions (write-up: 1 with attention, 2 without).
    pub pool: usize,
    /// Steps S after the adaptive max pooling (write-up: 16 with attention, 10 without).
    pub adaptive_pool: usize,
    /// LSTM hidden size (write-up: 8, one layer).
    pub cells: usize,
    /// Spatial attention between the CNN and the LSTM.
    pub attention: bool,
    /// LSTM gate activation (PyTorch: the logistic sigmoid).
    pub gate_activation: GateActivation,
    /// Forget-gate bias initialised to 1 (Keras); PyTorch initialises it like the others.
    pub unit_forget_bias: bool,
}

impl Default for HybridSpec {
    fn default() -> Self {
        Self {
            filters: vec![16, 32],
            kernel: 3,
            pool: 1,
            adaptive_pool: 16,
            cells: 8,
            attention: true,
            gate_activation: GateActivation::Sigmoid,
            unit_forget_bias: false,
        }
    }
}

impl HybridSpec {
    /// The write-up's model without attention.
    pub fn without_attention() -> Self {
        Self { pool: 2, adaptive_pool: 10, attention: false, ..Self::default() }
    }

    pub fn validate(&self) -> Result<()> {
        if self.filters.is_empty() || self.filters.contains(&0) {
            return Err(ModelError::InvalidSpec(format!(
                "hybrid: filters must be a non-empty list of positive sizes, got {:?}",
                self.filters
            )));
        }
        if self.kernel == 0 || self.pool == 0 || self.adaptive_pool == 0 || self.cells == 0 {
            return Err(ModelError::InvalidSpec(format!(
                "hybrid: kernel ({}), pool ({}), adaptive_pool ({}) and cells ({}) must be positive",
                self.kernel, self.pool, self.adaptive_pool, self.cells
            )));
        }
        Ok(())
    }

    /// The series must survive the poolings between convolutions with at least one step.
    pub fn check_shape(&self, shape: ModelShape) -> Result<()> {
        let min = self.pool.pow(self.filters.len().saturating_sub(1) as u32);
        if shape.len < min {
            return Err(ModelError::InvalidData(format!(
                "hybrid: {} poolings of {} need series of at least {min} steps, got {}",
                self.filters.len() - 1,
                self.pool,
                shape.len
            )));
        }
        Ok(())
    }
}

#[derive(Module, Debug)]
pub struct Hybrid {
    pub convs: Vec<Conv1d>,
    pub pool: MaxPool1d,
    pub adaptive_pool: usize,
    /// The spatial attention's 1×1 convolution to one channel.
    pub attention: Option<Conv1d>,
    pub lstm: Lstm,
    pub head: Dense,
    pub dims: usize,
    pub len: usize,
    pub classes: usize,
}

impl Hybrid {
    pub(crate) fn new(spec: &HybridSpec, shape: ModelShape, init: &mut Init) -> Self {
        let mut cin = shape.dims;
        let mut convs = Vec::with_capacity(spec.filters.len());
        for &cout in &spec.filters {
            convs.push(conv1d(init, cin, cout, spec.kernel, PaddingConfig1d::Same));
            cin = cout;
        }
        let attention = spec.attention.then(|| conv1d(init, cin, 1, 1, PaddingConfig1d::Valid));
        let lstm = Lstm::new(cin, spec.cells, spec.gate_activation, spec.unit_forget_bias, init);
        let head = Dense::new(init, spec.cells, shape.classes);
        Self {
            convs,
            pool: MaxPool1dConfig::new(spec.pool).init(),
            adaptive_pool: spec.adaptive_pool,
            attention,
            lstm,
            head,
            dims: shape.dims,
            len: shape.len,
            classes: shape.classes,
        }
    }

    pub fn shape(&self) -> ModelShape {
        ModelShape { dims: self.dims, len: self.len, classes: self.classes }
    }

    /// CNN features `(B, F, S)` before the attention.
    pub fn features(&self, x: Tensor<3>) -> Tensor<3> {
        let last = self.convs.len() - 1;
        let mut y = x;
        for (i, conv) in self.convs.iter().enumerate() {
            y = relu(conv_same(conv, y));
            y = if i < last { self.pool.forward(y) } else { adaptive_max_pool1d(y, self.adaptive_pool) };
        }
        y
    }

    pub fn forward(&self, x: Tensor<3>) -> ModelOutput {
        let y = self.features(x);
        let (y, weights) = match &self.attention {
            Some(conv) => {
                // [B, 1, S]: one distribution over the pooled steps per series, shared by all channels
                let w = softmax(conv.forward(y.clone()), 2);
                (y * w.clone(), Some(w))
            }
            None => (y, None),
        };
        let h = self.lstm.forward(y.swap_dims(1, 2));
        ModelOutput { logits: self.head.forward(h.clone()), attention: weights, features: h }
    }
}
