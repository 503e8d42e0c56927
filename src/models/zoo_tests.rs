//! Tests of the zoo models (FCN, ResNet, MLP, 1D CNN, hybrid CNN-LSTM ± attention) and of the
//! optimiser choice. Tiny filters and few epochs keep them fast.

use burn::tensor::{Device, Tensor, TensorData};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::layers::adaptive_max_pool1d;
use super::*;
use crate::data::dataset::{Dataset, Split};

/// One small instance of every zoo model (and the hybrid without attention).
fn tiny_zoo() -> Vec<ModelSpec> {
    vec![
        ModelSpec::Fcn(FcnSpec { filters: vec![8, 16, 8], ..FcnSpec::default() }),
        ModelSpec::Resnet(ResnetSpec { filters: vec![8, 16, 16], ..ResnetSpec::default() }),
        ModelSpec::Mlp(MlpSpec { hidden: vec![32, 32], dropout: vec![0.1, 0.2, 0.3] }),
        ModelSpec::Cnn1d(Cnn1dSpec::default()),
        ModelSpec::Hybrid(HybridSpec::default()),
        ModelSpec::Hybrid(HybridSpec::without_attention()),
        ModelSpec::InceptionTime(tiny_inception(false)),
        ModelSpec::InceptionTime(tiny_inception(true)),
        ModelSpec::Lite(LiteSpec { filters: 4, kernel: 8, ..LiteSpec::default() }),
    ]
}

/// Three modules (one residual block) of narrow convolutions, ± the hand-crafted filters.
fn tiny_inception(hybrid: bool) -> InceptionSpec {
    InceptionSpec { depth: 3, filters: 4, kernel: 8, bottleneck: 4, hybrid, ..InceptionSpec::default() }
}

fn input(b: usize, c: usize, t: usize, seed: u64, device: &Device) -> Tensor<3> {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let v: Vec<f32> = (0..b * c * t).map(|_| r.random::<f32>() * 2.0 - 1.0).collect();
    Tensor::from_data(TensorData::new(v, [b, c, t]), device)
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
}

#[test]
fn zoo_output_shapes_uni_and_multivariate() {
    let dev = Device::flex();
    for spec in tiny_zoo() {
        for (c, t) in [(1, 20), (3, 17)] {
            let shape = ModelShape { dims: c, len: t, classes: 3 };
            let m = spec.build(shape, 1, &dev).unwrap();
            assert_eq!(m.shape(), shape);
            let out = m.forward(input(5, c, t, 2, &dev), None);
            assert_eq!(out.logits.dims(), [5, 3], "{}", spec.name());
            assert!(values(out.logits).iter().all(|v| v.is_finite()));
            match (spec.attention_axis(), out.attention) {
                (Some("time"), Some(a)) => {
                    let ModelSpec::Hybrid(h) = &spec else { panic!("time attention from {}", spec.name()) };
                    assert_eq!(a.dims(), [5, 1, h.adaptive_pool]);
                }
                (None, None) => {}
                (axis, a) => panic!("{}: axis {axis:?} but attention {:?}", spec.name(), a.map(|a| a.dims())),
            }
        }
    }
    // Training mode (autodiff device, dropout masks from the ChaCha stream) keeps the shapes.
    let adev = Device::flex().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for spec in tiny_zoo() {
        let m = spec.build(ModelShape { dims: 2, len: 12, classes: 4 }, 1, &adev).unwrap();
        assert_eq!(m.forward(input(3, 2, 12, 5, &adev), Some(&mut rng)).logits.dims(), [3, 4]);
    }
}

#[test]
fn hybrid_attention_is_a_distribution_per_series_and_does_not_mix_the_batch() {
    let dev = Device::flex();
    for (c, t) in [(1, 40), (4, 23)] {
        let spec = ModelSpec::Hybrid(HybridSpec::default());
        let m = spec.build(ModelShape { dims: c, len: t, classes: 2 }, 3, &dev).unwrap();
        let x = input(4, c, t, 6, &dev);
        let out = m.forward(x.clone(), None);
        let a = values(out.attention.unwrap());
        assert_eq!(a.len(), 4 * 16);
        for row in a.chunks(16) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            assert!(row.iter().all(|&w| w > 0.0));
        }
        // Series 0 alone gives the same weights and logits as inside the batch, and changing the
        // other series of the batch changes nothing for series 0.
        let alone = m.forward(x.clone().narrow(0, 0, 1), None);
        let other = Tensor::cat(vec![x.clone().narrow(0, 0, 1), input(3, c, t, 99, &dev)], 0);
        let mixed = m.forward(other, None);
        let a_alone = values(alone.attention.unwrap());
        let a_mixed = values(mixed.attention.unwrap());
        for (i, (&w, (&v, &u))) in a[..16].iter().zip(a_alone.iter().zip(&a_mixed[..16])).enumerate() {
            assert!((w - v).abs() < 1e-6 && (w - u).abs() < 1e-6, "step {i}: {w} {v} {u}");
        }
        let l = values(out.logits);
        let l_alone = values(alone.logits);
        let l_mixed = values(mixed.logits);
        for k in 0..2 {
            assert!((l[k] - l_alone[k]).abs() < 1e-5 && (l[k] - l_mixed[k]).abs() < 1e-5);
        }
        // the weights differ between series (the attention looks at the data)
        assert_ne!(a[..16], a[16..32]);
    }
}

