//! One LSTM-FCN training step (forward, backward, Adam) at two sizes — B=50, T=150
//! and B=128, T=500 — on the default CPU backend (burn `flex`), next to the same step in PyTorch
//! when a reference interpreter is given, reported as ms/step and the ratio.
//!
//! The model's convolutions run as shipped: `conv_gemm` with OpenBLAS when it can be opened, else
//! the `gemm` crate (`TSCPIPE_OPENBLAS=none` forces the latter). `-- --conv burn` routes them
//! through burn's own `Conv1d` instead (what flex alone gives); `-- --small` runs only B=50, T=150;
//! `-- --phases` prints each step's forward, backward and optimiser times.
//!
//! Run: `cargo bench --bench train_step` (add `-- --torch .venv-torch/bin/python` to run
//! `benches/reference/lstm_fcn_step.py` side by side; see that script for installing torch).
//!
//! `-- --model inception_time` (or `lite`, `h_inception_time`) times one step of that network at
//! its paper's size instead, at batch 64, univariate, length 500 (and GunPoint's B=50, T=150),
//! beside `benches/reference/inception_step.py` in PyTorch when `--torch PYTHON` is given.

mod common;

use common::cpu_ms;
use std::process::Command;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_softmax;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tscpipe::models::conv_gemm::Provider;
use tscpipe::models::{LstmFcn, LstmFcnSpec, Model, ModelShape, ModelSpec};

/// LSTM-FCN's forward with its convolutions done by burn's own `Conv1d` (dropout left out, which
/// costs nothing measurable): the same parameters, so the optimiser step is unchanged.
fn logits_burn_conv(m: &LstmFcn, x: Tensor<3>) -> Tensor<2> {
    let mut h = x.clone();
    for (conv, bn) in m.fcn.convs.iter().zip(&m.fcn.norms) {
        h = relu(bn.forward(conv.forward(h)));
    }
    let [b, f, _] = h.dims();
    let pooled = h.mean_dim(2).reshape([b, f]);
    let features = match m.recurrent_features(x) {
        Some((r, _)) => Tensor::cat(vec![pooled, r], 1),
        None => pooled,
    };
    features.matmul(m.head_weight.val()).add(m.head_bias.val().unsqueeze::<2>())
}

/// Median wall ms and mean process CPU ms per step of `steps` timed steps after `warmup` (on a
/// shared machine the CPU time is the steadier figure), and the inference forward's ms;
/// `burn_conv` routes the convolutions through burn's own `Conv1d`; `phases` prints each step's
/// forward / backward / optimiser times.
fn burn_step_ms(b: usize, t: usize, warmup: usize, steps: usize, burn_conv: bool, phases: bool) -> (f64, f64, f64) {
    let device = Device::flex().autodiff();
    let spec = ModelSpec::LstmFcn(LstmFcnSpec { cells: 8, ..LstmFcnSpec::default() });
    let classes = 2;
    let mut model = spec.build(ModelShape { dims: 1, len: t, classes }, 0, &device).expect("model");
    let mut optim = AdamConfig::new().with_epsilon(1e-7).init();
    let mut r = ChaCha8Rng::seed_from_u64(1);
    let x: Vec<f32> = (0..b * t).map(|_| r.random::<f32>() * 2.0 - 1.0).collect();
    let y: Vec<f32> =
        (0..b * classes).map(|i| if i % classes == (i / classes) % classes { 1.0 } else { 0.0 }).collect();
    let x = Tensor::<3>::from_data(TensorData::new(x, [b, 1, t]), &device);
    let y = Tensor::<2>::from_data(TensorData::new(y, [b, classes]), &device);
    let mut times = Vec::new();
    let mut cpu = 0.0;
    for i in 0..warmup + steps {
        let s = Instant::now();
        let c = cpu_ms();
        let logits = match (&model, burn_conv) {
            (Model::LstmFcn(m), true) => logits_burn_conv(m, x.clone()),
            _ => model.forward(x.clone(), Some(&mut r)).logits,
        };
        let loss = log_softmax(logits, 1).mul(y.clone()).sum().neg().div_scalar(b as f64);
        let t1 = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let t2 = Instant::now();
        model = optim.step(1e-3, model, grads);
        if phases && i >= warmup {
            let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
            println!(
                "  step {i}: forward {:.1} ms, backward {:.1} ms, Adam {:.1} ms",
                ms(t1 - s),
                ms(t2 - t1),
                ms(t2.elapsed())
            );
        }
        if i >= warmup {
            times.push(s.elapsed().as_secs_f64() * 1e3);
            cpu += cpu_ms() - c;
        }
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], cpu / steps as f64, inference_ms(&model, &x, steps))
}

