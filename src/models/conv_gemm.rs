//! Speed: a "same" Conv1d whose forward and both backward passes are three
//! large row-major sgemm calls on host buffers, as a custom burn operation with a handwritten
//! backward pass, so that the GEMM kernel can be chosen: the `gemm` crate (what burn `flex` uses)
//! or OpenBLAS loaded at run time.
//!
//! With `N = B·T` and `CK = Cin·k`, `cols[CK, N]` holds every output step's receptive field
//! (im2col, as runs of `T` copied values) and, with `G` the output gradient as `[Cout, N]`:
//! `Y = W·cols`, `∂W = G·colsᵀ`, `∂cols = Wᵀ·G` (then col2im into `∂x`): one GEMM each, with the
//! whole batch in `N`, and no transposes outside the GEMM (moving `[Cout, B, T]` ↔ `[B, Cout, T]`
//! copies runs of `T`). The bias is added with
//! ordinary tensor ops (autodiff derives its gradient). Only tensors of burn's `flex` backend (with
//! or without autodiff) take this path; others (CUDA) fall back to the same computation in tensor
//! ops. The models' "same" convolutions go through [`conv_same`]; results differ from burn's
//! `Conv1d` in the last bits and depend on the provider, so [`Provider::id`] is part of the CPU
//! device's cache key.
//!
//! How it reaches burn 0.22 (all public API, burn feature `extension`): `Tensor::try_into_primitive`
//! / `from_primitive` downcast a runtime-dispatched tensor to `Autodiff<Flex>`'s primitive and back;
//! `burn::backend::autodiff::ops::Backward` (`prepare` → `compute_bound` → `stateful` →
//! `finish`) registers the handwritten backward, as burn's own test
//! `tests/backend_extension_runtime.rs` (`autodiff_gradients`) does; `FlexTensor` is a host
//! buffer (`as_slice`, `from_data`). The `#[backend_extension]` macro is not needed for one
//! backend. Only `NoCheckpointing` autodiff devices (what `Device::autodiff()` gives) take the op.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::tensor::FloatTensor;
use burn::tensor::ops::PadMode;
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;

pub use super::gemm::{OpenBlas, Provider, RawGemm};

/// The training backend of the CPU device (`Device::flex().autodiff()`).
pub(super) type FlexAd = Autodiff<Flex, NoCheckpointing>;

/// Calls of the custom forward and backward kernels (lets the tests prove the op, not the
/// tensor-ops fallback, ran).
static KERNEL_CALLS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// Revision of the CPU kernels' arithmetic (this op and [`super::conv_bn`]): part of the CPU
/// device's cache key, bumped whenever a change moves the bits of results (2: batch norm fused
/// in training, per-series GEMM blocks, blocked weight-gradient sums; 3: batch norm folded into
/// the convolution at inference).
pub const KERNELS_REVISION: u32 = 3;

/// Keras/burn "same" padding: `k - 1` zeros in all, the odd one on the right.
pub fn same_padding(kernel: usize) -> (usize, usize) {
    let total = kernel.saturating_sub(1);
    (total / 2, total - total / 2)
}

/// Sizes of one convolution.
#[derive(Debug, Clone, Copy)]
pub(super) struct Dims {
    pub(super) batch: usize,
    pub(super) cin: usize,
    pub(super) len: usize,
    pub(super) cout: usize,
    pub(super) kernel: usize,
}

impl Dims {
    pub(super) fn ck(&self) -> usize {
        self.cin * self.kernel
    }
}

/// `x[B, Cin, T]` → `cols[Cin·k, B·T]`, `cols[c·k + j, b·T + t] = x[b, c, t + j - left]` (0
/// outside): every row is runs of `T` contiguous values, so this is copies, not a transpose.
fn im2col(x: &[f32], d: Dims) -> Vec<f32> {
    let (left, _) = same_padding(d.kernel);
    let n = d.batch * d.len;
    let mut cols = vec![0.0f32; d.ck() * n];
    for (row, out) in cols.chunks_exact_mut(n).enumerate() {
        let (c, j) = (row / d.kernel, row % d.kernel);
        // Output steps t with 0 <= t + j - left < T.
        let t0 = left.saturating_sub(j);
        let t1 = (d.len + left).saturating_sub(j).min(d.len);
        if t0 >= t1 {
            continue;
        }
        for b in 0..d.batch {
            let src = &x[(b * d.cin + c) * d.len..][..d.len];
            out[b * d.len + t0..b * d.len + t1].copy_from_slice(&src[t0 + j - left..t1 + j - left]);
        }
    }
    cols
}

