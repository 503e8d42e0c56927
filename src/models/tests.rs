//! Tests of the models module (small filters/cells so the whole set stays fast).

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::lstm_fcn::Recurrent;
use super::*;
use crate::data::dataset::{Dataset, Split};

fn small_spec(attention: bool) -> LstmFcnSpec {
    LstmFcnSpec { filters: vec![8, 16, 8], cells: 4, attention, ..LstmFcnSpec::default() }
}

fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| r.random::<f32>() * 2.0 - 1.0).collect()
}

fn input(b: usize, c: usize, t: usize, seed: u64, device: &Device) -> Tensor<3> {
    Tensor::from_data(TensorData::new(values(b * c * t, seed), [b, c, t]), device)
}

fn data_of(t: Tensor<3>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
}

fn lstm_fcn(m: &Model) -> &LstmFcn {
    match m {
        Model::LstmFcn(m) => m,
        other => panic!("expected an LSTM-FCN, got {}", other.name()),
    }
}

#[test]
fn output_shapes_uni_and_multivariate() {
    let dev = Device::flex();
    for attention in [false, true] {
        for (c, t) in [(1, 20), (4, 17)] {
            let spec = ModelSpec::LstmFcn(small_spec(attention));
            let shape = ModelShape { dims: c, len: t, classes: 3 };
            let m = spec.build(shape, 1, &dev).unwrap();
            let out = m.forward(input(5, c, t, 2, &dev), None);
            assert_eq!(out.logits.dims(), [5, 3]);
            match out.attention {
                Some(a) => {
                    assert!(attention);
                    assert_eq!(a.dims(), [5, c, c]);
                    // every row of attention weights is a distribution over the C steps
                    for row in data_of(a).chunks(c) {
                        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
                    }
                }
                None => assert!(!attention),
            }
        }
    }
    // FCN-only ablation
    let spec = ModelSpec::LstmFcn(LstmFcnSpec { lstm: false, ..small_spec(false) });
    let shape = ModelShape { dims: 2, len: 9, classes: 4 };
    let m = spec.build(shape, 1, &dev).unwrap();
    assert_eq!(m.forward(input(3, 2, 9, 3, &dev), None).logits.dims(), [3, 4]);
}

fn hard_sigmoid(x: f64) -> f64 {
    (0.2 * x + 0.5).clamp(0.0, 1.0)
}

fn mat(p: &burn::module::Param<Tensor<2>>) -> (Vec<f32>, usize) {
    let [_, cols] = p.val().dims();
    (p.val().into_data().convert::<f32>().try_into_vec::<f32>().unwrap(), cols)
}

/// Host LSTM over `steps` steps of `feat` features (Keras layout, hard-sigmoid gates).
fn reference_lstm(l: &lstm::Lstm, x: &[f32], steps: usize, feat: usize) -> Vec<f64> {
    let (w, k4) = mat(&l.kernel);
    let (u, _) = mat(&l.recurrent_kernel);
    let bias: Vec<f32> = l.bias.val().into_data().convert::<f32>().try_into_vec().unwrap();
    let k = k4 / 4;
    let mut h = vec![0f64; k];
    let mut c = vec![0f64; k];
    for s in 0..steps {
        let xs = &x[s * feat..(s + 1) * feat];
        let mut z: Vec<f64> = (0..k4)
            .map(|j| {
                let a: f64 = (0..feat).map(|d| xs[d] as f64 * w[d * k4 + j] as f64).sum();
                let r: f64 = (0..k).map(|q| h[q] * u[q * k4 + j] as f64).sum();
                a + r + bias[j] as f64
            })
            .collect();
        for q in 0..k {
            let i = hard_sigmoid(z[q]);
            let f = hard_sigmoid(z[k + q]);
            let g = z[2 * k + q].tanh();
            let o = hard_sigmoid(z[3 * k + q]);
            c[q] = f * c[q] + i * g;
            h[q] = o * c[q].tanh();
        }
        z.clear();
    }
    h
}

