//! Deterministically initialised burn layers shared by the model files (Conv1D, BatchNorm,
//! …), so every model draws its weights from the run's [`Init`] stream with fixed ids.

use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, PaddingConfig1d};

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
