//! LSTM-FCN and ALSTM-FCN (Karim et al. 2018).
//!
//! ```text
//! x (B, C, T) ─┬─ FCN block (conv 8/5/3, BN, ReLU) ── GAP ───────────── (B, F)  ─┐
//!              └─ dimension shuffle: C steps of T features ─ (A)LSTM ─ dropout (B, K) ─┴─ concat ─ dense ─ softmax
//! ```
//!
//! The dimension shuffle needs no data movement: burn's batch-first LSTM input is
//! `[B, steps, features]`, and the `(B, C, T)` tensor read that way is C steps of T features
//! (a univariate series is one step of T features).

use burn::module::{Module, Param};
use burn::tensor::{Tensor, TensorData};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::attention_lstm::AttentionLstm;
use super::fcn_block::FcnBlock;
use super::init::Init;
use super::lstm::Lstm;
use super::{LstmFcnSpec, ModelOutput, ModelShape};

/// The recurrent branch: a plain LSTM or the attention LSTM.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant, reason = "burn's Module derive does not accept Box; one value per model")]
pub enum Recurrent {
    Lstm(Lstm),
    Attention(AttentionLstm),
}

#[derive(Module, Debug)]
pub struct LstmFcn {
    pub fcn: FcnBlock,
    pub recurrent: Option<Recurrent>,
    /// Dense layer `[F + K, classes]` (Glorot-uniform) and its bias.
    pub head_weight: Param<Tensor<2>>,
    pub head_bias: Param<Tensor<1>>,
    /// Dropout rate after the LSTM.
    pub dropout: f64,
    pub dims: usize,
    pub len: usize,
    pub classes: usize,
}

impl LstmFcn {
    pub(crate) fn new(spec: &LstmFcnSpec, shape: ModelShape, init: &mut Init) -> Self {
        let fcn = FcnBlock::new(shape.dims, &spec.filters, &spec.kernels, spec.bn_momentum, spec.bn_epsilon, init);
        let recurrent = match (spec.lstm, spec.attention) {
            (false, _) => None,
            (true, false) => Some(Recurrent::Lstm(Lstm::new(
                shape.len,
                spec.cells,
                spec.gate_activation,
                spec.unit_forget_bias,
                init,
            ))),
            (true, true) => Some(Recurrent::Attention(AttentionLstm::new(
                shape.len,
                spec.cells,
                spec.gate_activation,
                spec.attention_activation,
                spec.unit_forget_bias,
                init,
            ))),
        };
        let features = fcn.out_channels() + if spec.lstm { spec.cells } else { 0 };
        let head_weight = init.glorot_uniform([features, shape.classes], features, shape.classes);
        let head_bias = init.constant(0.0, [shape.classes]);
        Self {
            fcn,
            recurrent,
            head_weight,
            head_bias,
            dropout: spec.dropout,
            dims: shape.dims,
            len: shape.len,
            classes: shape.classes,
        }
    }

    pub fn shape(&self) -> ModelShape {
        ModelShape { dims: self.dims, len: self.len, classes: self.classes }
    }

    /// The dimension shuffle: what the LSTM branch sees for an input `(B, C, T)` —
    /// `[B, steps = C, features = T]`, the same memory read as C steps of T features.
    pub fn shuffle(x: Tensor<3>) -> Tensor<3> {
        x
    }

    /// Output of the recurrent branch before dropout (`[B, cells]`) and the attention weights.
    pub fn recurrent_features(&self, x: Tensor<3>) -> Option<(Tensor<2>, Option<Tensor<3>>)> {
        let seq = Self::shuffle(x);
        self.recurrent.as_ref().map(|r| match r {
            Recurrent::Lstm(l) => (l.forward(seq), None),
            Recurrent::Attention(a) => {
                let (h, alpha) = a.forward(seq);
                (h, Some(alpha))
            }
        })
    }

    /// Forward pass; dropout is applied (inverted, mask drawn from `dropout_rng`) only when
    /// `dropout_rng` is given.
    pub fn forward(&self, x: Tensor<3>, dropout_rng: Option<&mut ChaCha8Rng>) -> ModelOutput {
        let [b, _, _] = x.dims();
        let pooled = self.fcn.forward_pooled(x.clone());
        let (features, attention) = match self.recurrent_features(x) {
            None => (pooled, None),
            Some((h, attention)) => {
                let h = match dropout_rng {
                    Some(rng) if self.dropout > 0.0 => {
                        let [_, k] = h.dims();
                        h * dropout_mask(rng, b, k, self.dropout, &pooled.device())
                    }
                    _ => h,
                };
                (Tensor::cat(vec![pooled, h], 1), attention)
            }
        };
        let logits = features.clone().matmul(self.head_weight.val()).add(self.head_bias.val().unsqueeze::<2>());
        ModelOutput { logits, attention, features }
    }
}

/// Inverted-dropout mask `[b, k]`: 0 with probability `rate`, else `1 / (1 - rate)`.
fn dropout_mask(rng: &mut ChaCha8Rng, b: usize, k: usize, rate: f64, device: &burn::tensor::Device) -> Tensor<2> {
    let keep = 1.0 - rate;
    let scale = (1.0 / keep) as f32;
    let values: Vec<f32> = (0..b * k).map(|_| if rng.random::<f64>() < keep { scale } else { 0.0 }).collect();
    Tensor::from_data(TensorData::new(values, [b, k]), device)
}
