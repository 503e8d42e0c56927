//! Hydra (Dempster, Schmidt & Webb 2023): random convolutional kernels in competing groups.
//! Follows the authors' `code/hydra.py` (angus924/hydra), univariate:
//!
//! - dilations `2^0 … 2^⌊log2((L − 1) / 8)⌋`, padding `4·dilation` (output as long as the input);
//! - per dilation and per representation (the series, then its first difference: `divisor = 2`),
//!   `g / 2` groups of `k` length-9 kernels with weights drawn `N(0, 1)`, demeaned and divided by
//!   their L1 norm;
//! - at every time point, within each group: the kernel with the largest response adds that
//!   response to its "soft" count, the kernel with the smallest response adds 1 to its "hard"
//!   count (ties: the first kernel, as `torch.max`/`torch.min` on CPU);
//! - features in the reference's order: per dilation, per representation, `[soft counts (h·k) |
//!   hard counts (h·k)]` — `2 · 2 · g/2 · k = 2gk = 1,024` per dilation for `k = 8, g = 64`;
//! - the sparse scaler (`SparseScaler`): `x ← √max(x, 0)`; fitted on TRAIN, `μ` the mean,
//!   `σ = sd (n − 1) + ε`, `ε = (share of zeros)^4 + 1e-8`; applied as `(x − μ)·[x ≠ 0] / σ`;
//! - the classifier: `RidgeClassifierCV(alphas=logspace(-3, 3, 10))` on the scaled features (no
//!   further standardisation).
//!
//! Convolutions in `f32` as PyTorch's `conv1d`. The weights come from a seeded ChaCha8 stream
//! (Box–Muller), so a seed gives the same features on every machine; they cannot equal
//! `torch.randn`'s.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::minirocket::RocketError;

/// Kernels per group and groups (the reference's defaults).
pub const HYDRA_K: usize = 8;
pub const HYDRA_G: usize = 64;
const KERNEL_LEN: usize = 9;

/// The fitted (drawn) transform.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hydra {
    pub input_length: usize,
    pub k: usize,
    pub g: usize,
    pub dilations: Vec<usize>,
    /// `[dilation][representation][h·k][9]`, `h = g / 2`.
    pub weights: Vec<f32>,
}

/// A standard normal draw (Box–Muller).
pub(crate) fn normal(r: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - r.random::<f64>();
    let u2: f64 = r.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

impl Hydra {
    /// Draws the kernels for series of length `input_length`.
    pub fn new(input_length: usize, k: usize, g: usize, seed: u64) -> Result<Hydra, RocketError> {
        if input_length < KERNEL_LEN + 1 {
            return Err(RocketError::TooShort(input_length));
        }
        let g = g.max(2);
        let max_exponent = ((input_length as f64 - 1.0) / 8.0).log2();
        let dilations: Vec<usize> = (0..=(max_exponent as usize)).map(|e| 1usize << e).collect();
        let h = g / 2;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let count = dilations.len() * 2 * h * k;
        let mut weights = Vec::with_capacity(count * KERNEL_LEN);
        for _ in 0..count {
            let w: Vec<f32> = (0..KERNEL_LEN).map(|_| normal(&mut rng) as f32).collect();
            let mean = w.iter().sum::<f32>() / KERNEL_LEN as f32;
            let w: Vec<f32> = w.iter().map(|v| v - mean).collect();
            let l1: f32 = w.iter().map(|v| v.abs()).sum();
            weights.extend(w.iter().map(|v| v / l1));
        }
        Ok(Hydra { input_length, k, g, dilations, weights })
    }

    pub fn num_features(&self) -> usize {
        self.dilations.len() * 2 * 2 * (self.g / 2) * self.k
    }

    /// The features of one series into `out`.
    pub fn transform_series(&self, x: &[f32], out: &mut [f32]) {
        hydra_series(self, x, out);
    }

    /// Features of `n` series (univariate, `n × len`), in parallel over series.
    pub fn transform(&self, x: &[f64], n: usize) -> Result<Vec<f32>, RocketError> {
        let l = self.input_length;
        if x.len() != n * l {
            return Err(RocketError::ShapeMismatch { fitted: (1, l), given: (1, x.len().checked_div(n).unwrap_or(0)) });
        }
        if let Some(i) = (0..n).find(|i| x[i * l..(i + 1) * l].iter().any(|v| !v.is_finite())) {
            return Err(RocketError::NotFinite { series: i });
        }
        let p = self.num_features();
        let mut out = vec![0f32; n * p];
        out.par_chunks_mut(p).zip(x.par_chunks(l)).for_each(|(row, s)| {
            let s: Vec<f32> = s.iter().map(|v| *v as f32).collect();
            self.transform_series(&s, row);
        });
        Ok(out)
    }
}

crate::multiversion! {
    /// [`Hydra::transform_series`], compiled for each SIMD level.
    fn hydra_series(hy: &Hydra, x: &[f32], out: &mut [f32]) {
        let (h, k) = (hy.g / 2, hy.k);
        let diff: Vec<f32> = x.windows(2).map(|w| w[1] - w[0]).collect();
        let mut resp = vec![0f32; k * x.len()];
        let (mut best, mut worst) = (vec![0f32; x.len()], vec![0f32; x.len()]);
        let (mut arg_best, mut arg_worst) = (vec![0u32; x.len()], vec![0u32; x.len()]);
        let mut hard = vec![0f32; k];
        let mut f = 0;
        for (di, &d) in hy.dilations.iter().enumerate() {
            for (rep, series) in [x, diff.as_slice()].into_iter().enumerate() {
                let t_len = series.len();
                for grp in 0..h {
                    // Responses of the group's k kernels at every time point.
                    for kk in 0..k {
                        let kernel = (((di * 2 + rep) * h + grp) * k + kk) * KERNEL_LEN;
                        let w = &hy.weights[kernel..kernel + KERNEL_LEN];
                        let r = &mut resp[kk * t_len..(kk + 1) * t_len];
                        r.fill(0.0);
                        for (j, wj) in w.iter().enumerate() {
                            // out[t] += w_j · x[t + (j − 4)·d] where in range.
                            let off = j as isize * d as isize - 4 * d as isize;
                            let lo = (-off).max(0) as usize;
                            let hi = (t_len as isize - off).clamp(0, t_len as isize) as usize;
                            if lo < hi {
                                let src = &series[(lo as isize + off) as usize..(hi as isize + off) as usize];
                                for (o, v) in r[lo..hi].iter_mut().zip(src) {
                                    *o += wj * v;
                                }
                            }
                        }
                    }
                    let soft = &mut out[f + grp * k..f + (grp + 1) * k];
                    soft.fill(0.0);
                    // The first kernel of largest and of smallest response at each point (a
                    // running maximum over kernels, vectorised over time).
                    let (maxv, minv) = (&mut best[..t_len], &mut worst[..t_len]);
                    maxv.copy_from_slice(&resp[..t_len]);
                    minv.copy_from_slice(&resp[..t_len]);
                    let (imax, imin) = (&mut arg_best[..t_len], &mut arg_worst[..t_len]);
                    imax.fill(0);
                    imin.fill(0);
                    for kk in 1..k {
                        let r = &resp[kk * t_len..(kk + 1) * t_len];
                        for t in 0..t_len {
                            let v = r[t];
                            let (up, down) = (v > maxv[t], v < minv[t]);
                            maxv[t] = if up { v } else { maxv[t] };
                            imax[t] = if up { kk as u32 } else { imax[t] };
                            minv[t] = if down { v } else { minv[t] };
                            imin[t] = if down { kk as u32 } else { imin[t] };
                        }
                    }
                    hard.fill(0.0);
                    for t in 0..t_len {
                        soft[imax[t] as usize] += maxv[t];
                        hard[imin[t] as usize] += 1.0;
                    }
                    out[f + h * k + grp * k..f + h * k + (grp + 1) * k].copy_from_slice(&hard);
                }
                f += 2 * h * k;
            }
        }
    }
}

/// Hydra's `SparseScaler(mask=True, exponent=4)`, fitted on TRAIN.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseScaler {
    pub mu: Vec<f64>,
    pub sigma: Vec<f64>,
}

