//! Training CNN-TS on index pairs, gathering each mini-batch's series on the fly.
//!
//! The TRAIN series are uploaded once as `[N, C, T]`; a batch of pairs `(i, j)` becomes
//! `x1 = X[i]`, `x2 = X[j]` by an index select on the device, so memory is the series plus 8
//! bytes per pair whatever N² is. Everything else is [`super::train`]'s loop: Adam with an
//! explicit ε, Keras' ReduceLROnPlateau and keep-best on the epoch's mean training loss,
//! periodic checkpoints with bit-identical resume ([`super::checkpoint`]), a per-epoch callback
//! that may cancel. Randomness: initial weights from ChaCha stream 0, epoch `e`'s pair order
//! from stream `1 + e` of the seed.

use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Int, Tensor, TensorData};

use super::cnn_ts::{CnnTs, CnnTsSpec, cnn_ts_loss};
use super::epoch_loop::{LoopState, Totals, epoch_order};
use super::train::{EpochRecord, Monitor, TrainConfig, TrainContext, check_split, optimizer};
use super::{ModelError, ModelShape, Result, weights_digest};
use crate::data::dataset::Split;
use crate::pairs::{PairSet, class_coefficients};

/// What a pair training run produces.
#[derive(Debug, Clone)]
pub struct PairTrainOutcome {
    /// Selected weights ([`CnnTs::weights_bytes`]).
    pub weights: Vec<u8>,
    pub digest: String,
    /// `train_loss` = mean total loss, `train_acc` = accuracy of O_m on the pairs.
    pub history: Vec<EpochRecord>,
    pub best_epoch: usize,
    pub best_loss: f64,
    pub shape: ModelShape,
    pub final_lr: f64,
    pub resumed_from: Option<usize>,
    /// Coefficients used for O_m (different, same), O_1 and O_2.
    pub coefficients: [Vec<f64>; 3],
}

impl PairTrainOutcome {
    pub fn seconds(&self) -> f64 {
        self.history.iter().map(|r| r.seconds).sum()
    }
}

fn fingerprint(spec: &CnnTsSpec, cfg: &TrainConfig, train: &Split, pairs: &PairSet) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(b"tscpipe.models.pair_train.v1\0");
    h.update(serde_json::to_string(spec).unwrap_or_default().as_bytes());
    let cfg = TrainConfig { epochs: 0, checkpoint_every: 0, eval_batch_size: 0, ..cfg.clone() };
    h.update(serde_json::to_string(&cfg).unwrap_or_default().as_bytes());
    for d in [train.n, train.dims, train.len] {
        h.update(&(d as u64).to_le_bytes());
    }
    for v in &train.values {
        h.update(&v.to_le_bytes());
    }
    h.update(&pairs.to_bytes().unwrap_or_default());
    *h.finalize().as_bytes()
}

/// One-hot rows scaled by the class coefficient: `[rows.len(), k]`.
fn targets(classes: impl Iterator<Item = usize>, k: usize, coef: &[f64]) -> (Vec<f32>, usize) {
    let mut out = Vec::new();
    let mut n = 0;
    for c in classes {
        let start = out.len();
        out.resize(start + k, 0.0);
        out[start + c] = coef[c] as f32;
        n += 1;
    }
    (out, n)
}

