//! The ROCKET family and QUANT: fit + transform (TRAIN and TEST) and the whole classifier
//! (transform + ridge, or QUANT's forest) fit + predict on every bundled dataset, and fit +
//! transform of synthetic random walks of the archive's large shapes (10,000 × 1,000 and
//! 1,000 × 10,000, half TRAIN, half TEST); with `-- --aeon PYTHON`, aeon 1.6 on the same series
//! and cores in the same run (`benches/reference/rocket_family_aeon.py`), and the ratio
//! (aeon's time / ours: above 1 is faster than aeon).
//!
//! Run: `cargo bench --bench rocket` (release profile). Options: `--aeon PYTHON`,
//! `--methods minirocket,quant,…` (default all six), `--shapes 10000x1000,1000x10000` (`none`
//! for none), `--datasets GunPoint,…`, `--threads T` (both sides), `--no-classify`. Times are wall
//! clock, best of three for the bundled sets, one run for the synthetic shapes. Every row runs in
//! a child process of this benchmark, so its peak resident memory (`getrusage` of the child) is
//! the row's own; aeon's is that of its Python process.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tscpipe::classic::extra_trees::ExtraTreesParams;
use tscpipe::classic::ridge::default_alphas;
use tscpipe::classic::rocket::{RocketTransform, classify_dataset, forest_dataset, transform_to_file};
use tscpipe::data::{Dataset, DatasetRef, LoadOptions, Split, load_dataset};

const METHODS: [&str; 6] = ["minirocket", "multirocket", "hydra", "rocket", "mr_hydra", "quant"];
const DATASETS: [&str; 5] = ["GunPoint", "ItalyPowerDemand", "Coffee", "ArrowHead", "BasicMotions"];

fn transform_of(method: &str) -> RocketTransform {
    use tscpipe::classic::minirocket::BiasMode;
    let bias = BiasMode::Random { seed: 0 };
    match method {
        "minirocket" => RocketTransform::minirocket(0),
        "multirocket" => RocketTransform::MultiRocket {
            num_features: 50_000,
            max_dilations_per_kernel: 32,
            bias,
            first_difference: true,
        },
        "hydra" => RocketTransform::Hydra { k: 8, g: 64, seed: 0 },
        "rocket" => RocketTransform::Rocket { num_kernels: 10_000, normalise: true, seed: 0 },
        "quant" => RocketTransform::Quant { depth: 6, divisor: 4 },
        _ => RocketTransform::MrHydra {
            k: 8,
            g: 64,
            num_features: 50_000,
            max_dilations_per_kernel: 32,
            bias,
            first_difference: true,
        },
    }
}

fn univariate_only(method: &str) -> bool {
    matches!(method, "hydra" | "mr_hydra")
}

fn write_f64(path: &Path, v: &[f64]) {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("write");
}

fn write_labels(path: &Path, v: &[usize]) {
    let bytes: Vec<u8> = v.iter().flat_map(|x| (*x as i64).to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("write");
}

fn peak_rss_mb() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return 0.0;
    }
    u.ru_maxrss as f64 / 1024.0
}

/// `key value` lines of a child's output.
fn field(text: &str, key: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
}

/// The dataset a row runs on: a bundled one, or `NxL` random walks (half TRAIN, half TEST).
fn dataset(spec: &str) -> Dataset {
    if let Some((n, len)) = spec.split_once('x') {
        let (n, len): (usize, usize) = (n.parse().expect("n"), len.parse().expect("length"));
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
        let train = walk(n / 2);
        let test = walk(n - n / 2);
        return Dataset {
            name: spec.to_string(),
            classes: vec!["0".into(), "1".into()],
            train,
            validation: None,
            test,
        };
    }
    load_bundled(spec)
}

fn load_bundled(name: &str) -> Dataset {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    load_dataset(&DatasetRef::Name(name.into()), std::slice::from_ref(&data), &LoadOptions::default()).expect("dataset")
}

/// Child: one row of ours. Prints `transform_ms`, (`classify_ms`, `accuracy`) and `peak_mb`.
fn run_row(method: &str, spec: &str, runs: usize, classify: bool) {
    let ds = dataset(spec);
    let t = transform_of(method);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let s = Instant::now();
        transform_to_file(&ds, &t, &dir.path().join("f.bin")).expect("transform");
        best = best.min(s.elapsed().as_secs_f64() * 1e3);
    }
    println!("transform_ms {best:.3}");
    if classify {
        let (mut best, mut acc) = (f64::INFINITY, 0.0);
        for _ in 0..runs {
            let s = Instant::now();
            let predicted = if method == "quant" {
                forest_dataset(&ds, &t, &ExtraTreesParams::QUANT).expect("forest").predicted
            } else {
                classify_dataset(&ds, &t, &default_alphas()).expect("ridge").predicted
            };
            best = best.min(s.elapsed().as_secs_f64() * 1e3);
            acc = predicted.iter().zip(&ds.test.labels).filter(|(a, b)| a == b).count() as f64 / ds.test.n as f64;
        }
        println!("classify_ms {best:.3}");
        println!("accuracy {acc:.6}");
    }
    println!("peak_mb {:.1}", peak_rss_mb());
}

