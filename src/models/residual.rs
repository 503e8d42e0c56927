//! The residual block of ResNet for time-series classification (Wang et al. 2017), also the
//! building block of CNN-TS (SPEC §3).
//!
//! ```text
//! x ─┬─ conv k0 ─ BN ─ ReLU ─ conv k1 ─ BN ─ ReLU ─ conv k2 ─ BN ─┬─ + ─ ReLU
//!    └─ shortcut: conv 1×1 ─ BN  (BN alone when in = out channels) ┘
//! ```
//!
//! All convolutions use "same" padding, so the block keeps the series length.

use burn::module::Module;
use burn::nn::conv::Conv1d;
use burn::nn::{BatchNorm, PaddingConfig1d};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;

use super::conv_bn::conv_bn;
use super::init::Init;
use super::layers::{batch_norm, conv1d};
use super::{ModelError, Result};

/// Sizes of one residual block. [`ResidualBlockConfig::new`] gives Wang et al.'s kernels and
/// the Keras BatchNorm defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidualBlockConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    /// Kernel sizes of the main path's convolutions (Wang et al.: 8, 5, 3).
    pub kernels: Vec<usize>,
    /// BatchNorm momentum in the Keras convention (`running = m·running + (1-m)·batch`).
    pub bn_momentum: f64,
    pub bn_epsilon: f64,
}

impl ResidualBlockConfig {
    /// Kernels 8/5/3, BN momentum 0.99, epsilon 1e-3 (Keras defaults).
    pub fn new(in_channels: usize, out_channels: usize) -> Self {
        Self { in_channels, out_channels, kernels: vec![8, 5, 3], bn_momentum: 0.99, bn_epsilon: 1e-3 }
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ModelError::InvalidSpec(m));
        if self.in_channels == 0 || self.out_channels == 0 {
            return bad(format!(
                "residual block channels must be positive (in {}, out {})",
                self.in_channels, self.out_channels
            ));
        }
        if self.kernels.is_empty() || self.kernels.contains(&0) {
            return bad(format!("residual block kernels must be non-empty and positive, got {:?}", self.kernels));
        }
        if !(0.0..=1.0).contains(&self.bn_momentum) {
            return bad(format!("bn_momentum must be in [0, 1], got {}", self.bn_momentum));
        }
        if !(self.bn_epsilon > 0.0 && self.bn_epsilon.is_finite()) {
            return bad(format!("bn_epsilon must be positive, got {}", self.bn_epsilon));
        }
        Ok(())
    }
}

/// One residual block; `(B, in, T)` → `(B, out, T)`.
#[derive(Module, Debug)]
pub struct ResidualBlock {
    pub convs: Vec<Conv1d>,
    pub norms: Vec<BatchNorm>,
    /// 1×1 projection of the shortcut; `None` when the channel counts match (BN alone).
    pub shortcut_conv: Option<Conv1d>,
    pub shortcut_norm: BatchNorm,
}

impl ResidualBlock {
    /// Builds the block from `init`'s stream (main path first, then the shortcut). Callers
    /// validate `cfg` first ([`ResidualBlockConfig::validate`]).
    pub(crate) fn new(cfg: &ResidualBlockConfig, init: &mut Init) -> Self {
        let mut convs = Vec::with_capacity(cfg.kernels.len());
        let mut norms = Vec::with_capacity(cfg.kernels.len());
        let mut cin = cfg.in_channels;
        for &k in &cfg.kernels {
            convs.push(conv1d(init, cin, cfg.out_channels, k, PaddingConfig1d::Same));
            norms.push(batch_norm(init, cfg.out_channels, cfg.bn_momentum, cfg.bn_epsilon));
            cin = cfg.out_channels;
        }
        let shortcut_conv = (cfg.in_channels != cfg.out_channels)
            .then(|| conv1d(init, cfg.in_channels, cfg.out_channels, 1, PaddingConfig1d::Valid));
        let shortcut_norm = batch_norm(init, cfg.out_channels, cfg.bn_momentum, cfg.bn_epsilon);
        Self { convs, norms, shortcut_conv, shortcut_norm }
    }

