//! CNN-TS (SPEC §3, the CNN-TS paper's Figs. 2–4): a two-input residual network that judges
//! whether two series share a class, with intermediate class targets on its first blocks.
//!
//! ```text
//! In1 (B, C, T) ─ Block 1 ─┬──────────── GAP ─ O_1 (class of In1)       [intermediate_targets]
//!                          └─(−)─ Block 3 ─ Block 4 ─ GAP ─ O_m (different, same)
//! In2 (B, C, T) ─ Block 2 ─┴──────────── GAP ─ O_2 (class of In2)       [intermediate_targets]
//! ```
//!
//! Blocks are ResNet-for-TSC residual blocks ([`super::residual`]); Block 2 is Block 1 itself
//! when `share_weights` (a Siamese variant; the paper's blocks are separate). The loss is
//! `α_m·L_m + α_i·(L_1 + L_2)` (paper: 1.0 and 0.5), each `L_k` the mean over the batch of the
//! per-instance class coefficient times the cross-entropy (eq. 7). `intermediate_targets =
//! false` is the paper's base network: no O_1/O_2, `L = α_m·L_m`.

use burn::module::{Module, Param};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};
use serde::{Deserialize, Serialize};

use super::init::Init;
use super::residual::{ResidualBlock, ResidualBlockConfig};
use super::{ModelError, ModelShape, Result};
use crate::pairs::CoefficientMode;

/// CNN-TS hyper-parameters. Defaults: the paper where it says, ResNet-for-TSC where it does not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CnnTsSpec {
    /// Filters of Blocks 1/2, Block 3 and Block 4 (ResNet-for-TSC's three blocks: 64, 128, 128).
    pub filters: Vec<usize>,
    /// Kernel sizes of the three convolutions inside every block (ResNet-for-TSC: 8, 5, 3).
    pub kernels: Vec<usize>,
    /// Block 2 is Block 1 (shared weights) instead of a block of its own (the paper).
    pub share_weights: bool,
    /// The intermediate heads O_1/O_2 (false = the paper's base network).
    pub intermediate_targets: bool,
    /// α_m, the weight of the main loss (paper: 1.0).
    pub main_weight: f64,
    /// α_1 = α_2, the weight of each intermediate loss (paper: 0.5).
    pub intermediate_weight: f64,
    /// Class-related coefficients of eqs. 7–8.
    pub coefficients: CoefficientMode,
    /// BatchNorm momentum, Keras convention (`running = m·running + (1−m)·batch`).
    pub bn_momentum: f64,
    pub bn_epsilon: f64,
}

impl Default for CnnTsSpec {
    fn default() -> Self {
        Self {
            filters: vec![64, 128, 128],
            kernels: vec![8, 5, 3],
            share_weights: false,
            intermediate_targets: true,
            main_weight: 1.0,
            intermediate_weight: 0.5,
            coefficients: CoefficientMode::InverseFrequency,
            bn_momentum: 0.99,
            bn_epsilon: 1e-3,
        }
    }
}

impl CnnTsSpec {
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ModelError::InvalidSpec(m));
        if self.filters.len() != 3 {
            return bad(format!("filters: three counts (Blocks 1/2, 3, 4) are needed, got {}", self.filters.len()));
        }
        if self.kernels.len() != 3 {
            return bad(format!(
                "kernels: three sizes (one per convolution of a block) are needed, got {}",
                self.kernels.len()
            ));
        }
        if self.filters.contains(&0) || self.kernels.contains(&0) {
            return bad("filters and kernels must be positive".into());
        }
        for (name, w) in [("main_weight", self.main_weight), ("intermediate_weight", self.intermediate_weight)] {
            if !(w >= 0.0 && w.is_finite()) {
                return bad(format!("{name} must be a non-negative number, got {w}"));
            }
        }
        if !(0.0..=1.0).contains(&self.bn_momentum) {
            return bad(format!("bn_momentum must be in [0, 1], got {}", self.bn_momentum));
        }
        if !(self.bn_epsilon > 0.0 && self.bn_epsilon.is_finite()) {
            return bad(format!("bn_epsilon must be positive, got {}", self.bn_epsilon));
        }
        Ok(())
    }

    /// Builds a freshly initialised network on `device`; initialisation depends only on `seed`.
    pub fn build(&self, shape: ModelShape, seed: u64, device: &burn::tensor::Device) -> Result<CnnTs> {
        self.validate()?;
        shape.validate()?;
        let mut init = Init::new(seed, device);
        Ok(CnnTs::new(self, shape, &mut init))
    }

    /// Builds the network and loads weights from [`CnnTs::weights_bytes`].
    pub fn load(&self, shape: ModelShape, weights: &[u8], device: &burn::tensor::Device) -> Result<CnnTs> {
        let model = self.build(shape, 0, device)?;
        let record = burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(weights.to_vec()))
            .map_err(|e| ModelError::Weights(e.to_string()))?;
        model.try_load_record(record).map_err(|e| ModelError::Weights(e.to_string()))
    }
}