/// The adjoint of [`im2col`], added into `dx[B, Cin, T]`: `∂x[b, c, s] += Σ_j ∂cols[c·k + j,
/// b·T + s + left - j]`, j ascending.
fn col2im_add(dcols: &[f32], d: Dims, dx: &mut [f32]) {
    let (left, _) = same_padding(d.kernel);
    let n = d.batch * d.len;
    for (row, out) in dx.chunks_exact_mut(d.len).enumerate() {
        let (b, c) = (row / d.cin, row % d.cin);
        for j in 0..d.kernel {
            let src = &dcols[(c * d.kernel + j) * n + b * d.len..][..d.len];
            // s with 0 <= s + left - j < T.
            let s0 = j.saturating_sub(left);
            let s1 = (d.len + j).saturating_sub(left).min(d.len);
            if s0 < s1 {
                let src = &src[s0 + left - j..s1 + left - j];
                out[s0..s1].iter_mut().zip(src).for_each(|(o, v)| *o += v);
            }
        }
    }
}

/// Columns of one GEMM block: an im2col tile of `Cin·k × ~512` floats (1–2 MB for the models'
/// layers) stays in cache between being written and multiplied, where a whole-batch im2col
/// (160 MB at B=128, T=500) went through memory twice per pass.
const BLOCK_COLUMNS: usize = 512;

/// Partial weight gradients summed at the end (fixed, so the bits do not depend on threads).
const WEIGHT_GRAD_GROUPS: usize = 8;

/// The batch cut into runs of whole series of about [`BLOCK_COLUMNS`] columns: series are
/// convolved independently ("same" padding is per series), so each run is its own small
/// im2col + GEMM, run in parallel. Depends only on the sizes.
fn series_blocks(d: Dims) -> Vec<std::ops::Range<usize>> {
    let per = (BLOCK_COLUMNS / d.len.max(1)).max(1);
    (0..d.batch).step_by(per).map(|b| b..(b + per).min(d.batch)).collect()
}

/// `Z[Cout, B·T] = W·cols(x)`: the convolution without bias, one row per output channel.
pub(super) fn conv_rows(x: &[f32], w: &[f32], d: Dims, p: Provider) -> Vec<f32> {
    let n = d.batch * d.len;
    let ck = d.ck();
    assert_eq!(x.len(), n * d.cin, "conv_rows: input size");
    assert_eq!(w.len(), d.cout * ck, "conv_rows: weight size");
    let mut z = vec![0.0f32; d.cout * n];
    let blocks = series_blocks(d);
    if blocks.len() == 1 {
        // One block (a single long series, or a small batch): split the GEMM's columns instead.
        p.sgemm(false, false, (d.cout, n, ck), w, ck, &im2col(x, d), n, 0.0, &mut z, n);
        return z;
    }
    // As an address, so that rayon's workers may take it (they write disjoint columns).
    let zp = z.as_mut_ptr() as usize;
    blocks.into_par_iter().for_each(|r| {
        let sub = Dims { batch: r.len(), ..d };
        let nb = sub.batch * d.len;
        let cols = im2col(&x[r.start * d.cin * d.len..r.end * d.cin * d.len], sub);
        // SAFETY: columns r.start·T .. r.end·T of every row of Z (in bounds, ldc = n) belong to
        // this block only; A and B are whole live slices of the sizes asserted above.
        unsafe {
            p.sgemm_serial(RawGemm {
                ta: false,
                tb: false,
                m: d.cout,
                n: nb,
                k: ck,
                a: w.as_ptr(),
                lda: ck,
                b: cols.as_ptr(),
                ldb: nb,
                beta: 0.0,
                c: (zp as *mut f32).add(r.start * d.len),
                ldc: n,
            })
        }
    });
    z
}

