//! Windowing of continuous recordings (the hybrid CNN-LSTM write-up, SPEC §1): every recording
//! is cut into windows of `size` steps every `stride` steps, and whole recordings — never single
//! windows — are assigned to train, validation or test, so no recording contributes to two splits.
//!
//! Recordings are the series of a dataset's TRAIN, validation and TEST splits pooled together
//! (e.g. each BasicMotions case is one recording); the assignment is redrawn by the fractions.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::dataset::{Dataset, Split};
use super::error::{DataError, DataErrorKind, DataResult};

/// How to cut and split.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSpec {
    pub size: usize,
    pub stride: usize,
    /// Fractions of each class's recordings for validation and test; the rest is train.
    pub validation: f64,
    pub test: f64,
    pub seed: u64,
}

/// One recording: where it came from, its class, the split it went to and its window count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// `<source split>:<index>`, e.g. `test:3`.
    pub id: String,
    pub class: usize,
    pub split: String,
    pub windows: usize,
}

/// The windowed dataset and which recordings went where.
#[derive(Debug, Clone, PartialEq)]
pub struct Windowed {
    pub dataset: Dataset,
    pub recordings: Vec<Recording>,
}

/// Number of windows of `size` every `stride` in a recording of length `len`.
pub fn window_count(len: usize, size: usize, stride: usize) -> usize {
    if size == 0 || stride == 0 || len < size { 0 } else { (len - size) / stride + 1 }
}

/// Per class, the numbers of recordings for (validation, test): `round(fraction · n_c)` each,
/// reduced (test first kept) so that every class keeps at least one training recording.
fn group_counts(n_c: usize, validation: f64, test: f64) -> (usize, usize) {
    if n_c <= 1 {
        return (0, 0);
    }
    let mut t = ((test * n_c as f64).round() as usize).min(n_c - 1);
    let mut v = ((validation * n_c as f64).round() as usize).min(n_c - 1 - t);
    if test > 0.0 && t == 0 && n_c - v > 1 {
        t = 1;
    }
    if validation > 0.0 && v == 0 && n_c - t > 1 {
        v = 1;
    }
    (v, t)
}

