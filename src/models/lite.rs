//! LITE (Ismail-Fawaz et al. 2023, "LITE: Light Inception with boosTing tEchniques for time series
//! classification"), the network of LITETime, written from aeon's `LITENetwork` (`use_litemv =
//! False`):
//!
//! ```text
//! concat[ conv k=40, conv k=20, conv k=10 (32 filters each, on the input: the multiplexing),
//!         ReLU(hand-crafted filters (input)) ]  → BatchNorm → ReLU
//! → separable conv (depthwise k=20 dilation 2, pointwise 32) → BatchNorm → ReLU
//! → separable conv (depthwise k=10 dilation 4, pointwise 32) → BatchNorm → ReLU
//! → GAP → dense → softmax
//! ```
//!
//! Convolutions are "same" (Keras: the odd zero on the right), without bias, Glorot-uniform
//! (Keras' `SeparableConv1D` initialises its depthwise kernel with fans `C·k` and `k`, its
//! pointwise kernel with `C` and the filters). About 9,900 trainable parameters on a univariate
//! input.

use burn::module::{Module, Param};
use burn::nn::BatchNorm;
use burn::nn::conv::Conv1d;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use burn::tensor::ops::PadMode;
use serde::{Deserialize, Serialize};

use super::conv_gemm::conv_same;
use super::fcn::validate_bn;
use super::init::Init;
use super::layers::{Dense, batch_norm, conv1d_no_bias, global_avg_pool};
use super::{ModelError, ModelOutput, ModelShape, Result, handcrafted};

/// LITE hyper-parameters; defaults are the paper's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiteSpec {
    /// Filters of every convolution (paper: 32).
    pub filters: usize,
    /// Longest kernel of the multiplexed convolutions (`kernel / 2^i`: 40, 20, 10); the separable
    /// convolutions use `kernel / 2` and `kernel / 4` (20, 10).
    pub kernel: usize,
    /// The hand-crafted filters beside the multiplexed convolutions (paper: true).
    pub hybrid: bool,
    /// BatchNorm momentum in the Keras convention.
    pub bn_momentum: f64,
    pub bn_epsilon: f64,
}

impl Default for LiteSpec {
    fn default() -> Self {
        Self { filters: 32, kernel: 40, hybrid: true, bn_momentum: 0.99, bn_epsilon: 1e-3 }
    }
}

/// Multiplexed convolutions of the first layer.
const MULTIPLEX: usize = 3;
/// (kernel divisor, dilation) of the two separable convolutions.
const SEPARABLE: [(usize, usize); 2] = [(2, 2), (4, 4)];

impl LiteSpec {
    pub fn validate(&self) -> Result<()> {
        if self.filters == 0 || self.kernel < 4 {
            return Err(ModelError::InvalidSpec(format!(
                "lite: filters must be positive and kernel at least 4, got {} and {}",
                self.filters, self.kernel
            )));
        }
        validate_bn(self.bn_momentum, self.bn_epsilon)
    }
}

/// Keras' `SeparableConv1D` without bias: a depthwise convolution (one kernel per channel,
/// dilated, "same") then a pointwise 1×1 convolution.
#[derive(Module, Debug)]
pub struct SeparableConv {
    /// `[C, k]`
    pub depthwise: Param<Tensor<2>>,
    pub pointwise: Conv1d,
    pub dilation: usize,
}

impl SeparableConv {
    fn new(init: &mut Init, cin: usize, cout: usize, k: usize, dilation: usize) -> Self {
        let depthwise = init.glorot_uniform([cin, k], cin * k, k);
        let pointwise = conv1d_no_bias(init, cin, cout, 1);
        Self { depthwise, pointwise, dilation }
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        conv_same(&self.pointwise, depthwise_same(x, self.depthwise.val(), self.dilation))
    }
}

/// Depthwise "same" convolution `(B, C, T)` with `w[C, k]` at dilation `d`: `y[c, t] = Σ_j
/// w[c, j] · x[c, t + j·d - left]`, `left = ((k-1)·d) / 2`, as a sum of `k` shifted products.
pub(crate) fn depthwise_same(x: Tensor<3>, w: Tensor<2>, d: usize) -> Tensor<3> {
    let [_, c, t] = x.dims();
    let [_, k] = w.dims();
    let total = (k - 1) * d;
    let left = total / 2;
    let padded = x.pad([(left, total - left)], PadMode::Constant(0.0));
    let mut y: Option<Tensor<3>> = None;
    for j in 0..k {
        let tap = padded.clone().narrow(2, j * d, t) * w.clone().narrow(1, j, 1).reshape([1, c, 1]);
        y = Some(match y {
            Some(acc) => acc + tap,
            None => tap,
        });
    }
    y.unwrap_or_else(|| padded.narrow(2, 0, t))
}

/// The LITE network (one member of LITETime).
#[derive(Module, Debug)]
pub struct Lite {
    pub convs: Vec<Conv1d>,
    pub norm: BatchNorm,
    pub separable: Vec<SeparableConv>,
    pub norms: Vec<BatchNorm>,
    pub head: Dense,
    pub hybrid: bool,
    pub dims: usize,
    pub len: usize,
    pub classes: usize,
}

impl Lite {
    pub(crate) fn new(spec: &LiteSpec, shape: ModelShape, init: &mut Init) -> Self {
        let (m, f) = (&spec.bn_momentum, spec.filters);
        let convs = (0..MULTIPLEX).map(|i| conv1d_no_bias(init, shape.dims, f, spec.kernel >> i)).collect();
        let width = MULTIPLEX * f + if spec.hybrid { handcrafted::CHANNELS } else { 0 };
        let norm = batch_norm(init, width, *m, spec.bn_epsilon);
        let mut separable = Vec::new();
        let mut norms = Vec::new();
        let mut cin = width;
        for (div, dilation) in SEPARABLE {
            separable.push(SeparableConv::new(init, cin, f, spec.kernel / div, dilation));
            norms.push(batch_norm(init, f, *m, spec.bn_epsilon));
            cin = f;
        }
        let head = Dense::new(init, f, shape.classes);
        Self {
            convs,
            norm,
            separable,
            norms,
            head,
            hybrid: spec.hybrid,
            dims: shape.dims,
            len: shape.len,
            classes: shape.classes,
        }
    }

    pub fn shape(&self) -> ModelShape {
        ModelShape { dims: self.dims, len: self.len, classes: self.classes }
    }

    pub fn forward(&self, x: Tensor<3>) -> ModelOutput {
        let mut branches: Vec<Tensor<3>> = self.convs.iter().map(|c| conv_same(c, x.clone())).collect();
        if self.hybrid {
            branches.push(handcrafted::forward(x));
        }
        let mut y = relu(self.norm.forward(Tensor::cat(branches, 1)));
        for (sep, bn) in self.separable.iter().zip(&self.norms) {
            y = relu(bn.forward(sep.forward(y)));
        }
        let pooled = global_avg_pool(y);
        ModelOutput { logits: self.head.forward(pooled.clone()), attention: None, features: pooled }
    }
}
