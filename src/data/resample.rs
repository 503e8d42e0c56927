//! Stratified resamples of TRAIN + TEST, identical to aeon's and tsml-eval's.
//!
//! aeon 1.6's `stratified_resample_data(X_train, y_train, X_test, y_test, random_state=k)`
//! (`aeon/benchmarking/resampling.py`) pools TRAIN then TEST, and for each class in `np.unique`
//! order takes that class's positions in the pool (ascending), shuffles them with
//! `check_random_state(k)` — a fresh `numpy.random.RandomState(k)`, shared by all classes in
//! turn — and gives the first `count_in_TRAIN` to the new TRAIN, the rest to the new TEST. The
//! new TRAIN is the classes' TRAIN parts one after the other; likewise TEST. [`stratified_indices`]
//! reproduces that index for index; [`resample`] adds tsml-eval's convention for resample 0.

use super::dataset::{Dataset, Split};
use super::error::{DataError, DataErrorKind, DataResult};
use super::mt19937::RandomState;

/// Positions into the pool (TRAIN then TEST) that make up a resampled split.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResampleIndices {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// A class label as aeon's `.ts` reader returns it, which is what tsml-eval resamples on: the
/// reader lowercases each data line and turns `nan` and `?` into `NaN`
/// (`aeon.datasets._data_loaders._load_data`). Class order is `np.unique` over these strings:
/// code-point order, so `"10"` sorts before `"2"`.
pub fn aeon_label(name: &str) -> String {
    name.to_lowercase().replace("nan", "NaN").replace('?', "NaN")
}

/// Class indices `0..k` in aeon's order (`np.unique` over [`aeon_label`] of each name).
///
/// Fails when two of our classes are one label to aeon (names differing only in case), since no
/// resample could then match aeon's.
pub fn aeon_class_order(classes: &[String]) -> DataResult<Vec<usize>> {
    let keys: Vec<String> = classes.iter().map(|c| aeon_label(c)).collect();
    let mut order: Vec<usize> = (0..classes.len()).collect();
    order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
    if let Some(w) = order.windows(2).find(|w| keys[w[0]] == keys[w[1]]) {
        return Err(DataError::msg(
            DataErrorKind::InvalidArgument,
            format!(
                "classes `{}` and `{}` are one class to aeon's .ts reader (it lowercases labels): \
                 its resamples cannot be reproduced",
                classes[w[0]], classes[w[1]]
            ),
        ));
    }
    Ok(order)
}

/// aeon's `stratified_resample_data_indices(y_train, y_test, random_state=seed)`.
///
/// `train` and `test` are class indices `0..k` whose names are `classes`. As in aeon, every class
/// must occur in both TRAIN and TEST (aeon asserts that `np.unique` agrees on both). Seed 0 is
/// aeon's `RandomState(0)` shuffle here; see [`resample`] for tsml-eval's resample 0.
pub fn stratified_indices(
    train: &[usize],
    test: &[usize],
    classes: &[String],
    seed: u32,
) -> DataResult<ResampleIndices> {
    let k = classes.len();
    let n_train = train.len();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
    let mut train_counts = vec![0usize; k];
    let mut test_counts = vec![0usize; k];
    for (i, &c) in train.iter().chain(test).enumerate() {
        let slot = members.get_mut(c).ok_or_else(|| {
            DataError::msg(DataErrorKind::InvalidArgument, format!("class index {c} out of range (k = {k})"))
        })?;
        slot.push(i);
        if i < n_train { train_counts[c] += 1 } else { test_counts[c] += 1 }
    }
    for c in 0..k {
        if (train_counts[c] == 0) != (test_counts[c] == 0) {
            let (has, lacks) = if train_counts[c] > 0 { ("TRAIN", "TEST") } else { ("TEST", "TRAIN") };
            return Err(DataError::msg(
                DataErrorKind::InvalidArgument,
                format!(
                    "class `{}` occurs in {has} but not in {lacks}: a stratified resample (as aeon's) \
                     needs every class in both",
                    classes[c]
                ),
            ));
        }
    }
    let mut rng = RandomState::new(seed);
    let mut out = ResampleIndices { train: Vec::with_capacity(n_train), test: Vec::with_capacity(test.len()) };
    for c in aeon_class_order(classes)? {
        let m = &mut members[c];
        if m.is_empty() {
            continue; // a declared class with no series: absent from np.unique, draws nothing
        }
        rng.shuffle(m);
        out.train.extend_from_slice(&m[..train_counts[c]]);
        out.test.extend_from_slice(&m[train_counts[c]..]);
    }
    Ok(out)
}

