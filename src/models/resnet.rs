//! ResNet for time-series classification (Wang et al. 2017): three residual blocks
//! (64/128/128 filters, kernels 8/5/3 in each), global average pooling, softmax.

use burn::module::Module;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::fcn::validate_bn;
use super::init::Init;
use super::layers::{Dense, global_avg_pool};
use super::residual::{ResidualBlock, ResidualBlockConfig};
use super::{ModelError, ModelOutput, ModelShape, Result};

/// ResNet hyper-parameters; defaults are Wang et al.'s (Keras BatchNorm defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResnetSpec {
    /// Output channels of each residual block (paper: 64, 128, 128).
    pub filters: Vec<usize>,
    /// Kernel sizes of the three convolutions inside every block (paper: 8, 5, 3).
    pub kernels: Vec<usize>,
    pub bn_momentum: f64,
    pub bn_epsilon: f64,
}

impl Default for ResnetSpec {
    fn default() -> Self {
        Self { filters: vec![64, 128, 128], kernels: vec![8, 5, 3], bn_momentum: 0.99, bn_epsilon: 1e-3 }
    }
}

impl ResnetSpec {
    pub fn validate(&self) -> Result<()> {
        if self.filters.is_empty() || self.filters.contains(&0) {
            return Err(ModelError::InvalidSpec(format!(
                "resnet: filters must be a non-empty list of positive block widths, got {:?}",
                self.filters
            )));
        }
        validate_bn(self.bn_momentum, self.bn_epsilon)?;
        self.block(1, self.filters[0]).validate()
    }

    fn block(&self, in_channels: usize, out_channels: usize) -> ResidualBlockConfig {
        ResidualBlockConfig {
            in_channels,
            out_channels,
            kernels: self.kernels.clone(),
            bn_momentum: self.bn_momentum,
            bn_epsilon: self.bn_epsilon,
        }
    }
}

#[derive(Module, Debug)]
pub struct Resnet {
    pub blocks: Vec<ResidualBlock>,
    pub head: Dense,
    pub dims: usize,
    pub len: usize,
    pub classes: usize,
}

impl Resnet {
    pub(crate) fn new(spec: &ResnetSpec, shape: ModelShape, init: &mut Init) -> Self {
        let mut cin = shape.dims;
        let mut blocks = Vec::with_capacity(spec.filters.len());
        for &cout in &spec.filters {
            blocks.push(ResidualBlock::new(&spec.block(cin, cout), init));
            cin = cout;
        }
        let head = Dense::new(init, cin, shape.classes);
        Self { blocks, head, dims: shape.dims, len: shape.len, classes: shape.classes }
    }

    pub fn shape(&self) -> ModelShape {
        ModelShape { dims: self.dims, len: self.len, classes: self.classes }
    }

    pub fn forward(&self, x: Tensor<3>) -> ModelOutput {
        let y = self.blocks.iter().fold(x, |y, block| block.forward(y));
        let pooled = global_avg_pool(y);
        ModelOutput { logits: self.head.forward(pooled.clone()), attention: None, features: pooled }
    }
}