#[test]
fn dimension_shuffle_reads_c_steps_of_t_features() {
    let dev = Device::flex();
    // The shuffle is the identity on memory: (B, C, T) read as C steps of T features.
    let x = input(2, 3, 5, 7, &dev);
    let s = LstmFcn::shuffle(x.clone());
    assert_eq!(s.dims(), [2, 3, 5]);
    assert_eq!(data_of(s), data_of(x));

    for (c, t) in [(1usize, 12usize), (3, 7)] {
        let spec = ModelSpec::LstmFcn(small_spec(false));
        let shape = ModelShape { dims: c, len: t, classes: 2 };
        let m = spec.build(shape, 5, &dev).unwrap();
        let m = lstm_fcn(&m);
        let Some(Recurrent::Lstm(l)) = &m.recurrent else { panic!("plain LSTM expected") };
        // The LSTM's input size is T (features per step).
        assert_eq!(l.kernel.val().dims()[0], t);
        let b = 2;
        let xv = values(b * c * t, 11);
        let x = Tensor::from_data(TensorData::new(xv.clone(), [b, c, t]), &dev);
        let (h, _) = m.recurrent_features(x).unwrap();
        let h: Vec<f32> = h.into_data().convert::<f32>().try_into_vec().unwrap();
        for i in 0..b {
            let r = reference_lstm(l, &xv[i * c * t..(i + 1) * c * t], c, t);
            for (q, &v) in r.iter().enumerate() {
                assert!(
                    (h[i * l.cells + q] as f64 - v).abs() < 1e-5,
                    "C={c}: series {i} cell {q}: {} vs {v}",
                    h[i * l.cells + q]
                );
            }
        }
    }
}

#[test]
fn attention_does_not_mix_series_within_a_batch() {
    let dev = crate::device::Device::Cpu;
    for energy in [EnergyActivation::Tanh, EnergyActivation::HardSigmoid] {
        let spec = ModelSpec::AlstmFcn(LstmFcnSpec { attention_activation: energy, ..small_spec(true) });
        let shape = ModelShape { dims: 3, len: 16, classes: 3 };
        let mut m = spec.build(shape, 3, &dev.device().unwrap()).unwrap();
        // Non-zero b_ra so the attention weights are not uniform.
        if let Model::LstmFcn(inner) = &mut m
            && let Some(Recurrent::Attention(a)) = &mut inner.recurrent
        {
            let v = values(a.cells, 99);
            a.attention_v = burn::module::Param::from_tensor(Tensor::from_data(
                TensorData::new(v.iter().map(|x| x * 3.0).collect::<Vec<_>>(), [a.cells, 1]),
                &dev.device().unwrap(),
            ));
        }
        let n = 6;
        let split = Split {
            n,
            dims: 3,
            len: 16,
            values: values(n * 48, 21).into_iter().map(f64::from).collect(),
            labels: vec![0; n],
        };
        let batch = predict(&m, &split, &dev, n).unwrap();
        let att = batch.attention.as_ref().expect("attention weights");
        assert_eq!(att.len(), n);
        assert_eq!(att[0].len(), 3);
        assert!(att[0].iter().flatten().any(|&a| (a - 1.0 / 3.0).abs() > 1e-3));
        for (i, (batch_probs, batch_att)) in batch.probabilities.iter().zip(att).enumerate() {
            let alone = predict(&m, &split.subset(&[i]), &dev, 1).unwrap();
            for (a, b) in alone.probabilities[0].iter().zip(batch_probs) {
                assert!((a - b).abs() < 1e-5, "series {i}: {a} vs {b}");
            }
            let aa = &alone.attention.as_ref().unwrap()[0];
            for (ra, rb) in aa.iter().zip(batch_att) {
                for (a, b) in ra.iter().zip(rb) {
                    assert!((a - b).abs() < 1e-5);
                }
            }
        }
    }
}

