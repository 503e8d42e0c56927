//! ROCKET (Dempster, Petitjean & Webb 2020): random convolutional kernels, each pooled into the
//! proportion of positive values (PPV) and the maximum. Follows aeon 1.6's `Rocket`
//! (`transformations/collection/convolution_based/_rocket.py`), which transcribes the authors'
//! `rocket_functions.py` (angus924/rocket) and adds its multivariate extension:
//!
//! - per kernel: a length drawn from {7, 9, 11}; `⌊2^U(0, log2(min(C, length) + 1))⌋` channels
//!   drawn without replacement; weights `N(0, 1)` per channel and tap, each channel's weights
//!   centred on their mean; a bias `U(−1, 1)`; a dilation `⌊2^U(0, log2((L − 1)/(length − 1)))⌋`;
//!   padding `(length − 1)·dilation / 2` or none, with even odds;
//! - input: each series and channel z-normalised first (`normalise = true`, aeon's default:
//!   population sd, a constant series divided by 1), in `f64`, then rounded to `f32`;
//! - output of a kernel at position `i ∈ [−padding, L + padding − (length − 1)·dilation)`:
//!   `bias + Σ_j Σ_k w[k, j] · x[c_k, i + j·dilation]` over the taps inside the series, summed in
//!   that order (tap-major, channel-minor) in `f32`, as the reference;
//! - features per kernel, in order: PPV `#{output > 0} / output_length` and the maximum: 20,000
//!   for the default 10,000 kernels;
//! - the classifier: `StandardScaler(with_mean=False)` + `RidgeClassifierCV(logspace(-3, 3, 10))`
//!   (aeon's `RocketClassifier`), the same ridge as MiniRocket's.
//!
//! The kernels come from a seeded ChaCha8 stream (Box–Muller normals), so a seed gives the same
//! features on every machine; they cannot equal NumPy's draws. [`Rocket::from_kernels`] takes
//! kernels drawn elsewhere (the tests take aeon's). The output is formed tap by tap over all
//! positions at once (the same additions per position as the reference's loop, in the same
//! order), which vectorises.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::hydra::normal;
use super::minirocket::RocketError;

/// The reference's number of kernels.
pub const ROCKET_KERNELS: usize = 10_000;
const LENGTHS: [usize; 3] = [7, 9, 11];

/// One random kernel.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Kernel {
    /// Taps.
    pub length: usize,
    /// The channels it sums, in the order drawn.
    pub channels: Vec<usize>,
    /// `channels.len() × length`, channel-major.
    pub weights: Vec<f32>,
    pub bias: f32,
    pub dilation: usize,
    pub padding: usize,
}

impl Kernel {
    /// Positions the output has: `L + 2·padding − (length − 1)·dilation` (may be ≤ 0 when a
    /// kernel drawn elsewhere spans more than the series).
    fn output_length(&self, l: usize) -> isize {
        (l + 2 * self.padding) as isize - ((self.length - 1) * self.dilation) as isize
    }
}

/// The drawn transform.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Rocket {
    pub channels: usize,
    pub input_length: usize,
    /// z-normalise each series and channel before the kernels (aeon's `normalise=True`).
    pub normalise: bool,
    pub kernels: Vec<Kernel>,
}

fn draw_kernel(rng: &mut ChaCha8Rng, channels: usize, len: usize) -> Kernel {
    let length = LENGTHS[rng.random_range(0..LENGTHS.len())];
    let limit = channels.min(length);
    let k = (2f64.powf(rng.random_range(0.0..((limit + 1) as f64).log2())) as usize).clamp(1, channels);
    let mut weights = Vec::with_capacity(k * length);
    for _ in 0..k {
        let w: Vec<f32> = (0..length).map(|_| normal(rng) as f32).collect();
        let mean = w.iter().sum::<f32>() / length as f32;
        weights.extend(w.iter().map(|v| v - mean));
    }
    let chans = rand::seq::index::sample(rng, channels, k).into_vec();
    let bias = rng.random_range(-1.0f32..1.0);
    let top = ((len as f64 - 1.0) / (length as f64 - 1.0)).log2().max(0.0);
    let dilation = if top > 0.0 { (2f64.powf(rng.random_range(0.0..top)) as usize).max(1) } else { 1 };
    let padding = if rng.random_range(0..2) == 1 { (length - 1) * dilation / 2 } else { 0 };
    Kernel { length, channels: chans, weights, bias, dilation, padding }
}