/// Backward of [`conv_rows`] from `∂Z[Cout, B·T]`: `(∂x, ∂W)` with `∂W = ∂Z·colsᵀ` and
/// `∂cols = Wᵀ·∂Z` (then col2im), per block of series; `∂W` is the sum of
/// [`WEIGHT_GRAD_GROUPS`] partial sums taken in order.
pub(super) fn conv_rows_backward(
    x: &[f32],
    w: &[f32],
    dz: &[f32],
    d: Dims,
    p: Provider,
    need_x: bool,
    need_w: bool,
) -> (Option<Vec<f32>>, Option<Vec<f32>>) {
    let n = d.batch * d.len;
    let ck = d.ck();
    assert_eq!(dz.len(), d.cout * n, "conv_rows_backward: gradient size");
    let blocks = series_blocks(d);
    if blocks.len() == 1 {
        let dw = need_w.then(|| {
            let mut dw = vec![0.0f32; d.cout * ck];
            p.sgemm(false, true, (d.cout, ck, n), dz, n, &im2col(x, d), n, 0.0, &mut dw, ck);
            dw
        });
        let dx = need_x.then(|| {
            let mut dcols = vec![0.0f32; ck * n];
            p.sgemm(true, false, (ck, n, d.cout), w, ck, dz, n, 0.0, &mut dcols, n);
            let mut dx = vec![0.0f32; n * d.cin];
            col2im_add(&dcols, d, &mut dx);
            dx
        });
        return (dx, dw);
    }
    // Groups of consecutive blocks; each owns its series' part of ∂x and one partial ∂W.
    let groups = WEIGHT_GRAD_GROUPS.min(blocks.len());
    let per_group: Vec<Vec<std::ops::Range<usize>>> =
        (0..groups).map(|g| blocks[g * blocks.len() / groups..(g + 1) * blocks.len() / groups].to_vec()).collect();
    let mut dx = need_x.then(|| vec![0.0f32; n * d.cin]);
    let mut dx_parts: Vec<Option<&mut [f32]>> = Vec::with_capacity(groups);
    match dx.as_deref_mut() {
        Some(mut rest) => {
            for g in &per_group {
                let series = g.last().map_or(0, |r| r.end) - g.first().map_or(0, |r| r.start);
                let (head, tail) = rest.split_at_mut(series * d.cin * d.len);
                dx_parts.push(Some(head));
                rest = tail;
            }
        }
        None => dx_parts.resize_with(groups, || None),
    }
    let dz_ptr = dz.as_ptr() as usize;
    let partials: Vec<Option<Vec<f32>>> = per_group
        .into_par_iter()
        .zip(dx_parts)
        .map(|(g, mut dx_part)| {
            let first = g.first().map_or(0, |r| r.start);
            let mut dw = need_w.then(|| vec![0.0f32; d.cout * ck]);
            for (i, r) in g.iter().enumerate() {
                let sub = Dims { batch: r.len(), ..d };
                let nb = sub.batch * d.len;
                // ∂Z's columns of this block: row stride n.
                let dz_blk = (dz_ptr as *const f32).wrapping_add(r.start * d.len);
                if let Some(dw) = dw.as_mut() {
                    let cols = im2col(&x[r.start * d.cin * d.len..r.end * d.cin * d.len], sub);
                    let beta = if i == 0 { 0.0 } else { 1.0 };
                    // SAFETY: ∂Z block [Cout, nb] with lda = n lies inside dz (asserted size);
                    // dw is this group's own buffer.
                    unsafe {
                        p.sgemm_serial(RawGemm {
                            ta: false,
                            tb: true,
                            m: d.cout,
                            n: ck,
                            k: nb,
                            a: dz_blk,
                            lda: n,
                            b: cols.as_ptr(),
                            ldb: nb,
                            beta,
                            c: dw.as_mut_ptr(),
                            ldc: ck,
                        })
                    }
                }
                if let Some(part) = dx_part.as_deref_mut() {
                    let mut dcols = vec![0.0f32; ck * nb];
                    // SAFETY: as above; dcols is this block's own buffer.
                    unsafe {
                        p.sgemm_serial(RawGemm {
                            ta: true,
                            tb: false,
                            m: ck,
                            n: nb,
                            k: d.cout,
                            a: w.as_ptr(),
                            lda: ck,
                            b: dz_blk,
                            ldb: n,
                            beta: 0.0,
                            c: dcols.as_mut_ptr(),
                            ldc: nb,
                        })
                    }
                    let off = (r.start - first) * d.cin * d.len;
                    col2im_add(&dcols, sub, &mut part[off..off + nb * d.cin]);
                }
            }
            dw
        })
        .collect();
    let dw = need_w.then(|| {
        let mut parts = partials.into_iter().flatten();
        let mut dw = parts.next().unwrap_or_else(|| vec![0.0f32; d.cout * ck]);
        for part in parts {
            dw.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
        }
        dw
    });
    (dx, dw)
}