/// Trains CNN-TS on `pairs` over the series of `train` (`classes` classes).
pub fn train_pairs(
    spec: &CnnTsSpec,
    train: &Split,
    classes: usize,
    pairs: &PairSet,
    cfg: &TrainConfig,
    ctx: &TrainContext<'_>,
    mut progress: impl FnMut(&EpochRecord) -> bool,
) -> Result<PairTrainOutcome> {
    spec.validate()?;
    cfg.validate()?;
    if cfg.monitor != Monitor::TrainLoss {
        return Err(ModelError::InvalidConfig("pair training monitors the training loss only".into()));
    }
    let shape = ModelShape { dims: train.dims, len: train.len, classes };
    shape.validate()?;
    if train.n == 0 || pairs.is_empty() {
        return Err(ModelError::InvalidData("no training series or no pairs".into()));
    }
    check_split(train, shape, "training")?;
    if pairs.n_series() != train.n
        || pairs.classes != classes
        || pairs.labels.iter().zip(&train.labels).any(|(&a, &b)| a as usize != b)
    {
        return Err(ModelError::InvalidData(
            "the pairs were expanded from another training split (series count, classes or labels differ)".into(),
        ));
    }

    let device = ctx.device.train_device()?;
    let eval_device = ctx.device.device()?;
    let mut model = spec.build(shape, cfg.seed, &device)?;
    let optim = optimizer(cfg);

    let counts = pairs.counts();
    let w_main = class_coefficients(&counts.main(), spec.coefficients);
    let w1 = class_coefficients(&counts.in1, spec.coefficients);
    let w2 = class_coefficients(&counts.in2, spec.coefficients);
    let xs: Vec<f32> = train.values.iter().map(|&v| v as f32).collect();
    let x_all: Tensor<3> = Tensor::from_data(TensorData::new(xs, [train.n, train.dims, train.len]), &device);

    let fp = fingerprint(spec, cfg, train, pairs);
    let load = |m: CnnTs, bytes: &[u8]| -> Result<CnnTs> {
        let record = burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes.to_vec()))
            .map_err(|e| ModelError::Weights(e.to_string()))?;
        m.try_load_record(record).map_err(|e| ModelError::Weights(e.to_string()))
    };
    let to_bytes = |m: &CnnTs| m.weights_bytes();
    let mut st = LoopState::new(cfg.learning_rate, ctx.checkpoint_dir, fp, &to_bytes);
    let (current, mut optim) = st.resume(optim, |b| load(spec.build(shape, cfg.seed, &eval_device)?, b))?;
    if let Some(w) = current {
        model = load(model, &w)?;
    }

    let p = pairs.len();
    let batch = cfg.batch_size.min(p);
    let k = classes;
    for epoch in st.start_epoch..cfg.epochs {
        let t0 = Instant::now();
        let lr = st.plateau.lr;
        let (_, order) = epoch_order(cfg.seed, epoch, p, cfg.shuffle);
        let mut totals = Totals::default();
        for chunk in order.chunks(batch) {
            let b = chunk.len();
            let pb: Vec<[u32; 2]> = chunk.iter().map(|&q| pairs.pairs[q]).collect();
            let idx = |f: fn(&[u32; 2]) -> u32| -> Tensor<1, Int> {
                Tensor::from_data(TensorData::new(pb.iter().map(|q| f(q) as i64).collect::<Vec<_>>(), [b]), &device)
            };
            let (i_idx, j_idx) = (idx(|q| q[0]), idx(|q| q[1]));
            let label = |s: u32| pairs.labels[s as usize] as usize;
            let same: Vec<usize> = pb.iter().map(|q| usize::from(label(q[0]) == label(q[1]))).collect();
            let (tm, _) = targets(same.iter().copied(), 2, &w_main);
            let (t1, _) = targets(pb.iter().map(|q| label(q[0])), k, &w1);
            let (t2, _) = targets(pb.iter().map(|q| label(q[1])), k, &w2);
            let t = |v: Vec<f32>, w: usize| Tensor::<2>::from_data(TensorData::new(v, [b, w]), &device);
            let y: Tensor<1, Int> =
                Tensor::from_data(TensorData::new(same.iter().map(|&s| s as i64).collect::<Vec<_>>(), [b]), &device);

            let out = model.forward(x_all.clone().select(0, i_idx), x_all.clone().select(0, j_idx));
            let hits = out.main.clone().detach().argmax(1).reshape([b]).equal(y).int().sum();
            let loss = cnn_ts_loss(spec, &out, t(tm, 2), t(t1, k), t(t2, k)).total;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr, model, grads);
            totals.add(loss.detach().mul_scalar(b as f64), hits);
        }
        let (train_loss, train_acc) = totals.means(p as f64).unwrap_or((f64::NAN, 0.0));
        st.end_epoch(
            cfg,
            epoch,
            t0,
            lr,
            (train_loss, train_acc),
            (train_loss, train_acc),
            (&model, &optim),
            || model.valid(),
            &mut progress,
        )?;
    }

    let selected = match (cfg.keep_best, st.best) {
        (true, Some(b)) => b,
        _ => model.valid(),
    };
    let weights = selected.weights_bytes()?;
    Ok(PairTrainOutcome {
        digest: weights_digest(&weights),
        weights,
        history: st.history,
        best_epoch: st.best_epoch,
        best_loss: st.best_loss,
        shape,
        final_lr: st.plateau.lr,
        resumed_from: st.resumed_from,
        coefficients: [w_main, w1, w2],
    })
}