#[test]
fn adaptive_max_pool_follows_pytorch_bins() {
    let dev = Device::flex();
    let x: Tensor<3> = Tensor::from_data(TensorData::new(vec![1f32, 5., 2., 4., 3.], [1, 1, 5]), &dev);
    // PyTorch AdaptiveMaxPool1d(3) on T = 5: bins [0, 2), [1, 4), [3, 5)
    assert_eq!(values(adaptive_max_pool1d(x.clone(), 3)), vec![5., 5., 4.]);
    // T < out repeats steps: bins [0,1) [0,2) [1,3) [2,4) [3,5) [4,5) … for out = 6 and T = 5
    assert_eq!(values(adaptive_max_pool1d(x.clone(), 6)), vec![1., 5., 5., 4., 4., 3.]);
    assert_eq!(values(adaptive_max_pool1d(x, 1)), vec![5.]);
}

/// Class 0: a sine with a negative offset in channel `signal`; class 1: a positive offset.
/// Other channels are noise, so a multivariate model has to find the informative channel.
fn separable(n_per_class: usize, dims: usize, len: usize, signal: usize, seed: u64) -> Dataset {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut split = |n: usize| {
        let mut values = Vec::new();
        let mut labels = Vec::new();
        for i in 0..2 * n {
            let class = i % 2;
            let f = 1.0 + 2.0 * r.random::<f64>();
            let ph = std::f64::consts::TAU * r.random::<f64>();
            for d in 0..dims {
                for t in 0..len {
                    let noise = 0.3 * (r.random::<f64>() - 0.5);
                    let v = if d == signal {
                        let s = (std::f64::consts::TAU * f * t as f64 / len as f64 + ph).sin();
                        s + if class == 0 { -0.7 } else { 0.7 } + noise
                    } else {
                        (std::f64::consts::TAU * f * t as f64 / len as f64).cos() + noise
                    };
                    values.push(v);
                }
            }
            labels.push(class);
        }
        Split { n: 2 * n, dims, len, values, labels }
    };
    let train = split(n_per_class);
    let test = split(n_per_class);
    Dataset { name: "offset".into(), classes: vec!["low".into(), "high".into()], train, test, validation: None }
}

fn cfg_for(spec: &ModelSpec, epochs: usize) -> TrainConfig {
    let base = TrainConfig { epochs, batch_size: 8, seed: 5, learning_rate: 0.01, ..TrainConfig::default() };
    match spec {
        // the write-up trains this variant with SGD (lr 0.01); with momentum it is fast enough here
        ModelSpec::Hybrid(h) if !h.attention => {
            TrainConfig { optimizer: Optimizer::Sgd, momentum: 0.9, learning_rate: 0.05, ..base }
        }
        _ => base,
    }
}

fn bn_fast(spec: ModelSpec) -> ModelSpec {
    // few updates: a Keras momentum of 0.99 would leave inference-mode BN statistics unconverged
    match spec {
        ModelSpec::Fcn(s) => ModelSpec::Fcn(FcnSpec { bn_momentum: 0.5, ..s }),
        ModelSpec::Resnet(s) => ModelSpec::Resnet(ResnetSpec { bn_momentum: 0.5, ..s }),
        ModelSpec::InceptionTime(s) => ModelSpec::InceptionTime(InceptionSpec { bn_momentum: 0.5, ..s }),
        ModelSpec::Lite(s) => ModelSpec::Lite(LiteSpec { bn_momentum: 0.5, ..s }),
        s => s,
    }
}

