//! The Wilcoxon signed-rank test on paired differences, following SciPy 1.17's
//! `scipy.stats.wilcoxon` exactly (statistic, zero handling, method choice, corrections,
//! alternatives), so the p-values are the ones papers computed with it. Generic over the
//! arithmetic ([`Arith`]): float64 as SciPy, or exact decimals.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use super::ranks::average_ranks;
use super::value::Arith;

/// What to do with zero differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ZeroMethod {
    /// Drop zeros before ranking (Wilcoxon's original treatment; SciPy's default).
    #[default]
    Wilcox,
    /// Rank zeros with the rest, then drop their ranks (Pratt 1959).
    Pratt,
    /// Rank zeros and split their ranks evenly between the two sides.
    Zsplit,
}

impl ZeroMethod {
    pub const NAMES: &'static [&'static str] = &["wilcox", "pratt", "zsplit"];
    pub fn parse(s: &str) -> Option<ZeroMethod> {
        Some(match s {
            "wilcox" => ZeroMethod::Wilcox,
            "pratt" => ZeroMethod::Pratt,
            "zsplit" => ZeroMethod::Zsplit,
            _ => return None,
        })
    }
}

/// How the p-value is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// SciPy's `auto`: exact for n ≤ 50 without ties or zeros; the exact conditional
    /// (permutation) distribution for n ≤ 13 otherwise; the normal approximation beyond.
    #[default]
    Auto,
    /// Exact; with ties or zeros this is the exact *conditional* distribution of the observed
    /// ranks (SciPy's `method="exact"` would use the no-ties distribution with rounded R+).
    Exact,
    Approx,
}

impl Method {
    pub const NAMES: &'static [&'static str] = &["auto", "exact", "approx"];
    pub fn parse(s: &str) -> Option<Method> {
        Some(match s {
            "auto" => Method::Auto,
            "exact" => Method::Exact,
            "approx" | "asymptotic" => Method::Approx,
            _ => return None,
        })
    }
}

/// The alternative hypothesis about `d = x − y` (SciPy's `alternative`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum Alternative {
    #[default]
    #[serde(rename = "two-sided")]
    TwoSided,
    /// `x` tends to be greater than `y`.
    #[serde(rename = "greater")]
    Greater,
    /// `x` tends to be less than `y`.
    #[serde(rename = "less")]
    Less,
}

impl Alternative {
    pub const NAMES: &'static [&'static str] = &["two-sided", "greater", "less"];
    pub fn parse(s: &str) -> Option<Alternative> {
        Some(match s {
            "two-sided" | "two_sided" => Alternative::TwoSided,
            "greater" => Alternative::Greater,
            "less" => Alternative::Less,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        Alternative::NAMES[self as usize]
    }
}

/// The test's options; the default is SciPy's own (`zero_method="wilcox"`, `correction=False`,
/// two-sided, `method="auto"`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Options {
    pub zero_method: ZeroMethod,
    /// Continuity correction of the normal approximation.
    pub correction: bool,
    pub method: Method,
    pub alternative: Alternative,
}

/// How a p-value was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PMethod {
    /// The exact null distribution of the signed-rank statistic.
    Exact,
    /// The exact distribution conditional on the observed (tied, zero) ranks: every sign flip.
    ExactConditional,
    /// The normal approximation with tie (and, if asked, continuity) corrections.
    Normal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wilcoxon {
    /// Pairs, zero differences among them.
    pub n: usize,
    pub zeros: usize,
    pub ties: bool,
    /// Sum of ranks of positive / negative differences.
    pub r_plus: f64,
    pub r_minus: f64,
    /// min(R+, R−) for the two-sided test, R+ for a one-sided one (as SciPy reports).
    pub statistic: f64,
    /// The z score of the normal approximation (with continuity correction), when used;
    /// −|z| for the two-sided test.
    pub z: Option<f64>,
    pub p: f64,
    pub p_method: PMethod,
}

