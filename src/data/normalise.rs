//! Normalisation: per-series z-score (SPEC §1, LSTM-FCN report eq. 16), TRAIN-fitted per-dimension
//! z-score or min-max, or none. `NaN`s (kept missing values) are skipped when fitting.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::dataset::{Dataset, Split};

/// The `eps` of `(x - mean) / (std + eps)`.
pub const EPS: f64 = 1e-8;

/// A normalisation scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Normalisation {
    /// Leave values as loaded.
    #[default]
    None,
    /// Every series and dimension on its own: `(x - mean) / (std + 1e-8)`, population std.
    PerSeries,
    /// Per-dimension mean/std over all TRAIN values, applied to every split.
    TrainZScore,
    /// Per-dimension min/max over all TRAIN values, mapped to `[0, 1]` (constant: 0).
    TrainMinMax,
}

impl fmt::Display for Normalisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Normalisation::None => "none",
            Normalisation::PerSeries => "per-series",
            Normalisation::TrainZScore => "train-zscore",
            Normalisation::TrainMinMax => "train-minmax",
        })
    }
}

impl FromStr for Normalisation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "none" => Ok(Normalisation::None),
            "per-series" | "zscore" | "z-score" | "series" => Ok(Normalisation::PerSeries),
            "train-zscore" | "train-z-score" | "dataset-zscore" => Ok(Normalisation::TrainZScore),
            "train-minmax" | "minmax" | "min-max" | "train-min-max" => Ok(Normalisation::TrainMinMax),
            _ => Err(format!("unknown normalisation {s:?} (expected none, per-series, train-zscore, train-minmax)")),
        }
    }
}

/// An affine per-dimension map `x ↦ (x - offset[d]) * factor[d]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    pub offset: Vec<f64>,
    pub factor: Vec<f64>,
}

impl Scaler {
    /// Per-dimension z-score fitted on `train`: `(x - mean) / (std + 1e-8)`, population std.
    pub fn fit_zscore(train: &Split) -> Scaler {
        let mut offset = Vec::with_capacity(train.dims);
        let mut factor = Vec::with_capacity(train.dims);
        for d in 0..train.dims {
            let (mean, std) = mean_std(dim_values(train, d));
            offset.push(mean);
            factor.push(1.0 / (std + EPS));
        }
        Scaler { offset, factor }
    }

    /// Per-dimension min-max fitted on `train`: `(x - min) / (max - min)` (factor 0 if constant).
    pub fn fit_minmax(train: &Split) -> Scaler {
        let mut offset = Vec::with_capacity(train.dims);
        let mut factor = Vec::with_capacity(train.dims);
        for d in 0..train.dims {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for v in dim_values(train, d).filter(|v| !v.is_nan()) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if lo > hi {
                (lo, hi) = (0.0, 0.0);
            }
            offset.push(lo);
            factor.push(if hi > lo { 1.0 / (hi - lo) } else { 0.0 });
        }
        Scaler { offset, factor }
    }

    /// Applies the map in place.
    pub fn apply(&self, split: &mut Split) {
        let (dims, len) = (split.dims, split.len);
        for i in 0..split.n {
            let s = split.series_mut(i);
            for d in 0..dims {
                let (o, f) = (self.offset[d], self.factor[d]);
                s[d * len..(d + 1) * len].iter_mut().for_each(|x| *x = (*x - o) * f);
            }
        }
    }
}

fn dim_values(split: &Split, d: usize) -> impl Iterator<Item = f64> + Clone + '_ {
    (0..split.n).flat_map(move |i| split.series(i)[d * split.len..(d + 1) * split.len].iter().copied())
}

/// Mean and population standard deviation (two passes), skipping `NaN`s; `(0, 0)` if empty.
pub fn mean_std<I: Iterator<Item = f64> + Clone>(values: I) -> (f64, f64) {
    let (mut sum, mut n) = (0.0, 0usize);
    for v in values.clone().filter(|v| !v.is_nan()) {
        sum += v;
        n += 1;
    }
    if n == 0 {
        return (0.0, 0.0);
    }
    let mean = sum / n as f64;
    let var = values.filter(|v| !v.is_nan()).map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
    (mean, var.sqrt())
}

/// Per-series, per-dimension z-score in place (SPEC eq. 16).
pub fn zscore_per_series(split: &mut Split) {
    let len = split.len;
    if len == 0 {
        return;
    }
    for x in split.values.chunks_exact_mut(len) {
        let (mean, std) = mean_std(x.iter().copied());
        let f = 1.0 / (std + EPS);
        x.iter_mut().for_each(|v| *v = (*v - mean) * f);
    }
}

/// Normalises every split of `ds` (TRAIN-fitted schemes are fitted on `ds.train` as it is now, so
/// run this after carving out a validation split). Returns the fitted scaler, if any.
pub fn normalise(ds: &mut Dataset, how: Normalisation) -> Option<Scaler> {
    let scaler = match how {
        Normalisation::None => return None,
        Normalisation::PerSeries => {
            zscore_per_series(&mut ds.train);
            zscore_per_series(&mut ds.test);
            if let Some(v) = ds.validation.as_mut() {
                zscore_per_series(v);
            }
            return None;
        }
        Normalisation::TrainZScore => Scaler::fit_zscore(&ds.train),
        Normalisation::TrainMinMax => Scaler::fit_minmax(&ds.train),
    };
    scaler.apply(&mut ds.train);
    scaler.apply(&mut ds.test);
    if let Some(v) = ds.validation.as_mut() {
        scaler.apply(v);
    }
    Some(scaler)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(values: Vec<f64>, n: usize, dims: usize) -> Split {
        let len = values.len() / n / dims;
        Split { n, dims, len, values, labels: vec![0; n] }
    }

    #[test]
    fn per_series() {
        let mut s = split(vec![1.0, 2.0, 3.0, 10.0, 10.0, 10.0], 1, 2);
        zscore_per_series(&mut s);
        let std = (2.0f64 / 3.0).sqrt();
        let expect = [-1.0 / (std + EPS), 0.0, 1.0 / (std + EPS)];
        for (a, b) in s.values[..3].iter().zip(expect) {
            assert!((a - b).abs() < 1e-12);
        }
        assert_eq!(&s.values[3..], &[0.0, 0.0, 0.0]);
    }

    #[test]
    fn train_fitted() {
        let train = split(vec![0.0, 2.0, 4.0, 6.0], 2, 1);
        let test = split(vec![8.0, 2.0], 1, 1);
        let mut ds = Dataset { name: "t".into(), classes: vec!["a".into()], train, test, validation: None };
        let sc = normalise(&mut ds, Normalisation::TrainMinMax).unwrap();
        assert_eq!(sc.offset, vec![0.0]);
        assert_eq!(ds.train.values, vec![0.0, 2.0 / 6.0, 4.0 / 6.0, 1.0]);
        assert_eq!(ds.test.values, vec![8.0 / 6.0, 2.0 / 6.0]);
        let mut ds2 = ds.clone();
        normalise(&mut ds2, Normalisation::TrainZScore);
        let (m, s) = mean_std(ds2.train.values.iter().copied());
        assert!(m.abs() < 1e-12 && (s - 1.0).abs() < 1e-6);
        assert_eq!("train-minmax".parse::<Normalisation>().unwrap(), Normalisation::TrainMinMax);
    }
}
