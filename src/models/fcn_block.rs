//! The FCN stack: (Conv1D "same" → BatchNorm → ReLU) × n, then global average pooling.

use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, PaddingConfig1d};
use burn::tensor::Tensor;

use super::conv_bn::conv_bn;
use super::init::Init;

/// Conv1D/BN/ReLU layers (He-uniform kernels, zero biases, Keras-style BatchNorm).
#[derive(Module, Debug)]
pub struct FcnBlock {
    pub convs: Vec<Conv1d>,
    pub norms: Vec<BatchNorm>,
}

impl FcnBlock {
    /// `bn_momentum` is in the Keras convention (0.99 keeps 99 % of the running statistic);
    /// burn's momentum is the weight of the new batch, i.e. `1 - bn_momentum`.
    pub(crate) fn new(
        channels_in: usize,
        filters: &[usize],
        kernels: &[usize],
        bn_momentum: f64,
        bn_epsilon: f64,
        init: &mut Init,
    ) -> Self {
        let mut convs = Vec::with_capacity(filters.len());
        let mut norms = Vec::with_capacity(filters.len());
        let mut cin = channels_in;
        for (&cout, &k) in filters.iter().zip(kernels) {
            let mut conv = Conv1dConfig::new(cin, cout, k)
                .with_padding(PaddingConfig1d::Same)
                .with_initializer(Initializer::Zeros)
                .init(init.device());
            conv.weight = init.he_uniform([cout, cin, k], cin * k);
            conv.bias = Some(init.constant(0.0, [cout]));
            convs.push(conv);

            let mut bn = BatchNormConfig::new(cout)
                .with_epsilon(bn_epsilon)
                .with_momentum(1.0 - bn_momentum)
                .init(init.device());
            bn.gamma = init.constant(1.0, [cout]);
            bn.beta = init.constant(0.0, [cout]);
            bn.running_mean = init.running(0.0, cout);
            bn.running_var = init.running(1.0, cout);
            norms.push(bn);
            cin = cout;
        }
        Self { convs, norms }
    }

    /// Number of output channels.
    pub fn out_channels(&self) -> usize {
        self.convs.last().map(|c| c.weight.dims()[0]).unwrap_or_default()
    }

    /// `(B, C, T)` → feature maps `(B, F, T)`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let mut x = x;
        for (conv, bn) in self.convs.iter().zip(&self.norms) {
            x = conv_bn(conv, bn, x, true);
        }
        x
    }

    /// `(B, C, T)` → global average pool over time `(B, F)`.
    pub fn forward_pooled(&self, x: Tensor<3>) -> Tensor<2> {
        let y = self.forward(x);
        let [b, f, _] = y.dims();
        y.mean_dim(2).reshape([b, f])
    }
}