/// The test on differences `d = x − y`. Needs at least one pair.
pub fn wilcoxon<T: Arith>(d: &[T], opts: &Options) -> Option<Wilcoxon> {
    let n = d.len();
    if n == 0 {
        return None;
    }
    let zeros = d.iter().filter(|v| v.is_zero()).count();
    // Ranked values: all for pratt/zsplit, the non-zero ones for wilcox.
    let ranked: Vec<T> = match opts.zero_method {
        ZeroMethod::Wilcox => d.iter().filter(|v| !v.is_zero()).copied().collect(),
        _ => d.to_vec(),
    };
    let abs: Vec<T> = ranked.iter().map(|v| v.magnitude()).collect();
    let (ranks, tie_groups) = average_ranks(&abs, |a, b| a.order(b));
    let ties = tie_groups.iter().any(|&t| t > 1);
    let mut r_plus = 0.0;
    let mut r_minus = 0.0;
    let mut r_zero = 0.0;
    for (v, r) in ranked.iter().zip(&ranks) {
        match v.sign() {
            1 => r_plus += r,
            -1 => r_minus += r,
            _ => r_zero += r,
        }
    }
    if opts.zero_method == ZeroMethod::Zsplit {
        r_plus += r_zero / 2.0;
        r_minus += r_zero / 2.0;
    }
    let two_sided = opts.alternative == Alternative::TwoSided;
    let statistic = if two_sided { r_plus.min(r_minus) } else { r_plus };

    let method = match opts.method {
        Method::Auto if n > 50 => Method::Approx,
        Method::Auto if !ties && zeros == 0 => Method::Exact,
        Method::Auto if n <= 13 => Method::Exact,
        Method::Auto => Method::Approx,
        m => m,
    };
    let nonzero = ranked.len() - if opts.zero_method == ZeroMethod::Wilcox { 0 } else { zeros };
    if nonzero == 0 {
        // every difference is zero: no evidence either way
        let p_method = if method == Method::Exact { PMethod::Exact } else { PMethod::Normal };
        return Some(Wilcoxon { n, zeros, ties, r_plus, r_minus, statistic, z: None, p: 1.0, p_method });
    }
    match method {
        Method::Exact => {
            // Doubled ranks are integers even with ties; zeros' ranks never move.
            let doubled: Vec<u64> = ranked
                .iter()
                .zip(&ranks)
                .filter(|(v, _)| !v.is_zero())
                .map(|(_, r)| (2.0 * r).round() as u64)
                .collect();
            let counts = signed_rank_counts(&doubled);
            let total: f64 = counts.iter().sum();
            let zero_part = if opts.zero_method == ZeroMethod::Zsplit { r_zero / 2.0 } else { 0.0 };
            let obs = (2.0 * (r_plus - zero_part)).round() as usize;
            let obs = obs.min(counts.len() - 1);
            let cdf: f64 = counts[..=obs].iter().sum::<f64>() / total;
            let sf: f64 = counts[obs..].iter().sum::<f64>() / total;
            let p = match opts.alternative {
                Alternative::TwoSided => (2.0 * cdf.min(sf)).min(1.0),
                Alternative::Greater => sf,
                Alternative::Less => cdf,
            };
            let p_method = if ties || zeros > 0 { PMethod::ExactConditional } else { PMethod::Exact };
            Some(Wilcoxon { n, zeros, ties, r_plus, r_minus, statistic, z: None, p, p_method })
        }
        _ => {
            let count = ranked.len() as f64;
            let mut mn = count * (count + 1.0) * 0.25;
            let mut se = count * (count + 1.0) * (2.0 * count + 1.0);
            let mut tie_groups = tie_groups;
            if opts.zero_method == ZeroMethod::Pratt && zeros > 0 {
                let z = zeros as f64;
                mn -= z * (z + 1.0) * 0.25;
                se -= z * (z + 1.0) * (2.0 * z + 1.0);
                // the zeros' own tie group (the smallest |d|) does not enter the correction
                tie_groups[0] = 0;
            }
            let tie_correct: f64 = tie_groups.iter().map(|&t| (t * t * t - t) as f64).sum();
            let se = ((se - tie_correct / 2.0) / 24.0).sqrt();
            let mut z = (r_plus - mn) / se;
            if opts.correction {
                let sign = match opts.alternative {
                    Alternative::TwoSided if z == 0.0 => 0.0,
                    Alternative::TwoSided => z.signum(),
                    Alternative::Greater => 1.0,
                    Alternative::Less => -1.0,
                };
                z -= sign * 0.5 / se;
            }
            let std = Normal::standard();
            let p = match opts.alternative {
                Alternative::TwoSided => (2.0 * std.cdf(z).min(std.sf(z))).min(1.0),
                Alternative::Greater => std.sf(z),
                Alternative::Less => std.cdf(z),
            };
            Some(Wilcoxon {
                n,
                zeros,
                ties,
                r_plus,
                r_minus,
                statistic,
                z: Some(if two_sided { -z.abs() } else { z }),
                p,
                p_method: PMethod::Normal,
            })
        }
    }
}

/// Number of sign assignments giving each sum of positive (doubled) ranks.
fn signed_rank_counts(doubled: &[u64]) -> Vec<f64> {
    let max: u64 = doubled.iter().sum();
    let mut counts = vec![0f64; max as usize + 1];
    counts[0] = 1.0;
    let mut reach = 0usize;
    for &r in doubled {
        let r = r as usize;
        for s in (0..=reach).rev() {
            if counts[s] != 0.0 {
                counts[s + r] += counts[s];
            }
        }
        reach += r;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::stats::exact::Exact;

    fn ints(v: &[i64]) -> Vec<Exact> {
        v.iter().map(|&x| Exact::integer(x)).collect()
    }

    #[test]
    fn exact_distribution_small_case() {
        // n = 3, ranks 1..3: sums 0,1,2,3,3,4,5,6 — each 1/8 except 3 (2/8).
        let c = signed_rank_counts(&[2, 4, 6]);
        let nz: Vec<(usize, f64)> = c.iter().copied().enumerate().filter(|(_, v)| *v > 0.0).collect();
        assert_eq!(nz, vec![(0, 1.0), (2, 1.0), (4, 1.0), (6, 2.0), (8, 1.0), (10, 1.0), (12, 1.0)]);
        // all positive differences: R- = 0, p = 2/8
        let w = wilcoxon(&ints(&[1, 2, 3]), &Options::default()).unwrap();
        assert_eq!((w.statistic, w.p, w.p_method), (0.0, 0.25, PMethod::Exact));
    }

    #[test]
    fn all_zero_differences_give_p_one() {
        let w = wilcoxon(&ints(&[0, 0, 0]), &Options::default()).unwrap();
        assert_eq!(w.p, 1.0);
        assert!(wilcoxon::<Exact>(&[], &Options::default()).is_none());
    }
}
