//! The accelerator path on a wgpu adapter (feature `wgpu`; in CI Mesa's software Vulkan device,
//! lavapipe): every deep model's forward pass equals the CPU backend's with the same weights,
//! short trainings reach the CPU's accuracy band, a killed training resumes from its checkpoint on
//! the device, the adapter enters the cache key, and `--per-device 1` keeps accelerator stages
//! apart. Without an adapter each test prints "skipped: …"; `TSCPIPE_REQUIRE_WGPU=1` (CI) makes
//! that a failure.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tscpipe::app;
use tscpipe::data::dataset::{Dataset, Split};
use tscpipe::data::normalise::{Normalisation, normalise};
use tscpipe::data::{LoadOptions, load_files};
use tscpipe::device::Device;
use tscpipe::exec::events::{CollectSink, Event};
use tscpipe::exec::scheduler::{Outcome, RunOptions};
use tscpipe::models::probe::{self, AdapterType};
use tscpipe::models::{
    Cnn1dSpec, FcnSpec, HybridSpec, LstmFcnSpec, MlpSpec, ModelShape, ModelSpec, ResnetSpec, TrainConfig, TrainContext,
    checkpoint, predict, step_bench, train, weights_bytes,
};
use tscpipe::plan::Status;
use tscpipe::stages::Registry;

use crate::common::{Project, repo};

/// The adapter the tests run on (`wgpu:0`), or `None` (and a printed note) where there is none.
fn device(test: &str) -> Option<Device> {
    let adapters = probe::wgpu_adapters();
    match adapters.first() {
        Some(a) => {
            eprintln!("{test}: on wgpu:0 = {} ({:?}, {})", a.name, a.device_type, a.identity());
            Some(Device::Wgpu(0))
        }
        None if std::env::var_os("TSCPIPE_REQUIRE_WGPU").is_some_and(|v| v == "1") => {
            panic!("TSCPIPE_REQUIRE_WGPU=1 but no wgpu adapter: {}", probe::adapter(0).unwrap_err())
        }
        None => {
            eprintln!("skipped: {test}: no wgpu adapter (apt-get install libvulkan1 mesa-vulkan-drivers)");
            None
        }
    }
}

fn gunpoint() -> Dataset {
    let dir = repo().join("data/GunPoint");
    let mut ds = load_files(
        "GunPoint",
        &dir.join("GunPoint_TRAIN.tsv"),
        &dir.join("GunPoint_TEST.tsv"),
        &LoadOptions::default(),
    )
    .expect("GunPoint");
    normalise(&mut ds, Normalisation::PerSeries);
    ds
}