/// `[P, Q, T]` → `[Q, P, T]`: moves runs of `T` values (`[Cout, B, T]` ↔ `[B, Cout, T]`).
pub(super) fn swap_outer(src: &[f32], p: usize, q: usize, len: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; src.len()];
    out.par_chunks_mut(p * len).enumerate().for_each(|(qi, o)| {
        for pi in 0..p {
            o[pi * len..(pi + 1) * len].copy_from_slice(&src[(pi * q + qi) * len..][..len]);
        }
    });
    out
}

/// A contiguous f32 view of a flex tensor (a copy only when the layout is strided).
pub(super) struct Host(FlexTensor);

impl Host {
    pub(super) fn new(t: &FlexTensor) -> Host {
        let t = if t.as_slice::<f32>().is_some() { t.clone() } else { t.to_contiguous() };
        Host(t)
    }

    pub(super) fn slice(&self) -> &[f32] {
        self.0.as_slice::<f32>().expect("a contiguous f32 tensor")
    }
}

pub(super) fn flex_tensor<const D: usize>(v: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(v, shape))
}

/// Forward on host buffers: `y[B, Cout, T]` from `Z = W·cols` (`[Cout, B·T]`).
fn forward_host(x: &[f32], w: &[f32], d: Dims, p: Provider) -> Vec<f32> {
    KERNEL_CALLS[0].fetch_add(1, Ordering::Relaxed);
    swap_outer(&conv_rows(x, w, d, p), d.cout, d.batch, d.len)
}

/// Backward on host buffers: `(∂x, ∂W)` from the output gradient `g[B, Cout, T]`.
fn backward_host(
    x: &[f32],
    w: &[f32],
    g: &[f32],
    d: Dims,
    p: Provider,
    need_x: bool,
    need_w: bool,
) -> (Option<Vec<f32>>, Option<Vec<f32>>) {
    KERNEL_CALLS[1].fetch_add(1, Ordering::Relaxed);
    conv_rows_backward(x, w, &swap_outer(g, d.batch, d.cout, d.len), d, p, need_x, need_w)
}

#[derive(Debug)]
struct ConvBackward;

/// What the backward pass needs: the inputs (shared, not copied) and the provider.
#[derive(Clone)]
struct ConvState {
    x: FlexTensor,
    w: FlexTensor,
    dims: Dims,
    provider: Provider,
}

impl fmt::Debug for ConvState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConvState").field("dims", &self.dims).field("provider", &self.provider).finish()
    }
}

impl Backward<Flex, 2> for ConvBackward {
    type State = ConvState;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let s = ops.state;
        let (dx, dw) = backward_host(
            Host::new(&s.x).slice(),
            Host::new(&s.w).slice(),
            Host::new(&grad).slice(),
            s.dims,
            s.provider,
            node_x.is_some(),
            node_w.is_some(),
        );
        let d = s.dims;
        if let (Some(node), Some(dx)) = (node_x, dx) {
            grads.register::<Flex>(node.id, flex_tensor(dx, [d.batch, d.cin, d.len]));
        }
        if let (Some(node), Some(dw)) = (node_w, dw) {
            grads.register::<Flex>(node.id, flex_tensor(dw, [d.cout, d.cin, d.kernel]));
        }
    }
}