/// A dense soft-max head on global-average-pooled features: `[F, K]` (Glorot-uniform) + bias.
#[derive(Module, Debug)]
pub struct Head {
    pub weight: Param<Tensor<2>>,
    pub bias: Param<Tensor<1>>,
}

impl Head {
    fn new(features: usize, outputs: usize, init: &mut Init) -> Self {
        Head {
            weight: init.glorot_uniform([features, outputs], features, outputs),
            bias: init.constant(0.0, [outputs]),
        }
    }

    /// Logits `[B, K]` of pooled features `[B, F]`.
    pub fn forward(&self, pooled: Tensor<2>) -> Tensor<2> {
        pooled.matmul(self.weight.val()).add(self.bias.val().unsqueeze::<2>())
    }
}

/// Global average pooling over time: `(B, F, T)` → `(B, F)`.
pub fn gap(x: Tensor<3>) -> Tensor<2> {
    let [b, f, _] = x.dims();
    x.mean_dim(2).reshape([b, f])
}

#[derive(Module, Debug)]
pub struct CnnTs {
    pub block1: ResidualBlock,
    /// `None` when Block 2 shares Block 1's weights.
    pub block2: Option<ResidualBlock>,
    pub block3: ResidualBlock,
    pub block4: ResidualBlock,
    /// O_m: two outputs, index 0 = different, 1 = same.
    pub main: Head,
    pub o1: Option<Head>,
    pub o2: Option<Head>,
    pub dims: usize,
    pub len: usize,
    pub classes: usize,
}

/// The outputs of one forward pass over a batch of pairs.
#[derive(Debug, Clone)]
pub struct CnnTsOutput {
    /// O_m logits `[B, 2]` (different, same).
    pub main: Tensor<2>,
    /// O_1 / O_2 class logits `[B, K]` (None for the base network).
    pub o1: Option<Tensor<2>>,
    pub o2: Option<Tensor<2>>,
    /// The GAP features feeding O_1 `[B, F1]` and O_m `[B, F4]` (for feature export).
    pub gap1: Tensor<2>,
    pub gap_main: Tensor<2>,
}

impl CnnTs {
    pub(crate) fn new(spec: &CnnTsSpec, shape: ModelShape, init: &mut Init) -> Self {
        let block = |cin: usize, cout: usize, init: &mut Init| {
            let cfg = ResidualBlockConfig {
                in_channels: cin,
                out_channels: cout,
                kernels: spec.kernels.clone(),
                bn_momentum: spec.bn_momentum,
                bn_epsilon: spec.bn_epsilon,
            };
            ResidualBlock::new(&cfg, init)
        };
        let [f1, f3, f4] = [spec.filters[0], spec.filters[1], spec.filters[2]];
        let block1 = block(shape.dims, f1, init);
        let block2 = (!spec.share_weights).then(|| block(shape.dims, f1, init));
        let block3 = block(f1, f3, init);
        let block4 = block(f3, f4, init);
        let main = Head::new(f4, 2, init);
        let (o1, o2) = if spec.intermediate_targets {
            (Some(Head::new(f1, shape.classes, init)), Some(Head::new(f1, shape.classes, init)))
        } else {
            (None, None)
        };
        CnnTs { block1, block2, block3, block4, main, o1, o2, dims: shape.dims, len: shape.len, classes: shape.classes }
    }

    pub fn shape(&self) -> ModelShape {
        ModelShape { dims: self.dims, len: self.len, classes: self.classes }
    }

    pub fn has_intermediate_targets(&self) -> bool {
        self.o1.is_some()
    }

    /// Block 1 on In1: `(B, C, T)` → `(B, F1, T)`.
    pub fn features1(&self, x1: Tensor<3>) -> Tensor<3> {
        self.block1.forward(x1)
    }

    /// Block 2 (or the shared Block 1) on In2.
    pub fn features2(&self, x2: Tensor<3>) -> Tensor<3> {
        self.block2.as_ref().unwrap_or(&self.block1).forward(x2)
    }

    /// Blocks 3–4, GAP and O_m on the difference of the Block 1/2 features.
    pub fn head_from_difference(&self, diff: Tensor<3>) -> (Tensor<2>, Tensor<2>) {
        let pooled = gap(self.block4.forward(self.block3.forward(diff)));
        (self.main.forward(pooled.clone()), pooled)
    }

