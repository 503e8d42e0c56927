//! InceptionTime's network (Ismail Fawaz et al. 2020) and its hybrid-filter variant
//! H-InceptionTime (Ismail-Fawaz et al. 2022), written from the authors' Keras code
//! (`hfawaz/InceptionTime`, `classifiers/inception.py`) and aeon's `InceptionNetwork`.
//!
//! ```text
//! module(x):  b = bottleneck 1×1 (32 filters, only when x has more than one channel) or x
//!             concat[ conv k=40 (b), conv k=20 (b), conv k=10 (b),     (32 filters each)
//!                     conv 1×1 (maxpool 3, stride 1, "same" (x)),      (32 filters)
//!                     ReLU(hand-crafted filters (x))   ← H-InceptionTime, first module only ]
//!             → BatchNorm → ReLU
//! network:    6 modules; after modules 3 and 6 a shortcut: ReLU(module out + BN(conv 1×1 (res)))
//!             where res is the input of the block of three; GAP → dense → softmax
//! ```
//!
//! Every convolution is "same" (Keras: the odd zero on the right), stride 1, without bias;
//! kernels are Glorot-uniform (Keras' default), BatchNorm has Keras' momentum 0.99 and ε 1e-3.
//! The kernel sizes are `kernel / 2^i` (`kernel = 40` as aeon; the authors' `kernel_size=41` minus
//! one). The max pool ignores the padding (Keras "same" pools over the valid steps only).
//! The ensemble of five such networks (InceptionTime) is a pipeline matter (`ensemble` stage).

use burn::module::Module;
use burn::nn::BatchNorm;
use burn::nn::conv::Conv1d;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use super::conv_gemm::conv_same;
use super::fcn::validate_bn;
use super::init::Init;
use super::layers::{Dense, batch_norm, conv1d_no_bias, global_avg_pool};
use super::{ModelError, ModelOutput, ModelShape, Result, handcrafted};

/// InceptionTime / H-InceptionTime hyper-parameters; defaults are the paper's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InceptionSpec {
    /// Inception modules (paper: 6).
    pub depth: usize,
    /// Filters of each convolution of a module (paper: 32; a module outputs 4× as many channels).
    pub filters: usize,
    /// Longest kernel; the module's convolutions use `kernel / 2^i` (paper: 40, 20, 10).
    pub kernel: usize,
    /// Convolutions per module besides the max-pool branch (paper: 3).
    pub convs: usize,
    /// Filters of the 1×1 bottleneck (paper: 32; applied when the input has > 1 channel).
    pub bottleneck: usize,
    /// Max-pool width of the pooling branch (paper: 3).
    pub pool: usize,
    /// A residual shortcut every third module (paper: true).
    pub residual: bool,
    /// H-InceptionTime: the hand-crafted filters in the first module.
    pub hybrid: bool,
    /// BatchNorm momentum in the Keras convention.
    pub bn_momentum: f64,
    pub bn_epsilon: f64,
}

impl Default for InceptionSpec {
    fn default() -> Self {
        Self {
            depth: 6,
            filters: 32,
            kernel: 40,
            convs: 3,
            bottleneck: 32,
            pool: 3,
            residual: true,
            hybrid: false,
            bn_momentum: 0.99,
            bn_epsilon: 1e-3,
        }
    }
}

impl InceptionSpec {
    /// The kernel sizes of a module's convolutions.
    pub fn kernels(&self) -> Vec<usize> {
        (0..self.convs).map(|i| self.kernel >> i).collect()
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ModelError::InvalidSpec(format!("inception_time: {m}")));
        if self.depth == 0 || self.filters == 0 || self.convs == 0 || self.bottleneck == 0 || self.pool == 0 {
            return bad("depth, filters, convs, bottleneck and pool must be positive".into());
        }
        if self.kernels().contains(&0) {
            return bad(format!("kernel {} is too short for {} halvings", self.kernel, self.convs));
        }
        validate_bn(self.bn_momentum, self.bn_epsilon)
    }

    /// Channels a module outputs.
    fn width(&self, hybrid: bool) -> usize {
        self.filters * (self.convs + 1) + if hybrid { handcrafted::CHANNELS } else { 0 }
    }
}

/// One Inception module.
#[derive(Module, Debug)]
pub struct InceptionModule {
    pub bottleneck: Option<Conv1d>,
    pub convs: Vec<Conv1d>,
    pub pool_conv: Conv1d,
    pub norm: BatchNorm,
    pub pool: usize,
    pub hybrid: bool,
}

