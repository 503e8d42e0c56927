//! Exact t-SNE (van der Maaten & Hinton 2008), seeded and deterministic.
//!
//! Written here rather than taken from a crate: the report embeds at most a few thousand TEST
//! series, where the exact O(N²) gradient takes seconds, and a sequential implementation gives the
//! same bits for the same seed on every machine (the figures are cached artefacts). Settings follow
//! scikit-learn's: Gaussian affinities calibrated to a perplexity by bisection, symmetrised;
//! random initialisation N(0, 10⁻⁴); early exaggeration 12 for 250 iterations with momentum 0.5,
//! then 0.8; learning rate max(N / 12 / 4, 50); per-coordinate gains (delta-bar-delta).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Why an embedding could not be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TsneError {
    #[error("t-SNE needs at least 4 points, got {0}")]
    TooFewPoints(usize),
    #[error("t-SNE input row {row} has {len} values, row 0 has {expected}")]
    Ragged { row: usize, len: usize, expected: usize },
    #[error("t-SNE input rows are empty (0 features)")]
    NoFeatures,
    #[error("t-SNE input row {0} has a non-finite value")]
    NonFinite(usize),
    #[error("t-SNE setting {0}")]
    Config(String),
}

/// t-SNE settings; [`Default`] is scikit-learn's (perplexity 30, 1000 iterations).
#[derive(Debug, Clone, PartialEq)]
pub struct TsneConfig {
    /// Effective number of neighbours; lowered to (N − 1) / 3 for small N.
    pub perplexity: f64,
    pub iterations: usize,
    pub seed: u64,
    pub early_exaggeration: f64,
    /// Iterations with exaggerated affinities and momentum 0.5.
    pub exaggeration_iterations: usize,
    /// `None`: max(N / early_exaggeration / 4, 50).
    pub learning_rate: Option<f64>,
}

impl Default for TsneConfig {
    fn default() -> Self {
        TsneConfig {
            perplexity: 30.0,
            iterations: 1000,
            seed: 0,
            early_exaggeration: 12.0,
            exaggeration_iterations: 250,
            learning_rate: None,
        }
    }
}

/// Embeds the rows of `x` (N points × D features) in 2-D.
pub fn tsne(x: &[Vec<f64>], cfg: &TsneConfig) -> Result<Vec<[f64; 2]>, TsneError> {
    let n = x.len();
    if n < 4 {
        return Err(TsneError::TooFewPoints(n));
    }
    let d = x[0].len();
    if d == 0 {
        return Err(TsneError::NoFeatures);
    }
    for (row, r) in x.iter().enumerate() {
        if r.len() != d {
            return Err(TsneError::Ragged { row, len: r.len(), expected: d });
        }
        if r.iter().any(|v| !v.is_finite()) {
            return Err(TsneError::NonFinite(row));
        }
    }
    if !(cfg.perplexity.is_finite() && cfg.perplexity > 0.0) {
        return Err(TsneError::Config(format!("perplexity = {} (must be > 0)", cfg.perplexity)));
    }
    if !(cfg.early_exaggeration.is_finite() && cfg.early_exaggeration >= 1.0) {
        return Err(TsneError::Config(format!("early_exaggeration = {} (must be ≥ 1)", cfg.early_exaggeration)));
    }
    if let Some(lr) = cfg.learning_rate.filter(|lr| !(lr.is_finite() && *lr > 0.0)) {
        return Err(TsneError::Config(format!("learning_rate = {lr} (must be > 0)")));
    }
    let p = affinities(x, cfg.perplexity.min((n - 1) as f64 / 3.0));
    Ok(optimise(&p, n, cfg))
}

/// Squared Euclidean distances, row-major N × N.
fn sq_distances(x: &[Vec<f64>]) -> Vec<f64> {
    let n = x.len();
    let mut d = vec![0.0; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let s: f64 = x[i].iter().zip(&x[j]).map(|(a, b)| (a - b) * (a - b)).sum();
            d[i * n + j] = s;
            d[j * n + i] = s;
        }
    }
    d
}

