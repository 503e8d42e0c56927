//! NearMiss under-sampling (Zhang & Mani 2003) to choose M representatives per class, the
//! subset the CNN-TS paper pairs every training series with (2 per class).
//!
//! For a class `c`, the *reference* set is every training series of another class
//! (imbalanced-learn compares with the minority class, which is undefined when the minority
//! class itself needs representatives, as here). With `k = n_neighbors`:
//!
//! * version 1: keep the members of `c` with the smallest sum of distances to their `k` nearest
//!   reference series;
//! * version 2: the smallest sum of distances to their `k` *farthest* reference series;
//! * version 3: shortlist, for every reference series, its `n_neighbors_ver3` nearest members of
//!   `c`; among the shortlist keep those with the *largest* sum of distances to their `k`
//!   nearest reference series (a shortlist shorter than M gives fewer representatives).
//!
//! Sums are imbalanced-learn's (it sums, the paper's "average" orders the same). Ties go to the
//! lower series index. A class with at most M series keeps all of them. Distances are
//! Euclidean or DTW (the square root of [`crate::classic::dtw`]'s squared-cost DTW).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::PairError;
use crate::classic::dtw::{dtw, squared_euclidean_bounded};
use crate::classic::{Metric, Window};
use crate::data::dataset::Split;

/// NearMiss parameters. Defaults: version 1, 2 per class (the paper), 3 neighbours
/// (imbalanced-learn's default), Euclidean distance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NearMiss {
    /// 1, 2 or 3.
    pub version: u8,
    /// Representatives per class (M / K).
    pub per_class: usize,
    /// Neighbours averaged over (`n_neighbors`).
    pub n_neighbors: usize,
    /// Shortlist size of version 3 (`n_neighbors_ver3`).
    pub n_neighbors_ver3: usize,
    pub metric: Metric,
}

impl Default for NearMiss {
    fn default() -> Self {
        NearMiss { version: 1, per_class: 2, n_neighbors: 3, n_neighbors_ver3: 3, metric: Metric::Euclidean }
    }
}

impl NearMiss {
    pub fn validate(&self) -> Result<(), PairError> {
        let bad = |m: &str| Err(PairError::InvalidParams(m.into()));
        if !(1..=3).contains(&self.version) {
            return bad("version must be 1, 2 or 3");
        }
        if self.per_class == 0 || self.n_neighbors == 0 || self.n_neighbors_ver3 == 0 {
            return bad("per_class, n_neighbors and n_neighbors_ver3 must be positive");
        }
        if let Metric::Dtw { window: Window::Fraction(f) } = self.metric
            && !(0.0..=1.0).contains(&f)
        {
            return bad("the DTW window fraction must be in [0, 1]");
        }
        Ok(())
    }
}

fn distance(split: &Split, metric: Metric, a: usize, b: usize) -> f64 {
    let (x, y) = (split.series(a), split.series(b));
    match metric {
        Metric::Euclidean => squared_euclidean_bounded(x, y, f64::INFINITY).sqrt(),
        Metric::Dtw { window } => dtw(x, y, split.dims, split.len, window.cells(split.len)).sqrt(),
    }
}

/// Sum of the `k` smallest (`nearest`) or largest values of `d` (sorted in place).
fn sum_k(d: &mut [f64], k: usize, nearest: bool) -> f64 {
    d.sort_by(f64::total_cmp);
    let k = k.min(d.len());
    if nearest { d[..k].iter().sum() } else { d[d.len() - k..].iter().sum() }
}

