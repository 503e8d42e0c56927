//! MiniRocket (Dempster, Schmidt & Webb 2021): 84 fixed length-9 kernels with weights −1 and 2,
//! dilated, biased by quantiles of their own convolution output, pooled by the proportion of
//! positive values (PPV). Follows the authors' `code/minirocket.py`, `minirocket_dv.py` and
//! `minirocket_multivariate.py` (angus924/minirocket) step by step, in `f32` as they do:
//!
//! - kernels: the 84 index triples `combinations(range(9), 3)` in lexicographic order; a kernel
//!   is `−1` at its nine taps plus `3` at its three chosen taps, so its output is
//!   `C = C_α + C_γ[i₀] + C_γ[i₁] + C_γ[i₂]` with `C_α = Σ −x` over the dilated taps and
//!   `C_γ[j] = 3x` shifted to tap `j` (zero padding), summed in the reference's order so that
//!   every value rounds identically;
//! - dilations: `⌊2^linspace(0, log2((L−1)/8), min(F/84, 32))⌋`, made unique, each carrying the
//!   features its multiplicity gives (the remainder spread from the smallest dilation up);
//! - biases: quantiles `q_k = frac(k·φ)` (the golden-ratio low-discrepancy sequence) of the
//!   convolution output, NumPy's linear interpolation evaluated in `f32` (`np.quantile` on
//!   `float32` data). The random variant draws one training series per kernel and dilation; the
//!   deterministic variant (`minirocket_dv.py`) pools the output over every training series;
//! - padding: kernel `k` at dilation index `d` pools over the full (zero-padded) output when
//!   `(d + k)` is even, and over the output without the `4·dilation` edge values otherwise;
//! - PPV: the share of values strictly greater than the bias (`count / len` in `f32`).
//!
//! Multivariate series (the authors' naive extension): every kernel/dilation combination sums
//! its output over a random subset of `⌊2^U(0, log2(min(C, 9) + 1))⌋` channels.
//!
//! The random choices (which series, which channels) come from a ChaCha8 generator seeded by the
//! caller, so a seed gives the same features on every machine; they cannot equal NumPy's draws.
//! The deterministic variant has no random choice for univariate series.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Kernels, each of length 9.
pub const NUM_KERNELS: usize = 84;
const KERNEL_LEN: usize = 9;

/// The 84 triples `itertools.combinations(range(9), 3)`, lexicographic.
pub fn kernel_indices() -> [[usize; 3]; NUM_KERNELS] {
    let mut out = [[0; 3]; NUM_KERNELS];
    let mut k = 0;
    for a in 0..KERNEL_LEN {
        for b in a + 1..KERNEL_LEN {
            for c in b + 1..KERNEL_LEN {
                out[k] = [a, b, c];
                k += 1;
            }
        }
    }
    out
}

/// How the biases are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BiasMode {
    /// From one random training series per kernel and dilation (`minirocket.py`).
    Random { seed: u64 },
    /// From the output over all training series (`minirocket_dv.py`).
    Deterministic { seed: u64 },
}

impl BiasMode {
    fn seed(self) -> u64 {
        match self {
            BiasMode::Random { seed } | BiasMode::Deterministic { seed } => seed,
        }
    }
}

/// Why MiniRocket could not be fitted or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RocketError {
    #[error("no training series")]
    EmptyTrain,
    #[error("series of length {0}: MiniRocket needs at least 9 values")]
    TooShort(usize),
    #[error("at least {min} features are needed (one per kernel), {given} were asked for")]
    TooFewFeatures { min: usize, given: usize },
    #[error("the series have {given:?} (channels, length) but the transform was fitted on {fitted:?}")]
    ShapeMismatch { fitted: (usize, usize), given: (usize, usize) },
    #[error("a value is not finite (series {series})")]
    NotFinite { series: usize },
    #[error("{method} is implemented for univariate series; these have {channels} channels")]
    UnivariateOnly { method: &'static str, channels: usize },
}

