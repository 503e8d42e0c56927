//! FCN for time-series classification (Wang et al. 2017): three Conv1D/BN/ReLU layers
//! (128/256/128 filters, kernels 8/5/3, "same" padding), global average pooling, softmax.
//!
//! The convolutional stack is the one LSTM-FCN uses ([`FcnBlock`]), so both models share code.

use burn::module::Module;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::fcn_block::FcnBlock;
use super::init::Init;
use super::layers::Dense;
use super::{ModelError, ModelOutput, ModelShape, Result};

/// FCN hyper-parameters; defaults are Wang et al.'s (Keras BatchNorm defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FcnSpec {
    /// Filters per convolution (paper: 128, 256, 128).
    pub filters: Vec<usize>,
    /// Kernel sizes, one per filter entry (paper: 8, 5, 3).
    pub kernels: Vec<usize>,
    /// BatchNorm momentum in the Keras convention.
    pub bn_momentum: f64,
    pub bn_epsilon: f64,
}

impl Default for FcnSpec {
    fn default() -> Self {
        Self { filters: vec![128, 256, 128], kernels: vec![8, 5, 3], bn_momentum: 0.99, bn_epsilon: 1e-3 }
    }
}

impl FcnSpec {
    pub fn validate(&self) -> Result<()> {
        validate_convs("fcn", &self.filters, &self.kernels)?;
        validate_bn(self.bn_momentum, self.bn_epsilon)
    }
}

/// Shared checks of a filters/kernels pair.
pub(crate) fn validate_convs(model: &str, filters: &[usize], kernels: &[usize]) -> Result<()> {
    let bad = |m: String| Err(ModelError::InvalidSpec(format!("{model}: {m}")));
    if filters.is_empty() {
        return bad("at least one convolution is needed (filters is empty)".into());
    }
    if filters.len() != kernels.len() {
        return bad(format!("filters ({}) and kernels ({}) must have the same length", filters.len(), kernels.len()));
    }
    if filters.contains(&0) || kernels.contains(&0) {
        return bad("filters and kernels must be positive".into());
    }
    Ok(())
}

/// Shared checks of BatchNorm settings.
pub(crate) fn validate_bn(momentum: f64, epsilon: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&momentum) {
        return Err(ModelError::InvalidSpec(format!("bn_momentum must be in [0, 1], got {momentum}")));
    }
    if !(epsilon > 0.0 && epsilon.is_finite()) {
        return Err(ModelError::InvalidSpec(format!("bn_epsilon must be positive, got {epsilon}")));
    }
    Ok(())
}

#[derive(Module, Debug)]
pub struct Fcn {
    pub block: FcnBlock,
    pub head: Dense,
    pub dims: usize,
    pub len: usize,
    pub classes: usize,
}

impl Fcn {
    pub(crate) fn new(spec: &FcnSpec, shape: ModelShape, init: &mut Init) -> Self {
        let block = FcnBlock::new(shape.dims, &spec.filters, &spec.kernels, spec.bn_momentum, spec.bn_epsilon, init);
        let head = Dense::new(init, block.out_channels(), shape.classes);
        Self { block, head, dims: shape.dims, len: shape.len, classes: shape.classes }
    }

    pub fn shape(&self) -> ModelShape {
        ModelShape { dims: self.dims, len: self.len, classes: self.classes }
    }

    pub fn forward(&self, x: Tensor<3>) -> ModelOutput {
        let pooled = self.block.forward_pooled(x);
        ModelOutput { logits: self.head.forward(pooled.clone()), attention: None, features: pooled }
    }
}
