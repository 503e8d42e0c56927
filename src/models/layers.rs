//! Deterministically initialised burn layers shared by the model files (Conv1D, BatchNorm,
//! dense) and the pooling/dropout helpers burn lacks, so every model draws its weights from the run's [`Init`] stream with fixed ids.

use burn::module::Param;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, PaddingConfig1d};
use burn::tensor::{Tensor, TensorData};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::init::Init;

/// Conv1D `cin → cout` with kernel `k`, Glorot-uniform kernel (the Keras default the TSC
/// baselines of Wang et al. were trained with) and a zero bias.
pub(crate) fn conv1d(init: &mut Init, cin: usize, cout: usize, k: usize, padding: PaddingConfig1d) -> Conv1d {
    let mut conv =
        Conv1dConfig::new(cin, cout, k).with_padding(padding).with_initializer(Initializer::Zeros).init(init.device());
    conv.weight = init.glorot_uniform([cout, cin, k], cin * k, cout * k);
    conv.bias = Some(init.constant(0.0, [cout]));
    conv
}

/// Conv1D `cin → cout` with kernel `k`, "same" padding, Glorot-uniform kernel and no bias
/// (Keras `use_bias=False`, as InceptionTime and LITE build every convolution).
pub(crate) fn conv1d_no_bias(init: &mut Init, cin: usize, cout: usize, k: usize) -> Conv1d {
    let mut conv = Conv1dConfig::new(cin, cout, k)
        .with_padding(PaddingConfig1d::Same)
        .with_bias(false)
        .with_initializer(Initializer::Zeros)
        .init(init.device());
    conv.weight = init.glorot_uniform([cout, cin, k], cin * k, cout * k);
    conv
}

/// BatchNorm over `channels`. `momentum` is in the Keras convention (0.99 keeps 99 % of the
/// running statistic); burn's momentum is the weight of the new batch, i.e. `1 - momentum`.
pub(crate) fn batch_norm(init: &mut Init, channels: usize, momentum: f64, epsilon: f64) -> BatchNorm {
    let mut bn = BatchNormConfig::new(channels).with_epsilon(epsilon).with_momentum(1.0 - momentum).init(init.device());
    bn.gamma = init.constant(1.0, [channels]);
    bn.beta = init.constant(0.0, [channels]);
    bn.running_mean = init.running(0.0, channels);
    bn.running_var = init.running(1.0, channels);
    bn
}

/// A dense layer stored as `[inputs, outputs]` weight (Glorot-uniform) and zero bias.
#[derive(burn::module::Module, Debug)]
pub struct Dense {
    pub weight: Param<Tensor<2>>,
    pub bias: Param<Tensor<1>>,
}

impl Dense {
    pub(crate) fn new(init: &mut Init, inputs: usize, outputs: usize) -> Self {
        Self { weight: init.glorot_uniform([inputs, outputs], inputs, outputs), bias: init.constant(0.0, [outputs]) }
    }

    /// `[B, inputs]` → `[B, outputs]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        x.matmul(self.weight.val()) + self.bias.val().unsqueeze_dim(0)
    }
}

/// Inverted dropout on `[B, K]`: each unit is zeroed with probability `rate` and the rest are
/// scaled by `1 / (1 - rate)`; the mask is drawn on the host from `rng` (the training loop's
/// ChaCha stream), so it never touches burn's global RNG. `rate = 0` returns `x` unchanged.
pub(crate) fn dropout(x: Tensor<2>, rate: f64, rng: &mut ChaCha8Rng) -> Tensor<2> {
    if rate <= 0.0 {
        return x;
    }
    let [b, k] = x.dims();
    let keep = 1.0 - rate;
    let scale = (1.0 / keep) as f32;
    let mask: Vec<f32> = (0..b * k).map(|_| if rng.random::<f64>() < keep { scale } else { 0.0 }).collect();
    let device = x.device();
    x * Tensor::from_data(TensorData::new(mask, [b, k]), &device)
}

/// PyTorch's `AdaptiveMaxPool1d`: bin `i` of `out` is the maximum over input steps
/// `floor(i·T/out) .. ceil((i+1)·T/out)` (bins overlap, or repeat steps when `T < out`).
/// burn 0.22 has an adaptive average pool but no adaptive max pool.
pub(crate) fn adaptive_max_pool1d(x: Tensor<3>, out: usize) -> Tensor<3> {
    let [_, _, t] = x.dims();
    if t == out {
        return x;
    }
    let bins: Vec<Tensor<3>> = (0..out)
        .map(|i| {
            let start = i * t / out;
            let end = ((i + 1) * t).div_ceil(out);
            x.clone().narrow(2, start, end - start).max_dim(2)
        })
        .collect();
    Tensor::cat(bins, 2)
}

/// Global average pooling over time: `(B, C, T)` → `(B, C)`.
pub(crate) fn global_avg_pool(x: Tensor<3>) -> Tensor<2> {
    let [b, c, _] = x.dims();
    x.mean_dim(2).reshape([b, c])
}