/// Symmetric joint probabilities P (row-major N × N, summing to 1): each row's Gaussian bandwidth
/// is bisected until its entropy is ln(perplexity).
fn affinities(x: &[Vec<f64>], perplexity: f64) -> Vec<f64> {
    let n = x.len();
    let dist = sq_distances(x);
    let target = perplexity.ln();
    let mut cond = vec![0.0; n * n];
    let mut row = vec![0.0; n];
    for i in 0..n {
        let di = &dist[i * n..(i + 1) * n];
        // distances shifted by the nearest one, so exp() cannot underflow to all zeros
        let dmin = (0..n).filter(|&j| j != i).map(|j| di[j]).fold(f64::INFINITY, f64::min);
        let mean = (0..n).filter(|&j| j != i).map(|j| di[j] - dmin).sum::<f64>() / (n - 1) as f64;
        let (mut beta, mut lo, mut hi) = (if mean > 0.0 { 1.0 / mean } else { 1.0 }, 0.0, f64::INFINITY);
        for _ in 0..200 {
            let mut z = 0.0;
            let mut wsum = 0.0;
            for j in 0..n {
                row[j] = if j == i { 0.0 } else { (-(di[j] - dmin) * beta).exp() };
                z += row[j];
                wsum += row[j] * (di[j] - dmin);
            }
            let h = z.ln() + beta * wsum / z;
            if (h - target).abs() < 1e-5 {
                break;
            }
            if h > target {
                lo = beta;
                beta = if hi.is_finite() { (beta + hi) / 2.0 } else { beta * 2.0 };
            } else {
                hi = beta;
                beta = (beta + lo) / 2.0;
            }
        }
        let z: f64 = row.iter().sum();
        for j in 0..n {
            cond[i * n + j] = row[j] / z;
        }
    }
    let mut p = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            if i != j {
                p[i * n + j] = ((cond[i * n + j] + cond[j * n + i]) / (2.0 * n as f64)).max(1e-12);
            }
        }
    }
    p
}

