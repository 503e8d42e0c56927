//! Seeded, stratified validation split of TRAIN.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::dataset::{Dataset, Split};
use super::error::{DataError, DataErrorKind, DataResult};

/// Chooses the validation indices of `train` (sorted ascending), stratified by class.
///
/// The validation size is `round(fraction * n)`, shared out over classes in proportion to their
/// sizes (largest remainders first, ties to the lower class index), never taking a class's last
/// series: every class keeps at least one TRAIN series. Within a class the series are drawn by a
/// `ChaCha8Rng::seed_from_u64(seed)` shuffle, classes in index order, so the result depends only
/// on the labels, `fraction` and `seed`.
pub fn validation_indices(train: &Split, k: usize, fraction: f64, seed: u64) -> DataResult<Vec<usize>> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(DataError::msg(
            DataErrorKind::InvalidArgument,
            format!("validation fraction must be in (0, 1), got {fraction}"),
        ));
    }
    let k = k.max(train.labels.iter().map(|&l| l + 1).max().unwrap_or(0));
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &l) in train.labels.iter().enumerate() {
        members[l].push(i);
    }
    let n = train.n;
    let capacity: Vec<usize> = members.iter().map(|m| m.len().saturating_sub(1)).collect();
    let total = ((fraction * n as f64).round() as usize).min(capacity.iter().sum());
    // Largest-remainder apportionment of `total` over classes, capped by capacity.
    let exact: Vec<f64> = members.iter().map(|m| fraction * m.len() as f64).collect();
    let mut take: Vec<usize> = exact.iter().zip(&capacity).map(|(e, &c)| (e.floor() as usize).min(c)).collect();
    let mut assigned: usize = take.iter().sum();
    while assigned < total {
        let best = (0..k).filter(|&c| take[c] < capacity[c]).max_by(|&a, &b| {
            let ra = exact[a] - take[a] as f64;
            let rb = exact[b] - take[b] as f64;
            ra.total_cmp(&rb).then(b.cmp(&a))
        });
        let Some(c) = best else { break };
        take[c] += 1;
        assigned += 1;
    }
    while assigned > total {
        // Only possible through rounding `total` down; give back from the smallest remainders.
        let Some(c) = (0..k).filter(|&c| take[c] > 0).min_by(|&a, &b| {
            let ra = exact[a] - take[a] as f64;
            let rb = exact[b] - take[b] as f64;
            ra.total_cmp(&rb).then(b.cmp(&a))
        }) else {
            break;
        };
        take[c] -= 1;
        assigned -= 1;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(total);
    for (c, m) in members.iter_mut().enumerate() {
        m.shuffle(&mut rng);
        out.extend_from_slice(&m[..take[c]]);
    }
    out.sort_unstable();
    Ok(out)
}

/// Splits `train` into (remaining TRAIN, validation), both in original order.
pub fn stratified_split(train: &Split, k: usize, fraction: f64, seed: u64) -> DataResult<(Split, Split)> {
    let val = validation_indices(train, k, fraction, seed)?;
    let mut is_val = vec![false; train.n];
    val.iter().for_each(|&i| is_val[i] = true);
    let keep: Vec<usize> = (0..train.n).filter(|&i| !is_val[i]).collect();
    Ok((train.subset(&keep), train.subset(&val)))
}

/// Carves a validation split out of `ds.train` (replacing `ds.train` by the rest).
pub fn split_validation(ds: &mut Dataset, fraction: f64, seed: u64) -> DataResult<()> {
    let (rest, val) = stratified_split(&ds.train, ds.n_classes(), fraction, seed)?;
    ds.train = rest;
    ds.validation = Some(val);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_with(labels: Vec<usize>) -> Split {
        let n = labels.len();
        Split { n, dims: 1, len: 1, values: (0..n).map(|i| i as f64).collect(), labels }
    }

    #[test]
    fn stratified_deterministic() {
        let labels: Vec<usize> = (0..50)
            .map(|i| {
                if i < 40 {
                    0
                } else if i < 49 {
                    1
                } else {
                    2
                }
            })
            .collect();
        let s = split_with(labels);
        let a = validation_indices(&s, 3, 0.2, 7).unwrap();
        let b = validation_indices(&s, 3, 0.2, 7).unwrap();
        let c = validation_indices(&s, 3, 0.2, 8).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 10);
        let (rest, val) = stratified_split(&s, 3, 0.2, 7).unwrap();
        assert_eq!(rest.class_counts(3), vec![32, 7, 1]);
        assert_eq!(val.class_counts(3), vec![8, 2, 0]);
        assert_eq!(rest.n + val.n, 50);
        // Tiny classes keep one TRAIN series even for a large fraction.
        let s = split_with(vec![0, 0, 1, 1, 2]);
        let (rest, _) = stratified_split(&s, 3, 0.9, 1).unwrap();
        assert_eq!(rest.class_counts(3), vec![1, 1, 1]);
        assert!(validation_indices(&s, 3, 1.0, 1).is_err());
    }
}