/// Series `from..from + n` of a split as a `[n, dims, len]` tensor.
fn series_tensor(s: &Split, from: usize, n: usize, device: &burn::tensor::Device) -> Tensor<3> {
    let w = s.dims * s.len;
    let v: Vec<f32> = s.values[from * w..(from + n) * w].iter().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(v, [n, s.dims, s.len]), device)
}

/// Same-probabilities of O_m for every test series against every representative:
/// `[n_test][n_reps]`, in batches of about `batch_size` pairs (inference mode).
pub fn same_probabilities(
    model: &CnnTs,
    test: &Split,
    reps: &Split,
    device: &burn::tensor::Device,
    batch_size: usize,
) -> Result<Vec<Vec<f64>>> {
    let shape = model.shape();
    check_split(test, shape, "predicted")?;
    check_split(reps, shape, "representative")?;
    let model = model.clone().valid().to_device(device);
    let r = reps.n;
    let to3 = |s: &Split, from: usize, n: usize| series_tensor(s, from, n, device);
    let reps_x = to3(reps, 0, r);
    let per_batch = (batch_size / r.max(1)).max(1);
    let mut out = Vec::with_capacity(test.n);
    let mut start = 0;
    while start < test.n {
        let b = per_batch.min(test.n - start);
        let ia: Vec<i64> = (0..b * r).map(|q| (q / r) as i64).collect();
        let ib: Vec<i64> = (0..b * r).map(|q| (q % r) as i64).collect();
        let ia = Tensor::<1, Int>::from_data(TensorData::new(ia, [b * r]), device);
        let ib = Tensor::<1, Int>::from_data(TensorData::new(ib, [b * r]), device);
        let logits = model.forward_cross(to3(test, start, b), reps_x.clone(), ia, ib);
        let p = burn::tensor::activation::softmax(logits, 1).narrow(1, 1, 1).reshape([b * r]);
        let v: Vec<f32> = p
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| ModelError::InvalidData(format!("{e:?}")))?;
        out.extend(v.chunks(r).map(|row| row.iter().map(|&x| x as f64).collect()));
        start += b;
    }
    Ok(out)
}

/// Learned features of each TEST series, for the report's t-SNE figures.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesFeatures {
    /// GAP of Block 1 on the series (what O_1 classifies), `[n][F1]`.
    pub o1: Vec<Vec<f64>>,
    /// GAP after Block 4 (what O_m judges) of the series paired with each representative in
    /// turn, concatenated in representative order, `[n][R·F4]`: O_m's input is a pair feature,
    /// and this is the series' view of every reference the vote uses.
    pub om: Vec<Vec<f64>>,
}

