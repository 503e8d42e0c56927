//! Speed: Conv1D "same" → BatchNorm with batch statistics → optional ReLU, fused into
//! one custom operation for training on the CPU backend.
//!
//! With the convolution alone as a custom op ([`super::conv_gemm`]), a profile of the LSTM-FCN
//! step showed the batch norm as the next cost: burn computes its statistics through
//! `swap_dims(0, 1)` copies (a batched transpose of every activation, forward and backward) and
//! a dozen separate elementwise passes. The convolution's product already comes out as
//! `Z[Cout, B·T]`, one contiguous row per channel, which is exactly the layout the statistics
//! need: here each row gets its bias, mean, variance, normalisation, scale/shift and ReLU in two
//! passes, and backward is per-row sums feeding the convolution's two GEMMs. The input and the
//! normalised rows are kept for backward (the im2col tiles are rebuilt per block there: cheap,
//! and they stay in cache). At inference the norm folds into one scale and shift per channel.
//!
//! Semantics are burn's `BatchNorm::forward` (training: biased batch variance, running
//! statistics updated with weight `momentum` on the new batch; inference: running statistics)
//! after the convolution with its bias; [`conv_bn`] falls back to exactly that composition
//! wherever the ops do not apply (frozen norm on the training device, non-CPU backends, no bias
//! in training).

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::tensor::FloatTensor;
use burn::nn::BatchNorm;
use burn::nn::conv::Conv1d;
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;

use super::conv_gemm::{
    self, Dims, FlexAd, Host, Provider, conv_rows, conv_rows_backward, dims_of, flex_tensor, swap_outer,
};

thread_local! {
    /// Calls of the fused forward on this thread (lets the tests prove the op ran, not the
    /// fallback, while other tests run in parallel).
    static FUSED_CALLS: Cell<usize> = const { Cell::new(0) };
    /// Calls of the fused inference path on this thread.
    static INFERENCE_CALLS: Cell<usize> = const { Cell::new(0) };
}

/// `relu?(bn(conv(x)))` for `(B, Cin, T)` → `(B, Cout, T)`: the fused ops on the CPU backend
/// (training or inference), else burn's layers. `conv` must be a "same" convolution (stride and dilation 1),
/// as every model here builds.
pub fn conv_bn(conv: &Conv1d, bn: &BatchNorm, x: Tensor<3>, relu: bool) -> Tensor<3> {
    let fast = if bn.training.is_enabled() && x.device().is_autodiff() {
        fused(conv, bn, x.clone(), relu, Provider::best())
    } else {
        fused_inference(conv, bn, x.clone(), relu, Provider::best())
    };
    if let Some(y) = fast {
        return y;
    }
    let y = bn.forward(conv_gemm::conv_same(conv, x));
    if relu { burn::tensor::activation::relu(y) } else { y }
}

/// The fused path, or `None` where it does not apply (then nothing was computed).
fn fused(conv: &Conv1d, bn: &BatchNorm, x: Tensor<3>, relu: bool, provider: Provider) -> Option<Tensor<3>> {
    let bias = conv.bias.as_ref()?;
    let d = dims_of(x.dims(), conv.weight.dims());
    if x.dtype() != DType::F32 || conv.weight.val().dtype() != DType::F32 {
        return None;
    }
    let device = x.device();
    let prim = |t: Tensor<3>| t.try_into_primitive::<FlexAd>().ok();
    let prim1 = |t: Tensor<1>| t.try_into_primitive::<FlexAd>().ok();
    let inputs =
        [prim(x)?, prim(conv.weight.val())?, prim1(bias.val())?, prim1(bn.gamma.val())?, prim1(bn.beta.val())?];
    let (y, mean, var) = autodiff_conv_bn(inputs, d, bn.epsilon as f32, relu, provider);
    // Running statistics exactly as burn's `BatchNorm::forward_train` updates them.
    let update = |state: &burn::module::RunningState<Tensor<1>>, batch: Vec<f32>| {
        let batch = Tensor::<1>::from_data(TensorData::new(batch, [d.cout]), &device);
        let running = state.value_sync().to_device(&device);
        state.update(running.mul_scalar(1.0 - bn.momentum).add(batch.mul_scalar(bn.momentum)).detach());
    };
    update(&bn.running_mean, mean);
    update(&bn.running_var, var);
    Some(Tensor::from_primitive::<FlexAd>(y))
}

