//! The two arithmetics an analysis runs in. `float` (the default) takes differences, ties and
//! means as SciPy and pandas do on float64 values, so that anyone can recompute the numbers;
//! `exact` takes them as exact decimals/fractions, so that 0.54 − 0.37 and 0.64 − 0.47 tie.
//! A [`Score`] carries both forms of one result.

use std::cmp::Ordering;

use serde::Serialize;

use super::exact::{Exact, FLOAT_DECIMALS};

/// Which arithmetic differences, ties and means use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// float64, as SciPy's `wilcoxon`/`rankdata`/`friedmanchisquare` and pandas' means.
    #[default]
    Float,
    /// Exact decimals: equal gaps tie, equal scores are equal however they were written.
    Exact,
}

impl Mode {
    pub const NAMES: &'static [&'static str] = &["float", "exact"];
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "float" | "scipy" => Some(Mode::Float),
            "exact" => Some(Mode::Exact),
            _ => None,
        }
    }
    pub fn other(self) -> Mode {
        match self {
            Mode::Float => Mode::Exact,
            Mode::Exact => Mode::Float,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Mode::Float => "float",
            Mode::Exact => "exact",
        }
    }
}

/// What the tests need of a number: differences, order, zero and sign.
pub trait Arith: Copy + std::fmt::Debug {
    fn minus(self, other: Self) -> Self;
    fn order(&self, other: &Self) -> Ordering;
    fn is_zero(self) -> bool;
    fn sign(self) -> i32;
    fn magnitude(self) -> Self;
    fn as_f64(self) -> f64;
}

impl Arith for Exact {
    fn minus(self, other: Self) -> Self {
        self - other
    }
    fn order(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
    fn is_zero(self) -> bool {
        Exact::is_zero(self)
    }
    fn sign(self) -> i32 {
        self.signum()
    }
    fn magnitude(self) -> Self {
        self.abs()
    }
    fn as_f64(self) -> f64 {
        self.to_f64()
    }
}

/// IEEE comparison (−0 equals 0, as NumPy sorts); scores are never NaN (those cells are missing).
impl Arith for f64 {
    fn minus(self, other: Self) -> Self {
        self - other
    }
    fn order(&self, other: &Self) -> Ordering {
        self.partial_cmp(other).unwrap_or_else(|| self.total_cmp(other))
    }
    fn is_zero(self) -> bool {
        self == 0.0
    }
    fn sign(self) -> i32 {
        if self > 0.0 {
            1
        } else if self < 0.0 {
            -1
        } else {
            0
        }
    }
    fn magnitude(self) -> Self {
        self.abs()
    }
    fn as_f64(self) -> f64 {
        self
    }
}

/// One result in both arithmetics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    pub exact: Exact,
    pub float: f64,
}

impl Score {
    /// A number as written in a table: exact decimal, and the correctly rounded float64 that
    /// Python's `float()` (and NumPy's round-trip parser) give.
    pub fn parse(text: &str) -> Option<Score> {
        let t = text.trim();
        let exact = Exact::parse_decimal(t)?;
        let float = t.parse::<f64>().ok().filter(|f| f.is_finite())?;
        Some(Score { exact, float })
    }

    /// `correct/total`: the float is the division scikit-learn's `accuracy_score` does.
    pub fn from_counts(correct: usize, total: usize) -> Option<Score> {
        let exact = Exact::from_counts(correct, total)?;
        Some(Score { exact, float: correct as f64 / total as f64 })
    }

    /// A metric that only exists as a float (macro F1): exact form rounded to 10 decimals.
    pub fn from_f64(v: f64) -> Option<Score> {
        Some(Score { exact: Exact::from_f64(v, FLOAT_DECIMALS)?, float: v })
    }

    /// The mean over resamples: exact where it fits (else the float mean rounded), and the float
    /// mean by compensated (Kahan) summation in row order, as pandas' `groupby(...).mean()` sums
    /// (bit for bit; except that pandas ≥ 3.1 sums groups whose rows are contiguous with NumPy's
    /// `reduceat`, a few ulps away).
    pub fn mean(values: &[Score]) -> Option<Score> {
        if values.is_empty() {
            return None;
        }
        let float = kahan_mean(values.iter().map(|v| v.float));
        let exacts: Vec<Exact> = values.iter().map(|v| v.exact).collect();
        let exact = Exact::mean(&exacts).or_else(|| Exact::from_f64(float, FLOAT_DECIMALS))?;
        Some(Score { exact, float })
    }

    pub fn get(self, mode: Mode) -> f64 {
        match mode {
            Mode::Float => self.float,
            Mode::Exact => self.exact.to_f64(),
        }
    }
}

/// Compensated (Kahan) summation, then one division by the count.
pub fn kahan_mean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (mut sum, mut comp, mut n) = (0.0f64, 0.0f64, 0usize);
    for v in values {
        let y = v - comp;
        let t = sum + y;
        comp = t - sum - y;
        if comp.is_nan() {
            comp = 0.0;
        }
        sum = t;
        n += 1;
    }
    sum / n as f64
}

/// The sample standard deviation (ddof = 1, pandas' `std`); `None` for fewer than 2 values.
pub fn sample_sd(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = kahan_mean(values.iter().copied());
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    Some((ss / (values.len() - 1) as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_break_ties_that_decimals_keep() {
        let s = |t: &str| Score::parse(t).unwrap();
        let (a, b, c, d) = (s("0.7"), s("0.6"), s("0.4"), s("0.3"));
        assert_eq!(a.exact - b.exact, c.exact - d.exact);
        assert_ne!(a.float.minus(b.float), c.float.minus(d.float));
        assert_eq!(Score::from_counts(1, 3).unwrap().float, 1.0 / 3.0);
        assert!(Score::parse("nan").is_none() && Score::parse("abc").is_none());
    }

    #[test]
    fn mean_and_sd() {
        let v: Vec<Score> = ["0.1", "0.2", "0.3"].iter().map(|t| Score::parse(t).unwrap()).collect();
        let m = Score::mean(&v).unwrap();
        assert_eq!(m.exact, Exact::parse_decimal("0.2").unwrap());
        assert!((m.float - 0.2).abs() < 1e-16);
        assert!((sample_sd(&[1.0, 2.0, 3.0]).unwrap() - 1.0).abs() < 1e-15);
        assert!(sample_sd(&[1.0]).is_none());
        assert!((-0.0f64).order(&0.0).is_eq());
    }
}
