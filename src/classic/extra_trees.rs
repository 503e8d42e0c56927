//! Extremely randomised trees (Geurts, Ernst & Wehenkel 2006) for classification, as
//! scikit-learn's `ExtraTreesClassifier` grows them (QUANT's classifier: 200 trees,
//! `max_features = 0.1`, `criterion = "entropy"`, no bootstrap, trees grown until pure).
//!
//! Written here rather than taken from a crate: smartcore 0.7 (already a dependency) has only an
//! extra-trees *regressor* (variance criterion, no class distributions), and linfa-trees has
//! no randomised splitter; the algorithm is small and fully specified by scikit-learn's
//! `RandomSplitter` and `ClassificationCriterion`:
//!
//! - every tree sees every training row; at a node, features are drawn without replacement;
//!   a drawn feature constant over the node's rows (max ≤ min + 1e-7) counts as visited and
//!   is skipped; the others get one threshold drawn uniformly in `[min, max)` (`max` itself
//!   becomes `min`); drawing stops once `⌊max_features · p⌋` (at least 1) features were
//!   visited and more of them than the constant ones, or when every feature was drawn;
//! - the candidate with the lowest `n_left · H(left) + n_right · H(right)` (Shannon entropy of
//!   the class counts) wins, the first on a tie; rows with value ≤ threshold go left;
//! - a node is a leaf when it is pure, has fewer than 2 rows, or no drawn feature varies;
//! - prediction: the mean over trees of the leaf's class proportions, the first largest wins.
//!
//! Values are `f32` as in scikit-learn (which casts `X` to `float32`). Each tree draws from its
//! own ChaCha8 stream (seed, tree index), so a seed gives the same forest on every machine and
//! the trees grow in parallel; the draws cannot equal NumPy's.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// scikit-learn's `FEATURE_THRESHOLD`.
const FEATURE_THRESHOLD: f32 = 1e-7;

/// Why a forest could not be grown or used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TreeError {
    #[error("no training rows")]
    EmptyTrain,
    #[error("{rows} rows of {width} values do not fill a matrix of {len} values")]
    Shape { rows: usize, width: usize, len: usize },
    #[error("a label is {label}, but there are {classes} classes")]
    Label { label: usize, classes: usize },
    #[error("max_features must be in (0, 1], not {0}")]
    MaxFeatures(f64),
    #[error("at least one tree is needed")]
    NoTrees,
    #[error("a feature value is not finite (row {row}, feature {feature})")]
    NotFinite { row: usize, feature: usize },
}

/// The forest's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtraTreesParams {
    pub trees: usize,
    /// Share of the features drawn at each node.
    pub max_features: f64,
    pub seed: u64,
}

impl ExtraTreesParams {
    /// QUANT's classifier.
    pub const QUANT: ExtraTreesParams = ExtraTreesParams { trees: 200, max_features: 0.1, seed: 0 };
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// Class proportions.
    Leaf(Vec<f32>),
    Split {
        feature: usize,
        threshold: f32,
        left: usize,
        right: usize,
    },
}

/// One tree: nodes, the root first.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    nodes: Vec<Node>,
}

/// A grown forest.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtraTrees {
    pub classes: usize,
    pub width: usize,
    trees: Vec<Tree>,
}

/// `Σ c·ln c` terms: `n·H = n ln n − Σ c ln c`.
fn weighted_entropy(counts: &[u32]) -> f64 {
    let n: u32 = counts.iter().sum();
    if n == 0 {
        return 0.0;
    }
    let nf = f64::from(n);
    nf * nf.ln() - counts.iter().filter(|&&c| c > 0).map(|&c| f64::from(c) * f64::from(c).ln()).sum::<f64>()
}

/// The training data in column-major `f32` (`p × n`) with the labels.
struct Data<'a> {
    cols: &'a [f32],
    n: usize,
    p: usize,
    labels: &'a [usize],
    classes: usize,
}

impl Data<'_> {
    fn value(&self, row: usize, feature: usize) -> f32 {
        self.cols[feature * self.n + row]
    }
}

struct Best {
    feature: usize,
    threshold: f32,
    cost: f64,
}