/// Sine vs square waves with random frequency/phase and a little noise.
fn synthetic(n_per_class: usize, len: usize, seed: u64) -> Dataset {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut split = |n: usize| {
        let mut values = Vec::new();
        let mut labels = Vec::new();
        for i in 0..2 * n {
            let class = i % 2;
            let f = 1.0 + 2.0 * r.random::<f64>();
            let ph = std::f64::consts::TAU * r.random::<f64>();
            for t in 0..len {
                let s = (std::f64::consts::TAU * f * t as f64 / len as f64 + ph).sin();
                let v = if class == 0 { s } else { s.signum() };
                values.push(v + 0.05 * (r.random::<f64>() - 0.5));
            }
            labels.push(class);
        }
        Split { n: 2 * n, dims: 1, len, values, labels }
    };
    let train = split(n_per_class);
    let test = split(n_per_class / 2);
    let validation = Some(split(n_per_class / 4));
    Dataset { name: "sine-vs-square".into(), classes: vec!["sine".into(), "square".into()], train, test, validation }
}

fn quick_cfg(epochs: usize) -> TrainConfig {
    TrainConfig { epochs, batch_size: 8, seed: 7, ..TrainConfig::default() }
}

#[test]
fn short_training_fits_a_separable_problem() {
    let data = synthetic(20, 32, 1);
    let spec = ModelSpec::LstmFcn(LstmFcnSpec { cells: 8, ..small_spec(false) });
    let cfg = TrainConfig { monitor: Monitor::Validation, learning_rate: 0.01, ..quick_cfg(30) };
    let mut epochs_seen = 0;
    let out = train(&spec, &data, &cfg, &TrainContext::default(), |r| {
        epochs_seen = r.epoch;
        true
    })
    .unwrap();
    assert_eq!(epochs_seen, 30);
    assert_eq!(out.history.len(), 30);
    let last = out.history.last().unwrap();
    assert!(last.train_loss < out.history[0].train_loss);
    let m = spec.load(out.shape, &out.weights, &Device::flex()).unwrap();
    // The kept weights (best validation loss) separate the held-out classes perfectly.
    let val = data.validation.as_ref().unwrap();
    for (name, split) in [("validation", val), ("test", &data.test)] {
        let p = predict(&m, split, &crate::device::Device::Cpu, 64).unwrap();
        assert_eq!(p.accuracy(&split.labels), 1.0, "{name}");
    }
    let p = predict(&m, &data.train, &crate::device::Device::Cpu, 64).unwrap();
    assert!(
        p.accuracy(&data.train.labels) >= 0.95,
        "history: {:?}",
        out.history.iter().map(|r| r.train_acc).collect::<Vec<_>>()
    );
    // The selected weights are the best epoch's; its record says so.
    let best = out.best_record().unwrap();
    assert!(best.improved);
    assert_eq!(best.monitored_loss, out.best_monitored_loss);
    // Re-evaluating the selected weights gives the recorded monitored loss.
    let (loss, _) = evaluate(&m, data.validation.as_ref().unwrap(), &crate::device::Device::Cpu, 7).unwrap();
    assert!((loss - out.best_monitored_loss).abs() < 1e-5);

    let mut csv = Vec::new();
    write_history_csv(&out.history, out.monitor, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("epoch,train_loss,train_acc,monitored_split,validation_loss,validation_acc,lr,seconds"));
    assert_eq!(csv.lines().count(), 31);
}

#[test]
fn same_seed_gives_bit_identical_weights() {
    let data = synthetic(6, 24, 2);
    for attention in [false, true] {
        let spec = ModelSpec::LstmFcn(small_spec(attention));
        let run = |seed| {
            let cfg = TrainConfig { seed, ..quick_cfg(3) };
            train(&spec, &data, &cfg, &TrainContext::default(), |_| true).unwrap()
        };
        let a = run(7);
        let b = run(7);
        let c = run(8);
        assert_eq!(a.digest, b.digest);
        assert_eq!(a.weights, b.weights);
        assert_eq!(a.safetensors, b.safetensors);
        assert_ne!(a.digest, c.digest);
    }
}

