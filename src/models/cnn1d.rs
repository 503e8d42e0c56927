//! The write-up's plain 1D CNN baseline. The write-up gives no layer sizes for it, so it is the
//! hybrid model's convolutional trunk on its own: [Conv1D (k 3, "same") → ReLU → MaxPool] per
//! entry of `filters` (16, 32), global max pooling over time, a linear layer, softmax.

use burn::module::Module;
use burn::nn::PaddingConfig1d;
use burn::nn::conv::Conv1d;
use burn::nn::pool::{MaxPool1d, MaxPool1dConfig};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use super::conv_gemm::conv_same;
use super::init::Init;
use super::layers::{Dense, conv1d};
use super::{ModelError, ModelOutput, ModelShape, Result};

/// Plain 1D CNN hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cnn1dSpec {
    /// Filters of the convolutions (16, 32 as the hybrid's trunk).
    pub filters: Vec<usize>,
    /// Kernel size of every convolution ("same" padding).
    pub kernel: usize,
    /// Max-pooling window and stride after each convolution (1 = none).
    pub pool: usize,
}

impl Default for Cnn1dSpec {
    fn default() -> Self {
        Self { filters: vec![16, 32], kernel: 3, pool: 2 }
    }
}

impl Cnn1dSpec {
    pub fn validate(&self) -> Result<()> {
        if self.filters.is_empty() || self.filters.contains(&0) || self.kernel == 0 || self.pool == 0 {
            return Err(ModelError::InvalidSpec(format!(
                "cnn1d: filters must be a non-empty list of positive sizes and kernel/pool positive \
                 (filters {:?}, kernel {}, pool {})",
                self.filters, self.kernel, self.pool
            )));
        }
        Ok(())
    }

    /// The series must survive every pooling with at least one step.
    pub fn check_shape(&self, shape: ModelShape) -> Result<()> {
        let min = self.pool.pow(self.filters.len() as u32);
        if shape.len < min {
            return Err(ModelError::InvalidData(format!(
                "cnn1d: {} poolings of {} need series of at least {min} steps, got {}",
                self.filters.len(),
                self.pool,
                shape.len
            )));
        }
        Ok(())
    }
}

#[derive(Module, Debug)]
pub struct Cnn1d {
    pub convs: Vec<Conv1d>,
    pub pool: MaxPool1d,
    pub head: Dense,
    pub dims: usize,
    pub len: usize,
    pub classes: usize,
}

impl Cnn1d {
    pub(crate) fn new(spec: &Cnn1dSpec, shape: ModelShape, init: &mut Init) -> Self {
        let mut cin = shape.dims;
        let mut convs = Vec::with_capacity(spec.filters.len());
        for &cout in &spec.filters {
            convs.push(conv1d(init, cin, cout, spec.kernel, PaddingConfig1d::Same));
            cin = cout;
        }
        let pool = MaxPool1dConfig::new(spec.pool).init();
        let head = Dense::new(init, cin, shape.classes);
        Self { convs, pool, head, dims: shape.dims, len: shape.len, classes: shape.classes }
    }

    pub fn shape(&self) -> ModelShape {
        ModelShape { dims: self.dims, len: self.len, classes: self.classes }
    }

    pub fn forward(&self, x: Tensor<3>) -> ModelOutput {
        let y = self.convs.iter().fold(x, |y, conv| self.pool.forward(relu(conv_same(conv, y))));
        let [b, c, _] = y.dims();
        let pooled = y.max_dim(2).reshape([b, c]);
        ModelOutput { logits: self.head.forward(pooled.clone()), attention: None, features: pooled }
    }
}
