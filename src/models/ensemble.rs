//! Ensembles of classifiers (any kind, not only the deep models) by averaging their class
//! probabilities, as aeon's
//! `InceptionTimeClassifier` / `LITETimeClassifier` do (`_predict_proba`: the members'
//! probabilities summed in member order, divided by their number; `_predict`: the largest average
//! with ties broken by `rng.choice(np.flatnonzero(prob == prob.max()))`, `rng =
//! check_random_state(random_state)` created afresh for every `predict` call).
//!
//! Ties are broken exactly as that code does with `random_state = seed`: NumPy's legacy
//! `RandomState(seed)` ([`crate::data::mt19937`]), one draw `random_interval(m - 1)` per series
//! whose maximum is shared by `m > 1` classes, in series order (a series without a tie draws
//! nothing, as `randint(0, 1)` consumes no random number).
//!
//! A member whose scores are not class probabilities (the ROCKET family's ridge decision values,
//! 1-NN distances) contributes, per [`NonProbabilistic`], a one-hot vector on its prediction
//! (aeon's `predict_proba` of a ridge or 1-NN classifier: the default) or the softmax of its
//! per-class scores.

use crate::data::mt19937::RandomState;

/// Errors combining members.
#[derive(Debug, thiserror::Error)]
pub enum EnsembleError {
    #[error("an ensemble needs at least one member")]
    NoMembers,
    #[error("member `{member}`: {what}")]
    Member { member: String, what: String },
}

/// How a member whose scores are not probabilities takes part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonProbabilistic {
    /// One-hot on the member's predicted class (aeon's `predict_proba` for ridge and 1-NN).
    OneHot,
    /// The softmax of the member's per-class scores (e.g. ridge `decision_function` values).
    Softmax,
}

/// One member's predictions on the shared test series.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    /// Its name in errors (the upstream instance id).
    pub name: &'a str,
    pub predicted: &'a [usize],
    /// Per-series scores, when the member has them.
    pub scores: Option<&'a [Vec<f64>]>,
}

/// Whether `row` is a probability distribution over `k` classes (as written by a softmax).
pub fn is_distribution(row: &[f64], k: usize) -> bool {
    row.len() == k && row.iter().all(|v| v.is_finite() && *v >= 0.0) && (row.iter().sum::<f64>() - 1.0).abs() <= 1e-5
}

/// The member's class probabilities: its scores when every row is a distribution, else per
/// `mode`.
pub fn member_probabilities(m: &Member<'_>, k: usize, mode: NonProbabilistic) -> Result<Vec<Vec<f64>>, EnsembleError> {
    let bad = |what: String| EnsembleError::Member { member: m.name.to_string(), what };
    if let Some(&c) = m.predicted.iter().find(|&&c| c >= k) {
        return Err(bad(format!("predicted class {c} but there are {k} classes")));
    }
    match m.scores {
        Some(s) if s.len() == m.predicted.len() && s.iter().all(|r| is_distribution(r, k)) => Ok(s.to_vec()),
        Some(s) if mode == NonProbabilistic::Softmax => {
            if s.len() != m.predicted.len() || s.iter().any(|r| r.len() != k) {
                return Err(bad(format!(
                    "softmax needs {k} scores per series for each of {} series",
                    m.predicted.len()
                )));
            }
            Ok(s.iter().map(|r| softmax(r)).collect())
        }
        None if mode == NonProbabilistic::Softmax => Err(bad("softmax needs per-class scores; it has none".into())),
        _ => Ok(m.predicted.iter().map(|&c| (0..k).map(|j| if j == c { 1.0 } else { 0.0 }).collect()).collect()),
    }
}

