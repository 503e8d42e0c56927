//! CNN-TS at study size: N = 2,000 training series of length 1,000 with all N² pairs.
//! Reports the pair set's memory, the process's peak resident memory (VmHWM) after each phase,
//! the time of pair expansion and NearMiss, and training throughput in pairs per second
//! (forward, backward, Adam on mini-batches gathered on the fly from the index pairs).
//!
//! Run: `cargo bench --bench pairs` (`-- --steps 3 --batch 16 --filters 64,128,128` to change).

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tscpipe::data::dataset::Split;
use tscpipe::models::ModelShape;
use tscpipe::models::cnn_ts::{CnnTsSpec, cnn_ts_loss};
use tscpipe::pairs::{NearMiss, PairSet, nearmiss};

fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = arg(&args, "--n").and_then(|v| v.parse().ok()).unwrap_or(2000);
    let len: usize = arg(&args, "--len").and_then(|v| v.parse().ok()).unwrap_or(1000);
    let classes = 5;
    let steps: usize = arg(&args, "--steps").and_then(|v| v.parse().ok()).unwrap_or(3);
    let batch: usize = arg(&args, "--batch").and_then(|v| v.parse().ok()).unwrap_or(16);
    let filters: Vec<usize> = arg(&args, "--filters")
        .map(|v| v.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![64, 128, 128]);
    println!(
        "CNN-TS pairs benchmark: N = {n}, length {len}, {classes} classes, {} threads",
        rayon::current_num_threads()
    );
    println!("peak RSS at start: {:.1} MiB", peak_mib());

    let mut r = ChaCha8Rng::seed_from_u64(0);
    let labels: Vec<usize> = (0..n).map(|i| i % classes).collect();
    let values: Vec<f64> = (0..n * len).map(|_| r.random::<f64>() * 2.0 - 1.0).collect();
    let split = Split { n, dims: 1, len, values, labels };
    println!("series: {:.1} MiB as f64; peak RSS {:.1} MiB", (n * len * 8) as f64 / 1048576.0, peak_mib());

    let t = Instant::now();
    let all = PairSet::all(&split.labels, classes).expect("pairs");
    println!(
        "all N² = {} pairs in {:.2} s: {:.1} MiB held ({} bytes/pair), {:.1} MiB serialised; peak RSS {:.1} MiB",
        all.len(),
        t.elapsed().as_secs_f64(),
        all.memory_bytes() as f64 / 1048576.0,
        std::mem::size_of::<[u32; 2]>(),
        all.to_bytes().map_or(0, |b| b.len()) as f64 / 1048576.0,
        peak_mib()
    );

    let t = Instant::now();
    let reps = nearmiss(&split, classes, &NearMiss::default()).expect("nearmiss");
    let sub = PairSet::with_partners(&split.labels, classes, &reps).expect("pairs");
    println!(
        "NearMiss-1 (2 per class, Euclidean) in {:.2} s → {} pairs; peak RSS {:.1} MiB",
        t.elapsed().as_secs_f64(),
        sub.len(),
        peak_mib()
    );

    let device = Device::flex().autodiff();
    let spec = CnnTsSpec { filters: filters.clone(), ..CnnTsSpec::default() };
    let mut model = spec.build(ModelShape { dims: 1, len, classes }, 0, &device).expect("model");
    let mut optim: ModuleOptimizer = AdamConfig::new().with_epsilon(1e-7).init();
    let xs: Vec<f32> = split.values.iter().map(|&v| v as f32).collect();
    let x_all: Tensor<3> = Tensor::from_data(TensorData::new(xs, [n, 1, len]), &device);
    let mut times = Vec::new();
    for s in 0..steps + 1 {
        let t = Instant::now();
        let pb: Vec<[u32; 2]> = (0..batch).map(|_| all.pairs[r.random_range(0..all.len())]).collect();
        let ix = |k: usize| {
            Tensor::<1, Int>::from_data(
                TensorData::new(pb.iter().map(|p| p[k] as i64).collect::<Vec<_>>(), [batch]),
                &device,
            )
        };
        let lab = |p: &[u32; 2], k: usize| all.labels[p[k] as usize] as usize;
        let onehot = |f: &dyn Fn(&[u32; 2]) -> usize, w: usize| {
            let mut v = vec![0f32; batch * w];
            pb.iter().enumerate().for_each(|(b, p)| v[b * w + f(p)] = 1.0);
            Tensor::<2>::from_data(TensorData::new(v, [batch, w]), &device)
        };
        let out = model.forward(x_all.clone().select(0, ix(0)), x_all.clone().select(0, ix(1)));
        let loss = cnn_ts_loss(
            &spec,
            &out,
            onehot(&|p| usize::from(lab(p, 0) == lab(p, 1)), 2),
            onehot(&|p| lab(p, 0), classes),
            onehot(&|p| lab(p, 1), classes),
        )
        .total;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
        if s > 0 {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    let med = times[times.len() / 2];
    println!(
        "training, filters {filters:?}, kernels 8/5/3, batch {batch}: median {:.2} s/step = {:.1} pairs/s \
         (an epoch over the {} NearMiss pairs ≈ {:.0} s); peak RSS {:.1} MiB",
        med,
        batch as f64 / med,
        sub.len(),
        sub.len() as f64 / (batch as f64 / med),
        peak_mib()
    );
}
