//! The groups a critical-difference diagram joins with a bar: maximal runs of methods, adjacent
//! in average-rank order, whose every pair is not significantly different.

/// `order` lists method indices best first; `different(a, b)` says whether a pair differs
/// significantly. Returns each maximal run (as method indices, best first) of two or more
/// methods; a run inside a longer one is not repeated.
pub fn not_different_groups(order: &[usize], different: impl Fn(usize, usize) -> bool) -> Vec<Vec<usize>> {
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for start in 0..order.len() {
        let mut end = start;
        'extend: while end + 1 < order.len() {
            for &m in &order[start..=end] {
                if different(m, order[end + 1]) {
                    break 'extend;
                }
            }
            end += 1;
        }
        if end > start && !groups.iter().any(|&(s, e)| s <= start && end <= e) {
            groups.push((start, end));
        }
    }
    groups.into_iter().map(|(s, e)| order[s..=e].to_vec()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_runs_are_kept_contained_runs_are_not() {
        // 0~1~2 all similar, 3 differs from 0 but not from 1 or 2, 4 differs from everyone.
        let diff = |a: usize, b: usize| {
            let (a, b) = (a.min(b), a.max(b));
            (a == 0 && b == 3) || b == 4
        };
        let g = not_different_groups(&[0, 1, 2, 3, 4], diff);
        assert_eq!(g, vec![vec![0, 1, 2], vec![1, 2, 3]]);
        assert!(not_different_groups(&[0, 1], |_, _| true).is_empty());
        assert_eq!(not_different_groups(&[1, 0], |_, _| false), vec![vec![1, 0]]);
    }
}