pub(super) fn dims_of(x: [usize; 3], w: [usize; 3]) -> Dims {
    assert_eq!(x[1], w[1], "conv1d_same: input has {} channels, the weight expects {}", x[1], w[1]);
    Dims { batch: x[0], cin: x[1], len: x[2], cout: w[0], kernel: w[2] }
}

/// `FloatTensor<FlexAd>` is burn-autodiff's `AutodiffTensor<Flex>` (a type it does not export by
/// name; its `node`/`primitive` methods are public).
fn autodiff_conv(x: FloatTensor<FlexAd>, w: FloatTensor<FlexAd>, d: Dims, p: Provider) -> FloatTensor<FlexAd> {
    let run = |xp: &FlexTensor, wp: &FlexTensor| {
        flex_tensor(forward_host(Host::new(xp).slice(), Host::new(wp).slice(), d, p), [d.batch, d.cout, d.len])
    };
    match ConvBackward.prepare::<NoCheckpointing>([x.node(), w.node()]).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let (xp, wp) = (x.primitive().clone(), w.primitive().clone());
            let y = run(&xp, &wp);
            prep.finish(ConvState { x: xp, w: wp, dims: d, provider: p }, y)
        }
        OpsKind::UnTracked(prep) => prep.finish(run(x.primitive(), w.primitive())),
    }
}

/// The fallback in tensor ops (any backend): unfold + one broadcast matrix product.
fn conv_tensor_ops(x: Tensor<3>, weight: Tensor<3>) -> Tensor<3> {
    let [batch, cin, len] = x.dims();
    let [cout, _, kernel] = weight.dims();
    let (left, right) = same_padding(kernel);
    let padded = x.pad([(left, right)], PadMode::Constant(0.0));
    let taps: Vec<Tensor<3>> = (0..kernel).map(|j| padded.clone().slice([0..batch, 0..cin, j..j + len])).collect();
    let cols = Tensor::stack::<4>(taps, 2).reshape([batch, cin * kernel, len]);
    weight.reshape([1, cout, cin * kernel]).matmul(cols)
}

/// `(B, Cin, T)` → `(B, Cout, T)`: stride 1, dilation 1, "same" padding, like
/// `Conv1dConfig::new(cin, cout, k).with_padding(PaddingConfig1d::Same)`, with the products done
/// by `provider` on the CPU backend (f32).
pub fn conv1d_same(x: Tensor<3>, weight: Tensor<3>, bias: Option<Tensor<1>>, provider: Provider) -> Tensor<3> {
    let d = dims_of(x.dims(), weight.dims());
    let f32s = x.dtype() == DType::F32 && weight.dtype() == DType::F32;
    let y = match (
        f32s.then(|| x.clone().try_into_primitive::<FlexAd>().ok()).flatten(),
        f32s.then(|| weight.clone().try_into_primitive::<FlexAd>().ok()).flatten(),
    ) {
        (Some(xp), Some(wp)) => Tensor::from_primitive::<FlexAd>(autodiff_conv(xp, wp, d, provider)),
        _ => match (
            f32s.then(|| x.clone().try_into_primitive::<Flex>().ok()).flatten(),
            f32s.then(|| weight.clone().try_into_primitive::<Flex>().ok()).flatten(),
        ) {
            (Some(xp), Some(wp)) => Tensor::from_primitive::<Flex>(flex_tensor(
                forward_host(Host::new(&xp).slice(), Host::new(&wp).slice(), d, provider),
                [d.batch, d.cout, d.len],
            )),
            _ => conv_tensor_ops(x, weight),
        },
    };
    match bias {
        Some(b) => y + b.reshape([1, d.cout, 1]),
        None => y,
    }
}

/// The "same" convolution every model uses: on the CPU backend the custom op with the best
/// sgemm available ([`Provider::best`], which enters the CPU device's cache key through
/// `Device::backend_id`), elsewhere (CUDA) burn's own `Conv1d`.
pub fn conv_same(conv: &burn::nn::conv::Conv1d, x: Tensor<3>) -> Tensor<3> {
    let on_cpu = x.clone().try_into_primitive::<FlexAd>().is_ok() || x.clone().try_into_primitive::<Flex>().is_ok();
    if on_cpu { forward_same(conv, x, Provider::best()) } else { conv.forward(x) }
}