/// aeon's row on the same series.
fn aeon_row(python: &str, method: &str, ds: &Dataset, threads: usize, classify: bool) -> Option<String> {
    let dir = tempfile::tempdir().ok()?;
    write_f64(&dir.path().join("train.f64"), &ds.train.values);
    write_f64(&dir.path().join("test.f64"), &ds.test.values);
    write_labels(&dir.path().join("train_labels.i64"), &ds.train.labels);
    write_labels(&dir.path().join("test_labels.i64"), &ds.test.labels);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/reference/rocket_family_aeon.py");
    let shape = format!("{},{},{},{}", ds.train.n, ds.test.n, ds.train.dims, ds.train.len);
    let dir_s = dir.path().to_string_lossy().to_string();
    let mut cmd = Command::new(python);
    cmd.args([script, "--dir", &dir_s, "--shape", &shape, "--method", method, "--threads", &threads.to_string()]);
    if classify {
        cmd.arg("--classify");
    }
    let out = cmd.output().ok()?;
    if !out.status.success() {
        eprintln!("aeon {method} failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).to_string())
}

fn ours(method: &str, spec: &str, runs: usize, classify: bool, threads: usize) -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let mut cmd = Command::new(exe);
    cmd.args(["--row", method, spec, "--runs", &runs.to_string(), "--threads", &threads.to_string()]);
    if classify {
        cmd.arg("--classify");
    }
    let out = cmd.output().ok()?;
    if !out.status.success() {
        eprintln!("{method} on {spec} failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).to_string())
}

fn ratio(theirs: Option<f64>, ours: Option<f64>) -> String {
    match (theirs, ours) {
        (Some(a), Some(b)) if b > 0.0 => format!("{a:10.1} ({:5.2}×)", a / b),
        _ => format!("{:>18}", "-"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |k: &str| args.iter().position(|a| a == k).and_then(|i| args.get(i + 1)).cloned();
    let threads: usize = opt("--threads")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().expect("thread pool");
    let classify = args.iter().any(|a| a == "--classify");
    if let Some(i) = args.iter().position(|a| a == "--row") {
        let runs = opt("--runs").and_then(|v| v.parse().ok()).unwrap_or(1);
        run_row(&args[i + 1], &args[i + 2], runs, classify);
        return;
    }
    let list = |k: &str, default: &[&str]| -> Vec<String> {
        opt(k).map_or_else(
            || default.iter().map(|s| s.to_string()).collect(),
            |v| v.split(',').filter(|s| !s.is_empty() && *s != "none").map(str::to_string).collect(),
        )
    };
    let python = opt("--aeon");
    let methods = list("--methods", &METHODS);
    let datasets = list("--datasets", &DATASETS);
    let shapes = list("--shapes", &["10000x1000", "1000x10000"]);
    let classify = !args.iter().any(|a| a == "--no-classify");
    println!("{threads} threads; times in ms, best of 3 (synthetic shapes: 1 run); (×) = aeon's time / ours;");
    println!("peak = peak resident MB of the process that ran the row (ours | aeon's Python)");
    let rows: Vec<(String, usize, bool)> =
        datasets.iter().map(|d| (d.clone(), 3, classify)).chain(shapes.iter().map(|s| (s.clone(), 1, false))).collect();
    for method in &methods {
        for (spec, runs, classify) in &rows {
            let ds = dataset(spec);
            if ds.train.dims > 1 && univariate_only(method) {
                continue;
            }
            let Some(mine) = ours(method, spec, *runs, *classify, threads) else { continue };
            let theirs = python.as_deref().and_then(|py| aeon_row(py, method, &ds, threads, *classify));
            let me = |k: &str| field(&mine, k);
            let them = |k: &str| theirs.as_deref().and_then(|t| field(t, k));
            let fmt = |v: Option<f64>, d: usize| v.map_or("-".to_string(), |v| format!("{v:.d$}"));
            println!(
                "{method:<11} {spec:<16} transform {:>9} | aeon {}  peak {:>5} | {:>5}",
                fmt(me("transform_ms"), 1),
                ratio(them("fit_transform_ms"), me("transform_ms")),
                fmt(me("peak_mb"), 0),
                fmt(them("peak_mb"), 0),
            );
            if *classify {
                println!(
                    "{:<28} fit+predict {:>7} | aeon {}  accuracy {} | {}",
                    "",
                    fmt(me("classify_ms"), 1),
                    ratio(them("classify_ms"), me("classify_ms")),
                    fmt(me("accuracy"), 4),
                    fmt(them("accuracy"), 4),
                );
            }
        }
    }
}