/// The resample `seed` of a dataset's pooled TRAIN + TEST, as tsml-eval's experiments make it:
/// resample 0 is the archive's own split, unchanged (`load_experiment_data` sets
/// `resample_data = resample_id != 0`, and only then calls `stratified_resample_data(…,
/// random_state=resample_id)`); any other seed is [`stratified_indices`].
pub fn resample_indices(ds: &Dataset, seed: u32) -> DataResult<ResampleIndices> {
    if seed == 0 {
        let n = ds.train.n;
        return Ok(ResampleIndices { train: (0..n).collect(), test: (n..n + ds.test.n).collect() });
    }
    stratified_indices(&ds.train.labels, &ds.test.labels, &ds.classes, seed)
}

/// Rebuilds `ds` as resample `seed` (see [`resample_indices`]); class names and indices stay.
pub fn resample(ds: &Dataset, seed: u32) -> DataResult<(Dataset, ResampleIndices)> {
    if ds.validation.is_some() {
        return Err(DataError::msg(
            DataErrorKind::InvalidArgument,
            "the dataset already has a validation split: resample before `split`",
        ));
    }
    if (ds.train.dims, ds.train.len) != (ds.test.dims, ds.test.len) {
        return Err(DataError::msg(
            DataErrorKind::InvalidArgument,
            format!(
                "TRAIN is {}×{} but TEST is {}×{} (dims × length): they cannot be pooled",
                ds.train.dims, ds.train.len, ds.test.dims, ds.test.len
            ),
        ));
    }
    let idx = resample_indices(ds, seed)?;
    if seed == 0 {
        return Ok((ds.clone(), idx));
    }
    let pick = |positions: &[usize]| -> Split {
        let w = ds.train.dims * ds.train.len;
        let mut values = Vec::with_capacity(positions.len() * w);
        let mut labels = Vec::with_capacity(positions.len());
        for &p in positions {
            let (split, i) = if p < ds.train.n { (&ds.train, p) } else { (&ds.test, p - ds.train.n) };
            values.extend_from_slice(split.series(i));
            labels.push(split.labels[i]);
        }
        Split { n: positions.len(), dims: ds.train.dims, len: ds.train.len, values, labels }
    };
    let out = Dataset {
        name: ds.name.clone(),
        classes: ds.classes.clone(),
        train: pick(&idx.train),
        test: pick(&idx.test),
        validation: None,
    };
    Ok((out, idx))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn class_order_is_aeons() {
        assert_eq!(aeon_class_order(&names(&["2", "10", "1"])).unwrap(), [2, 1, 0]);
        // Declared order Standing, Running, …; aeon sorts the lowercased labels.
        let bm = names(&["Standing", "Running", "Walking", "Badminton"]);
        assert_eq!(aeon_class_order(&bm).unwrap(), [3, 1, 0, 2]);
        // Lowercasing moves `b` before `C` (code points put `C` first).
        assert_eq!(aeon_class_order(&names(&["C", "b"])).unwrap(), [1, 0]);
        assert!(aeon_class_order(&names(&["a", "A"])).is_err());
        assert_eq!(aeon_label("Banana?"), "baNaNaNaN");
    }

    #[test]
    fn keeps_class_counts_and_partitions_the_pool() {
        let train = [0, 1, 1, 2, 0, 1];
        let test = [2, 2, 0, 1, 0, 1, 2];
        let classes = names(&["a", "b", "c"]);
        let r = stratified_indices(&train, &test, &classes, 3).unwrap();
        let pool: Vec<usize> = train.iter().chain(&test).copied().collect();
        let count = |ix: &[usize], c| ix.iter().filter(|&&i| pool[i] == c).count();
        for c in 0..3 {
            assert_eq!(count(&r.train, c), train.iter().filter(|&&l| l == c).count());
            assert_eq!(count(&r.test, c), test.iter().filter(|&&l| l == c).count());
        }
        let mut all: Vec<usize> = r.train.iter().chain(&r.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..13).collect::<Vec<_>>());
        assert_ne!(r, stratified_indices(&train, &test, &classes, 4).unwrap());
        let err = stratified_indices(&[0, 1], &[0, 0], &names(&["a", "b"]), 1).unwrap_err();
        assert!(err.to_string().contains("class `b` occurs in TRAIN but not in TEST"), "{err}");
    }
}