/// One standard normal draw (Box–Muller), so no distribution crate is needed.
fn normal(r: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - r.random::<f64>(); // (0, 1]
    let u2: f64 = r.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Gradient descent on KL(P ‖ Q) with Student-t Q.
fn optimise(p: &[f64], n: usize, cfg: &TsneConfig) -> Vec<[f64; 2]> {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut y: Vec<[f64; 2]> = (0..n).map(|_| [1e-4 * normal(&mut rng), 1e-4 * normal(&mut rng)]).collect();
    let lr = cfg.learning_rate.unwrap_or((n as f64 / cfg.early_exaggeration / 4.0).max(50.0));
    let mut update = vec![[0.0; 2]; n];
    let mut gains = vec![[1.0; 2]; n];
    let mut num = vec![0.0; n * n];
    let mut grad = vec![[0.0; 2]; n];
    for it in 0..cfg.iterations {
        let early = it < cfg.exaggeration_iterations;
        let exag = if early { cfg.early_exaggeration } else { 1.0 };
        let momentum = if early { 0.5 } else { 0.8 };
        let mut sum_q = 0.0;
        for i in 0..n {
            for j in i + 1..n {
                let (dx, dy) = (y[i][0] - y[j][0], y[i][1] - y[j][1]);
                let q = 1.0 / (1.0 + dx * dx + dy * dy);
                num[i * n + j] = q;
                num[j * n + i] = q;
                sum_q += 2.0 * q;
            }
        }
        for i in 0..n {
            let mut g = [0.0; 2];
            for j in 0..n {
                if j == i {
                    continue;
                }
                let q = num[i * n + j];
                let m = (exag * p[i * n + j] - q / sum_q) * q;
                g[0] += m * (y[i][0] - y[j][0]);
                g[1] += m * (y[i][1] - y[j][1]);
            }
            grad[i] = [4.0 * g[0], 4.0 * g[1]];
        }
        for i in 0..n {
            for k in 0..2 {
                // the step would reverse direction: grow the gain, else shrink it
                let g: f64 = if update[i][k] * grad[i][k] < 0.0 { gains[i][k] + 0.2 } else { gains[i][k] * 0.8 };
                gains[i][k] = g.max(0.01);
                update[i][k] = momentum * update[i][k] - lr * gains[i][k] * grad[i][k];
                y[i][k] += update[i][k];
            }
        }
        let (mx, my) = y.iter().fold((0.0, 0.0), |(a, b), v| (a + v[0], b + v[1]));
        for v in &mut y {
            v[0] -= mx / n as f64;
            v[1] -= my / n as f64;
        }
    }
    y
}

/// Fraction of points whose nearest neighbour in `y` has their label (1 = classes fully apart).
pub fn neighbour_purity(y: &[[f64; 2]], labels: &[usize]) -> f64 {
    let n = y.len().min(labels.len());
    if n < 2 {
        return f64::NAN;
    }
    let hits = (0..n)
        .filter(|&i| {
            let nearest = (0..n)
                .filter(|&j| j != i)
                .min_by(|&a, &b| {
                    let d = |j: usize| (y[i][0] - y[j][0]).powi(2) + (y[i][1] - y[j][1]).powi(2);
                    d(a).total_cmp(&d(b))
                })
                .unwrap_or(i);
            labels[nearest] == labels[i]
        })
        .count();
    hits as f64 / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `per` points around each of `centres` (D = 8), unit Gaussian noise.
    fn blobs(centres: &[f64], per: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<usize>) {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Vec::new();
        let mut labels = Vec::new();
        for (c, &m) in centres.iter().enumerate() {
            for _ in 0..per {
                x.push((0..8).map(|_| m + normal(&mut r)).collect());
                labels.push(c);
            }
        }
        (x, labels)
    }

    fn quick(seed: u64) -> TsneConfig {
        TsneConfig { iterations: 300, exaggeration_iterations: 100, seed, ..Default::default() }
    }

    #[test]
    fn same_seed_same_embedding_other_seed_other() {
        let (x, _) = blobs(&[0.0, 6.0], 20, 1);
        let a = tsne(&x, &quick(7)).unwrap();
        let b = tsne(&x, &quick(7)).unwrap();
        assert_eq!(a, b, "same seed must give the same bits");
        let c = tsne(&x, &quick(8)).unwrap();
        assert_ne!(a, c);
        assert_eq!(a.len(), 40);
        assert!(a.iter().all(|p| p[0].is_finite() && p[1].is_finite()));
    }

    #[test]
    fn separated_blobs_stay_separated() {
        let (x, labels) = blobs(&[0.0, 10.0, -10.0], 25, 2);
        let y = tsne(&x, &quick(0)).unwrap();
        assert_eq!(neighbour_purity(&y, &labels), 1.0);
        // and the embedding is not a collapsed point cloud: between-class gaps exceed within-class spread
        let centre = |c: usize| {
            let pts: Vec<_> = y.iter().zip(&labels).filter(|(_, l)| **l == c).map(|(p, _)| *p).collect();
            let k = pts.len() as f64;
            [pts.iter().map(|p| p[0]).sum::<f64>() / k, pts.iter().map(|p| p[1]).sum::<f64>() / k]
        };
        let spread = |c: usize| {
            let m = centre(c);
            y.iter()
                .zip(&labels)
                .filter(|(_, l)| **l == c)
                .map(|(p, _)| (p[0] - m[0]).hypot(p[1] - m[1]))
                .fold(0.0, f64::max)
        };
        let (a, b) = (centre(0), centre(1));
        assert!((a[0] - b[0]).hypot(a[1] - b[1]) > spread(0).max(spread(1)));
    }

    #[test]
    fn mixed_labels_have_low_purity() {
        // the purity check itself can fail: random labels on one blob are not separated
        let (x, _) = blobs(&[0.0], 40, 3);
        let labels: Vec<usize> = (0..40).map(|i| (i * 7 / 3) % 2).collect();
        let y = tsne(&x, &quick(0)).unwrap();
        assert!(neighbour_purity(&y, &labels) < 0.9);
    }

    #[test]
    fn small_inputs_lower_the_perplexity() {
        let x: Vec<Vec<f64>> = (0..6).map(|i| vec![i as f64, (i % 2) as f64]).collect();
        let y = tsne(&x, &quick(0)).unwrap();
        assert!(y.iter().all(|p| p[0].is_finite() && p[1].is_finite()));
        // identical points are allowed (uniform affinities)
        let same = vec![vec![1.0, 2.0]; 5];
        assert!(tsne(&same, &quick(0)).unwrap().iter().all(|p| p[0].is_finite()));
    }

    /// Time at the report's largest bundled size (ItalyPowerDemand TEST: 1029 series of 24 points):
    /// `cargo test --lib embed::tsne::tests::timing -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing, prints seconds"]
    fn timing() {
        let (x, labels) = blobs(&[0.0, 1.5], 1029 / 2 + 1, 4);
        let x: Vec<Vec<f64>> = x.into_iter().map(|r| r.iter().cycle().take(24).copied().collect()).collect();
        for iterations in [500, 1000] {
            let t = std::time::Instant::now();
            let y = tsne(&x, &TsneConfig { iterations, ..Default::default() }).unwrap();
            println!(
                "n = {}, {iterations} iterations: {:.2} s, purity {:.3}",
                x.len(),
                t.elapsed().as_secs_f64(),
                neighbour_purity(&y, &labels)
            );
        }
    }

    #[test]
    fn input_validation() {
        let cfg = TsneConfig::default();
        assert_eq!(tsne(&vec![vec![1.0]; 3], &cfg), Err(TsneError::TooFewPoints(3)));
        assert_eq!(tsne(&vec![vec![]; 5], &cfg), Err(TsneError::NoFeatures));
        let mut x = vec![vec![1.0, 2.0]; 5];
        x[3] = vec![1.0];
        assert_eq!(tsne(&x, &cfg), Err(TsneError::Ragged { row: 3, len: 1, expected: 2 }));
        let mut x = vec![vec![1.0, 2.0]; 5];
        x[2][1] = f64::NAN;
        assert_eq!(tsne(&x, &cfg), Err(TsneError::NonFinite(2)));
        let x = vec![vec![1.0, 2.0]; 5];
        for bad in [
            TsneConfig { perplexity: 0.0, ..Default::default() },
            TsneConfig { early_exaggeration: 0.5, ..Default::default() },
            TsneConfig { learning_rate: Some(-1.0), ..Default::default() },
        ] {
            assert!(matches!(tsne(&x, &bad), Err(TsneError::Config(_))), "{bad:?}");
        }
    }
}