/// Draws the node's candidate splits and returns the best one (None: a leaf).
fn best_split(d: &Data, rows: &[usize], max_features: usize, rng: &mut ChaCha8Rng) -> Option<Best> {
    let mut order: Vec<usize> = (0..d.p).collect();
    let (mut visited, mut constants, mut drawn) = (0usize, 0usize, 0usize);
    let mut best: Option<Best> = None;
    let (mut left, mut right) = (vec![0u32; d.classes], vec![0u32; d.classes]);
    while drawn < d.p && (visited < max_features || visited <= constants) {
        let pick = rng.random_range(drawn..d.p);
        order.swap(drawn, pick);
        let f = order[drawn];
        drawn += 1;
        visited += 1;
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for &r in rows {
            let v = d.value(r, f);
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if hi <= lo + FEATURE_THRESHOLD {
            constants += 1;
            continue;
        }
        let u: f64 = rng.random();
        let mut threshold = (f64::from(lo) + u * (f64::from(hi) - f64::from(lo))) as f32;
        if threshold >= hi {
            threshold = lo;
        }
        left.fill(0);
        right.fill(0);
        for &r in rows {
            let side = if d.value(r, f) <= threshold { &mut left } else { &mut right };
            side[d.labels[r]] += 1;
        }
        let cost = weighted_entropy(&left) + weighted_entropy(&right);
        if best.as_ref().is_none_or(|b| cost < b.cost) {
            best = Some(Best { feature: f, threshold, cost });
        }
    }
    best
}

fn leaf(d: &Data, rows: &[usize]) -> Node {
    let mut dist = vec![0f32; d.classes];
    for &r in rows {
        dist[d.labels[r]] += 1.0;
    }
    let n = rows.len().max(1) as f32;
    dist.iter_mut().for_each(|v| *v /= n);
    Node::Leaf(dist)
}

fn grow(d: &Data, max_features: usize, seed: u64) -> Tree {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows: Vec<usize> = (0..d.n).collect();
    let mut nodes = vec![Node::Leaf(Vec::new())];
    // (node index, rows start, rows end)
    let mut stack = vec![(0usize, 0usize, d.n)];
    while let Some((id, start, end)) = stack.pop() {
        let here = &mut rows[start..end];
        let first = d.labels[here[0]];
        let pure = here.iter().all(|&r| d.labels[r] == first);
        let split = if pure || here.len() < 2 { None } else { best_split(d, here, max_features, &mut rng) };
        let Some(b) = split else {
            nodes[id] = leaf(d, here);
            continue;
        };
        // Partition: rows ≤ threshold first.
        let mut mid = 0;
        for i in 0..here.len() {
            if d.value(here[i], b.feature) <= b.threshold {
                here.swap(i, mid);
                mid += 1;
            }
        }
        let (left, right) = (nodes.len(), nodes.len() + 1);
        nodes.push(Node::Leaf(Vec::new()));
        nodes.push(Node::Leaf(Vec::new()));
        nodes[id] = Node::Split { feature: b.feature, threshold: b.threshold, left, right };
        stack.push((right, start + mid, end));
        stack.push((left, start, start + mid));
    }
    Tree { nodes }
}

impl Tree {
    fn proportions(&self, row: &[f32]) -> &[f32] {
        let mut i = 0;
        loop {
            match &self.nodes[i] {
                Node::Leaf(p) => return p,
                Node::Split { feature, threshold, left, right } => {
                    i = if row[*feature] <= *threshold { *left } else { *right };
                }
            }
        }
    }
}

impl ExtraTrees {
    /// Grows the forest on `n` rows of `p` values (row-major) with labels in `0..classes`.
    pub fn fit(
        x: &[f32],
        n: usize,
        p: usize,
        labels: &[usize],
        classes: usize,
        params: &ExtraTreesParams,
    ) -> Result<ExtraTrees, TreeError> {
        if n == 0 || labels.len() != n {
            return Err(TreeError::EmptyTrain);
        }
        if x.len() != n * p {
            return Err(TreeError::Shape { rows: n, width: p, len: x.len() });
        }
        if let Some(&label) = labels.iter().find(|&&l| l >= classes) {
            return Err(TreeError::Label { label, classes });
        }
        if !(params.max_features > 0.0 && params.max_features <= 1.0) {
            return Err(TreeError::MaxFeatures(params.max_features));
        }
        if params.trees == 0 {
            return Err(TreeError::NoTrees);
        }
        if let Some(k) = x.iter().position(|v| !v.is_finite()) {
            return Err(TreeError::NotFinite { row: k / p.max(1), feature: k % p.max(1) });
        }
        let mut cols = vec![0f32; n * p];
        for (i, row) in x.chunks(p.max(1)).enumerate() {
            for (j, v) in row.iter().enumerate() {
                cols[j * n + i] = *v;
            }
        }
        let d = Data { cols: &cols, n, p, labels, classes };
        let max_features = ((params.max_features * p as f64) as usize).max(1);
        let mut seeds = ChaCha8Rng::seed_from_u64(params.seed);
        let tree_seeds: Vec<u64> = (0..params.trees).map(|_| seeds.random()).collect();
        let trees = tree_seeds.par_iter().map(|&s| grow(&d, max_features, s)).collect();
        Ok(ExtraTrees { classes, width: p, trees })
    }

    /// The mean class proportions of one row.
    pub fn predict_proba(&self, row: &[f32]) -> Vec<f64> {
        let mut p = vec![0f64; self.classes];
        for t in &self.trees {
            for (a, v) in p.iter_mut().zip(t.proportions(row)) {
                *a += f64::from(*v);
            }
        }
        let k = self.trees.len() as f64;
        p.iter_mut().for_each(|v| *v /= k);
        p
    }

    /// Class proportions of every row (row-major, width `self.width`), in parallel.
    pub fn predict_proba_rows(&self, x: &[f32]) -> Result<Vec<Vec<f64>>, TreeError> {
        let p = self.width;
        if p == 0 || !x.len().is_multiple_of(p) {
            return Err(TreeError::Shape { rows: x.len() / p.max(1), width: p, len: x.len() });
        }
        Ok(x.par_chunks(p).map(|row| self.predict_proba(row)).collect())
    }
}

/// The first class of largest proportion (`np.argmax`).
pub fn argmax(p: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in p.iter().enumerate() {
        if *v > p[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs(n: usize, seed: u64) -> (Vec<f32>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let c = i % 3;
            // Feature 0 separates the classes, 1..5 are noise, 5 is constant.
            x.push(c as f32 + rng.random_range(-0.3..0.3));
            for _ in 0..4 {
                x.push(rng.random_range(-1.0..1.0));
            }
            x.push(2.0);
            y.push(c);
        }
        (x, y)
    }

    #[test]
    fn trees_fit_training_rows_and_generalise() {
        let (x, y) = blobs(90, 1);
        let params = ExtraTreesParams { trees: 50, max_features: 0.5, seed: 3 };
        let f = ExtraTrees::fit(&x, 90, 6, &y, 3, &params).unwrap();
        // Grown until pure on distinct rows: every training row is predicted right by every tree.
        for (row, &label) in x.chunks(6).zip(&y) {
            let p = f.predict_proba(row);
            assert_eq!(p[label], 1.0, "{p:?}");
        }
        let (xt, yt) = blobs(300, 2);
        let right = xt.chunks(6).zip(&yt).filter(|(row, label)| argmax(&f.predict_proba(row)) == **label).count();
        assert!(right >= 280, "{right} / 300");
        assert_eq!(f, ExtraTrees::fit(&x, 90, 6, &y, 3, &params).unwrap());
        // A constant feature is never split on.
        for t in &f.trees {
            assert!(t.nodes.iter().all(|n| !matches!(n, Node::Split { feature: 5, .. })));
        }
    }

    #[test]
    fn entropy_costs() {
        assert_eq!(weighted_entropy(&[4, 0]), 0.0);
        assert!((weighted_entropy(&[2, 2]) - 4.0 * 2f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn bad_input_is_an_error() {
        let params = ExtraTreesParams::QUANT;
        assert_eq!(ExtraTrees::fit(&[], 0, 3, &[], 2, &params), Err(TreeError::EmptyTrain));
        assert_eq!(
            ExtraTrees::fit(&[1.0, 2.0], 1, 2, &[2], 2, &params),
            Err(TreeError::Label { label: 2, classes: 2 })
        );
        let bad = ExtraTreesParams { max_features: 0.0, ..params };
        assert_eq!(ExtraTrees::fit(&[1.0, 2.0], 1, 2, &[0], 2, &bad), Err(TreeError::MaxFeatures(0.0)));
    }
}