/// Inference (no autodiff, running statistics): the norm folded into one scale and shift per
/// channel, `relu?(Z·γ/σ + β + (bias − μ)·γ/σ)`, applied to the convolution's rows in one pass.
/// This is what evaluating the monitored split costs every epoch. `None` off the CPU backend.
fn fused_inference(conv: &Conv1d, bn: &BatchNorm, x: Tensor<3>, relu: bool, p: Provider) -> Option<Tensor<3>> {
    if x.dtype() != DType::F32 || conv.weight.val().dtype() != DType::F32 {
        return None;
    }
    let d = dims_of(x.dims(), conv.weight.dims());
    let xp = x.try_into_primitive::<Flex>().ok()?;
    let wp = conv.weight.val().try_into_primitive::<Flex>().ok()?;
    let host = |t: Tensor<1>| t.into_data().try_into_vec::<f32>().ok();
    let bias = match &conv.bias {
        Some(b) => host(b.val())?,
        None => vec![0.0; d.cout],
    };
    let (gamma, beta) = (host(bn.gamma.val())?, host(bn.beta.val())?);
    let (mean, var) = (host(bn.running_mean.value())?, host(bn.running_var.value())?);
    INFERENCE_CALLS.set(INFERENCE_CALLS.get() + 1);
    let n = d.batch * d.len;
    let mut z = conv_rows(Host::new(&xp).slice(), Host::new(&wp).slice(), d, p);
    let eps = bn.epsilon as f32;
    z.par_chunks_mut(n).enumerate().for_each(|(c, row)| {
        let scale = gamma[c] / (var[c] + eps).sqrt();
        let shift = beta[c] + (bias[c] - mean[c]) * scale;
        for v in row.iter_mut() {
            let a = *v * scale + shift;
            *v = if relu { a.max(0.0) } else { a };
        }
    });
    let y = flex_tensor(swap_outer(&z, d.cout, d.batch, d.len), [d.batch, d.cout, d.len]);
    Some(Tensor::from_primitive::<Flex>(y))
}

/// What backward needs: the input, the weight, the normalised rows of the forward pass, and
/// `γ`, `β` and `1/σ` per channel.
#[derive(Clone)]
struct State {
    x: FlexTensor,
    xhat: Arc<Vec<f32>>,
    weight: FlexTensor,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    inv_std: Vec<f32>,
    dims: Dims,
    relu: bool,
    provider: Provider,
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConvBnState").field("dims", &self.dims).field("relu", &self.relu).finish()
    }
}

/// Output `[B, Cout, T]`, batch means and (biased) variances, and the state for backward.
struct Forward {
    y: Vec<f32>,
    mean: Vec<f32>,
    var: Vec<f32>,
    state: State,
}