/// Per series and channel, `(x − mean) / sd` (population sd; 1 where it is 0), in `f64`.
pub fn znormalise(series: &[f64], len: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(series.len());
    for ch in series.chunks(len) {
        let n = ch.len() as f64;
        let mean = ch.iter().sum::<f64>() / n;
        let var = ch.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let sd = if var.sqrt() == 0.0 { 1.0 } else { var.sqrt() };
        out.extend(ch.iter().map(|v| ((v - mean) / sd) as f32));
    }
    out
}

impl Rocket {
    /// Draws `num_kernels` kernels for series of `channels × len` values.
    pub fn generate(
        channels: usize,
        len: usize,
        num_kernels: usize,
        normalise: bool,
        seed: u64,
    ) -> Result<Rocket, RocketError> {
        if len < 2 {
            return Err(RocketError::TooShort(len));
        }
        if num_kernels == 0 {
            return Err(RocketError::TooFewFeatures { min: 1, given: 0 });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let kernels = (0..num_kernels).map(|_| draw_kernel(&mut rng, channels.max(1), len)).collect();
        Ok(Rocket { channels: channels.max(1), input_length: len, normalise, kernels })
    }

    /// A transform of given kernels (e.g. aeon's), checked against the series shape.
    pub fn from_kernels(
        channels: usize,
        len: usize,
        normalise: bool,
        kernels: Vec<Kernel>,
    ) -> Result<Rocket, RocketError> {
        for k in &kernels {
            let bad = k.length == 0
                || k.dilation == 0
                || k.channels.is_empty()
                || k.channels.iter().any(|&c| c >= channels)
                || k.weights.len() != k.channels.len() * k.length;
            if bad {
                return Err(RocketError::ShapeMismatch {
                    fitted: (channels, len),
                    given: (k.channels.len(), k.length),
                });
            }
        }
        Ok(Rocket { channels, input_length: len, normalise, kernels })
    }

    /// Two features per kernel.
    pub fn num_features(&self) -> usize {
        2 * self.kernels.len()
    }

    /// PPV and max of one kernel on one (normalised, `f32`) series; `out` is scratch of at least
    /// the output length.
    #[inline(always)]
    fn apply(k: &Kernel, l: usize, x: &[f32], out: &mut Vec<f32>) -> (f32, f32) {
        let olen = k.output_length(l);
        if olen <= 0 {
            return (f32::NAN, f32::NEG_INFINITY);
        }
        let olen = olen as usize;
        out.clear();
        out.resize(olen, k.bias);
        // Output position o is i = o − padding; tap j reads x[o − padding + j·dilation].
        for j in 0..k.length {
            let shift = (j * k.dilation) as isize - k.padding as isize;
            let lo = (-shift).max(0) as usize;
            let hi = ((l as isize - shift).max(0) as usize).min(olen);
            if lo >= hi {
                continue;
            }
            for (c, &ch) in k.channels.iter().enumerate() {
                let w = k.weights[c * k.length + j];
                let src = &x[ch * l..(ch + 1) * l];
                let from = (lo as isize + shift) as usize;
                for (o, v) in out[lo..hi].iter_mut().zip(&src[from..from + (hi - lo)]) {
                    *o += w * v;
                }
            }
        }
        let mut max = f32::NEG_INFINITY;
        for v in out.iter() {
            max = max.max(*v);
        }
        let positive = super::minirocket::count_above(out, 0.0);
        (positive as f32 / olen as f32, max)
    }

    /// The features of one series (`channels × len` values, normalised already if
    /// `normalise`), `[ppv, max]` per kernel.
    pub fn transform_series(&self, x: &[f32], features: &mut [f32]) {
        rocket_series(self, x, features);
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
            let s = if self.normalise { znormalise(s, l) } else { s.iter().map(|v| *v as f32).collect() };
            self.transform_series(&s, row);
        });
        Ok(out)
    }
}