/// Representative series indices (ascending) of `split`, per `cfg`.
pub fn nearmiss(split: &Split, classes: usize, cfg: &NearMiss) -> Result<Vec<usize>, PairError> {
    cfg.validate()?;
    if split.n == 0 {
        return Err(PairError::Empty);
    }
    if let Some((index, &label)) = split.labels.iter().enumerate().find(|(_, l)| **l >= classes) {
        return Err(PairError::BadLabel { index, label, classes });
    }
    let mut out = Vec::new();
    for c in 0..classes {
        let members: Vec<usize> = (0..split.n).filter(|&i| split.labels[i] == c).collect();
        let reference: Vec<usize> = (0..split.n).filter(|&i| split.labels[i] != c).collect();
        if members.len() <= cfg.per_class || reference.is_empty() {
            out.extend(members.iter().take(cfg.per_class));
            continue;
        }
        // d[p][o]: member p to reference o.
        let d: Vec<Vec<f64>> = members
            .par_iter()
            .map(|&p| reference.iter().map(|&o| distance(split, cfg.metric, p, o)).collect())
            .collect();
        let score = |p: usize, nearest: bool| sum_k(&mut d[p].clone(), cfg.n_neighbors, nearest);
        // (position in `members`, score); the sort is stable, so equal scores keep index order.
        let mut ranked: Vec<(usize, f64)> = match cfg.version {
            1 => (0..members.len()).map(|p| (p, score(p, true))).collect(),
            2 => (0..members.len()).map(|p| (p, score(p, false))).collect(),
            _ => {
                let k3 = cfg.n_neighbors_ver3.min(members.len());
                let mut shortlist = vec![false; members.len()];
                for (o, _) in reference.iter().enumerate() {
                    let mut by_dist: Vec<usize> = (0..members.len()).collect();
                    by_dist.sort_by(|&a, &b| d[a][o].total_cmp(&d[b][o]));
                    by_dist[..k3].iter().for_each(|&p| shortlist[p] = true);
                }
                (0..members.len()).filter(|&p| shortlist[p]).map(|p| (p, score(p, true))).collect()
            }
        };
        if cfg.version == 3 {
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        } else {
            ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
        }
        out.extend(ranked.iter().take(cfg.per_class).map(|&(p, _)| members[p]));
    }
    out.sort_unstable();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Length-1 series (points on a line):
    /// class 0 = {0: 0.0, 1: 8.0, 2: 9.5, 3: 30.0}, class 1 = {4: 10.0, 5: 11.0, 6: 40.0}.
    fn points() -> Split {
        Split {
            n: 7,
            dims: 1,
            len: 1,
            values: vec![0.0, 8.0, 9.5, 30.0, 10.0, 11.0, 40.0],
            labels: vec![0, 0, 0, 0, 1, 1, 1],
        }
    }

    fn nm(version: u8, per_class: usize) -> NearMiss {
        NearMiss { version, per_class, n_neighbors: 1, n_neighbors_ver3: 1, metric: Metric::Euclidean }
    }

    #[test]
    fn version_1_nearest_to_the_other_class() {
        // class 0 distance to the nearest class-1 point: 0→10, 8→2, 9.5→0.5, 30→10: picks 9.5, 8.
        // class 1 to the nearest class-0 point: 10→0.5, 11→1.5, 40→10: picks 10, 11.
        assert_eq!(nearmiss(&points(), 2, &nm(1, 2)).unwrap(), vec![1, 2, 4, 5]);
    }

    #[test]
    fn version_2_nearest_farthest_neighbour() {
        // class 0 distance to the farthest class-1 point: 0→40, 8→32, 9.5→30.5, 30→20: picks 30, 9.5.
        // class 1 to the farthest class-0 point: 10→10, 11→11, 40→40: picks 10, 11.
        assert_eq!(nearmiss(&points(), 2, &nm(2, 2)).unwrap(), vec![2, 3, 4, 5]);
    }

    #[test]
    fn version_3_shortlist_then_farthest() {
        // class 0 shortlist (nearest class-0 point of each class-1 point): 10→9.5, 11→9.5, 40→30;
        // of {9.5, 30} the one farthest from class 1 (0.5 vs 10) is 30.
        // class 1 shortlist: 0, 8, 9.5 → 10; 30 → 40 (10 < 19); of {10, 40}, 40 (10 vs 0.5).
        assert_eq!(nearmiss(&points(), 2, &nm(3, 1)).unwrap(), vec![3, 6]);
        // shortlist {9.5, 30} and {10, 40} both fit M = 2
        assert_eq!(nearmiss(&points(), 2, &nm(3, 2)).unwrap(), vec![2, 3, 4, 6]);
    }

    #[test]
    fn two_neighbours_ties_small_classes_and_dtw() {
        // k = 2, version 1: class 0 sums 0→21, 8→5, 9.5→2, 30→29 → 9.5; class 1 sums
        // 10→2.5, 11→4.5, 40→40 → 10.
        let k2 = NearMiss { n_neighbors: 2, ..nm(1, 1) };
        assert_eq!(nearmiss(&points(), 2, &k2).unwrap(), vec![2, 4]);
        // equal scores: the lower index wins
        let tie = Split { n: 4, dims: 1, len: 1, values: vec![-1.0, 1.0, 0.0, 5.0], labels: vec![0, 0, 1, 1] };
        assert_eq!(nearmiss(&tie, 2, &nm(1, 1)).unwrap(), vec![0, 2]);
        // a class with no more than M series keeps them all; an absent class adds nothing
        // (class 0 keeps 9.5, 8 and, of the tied 0 and 30, the lower index 0)
        assert_eq!(nearmiss(&points(), 3, &nm(1, 3)).unwrap(), vec![0, 1, 2, 4, 5, 6]);
        // DTW with a zero band is the Euclidean distance: same choice
        let dtw0 = NearMiss { metric: Metric::Dtw { window: Window::Cells(0) }, ..nm(1, 2) };
        assert_eq!(nearmiss(&points(), 2, &dtw0).unwrap(), vec![1, 2, 4, 5]);
        assert!(nearmiss(&points(), 2, &NearMiss { version: 4, ..nm(1, 1) }).is_err());
        assert!(matches!(nearmiss(&points(), 1, &nm(1, 1)), Err(PairError::BadLabel { index: 4, .. })));
    }
}