/// `Σ f(aᵢ, bᵢ)` over two equally long rows, in eight f64 lanes: vectorises, and the fixed order
/// keeps the bits independent of the thread count.
fn lane_sum(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f64 {
    const L: usize = 8;
    debug_assert_eq!(a.len(), b.len());
    let full = a.len() / L * L;
    let mut acc = [0f64; L];
    for (ca, cb) in a[..full].chunks_exact(L).zip(b[..full].chunks_exact(L)) {
        for l in 0..L {
            acc[l] += f64::from(f(ca[l], cb[l]));
        }
    }
    for (l, (&x, &y)) in a[full..].iter().zip(&b[full..]).enumerate() {
        acc[l] += f64::from(f(x, y));
    }
    acc.iter().sum()
}

#[allow(clippy::too_many_arguments)]
fn forward_host(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: &[f32],
    gamma: &[f32],
    beta: &[f32],
    d: Dims,
    eps: f32,
    relu: bool,
    p: Provider,
) -> Forward {
    FUSED_CALLS.set(FUSED_CALLS.get() + 1);
    let n = d.batch * d.len;
    let mut z = conv_rows(Host::new(x).slice(), Host::new(weight).slice(), d, p);
    let mut out = vec![0.0f32; d.cout * n];
    let stats: Vec<(f32, f32, f32)> = z
        .par_chunks_mut(n)
        .zip(out.par_chunks_mut(n))
        .enumerate()
        .map(|(c, (zr, or))| {
            let b = bias[c];
            zr.iter_mut().for_each(|v| *v += b);
            let mean = (lane_sum(zr, zr, |v, _| v) / n as f64) as f32;
            let var = (lane_sum(zr, zr, |v, _| (v - mean) * (v - mean)) / n as f64) as f32;
            let inv = 1.0 / (var + eps).sqrt();
            let (g, s) = (gamma[c], beta[c]);
            for (zv, ov) in zr.iter_mut().zip(or.iter_mut()) {
                let xh = (*zv - mean) * inv;
                *zv = xh;
                let a = g * xh + s;
                *ov = if relu { a.max(0.0) } else { a };
            }
            (mean, var, inv)
        })
        .collect();
    let y = swap_outer(&out, d.cout, d.batch, d.len);
    Forward {
        y,
        mean: stats.iter().map(|s| s.0).collect(),
        var: stats.iter().map(|s| s.1).collect(),
        state: State {
            x: x.clone(),
            xhat: Arc::new(z),
            weight: weight.clone(),
            gamma: gamma.to_vec(),
            beta: beta.to_vec(),
            inv_std: stats.iter().map(|s| s.2).collect(),
            dims: d,
            relu,
            provider: p,
        },
    }
}

/// Gradients `(∂x, ∂W, ∂bias, ∂γ, ∂β)` from the output gradient `g[B, Cout, T]`; `need` says
/// which inputs are tracked (`∂x` and the GEMMs are skipped when not needed).
fn backward_host(g: &[f32], s: &State, need_x: bool, need_w: bool) -> [Option<Vec<f32>>; 5] {
    let d = s.dims;
    let n = d.batch * d.len;
    let nf = n as f32;
    // ∂Z per channel row, in place over the output gradient (as [Cout, B·T]).
    let mut dz = swap_outer(g, d.batch, d.cout, d.len);
    let sums: Vec<(f32, f32, f32)> = dz
        .par_chunks_mut(n)
        .zip(s.xhat.par_chunks(n))
        .enumerate()
        .map(|(c, (row, xh))| {
            let (gm, bt, inv) = (s.gamma[c], s.beta[c], s.inv_std[c]);
            if s.relu {
                for (v, &x) in row.iter_mut().zip(xh) {
                    *v = if gm * x + bt > 0.0 { *v } else { 0.0 };
                }
            }
            let dbeta = lane_sum(row, row, |v, _| v) as f32;
            let dgamma = lane_sum(row, xh, |v, x| v * x) as f32;
            let (mb, mg) = (dbeta / nf, dgamma / nf);
            let k = gm * inv;
            for (v, &x) in row.iter_mut().zip(xh) {
                *v = k * (*v - mb - x * mg);
            }
            (lane_sum(row, row, |v, _| v) as f32, dgamma, dbeta)
        })
        .collect();
    let (x, w) = (Host::new(&s.x), Host::new(&s.weight));
    let (dx, dw) = conv_rows_backward(x.slice(), w.slice(), &dz, d, s.provider, need_x, need_w);
    [
        dx,
        dw,
        Some(sums.iter().map(|t| t.0).collect()),
        Some(sums.iter().map(|t| t.1).collect()),
        Some(sums.iter().map(|t| t.2).collect()),
    ]
}

#[derive(Debug)]
struct ConvBnBackward;

impl Backward<Flex, 5> for ConvBnBackward {
    type State = State;

    fn backward(self, ops: Ops<Self::State, 5>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node);
        let s = ops.state;
        let d = s.dims;
        let [nx, nw, ..] = &ops.parents;
        let out = backward_host(Host::new(&grad).slice(), &s, nx.is_some(), nw.is_some());
        let shapes: [Vec<usize>; 5] =
            [vec![d.batch, d.cin, d.len], vec![d.cout, d.cin, d.kernel], vec![d.cout], vec![d.cout], vec![d.cout]];
        for ((node, value), shape) in ops.parents.into_iter().zip(out).zip(shapes) {
            if let (Some(node), Some(value)) = (node, value) {
                grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(value, shape)));
            }
        }
    }
}

