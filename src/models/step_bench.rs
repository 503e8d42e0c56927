//! One LSTM-FCN training step (forward, backward, Adam; the paper's 128/256/128 filters, 8
//! cells) timed on any device: what `tscpipe devices --bench` prints, so that a machine with no
//! Rust toolchain (the GPU check, `scripts/gpu-check.sh`) measures the step with the shipped
//! binary. `benches/train_step.rs` is the CPU-side benchmark with the PyTorch comparison.

use std::time::Instant;

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Tensor, TensorData};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{LstmFcnSpec, ModelError, ModelShape, ModelSpec};
use crate::device::Device;

/// Median wall milliseconds of one step of the paper's LSTM-FCN after `warmup` untimed ones (the
/// first steps on a GPU compile its kernels). Each step ends by reading the loss back, so the
/// device has finished it.
pub fn step_ms(device: Device, batch: usize, len: usize, warmup: usize, steps: usize) -> Result<f64, ModelError> {
    model_step_ms(&ModelSpec::LstmFcn(LstmFcnSpec::default()), device, batch, len, warmup, steps)
}

/// [`step_ms`] of any model (two classes, one channel): the wgpu tests time a narrow LSTM-FCN,
/// whose kernels they compile and tune anyway.
pub fn model_step_ms(
    spec: &ModelSpec,
    device: Device,
    batch: usize,
    len: usize,
    warmup: usize,
    steps: usize,
) -> Result<f64, ModelError> {
    let dev = device.train_device()?;
    let classes = 2;
    let mut model = spec.build(ModelShape { dims: 1, len, classes }, 0, &dev)?;
    let mut optim = AdamConfig::new().with_epsilon(1e-7).init();
    let mut r = ChaCha8Rng::seed_from_u64(1);
    let x: Vec<f32> = (0..batch * len).map(|_| r.random::<f32>() * 2.0 - 1.0).collect();
    let y: Vec<f32> =
        (0..batch * classes).map(|i| if i % classes == (i / classes) % classes { 1.0 } else { 0.0 }).collect();
    let x = Tensor::<3>::from_data(TensorData::new(x, [batch, 1, len]), &dev);
    let y = Tensor::<2>::from_data(TensorData::new(y, [batch, classes]), &dev);
    let mut times = Vec::with_capacity(steps);
    for i in 0..warmup + steps.max(1) {
        let t0 = Instant::now();
        let logits = model.forward(x.clone(), Some(&mut r)).logits;
        let loss = log_softmax(logits, 1).mul(y.clone()).sum().neg().div_scalar(batch as f64);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
        let value = loss.into_scalar::<f32>();
        if !value.is_finite() {
            return Err(ModelError::InvalidData(format!("step {i} on {device}: loss {value}")));
        }
        if i >= warmup {
            times.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// The two sizes the benchmarks report: GunPoint's (B=50, T=150) and a large one (B=128, T=500),
/// with their timed step counts.
pub const SIZES: [(usize, usize, usize); 2] = [(50, 150, 10), (128, 500, 3)];

/// The size the InceptionTime issue benchmarks a step at: batch 64, univariate, length 500.
pub const INCEPTION_SIZE: (usize, usize) = (64, 500);

/// [`model_step_ms`] of a model named as in a pipeline's `model = "…"` (e.g. `inception_time`,
/// `lite`, `fcn`) at its paper's sizes: what `scripts/gpu-check.sh` times by name.
pub fn named_step_ms(
    name: &str,
    device: Device,
    batch: usize,
    len: usize,
    warmup: usize,
    steps: usize,
) -> Result<f64, ModelError> {
    let spec: ModelSpec = serde_json::from_value(serde_json::json!({ "model": name }))
        .map_err(|e| ModelError::InvalidSpec(format!("model `{name}`: {e}")))?;
    model_step_ms(&spec, device, batch, len, warmup, steps)
}