#[test]
fn zoo_models_learn_a_separable_problem() {
    for (dims, signal) in [(1, 0), (3, 2)] {
        let data = separable(12, dims, 24, signal, 11);
        for spec in tiny_zoo().into_iter().map(bn_fast) {
            let cfg = cfg_for(&spec, 25);
            let out = train(&spec, &data, &cfg, &TrainContext::default(), |_| true).unwrap();
            let m = spec.load(out.shape, &out.weights, &Device::flex()).unwrap();
            let hist: Vec<f64> = out.history.iter().map(|r| r.train_loss).collect();
            for (what, split) in [("train", &data.train), ("test", &data.test)] {
                let p = predict(&m, split, &crate::device::Device::Cpu, 64).unwrap();
                let acc = p.accuracy(&split.labels);
                assert!(acc >= 0.9, "{} (C = {dims}) {what} accuracy {acc}; losses {hist:?}", spec.name());
            }
        }
    }
}

#[test]
fn zoo_same_seed_gives_bit_identical_weights() {
    let data = separable(4, 2, 16, 1, 3);
    for spec in tiny_zoo() {
        let run = |seed| {
            let cfg = TrainConfig { seed, ..cfg_for(&spec, 2) };
            train(&spec, &data, &cfg, &TrainContext::default(), |_| true).unwrap()
        };
        let (a, b, c) = (run(7), run(7), run(8));
        assert_eq!(a.digest, b.digest, "{}", spec.name());
        assert_eq!(a.safetensors, b.safetensors, "{}", spec.name());
        assert_ne!(a.digest, c.digest, "{}", spec.name());
        // the weights load back into the same architecture and predict the same
        let m = spec.load(a.shape, &a.weights, &Device::flex()).unwrap();
        assert_eq!(weights_digest(&weights_bytes(&m).unwrap()), a.digest);
    }
}

#[test]
fn sgd_is_selectable_and_momentum_matters() {
    let data = separable(4, 1, 16, 0, 8);
    let spec = ModelSpec::Hybrid(HybridSpec::without_attention());
    // one batch per epoch: epoch 1's loss is that of the shared initial weights
    let base = TrainConfig { epochs: 4, batch_size: 64, seed: 1, learning_rate: 0.05, ..TrainConfig::default() };
    let run = |cfg: TrainConfig| train(&spec, &data, &cfg, &TrainContext::default(), |_| true).unwrap();
    let adam = run(base.clone());
    let sgd = run(TrainConfig { optimizer: Optimizer::Sgd, keep_best: false, ..base.clone() });
    let sgd_m = run(TrainConfig { optimizer: Optimizer::Sgd, momentum: 0.9, keep_best: false, ..base.clone() });
    assert_eq!(adam.history[0].train_loss.to_bits(), sgd.history[0].train_loss.to_bits());
    assert_eq!(sgd.history[0].train_loss.to_bits(), sgd_m.history[0].train_loss.to_bits());
    // the first SGD step is the same with or without momentum (the velocity starts at the gradient)
    assert_eq!(sgd.history[1].train_loss.to_bits(), sgd_m.history[1].train_loss.to_bits());
    assert_ne!(sgd.history[2].train_loss.to_bits(), sgd_m.history[2].train_loss.to_bits());
    assert_ne!(adam.history[1].train_loss.to_bits(), sgd.history[1].train_loss.to_bits());
    assert_ne!(sgd.digest, sgd_m.digest);

    // Adam configurations serialise as before the choice existed (checkpoint fingerprints and
    // summaries of older runs stay valid); SGD is spelled out.
    let json = serde_json::to_value(&base).unwrap();
    assert!(json.get("optimizer").is_none() && json.get("momentum").is_none());
    let json = serde_json::to_value(TrainConfig { optimizer: Optimizer::Sgd, momentum: 0.5, ..base.clone() }).unwrap();
    assert_eq!(json["optimizer"], "sgd");
    assert_eq!(json["momentum"], 0.5);
    assert!(TrainConfig { momentum: 1.0, ..base }.validate().is_err());
}