/// Softmax of finite scores; `f64::MIN` (a class absent from TRAIN) gets probability 0.
fn softmax(row: &[f64]) -> Vec<f64> {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = row.iter().map(|v| (v - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|v| v / sum).collect()
}

/// The ensemble's output.
#[derive(Debug, Clone, PartialEq)]
pub struct Combined {
    /// Averaged probabilities per series.
    pub probabilities: Vec<Vec<f64>>,
    pub predicted: Vec<usize>,
    /// Series whose largest average was shared by several classes.
    pub ties: usize,
}

/// Averages the members' probabilities (summed in member order, then divided by their number)
/// and predicts the largest, ties broken by `RandomState(seed)` as aeon does.
pub fn combine(members: &[Vec<Vec<f64>>], seed: u32) -> Result<Combined, EnsembleError> {
    let first = members.first().ok_or(EnsembleError::NoMembers)?;
    let (n, k) = (first.len(), first.first().map_or(0, Vec::len));
    let mut probabilities = vec![vec![0f64; k]; n];
    for m in members {
        for (acc, row) in probabilities.iter_mut().zip(m) {
            acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
        }
    }
    let count = members.len() as f64;
    probabilities.iter_mut().flatten().for_each(|v| *v /= count);
    let mut rng = RandomState::new(seed);
    let mut ties = 0;
    let predicted = probabilities
        .iter()
        .map(|row| {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let best: Vec<usize> = (0..row.len()).filter(|&j| row[j] == max).collect();
            if best.len() > 1 {
                ties += 1;
                best[rng.interval(best.len() as u64 - 1) as usize]
            } else {
                best.first().copied().unwrap_or(0)
            }
        })
        .collect();
    Ok(Combined { probabilities, predicted, ties })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_in_member_order_and_predicts_the_largest() {
        let a = vec![vec![0.9, 0.1], vec![0.2, 0.8]];
        let b = vec![vec![0.6, 0.4], vec![0.4, 0.6]];
        let c = combine(&[a, b], 0).unwrap();
        assert_eq!(
            c.probabilities,
            vec![vec![(0.9 + 0.6) / 2.0, (0.1 + 0.4) / 2.0], vec![(0.2 + 0.4) / 2.0, (0.8 + 0.6) / 2.0]]
        );
        assert_eq!((c.predicted, c.ties), (vec![0, 1], 0));
    }

    #[test]
    fn ties_follow_numpy_random_state_choice() {
        // Two one-hot members that disagree on every series: each series is a tie of two classes.
        // aeon: rng = np.random.RandomState(0); [rng.choice([0, 1]) for _ in range(8)]
        //     = [0, 1, 1, 0, 1, 1, 1, 1]
        // (choice of 2 draws random_interval(1): the low bit of one 32-bit MT19937 output).
        let n = 8;
        let a: Vec<Vec<f64>> = (0..n).map(|_| vec![1.0, 0.0]).collect();
        let b: Vec<Vec<f64>> = (0..n).map(|_| vec![0.0, 1.0]).collect();
        let c = combine(&[a, b], 0).unwrap();
        assert_eq!(c.ties, n);
        let mut rng = RandomState::new(0);
        let expected: Vec<usize> = (0..n).map(|_| rng.interval(1) as usize).collect();
        assert_eq!(c.predicted, expected);
        assert_eq!(c.predicted, vec![0, 1, 1, 0, 1, 1, 1, 1]);
        // a series without a tie draws nothing: the draws move to the next tied series
        let a2: Vec<Vec<f64>> = vec![vec![1.0, 0.0], vec![1.0, 0.0], vec![1.0, 0.0]];
        let b2: Vec<Vec<f64>> = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![0.0, 1.0]];
        let c2 = combine(&[a2, b2], 0).unwrap();
        assert_eq!(c2.predicted, vec![0, 0, 1]);
        // three-way ties: [rng.choice([0, 1, 2]) for _ in range(8)] = [0, 1, 0, 1, 1, 2, 0, 2]
        let thirds: Vec<Vec<Vec<f64>>> = (0..3)
            .map(|j| (0..n).map(|_| (0..3).map(|c| if c == j { 1.0 } else { 0.0 }).collect()).collect())
            .collect();
        assert_eq!(combine(&thirds, 0).unwrap().predicted, vec![0, 1, 0, 1, 1, 2, 0, 2]);
    }

    #[test]
    fn non_probabilistic_members_vote_one_hot_or_by_softmax() {
        let predicted = [1, 0];
        let ridge = vec![vec![-0.5, 0.5], vec![2.0, f64::MIN]];
        let m = Member { name: "ridge[x=1]", predicted: &predicted, scores: Some(&ridge) };
        assert_eq!(
            member_probabilities(&m, 2, NonProbabilistic::OneHot).unwrap(),
            vec![vec![0.0, 1.0], vec![1.0, 0.0]]
        );
        let s = member_probabilities(&m, 2, NonProbabilistic::Softmax).unwrap();
        let e = 1.0f64.exp();
        assert!((s[0][1] - e / (1.0 + e)).abs() < 1e-12);
        assert_eq!(s[1], vec![1.0, 0.0]);
        // probabilities pass through unchanged in either mode
        let probs = vec![vec![0.25, 0.75], vec![0.5, 0.5]];
        let p = Member { name: "deep", predicted: &predicted, scores: Some(&probs) };
        assert_eq!(member_probabilities(&p, 2, NonProbabilistic::Softmax).unwrap(), probs);
        // errors name the member
        let none = Member { name: "nn[d=A]", predicted: &predicted, scores: None };
        let e = member_probabilities(&none, 2, NonProbabilistic::Softmax).unwrap_err().to_string();
        assert!(e.contains("nn[d=A]"), "{e}");
        let out = Member { name: "m3", predicted: &[2], scores: None };
        assert!(member_probabilities(&out, 2, NonProbabilistic::OneHot).unwrap_err().to_string().contains("m3"));
        assert!(matches!(combine(&[], 0), Err(EnsembleError::NoMembers)));
    }
}
