//! MultiRocket (Tan, Dempster, Bergmeir & Webb 2022): MiniRocket's kernels, dilations and
//! biases on the series and on its first difference, each output pooled four ways. Follows the
//! authors' `multirocket/multirocket.py` (ChangWeiTan/MultiRocket), which aeon's
//! `MultiRocket` transcribes:
//!
//! - `num_features / 2` features per representation, `num_features / 8` "kernels" per
//!   representation handed to MiniRocket's dilation/bias fitting (50,000 features → 6,250 →
//!   74 per kernel → 6,216 biases per representation → 49,728 features);
//! - pooling per bias `b` over the (padded or trimmed, as MiniRocket) output `C`:
//!   PPV `#{C > b} / len`; LSPV the longest stretch between positions with `C < b` (the
//!   reference's running `j − last` count, ending at `len − 1`); MPV the mean of `C + b` over the
//!   positive positions (the reference adds the bias; 0 without any); MIPV the mean index of
//!   the positive positions (−1 without any);
//! - features in blocks: `[PPV | LSPV | MPV | MIPV]` of the series, then the same four blocks
//!   of its first difference;
//! - the first difference's left taps start from the original length, as in the reference and
//!   aeon (see [`super::minirocket`]'s `alpha_gamma`);
//! - the classifier: `StandardScaler()` + `RidgeClassifierCV`; centring before a ridge with an
//!   intercept changes nothing, so it is the same ridge as MiniRocket's.
//!
//! The biases of both representations come from one seeded ChaCha8 stream (the reference draws
//! from NumPy's global state), so a seed gives the same features on every machine. The kernel
//! sums are formed in `f32` from `f32` input as in MiniRocket; the reference forms them from
//! `float64` input, rounding each partial sum to `float32`, so single values may differ in the
//! last bit.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::minirocket::{BiasMode, MiniRocket, RocketError, Scratch, kernel_indices};

/// Default number of features (the reference's `num_features = 50000`).
pub const MULTIROCKET_FEATURES: usize = 50_000;
/// Pooling operators per bias.
pub const POOLINGS: usize = 4;

/// The fitted transform.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MultiRocket {
    pub base: MiniRocket,
    /// `None` without the first-difference representation (an ablation).
    pub diff: Option<MiniRocket>,
}

/// First difference of every channel of every series: `[n][channels][len − 1]`.
pub fn first_difference(x: &[f64], n: usize, channels: usize, len: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n * channels * (len - 1));
    for row in x.chunks(len).take(n * channels) {
        out.extend(row.windows(2).map(|w| w[1] - w[0]));
    }
    out
}

/// Lanes of [`pool4`]'s sums.
const LANES: usize = 16;

/// The four pooled values of `c` at bias `b`: PPV, LSPV, MPV, MIPV (the reference's loop, see
/// the module docs). Counts, index sums and the longest stretch equal the reference loop's
/// exactly; the sum of `C + b` over the positive positions is formed in 16 `f64` lanes (so that
/// it vectorises), which may round its last bit differently from a sequential sum.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // lanes indexed alike: clearer than a four-way zip
pub fn pool4(c: &[f32], b: f32) -> [f32; 4] {
    let (mut count, mut index, mut sum) = ([0u32; LANES], [0u64; LANES], [0f64; LANES]);
    let chunks = c.chunks_exact(LANES);
    let tail = chunks.remainder();
    for (k, ch) in chunks.enumerate() {
        let base = (k * LANES) as u64;
        for l in 0..LANES {
            let v = ch[l];
            let up = v > b;
            // Wrapping: bounded by the length; unchecked, the loop vectorises in every profile.
            count[l] = count[l].wrapping_add(u32::from(up));
            index[l] = index[l].wrapping_add(if up { base + l as u64 } else { 0 });
            sum[l] += if up { f64::from(v + b) } else { 0.0 };
        }
    }
    let start = c.len() - tail.len();
    for (l, &v) in tail.iter().enumerate() {
        let up = v > b;
        count[l] = count[l].wrapping_add(u32::from(up));
        index[l] = index[l].wrapping_add(if up { (start + l) as u64 } else { 0 });
        sum[l] += if up { f64::from(v + b) } else { 0.0 };
    }
    let n = count.iter().map(|&c| c as usize).sum::<usize>() as f64;
    let index = index.iter().sum::<u64>() as f64;
    let sum: f64 = sum.iter().sum();
    // LSPV: the longest gap between positions below the bias (starting from 0, ending at
    // len − 1), without branches.
    let (mut last, mut stretch) = (0usize, 0usize);
    for (j, &v) in c.iter().enumerate() {
        let down = v < b;
        let gap = j - last;
        stretch = if down && gap > stretch { gap } else { stretch };
        last = if down { j } else { last };
    }
    stretch = stretch.max(c.len() - 1 - last);
    [
        (n / c.len() as f64) as f32,
        stretch as f32,
        if n > 0.0 { (sum / n) as f32 } else { 0.0 },
        if n > 0.0 { (index / n) as f32 } else { -1.0 },
    ]
}