/// Median wall ms of the trained model's inference forward (no autodiff, running statistics:
/// what evaluating a monitored split costs) on the same batch.
fn inference_ms(model: &Model, x: &Tensor<3>, runs: usize) -> f64 {
    let valid = model.valid();
    let x = Tensor::<3>::from_data(x.to_data(), &Device::flex());
    let mut times: Vec<f64> = (0..runs + 1)
        .map(|_| {
            let s = Instant::now();
            let _ = valid.forward(x.clone(), None).logits.into_data();
            s.elapsed().as_secs_f64() * 1e3
        })
        .skip(1)
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn torch_step_ms(python: &str, b: usize, t: usize, steps: usize) -> Option<f64> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/reference/lstm_fcn_step.py");
    let out = Command::new(python)
        .args([script, "--batch", &b.to_string(), "--length", &t.to_string(), "--steps", &steps.to_string()])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("torch reference failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    String::from_utf8_lossy(&out.stdout).lines().find_map(|l| l.strip_prefix("ms_per_step ")?.trim().parse().ok())
}

/// One step of InceptionTime / H-InceptionTime / LITE in PyTorch (`inception_step.py`).
fn torch_model_step_ms(python: &str, model: &str, b: usize, t: usize, steps: usize) -> Option<f64> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/reference/inception_step.py");
    let torch_model = if model == "lite" { "lite" } else { "inception_time" };
    let args = ["--model", torch_model, "--batch", &b.to_string(), "--length", &t.to_string()];
    let out = Command::new(python).arg(script).args(args).args(["--steps", &steps.to_string()]).output().ok()?;
    if !out.status.success() {
        eprintln!("torch reference failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    String::from_utf8_lossy(&out.stdout).lines().find_map(|l| l.strip_prefix("ms_per_step ")?.trim().parse().ok())
}

/// `--model NAME`: one training step of that network (paper sizes, two classes), ours then
/// PyTorch's in the same run, and the ratio.
fn model_bench(model: &str, torch: Option<&str>) {
    use tscpipe::models::step_bench::INCEPTION_SIZE;
    let spec = match model {
        "h_inception_time" => serde_json::json!({ "model": "inception_time", "hybrid": true }),
        name => serde_json::json!({ "model": name }),
    };
    let spec: ModelSpec = serde_json::from_value(spec).expect("a model name");
    let params = spec.build(ModelShape { dims: 1, len: 150, classes: 2 }, 0, &Device::flex()).expect("model");
    println!(
        "{model} training step (paper sizes, {} trainable parameters), median ms/step, {} threads, convolutions: conv_gemm with {:?}",
        params.trainable_params(),
        rayon_threads(),
        Provider::best()
    );
    for (b, t, steps) in [(50, 150, 10), (INCEPTION_SIZE.0, INCEPTION_SIZE.1, 5)] {
        let ours = tscpipe::models::step_bench::model_step_ms(&spec, tscpipe::device::Device::Cpu, b, t, 2, steps)
            .expect("step");
        match torch.and_then(|p| torch_model_step_ms(p, model, b, t, steps)) {
            Some(theirs) => println!(
                "B={b:>3} T={t:>3}: burn flex {ours:8.1} ms   PyTorch {theirs:8.1} ms   burn/PyTorch = {:.2}",
                ours / theirs
            ),
            None => println!("B={b:>3} T={t:>3}: burn flex {ours:8.1} ms   (PyTorch: pass --torch PYTHON)"),
        }
    }
}

fn main() {
    tscpipe::models::tune_host_allocator();
    let args: Vec<String> = std::env::args().collect();
    let torch = args.iter().position(|a| a == "--torch").and_then(|i| args.get(i + 1)).cloned();
    if let Some(model) = args.iter().position(|a| a == "--model").and_then(|i| args.get(i + 1)) {
        model_bench(model, torch.as_deref());
        return;
    }
    println!(
        "LSTM-FCN (128/256/128 filters, 8 cells) training step, median ms/step (conv GFLOP/s), {} threads",
        rayon_threads()
    );
    let burn_conv = match args.iter().position(|a| a == "--conv").and_then(|i| args.get(i + 1)).map(String::as_str) {
        None => false,
        Some("burn") => true,
        Some(other) => panic!("--conv {other}: expected burn"),
    };
    if burn_conv {
        println!("convolutions: burn's Conv1d");
    } else {
        println!("convolutions: conv_gemm with {:?}", Provider::best());
    }
    let small_only = args.iter().any(|a| a == "--small");
    let phases = args.iter().any(|a| a == "--phases");
    for (b, t, steps) in [(50, 150, 10), (128, 500, 3)] {
        if small_only && b > 50 {
            continue;
        }
        let (ours, cpu, infer) = burn_step_ms(b, t, 2, steps, burn_conv, phases);
        println!("B={b:>3} T={t:>3}: process CPU {cpu:8.1} ms/step; inference forward {infer:.1} ms");
        let gflops = |ms: f64| conv_flop(b, t) / ms / 1e6;
        match torch.as_deref().and_then(|p| torch_step_ms(p, b, t, steps)) {
            Some(theirs) => println!(
                "B={b:>3} T={t:>3}: burn flex {ours:8.1} ms ({:5.1} GFLOP/s)   PyTorch {theirs:8.1} ms ({:5.1} GFLOP/s)   burn/PyTorch = {:.2}",
                gflops(ours),
                gflops(theirs),
                ours / theirs
            ),
            None => println!(
                "B={b:>3} T={t:>3}: burn flex {ours:8.1} ms ({:5.1} GFLOP/s)   (PyTorch: pass --torch PYTHON)",
                gflops(ours)
            ),
        }
    }
}

/// Floating-point operations of the step's convolutions (forward, input and weight gradients:
/// 3 × 2·B·T·Cout·Cin·k per layer; the input gradient of the first layer is not needed but is
/// counted, as the LSTM and the rest are not). GFLOP/s = this / time; the machine's measured
/// fp32 peak is in the README.
fn conv_flop(b: usize, t: usize) -> f64 {
    let layers = [(1usize, 128usize, 8usize), (128, 256, 5), (256, 128, 3)];
    layers.iter().map(|&(cin, cout, k)| 3.0 * 2.0 * (b * t * cout * cin * k) as f64).sum()
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
