//! Friedman's test over a datasets × methods rank matrix, with the tie correction SciPy's
//! `friedmanchisquare` applies, and the Iman–Davenport F variant Demšar (2006) recommends.

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Friedman {
    /// Datasets (blocks) and methods (treatments).
    pub n: usize,
    pub k: usize,
    /// χ²_F, corrected for ties as SciPy does.
    pub chi2: f64,
    pub p: f64,
    /// Iman–Davenport F = (n−1)χ² / (n(k−1) − χ²) on (k−1, (k−1)(n−1)) degrees of freedom.
    pub iman_davenport_f: f64,
    pub iman_davenport_p: f64,
}

/// `ranks[d]` are the within-dataset ranks of the k methods; `ties[d]` the tie-group sizes.
/// Needs n ≥ 2 and k ≥ 2.
pub fn friedman(ranks: &[Vec<f64>], ties: &[Vec<usize>]) -> Option<Friedman> {
    let n = ranks.len();
    let k = ranks.first()?.len();
    if n < 2 || k < 2 || ranks.iter().any(|r| r.len() != k) {
        return None;
    }
    let (nf, kf) = (n as f64, k as f64);
    let sums: Vec<f64> = (0..k).map(|j| ranks.iter().map(|r| r[j]).sum()).collect();
    let ssbn: f64 = sums.iter().map(|s| s * s).sum();
    let tie_sum: f64 = ties.iter().flatten().map(|&t| (t * (t * t - 1)) as f64).sum();
    let c = 1.0 - tie_sum / (kf * (kf * kf - 1.0) * nf);
    let chi2 = if c > 0.0 { (12.0 / (kf * nf * (kf + 1.0)) * ssbn - 3.0 * nf * (kf + 1.0)) / c } else { 0.0 };
    let chi2 = chi2.max(0.0);
    let p = ChiSquared::new(kf - 1.0).map_or(f64::NAN, |d| d.sf(chi2));
    let denom = nf * (kf - 1.0) - chi2;
    let (f, fp) = if denom > 0.0 {
        let f = (nf - 1.0) * chi2 / denom;
        (f, FisherSnedecor::new(kf - 1.0, (kf - 1.0) * (nf - 1.0)).map_or(f64::NAN, |d| d.sf(f)))
    } else {
        // every dataset ranks the methods identically: F is infinite, p is 0
        (f64::INFINITY, 0.0)
    };
    Some(Friedman { n, k, chi2, p, iman_davenport_f: f, iman_davenport_p: fp })
}