/// [`SeriesFeatures`] of `test` against `reps` (evaluation mode, batched like [`same_probabilities`]).
pub fn series_features(
    model: &CnnTs,
    test: &Split,
    reps: &Split,
    device: &burn::tensor::Device,
    batch_size: usize,
) -> Result<SeriesFeatures> {
    let shape = model.shape();
    check_split(test, shape, "exported")?;
    check_split(reps, shape, "representative")?;
    let model = model.clone().valid().to_device(device);
    let r = reps.n;
    let to3 = |s: &Split, from: usize, n: usize| series_tensor(s, from, n, device);
    let rows = |t: Tensor<2>| -> Result<Vec<Vec<f64>>> {
        let [_, f] = t.dims();
        let v: Vec<f32> = t
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| ModelError::InvalidData(format!("{e:?}")))?;
        Ok(v.chunks(f.max(1)).map(|row| row.iter().map(|&x| x as f64).collect()).collect())
    };
    let h2 = model.features2(to3(reps, 0, r));
    let per_batch = (batch_size / r.max(1)).max(1);
    let mut out = SeriesFeatures { o1: Vec::with_capacity(test.n), om: Vec::with_capacity(test.n) };
    let mut start = 0;
    while start < test.n {
        let b = per_batch.min(test.n - start);
        let h1 = model.features1(to3(test, start, b));
        out.o1.extend(rows(super::cnn_ts::gap(h1.clone()))?);
        let ia: Vec<i64> = (0..b * r).map(|q| (q / r) as i64).collect();
        let ib: Vec<i64> = (0..b * r).map(|q| (q % r) as i64).collect();
        let ia = Tensor::<1, Int>::from_data(TensorData::new(ia, [b * r]), device);
        let ib = Tensor::<1, Int>::from_data(TensorData::new(ib, [b * r]), device);
        let (_, pooled) = model.head_from_difference(h1.select(0, ia) - h2.clone().select(0, ib));
        let pair_rows = rows(pooled)?;
        out.om.extend(pair_rows.chunks(r.max(1)).map(|c| c.concat()));
        start += b;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::pairs::{NearMiss, VoteRule, nearmiss, vote};

    #[test]
    fn series_features_have_one_row_per_series_and_match_the_forward_pass() {
        let dev = burn::tensor::Device::flex();
        let spec = CnnTsSpec { filters: vec![3, 4, 5], kernels: vec![5, 3, 3], ..Default::default() };
        let test = synthetic(7, 16, 1);
        let reps = synthetic(3, 16, 2);
        let shape = ModelShape { dims: 1, len: 16, classes: 2 };
        let model = spec.build(shape, 0, &dev).unwrap();
        let f = series_features(&model, &test, &reps, &dev, 4).unwrap();
        assert_eq!(f.o1.len(), 7);
        assert_eq!(f.om.len(), 7);
        assert!(f.o1.iter().all(|r| r.len() == 3));
        assert!(f.om.iter().all(|r| r.len() == 3 * 5), "R = 3 representatives × F4 = 5");
        // batching does not change the numbers; the pair (series 5, representative 2) agrees with
        // the plain forward pass
        assert_eq!(series_features(&model, &test, &reps, &dev, 1000).unwrap().o1.len(), 7);
        let m = model.clone().valid();
        let one = |s: &Split, i: usize| {
            let w = s.dims * s.len;
            let v: Vec<f32> = s.values[i * w..(i + 1) * w].iter().map(|&x| x as f32).collect();
            Tensor::<3>::from_data(TensorData::new(v, [1, 1, 16]), &dev)
        };
        let out = m.forward(one(&test, 5), one(&reps, 2));
        let gm: Vec<f32> = out.gap_main.into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
        let g1: Vec<f32> = out.gap1.into_data().convert::<f32>().try_into_vec::<f32>().unwrap();
        for (a, b) in f.om[5][2 * 5..3 * 5].iter().zip(&gm) {
            assert!((a - *b as f64).abs() < 1e-4, "{a} vs {b}");
        }
        for (a, b) in f.o1[5].iter().zip(&g1) {
            assert!((a - *b as f64).abs() < 1e-4, "{a} vs {b}");
        }
    }

    /// Class 0: a rising ramp, class 1: a falling ramp, both with noise and a random offset.
    fn synthetic(n: usize, len: usize, seed: u64) -> Split {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        let mut values = Vec::new();
        let mut labels = Vec::new();
        for i in 0..n {
            let c = i % 2;
            let off = r.random::<f64>() - 0.5;
            for t in 0..len {
                let ramp = t as f64 / len as f64 * 2.0 - 1.0;
                let s = if c == 0 { ramp } else { -ramp };
                values.push(s + off * 0.3 + (r.random::<f64>() - 0.5) * 0.4);
            }
            labels.push(c);
        }
        Split { n, dims: 1, len, values, labels }
    }

    fn spec() -> CnnTsSpec {
        CnnTsSpec { filters: vec![8, 8, 8], kernels: vec![5, 3, 3], bn_momentum: 0.8, ..CnnTsSpec::default() }
    }

    fn cfg(epochs: usize) -> TrainConfig {
        TrainConfig { epochs, batch_size: 32, learning_rate: 1e-2, seed: 3, ..TrainConfig::default() }
    }

    #[test]
    fn short_training_separates_two_synthetic_classes() {
        let train = synthetic(12, 24, 1);
        let test = synthetic(20, 24, 2);
        let reps = nearmiss(&train, 2, &NearMiss::default()).unwrap();
        assert_eq!(reps.len(), 4);
        let pairs = PairSet::with_partners(&train.labels, 2, &reps).unwrap();
        let mut seen = 0;
        let out = train_pairs(&spec(), &train, 2, &pairs, &cfg(12), &TrainContext::default(), |r| {
            seen = r.epoch;
            true
        })
        .unwrap();
        assert_eq!(seen, 12);
        assert!(out.history.last().unwrap().train_loss < out.history[0].train_loss, "{:?}", out.history);

        let dev = burn::tensor::Device::flex();
        let model = spec().load(out.shape, &out.weights, &dev).unwrap();
        let rep_split = train.subset(&reps);
        let p = same_probabilities(&model, &test, &rep_split, &dev, 7).unwrap();
        assert_eq!((p.len(), p[0].len()), (20, 4));
        let predicted: Vec<usize> =
            p.iter().map(|row| vote(row, &rep_split.labels, 2, VoteRule::Majority).class).collect();
        let acc = predicted.iter().zip(&test.labels).filter(|(a, b)| a == b).count() as f64 / 20.0;
        assert!(acc >= 0.9, "accuracy {acc}, probabilities {p:?}");

        // batching of inference does not change the probabilities beyond rounding
        let q = same_probabilities(&model, &test, &rep_split, &dev, 1000).unwrap();
        for (a, b) in p.iter().flatten().zip(q.iter().flatten()) {
            assert!((a - b).abs() < 1e-5);
        }
    }

    #[test]
    fn deterministic_resumable_and_checks_its_pairs() {
        let train = synthetic(6, 10, 4);
        let pairs = PairSet::all(&train.labels, 2).unwrap();
        let small = CnnTsSpec { filters: vec![3, 3, 3], kernels: vec![3, 3, 3], ..spec() };
        let run = |epochs: usize, dir: Option<&std::path::Path>| {
            let ctx = TrainContext { checkpoint_dir: dir, ..TrainContext::default() };
            train_pairs(&small, &train, 2, &pairs, &TrainConfig { checkpoint_every: 1, ..cfg(epochs) }, &ctx, |_| true)
                .unwrap()
        };
        let a = run(3, None);
        assert_eq!(a.digest, run(3, None).digest, "same seed, same bits");
        // interrupted after 2 epochs and resumed: the same weights as straight through
        let dir = tempfile::tempdir().unwrap();
        let ctx = TrainContext { checkpoint_dir: Some(dir.path()), ..TrainContext::default() };
        let c3 = TrainConfig { checkpoint_every: 1, ..cfg(3) };
        let r = train_pairs(&small, &train, 2, &pairs, &c3, &ctx, |e| e.epoch < 2);
        assert!(matches!(r, Err(ModelError::Cancelled)));
        let b = run(3, Some(dir.path()));
        assert_eq!(b.resumed_from, Some(2));
        assert_eq!(b.digest, a.digest);
        // the same-class pairs (18 of 36) carry as much weight as the different ones
        assert_eq!(a.coefficients[0], vec![1.0, 1.0]);

        let other = PairSet::all(&[0, 1, 1, 0, 1, 0], 2).unwrap();
        let err = train_pairs(&small, &train, 2, &other, &cfg(1), &TrainContext::default(), |_| true);
        assert!(matches!(err, Err(ModelError::InvalidData(_))));
    }
}