/// `_fit_dilations`: the dilations and the number of features each carries (per kernel).
pub fn fit_dilations(
    input_length: usize,
    num_features: usize,
    max_dilations_per_kernel: usize,
) -> (Vec<usize>, Vec<usize>) {
    let per_kernel = num_features / NUM_KERNELS;
    let true_max = per_kernel.min(max_dilations_per_kernel).max(1);
    let multiplier = per_kernel as f64 / true_max as f64;
    let max_exponent = ((input_length as f64 - 1.0) / 8.0).log2();
    // np.logspace(0, max_exponent, true_max, base=2).astype(int32), then np.unique with counts.
    let step = if true_max > 1 { max_exponent / (true_max - 1) as f64 } else { 0.0 };
    let mut raw: Vec<usize> = (0..true_max)
        .map(|i| {
            let y = if i + 1 == true_max && true_max > 1 { max_exponent } else { i as f64 * step };
            2f64.powf(y) as usize
        })
        .collect();
    raw.sort_unstable();
    let mut dilations: Vec<usize> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    for d in raw {
        if dilations.last() == Some(&d) {
            *counts.last_mut().unwrap_or(&mut 0) += 1;
        } else {
            dilations.push(d);
            counts.push(1);
        }
    }
    let mut per_dilation: Vec<usize> = counts.iter().map(|c| (*c as f64 * multiplier) as usize).collect();
    let mut remainder = per_kernel.saturating_sub(per_dilation.iter().sum());
    let mut i = 0;
    while remainder > 0 {
        per_dilation[i] += 1;
        remainder -= 1;
        i = (i + 1) % per_dilation.len();
    }
    (dilations, per_dilation)
}

/// `_quantiles`: `frac(k · (√5 + 1) / 2)` for `k = 1..=n`, computed in `f64`, stored as `f32`.
pub fn quantiles(n: usize) -> Vec<f32> {
    let phi = (5f64.sqrt() + 1.0) / 2.0;
    (1..=n).map(|k| ((k as f64 * phi) % 1.0) as f32).collect()
}

/// `np.quantile(values, q)` (method "linear") for `float32` data, evaluated in `f32` as NumPy
/// does; `sorted` must be ascending.
pub fn quantile_f32(sorted: &[f32], q: f32) -> f32 {
    let n = sorted.len();
    let last = (n - 1) as f32;
    let vi = last * q;
    if vi >= last {
        return sorted[n - 1];
    }
    let lo = vi.floor().max(0.0);
    let gamma = vi - lo;
    let (a, b) = (sorted[lo as usize], sorted[lo as usize + 1]);
    let diff = b - a;
    if gamma >= 0.5 { b - diff * (1.0 - gamma) } else { a + diff * gamma }
}

/// The fitted transform.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MiniRocket {
    pub channels: usize,
    pub input_length: usize,
    pub dilations: Vec<usize>,
    pub features_per_dilation: Vec<usize>,
    /// One per feature, in output order (dilation, kernel, quantile).
    pub biases: Vec<f32>,
    /// Per kernel/dilation combination (dilation-major), the channels summed; empty for
    /// univariate series.
    pub combinations: Vec<Vec<usize>>,
}

/// `C_α` and the nine `C_γ` rows of one channel at one dilation (the reference's loops).
/// `end_len` is the length the left-tap loop starts from (`end = end_len − padding`): the series
/// length, except in MultiRocket's transform of the first difference, where the reference (and
/// aeon) start from the original length, shifting the left taps by one.
#[inline(always)]
fn alpha_gamma(x: &[f32], dilation: usize, end_len: usize, alpha: &mut [f32], gamma: &mut [f32]) {
    let l = x.len();
    let padding = (KERNEL_LEN - 1) * dilation / 2;
    // A = −x, G = x + x + x.
    for (a, v) in alpha.iter_mut().zip(x) {
        *a = -*v;
    }
    gamma.fill(0.0);
    for (t, v) in x.iter().enumerate() {
        gamma[4 * l + t] = *v + *v + *v;
    }
    // Taps left of centre: C_α[-end:] += A[:end], C_γ[j, -end:] = G[:end].
    let mut end = end_len.saturating_sub(padding);
    for j in 0..KERNEL_LEN / 2 {
        let end_c = end.min(l);
        let off = l - end_c;
        for t in 0..end_c {
            alpha[off + t] += -x[t];
            gamma[j * l + off + t] = x[t] + x[t] + x[t];
        }
        end += dilation;
    }
    // Taps right of centre: C_α[:-start] += A[start:], C_γ[j, :-start] = G[start:].
    let mut start = dilation;
    for j in KERNEL_LEN / 2 + 1..KERNEL_LEN {
        if start < l {
            for t in 0..l - start {
                alpha[t] += -x[start + t];
                gamma[j * l + t] = x[start + t] + x[start + t] + x[start + t];
            }
        }
        start += dilation;
    }
}

