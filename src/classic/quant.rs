//! QUANT (Dempster, Schmidt & Webb 2024): quantiles over fixed dyadic intervals of four
//! representations of the series, classified by extremely randomised trees. Follows aeon 1.6's
//! `QUANTTransformer` (`transformations/collection/interval_based/_quant.py`), a transcription
//! of the authors' `quant.py` (angus924/quant), in `f32` as their PyTorch code:
//!
//! - representations: the series; its first difference smoothed by a width-5 moving mean
//!   (`avg_pool1d(pad(diff(x), (2, 2), "replicate"), 5, 1)`, length L − 1); its second
//!   difference (L − 2); the magnitude of its real FFT (`|rfft(x)|`, L/2 + 1);
//! - intervals of a representation of length n, depth d = 6: for `m = 2^0 … 2^(e−1)`,
//!   `e = min(d, ⌊log2 n⌋ + 1)`, the m intervals `[⌊i·n/m⌋, ⌊(i+1)·n/m⌋)`, and, where the
//!   (lower) median interval length exceeds 1, the first m − 1 of them shifted right by
//!   `⌈n / m / 2⌉`;
//! - per interval of length w: the value itself (w = 1), or `1 + ⌊(w − 1)/4⌋` quantiles at
//!   `linspace(0, 1, ·)` (the median alone when that is 1), every second one (indices 1, 3, …)
//!   minus the interval's mean; quantiles interpolate linearly (`torch.quantile`);
//! - feature order: per channel, the four representations' features in turn (aeon's reshape of
//!   `(cases, channels, features)`);
//! - the classifier: `ExtraTreesClassifier(n_estimators=200, max_features=0.1,
//!   criterion="entropy")` ([`super::extra_trees`]).
//!
//! The FFT is computed in `f64` ([`super::fft::dft`]) and rounded to `f32`, and interval means
//! are summed in `f64`: single values may differ from PyTorch's in the last bits.

use rayon::prelude::*;

use super::fft::dft;
use super::minirocket::{RocketError, quantile_f32};

/// The reference's interval depth and quantile divisor.
pub const QUANT_DEPTH: usize = 6;
pub const QUANT_DIVISOR: usize = 4;
/// Representations: the series, smoothed first difference, second difference, |rfft|.
pub const REPRESENTATIONS: usize = 4;

/// The fitted transform: the intervals of each representation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Quant {
    pub channels: usize,
    pub input_length: usize,
    pub depth: usize,
    pub divisor: usize,
    /// Per representation, `[start, end)` pairs in the reference's order.
    pub intervals: Vec<Vec<(usize, usize)>>,
}

/// `_make_intervals(input_length)` at the given depth.
pub fn make_intervals(n: usize, depth: usize) -> Vec<(usize, usize)> {
    let exponent = depth.min(n.ilog2() as usize + 1);
    let mut out = Vec::new();
    for e in 0..exponent {
        let m = 1usize << e;
        let level: Vec<(usize, usize)> = (0..m).map(|i| (i * n / m, (i + 1) * n / m)).collect();
        out.extend_from_slice(&level);
        if m > 1 {
            let mut widths: Vec<usize> = level.iter().map(|(a, b)| b - a).collect();
            widths.sort_unstable();
            // torch.median: the lower of the two middle values.
            if widths[(widths.len() - 1) / 2] > 1 {
                let shift = n.div_ceil(2 * m);
                out.extend(level[..m - 1].iter().map(|(a, b)| (a + shift, b + shift)));
            }
        }
    }
    out
}

/// `torch.linspace(0, 1, k)` in `f32`: `step·i` for the first half, `1 − step·(k − 1 − i)` after.
fn linspace01(k: usize) -> Vec<f32> {
    if k == 1 {
        return vec![0.0];
    }
    let step = 1.0f32 / (k - 1) as f32;
    let half = k / 2;
    (0..k).map(|i| if i < half { step * i as f32 } else { 1.0 - step * (k - 1 - i) as f32 }).collect()
}

/// Features of one interval `z` into `out`.
fn interval_features(z: &[f32], divisor: usize, sorted: &mut Vec<f32>, out: &mut Vec<f32>) {
    let w = z.len();
    if w == 1 {
        out.push(z[0]);
        return;
    }
    sorted.clear();
    sorted.extend_from_slice(z);
    sorted.sort_unstable_by(f32::total_cmp);
    let k = 1 + (w - 1) / divisor;
    if k == 1 {
        out.push(quantile_f32(sorted, 0.5));
        return;
    }
    let mean = (z.iter().map(|v| f64::from(*v)).sum::<f64>() / w as f64) as f32;
    for (i, q) in linspace01(k).into_iter().enumerate() {
        let v = quantile_f32(sorted, q);
        out.push(if i % 2 == 1 { v - mean } else { v });
    }
}

