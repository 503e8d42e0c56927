//! Resampling identical to aeon 1.6 (`tests/data/resample/reference.json`, made by
//! `tests/data/resample/make_reference.py`), the `resample` stage, the `range` matrix axis and the
//! resample column of the results files.

use std::path::PathBuf;

use serde_json::Value as Json;
use tscpipe::app;
use tscpipe::data::resample::{aeon_label, resample, resample_indices, stratified_indices};
use tscpipe::data::{Dataset, LengthPolicy, LoadOptions, load_files};
use tscpipe::stages::Registry;

use crate::common::{Project, published, repo};

fn reference() -> Json {
    let p = repo().join("tests/data/resample/reference.json");
    serde_json::from_str(&std::fs::read_to_string(&p).expect("read reference.json")).expect("reference.json")
}

/// The dataset files aeon read for the reference (`.ts` where the archive has them).
fn dataset(name: &str) -> Dataset {
    let (dir, ext, length) = match name {
        "VarLenToy" => (repo().join("tests/data/resample/VarLenToy"), "ts", LengthPolicy::PadZero),
        "Coffee" => (repo().join("data/Coffee"), "tsv", LengthPolicy::Error),
        _ => (repo().join("data").join(name), "ts", LengthPolicy::Error),
    };
    let file = |split: &str| -> PathBuf { dir.join(format!("{name}_{split}.{ext}")) };
    let opts = LoadOptions { length, ..Default::default() };
    load_files(name, &file("TRAIN"), &file("TEST"), &opts).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn indices(v: &Json) -> Vec<usize> {
    v.as_array().expect("index array").iter().map(|x| x.as_u64().expect("index") as usize).collect()
}

/// A pipeline's `load` picks the `.tsv` files where both exist; their labels are the `.ts`
/// files' (which aeon and tsml-eval read), case for case, so the resamples are the same.
#[test]
fn tsv_and_ts_files_hold_the_same_labels_in_the_same_order() {
    for name in ["GunPoint", "ItalyPowerDemand", "ArrowHead"] {
        let dir = repo().join("data").join(name);
        let tsv = load_files(
            name,
            &dir.join(format!("{name}_TRAIN.tsv")),
            &dir.join(format!("{name}_TEST.tsv")),
            &LoadOptions::default(),
        )
        .unwrap();
        let ts = dataset(name);
        assert_eq!(
            (&tsv.classes, &tsv.train.labels, &tsv.test.labels),
            (&ts.classes, &ts.train.labels, &ts.test.labels)
        );
    }
}

/// Every bundled dataset (univariate, multivariate BasicMotions, the variable-length toy), seeds
/// 0–29: the same series, in the same order, in TRAIN and in TEST as aeon's
/// `stratified_resample_data(…, random_state=seed)`; seed 0 of the stage is the archive's split.
#[test]
fn every_bundled_dataset_and_seed_matches_aeon() {
    let doc = reference();
    assert_eq!(doc["aeon"], "1.6.0");
    let datasets = doc["datasets"].as_object().expect("datasets");
    for name in ["GunPoint", "ItalyPowerDemand", "ArrowHead", "Coffee", "BasicMotions", "VarLenToy"] {
        let want = &datasets[name];
        let ds = dataset(name);
        assert_eq!(ds.train.n as u64, want["n_train"].as_u64().unwrap(), "{name}");
        assert_eq!(ds.test.n as u64, want["n_test"].as_u64().unwrap(), "{name}");
        let mut ours: Vec<String> = ds.classes.iter().map(|c| aeon_label(c)).collect();
        ours.sort();
        let theirs: Vec<String> =
            want["classes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
        assert_eq!(ours, theirs, "{name}: class order");
        let resamples = want["resamples"].as_array().unwrap();
        assert_eq!(resamples.len(), 30);
        for r in resamples {
            let seed = r["seed"].as_u64().unwrap() as u32;
            let (train, test) = (indices(&r["train"]), indices(&r["test"]));
            let got = stratified_indices(&ds.train.labels, &ds.test.labels, &ds.classes, seed).unwrap();
            assert_eq!(got.train, train, "{name} seed {seed}: TRAIN");
            assert_eq!(got.test, test, "{name} seed {seed}: TEST");
            let stage = resample_indices(&ds, seed).unwrap();
            if seed == 0 {
                assert_eq!(stage.train, (0..ds.train.n).collect::<Vec<_>>(), "{name}: resample 0 keeps TRAIN");
                assert_eq!(stage.test, (ds.train.n..ds.train.n + ds.test.n).collect::<Vec<_>>());
            } else {
                assert_eq!(stage, got, "{name} seed {seed}");
            }
        }
    }
}

/// The resampled dataset holds exactly the pooled series the indices name, labels and all.
#[test]
fn resampled_series_are_the_pooled_ones() {
    for name in ["BasicMotions", "VarLenToy"] {
        let ds = dataset(name);
        let (out, idx) = resample(&ds, 7).unwrap();
        assert_eq!(out.classes, ds.classes);
        assert_eq!((out.train.n, out.test.n), (ds.train.n, ds.test.n));
        let pooled = |p: usize| {
            if p < ds.train.n {
                (ds.train.series(p), ds.train.labels[p])
            } else {
                (ds.test.series(p - ds.train.n), ds.test.labels[p - ds.train.n])
            }
        };
        for (i, &p) in idx.train.iter().enumerate() {
            assert_eq!((out.train.series(i), out.train.labels[i]), pooled(p), "{name} TRAIN {i}");
        }
        for (i, &p) in idx.test.iter().enumerate() {
            assert_eq!((out.test.series(i), out.test.labels[i]), pooled(p), "{name} TEST {i}");
        }
        assert_eq!(out.train.class_counts(ds.n_classes()), ds.train.class_counts(ds.n_classes()));
        assert_eq!(resample(&ds, 0).unwrap().0, ds, "resample 0 is the dataset unchanged");
    }
}

const PIPELINE: &str = r#"
[pipeline]
name = "rs"
main = "table"

[matrix]
dataset = ["Coffee", "ItalyPowerDemand"]
resample = { range = [0, 3] }

[stages.load]
kind = "load"
dataset = "${dataset}"

[stages.resample]
kind = "resample"
inputs = { data = "load" }
seed = "${resample}"

[stages.nn]
kind = "classify"
inputs = { data = "resample" }
distance = "euclidean"
label = "1NN-ED"

[stages.dtw]
kind = "classify"
inputs = { data = "resample" }
distance = "dtw"
window = 0.1
label = "1NN-DTW-10%"

[stages.eval]
kind = "evaluate"
inputs = { predictions = "nn" }

[stages.eval_dtw]
kind = "evaluate"
inputs = { predictions = "dtw" }

[stages.table]
kind = "table"
inputs = { results = ["eval", "eval_dtw"] }

[stages.analyze]
kind = "analyze"
inputs = { results = "table" }
"#;

/// The Coffee instances of a kind.
fn ids(p: &Project, file: &std::path::Path, kind: &str) -> Vec<String> {
    let pipe = app::load(file, &p.options(), &Registry::builtin()).unwrap();
    pipe.instances.into_iter().filter(|i| i.kind == kind && i.id.contains("Coffee")).map(|i| i.id).collect()
}

#[test]
fn a_range_axis_expands_half_open_and_sets_replace_it() {
    let mut p = Project::new();
    let file = p.write("rs.toml", PIPELINE);
    assert_eq!(
        ids(&p, &file, "resample"),
        [
            "resample[dataset=Coffee,resample=0]",
            "resample[dataset=Coffee,resample=1]",
            "resample[dataset=Coffee,resample=2]"
        ]
    );
    p.sets = vec!["matrix.resample=[5, 7]".into()];
    assert_eq!(
        ids(&p, &file, "resample"),
        ["resample[dataset=Coffee,resample=5]", "resample[dataset=Coffee,resample=7]"]
    );
    p.sets = vec!["matrix.resample={ range = [10, 16, 3] }".into()];
    assert_eq!(
        ids(&p, &file, "resample"),
        ["resample[dataset=Coffee,resample=10]", "resample[dataset=Coffee,resample=13]"]
    );
    p.sets = vec!["matrix.resample.range=[0, 1]".into()];
    assert_eq!(ids(&p, &file, "resample"), ["resample[dataset=Coffee,resample=0]"]);
    p.sets = vec!["matrix.resample={ range = [3, 0, -1] }".into()];
    assert_eq!(ids(&p, &file, "resample").len(), 3);
}

#[test]
fn a_bad_range_is_a_located_error() {
    let p = Project::new();
    let cases = [
        ("{ range = [0] }", "range needs 2 or 3 integers, found 1"),
        ("{ range = [5, 5] }", "range [5, 5] is empty"),
        ("{ range = [0, 30, 0] }", "the range step may not be 0"),
        ("{ range = [0, 2.5] }", "a range bound: expected an integer, found float"),
        ("{ ragne = [0, 30] }", "unknown key `ragne` in matrix axis `resample`"),
        ("{ range = [0, 1000000000] }", "at most 100000"),
        ("30", "expected an array of values or `{ range = [start, stop] }`, found integer"),
    ];
    for (axis, want) in cases {
        let file = p.write("bad.toml", &PIPELINE.replace("{ range = [0, 3] }", axis));
        let err = p.load_err(&file);
        assert!(err.contains(want), "{axis}: {err}");
        assert!(err.contains("bad.toml:8:"), "{axis}: located at the axis line: {err}");
    }
    let file = p.write("bad.toml", &PIPELINE.replace("seed = \"${resample}\"", "seed = -1"));
    let err = p.load_err(&file);
    assert!(err.contains("seed must be between 0 and 4294967295"), "{err}");
}

#[test]
fn results_files_carry_the_resample_id() {
    let p = Project::new();
    let file = p.write("rs.toml", PIPELINE);
    let out = p.run(&file);
    let long = published(&out, "table/results_long.csv");
    let mut lines = long.lines();
    assert_eq!(
        lines.next().unwrap(),
        "dataset,method,resample,correct,total,n_classes,accuracy,balanced_accuracy,macro_f1,protocol"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2 * 2 * 3, "datasets × methods × resamples");
    let coffee_ed: Vec<&Vec<&str>> = rows.iter().filter(|r| r[0] == "Coffee" && r[1] == "1NN-ED").collect();
    assert_eq!(coffee_ed.iter().map(|r| r[2]).collect::<Vec<_>>(), ["0", "1", "2"]);
    // The wide table is the mean over the resamples.
    let mean: f64 = coffee_ed.iter().map(|r| r[6].parse::<f64>().unwrap()).sum::<f64>() / 3.0;
    let wide = published(&out, "table/results.csv");
    let cell: f64 = wide.lines().nth(1).unwrap().split(',').nth(1).unwrap().parse().unwrap();
    assert!((cell - mean).abs() < 1e-6, "{wide} vs {long}");
    let md = published(&out, "table/results.md");
    assert!(md.contains("mean ± sample standard deviation over 3 resamples"), "{md}");
    assert!(published(&out, "table/results_mean_sd.csv").starts_with("dataset,"));
    // Evaluate's record names its resample; the TEST order is aeon's.
    let cache = tscpipe::cache::Cache::open(p.cache_dir()).unwrap();
    let doc = reference();
    for seed in 0..3 {
        let m = out.summary.manifest_of(&format!("eval[dataset=Coffee,resample={seed}]")).unwrap();
        let v: Json =
            serde_json::from_slice(&std::fs::read(cache.blob_path(&m.outputs["metrics.json"].digest)).unwrap())
                .unwrap();
        assert_eq!(v["summary"]["resample"], seed);
        let m = out.summary.manifest_of(&format!("resample[dataset=Coffee,resample={seed}]")).unwrap();
        let v: Json =
            serde_json::from_slice(&std::fs::read(cache.blob_path(&m.outputs["resample.json"].digest)).unwrap())
                .unwrap();
        if seed > 0 {
            let want = &doc["datasets"]["Coffee"]["resamples"][seed];
            assert_eq!(v["train"], want["train"]);
            assert_eq!(v["test"], want["test"]);
        }
    }
    assert!(published(&out, "analyze/analysis.md").contains("1NN-DTW-10%"));
}

/// Without a resample axis nothing changes: no column, no field.
#[test]
fn without_a_resample_axis_the_files_are_as_before() {
    let p = Project::new();
    let file = p.write("small.toml", crate::common::SMALL);
    let out = p.run(&file);
    let long = published(&out, "table/results_long.csv");
    assert!(long.starts_with("dataset,method,correct,total,"), "{long}");
    assert!(!published(&out, "table/results.md").contains("resample"));
    let cache = tscpipe::cache::Cache::open(p.cache_dir()).unwrap();
    let m = out.summary.manifest_of("eval[dataset=Coffee]").unwrap();
    let text = std::fs::read_to_string(cache.blob_path(&m.outputs["metrics.json"].digest)).unwrap();
    assert!(!text.contains("resample"), "{text}");
}