/// Scratch for one series: `C_α` and `C_γ` of every channel at one dilation, and an output row.
pub(crate) struct Scratch {
    alpha: Vec<f32>,
    gamma: Vec<f32>,
    pub(crate) c: Vec<f32>,
}

impl Scratch {
    pub(crate) fn new(channels: usize, l: usize) -> Scratch {
        Scratch { alpha: vec![0.0; channels * l], gamma: vec![0.0; channels * KERNEL_LEN * l], c: vec![0.0; l] }
    }

    #[inline(always)]
    fn prepare(&mut self, series: &[f32], channels: usize, l: usize, dilation: usize) {
        self.prepare_from(series, channels, l, dilation, l);
    }

    /// [`Scratch::prepare`] with the left-tap loop starting from `end_len` (see [`alpha_gamma`]).
    #[inline(always)]
    pub(crate) fn prepare_from(&mut self, series: &[f32], channels: usize, l: usize, dilation: usize, end_len: usize) {
        for ch in 0..channels {
            alpha_gamma(
                &series[ch * l..(ch + 1) * l],
                dilation,
                end_len,
                &mut self.alpha[ch * l..(ch + 1) * l],
                &mut self.gamma[ch * KERNEL_LEN * l..(ch + 1) * KERNEL_LEN * l],
            );
        }
    }

    /// The output of kernel `idx` summed over `chans` (channel order as the reference sums).
    #[inline(always)]
    pub(crate) fn kernel(&mut self, idx: [usize; 3], chans: &[usize], l: usize) {
        let c = &mut self.c;
        for (n, &ch) in chans.iter().enumerate() {
            let a = &self.alpha[ch * l..(ch + 1) * l];
            let g = &self.gamma[ch * KERNEL_LEN * l..(ch + 1) * KERNEL_LEN * l];
            let (g0, g1, g2) = (&g[idx[0] * l..][..l], &g[idx[1] * l..][..l], &g[idx[2] * l..][..l]);
            let terms = a.iter().zip(g0).zip(g1).zip(g2).map(|(((a, b), c), d)| a + b + c + d);
            if n == 0 {
                for (o, v) in c.iter_mut().zip(terms) {
                    *o = v;
                }
            } else {
                for (o, v) in c.iter_mut().zip(terms) {
                    *o += v;
                }
            }
        }
    }
}

/// The share of `c` strictly above `bias`, `count / len` in `f32`.
#[inline(always)]
pub fn ppv(c: &[f32], bias: f32) -> f32 {
    count_above(c, bias) as f32 / c.len() as f32
}

/// `#{v > bias}`, in sixteen lanes (wrapping adds: a count never exceeds the length, and without
/// overflow checks the loop vectorises in every profile, at the width the SIMD level allows).
#[inline(always)]
pub fn count_above(c: &[f32], bias: f32) -> u32 {
    let mut lanes = [0u32; 16];
    let chunks = c.chunks_exact(16);
    let tail = chunks.remainder();
    for ch in chunks {
        for (l, v) in lanes.iter_mut().zip(ch) {
            *l = l.wrapping_add(u32::from(*v > bias));
        }
    }
    let mut n = tail.iter().fold(0u32, |a, v| a.wrapping_add(u32::from(*v > bias)));
    for l in lanes {
        n = n.wrapping_add(l);
    }
    n
}

fn to_f32(values: &[f64]) -> Vec<f32> {
    values.iter().map(|v| *v as f32).collect()
}

impl MiniRocket {
    /// Number of features the transform produces.
    pub fn num_features(&self) -> usize {
        self.biases.len()
    }

    pub(crate) fn chans<'a>(&'a self, combination: usize, all: &'a [usize]) -> &'a [usize] {
        self.combinations.get(combination).map(Vec::as_slice).unwrap_or(all)
    }

    /// Fits on `n` series of `channels × len` values (row-major `[series][channel][t]`).
    pub fn fit(
        x: &[f64],
        n: usize,
        channels: usize,
        len: usize,
        num_features: usize,
        max_dilations_per_kernel: usize,
        mode: BiasMode,
    ) -> Result<MiniRocket, RocketError> {
        let mut rng = ChaCha8Rng::seed_from_u64(mode.seed());
        let deterministic = matches!(mode, BiasMode::Deterministic { .. });
        Self::fit_with(x, (n, channels, len), num_features, max_dilations_per_kernel, deterministic, &mut rng)
    }