/// Runs the op on the autodiff backend's tensors `[x, W, bias, γ, β]`: the output and the batch
/// statistics (for the running averages).
fn autodiff_conv_bn(
    inputs: [FloatTensor<FlexAd>; 5],
    d: Dims,
    eps: f32,
    relu: bool,
    p: Provider,
) -> (FloatTensor<FlexAd>, Vec<f32>, Vec<f32>) {
    let host = |i: usize| Host::new(inputs[i].primitive());
    let (b, g, s) = (host(2), host(3), host(4));
    let f =
        forward_host(inputs[0].primitive(), inputs[1].primitive(), b.slice(), g.slice(), s.slice(), d, eps, relu, p);
    let y = flex_tensor(f.y, [d.batch, d.cout, d.len]);
    let nodes = inputs.each_ref().map(|t| t.node());
    let out = match ConvBnBackward.prepare::<NoCheckpointing>(nodes).compute_bound().stateful() {
        OpsKind::Tracked(prep) => prep.finish(f.state, y),
        OpsKind::UnTracked(prep) => prep.finish(y),
    };
    (out, f.mean, f.var)
}

#[cfg(test)]
mod tests {
    use burn::module::{Param, RunningState};
    use burn::nn::conv::Conv1dConfig;
    use burn::nn::{BatchNormConfig, PaddingConfig1d};
    use burn::tensor::Device;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn random<const D: usize>(shape: [usize; D], seed: u64, scale: f32, device: &Device) -> Tensor<D> {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        let n = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| (r.random::<f32>() * 2.0 - 1.0) * scale).collect();
        Tensor::from_data(TensorData::new(v, shape), device)
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().expect("f32")
    }

    fn max_rel_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        let scale = b.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max) / scale
    }

    /// A layer pair with random parameters (so γ, β and the bias all matter).
    fn layers(cin: usize, cout: usize, k: usize, seed: u64, device: &Device) -> (Conv1d, BatchNorm) {
        let mut conv = Conv1dConfig::new(cin, cout, k).with_padding(PaddingConfig1d::Same).init(device);
        conv.weight = Param::from_tensor(random([cout, cin, k], seed, 0.5, device));
        conv.bias = Some(Param::from_tensor(random([cout], seed + 1, 0.5, device)));
        let mut bn = BatchNormConfig::new(cout).with_momentum(0.1).with_epsilon(1e-3).init(device);
        bn.gamma = Param::from_tensor(random([cout], seed + 2, 1.0, device).add_scalar(1.0));
        bn.beta = Param::from_tensor(random([cout], seed + 3, 0.5, device));
        (conv, bn)
    }

    /// Output, the five gradients of `sum(y · r)` and the updated running statistics.
    fn run(
        conv: &Conv1d,
        bn: &BatchNorm,
        x: &Tensor<3>,
        r: &Tensor<3>,
        f: impl Fn(Tensor<3>) -> Tensor<3>,
    ) -> Vec<Vec<f32>> {
        let x = x.clone().require_grad();
        let y = f(x.clone());
        let grads = (y.clone() * r.clone()).sum().backward();
        let bias = conv.bias.as_ref().expect("bias").val();
        vec![
            values(y),
            values(x.grad(&grads).expect("∂x")),
            values(conv.weight.val().grad(&grads).expect("∂W")),
            values(bias.grad(&grads).expect("∂b")),
            values(bn.gamma.val().grad(&grads).expect("∂γ")),
            values(bn.beta.val().grad(&grads).expect("∂β")),
            values(bn.running_mean.value()),
            values(bn.running_var.value()),
        ]
    }

    /// Output, every gradient and the running statistics equal burn's Conv1d → BatchNorm → ReLU
    /// (and without the ReLU), for odd, even and unit kernels and a length-1 series.
    #[test]
    fn matches_burn_layers() {
        let device = Device::flex().autodiff();
        let names = ["y", "∂x", "∂W", "∂bias", "∂γ", "∂β", "running mean", "running var"];
        for (i, (b, cin, cout, k, t)) in
            [(3, 2, 5, 8, 13), (2, 4, 3, 5, 9), (4, 3, 2, 3, 1), (2, 1, 4, 1, 6), (7, 3, 4, 5, 130), (20, 2, 3, 4, 300)]
                .into_iter()
                .enumerate()
        {
            for relu in [true, false] {
                for p in super::conv_gemm::tests::providers() {
                    let seed = 10 * i as u64;
                    let x = random([b, cin, t], seed + 5, 1.0, &device);
                    let r = random([b, cout, t], seed + 6, 1.0, &device);
                    let (conv, bn) = layers(cin, cout, k, seed, &device);
                    let before = FUSED_CALLS.get();
                    let ours =
                        run(&conv, &bn, &x, &r, |x| fused(&conv, &bn, x, relu, p).expect("the fused op applies"));
                    assert!(FUSED_CALLS.get() > before, "the fused op did not run");
                    let (conv, bn) = layers(cin, cout, k, seed, &device);
                    let theirs = run(&conv, &bn, &x, &r, |x| {
                        let y = bn.forward(conv.forward(x));
                        if relu { burn::tensor::activation::relu(y) } else { y }
                    });
                    for ((name, a), e) in names.iter().zip(&ours).zip(&theirs) {
                        // The bias gradient is zero up to rounding (the norm subtracts the mean):
                        // compare it on the scale of ∂β.
                        let diff = if *name == "∂bias" {
                            let scale = ours[5].iter().fold(1.0f32, |m, v| m.max(v.abs()));
                            a.iter().chain(e).fold(0.0f32, |m, v| m.max(v.abs())) / scale
                        } else {
                            max_rel_diff(a, e)
                        };
                        assert!(diff < 1e-4, "{p:?} case {i} relu={relu}: {name} differs by {diff} (relative)");
                    }
                }
            }
        }
    }

    /// Inference folds the running statistics (not the batch's) into the fused op, matching
    /// burn's layers, and updates nothing; a frozen norm on the training device takes burn's
    /// layers.
    #[test]
    fn inference_uses_running_statistics() {
        let device = Device::flex();
        for p in super::conv_gemm::tests::providers() {
            let (conv, mut bn) = layers(2, 3, 3, 1, &device);
            bn.running_mean = RunningState::new(random([3], 8, 0.5, &device));
            bn.running_var = RunningState::new(random([3], 9, 0.5, &device).add_scalar(1.0));
            let x = random([5, 2, 7], 2, 1.0, &device);
            for relu in [true, false] {
                let before = INFERENCE_CALLS.get();
                let ours = values(fused_inference(&conv, &bn, x.clone(), relu, p).expect("applies"));
                assert!(INFERENCE_CALLS.get() > before);
                let y = bn.forward(conv.forward(x.clone()));
                let theirs = values(if relu { burn::tensor::activation::relu(y) } else { y });
                assert!(max_rel_diff(&ours, &theirs) < 1e-5, "{p:?} relu={relu}");
            }
            let before = INFERENCE_CALLS.get();
            let _ = values(conv_bn(&conv, &bn, x.clone(), true));
            assert!(INFERENCE_CALLS.get() > before, "conv_bn must take the fused inference path");
            assert_eq!(values(bn.running_mean.value()), values(random([3], 8, 0.5, &device)));
        }
        let device = device.autodiff();
        let (conv, mut bn) = layers(2, 3, 3, 1, &device);
        bn.training = Param::from_bool(false);
        let before = (FUSED_CALLS.get(), INFERENCE_CALLS.get());
        let x = random([5, 2, 7], 2, 1.0, &device);
        let ours = values(conv_bn(&conv, &bn, x.clone(), true));
        assert_eq!((FUSED_CALLS.get(), INFERENCE_CALLS.get()), before, "a frozen norm takes burn's layers");
        let theirs = values(burn::tensor::activation::relu(bn.forward(conv.forward(x))));
        assert_eq!(ours.len(), theirs.len());
    }

    /// Same inputs → same bits (output and gradients), with 1 and 3 threads.
    #[test]
    fn deterministic_across_thread_counts() {
        let device = Device::flex().autodiff();
        let x = random([12, 6, 90], 3, 1.0, &device);
        let r = random([12, 16, 90], 4, 1.0, &device);
        let once = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
            pool.install(|| {
                let (conv, bn) = layers(6, 16, 5, 7, &device);
                let bits = |v: &Vec<f32>| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                run(&conv, &bn, &x, &r, |x| conv_bn(&conv, &bn, x, true)).iter().map(bits).collect::<Vec<_>>()
            })
        };
        assert_eq!(once(1), once(3));
    }
}
