//! The hand-crafted feature set of the CNN-TS paper's classical baselines (SPEC §3): six
//! time-domain statistics, three spectral ones and a wavelet energy, per series and channel.
//!
//! Every feature is defined exactly below so that NumPy/SciPy/PyWavelets reproduce it
//! (`tests/data/features/make_reference.py` does, and `tests/it/features_classic.rs` compares).
//! For a series `x` of length `n` (one channel):
//!
//! | name | definition | NumPy / SciPy |
//! |---|---|---|
//! | `rms` | `sqrt(mean(x²))` | `np.sqrt(np.mean(x**2))` |
//! | `variance` | population variance `mean((x − x̄)²)` (ddof 0) | `np.var(x)` |
//! | `max` | largest value | `np.max(x)` |
//! | `skewness` | `m₃ / m₂^1.5`, `m_k = mean((x − x̄)^k)` (biased, Fisher–Pearson) | `scipy.stats.skew(x)` |
//! | `kurtosis` | excess kurtosis `m₄ / m₂² − 3` (biased) | `scipy.stats.kurtosis(x)` |
//! | `peak_to_peak` | `max − min` | `np.ptp(x)` |
//! | `spectral_power` | `Σ_k P_k` over the one-sided spectrum, `P_k = |X_k|² / n`, `X = rfft(x)`, `k = 0..⌊n/2⌋` (DC included) | `np.sum(np.abs(np.fft.rfft(x))**2) / n` |
//! | `spectral_skewness` | skewness of the frequencies `f_k = k / n` weighted by `p_k = P_k / Σ P`: `Σ p_k (f_k − μ)³ / σ³` with `μ = Σ p_k f_k`, `σ² = Σ p_k (f_k − μ)²` | same sums in NumPy |
//! | `spectral_kurtosis` | `Σ p_k (f_k − μ)⁴ / σ⁴` (not excess: the spectral-shape moment of audio feature sets) | same sums in NumPy |
//! | `wavelet_energy` | `Σ_levels Σ d²`: energy of the detail coefficients of a Daubechies-4 (`db4`, 8 taps) DWT in periodization mode over `L = max(1, min(levels, ⌊log2(n / 7)⌋))` levels | `sum((d**2).sum() for d in pywt.wavedec(x, "db4", mode="periodization", level=L)[1:])` |
//!
//! Degenerate inputs get finite values instead of SciPy's NaN, so classifiers never see NaN:
//! skewness and kurtosis are 0 where SciPy returns NaN for a (nearly) constant series
//! (`m₂ ≤ (1e-14 · x̄)²`, SciPy's own test), and the spectral moments are 0 when the spectrum has
//! no power or no spread (`σ² ≤ 1e-12 · μ²` or `σ² ≤ 1e-24`: all power in one bin up to rounding).
//!
//! The detail energy (not the total) is used because for an orthogonal wavelet in periodization
//! mode the total coefficient energy equals `Σ x²` (= `n · rms²`), which would repeat `rms`.

use super::feature_models::FeatureRows;
use super::fft;
use crate::data::dataset::{Dataset, Split};

/// The feature names, in the order [`series_features`] returns them.
pub const FEATURE_NAMES: [&str; 10] = [
    "rms",
    "variance",
    "max",
    "skewness",
    "kurtosis",
    "peak_to_peak",
    "spectral_power",
    "spectral_skewness",
    "spectral_kurtosis",
    "wavelet_energy",
];

/// Number of features per channel.
pub const N_FEATURES: usize = FEATURE_NAMES.len();

/// Daubechies-4 decomposition low-pass filter (PyWavelets 1.8 `pywt.Wavelet("db4").dec_lo`, as printed by `repr`).
const DB4_DEC_LO: [f64; 8] = [
    -0.010597401785069032,
    0.0328830116668852,
    0.030841381835560764,
    -0.18703481171909309,
    -0.027983769416859854,
    0.6308807679298589,
    0.7148465705529157,
    0.2303778133088965,
];

/// Daubechies-4 decomposition high-pass filter (`dec_hi[k] = (−1)^(k+1) · dec_lo[7 − k]`).
const DB4_DEC_HI: [f64; 8] = [
    -0.2303778133088965,
    0.7148465705529157,
    -0.6308807679298589,
    -0.027983769416859854,
    0.18703481171909309,
    0.030841381835560764,
    -0.0328830116668852,
    -0.010597401785069032,
];

/// Default number of wavelet decomposition levels.
pub const DEFAULT_WAVELET_LEVELS: usize = 4;