    /// [`MiniRocket::fit`] drawing from `rng` (MultiRocket fits two transforms from one stream,
    /// as the reference does from NumPy's global state).
    pub(crate) fn fit_with(
        x: &[f64],
        (n, channels, len): (usize, usize, usize),
        num_features: usize,
        max_dilations_per_kernel: usize,
        deterministic: bool,
        rng: &mut ChaCha8Rng,
    ) -> Result<MiniRocket, RocketError> {
        if n == 0 {
            return Err(RocketError::EmptyTrain);
        }
        if len < KERNEL_LEN {
            return Err(RocketError::TooShort(len));
        }
        if num_features < NUM_KERNELS {
            return Err(RocketError::TooFewFeatures { min: NUM_KERNELS, given: num_features });
        }
        check(x, n, channels * len)?;
        let (dilations, features_per_dilation) = fit_dilations(len, num_features, max_dilations_per_kernel);
        let per_kernel: usize = features_per_dilation.iter().sum();
        let q = quantiles(NUM_KERNELS * per_kernel);
        let combinations = if channels > 1 {
            let max_exponent = ((channels.min(9) + 1) as f64).log2();
            (0..NUM_KERNELS * dilations.len())
                .map(|_| {
                    let k = (2f64.powf(rng.random_range(0.0..max_exponent)) as usize).clamp(1, channels);
                    rand::seq::index::sample(rng, channels, k).into_vec()
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut model = MiniRocket {
            channels,
            input_length: len,
            dilations,
            features_per_dilation,
            biases: Vec::with_capacity(NUM_KERNELS * per_kernel),
            combinations,
        };
        let all: Vec<usize> = (0..channels).collect();
        let indices = kernel_indices();
        let xf = to_f32(x);
        let w = channels * len;
        if !deterministic {
            let mut s = Scratch::new(channels, len);
            let mut combo = 0;
            for (di, &dilation) in model.dilations.iter().enumerate() {
                let nf = model.features_per_dilation[di];
                for idx in indices {
                    let ex = rng.random_range(0..n);
                    s.prepare(&xf[ex * w..(ex + 1) * w], channels, len, dilation);
                    s.kernel(idx, model.chans(combo, &all), len);
                    let mut sorted = s.c.clone();
                    sorted.sort_unstable_by(f32::total_cmp);
                    let start = model.biases.len();
                    for qv in &q[start..start + nf] {
                        model.biases.push(quantile_f32(&sorted, *qv));
                    }
                    combo += 1;
                }
            }
        } else {
            let mut combo = 0;
            for (di, &dilation) in model.dilations.iter().enumerate() {
                let nf = model.features_per_dilation[di];
                // Every series' output of every kernel at this dilation, kernel-major.
                let outputs: Vec<Vec<f32>> = xf
                    .par_chunks(w)
                    .map(|series| {
                        let mut s = Scratch::new(channels, len);
                        s.prepare(series, channels, len, dilation);
                        let mut out = Vec::with_capacity(NUM_KERNELS * len);
                        for (k, idx) in indices.iter().enumerate() {
                            s.kernel(*idx, model.chans(combo + k, &all), len);
                            out.extend_from_slice(&s.c);
                        }
                        out
                    })
                    .collect();
                for k in 0..NUM_KERNELS {
                    let mut pooled: Vec<f32> = Vec::with_capacity(n * len);
                    for o in &outputs {
                        pooled.extend_from_slice(&o[k * len..(k + 1) * len]);
                    }
                    pooled.sort_unstable_by(f32::total_cmp);
                    let start = model.biases.len();
                    for qv in &q[start..start + nf] {
                        model.biases.push(quantile_f32(&pooled, *qv));
                    }
                }
                combo += NUM_KERNELS;
            }
        }
        Ok(model)
    }

    /// The features of one series (`channels × len` values, already `f32`).
    pub fn transform_series(&self, series: &[f32], out: &mut [f32]) {
        minirocket_series(self, series, out);
    }

    /// Features of `n` series (row-major `[series][channel][t]`), `n × num_features`,
    /// in parallel over series.
    pub fn transform(&self, x: &[f64], n: usize) -> Result<Vec<f32>, RocketError> {
        let w = self.channels * self.input_length;
        if x.len() != n * w {
            return Err(RocketError::ShapeMismatch {
                fitted: (self.channels, self.input_length),
                given: (self.channels, x.len().checked_div(n).unwrap_or(0) / self.channels.max(1)),
            });
        }
        check(x, n, w)?;
        let p = self.num_features();
        let mut out = vec![0f32; n * p];
        out.par_chunks_mut(p).zip(x.par_chunks(w)).for_each(|(row, series)| {
            let s = to_f32(series);
            self.transform_series(&s, row);
        });
        Ok(out)
    }
}

crate::multiversion! {
    /// [`MiniRocket::transform_series`], compiled for each SIMD level.
    fn minirocket_series(m: &MiniRocket, series: &[f32], out: &mut [f32]) {
        let (ch, l) = (m.channels, m.input_length);
        let all: Vec<usize> = (0..ch).collect();
        let indices = kernel_indices();
        let mut s = Scratch::new(ch, l);
        let mut f = 0;
        let mut combo = 0;
        for (di, &dilation) in m.dilations.iter().enumerate() {
            let nf = m.features_per_dilation[di];
            let padding = (KERNEL_LEN - 1) * dilation / 2;
            s.prepare(series, ch, l, dilation);
            for (k, idx) in indices.iter().enumerate() {
                s.kernel(*idx, m.chans(combo, &all), l);
                let c: &[f32] = if (di + k) % 2 == 0 || 2 * padding >= l { &s.c } else { &s.c[padding..l - padding] };
                for j in 0..nf {
                    out[f + j] = ppv(c, m.biases[f + j]);
                }
                f += nf;
                combo += 1;
            }
        }
    }
}

fn check(x: &[f64], n: usize, w: usize) -> Result<(), RocketError> {
    for i in 0..n {
        if x[i * w..(i + 1) * w].iter().any(|v| !v.is_finite()) {
            return Err(RocketError::NotFinite { series: i });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_are_the_84_triples() {
        let k = kernel_indices();
        assert_eq!(k[0], [0, 1, 2]);
        assert_eq!(k[1], [0, 1, 3]);
        assert_eq!(k[83], [6, 7, 8]);
    }

    #[test]
    fn dilations_of_a_short_series() {
        // L = 24: max exponent log2(23 / 8) ≈ 1.52, so the dilations are 1 and 2.
        let (d, f) = fit_dilations(24, 10_000, 32);
        assert_eq!(d, vec![1, 2]);
        assert_eq!(f.iter().sum::<usize>(), 119);
    }

    #[test]
    fn convolution_equals_the_direct_sum() {
        // C at t = Σ_j w_j x[t + (j − 4)·d] with zero padding, w = −1 except 2 at the chosen taps.
        let x: Vec<f32> = (0..40).map(|t| ((t * 37 % 11) as f32) * 0.25 - 1.0).collect();
        let l = x.len();
        for dilation in [1, 2, 3] {
            let mut s = Scratch::new(1, l);
            s.prepare(&x, 1, l, dilation);
            for idx in [[0, 1, 2], [2, 4, 8], [5, 6, 7]] {
                s.kernel(idx, &[0], l);
                for t in 0..l {
                    let mut want = 0f32;
                    for j in 0..9 {
                        let w = if idx.contains(&j) { 2.0 } else { -1.0 };
                        let u = t as isize + (j as isize - 4) * dilation as isize;
                        if (0..l as isize).contains(&u) {
                            want += w * x[u as usize];
                        }
                    }
                    assert!((s.c[t] - want).abs() < 1e-4, "d={dilation} {idx:?} t={t}: {} vs {want}", s.c[t]);
                }
            }
        }
    }

    #[test]
    fn numpy_linear_quantile() {
        let v = [1.0f32, 2.0, 4.0, 8.0];
        assert_eq!(quantile_f32(&v, 0.0), 1.0);
        assert_eq!(quantile_f32(&v, 1.0), 8.0);
        assert_eq!(quantile_f32(&v, 0.5), 3.0);
    }

    #[test]
    fn same_seed_same_features() {
        let x: Vec<f64> = (0..6 * 2 * 30).map(|k| ((k * 31 % 17) as f64).sin()).collect();
        let a = MiniRocket::fit(&x, 6, 2, 30, 840, 32, BiasMode::Random { seed: 3 }).unwrap();
        let b = MiniRocket::fit(&x, 6, 2, 30, 840, 32, BiasMode::Random { seed: 3 }).unwrap();
        let c = MiniRocket::fit(&x, 6, 2, 30, 840, 32, BiasMode::Random { seed: 4 }).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.num_features(), 840);
        let f = a.transform(&x, 6).unwrap();
        assert!(f.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