    /// Forward pass over pairs `(x1[b], x2[b])`.
    pub fn forward(&self, x1: Tensor<3>, x2: Tensor<3>) -> CnnTsOutput {
        let h1 = self.features1(x1);
        let h2 = self.features2(x2);
        let (g1, g2) = (gap(h1.clone()), gap(h2.clone()));
        let (main, gap_main) = self.head_from_difference(h1 - h2);
        let o1 = self.o1.as_ref().map(|h| h.forward(g1.clone()));
        let o2 = self.o2.as_ref().map(|h| h.forward(g2));
        CnnTsOutput { main, o1, o2, gap1: g1, gap_main }
    }

    /// Main-output logits for every pair `(a[i], b[j])` of `pairs`, computing Blocks 1/2 once
    /// per series (inference: `a` = test series, `b` = representatives).
    pub fn forward_cross(&self, a: Tensor<3>, b: Tensor<3>, ia: Tensor<1, Int>, ib: Tensor<1, Int>) -> Tensor<2> {
        let h1 = self.features1(a).select(0, ia);
        let h2 = self.features2(b).select(0, ib);
        self.head_from_difference(h1 - h2).0
    }

    /// Full-precision burn record (BatchNorm running statistics included).
    pub fn weights_bytes(&self) -> Result<Vec<u8>> {
        let bytes = self.clone().valid().into_record().into_bytes().map_err(|e| ModelError::Weights(e.to_string()))?;
        Ok(bytes.to_vec())
    }
}

/// Per-output losses of a batch and their weighted total.
#[derive(Debug, Clone)]
pub struct CnnTsLoss {
    /// `α_m·L_m + α_i·(L_1 + L_2)` (scalar tensor, differentiable).
    pub total: Tensor<1>,
    pub main: Tensor<1>,
    pub o1: Option<Tensor<1>>,
    pub o2: Option<Tensor<1>>,
}

/// `mean_b Σ_c t[b, c]·(−log softmax(logits)[b, c])`, where `t` is the one-hot target scaled by
/// the instance's class coefficient (eq. 7, averaged instead of summed over the batch).
pub fn weighted_cross_entropy(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let [b, _] = logits.dims();
    log_softmax(logits, 1).mul(targets).sum().neg().div_scalar(b.max(1) as f64)
}