/// Computes features of series with a fixed number of wavelet levels.
pub struct FeatureExtractor {
    wavelet_levels: usize,
}

impl FeatureExtractor {
    pub fn new(wavelet_levels: usize) -> FeatureExtractor {
        FeatureExtractor { wavelet_levels: wavelet_levels.max(1) }
    }

    /// The [`FEATURE_NAMES`] features of one channel, in that order. An empty series gives zeros.
    pub fn series_features(&mut self, x: &[f64]) -> [f64; N_FEATURES] {
        if x.is_empty() {
            return [0.0; N_FEATURES];
        }
        let t = time_features(x);
        let s = self.spectral_features(x);
        let w = wavelet_detail_energy(x, self.wavelet_levels);
        [t[0], t[1], t[2], t[3], t[4], t[5], s[0], s[1], s[2], w]
    }

    /// `[spectral_power, spectral_skewness, spectral_kurtosis]` of one channel.
    pub fn spectral_features(&self, x: &[f64]) -> [f64; 3] {
        let n = x.len();
        let spectrum = fft::dft(x);
        let nf = n as f64;
        let power: Vec<f64> = spectrum[..n / 2 + 1].iter().map(|c| c.norm_sqr() / nf).collect();
        let total: f64 = power.iter().sum();
        if total <= 0.0 || !total.is_finite() {
            return [total.max(0.0), 0.0, 0.0];
        }
        let freq = |k: usize| k as f64 / nf;
        let mu: f64 = power.iter().enumerate().map(|(k, p)| p * freq(k)).sum::<f64>() / total;
        let moment = |e: i32| power.iter().enumerate().map(|(k, p)| p * (freq(k) - mu).powi(e)).sum::<f64>() / total;
        let var = moment(2);
        if var <= 1e-12 * mu * mu || var <= 1e-24 {
            return [total, 0.0, 0.0];
        }
        let sd = var.sqrt();
        [total, moment(3) / (sd * var), moment(4) / (var * var)]
    }
}

impl Default for FeatureExtractor {
    fn default() -> Self {
        FeatureExtractor::new(DEFAULT_WAVELET_LEVELS)
    }
}

/// `[rms, variance, max, skewness, kurtosis, peak_to_peak]` of a non-empty series.
pub fn time_features(x: &[f64]) -> [f64; 6] {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let (mut m2, mut m3, mut m4, mut sq) = (0.0, 0.0, 0.0, 0.0);
    for &v in x {
        let d = v - mean;
        let d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
        sq += v * v;
    }
    m2 /= n;
    m3 /= n;
    m4 /= n;
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = x.iter().copied().fold(f64::INFINITY, f64::min);
    let (skew, kurt) =
        if m2 > (1e-14 * mean).powi(2) && m2 > 0.0 { (m3 / m2.powf(1.5), m4 / (m2 * m2) - 3.0) } else { (0.0, 0.0) };
    [(sq / n).sqrt(), m2, max, skew, kurt, max - min]
}

/// PyWavelets' `dwt_max_level(n, 8)`: the deepest level at which db4 still sees whole filters.
pub fn db4_max_level(n: usize) -> usize {
    // The largest L with 7 · 2^L ≤ n (integer form of ⌊log2(n / 7)⌋).
    let mut level = 0;
    while n >= 7usize.saturating_mul(1 << (level + 1)) && level < 60 {
        level += 1;
    }
    level
}

/// The number of levels actually used for a series of length `n`.
pub fn wavelet_levels_for(n: usize, requested: usize) -> usize {
    requested.min(db4_max_level(n)).max(1)
}

/// One level of the db4 DWT in PyWavelets' periodization mode: `(approximation, detail)`, each
/// of length `⌈n/2⌉`. An odd-length input is first extended by repeating its last sample.
pub fn db4_step(x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = x.len();
    let np = n + n % 2;
    let ext = |t: usize| x[t.min(n - 1)];
    let f = DB4_DEC_LO.len();
    let half = np / 2;
    let mut a = Vec::with_capacity(half);
    let mut d = Vec::with_capacity(half);
    for o in 0..half {
        let i = f / 2 + 2 * o;
        let (mut sa, mut sd) = (0.0, 0.0);
        for j in 0..f {
            // (i − j) mod np, computed without going negative.
            let t = (i + np * f - j) % np;
            let v = ext(t);
            sa += DB4_DEC_LO[j] * v;
            sd += DB4_DEC_HI[j] * v;
        }
        a.push(sa);
        d.push(sd);
    }
    (a, d)
}