impl MultiRocket {
    /// Fits on `n` series of `channels × len` values; `num_features` in total (rounded down to
    /// what the kernels allow), with or without the first difference.
    pub fn fit(
        x: &[f64],
        (n, channels, len): (usize, usize, usize),
        num_features: usize,
        max_dilations_per_kernel: usize,
        first_difference_too: bool,
        bias: BiasMode,
    ) -> Result<MultiRocket, RocketError> {
        if len < 10 && first_difference_too {
            return Err(RocketError::TooShort(len.saturating_sub(1)));
        }
        let reps = if first_difference_too { 2 } else { 1 };
        let kernels = num_features / reps / POOLINGS;
        let (seed, dv) = match bias {
            BiasMode::Random { seed } => (seed, false),
            BiasMode::Deterministic { seed } => (seed, true),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let base = MiniRocket::fit_with(x, (n, channels, len), kernels, max_dilations_per_kernel, dv, &mut rng)?;
        let diff = if first_difference_too {
            let d = first_difference(x, n, channels, len);
            Some(MiniRocket::fit_with(&d, (n, channels, len - 1), kernels, max_dilations_per_kernel, dv, &mut rng)?)
        } else {
            None
        };
        Ok(MultiRocket { base, diff })
    }

    pub fn num_features(&self) -> usize {
        POOLINGS * (self.base.num_features() + self.diff.as_ref().map_or(0, MiniRocket::num_features))
    }

    /// Pools one representation of one series into `out` (`POOLINGS × m.num_features()`, blocks).
    fn pool_representation(m: &MiniRocket, series: &[f32], end_len: usize, out: &mut [f32]) {
        pool_representation(m, series, end_len, out);
    }

    /// Features of `n` series, `n × num_features`, in parallel over series.
    pub fn transform(&self, x: &[f64], n: usize) -> Result<Vec<f32>, RocketError> {
        let (ch, len) = (self.base.channels, self.base.input_length);
        let w = ch * len;
        if x.len() != n * w {
            return Err(RocketError::ShapeMismatch {
                fitted: (ch, len),
                given: (ch, x.len().checked_div(n).unwrap_or(0) / ch.max(1)),
            });
        }
        if let Some(i) = (0..n).find(|i| x[i * w..(i + 1) * w].iter().any(|v| !v.is_finite())) {
            return Err(RocketError::NotFinite { series: i });
        }
        let total = self.num_features();
        let base_block = POOLINGS * self.base.num_features();
        let mut out = vec![0f32; n * total];
        out.par_chunks_mut(total).zip(x.par_chunks(w)).for_each(|(row, series)| {
            let s: Vec<f32> = series.iter().map(|v| *v as f32).collect();
            Self::pool_representation(&self.base, &s, len, &mut row[..base_block]);
            if let Some(d) = &self.diff {
                let dx = first_difference(series, 1, ch, len);
                let ds: Vec<f32> = dx.iter().map(|v| *v as f32).collect();
                Self::pool_representation(d, &ds, len, &mut row[base_block..]);
            }
        });
        Ok(out)
    }
}

crate::multiversion! {
    /// [`MultiRocket::pool_representation`], compiled for each SIMD level.
    fn pool_representation(m: &MiniRocket, series: &[f32], end_len: usize, out: &mut [f32]) {
        let (ch, l) = (m.channels, m.input_length);
        let p = m.num_features();
        let all: Vec<usize> = (0..ch).collect();
        let mut s = Scratch::new(ch, l);
        let (mut f, mut combo) = (0, 0);
        for (di, &dilation) in m.dilations.iter().enumerate() {
            let nf = m.features_per_dilation[di];
            let padding = 4 * dilation;
            s.prepare_from(series, ch, l, dilation, end_len);
            for (k, idx) in kernel_indices().iter().enumerate() {
                s.kernel(*idx, m.chans(combo, &all), l);
                let c: &[f32] = if (di + k) % 2 == 0 || 2 * padding >= l { &s.c } else { &s.c[padding..l - padding] };
                for j in 0..nf {
                    let v = pool4(c, m.biases[f + j]);
                    for (op, value) in v.iter().enumerate() {
                        out[op * p + f + j] = *value;
                    }
                }
                f += nf;
                combo += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_follows_the_reference_loop() {
        let c = [0.0f32, 2.0, 3.0, -1.0, -1.0, 5.0, 0.5];
        let [ppv, lspv, mpv, mipv] = pool4(&c, 1.0);
        assert_eq!(ppv, 3.0 / 7.0);
        // Positions below the bias: 0, 3, 4, 6 → stretches 0, 3, 1, 2; the tail 7 − 1 − 6 = 0.
        assert_eq!(lspv, 3.0);
        assert_eq!(mpv, ((2.0 + 1.0) + (3.0 + 1.0) + (5.0 + 1.0)) / 3.0);
        assert_eq!(mipv, (1.0 + 2.0 + 5.0) / 3.0);
        assert_eq!(pool4(&[0.0, 0.0], 1.0), [0.0, 1.0, 0.0, -1.0]);
    }

    /// The reference's loop, verbatim.
    fn reference(c: &[f32], b: f32) -> [f32; 4] {
        let (mut ppv, mut last, mut max_stretch, mut mean_index, mut mean) = (0usize, 0usize, 0usize, 0usize, 0f64);
        for (j, &v) in c.iter().enumerate() {
            if v > b {
                ppv += 1;
                mean_index += j;
                mean += f64::from(v + b);
            } else if v < b {
                max_stretch = max_stretch.max(j - last);
                last = j;
            }
        }
        max_stretch = max_stretch.max(c.len() - 1 - last);
        let n = ppv as f64;
        [
            (n / c.len() as f64) as f32,
            max_stretch as f32,
            if ppv > 0 { (mean / n) as f32 } else { 0.0 },
            if ppv > 0 { (mean_index as f64 / n) as f32 } else { -1.0 },
        ]
    }

    #[test]
    fn lane_pooling_equals_the_reference_loop() {
        let c: Vec<f32> = (0..1037).map(|t| ((t * 7919 % 211) as f32 - 100.0) * 0.37).collect();
        for b in [-50.0f32, -3.0, 0.0, 0.37, 12.5, 80.0, 1e6] {
            let (got, want) = (pool4(&c, b), reference(&c, b));
            assert_eq!([got[0], got[1], got[3]], [want[0], want[1], want[3]], "bias {b}");
            assert!((got[2] - want[2]).abs() <= 1e-6 * want[2].abs().max(1.0), "bias {b}: {got:?} vs {want:?}");
        }
        assert_eq!(pool4(&c[..5], 0.0), reference(&c[..5], 0.0));
    }

    #[test]
    fn feature_count_and_determinism() {
        let x: Vec<f64> = (0..5 * 40).map(|k| ((k * 13 % 7) as f64).cos()).collect();
        let m = MultiRocket::fit(&x, (5, 1, 40), 50_000, 32, true, BiasMode::Random { seed: 1 }).unwrap();
        assert_eq!(m.num_features(), 49_728);
        let again = MultiRocket::fit(&x, (5, 1, 40), 50_000, 32, true, BiasMode::Random { seed: 1 }).unwrap();
        assert_eq!(m, again);
        let f = m.transform(&x, 5).unwrap();
        assert_eq!(f.len(), 5 * 49_728);
        let no_diff = MultiRocket::fit(&x, (5, 1, 40), 50_000, 32, false, BiasMode::Random { seed: 1 }).unwrap();
        assert_eq!(no_diff.num_features(), 4 * 12_432);
    }
}