#[test]
fn resume_is_bit_identical_and_cancel_is_reported() {
    let data = synthetic(6, 24, 3);
    let spec = ModelSpec::alstm_fcn();
    let spec = match spec {
        ModelSpec::AlstmFcn(_) => ModelSpec::AlstmFcn(small_spec(true)),
        s => s,
    };
    let cfg = TrainConfig {
        checkpoint_every: 2,
        monitor: Monitor::Test,
        plateau: PlateauConfig { patience: 1, ..PlateauConfig::default() },
        ..quick_cfg(6)
    };
    let full = train(&spec, &data, &cfg, &TrainContext::default(), |_| true).unwrap();

    let dir = std::env::temp_dir().join(format!(
        "tscpipe-models-resume-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let ctx = TrainContext { checkpoint_dir: Some(&dir), ..TrainContext::default() };
    // Train 4 epochs and stop.
    let first = train(&spec, &data, &TrainConfig { epochs: 4, ..cfg.clone() }, &ctx, |_| true).unwrap();
    assert_eq!(first.history.len(), 4);
    assert_eq!(checkpoint::epoch(&dir).unwrap(), Some(4));
    // Resume to 6.
    let mut seen = Vec::new();
    let resumed = train(&spec, &data, &cfg, &ctx, |r| {
        seen.push(r.epoch);
        true
    })
    .unwrap();
    assert_eq!(resumed.resumed_from, Some(4));
    assert_eq!(seen, vec![5, 6]);
    assert_eq!(resumed.digest, full.digest);
    assert_eq!(resumed.history.len(), 6);
    for (a, b) in resumed.history.iter().zip(&full.history) {
        assert_eq!(a.train_loss.to_bits(), b.train_loss.to_bits());
        assert_eq!(a.monitored_loss.to_bits(), b.monitored_loss.to_bits());
        assert_eq!(a.lr.to_bits(), b.lr.to_bits());
    }
    assert_eq!(resumed.best_epoch, full.best_epoch);

    // Cancellation: the callback says stop after epoch 1 → Cancelled, with a checkpoint.
    checkpoint::remove(&dir).unwrap();
    let r = train(&spec, &data, &cfg, &ctx, |r| r.epoch < 1);
    assert!(matches!(r, Err(ModelError::Cancelled)));
    assert_eq!(checkpoint::epoch(&dir).unwrap(), Some(1));
    let resumed = train(&spec, &data, &cfg, &ctx, |_| true).unwrap();
    assert_eq!(resumed.digest, full.digest);

    // A checkpoint of another run is refused.
    let other = TrainConfig { seed: 99, ..cfg.clone() };
    assert!(matches!(train(&spec, &data, &other, &ctx, |_| true), Err(ModelError::Checkpoint(_))));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn finetune_schedule_halves_lr_and_batch() {
    let s = finetune_schedule(1e-3, 128, 5, 1e-4, 1);
    let lr: Vec<f64> = s.iter().map(|x| x.0).collect();
    let batch: Vec<usize> = s.iter().map(|x| x.1).collect();
    let want = [1e-3, 5e-4, 2.5e-4, 1.25e-4, 1e-4];
    for (a, b) in lr.iter().zip(want) {
        assert!((a - b).abs() < 1e-15, "{lr:?}");
    }
    assert_eq!(batch, vec![128, 128, 64, 64, 32]);
    let s = finetune_schedule(1e-3, 2, 6, 1e-4, 1);
    assert_eq!(s.iter().map(|x| x.1).collect::<Vec<_>>(), vec![2, 2, 1, 1, 1, 1]);
}

#[test]
fn finetune_runs_and_keeps_the_best_iteration() {
    let data = synthetic(5, 16, 4);
    let spec = ModelSpec::LstmFcn(small_spec(false));
    let base = quick_cfg(2);
    let start = train(&spec, &data, &base, &TrainContext::default(), |_| true).unwrap();
    let ft = FinetuneConfig { iterations: 3, epochs_per_iteration: 2, ..FinetuneConfig::default() };
    let mut calls = Vec::new();
    let out = finetune(&spec, &data, &base, &ft, &TrainContext::default(), &start.weights, |it, r| {
        calls.push((it, r.epoch));
        true
    })
    .unwrap();
    assert_eq!(out.iterations.len(), 3);
    assert_eq!(calls.len(), 6);
    assert_eq!(out.iterations[1].learning_rate, 5e-4);
    let best = out.iterations.iter().min_by(|a, b| a.best_monitored_loss.total_cmp(&b.best_monitored_loss)).unwrap();
    assert_eq!(out.best_iteration, best.iteration);
    assert_eq!(out.digest, best.digest);
}

#[test]
fn weights_and_safetensors_round_trip() {
    let dev = Device::flex();
    let spec = ModelSpec::AlstmFcn(small_spec(true));
    let shape = ModelShape { dims: 2, len: 10, classes: 3 };
    let m = spec.build(shape, 4, &dev).unwrap();
    let w = weights_bytes(&m).unwrap();
    let loaded = spec.load(shape, &w, &dev).unwrap();
    let x = input(4, 2, 10, 5, &dev);
    let a = data_of(m.forward(x.clone(), None).logits.unsqueeze::<3>());
    let b = data_of(loaded.forward(x, None).logits.unsqueeze::<3>());
    assert_eq!(a, b);
    assert_eq!(weights_bytes(&loaded).unwrap(), w);
    let st = safetensors_bytes(&m).unwrap();
    assert!(st.len() > 8);
    let text = String::from_utf8_lossy(&st[..st.len().min(4096)]).to_string();
    assert!(text.contains("fcn.convs.0.weight"), "{text}");
    assert!(text.contains("attention_v"), "{text}");
    // A different shape does not load.
    let other = ModelShape { len: 11, ..shape };
    assert!(spec.load(other, &w, &dev).is_err());
    assert_eq!(m.num_params(), loaded.num_params());
}

#[test]
fn spec_serde_and_validation() {
    let s: ModelSpec = serde_json::from_str(r#"{"model":"alstm_fcn","cells":64}"#).unwrap();
    assert!(s.has_attention());
    assert_eq!(s.lstm_fcn_spec().unwrap().cells, 64);
    assert_eq!(s.lstm_fcn_spec().unwrap().filters, vec![128, 256, 128]);
    assert_eq!(s.lstm_fcn_spec().unwrap().attention_activation, EnergyActivation::Tanh);
    let s: ModelSpec = serde_json::from_str(
        r#"{"model":"lstm_fcn","filters":[4,4],"kernels":[3,3],"attention_activation":"hard_sigmoid","attention":true}"#,
    )
    .unwrap();
    assert!(s.has_attention());
    assert!(serde_json::from_str::<ModelSpec>(r#"{"model":"lstm_fcn","cels":8}"#).is_err());
    let bad = ModelSpec::LstmFcn(LstmFcnSpec { kernels: vec![8, 5], ..LstmFcnSpec::default() });
    assert!(bad.validate().is_err());
    let cfg: TrainConfig = serde_json::from_str(r#"{"epochs":10,"monitor":"test","plateau":{"patience":5}}"#).unwrap();
    assert_eq!(cfg.monitor, Monitor::Test);
    assert_eq!(cfg.adam_epsilon, 1e-7);
    assert_eq!(cfg.plateau.patience, 5);
    assert!(Monitor::Test.note().is_some());
    assert_eq!("cuda:1".parse::<crate::device::Device>().unwrap(), crate::device::Device::Cuda(1));
    assert_eq!("cpu".parse::<crate::device::Device>().unwrap(), crate::device::Device::Cpu);
    assert!("tpu".parse::<crate::device::Device>().is_err());
}

#[test]
fn plateau_follows_keras() {
    let cfg = PlateauConfig { patience: 2, ..PlateauConfig::default() };
    let mut s = train::PlateauState::new(1e-3);
    for loss in [1.0, 0.9, 0.95, 0.9] {
        s.step(&cfg, loss);
    }
    // two epochs without improvement → one reduction
    assert!((s.lr - 1e-3 / 2f64.cbrt()).abs() < 1e-15);
    for _ in 0..100 {
        s.step(&cfg, 2.0);
    }
    assert_eq!(s.lr, 1e-4);
}
