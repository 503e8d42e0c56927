//! Dynamic time warping with a squared point cost, full window or Sakoe–Chiba band, O(n·w) time
//! and two rows of memory; LB_Keogh envelopes and lower bound; early abandoning.
//!
//! Series are `[dims][len]` blocks (the `Split` layout). Multivariate DTW is *dependent*: the cost
//! of matching time points `i` and `j` is `Σ_d (a[d][i] - b[d][j])²`. No square root is taken.

use serde::{Deserialize, Serialize};

/// The warping window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Window {
    /// No constraint.
    Full,
    /// Sakoe–Chiba band of `floor(f · len)` cells either side of the diagonal (`0.1` = 10 %).
    Fraction(f64),
    /// Sakoe–Chiba band of this many cells either side of the diagonal.
    Cells(usize),
}

impl Window {
    /// The band half-width in cells for series of length `len` (`len` itself for `Full`).
    pub fn cells(self, len: usize) -> usize {
        match self {
            Window::Full => len,
            Window::Fraction(f) => {
                let f = if f.is_nan() { 0.0 } else { f.clamp(0.0, 1.0) };
                // The tiny slack keeps e.g. 0.1 · 150 at 15 despite rounding of 0.1.
                ((f * len as f64 + 1e-9).floor() as usize).min(len)
            }
            Window::Cells(c) => c.min(len),
        }
    }
}

/// Upper and lower envelopes of a series for a band half-width `w`, `[dims][len]` each.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub upper: Vec<f64>,
    pub lower: Vec<f64>,
}

impl Envelope {
    /// `upper[d][i] = max(x[d][i-w ..= i+w])`, `lower` likewise with `min` (O(len) per dimension).
    pub fn new(x: &[f64], dims: usize, len: usize, w: usize) -> Envelope {
        let mut upper = Vec::with_capacity(dims * len);
        let mut lower = Vec::with_capacity(dims * len);
        for d in 0..dims {
            let s = &x[d * len..(d + 1) * len];
            sliding_extreme(s, w, |a, b| a >= b, &mut upper);
            sliding_extreme(s, w, |a, b| a <= b, &mut lower);
        }
        Envelope { upper, lower }
    }
}

/// Sliding-window extreme over `[i-w, i+w]` with a monotonic deque; `keeps(a, b)`: `a` dominates `b`.
fn sliding_extreme(s: &[f64], w: usize, keeps: impl Fn(f64, f64) -> bool, out: &mut Vec<f64>) {
    let n = s.len();
    let mut dq: std::collections::VecDeque<usize> = std::collections::VecDeque::with_capacity(2 * w.min(n) + 2);
    let mut next = 0; // next index to push
    for i in 0..n {
        let hi = (i + w).min(n - 1);
        while next <= hi {
            while dq.back().is_some_and(|&b| keeps(s[next], s[b])) {
                dq.pop_back();
            }
            dq.push_back(next);
            next += 1;
        }
        let lo = i.saturating_sub(w);
        while dq.front().is_some_and(|&f| f < lo) {
            dq.pop_front();
        }
        out.push(s[dq[0]]);
    }
}

/// LB_Keogh of `query` against a candidate's envelope: `Σ` squared distance of each query point
/// to the band `[lower, upper]`. Stops early once the sum exceeds `bound` (returns the partial sum,
/// which then also exceeds `bound`).
pub fn lb_keogh(query: &[f64], env: &Envelope, bound: f64) -> f64 {
    let mut sum = 0.0;
    for (chunk, (u, l)) in query.chunks(32).zip(env.upper.chunks(32).zip(env.lower.chunks(32))) {
        for k in 0..chunk.len() {
            let q = chunk[k];
            let d = if q > u[k] {
                q - u[k]
            } else if q < l[k] {
                l[k] - q
            } else {
                0.0
            };
            sum += d * d;
        }
        if sum > bound {
            return sum;
        }
    }
    sum
}

/// A cheap lower bound: the first and last cells lie on every warping path.
pub fn lb_kim(a: &[f64], b: &[f64], dims: usize, len: usize) -> f64 {
    if len == 0 {
        return 0.0;
    }
    let mut s = point_cost(a, b, dims, len, 0, 0);
    if len > 1 {
        s += point_cost(a, b, dims, len, len - 1, len - 1);
    }
    s
}

#[inline(always)]
fn point_cost(a: &[f64], b: &[f64], dims: usize, len: usize, i: usize, j: usize) -> f64 {
    let mut c = 0.0;
    for d in 0..dims {
        let x = a[d * len + i] - b[d * len + j];
        c += x * x;
    }
    c
}

/// Reusable row buffers for [`dtw_bounded_with`].
#[derive(Debug, Clone, Default)]
pub struct DtwBuffers {
    prev: Vec<f64>,
    curr: Vec<f64>,
}

/// DTW distance (squared point cost) of two `[dims][len]` series with band half-width `w`.
pub fn dtw(a: &[f64], b: &[f64], dims: usize, len: usize, w: usize) -> f64 {
    dtw_bounded_with(a, b, dims, len, w, f64::INFINITY, &mut DtwBuffers::default())
}

/// DTW with early abandoning: returns `f64::INFINITY` as soon as every cell of a row exceeds
/// `bound` (so the result would too). Otherwise the exact distance, bit-identical to
/// [`dtw`] (abandoning never changes the arithmetic).
pub fn dtw_bounded(a: &[f64], b: &[f64], dims: usize, len: usize, w: usize, bound: f64) -> f64 {
    dtw_bounded_with(a, b, dims, len, w, bound, &mut DtwBuffers::default())
}

