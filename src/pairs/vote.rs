//! Classifying a test series from the main output over the representatives.
//!
//! The test series is paired (In1) with every representative (In2); `p_r` is the main output's
//! probability that the pair is "same". The paper assigns the class by maximum voting over the
//! representatives judged same and leaves ties and the empty case open. Our rules:
//!
//! * representative `r` is **judged same** iff `p_r > 0.5` (the arg-max of the two-way softmax;
//!   exactly 0.5 counts as different);
//! * the class with the **most same-judged representatives** wins;
//! * **tie** between classes with equally many votes: the one whose voting representatives
//!   have the larger sum of `p_r` (the more confident votes); still equal: the lower class index;
//! * **no representative judged same**: the class of the representative with the highest
//!   `p_r` (the "closest" one, as 1-NN would); equal `p_r`: the lower class index.
//!
//! [`VoteRule::MeanProbability`] is a soft alternative: the class with the highest mean `p_r`
//! over its representatives (equal means: the lower class index).

use serde::{Deserialize, Serialize};

/// How the class is chosen from the same-probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteRule {
    /// The paper's maximum voting with the tie and empty rules above.
    #[default]
    Majority,
    /// Highest mean same-probability per class.
    MeanProbability,
}

/// The outcome of one vote.
#[derive(Debug, Clone, PartialEq)]
pub struct Vote {
    pub class: usize,
    /// Same-judged representatives per class.
    pub votes: Vec<usize>,
    /// Mean same-probability over each class's representatives (0 for a class without any):
    /// the per-class score written with the predictions.
    pub scores: Vec<f64>,
    /// Whether no representative was judged same (the fallback rule decided).
    pub no_same: bool,
}

/// First index of the maximum of `key` over `candidates` (strictly greater replaces).
fn first_max(candidates: impl Iterator<Item = usize>, key: impl Fn(usize) -> f64) -> usize {
    let mut best: Option<(usize, f64)> = None;
    for c in candidates {
        let k = key(c);
        if best.is_none_or(|(_, b)| k > b) {
            best = Some((c, k));
        }
    }
    best.map_or(0, |(c, _)| c)
}

/// Votes for one test series: `p_same[r]` for representative `r` of class `rep_class[r]`.
pub fn vote(p_same: &[f64], rep_class: &[usize], classes: usize, rule: VoteRule) -> Vote {
    let mut votes = vec![0usize; classes];
    let mut same_sum = vec![0f64; classes];
    let mut sum = vec![0f64; classes];
    let mut count = vec![0usize; classes];
    for (&p, &c) in p_same.iter().zip(rep_class) {
        sum[c] += p;
        count[c] += 1;
        if p > 0.5 {
            votes[c] += 1;
            same_sum[c] += p;
        }
    }
    let scores: Vec<f64> = sum.iter().zip(&count).map(|(&s, &n)| if n > 0 { s / n as f64 } else { 0.0 }).collect();
    let with_reps = || (0..classes).filter(|&c| count[c] > 0);
    let top = votes.iter().copied().max().unwrap_or(0);
    let no_same = top == 0;
    let class = match rule {
        VoteRule::MeanProbability => first_max(with_reps(), |c| scores[c]),
        VoteRule::Majority if !no_same => first_max((0..classes).filter(|&c| votes[c] == top), |c| same_sum[c]),
        VoteRule::Majority => {
            let best = |c: usize| {
                p_same
                    .iter()
                    .zip(rep_class)
                    .filter(|(_, rc)| **rc == c)
                    .map(|(p, _)| *p)
                    .fold(f64::NEG_INFINITY, f64::max)
            };
            first_max(with_reps(), best)
        }
    };
    Vote { class, votes, scores, no_same }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPS: [usize; 6] = [0, 0, 1, 1, 2, 2];

    fn majority(p: &[f64]) -> Vote {
        vote(p, &REPS, 3, VoteRule::Majority)
    }

    #[test]
    fn most_votes_wins() {
        let v = majority(&[0.9, 0.8, 0.6, 0.1, 0.2, 0.3]);
        assert_eq!((v.class, v.votes.clone(), v.no_same), (0, vec![2, 1, 0], false));
        // a class with more votes beats one with a single more confident vote
        let v = majority(&[0.99, 0.1, 0.6, 0.6, 0.0, 0.0]);
        assert_eq!(v.class, 1);
        assert!((v.scores[0] - 0.545).abs() < 1e-12 && v.scores[2] == 0.0);
    }

    #[test]
    fn ties_go_to_the_more_confident_votes_then_the_lower_class() {
        assert_eq!(majority(&[0.55, 0.1, 0.95, 0.2, 0.1, 0.1]).class, 1, "0.95 > 0.55");
        assert_eq!(majority(&[0.9, 0.1, 0.6, 0.2, 0.1, 0.1]).class, 0, "0.9 > 0.6");
        assert_eq!(majority(&[0.1, 0.7, 0.7, 0.1, 0.0, 0.0]).class, 0, "equal sums: lower index");
        assert_eq!(majority(&[0.1, 0.1, 0.7, 0.1, 0.6, 0.1]).class, 1);
    }

    #[test]
    fn nobody_judged_same_takes_the_closest_representative() {
        let v = majority(&[0.1, 0.2, 0.4, 0.3, 0.45, 0.0]);
        assert!(v.no_same);
        assert_eq!(v.class, 2);
        // exactly 0.5 is not "same"
        let v = majority(&[0.5, 0.5, 0.1, 0.1, 0.5, 0.2]);
        assert!(v.no_same && v.votes == vec![0, 0, 0]);
        assert_eq!(v.class, 0, "equal best probabilities: lower class index");
    }

    #[test]
    fn mean_probability_rule_and_unequal_representatives() {
        let reps = [0, 0, 1, 1, 1];
        let p = [0.9, 0.9, 0.6, 0.6, 0.6];
        assert_eq!(vote(&p, &reps, 2, VoteRule::Majority).class, 1, "3 votes beat 2");
        assert_eq!(vote(&p, &reps, 2, VoteRule::MeanProbability).class, 0, "0.9 mean beats 0.6");
        // a class without representatives never wins, even with every probability at 0
        assert_eq!(vote(&[0.0, 0.0], &[1, 1], 3, VoteRule::MeanProbability).class, 1);
        assert_eq!(vote(&[0.0, 0.0], &[1, 1], 3, VoteRule::Majority).class, 1);
    }
}