/// Energy of the detail coefficients over [`wavelet_levels_for`]`(n, levels)` db4 levels.
pub fn wavelet_detail_energy(x: &[f64], levels: usize) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    let mut approx = x.to_vec();
    let mut energy = 0.0;
    for _ in 0..wavelet_levels_for(x.len(), levels) {
        let (a, d) = db4_step(&approx);
        energy += d.iter().map(|v| v * v).sum::<f64>();
        approx = a;
    }
    energy
}

/// The features of every series of a dataset: what the `features` stage hands to classifiers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeatureTable {
    pub dataset: String,
    pub classes: Vec<String>,
    /// Column names: the [`FEATURE_NAMES`] for univariate data, `d<c>_<name>` per channel `c`
    /// (channel-major) for multivariate data.
    pub names: Vec<String>,
    pub train: FeatureRows,
    pub validation: Option<FeatureRows>,
    pub test: FeatureRows,
}

/// Column names for `dims` channels.
pub fn feature_names(dims: usize) -> Vec<String> {
    if dims == 1 {
        return FEATURE_NAMES.iter().map(|s| s.to_string()).collect();
    }
    (0..dims).flat_map(|c| FEATURE_NAMES.iter().map(move |f| format!("d{c}_{f}"))).collect()
}

impl FeatureExtractor {
    /// The features of every series of a split, channel by channel.
    pub fn split_features(&mut self, s: &Split) -> FeatureRows {
        let width = s.dims * N_FEATURES;
        let mut values = Vec::with_capacity(s.n * width);
        for i in 0..s.n {
            for channel in s.series(i).chunks(s.len.max(1)).take(s.dims) {
                values.extend_from_slice(&self.series_features(channel));
            }
        }
        FeatureRows { n: s.n, width, values, labels: s.labels.clone() }
    }

    /// The features of a whole dataset (TRAIN, validation if any, TEST).
    pub fn dataset_features(&mut self, d: &Dataset) -> FeatureTable {
        FeatureTable {
            dataset: d.name.clone(),
            classes: d.classes.clone(),
            names: feature_names(d.train.dims),
            train: self.split_features(&d.train),
            validation: d.validation.as_ref().map(|v| self.split_features(v)),
            test: self.split_features(&d.test),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_features_of_a_small_series() {
        let t = time_features(&[1.0, 2.0, 3.0, 10.0]);
        // mean 4, deviations −3 −2 −1 6: m2 = 12.5, m3 = (−27 −8 −1 +216)/4 = 45.
        assert!((t[0] - (114.0f64 / 4.0).sqrt()).abs() < 1e-12);
        assert!((t[1] - 12.5).abs() < 1e-12);
        assert_eq!(t[2], 10.0);
        assert!((t[3] - 45.0 / 12.5f64.powf(1.5)).abs() < 1e-12);
        assert_eq!(t[5], 9.0);
    }

    #[test]
    fn constant_series_has_finite_features() {
        let mut fx = FeatureExtractor::default();
        let f = fx.series_features(&[2.0; 16]);
        assert!(f.iter().all(|v| v.is_finite()), "{f:?}");
        assert_eq!(f[3], 0.0);
        assert_eq!(f[4], 0.0);
        // All power at DC: no spread, so the spectral moments are 0; a constant has no details.
        assert_eq!((f[7], f[8]), (0.0, 0.0));
        assert!(f[9].abs() < 1e-20);
    }

    #[test]
    fn db4_periodization_preserves_energy_on_even_lengths() {
        let x: Vec<f64> = (0..64).map(|i| ((i * 7 % 13) as f64).sin()).collect();
        let (a, d) = db4_step(&x);
        let e: f64 = a.iter().chain(&d).map(|v| v * v).sum();
        let ex: f64 = x.iter().map(|v| v * v).sum();
        assert!((e - ex).abs() < 1e-9 * ex, "{e} vs {ex}");
    }

    #[test]
    fn two_equal_tones_make_a_symmetric_two_point_spectrum() {
        let n = 64;
        let tone = |k: f64, t: usize| (2.0 * std::f64::consts::PI * k * t as f64 / n as f64).cos();
        let x: Vec<f64> = (0..n).map(|t| tone(4.0, t) + tone(12.0, t)).collect();
        let s = FeatureExtractor::default().spectral_features(&x);
        // Bins 4 and 12 each hold |X|² / n = (n/2)² / n = n / 4.
        assert!((s[0] - n as f64 / 2.0).abs() < 1e-9, "{s:?}");
        // Two equal masses: skewness 0, kurtosis 1.
        assert!(s[1].abs() < 1e-9, "{s:?}");
        assert!((s[2] - 1.0).abs() < 1e-9, "{s:?}");
    }
}