impl SparseScaler {
    pub fn fit(x: &[f64], n: usize, p: usize) -> SparseScaler {
        let (mut mu, mut sigma) = (vec![0.0; p], vec![0.0; p]);
        let nf = n as f64;
        for j in 0..p {
            let col = (0..n).map(|i| x[i * p + j].max(0.0).sqrt());
            let (mut s, mut zeros) = (0.0, 0usize);
            for v in col.clone() {
                s += v;
                zeros += usize::from(v == 0.0);
            }
            let m = s / nf;
            let var = col.map(|v| (v - m) * (v - m)).sum::<f64>() / (nf - 1.0).max(1.0);
            let eps = (zeros as f64 / nf).powi(4) + 1e-8;
            mu[j] = m;
            sigma[j] = var.sqrt() + eps;
        }
        SparseScaler { mu, sigma }
    }

    pub fn apply(&self, x: &mut [f64]) {
        let p = self.mu.len();
        for row in x.chunks_mut(p) {
            for ((v, m), s) in row.iter_mut().zip(&self.mu).zip(&self.sigma) {
                let r = v.max(0.0).sqrt();
                *v = if r != 0.0 { (r - m) / s } else { 0.0 };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_layout_and_counts() {
        let hy = Hydra::new(150, HYDRA_K, HYDRA_G, 0).unwrap();
        // log2(149 / 8) = 4.2 → dilations 1, 2, 4, 8, 16.
        assert_eq!(hy.dilations, vec![1, 2, 4, 8, 16]);
        assert_eq!(hy.num_features(), 5 * 1024);
        let x: Vec<f64> = (0..150).map(|t| (t as f64 / 7.0).sin()).collect();
        let f = hy.transform(&x, 1).unwrap();
        // Every time point gives one hard count per group: the hard counts of a group sum to
        // the representation's length.
        let (h, k) = (32, 8);
        for (rep, len) in [(0usize, 150.0f32), (1, 149.0)] {
            let start = rep * 2 * h * k + h * k;
            for grp in 0..h {
                let s: f32 = f[start + grp * k..start + (grp + 1) * k].iter().sum();
                assert_eq!(s, len);
            }
        }
        // Kernels are demeaned and of unit L1 norm.
        for w in hy.weights.chunks(9) {
            assert!(w.iter().sum::<f32>().abs() < 1e-5);
            assert!((w.iter().map(|v| v.abs()).sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn sparse_scaler_masks_zeros() {
        let x = [0.0, 4.0, 1.0, 0.0, 9.0, -1.0];
        let s = SparseScaler::fit(&x, 3, 2);
        let mut y = x.to_vec();
        s.apply(&mut y);
        assert_eq!(y[0], 0.0);
        assert_eq!(y[5], 0.0);
        assert!((s.mu[0] - 4.0 / 3.0).abs() < 1e-12);
    }
}