/// [`dtw_bounded`] reusing caller-owned buffers.
pub fn dtw_bounded_with(
    a: &[f64],
    b: &[f64],
    dims: usize,
    len: usize,
    w: usize,
    bound: f64,
    buf: &mut DtwBuffers,
) -> f64 {
    debug_assert!(a.len() >= dims * len && b.len() >= dims * len);
    if len == 0 {
        return 0.0;
    }
    if dims == 1 {
        let (a, b) = (&a[..len], &b[..len]);
        dtw_core(len, w, bound, buf, |i, j| {
            let d = a[i] - b[j];
            d * d
        })
    } else {
        dtw_core(len, w, bound, buf, |i, j| point_cost(a, b, dims, len, i, j))
    }
}

#[inline(always)]
fn dtw_core(len: usize, w: usize, bound: f64, buf: &mut DtwBuffers, cost: impl Fn(usize, usize) -> f64) -> f64 {
    let n = len;
    let w = w.min(n);
    let DtwBuffers { prev, curr } = buf;
    prev.clear();
    prev.resize(n + 1, f64::INFINITY);
    curr.clear();
    curr.resize(n + 1, f64::INFINITY);
    prev[0] = 0.0;
    for i in 1..=n {
        let jlo = i.saturating_sub(w).max(1);
        let jhi = (i + w).min(n);
        curr[jlo - 1] = f64::INFINITY;
        let mut row_min = f64::INFINITY;
        let mut left = f64::INFINITY;
        for j in jlo..=jhi {
            let diag = prev[j - 1];
            let up = prev[j];
            let best = if diag <= up { diag } else { up };
            let best = if best <= left { best } else { left };
            let v = cost(i - 1, j - 1) + best;
            curr[j] = v;
            left = v;
            if v < row_min {
                row_min = v;
            }
        }
        if row_min > bound {
            return f64::INFINITY;
        }
        std::mem::swap(prev, curr);
    }
    prev[n]
}

/// Squared Euclidean distance with early abandoning: `f64::INFINITY` once the running sum
/// exceeds `bound`; otherwise the exact sum (same summation order as without a bound).
pub fn squared_euclidean_bounded(a: &[f64], b: &[f64], bound: f64) -> f64 {
    let mut sum = 0.0;
    for (ca, cb) in a.chunks(16).zip(b.chunks(16)) {
        for k in 0..ca.len() {
            let d = ca[k] - cb[k];
            sum += d * d;
        }
        if sum > bound {
            return f64::INFINITY;
        }
    }
    sum
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Full-matrix reference implementation.
    pub(crate) fn dtw_naive(a: &[f64], b: &[f64], dims: usize, len: usize, w: usize) -> f64 {
        let n = len;
        let mut m = vec![vec![f64::INFINITY; n + 1]; n + 1];
        m[0][0] = 0.0;
        for i in 1..=n {
            for j in i.saturating_sub(w).max(1)..=(i + w).min(n) {
                let best = m[i - 1][j - 1].min(m[i - 1][j]).min(m[i][j - 1]);
                m[i][j] = point_cost(a, b, dims, len, i - 1, j - 1) + best;
            }
        }
        m[n][n]
    }

    fn lcg(seed: u64, n: usize) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn matches_naive_and_bounds_hold() {
        for (dims, len) in [(1, 1), (1, 2), (1, 17), (3, 12)] {
            for w in [0, 1, 3, len] {
                for s in 0..5u64 {
                    let a = lcg(s, dims * len);
                    let b = lcg(s + 100, dims * len);
                    let d = dtw(&a, &b, dims, len, w);
                    let r = dtw_naive(&a, &b, dims, len, w);
                    assert_eq!(d.to_bits(), r.to_bits(), "dims {dims} len {len} w {w}");
                    let env = Envelope::new(&b, dims, len, w);
                    assert!(lb_keogh(&a, &env, f64::INFINITY) <= d + 1e-12);
                    assert!(lb_kim(&a, &b, dims, len) <= d + 1e-12);
                    assert_eq!(dtw_bounded(&a, &b, dims, len, w, d), d);
                    if d > 0.0 {
                        assert_eq!(dtw_bounded(&a, &b, dims, len, w, d * 0.5), f64::INFINITY);
                    }
                }
            }
        }
        // w = 0 is the squared Euclidean distance.
        let a = lcg(1, 40);
        let b = lcg(2, 40);
        let ed = squared_euclidean_bounded(&a, &b, f64::INFINITY);
        assert!((dtw(&a, &b, 1, 40, 0) - ed).abs() < 1e-12);
        assert_eq!(squared_euclidean_bounded(&a, &b, ed * 0.5), f64::INFINITY);
    }

    #[test]
    fn envelope_and_window() {
        let x = [1.0, 3.0, 2.0, 5.0, 4.0];
        let e = Envelope::new(&x, 1, 5, 1);
        assert_eq!(e.upper, vec![3.0, 3.0, 5.0, 5.0, 5.0]);
        assert_eq!(e.lower, vec![1.0, 1.0, 2.0, 2.0, 4.0]);
        let e = Envelope::new(&x, 1, 5, 0);
        assert_eq!(e.upper, x.to_vec());
        assert_eq!(Window::Fraction(0.1).cells(150), 15);
        assert_eq!(Window::Fraction(0.1).cells(24), 2);
        assert_eq!(Window::Cells(500).cells(24), 24);
        assert_eq!(Window::Full.cells(24), 24);
    }
}