#[test]
fn zoo_specs_parse_with_defaults_and_reject_bad_values() {
    let s: ModelSpec = serde_json::from_str(r#"{"model": "hybrid", "attention": false}"#).unwrap();
    let ModelSpec::Hybrid(h) = &s else { panic!("{s:?}") };
    assert_eq!((h.filters.clone(), h.adaptive_pool, h.cells), (vec![16, 32], 16, 8));
    assert!(!s.has_attention() && s.attention_axis().is_none());
    assert_eq!(ModelSpec::Hybrid(HybridSpec::default()).attention_axis(), Some("time"));
    assert_eq!(ModelSpec::alstm_fcn().attention_axis(), Some("channels"));
    let r: ModelSpec = serde_json::from_str(r#"{"model": "resnet"}"#).unwrap();
    assert_eq!(r, ModelSpec::Resnet(ResnetSpec::default()));
    assert_eq!(r.name(), "resnet");
    let m: ModelSpec = serde_json::from_str(r#"{"model": "mlp"}"#).unwrap();
    assert_eq!(m, ModelSpec::Mlp(MlpSpec { hidden: vec![500; 3], dropout: vec![0.1, 0.2, 0.2, 0.3] }));
    assert!(serde_json::from_str::<ModelSpec>(r#"{"model": "fcn", "cells": 8}"#).is_err());

    let invalid = [
        ModelSpec::Fcn(FcnSpec { kernels: vec![8, 5], ..FcnSpec::default() }),
        ModelSpec::Resnet(ResnetSpec { filters: vec![], ..ResnetSpec::default() }),
        ModelSpec::Resnet(ResnetSpec { kernels: vec![8, 0, 3], ..ResnetSpec::default() }),
        ModelSpec::Mlp(MlpSpec { dropout: vec![0.1, 0.2], ..MlpSpec::default() }),
        ModelSpec::Mlp(MlpSpec { dropout: vec![0.1, 0.2, 0.2, 1.0], ..MlpSpec::default() }),
        ModelSpec::Cnn1d(Cnn1dSpec { pool: 0, ..Cnn1dSpec::default() }),
        ModelSpec::Hybrid(HybridSpec { cells: 0, ..HybridSpec::default() }),
    ];
    for s in invalid {
        assert!(matches!(s.validate(), Err(ModelError::InvalidSpec(_))), "{s:?}");
    }
    // a series too short for the poolings is a data error, not a panic
    let short = ModelShape { dims: 1, len: 3, classes: 2 };
    let r = ModelSpec::Cnn1d(Cnn1dSpec::default()).build(short, 0, &Device::flex());
    assert!(matches!(r, Err(ModelError::InvalidData(_))));
}

#[test]
fn predict_returns_the_hybrid_attention_per_series() {
    let data = separable(3, 2, 20, 0, 2);
    let spec = ModelSpec::Hybrid(HybridSpec { adaptive_pool: 5, ..HybridSpec::default() });
    let m = spec.build(ModelShape { dims: 2, len: 20, classes: 2 }, 0, &Device::flex()).unwrap();
    let p = predict(&m, &data.test, &crate::device::Device::Cpu, 4).unwrap();
    let a = p.attention.unwrap();
    assert_eq!(a.len(), data.test.n);
    for series in &a {
        assert_eq!(series.len(), 1);
        assert_eq!(series[0].len(), 5);
        assert!((series[0].iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}

#[test]
fn predict_returns_the_features_before_the_final_dense_layer() {
    let data = separable(3, 2, 20, 0, 2);
    let shape = ModelShape { dims: 2, len: 20, classes: 2 };
    // widths: FCN's last filters, ResNet's last filters, MLP's last hidden layer, …
    // … and the last Inception module's (4 branches × 4 filters), LITE's filters
    let widths = [Some(8), Some(16), Some(32), None, None, None, Some(16), Some(16), Some(4)];
    for (spec, width) in tiny_zoo().into_iter().zip(widths) {
        let m = spec.build(shape, 0, &Device::flex()).unwrap();
        let n = data.test.n;
        let p = predict(&m, &data.test, &crate::device::Device::Cpu, n).unwrap();
        assert_eq!(p.features.len(), n, "{spec:?}: one row per series");
        let w = p.features[0].len();
        assert!(w > 0 && p.features.iter().all(|r| r.len() == w), "{spec:?}");
        if let Some(expected) = width {
            assert_eq!(w, expected, "{spec:?}");
        }
        assert_ne!(p.features[0], p.features[1], "{spec:?}: features differ between series");
        // per series, not per batch
        let alone = predict(&m, &data.test.subset(&[1]), &crate::device::Device::Cpu, 1).unwrap();
        for (a, b) in alone.features[0].iter().zip(&p.features[1]) {
            assert!((a - b).abs() < 1e-4, "{spec:?}: {a} vs {b}");
        }
    }
}

/// A bundled dataset (GunPoint: univariate, BasicMotions: multivariate).
fn bundled(name: &str) -> Dataset {
    use crate::data::{DatasetRef, LoadOptions, load_dataset};
    load_dataset(&DatasetRef::Name(name.into()), &[crate::data::shared_datasets()], &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The papers' networks at full size: their trainable parameter counts equal aeon's Keras
/// networks' (tests/data/deep/param_counts.json, made by make_param_counts.py beside it), and a
/// few epochs of the InceptionTime protocol (Adam, batch 64, no class weights) on GunPoint and
/// BasicMotions run, lower the training loss and give finite probabilities.
#[test]
fn inception_and_lite_at_paper_size_match_the_reference_counts_and_train() {
    let reference: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/data/deep/param_counts.json")).unwrap();
    let specs = [
        ("inception_time", ModelSpec::InceptionTime(InceptionSpec::default())),
        ("h_inception_time", ModelSpec::InceptionTime(InceptionSpec { hybrid: true, ..InceptionSpec::default() })),
        ("lite", ModelSpec::Lite(LiteSpec::default())),
    ];
    for dataset in ["GunPoint", "BasicMotions"] {
        let data = bundled(dataset);
        let shape = ModelShape { dims: data.train.dims, len: data.train.len, classes: data.n_classes() };
        for (name, spec) in &specs {
            let expected = reference["counts"][name][dataset]["trainable"].as_u64().unwrap() as usize;
            let model = spec.build(shape, 0, &Device::flex()).unwrap();
            assert_eq!(model.trainable_params(), expected, "{name} on {dataset}");
            let cfg = TrainConfig {
                epochs: 3,
                batch_size: 64,
                class_weights: false,
                seed: 1,
                keep_best: false,
                ..TrainConfig::default()
            };
            let out = train(spec, &data, &cfg, &TrainContext::default(), |_| true).unwrap();
            let losses: Vec<f64> = out.history.iter().map(|r| r.train_loss).collect();
            assert!(losses.iter().all(|l| l.is_finite()), "{name} on {dataset}: {losses:?}");
            assert!(losses[2] < losses[0], "{name} on {dataset}: the loss does not fall: {losses:?}");
            let m = spec.load(out.shape, &out.weights, &Device::flex()).unwrap();
            let p = predict(&m, &data.test, &crate::device::Device::Cpu, 64).unwrap();
            assert_eq!(p.probabilities.len(), data.test.n);
            for row in &p.probabilities {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{name}: {row:?}");
            }
        }
    }
}

#[test]
fn max_pool_same_ignores_the_padding() {
    use super::inception::max_pool_same;
    let dev = Device::flex();
    let x: Tensor<3> = Tensor::from_data(TensorData::new(vec![-1f32, -5., -2., -4., -3.], [1, 1, 5]), &dev);
    // Keras MaxPool1D(3, strides=1, padding="same"): windows [0,1] [0,2] [1,3] [2,4] [3,4]
    assert_eq!(values(max_pool_same(x.clone(), 3)), vec![-1., -1., -2., -2., -3.]);
    // width 2: windows [t, t+1] (the odd padding on the right)
    assert_eq!(values(max_pool_same(x.clone(), 2)), vec![-1., -2., -2., -3., -3.]);
    assert_eq!(values(max_pool_same(x, 1)), vec![-1., -5., -2., -4., -3.]);
}

#[test]
fn depthwise_same_matches_a_direct_sum() {
    use super::lite::depthwise_same;
    let dev = Device::flex();
    let (b, c, t, k, d) = (2, 3, 11, 4, 3);
    let x = input(b, c, t, 3, &dev);
    let w: Tensor<2> = Tensor::from_data(
        TensorData::new((0..c * k).map(|i| (i as f32 - 5.0) / 7.0).collect::<Vec<f32>>(), [c, k]),
        &dev,
    );
    let got = values(depthwise_same(x.clone(), w.clone(), d));
    let (xv, wv) = (values(x), values(w));
    let left = ((k - 1) * d) / 2;
    for bi in 0..b {
        for ci in 0..c {
            for ti in 0..t {
                let mut s = 0f32;
                for j in 0..k {
                    let src = ti as isize + (j * d) as isize - left as isize;
                    if (0..t as isize).contains(&src) {
                        s += wv[ci * k + j] * xv[(bi * c + ci) * t + src as usize];
                    }
                }
                let g = got[(bi * c + ci) * t + ti];
                assert!((g - s).abs() < 1e-5, "b {bi} c {ci} t {ti}: {g} vs {s}");
            }
        }
    }
}