    /// Number of output channels.
    pub fn out_channels(&self) -> usize {
        self.shortcut_norm.gamma.dims()[0]
    }

    /// `(B, C, T)` → `(B, out, T)`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let last = self.convs.len().saturating_sub(1);
        let mut y = x.clone();
        for (i, (conv, bn)) in self.convs.iter().zip(&self.norms).enumerate() {
            y = conv_bn(conv, bn, y, i < last);
        }
        let shortcut = match &self.shortcut_conv {
            Some(conv) => conv.forward(x),
            None => x,
        };
        relu(y + self.shortcut_norm.forward(shortcut))
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Param;
    use burn::tensor::{Device, TensorData};

    use super::*;

    fn input(b: usize, c: usize, t: usize, device: &Device) -> Tensor<3> {
        let v: Vec<f32> = (0..b * c * t).map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0).collect();
        Tensor::from_data(TensorData::new(v, [b, c, t]), device)
    }

    fn values(t: Tensor<3>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
    }

    #[test]
    fn keeps_length_and_projects_channels() {
        let dev = Device::flex();
        let mut init = Init::new(3, &dev);
        // even kernel 8 pads unevenly; the length must still be kept
        let block = ResidualBlock::new(&ResidualBlockConfig::new(3, 6), &mut init);
        assert_eq!(block.forward(input(2, 3, 11, &dev)).dims(), [2, 6, 11]);
        assert_eq!(block.shortcut_conv.as_ref().map(|c| c.weight.dims()), Some([6, 3, 1]));
        assert_eq!(block.out_channels(), 6);
        let same = ResidualBlock::new(&ResidualBlockConfig::new(4, 4), &mut init);
        assert!(same.shortcut_conv.is_none(), "matching channels use BN alone on the shortcut");
        assert_eq!(same.forward(input(1, 4, 5, &dev)).dims(), [1, 4, 5]);
    }

    #[test]
    fn zero_main_path_leaves_relu_of_normalised_shortcut() {
        // With the main path's kernels zeroed, its BN sees zeros and outputs beta = 0, so the
        // block is ReLU(BN(x)); untrained inference BN is x / sqrt(1 + eps).
        let dev = Device::flex();
        let mut init = Init::new(1, &dev);
        let cfg = ResidualBlockConfig { kernels: vec![3, 3], ..ResidualBlockConfig::new(2, 2) };
        let mut block = ResidualBlock::new(&cfg, &mut init);
        for conv in &mut block.convs {
            let dims = conv.weight.dims();
            conv.weight = Param::from_tensor(Tensor::zeros(dims, &dev));
        }
        let x = input(2, 2, 7, &dev);
        let got = values(block.forward(x.clone()));
        let scale = (1.0 + cfg.bn_epsilon).sqrt() as f32;
        for (g, v) in got.iter().zip(values(x)) {
            assert!((g - (v / scale).max(0.0)).abs() < 1e-6, "{g} vs {v}");
        }
    }

    #[test]
    fn same_seed_same_block() {
        let dev = Device::flex();
        let cfg = ResidualBlockConfig::new(2, 5);
        let a = ResidualBlock::new(&cfg, &mut Init::new(9, &dev));
        let b = ResidualBlock::new(&cfg, &mut Init::new(9, &dev));
        let c = ResidualBlock::new(&cfg, &mut Init::new(10, &dev));
        let x = input(3, 2, 9, &dev);
        assert_eq!(values(a.forward(x.clone())), values(b.forward(x.clone())));
        assert_ne!(values(a.forward(x.clone())), values(c.forward(x)));
    }

    #[test]
    fn invalid_configs_are_rejected() {
        assert!(ResidualBlockConfig::new(1, 8).validate().is_ok());
        assert!(ResidualBlockConfig { kernels: vec![], ..ResidualBlockConfig::new(1, 8) }.validate().is_err());
        assert!(ResidualBlockConfig { kernels: vec![3, 0], ..ResidualBlockConfig::new(1, 8) }.validate().is_err());
        assert!(ResidualBlockConfig::new(0, 8).validate().is_err());
        assert!(ResidualBlockConfig { bn_epsilon: 0.0, ..ResidualBlockConfig::new(1, 8) }.validate().is_err());
    }
}