/// The four representations of one channel.
pub fn representations(x: &[f32]) -> [Vec<f32>; REPRESENTATIONS] {
    let l = x.len();
    let d: Vec<f32> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let padded: Vec<f32> = [d[0], d[0]].iter().chain(&d).chain(&[d[l - 2], d[l - 2]]).copied().collect();
    let smooth: Vec<f32> = padded.windows(5).map(|w| w.iter().sum::<f32>() / 5.0).collect();
    let d2: Vec<f32> = d.windows(2).map(|w| w[1] - w[0]).collect();
    let spectrum = dft(&x.iter().map(|v| f64::from(*v)).collect::<Vec<_>>());
    let mag: Vec<f32> = spectrum[..l / 2 + 1].iter().map(|c| c.norm_sqr().sqrt() as f32).collect();
    [x.to_vec(), smooth, d2, mag]
}

impl Quant {
    /// The intervals for series of `channels × len` values (no data needed: QUANT's intervals
    /// depend on the length only).
    pub fn fit(channels: usize, len: usize, depth: usize, divisor: usize) -> Result<Quant, RocketError> {
        if len < 4 {
            return Err(RocketError::TooShort(len));
        }
        if depth == 0 || divisor == 0 {
            return Err(RocketError::TooFewFeatures { min: 1, given: 0 });
        }
        let lengths = [len, len - 1, len - 2, len / 2 + 1];
        let intervals = lengths.iter().map(|&n| make_intervals(n, depth)).collect();
        Ok(Quant { channels: channels.max(1), input_length: len, depth, divisor, intervals })
    }

    fn channel_width(&self) -> usize {
        self.intervals
            .iter()
            .flatten()
            .map(|(a, b)| match b - a {
                1 => 1,
                w => 1 + (w - 1) / self.divisor,
            })
            .sum()
    }

    pub fn num_features(&self) -> usize {
        self.channels * self.channel_width()
    }

    /// The features of one series (`channels × len` values).
    pub fn transform_series(&self, x: &[f32], out: &mut Vec<f32>) {
        let mut sorted = Vec::new();
        for ch in x.chunks(self.input_length) {
            for (rep, intervals) in representations(ch).iter().zip(&self.intervals) {
                for &(a, b) in intervals {
                    interval_features(&rep[a..b], self.divisor, &mut sorted, out);
                }
            }
        }
    }

    /// Features of `n` series (row-major `[series][channel][t]`), `n × num_features`, in
    /// parallel over series.
    pub fn transform(&self, x: &[f64], n: usize) -> Result<Vec<f32>, RocketError> {
        let (ch, l) = (self.channels, self.input_length);
        let w = ch * l;
        if x.len() != n * w {
            return Err(RocketError::ShapeMismatch {
                fitted: (ch, l),
                given: (ch, x.len().checked_div(n).unwrap_or(0) / ch),
            });
        }
        if let Some(i) = (0..n).find(|i| x[i * w..(i + 1) * w].iter().any(|v| !v.is_finite())) {
            return Err(RocketError::NotFinite { series: i });
        }
        let p = self.num_features();
        let mut out = vec![0f32; n * p];
        out.par_chunks_mut(p).zip(x.par_chunks(w)).for_each(|(row, s)| {
            let s: Vec<f32> = s.iter().map(|v| *v as f32).collect();
            let mut f = Vec::with_capacity(p);
            self.transform_series(&s, &mut f);
            row.copy_from_slice(&f);
        });
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_of_a_short_representation() {
        // n = 10, depth 6: e = min(6, 4) = 4 levels; m = 2: widths 5, 5 → shifted by 3.
        let iv = make_intervals(10, 6);
        assert_eq!(&iv[..4], &[(0, 10), (0, 5), (5, 10), (3, 8)]);
        // m = 4: widths 2, 3, 2, 3 (lower median 2) → 3 shifted by 2; m = 8: widths 1 or 2,
        // lower median 1 → none: 1 + (2 + 1) + (4 + 3) + 8.
        assert_eq!(iv.len(), 19);
        assert_eq!(&iv[8..11], &[(2, 4), (4, 7), (7, 9)]);
        assert_eq!(linspace01(5), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    }

    #[test]
    fn feature_count_matches_the_layout() {
        let q = Quant::fit(2, 150, QUANT_DEPTH, QUANT_DIVISOR).unwrap();
        let x: Vec<f64> = (0..3 * 300).map(|t| (t as f64 / 9.0).sin()).collect();
        let f = q.transform(&x, 3).unwrap();
        assert_eq!(f.len(), 3 * q.num_features());
        // The first feature of each channel: the minimum of the whole series (quantile 0).
        let min = x[..150].iter().cloned().fold(f64::INFINITY, f64::min) as f32;
        assert_eq!(f[0], min);
    }
}
