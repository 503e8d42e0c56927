//! One "same" Conv1d layer, forward + backward (∂x, ∂W), at LSTM-FCN's layer shapes: burn's
//! `Conv1d` module against `tscpipe::models::conv_gemm` (a custom op doing three sgemm calls) with
//! the `gemm` crate and with OpenBLAS (when it can be opened: `$TSCPIPE_OPENBLAS` or
//! `libopenblas.so.0`). Prints median wall ms, mean process CPU ms, and GFLOP/s of each
//! (3 × 2·B·T·Cout·Cin·k flops); on a shared machine the CPU-time rate is the fairer one.
//!
//! Run: `RAYON_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 cargo bench --bench conv_gemm`
//! (add `-- --big` for B=128, T=500, `-- --only openblas` for one variant).

mod common;

use common::cpu_ms;
use std::time::Instant;

use burn::nn::PaddingConfig1d;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::tensor::{Device, Tensor, TensorData};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tscpipe::models::conv_gemm::{OpenBlas, Provider, RawGemm, forward_same};
use tscpipe::models::gemm::x86::Isa;

/// Median wall ms and mean process CPU ms (user + system) per repetition.
fn measure(mut f: impl FnMut(), warmup: usize, reps: usize) -> (f64, f64) {
    let mut times = Vec::with_capacity(reps);
    let mut cpu = 0.0;
    for i in 0..warmup + reps {
        let c = cpu_ms();
        let s = Instant::now();
        f();
        if i >= warmup {
            times.push(s.elapsed().as_secs_f64() * 1e3);
            cpu += cpu_ms() - c;
        }
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], cpu / reps as f64)
}

fn step(conv: &Conv1d, x: &Tensor<3>, provider: Option<Provider>) {
    let y = match provider {
        Some(p) => forward_same(conv, x.clone(), p),
        None => conv.forward(x.clone()),
    };
    let grads = y.sum().backward();
    let w = conv.weight.val().grad(&grads).expect("weight grad");
    let dx = x.grad(&grads).expect("input grad");
    std::hint::black_box((w.into_data(), dx.into_data()));
}

fn main() {
    let big = std::env::args().any(|a| a == "--big");
    let device = Device::flex().autodiff();
    let mut r = ChaCha8Rng::seed_from_u64(1);
    let mut variants: Vec<(String, Option<Provider>)> =
        vec![("burn Conv1d".into(), None), ("gemm crate".into(), Some(Provider::GemmCrate))];
    match OpenBlas::load() {
        Ok(_) => {
            let lib = OpenBlas::get().expect("opened once already");
            variants.push((format!("openblas {}", lib.corename), Some(Provider::OpenBlas(lib))));
        }
        Err(e) => println!("(no OpenBLAS: {e})"),
    }
    for isa in [Isa::Avx512, Isa::Avx2].into_iter().filter(|isa| isa.available()) {
        variants.push((format!("tscpipe {}", format!("{isa:?}").to_lowercase()), Some(Provider::X86(isa))));
    }
    // `--only NAME`: keep the variants whose name contains NAME (for profiling one of them).
    let args: Vec<String> = std::env::args().collect();
    if let Some(only) = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)) {
        variants.retain(|(name, _)| name.contains(only.as_str()));
    }
    println!(
        "Conv1d same, forward + backward (dx, dW), RAYON_NUM_THREADS={:?} OPENBLAS_NUM_THREADS={:?}",
        std::env::var("RAYON_NUM_THREADS").ok(),
        std::env::var("OPENBLAS_NUM_THREADS").ok()
    );
    println!("  median wall ms | mean CPU ms | GFLOP/s per CPU second");
    // The bare kernel at the forward's shape for B=50, T=150, 128->256 k5: [7500x640]·[640x256].
    let (m, n, k) = (7500, 256, 640);
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919) % 1000) as f32 / 1000.0).collect();
    let bm: Vec<f32> = (0..n * k).map(|i| ((i * 104_729) % 1000) as f32 / 1000.0).collect();
    let mut c = vec![0.0f32; m * n];
    println!("bare sgemm [{m}x{k}]·[{k}x{n}]ᵀ ({:.2} GFLOP)", 2.0 * (m * n * k) as f64 / 1e9);
    for (name, p) in variants.iter().filter_map(|(name, p)| Some((name, (*p)?))) {
        let (wall, cpu) = measure(|| p.sgemm(false, true, (m, n, k), &a, k, &bm, k, 0.0, &mut c, n), 1, 10);
        println!("  {name:<22} {wall:9.2} ms | {cpu:9.2} ms | {:7.1}", 2.0 * (m * n * k) as f64 / cpu / 1e6);
    }
    // The three products of one 512-column block of the 128->256 k5 layer, as `conv_rows` calls
    // them: Y = W·cols, ∂W += G·colsᵀ, ∂cols = Wᵀ·G.
    for (label, ta, tb, (m, n, k)) in [
        ("Y = W·cols", false, false, (256, 512, 640)),
        ("∂W = G·colsᵀ", false, true, (256, 640, 512)),
        ("∂cols = Wᵀ·G", true, false, (640, 512, 256)),
    ] {
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919) % 1000) as f32 / 1000.0).collect();
        let bm: Vec<f32> = (0..n * k).map(|i| ((i * 104_729) % 1000) as f32 / 1000.0).collect();
        let mut c = vec![0.0f32; m * n];
        let (lda, ldb) = (if ta { m } else { k }, if tb { k } else { n });
        let flop = 2.0 * (m * n * k) as f64;
        println!("block {label} m={m} n={n} k={k} ({:.3} GFLOP), one thread", flop / 1e9);
        for (name, p) in variants.iter().filter_map(|(name, p)| Some((name, (*p)?))) {
            let run = || unsafe {
                // SAFETY: the buffers hold exactly the matrices described.
                let (a, b, c) = (a.as_ptr(), bm.as_ptr(), c.as_mut_ptr());
                p.sgemm_serial(RawGemm { ta, tb, m, n, k, a, lda, b, ldb, beta: 0.0, c, ldc: n })
            };
            let (wall, cpu) = measure(run, 2, 30);
            println!("  {name:<22} {wall:9.3} ms | {cpu:9.3} ms | {:7.1}", flop / wall / 1e6);
        }
    }
    let sizes: &[(usize, usize)] = if big { &[(50, 150), (128, 500)] } else { &[(50, 150)] };
    for &(b, t) in sizes {
        for (cin, cout, k) in [(1, 128, 8), (128, 256, 5), (256, 128, 3)] {
            let conv = Conv1dConfig::new(cin, cout, k).with_padding(PaddingConfig1d::Same).init(&device);
            let v: Vec<f32> = (0..b * cin * t).map(|_| r.random::<f32>() * 2.0 - 1.0).collect();
            let x = Tensor::<3>::from_data(TensorData::new(v, [b, cin, t]), &device).require_grad();
            let flop = 3.0 * 2.0 * (b * t * cout * cin * k) as f64;
            let reps = if b * t > 20_000 { 3 } else { 10 };
            println!("B={b:>3} T={t:>3} {cin:>3}->{cout:>3} k={k} ({:.2} GFLOP)", flop / 1e9);
            for (name, p) in &variants {
                let (wall, cpu) = measure(|| step(&conv, &x, *p), 1, reps);
                println!("  {name:<22} {wall:9.2} ms | {cpu:9.2} ms | {:7.1}", flop / cpu / 1e6);
            }
        }
    }
}