/// Random series, two channels, four classes (what the forward comparison feeds the models).
fn random_dataset(n: usize, dims: usize, len: usize, seed: u64) -> Dataset {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut split = |n: usize| Split {
        n,
        dims,
        len,
        values: (0..n * dims * len).map(|_| r.random::<f64>() * 2.0 - 1.0).collect(),
        labels: (0..n).map(|i| i % 4).collect(),
    };
    let (train, test) = (split(n), split(n));
    Dataset { name: "random".into(), classes: (0..4).map(|c| c.to_string()).collect(), train, test, validation: None }
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Layer widths of the convolutional models here. cubecl compiles every kernel and, for each new
/// shape, times its candidate kernels on the device: on a software device the paper's widths
/// (128-256-128) make that the bulk of the suite's time on a fresh machine, and a width the
/// tests share is compiled and tuned once.
const WIDTHS: [usize; 3] = [16, 32, 16];

/// Every model of the zoo, its convolutions narrowed to [`WIDTHS`] (their kernel sizes, pooling
/// and recurrent parts as in the papers).
fn every_model() -> Vec<ModelSpec> {
    let lstm_fcn = LstmFcnSpec { filters: WIDTHS.to_vec(), ..LstmFcnSpec::default() };
    vec![
        ModelSpec::LstmFcn(lstm_fcn.clone()),
        ModelSpec::AlstmFcn(lstm_fcn),
        ModelSpec::Fcn(FcnSpec { filters: WIDTHS.to_vec(), ..FcnSpec::default() }),
        ModelSpec::Resnet(ResnetSpec { filters: vec![16, 32, 32], ..ResnetSpec::default() }),
        ModelSpec::Mlp(MlpSpec { hidden: vec![64, 64, 64], ..MlpSpec::default() }),
        ModelSpec::Cnn1d(Cnn1dSpec::default()),
        ModelSpec::Hybrid(HybridSpec::default()),
        ModelSpec::Hybrid(HybridSpec::without_attention()),
    ]
}

/// GunPoint's training split (50 series) in two batches: one batch shape for every training here.
const BATCH: usize = 25;

#[test]
fn forward_outputs_equal_the_cpu_backend_with_the_same_weights() {
    let Some(dev) = device("forward_outputs_equal_the_cpu_backend_with_the_same_weights") else { return };
    let data = random_dataset(20, 2, 64, 1);
    for spec in every_model() {
        let t0 = Instant::now();
        // One CPU epoch first, so the batch norms' running statistics are not the initial ones.
        let cfg = TrainConfig { epochs: 1, batch_size: 10, seed: 3, ..TrainConfig::default() };
        let trained = train(&spec, &data, &cfg, &TrainContext::default(), |_| true).expect("CPU training");
        let shape = ModelShape { dims: 2, len: 64, classes: 4 };
        let cpu = spec.load(shape, &trained.weights, &Device::Cpu.device().unwrap()).unwrap();
        let gpu = spec.load(shape, &trained.weights, &dev.device().unwrap()).unwrap();
        // The weights went to the device and come back unchanged.
        assert_eq!(weights_bytes(&gpu).unwrap(), weights_bytes(&cpu).unwrap(), "{}", spec.name());
        // Inference in batches of 7 (the last one short) on each device.
        let a = predict(&cpu, &data.test, &Device::Cpu, 7).unwrap();
        let b = predict(&gpu, &data.test, &dev, 7).unwrap();
        let flat = |v: &Vec<Vec<f32>>| v.concat();
        let dp = max_abs_diff(&flat(&a.probabilities), &flat(&b.probabilities));
        let df = max_abs_diff(&flat(&a.features), &flat(&b.features));
        assert!(dp <= 1e-4, "{}: probabilities differ by {dp}", spec.name());
        assert!(
            df <= 1e-4 * flat(&a.features).iter().fold(1.0f32, |m, v| m.max(v.abs())),
            "{}: features differ by {df}",
            spec.name()
        );
        match (&a.attention, &b.attention) {
            (Some(x), Some(y)) => {
                let d = max_abs_diff(
                    &x.iter().flatten().flatten().copied().collect::<Vec<_>>(),
                    &y.iter().flatten().flatten().copied().collect::<Vec<_>>(),
                );
                assert!(d <= 1e-4, "{}: attention differs by {d}", spec.name());
            }
            (None, None) => {}
            _ => panic!("{}: attention on one device only", spec.name()),
        }
        eprintln!(
            "{}: probabilities within {dp:.1e}, features {df:.1e} ({:.1} s)",
            spec.name(),
            t0.elapsed().as_secs_f64()
        );
    }
}

/// A short GunPoint training on the CPU and on the device: same initial weights and batches,
/// so the first epoch's loss agrees closely and the test accuracies fall in one band.
fn trains_like_the_cpu(spec: ModelSpec, epochs: usize) {
    let Some(dev) = device(&format!("trains_like_the_cpu({})", spec.name())) else { return };
    let data = gunpoint();
    let cfg = TrainConfig { epochs, batch_size: BATCH, learning_rate: 1e-3, seed: 5, ..TrainConfig::default() };
    let run = |d: Device| {
        let t0 = Instant::now();
        let out = train(&spec, &data, &cfg, &TrainContext { device: d, ..TrainContext::default() }, |_| true)
            .unwrap_or_else(|e| panic!("{}: training on {d}: {e}", spec.name()));
        let m = spec.load(out.shape, &out.weights, &Device::Cpu.device().unwrap()).unwrap();
        let acc = predict(&m, &data.test, &Device::Cpu, 64).unwrap().accuracy(&data.test.labels);
        eprintln!(
            "{} on {d}: {epochs} epochs in {:.1} s, losses {:?}, test accuracy {acc:.3}",
            spec.name(),
            t0.elapsed().as_secs_f64(),
            out.history.iter().map(|r| (r.train_loss * 1e4).round() / 1e4).collect::<Vec<_>>()
        );
        (out, acc)
    };
    let (cpu, cpu_acc) = run(Device::Cpu);
    let (gpu, gpu_acc) = run(dev);
    let (l0, l1) = (cpu.history[0].train_loss, gpu.history[0].train_loss);
    assert!(
        (l0 - l1).abs() <= 1e-3 * l0.abs().max(1.0),
        "{}: first-epoch loss {l0} on the CPU, {l1} on {dev}",
        spec.name()
    );
    assert!(
        gpu.history.last().unwrap().train_loss < gpu.history[0].train_loss,
        "{}: the loss falls on {dev}",
        spec.name()
    );
    assert!(
        (cpu_acc - gpu_acc).abs() <= 0.1,
        "{}: test accuracy {cpu_acc} on the CPU, {gpu_acc} on {dev}",
        spec.name()
    );
}

#[test]
fn lstm_fcn_trains_on_gunpoint_like_on_the_cpu() {
    let spec = LstmFcnSpec { filters: WIDTHS.to_vec(), bn_momentum: 0.9, ..LstmFcnSpec::default() };
    trains_like_the_cpu(ModelSpec::LstmFcn(spec), 6);
}

#[test]
fn fcn_trains_on_gunpoint_like_on_the_cpu() {
    trains_like_the_cpu(
        ModelSpec::Fcn(FcnSpec { filters: WIDTHS.to_vec(), bn_momentum: 0.9, ..FcnSpec::default() }),
        6,
    );
}

#[test]
fn a_killed_training_resumes_from_its_checkpoint_on_the_device() {
    let Some(dev) = device("a_killed_training_resumes_from_its_checkpoint_on_the_device") else { return };
    let data = gunpoint();
    let spec = ModelSpec::LstmFcn(LstmFcnSpec { filters: WIDTHS.to_vec(), ..LstmFcnSpec::default() });
    let cfg = TrainConfig { epochs: 5, batch_size: BATCH, seed: 9, checkpoint_every: 2, ..TrainConfig::default() };
    let dir = tempfile::tempdir().unwrap();
    let ctx = TrainContext { device: dev, checkpoint_dir: Some(dir.path()), ..TrainContext::default() };
    // The process dies during epoch 3: no checkpoint is written on the way out, the one of
    // epoch 2 is what is left.
    let killed = std::panic::catch_unwind(AssertUnwindSafe(|| {
        train(&spec, &data, &cfg, &ctx, |r| if r.epoch == 3 { panic!("killed") } else { true })
    }));
    assert!(killed.is_err());
    assert_eq!(checkpoint::epoch(dir.path()).unwrap(), Some(2));
    let mut seen = Vec::new();
    let resumed = train(&spec, &data, &cfg, &ctx, |r| {
        seen.push(r.epoch);
        true
    })
    .unwrap();
    assert_eq!(resumed.resumed_from, Some(2));
    assert_eq!(seen, [3, 4, 5]);
    // The same run without the kill, on the device: the resumed history continues it.
    let full = train(&spec, &data, &cfg, &TrainContext { device: dev, ..TrainContext::default() }, |_| true).unwrap();
    assert_eq!(resumed.history.len(), 5);
    for (a, b) in resumed.history.iter().zip(&full.history) {
        assert!(
            (a.train_loss - b.train_loss).abs() <= 1e-4 * b.train_loss.max(1.0),
            "epoch {}: {a:?} vs {b:?}",
            a.epoch
        );
        assert_eq!(a.lr, b.lr);
    }
    assert_eq!(resumed.best_epoch, full.best_epoch);
}

/// burn restores a checkpoint's optimizer state on its default device and moves it at the next
/// step; with wgpu compiled in that default would be a second client of the adapter (whose
/// readback could wait forever on lavapipe) or, for a CPU training, a GPU. The library sets it
/// to the host before main (src/models/device.rs); no adapter is needed to check that.
#[test]
fn burn_restores_optimizer_state_on_the_host() {
    assert_eq!(std::env::var("BURN_DEVICE").as_deref(), Ok("flex"));
    assert!(burn::tensor::Device::default() == burn::tensor::Device::flex());
}

/// Two trainings (seeds 1 and 2) of a small FCN on GunPoint ([`WIDTHS`], [`BATCH`]).
const TWO_TRAININGS: &str = r#"
[pipeline]
name = "two"
main = "train"

[matrix]
seed = [1, 2]

[stages.load]
kind = "load"
dataset = "GunPoint"

[stages.train]
kind = "train"
inputs = { data = "load" }
model = { model = "fcn", filters = [16, 32, 16] }
epochs = 2
batch_size = 25
seed = "${seed}"
"#;

fn run_on(p: &Project, pipeline: &Path, run: RunOptions) -> Vec<Event> {
    let sink = CollectSink::default();
    let out = app::run(pipeline, &p.options(), &run, &Registry::builtin(), &sink, &AtomicBool::new(false))
        .unwrap_or_else(|e| panic!("run failed: {e}"));
    for r in &out.summary.results {
        if let Outcome::Failed(e) = &r.outcome {
            panic!("{} failed: {e}", r.id);
        }
    }
    sink.0.into_inner().unwrap()
}

#[test]
fn the_adapter_enters_the_key_and_one_device_runs_one_stage_at_a_time() {
    let Some(dev) = device("the_adapter_enters_the_key_and_one_device_runs_one_stage_at_a_time") else { return };
    let a = probe::adapter(0).unwrap();
    let id = dev.backend_id();
    assert!(id.contains(&a.name) && id.contains(&a.driver) && id.starts_with("burn-0.22.1/wgpu/"), "{id}");
    assert_ne!(id, Device::Cpu.backend_id());
    // cubecl's autotuning level decides among kernels; fusion is off in this build.
    if std::env::var_os("CUBECL_AUTOTUNE_LEVEL").is_none() {
        assert!(id.ends_with("/autotune-balanced/unfused"), "{id}");
    }

    let p = Project::new();
    let pipeline = p.write("two.toml", TWO_TRAININGS);
    // Two workers, two trainings, one device slot: the second starts after the first ends.
    let events = run_on(
        &p,
        &pipeline,
        RunOptions { jobs: 2, device: dev, per_device: 1, keep_going: false, ..RunOptions::default() },
    );
    let mut running = 0;
    let mut started = Vec::new();
    for e in &events {
        match e {
            Event::Started { id, device } if id.starts_with("train") => {
                assert_eq!(device, &dev.to_string());
                running += 1;
                started.push(id.clone());
                assert_eq!(running, 1, "two trainings on {dev} at once: {events:?}");
            }
            Event::Finished { id, .. } if id.starts_with("train") => running -= 1,
            _ => {}
        }
    }
    assert_eq!(started.len(), 2, "{events:?}");

    // Cached for this device; the CPU (another backend) would train again.
    let expanded = app::load(&pipeline, &p.options(), &Registry::builtin()).unwrap();
    let status = |d: Device| {
        let rows = p.options().status(&expanded, &Registry::builtin(), &d).unwrap();
        rows.into_iter().filter(|r| r.kind == "train").map(|r| r.status).collect::<Vec<_>>()
    };
    assert!(status(dev).iter().all(|s| *s == Status::Cached));
    assert!(status(Device::Cpu).iter().all(|s| matches!(s, Status::Run { .. })));
    // `auto` never picks a software adapter.
    if a.device_type == AdapterType::Cpu {
        assert_ne!(probe::auto(), dev);
    }
}

/// `tscpipe devices` lists the adapter, and the step benchmark behind `devices --bench` runs on
/// it. The command's own `--bench` runs the paper's 128-256-128 LSTM-FCN, whose kernels no other
/// test here uses: on a fresh machine tuning them on lavapipe takes over 13 minutes, so the
/// command benchmarks the CPU and the device times the [`WIDTHS`] model at [`BATCH`] (the
/// trainings' kernels).
#[test]
fn devices_lists_the_adapter_and_benchmarks_a_step_on_it() {
    let Some(dev) = device("devices_lists_the_adapter_and_benchmarks_a_step_on_it") else { return };
    let a = probe::adapter(0).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tscpipe"))
        .args(["devices", "--bench", "cpu", "--small"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    eprintln!("{text}");
    assert!(text.contains(&format!("wgpu:0     {} ({:?}", a.name, a.device_type)), "{text}");
    assert!(text.contains(&a.driver), "{text}");
    assert!(text.contains(&format!("\nauto       {}", probe::auto())), "{text}");
    let step = text.lines().find_map(|l| l.strip_prefix("step cpu B=50 T=150: ")).expect("a step time");
    assert!(step.trim_end_matches(" ms").parse::<f64>().is_ok_and(|ms| ms > 0.0), "{text}");
    let spec = ModelSpec::LstmFcn(LstmFcnSpec { filters: WIDTHS.to_vec(), ..LstmFcnSpec::default() });
    let ms = step_bench::model_step_ms(&spec, dev, BATCH, 150, 1, 3).unwrap();
    eprintln!("step of LSTM-FCN {WIDTHS:?} on {dev} B={BATCH} T=150: {ms:.1} ms");
    assert!(ms > 0.0);
}
