//! Resampling speed: all 30 stratified resamples (aeon's, seeds 0..29) of a synthetic
//! 10,000-series dataset, as the `resample` stage makes them (indices, then the new TRAIN/TEST
//! copied out of the pool). Target: under 1 s for the 30.
//!
//! Run: `cargo bench --bench resample` (add `-- N LEN` for N series of length LEN; default
//! 10000 series of length 256, 10 classes, TRAIN 2,000 / TEST 8,000).

use std::time::Instant;

use tscpipe::data::resample::{resample, resample_indices};
use tscpipe::data::{Dataset, Split};

fn split(n: usize, len: usize, k: usize, offset: usize) -> Split {
    // Unbalanced classes (class c holds weight c + 1), interleaved as in real files.
    let weights: Vec<usize> = (1..=k).collect();
    let total: usize = weights.iter().sum();
    let labels: Vec<usize> = (0..n)
        .map(|i| {
            let mut r = (i * 7919 + offset) % total;
            weights
                .iter()
                .position(|&w| {
                    if r < w {
                        true
                    } else {
                        r -= w;
                        false
                    }
                })
                .unwrap_or(0)
        })
        .collect();
    let values = (0..n * len).map(|i| ((i + offset) as f64 * 0.001).sin()).collect();
    Split { n, dims: 1, len, values, labels }
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = args.first().copied().unwrap_or(10_000);
    let len = args.get(1).copied().unwrap_or(256);
    let k = 10;
    let n_train = n / 5;
    let mut train = split(n_train, len, k, 0);
    let mut test = split(n - n_train, len, k, 13);
    // Every class in both splits (aeon requires it).
    for c in 0..k {
        train.labels[c] = c;
        test.labels[c] = c;
    }
    let ds = Dataset {
        name: "Synthetic".into(),
        classes: (0..k).map(|c| format!("class{c}")).collect(),
        train,
        test,
        validation: None,
    };
    println!(
        "resampling {n} series (TRAIN {n_train}, TEST {}, length {len}, {k} classes), seeds 0..29, {} cores",
        n - n_train,
        std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1)
    );
    let mut best_idx = f64::INFINITY;
    let mut best_full = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        let mut check = 0usize;
        for seed in 0..30 {
            check += resample_indices(&ds, seed).expect("indices").train[0];
        }
        best_idx = best_idx.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        for seed in 0..30 {
            let (out, _) = resample(&ds, seed).expect("resample");
            check += out.train.labels[0];
        }
        best_full = best_full.min(t.elapsed().as_secs_f64());
        std::hint::black_box(check);
    }
    println!("indices only, 30 resamples:          {:>8.1} ms (best of 3)", best_idx * 1e3);
    println!("indices + new TRAIN/TEST, 30 resamples: {:>6.1} ms (best of 3; target < 1000 ms)", best_full * 1e3);
}