impl InceptionModule {
    fn new(spec: &InceptionSpec, cin: usize, hybrid: bool, init: &mut Init) -> Self {
        let bottleneck = (cin > 1).then(|| conv1d_no_bias(init, cin, spec.bottleneck, 1));
        let inner = if cin > 1 { spec.bottleneck } else { cin };
        let convs = spec.kernels().iter().map(|&k| conv1d_no_bias(init, inner, spec.filters, k)).collect();
        let pool_conv = conv1d_no_bias(init, cin, spec.filters, 1);
        let norm = batch_norm(init, spec.width(hybrid), spec.bn_momentum, spec.bn_epsilon);
        Self { bottleneck, convs, pool_conv, norm, pool: spec.pool, hybrid }
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let inner = match &self.bottleneck {
            Some(b) => conv_same(b, x.clone()),
            None => x.clone(),
        };
        let mut branches: Vec<Tensor<3>> = self.convs.iter().map(|c| conv_same(c, inner.clone())).collect();
        branches.push(conv_same(&self.pool_conv, max_pool_same(x.clone(), self.pool)));
        if self.hybrid {
            branches.push(handcrafted::forward(x));
        }
        relu(self.norm.forward(Tensor::cat(branches, 1)))
    }
}

/// The residual shortcut: BN(conv 1×1 (res)), added to the module's output, then ReLU.
#[derive(Module, Debug)]
pub struct Shortcut {
    pub conv: Conv1d,
    pub norm: BatchNorm,
}

impl Shortcut {
    fn new(spec: &InceptionSpec, cin: usize, cout: usize, init: &mut Init) -> Self {
        let conv = conv1d_no_bias(init, cin, cout, 1);
        Self { conv, norm: batch_norm(init, cout, spec.bn_momentum, spec.bn_epsilon) }
    }

    fn forward(&self, res: Tensor<3>, out: Tensor<3>) -> Tensor<3> {
        relu(self.norm.forward(conv_same(&self.conv, res)) + out)
    }
}

/// Max pooling of width `k`, stride 1, Keras "same": output step `t` is the maximum over input
/// steps `t - (k-1)/2 ..= t + k/2` that exist (the padding never wins).
pub(crate) fn max_pool_same(x: Tensor<3>, k: usize) -> Tensor<3> {
    let [b, c, t] = x.dims();
    let (left, right) = ((k - 1) / 2, k / 2);
    let mut y = x.clone();
    for s in 1..=left.max(right) {
        if s >= t {
            break;
        }
        // x shifted by s steps, the missing end filled with the series' own edge values (which
        // are in the window anyway), so the maximum is over existing steps only.
        if s <= left {
            let shifted = Tensor::cat(vec![x.clone().narrow(2, 0, s), x.clone().narrow(2, 0, t - s)], 2);
            y = y.max_pair(shifted);
        }
        if s <= right {
            let shifted = Tensor::cat(vec![x.clone().narrow(2, s, t - s), x.clone().narrow(2, t - s, s)], 2);
            y = y.max_pair(shifted);
        }
    }
    debug_assert_eq!(y.dims(), [b, c, t]);
    y
}

/// InceptionTime's network (one member of the ensemble).
#[derive(Module, Debug)]
pub struct InceptionNet {
    pub modules: Vec<InceptionModule>,
    /// One shortcut per completed block of three modules.
    pub shortcuts: Vec<Shortcut>,
    pub head: Dense,
    pub dims: usize,
    pub len: usize,
    pub classes: usize,
}

impl InceptionNet {
    pub(crate) fn new(spec: &InceptionSpec, shape: ModelShape, init: &mut Init) -> Self {
        let mut modules = Vec::with_capacity(spec.depth);
        let mut shortcuts = Vec::new();
        let (mut cin, mut res_channels) = (shape.dims, shape.dims);
        for d in 0..spec.depth {
            let hybrid = spec.hybrid && d == 0;
            modules.push(InceptionModule::new(spec, cin, hybrid, init));
            cin = spec.width(hybrid);
            if spec.residual && d % 3 == 2 {
                shortcuts.push(Shortcut::new(spec, res_channels, cin, init));
                res_channels = cin;
            }
        }
        let head = Dense::new(init, cin, shape.classes);
        Self { modules, shortcuts, head, dims: shape.dims, len: shape.len, classes: shape.classes }
    }

    pub fn shape(&self) -> ModelShape {
        ModelShape { dims: self.dims, len: self.len, classes: self.classes }
    }

    pub fn forward(&self, x: Tensor<3>) -> ModelOutput {
        let mut y = x.clone();
        let mut res = x;
        let mut shortcuts = self.shortcuts.iter();
        for (d, module) in self.modules.iter().enumerate() {
            y = module.forward(y);
            if d % 3 == 2
                && let Some(s) = shortcuts.next()
            {
                y = s.forward(res, y);
                res = y.clone();
            }
        }
        let pooled = global_avg_pool(y);
        ModelOutput { logits: self.head.forward(pooled.clone()), attention: None, features: pooled }
    }
}
