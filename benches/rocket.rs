//! MiniRocket fit + transform (TRAIN and TEST) and the whole MiniRocket + ridge fit + predict on
//! every bundled dataset, and fit + transform of a synthetic 10,000 × 1,000 set; with
//! `-- --aeon PYTHON`, aeon's numba MiniRocket on the same series and cores in the same run
//! (`benches/reference/minirocket_aeon.py`), and the ratio.
//!
//! Run: `cargo bench --bench rocket` (add `-- --aeon /work/venvs/rocket/bin/python`; `--synthetic N`
//! sets the synthetic set's series count, `--threads T` both sides' threads). Times are wall
//! clock, best of three runs for the bundled sets, one run for the synthetic set; the peak
//! resident memory of this process is printed at the end (`getrusage`).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tscpipe::classic::minirocket::{BiasMode, MiniRocket};
use tscpipe::classic::ridge::{default_alphas, ridge_fit_predict};
use tscpipe::data::{DatasetRef, LoadOptions, Split, load_dataset};

fn fit_transform_ms(train: &Split, test: &Split) -> (f64, Vec<f32>, Vec<f32>) {
    let s = Instant::now();
    let m = MiniRocket::fit(&train.values, train.n, train.dims, train.len, 10_000, 32, BiasMode::Random { seed: 0 })
        .expect("fit");
    let a = m.transform(&train.values, train.n).expect("transform");
    let b = m.transform(&test.values, test.n).expect("transform");
    (s.elapsed().as_secs_f64() * 1e3, a, b)
}

fn write_f64(path: &Path, v: &[f64]) {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("write");
}

fn write_labels(path: &Path, v: &[usize]) {
    let bytes: Vec<u8> = v.iter().flat_map(|x| (*x as i64).to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("write");
}

/// aeon's times (fit_transform_ms, classify_ms, accuracy) on the same series.
fn aeon(
    python: &str,
    train: &Split,
    test: &Split,
    threads: usize,
    classify: bool,
) -> Option<(f64, Option<f64>, Option<f64>)> {
    let dir = tempfile::tempdir().ok()?;
    write_f64(&dir.path().join("train.f64"), &train.values);
    write_f64(&dir.path().join("test.f64"), &test.values);
    write_labels(&dir.path().join("train_labels.i64"), &train.labels);
    write_labels(&dir.path().join("test_labels.i64"), &test.labels);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/reference/minirocket_aeon.py");
    let shape = format!("{},{},{},{}", train.n, test.n, train.dims, train.len);
    let mut cmd = Command::new(python);
    cmd.args([script, "--dir", &dir.path().to_string_lossy(), "--shape", &shape, "--threads", &threads.to_string()]);
    if classify {
        cmd.arg("--classify");
    }
    let out = cmd.output().ok()?;
    if !out.status.success() {
        eprintln!("aeon reference failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let get = |k: &str| text.lines().find_map(|l| l.strip_prefix(k)?.trim().parse::<f64>().ok());
    Some((get("fit_transform_ms ")?, get("classify_ms "), get("accuracy ")))
}

fn peak_rss_mb() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return 0.0;
    }
    u.ru_maxrss as f64 / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
    let python = opt("--aeon");
    let synthetic: usize = opt("--synthetic").and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let threads: usize = opt("--threads")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().expect("thread pool");
    println!("MiniRocket (10,000 features), {threads} threads; times in ms (best of 3)");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    for name in ["GunPoint", "ItalyPowerDemand", "Coffee", "ArrowHead", "BasicMotions"] {
        let ds = load_dataset(&DatasetRef::Name(name.into()), std::slice::from_ref(&data), &LoadOptions::default())
            .expect("dataset");
        let mut best_t = f64::INFINITY;
        let mut best_all = f64::INFINITY;
        let mut acc = 0.0;
        for _ in 0..3 {
            let s = Instant::now();
            let (t, a, b) = fit_transform_ms(&ds.train, &ds.test);
            let p = a.len() / ds.train.n;
            let r = ridge_fit_predict(
                a.iter().map(|v| f64::from(*v)).collect(),
                ds.train.n,
                p,
                &ds.train.labels,
                b.iter().map(|v| f64::from(*v)).collect(),
                &default_alphas(),
            )
            .expect("ridge");
            best_all = best_all.min(s.elapsed().as_secs_f64() * 1e3);
            best_t = best_t.min(t);
            acc = r.predicted.iter().zip(&ds.test.labels).filter(|(x, y)| x == y).count() as f64 / ds.test.n as f64;
        }
        let line = format!(
            "{name:<17} {:>4}+{:<4} ×{}×{:<4} transform {best_t:8.1}  fit+predict {best_all:8.1}  acc {acc:.4}",
            ds.train.n, ds.test.n, ds.train.dims, ds.train.len
        );
        match python.as_deref().and_then(|py| aeon(py, &ds.train, &ds.test, threads, true)) {
            Some((at, ac, aacc)) => println!(
                "{line}   | aeon transform {at:8.1} ({:.2}×)  fit+predict {:8.1} ({:.2}×)  acc {:.4}",
                at / best_t,
                ac.unwrap_or(f64::NAN),
                ac.unwrap_or(f64::NAN) / best_all,
                aacc.unwrap_or(f64::NAN)
            ),
            None => println!("{line}"),
        }
    }
    // Synthetic: `synthetic` random walks of length 1,000, fitted on and transformed.
    let (n, len) = (synthetic, 1_000);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut walk = |n: usize| {
        let mut v = Vec::with_capacity(n * len);
        for _ in 0..n {
            let mut x = 0.0;
            for _ in 0..len {
                x += rng.random_range(-1.0..1.0);
                v.push(x);
            }
        }
        Split { n, dims: 1, len, values: v, labels: (0..n).map(|i| i % 2).collect() }
    };
    let (train, test) = (walk(n), walk(0));
    let (t, _, _) = fit_transform_ms(&train, &test);
    let line = format!("synthetic {n} × {len}: fit + transform {t:10.1}");
    match python.as_deref().and_then(|py| aeon(py, &train, &test, threads, false)) {
        Some((at, _, _)) => println!("{line}   | aeon {at:10.1} ({:.2}×)", at / t),
        None => println!("{line}"),
    }
    println!("peak resident memory: {:.0} MB", peak_rss_mb());
}
