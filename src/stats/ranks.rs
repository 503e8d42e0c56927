//! Ranks with ties averaged (1 = smallest under the given order), as `scipy.stats.rankdata`.

use std::cmp::Ordering;

/// Average ranks of `items` under `cmp`, and the sizes of the tie groups (for tie corrections).
pub fn average_ranks<T>(items: &[T], cmp: impl Fn(&T, &T) -> Ordering) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| cmp(&items[a], &items[b]));
    let mut ranks = vec![0.0; items.len()];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && cmp(&items[order[i]], &items[order[j]]) == Ordering::Equal {
            j += 1;
        }
        // positions i..j (0-based) share the mean of ranks i+1..=j
        let r = (i + 1 + j) as f64 / 2.0;
        for &o in &order[i..j] {
            ranks[o] = r;
        }
        ties.push(j - i);
        i = j;
    }
    (ranks, ties)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_the_average_rank() {
        let (r, t) = average_ranks(&[3, 1, 3, 2, 3], |a, b| a.cmp(b));
        assert_eq!(r, vec![4.0, 1.0, 4.0, 2.0, 4.0]);
        assert_eq!(t, vec![1, 1, 3]);
        let (r, _) = average_ranks(&[0.9, 0.8, 0.9], |a: &f64, b: &f64| b.total_cmp(a));
        assert_eq!(r, vec![1.5, 3.0, 1.5]);
        assert_eq!(average_ranks::<i32>(&[], |a, b| a.cmp(b)).0, Vec::<f64>::new());
    }
}
