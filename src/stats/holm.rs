//! Holm's step-down adjustment of a family of p-values (as statsmodels' `multipletests('holm')`).

/// Adjusted p-values in the input order: `p_(i) · (m − i)` on the ascending order, made monotone
/// and capped at 1. A pair is significant at α exactly when its adjusted p is below α.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (i, &o) in order.iter().enumerate() {
        running = running.max(((m - i) as f64 * p[o]).min(1.0));
        adjusted[o] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    #[test]
    fn step_down_is_monotone_and_capped() {
        // statsmodels.stats.multitest.multipletests([0.01,0.04,0.03,0.005], method='holm')[1]
        let a = super::holm(&[0.01, 0.04, 0.03, 0.005]);
        let want = [0.03, 0.06, 0.06, 0.02];
        for (x, y) in a.iter().zip(want) {
            assert!((x - y).abs() < 1e-12, "{a:?}");
        }
        assert_eq!(super::holm(&[0.6, 0.9]), vec![1.0, 1.0]);
        assert!(super::holm(&[]).is_empty());
    }
}