/// Cuts the recordings of `ds` into windows and splits them by recording.
///
/// Within each class the recordings (in source order: TRAIN, validation, TEST) are shuffled by
/// `ChaCha8Rng::seed_from_u64(seed)` (classes in index order); the first ones go to test, the
/// next to validation, the rest to train. Windows keep their recording's class and appear in
/// recording order, then time order.
pub fn window_dataset(ds: &Dataset, spec: &WindowSpec) -> DataResult<Windowed> {
    let bad = |m: String| DataError::msg(DataErrorKind::InvalidArgument, m);
    if spec.size == 0 || spec.stride == 0 {
        return Err(bad("window size and stride must be at least 1".into()));
    }
    for (name, f) in [("validation", spec.validation), ("test", spec.test)] {
        if !(0.0..1.0).contains(&f) {
            return Err(bad(format!("{name} fraction must be in [0, 1), got {f}")));
        }
    }
    if spec.validation + spec.test >= 1.0 {
        return Err(bad("validation + test fractions must leave recordings for training".into()));
    }
    let mut sources: Vec<(&str, &Split)> = vec![("train", &ds.train)];
    if let Some(v) = &ds.validation {
        sources.push(("validation", v));
    }
    sources.push(("test", &ds.test));
    let len = ds.train.len;
    if len < spec.size {
        return Err(bad(format!("recordings have {len} steps, shorter than the window ({})", spec.size)));
    }
    // (source split, index, class) of every recording.
    let all: Vec<(usize, usize, usize)> = sources
        .iter()
        .enumerate()
        .flat_map(|(s, (_, split))| (0..split.n).map(move |i| (s, i, split.labels[i])))
        .collect();
    let k = ds.n_classes().max(all.iter().map(|r| r.2 + 1).max().unwrap_or(0));
    let mut assign = vec![2usize; all.len()]; // 0 test, 1 validation, 2 train
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    for c in 0..k {
        let mut members: Vec<usize> = (0..all.len()).filter(|&r| all[r].2 == c).collect();
        members.shuffle(&mut rng);
        let (v, t) = group_counts(members.len(), spec.validation, spec.test);
        members[..t].iter().for_each(|&r| assign[r] = 0);
        members[t..t + v].iter().for_each(|&r| assign[r] = 1);
    }
    let per = window_count(len, spec.size, spec.stride);
    let dims = ds.train.dims;
    let mut out: [Split; 3] =
        std::array::from_fn(|_| Split { n: 0, dims, len: spec.size, values: Vec::new(), labels: Vec::new() });
    let names = ["test", "validation", "train"];
    let mut recordings = Vec::with_capacity(all.len());
    for (r, &(s, i, class)) in all.iter().enumerate() {
        let (src_name, split) = sources[s];
        let series = split.series(i);
        let dst = &mut out[assign[r]];
        for w in 0..per {
            let start = w * spec.stride;
            for d in 0..dims {
                let ch = &series[d * len..(d + 1) * len];
                dst.values.extend_from_slice(&ch[start..start + spec.size]);
            }
            dst.labels.push(class);
            dst.n += 1;
        }
        recordings.push(Recording {
            id: format!("{src_name}:{i}"),
            class,
            split: names[assign[r]].into(),
            windows: per,
        });
    }
    let [test, validation, train] = out;
    if train.n == 0 || test.n == 0 && spec.test > 0.0 {
        return Err(bad(format!("too few recordings ({}) for a train/validation/test split by recording", all.len())));
    }
    let dataset = Dataset {
        name: ds.name.clone(),
        classes: ds.classes.clone(),
        train,
        test,
        validation: (validation.n > 0).then_some(validation),
    };
    Ok(Windowed { dataset, recordings })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(n_per: usize, k: usize, len: usize) -> Dataset {
        let mut values = Vec::new();
        let mut labels = Vec::new();
        for c in 0..k {
            for i in 0..n_per {
                // Two channels whose values name the recording and the time step.
                for d in 0..2 {
                    values.extend((0..len).map(|t| (c * 1000 + i * 10 + d) as f64 * 1000.0 + t as f64));
                }
                labels.push(c);
            }
        }
        let train = Split { n: n_per * k, dims: 2, len, values, labels };
        let test = Split { n: 0, dims: 2, len, values: vec![], labels: vec![] };
        Dataset { name: "toy".into(), classes: (0..k).map(|c| c.to_string()).collect(), train, test, validation: None }
    }

    #[test]
    fn window_counts() {
        assert_eq!(window_count(100, 50, 10), 6);
        assert_eq!(window_count(50, 50, 10), 1);
        assert_eq!(window_count(49, 50, 10), 0);
        assert_eq!(window_count(59, 50, 10), 1);
    }

    #[test]
    fn windows_are_slices_of_one_recording_and_splits_share_none() {
        let ds = toy(10, 2, 30);
        let spec = WindowSpec { size: 8, stride: 5, validation: 0.2, test: 0.2, seed: 3 };
        let w = window_dataset(&ds, &spec).unwrap();
        let per = window_count(30, 8, 5);
        assert_eq!(per, 5);
        let mut seen = std::collections::BTreeMap::new();
        for (name, s) in [("train", &w.dataset.train), ("test", &w.dataset.test)]
            .into_iter()
            .chain(w.dataset.validation.iter().map(|v| ("validation", v)))
        {
            assert_eq!(s.n % per, 0);
            for i in 0..s.n {
                let x = s.series(i);
                let rec = (x[0] / 1000.0).floor() as usize; // c*1000 + i*10 + channel 0
                assert_eq!(x[8] - x[0], 1000.0, "channel 1 of the same recording, same start");
                assert!(x.windows(2).take(7).all(|p| p[1] == p[0] + 1.0), "consecutive time steps");
                assert_eq!(s.labels[i], rec / 1000);
                let prev = seen.insert(rec, name);
                assert!(prev.is_none() || prev == Some(name), "recording {rec} in {prev:?} and {name}");
            }
        }
        assert_eq!(seen.len(), 20);
        // 2 of 10 recordings per class for test and for validation.
        assert_eq!(w.dataset.test.n, 2 * 2 * per);
        assert_eq!(w.dataset.validation.as_ref().map(|v| v.n), Some(2 * 2 * per));
        assert_eq!(w.dataset.train.n, 2 * 6 * per);
        assert_eq!(w.recordings.iter().map(|r| r.windows).sum::<usize>(), 20 * per);
    }

    #[test]
    fn same_seed_same_split_other_seed_another() {
        let ds = toy(10, 2, 30);
        let spec = WindowSpec { size: 8, stride: 5, validation: 0.1, test: 0.2, seed: 1 };
        let a = window_dataset(&ds, &spec).unwrap();
        assert_eq!(a, window_dataset(&ds, &spec).unwrap());
        let b = window_dataset(&ds, &WindowSpec { seed: 2, ..spec }).unwrap();
        assert_ne!(a.recordings, b.recordings);
    }

    #[test]
    fn bad_specs_are_refused() {
        let ds = toy(3, 2, 10);
        let spec = WindowSpec { size: 11, stride: 1, validation: 0.1, test: 0.1, seed: 0 };
        assert!(window_dataset(&ds, &spec).is_err());
        assert!(window_dataset(&ds, &WindowSpec { size: 5, stride: 0, ..spec.clone() }).is_err());
        assert!(window_dataset(&ds, &WindowSpec { size: 5, validation: 0.5, test: 0.5, ..spec }).is_err());
    }
}