/// The CNN-TS loss of `out` for coefficient-scaled one-hot targets of O_m, O_1 and O_2.
pub fn cnn_ts_loss(spec: &CnnTsSpec, out: &CnnTsOutput, t_main: Tensor<2>, t1: Tensor<2>, t2: Tensor<2>) -> CnnTsLoss {
    let main = weighted_cross_entropy(out.main.clone(), t_main);
    let o1 = out.o1.clone().map(|l| weighted_cross_entropy(l, t1));
    let o2 = out.o2.clone().map(|l| weighted_cross_entropy(l, t2));
    let mut total = main.clone().mul_scalar(spec.main_weight);
    for l in [&o1, &o2].into_iter().flatten() {
        total = total + l.clone().mul_scalar(spec.intermediate_weight);
    }
    CnnTsLoss { total, main, o1, o2 }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, TensorData};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn tiny(intermediate_targets: bool, share_weights: bool) -> CnnTsSpec {
        CnnTsSpec {
            filters: vec![4, 6, 5],
            kernels: vec![5, 3, 3],
            intermediate_targets,
            share_weights,
            ..CnnTsSpec::default()
        }
    }

    fn input(b: usize, c: usize, t: usize, seed: u64, dev: &Device) -> Tensor<3> {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        let v: Vec<f32> = (0..b * c * t).map(|_| r.random::<f32>() * 2.0 - 1.0).collect();
        Tensor::from_data(TensorData::new(v, [b, c, t]), dev)
    }

    fn host(t: Tensor<2>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
    }

    fn n_params(m: &CnnTs) -> usize {
        m.num_params()
    }

    #[test]
    fn output_shapes_heads_and_sharing() {
        let dev = Device::flex();
        let shape = ModelShape { dims: 2, len: 19, classes: 3 };
        let full = tiny(true, false).build(shape, 1, &dev).unwrap();
        let out = full.forward(input(5, 2, 19, 1, &dev), input(5, 2, 19, 2, &dev));
        assert_eq!(out.main.dims(), [5, 2]);
        assert_eq!(out.o1.as_ref().unwrap().dims(), [5, 3]);
        assert_eq!(out.o2.as_ref().unwrap().dims(), [5, 3]);
        assert_eq!(out.gap1.dims(), [5, 4]);
        assert_eq!(out.gap_main.dims(), [5, 5]);

        let base = tiny(false, false).build(shape, 1, &dev).unwrap();
        let out = base.forward(input(5, 2, 19, 1, &dev), input(5, 2, 19, 2, &dev));
        assert!(out.o1.is_none() && out.o2.is_none() && !base.has_intermediate_targets());
        assert_eq!(out.main.dims(), [5, 2]);
        // the base network lacks exactly the two heads: 2 × (4·3 + 3) parameters
        assert_eq!(n_params(&full) - n_params(&base), 2 * (4 * 3 + 3));

        // shared blocks: one block fewer, and In1 = In2 gives a zero difference, so O_m does
        // not depend on the input at all
        let shared = tiny(true, true).build(shape, 1, &dev).unwrap();
        assert!(shared.block2.is_none() && n_params(&shared) < n_params(&full));
        let x = input(3, 2, 19, 7, &dev);
        let a = host(shared.clone().valid().forward(x.clone(), x).main);
        let y = input(3, 2, 19, 8, &dev);
        let b = host(shared.valid().forward(y.clone(), y).main);
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() < 1e-5);
        }
        assert!(tiny(true, false).build(ModelShape { classes: 1, ..shape }, 1, &dev).is_err());
        assert!(CnnTsSpec { filters: vec![4, 4], ..tiny(true, false) }.validate().is_err());
    }

    /// `Σ_b Σ_c t[b,c]·(−log softmax(z)[b,c]) / B` on the host.
    fn host_ce(z: &[f32], t: &[f32], k: usize) -> f64 {
        let b = z.len() / k;
        let mut s = 0.0;
        for (zr, tr) in z.chunks(k).zip(t.chunks(k)) {
            let m = zr.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v)) as f64;
            let lse = m + zr.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln();
            s += zr.iter().zip(tr).map(|(&v, &w)| w as f64 * (lse - v as f64)).sum::<f64>();
        }
        s / b as f64
    }

    #[test]
    fn loss_is_one_main_plus_half_each_intermediate() {
        let dev = Device::flex();
        let shape = ModelShape { dims: 1, len: 12, classes: 3 };
        let m = tiny(true, false).build(shape, 3, &dev).unwrap().valid();
        let out = m.forward(input(4, 1, 12, 1, &dev), input(4, 1, 12, 2, &dev));
        // coefficient-scaled one-hot targets: same = 1 weighs 2.0, different 0.5; classes vary
        let tm = vec![0.5, 0.0, 0.0, 2.0, 0.5, 0.0, 0.0, 2.0];
        let t1 = vec![1.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.5, 1.0, 0.0, 0.0];
        let t2 = vec![0.0, 0.0, 0.5, 0.0, 3.0, 0.0, 0.0, 0.0, 0.5, 0.0, 3.0, 0.0];
        let tt = |v: &Vec<f32>, k: usize| Tensor::<2>::from_data(TensorData::new(v.clone(), [4, k]), &dev);
        let spec = tiny(true, false);
        let loss = cnn_ts_loss(&spec, &out, tt(&tm, 2), tt(&t1, 3), tt(&t2, 3));
        let lm = host_ce(&host(out.main.clone()), &tm, 2);
        let l1 = host_ce(&host(out.o1.clone().unwrap()), &t1, 3);
        let l2 = host_ce(&host(out.o2.clone().unwrap()), &t2, 3);
        let scalar = |t: Tensor<1>| t.into_scalar::<f64>();
        assert!((scalar(loss.main.clone()) - lm).abs() < 1e-5);
        assert!((scalar(loss.o1.clone().unwrap()) - l1).abs() < 1e-5);
        assert!((scalar(loss.total.clone()) - (lm + 0.5 * l1 + 0.5 * l2)).abs() < 1e-5);
        // other weights are parameters
        let spec2 = CnnTsSpec { main_weight: 2.0, intermediate_weight: 0.25, ..spec };
        let loss2 = cnn_ts_loss(&spec2, &out, tt(&tm, 2), tt(&t1, 3), tt(&t2, 3));
        assert!((scalar(loss2.total) - (2.0 * lm + 0.25 * (l1 + l2))).abs() < 1e-5);

        // the base network's loss is the main loss alone
        let base = tiny(false, false).build(shape, 3, &dev).unwrap().valid();
        let out = base.forward(input(4, 1, 12, 1, &dev), input(4, 1, 12, 2, &dev));
        let loss = cnn_ts_loss(&tiny(false, false), &out, tt(&tm, 2), tt(&t1, 3), tt(&t2, 3));
        assert!((scalar(loss.total) - host_ce(&host(out.main), &tm, 2)).abs() < 1e-5);
    }
}