/// [`conv1d_same`] with a burn `Conv1d` module's parameters (its padding must be `Same`, stride
/// and dilation 1 — what every model here builds).
pub fn forward_same(conv: &burn::nn::conv::Conv1d, x: Tensor<3>, provider: Provider) -> Tensor<3> {
    conv1d_same(x, conv.weight.val(), conv.bias.as_ref().map(|b| b.val()), provider)
}

#[cfg(test)]
pub(super) mod tests {
    use burn::module::Param;
    use burn::nn::PaddingConfig1d;
    use burn::nn::conv::Conv1dConfig;
    use burn::tensor::Device;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::models::gemm::x86::Isa;

    fn random(shape: [usize; 3], seed: u64, device: &Device) -> Tensor<3> {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        let n = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| r.random::<f32>() * 2.0 - 1.0).collect();
        Tensor::from_data(TensorData::new(v, shape), device)
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().expect("f32")
    }

    fn max_abs_diff(a: Vec<f32>, b: Vec<f32>) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    fn kernel_calls() -> [usize; 2] {
        [KERNEL_CALLS[0].load(Ordering::Relaxed), KERNEL_CALLS[1].load(Ordering::Relaxed)]
    }

    /// Every provider that can be opened here; `TSCPIPE_REQUIRE_OPENBLAS=1` (CI) makes a missing
    /// OpenBLAS a failure instead of a note.
    pub(in crate::models) fn providers() -> Vec<Provider> {
        let mut p = vec![Provider::GemmCrate];
        for isa in [Isa::Avx512, Isa::Avx2] {
            if isa.available() {
                p.push(Provider::X86(isa));
            }
        }
        if let Some(lib) = OpenBlas::get() {
            p.push(Provider::OpenBlas(lib));
        } else if std::env::var_os("TSCPIPE_REQUIRE_OPENBLAS").is_some_and(|v| v == "1") {
            panic!("TSCPIPE_REQUIRE_OPENBLAS=1 but OpenBLAS cannot be opened: {:?}", OpenBlas::load().err());
        } else {
            eprintln!("OpenBLAS not found ({:?}); testing the gemm crate only", OpenBlas::load().err());
        }
        p
    }

    /// (output, ∂x, ∂W, ∂b) of `sum(y · r)` for a fixed random `r`, so every output element's
    /// gradient differs.
    fn run(
        conv: &burn::nn::conv::Conv1d,
        x: &Tensor<3>,
        r: &Tensor<3>,
        f: impl Fn(&burn::nn::conv::Conv1d, Tensor<3>) -> Tensor<3>,
    ) -> [Vec<f32>; 4] {
        let x = x.clone().require_grad();
        let y = f(conv, x.clone());
        let grads = (y.clone() * r.clone()).sum().backward();
        let bias = conv.bias.as_ref().expect("bias");
        [
            values(y),
            values(x.grad(&grads).expect("∂x")),
            values(conv.weight.val().grad(&grads).expect("∂W")),
            values(bias.val().grad(&grads).expect("∂b")),
        ]
    }

    /// Same outputs and gradients (input, weight, bias) as burn's `Conv1d` within 1e-4, for odd,
    /// even and unit kernels, with each provider.
    #[test]
    fn matches_burn_conv1d_forward_and_backward() {
        let device = Device::flex().autodiff();
        for p in providers() {
            for (i, (b, cin, cout, k, t)) in [
                (2, 1, 4, 8, 13),
                (3, 3, 5, 5, 9),
                (2, 4, 2, 3, 7),
                (1, 2, 3, 1, 6),
                (2, 2, 2, 4, 3),
                (2, 2, 3, 8, 2),
                // Several series blocks (3 of 2 series), and more blocks than ∂W groups.
                (5, 3, 4, 5, 200),
                (20, 2, 3, 4, 300),
            ]
            .into_iter()
            .enumerate()
            {
                let seed = i as u64;
                let mut conv = Conv1dConfig::new(cin, cout, k).with_padding(PaddingConfig1d::Same).init(&device);
                conv.weight = Param::from_tensor(random([cout, cin, k], 100 + seed, &device));
                conv.bias = Some(Param::from_tensor(random([1, 1, cout], 200 + seed, &device).reshape([cout])));
                let x = random([b, cin, t], 300 + seed, &device);
                let r = random([b, cout, t], 400 + seed, &device);
                let calls = kernel_calls();
                let ours = run(&conv, &x, &r, |c, x| forward_same(c, x, p));
                let after = kernel_calls();
                assert!(after[0] > calls[0] && after[1] > calls[1], "the custom op did not run");
                let burns = run(&conv, &x, &r, |c, x| c.forward(x));
                for (what, (a, e)) in ["y", "∂x", "∂W", "∂b"].iter().zip(ours.into_iter().zip(burns)) {
                    let diff = max_abs_diff(a, e);
                    assert!(diff < 1e-4, "{p:?} case {i}: {what} differs by {diff}");
                }
            }
        }
    }

    /// Inference (no autodiff) and the tensor-ops fallback agree with the custom op.
    #[test]
    fn inference_path_matches() {
        let device = Device::flex();
        let x = random([3, 4, 11], 1, &device);
        let w = random([5, 4, 3], 2, &device);
        let expected = values(conv_tensor_ops(x.clone(), w.clone()));
        for p in providers() {
            let calls = kernel_calls();
            let ours = values(conv1d_same(x.clone(), w.clone(), None, p));
            assert!(kernel_calls()[0] > calls[0], "the custom op did not run");
            assert!(max_abs_diff(ours, expected.clone()) < 1e-4, "{p:?}");
        }
    }

    /// Same inputs → same bits, run to run, for output and gradients.
    #[test]
    fn deterministic() {
        let device = Device::flex().autodiff();
        let x = random([4, 6, 40], 5, &device);
        let w = random([8, 6, 5], 6, &device).require_grad();
        let r = random([4, 8, 40], 7, &device);
        for p in providers() {
            let once = || {
                let x = x.clone().require_grad();
                let y = conv1d_same(x.clone(), w.clone(), None, p);
                let g = (y.clone() * r.clone()).sum().backward();
                (values(y), values(x.grad(&g).expect("∂x")), values(w.grad(&g).expect("∂W")))
            };
            let (a, b) = (once(), once());
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a.0), bits(&b.0));
            assert_eq!(bits(&a.1), bits(&b.1));
            assert_eq!(bits(&a.2), bits(&b.2));
        }
    }

    /// Same bits with 1 and 3 rayon threads (OpenBLAS's column blocks are fixed, the gemm
    /// crate splits alike), at a size where the blocks and threads do split the work.
    #[test]
    fn bits_do_not_depend_on_thread_count() {
        let device = Device::flex().autodiff();
        let x = random([6, 16, 100], 8, &device);
        let w = random([20, 16, 5], 9, &device).require_grad();
        let r = random([6, 20, 100], 10, &device);
        for p in providers() {
            let once = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
                pool.install(|| {
                    let x = x.clone().require_grad();
                    let y = conv1d_same(x.clone(), w.clone(), None, p);
                    let g = (y.clone() * r.clone()).sum().backward();
                    let bits = |v: Vec<f32>| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                    (bits(values(y)), bits(values(x.grad(&g).expect("∂x"))), bits(values(w.grad(&g).expect("∂W"))))
                })
            };
            assert_eq!(once(1), once(3), "{p:?}");
        }
    }

    /// The cache-key part names the provider and differs between providers.
    #[test]
    fn provider_ids_differ() {
        let gemm = Provider::GemmCrate.id();
        assert!(gemm.starts_with("sgemm:gemm-0.19/"));
        if let Some(lib) = OpenBlas::get() {
            let blas = Provider::OpenBlas(lib).id();
            assert!(blas.starts_with("sgemm:openblas/"));
            assert_ne!(gemm, blas);
        }
        assert_ne!(Provider::X86(Isa::Avx512).id(), gemm);
        assert_ne!(Provider::X86(Isa::Avx512).id(), Provider::X86(Isa::Avx2).id());
    }
}