crate::multiversion! {
    /// [`Rocket::transform_series`], compiled for each SIMD level.
    fn rocket_series(r: &Rocket, x: &[f32], features: &mut [f32]) {
        let mut out = Vec::with_capacity(r.input_length * 2);
        for (k, f) in r.kernels.iter().zip(features.chunks_exact_mut(2)) {
            let (ppv, max) = Rocket::apply(k, r.input_length, x, &mut out);
            f[0] = ppv;
            f[1] = max;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's loop, verbatim.
    fn reference(k: &Kernel, x: &[f32], l: usize) -> (f32, f32) {
        let olen = (l + 2 * k.padding) as isize - ((k.length - 1) * k.dilation) as isize;
        let end = (l + k.padding) as isize - ((k.length - 1) * k.dilation) as isize;
        let (mut ppv, mut max) = (0, f32::NEG_INFINITY);
        for i in -(k.padding as isize)..end {
            let mut sum = k.bias;
            let mut index = i;
            for j in 0..k.length {
                if index > -1 && index < l as isize {
                    for (c, &ch) in k.channels.iter().enumerate() {
                        sum += k.weights[c * k.length + j] * x[ch * l + index as usize];
                    }
                }
                index += k.dilation as isize;
            }
            max = max.max(sum);
            ppv += usize::from(sum > 0.0);
        }
        (ppv as f32 / olen as f32, max)
    }

    #[test]
    fn tapwise_output_equals_the_reference_loop_bit_for_bit() {
        let (ch, l) = (3, 57);
        let x: Vec<f64> = (0..ch * l).map(|t| ((t * 37 % 23) as f64 * 0.3).sin() + t as f64 * 0.01).collect();
        let r = Rocket::generate(ch, l, 300, true, 5).unwrap();
        let f = r.transform(&x, 1).unwrap();
        let xs = znormalise(&x, l);
        for (i, k) in r.kernels.iter().enumerate() {
            let (ppv, max) = reference(k, &xs, l);
            assert_eq!((f[2 * i], f[2 * i + 1]), (ppv, max), "kernel {i}: {k:?}");
        }
    }

    #[test]
    fn kernels_follow_the_drawing_rules() {
        let r = Rocket::generate(1, 150, 2000, true, 1).unwrap();
        assert_eq!(r.num_features(), 4000);
        for k in &r.kernels {
            assert!(LENGTHS.contains(&k.length));
            assert!(k.weights.iter().sum::<f32>().abs() < 1e-4);
            assert!((-1.0..1.0).contains(&k.bias));
            assert!(k.dilation >= 1 && (k.length - 1) * k.dilation <= 149);
            assert!(k.padding == 0 || k.padding == (k.length - 1) * k.dilation / 2);
        }
        // Both paddings and all three lengths occur.
        assert!(r.kernels.iter().any(|k| k.padding == 0) && r.kernels.iter().any(|k| k.padding > 0));
        for len in LENGTHS {
            assert!(r.kernels.iter().any(|k| k.length == len));
        }
        assert_eq!(r, Rocket::generate(1, 150, 2000, true, 1).unwrap());
        let multi = Rocket::generate(6, 100, 500, true, 1).unwrap();
        assert!(multi.kernels.iter().all(|k| (1..=6).contains(&k.channels.len())));
        assert!(multi.kernels.iter().any(|k| k.channels.len() > 1));
    }
}
