//! MiniRocket and the ridge classifier against their references (fixtures from
//! `tests/data/rocket/make_reference.py`: a NumPy transcription of the authors' deterministic
//! MiniRocket and scikit-learn's RidgeClassifierCV), and the stage kinds end to end.

use crate::common::{Project, published, ran, repo};
use serde_json::Value;
use tscpipe::classic::minirocket::{BiasMode, MiniRocket};
use tscpipe::classic::ridge::{GcvMode, default_alphas, ridge_fit_predict};
use tscpipe::data::{Dataset, LoadOptions, load_files};

fn load_tsv(name: &str) -> Dataset {
    let dir = repo().join("data").join(name);
    load_files(
        name,
        &dir.join(format!("{name}_TRAIN.tsv")),
        &dir.join(format!("{name}_TEST.tsv")),
        &LoadOptions::default(),
    )
    .expect("dataset")
}

fn fixture(file: &str) -> Value {
    let p = repo().join("tests/data/rocket").join(file);
    serde_json::from_str(&std::fs::read_to_string(&p).expect("fixture")).expect("json")
}

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number") as f32).collect()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array().expect("array").iter().map(|x| x.as_u64().expect("integer") as usize).collect()
}

/// Coefficients equal to 1e-6 relative (relative to the largest one for those near zero).
fn assert_coef(name: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{name}: coefficient count");
    let big = want.iter().fold(0f64, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-6 * w.abs().max(1e-3 * big), "{name}: coef[{i}] tscpipe {g} vs scikit-learn {w}");
    }
}

fn check_ridge(name: &str, r: &tscpipe::classic::ridge::RidgeFitPredict, want: &Value) {
    let alphas = default_alphas();
    assert_eq!(r.model.alpha_index, want["alpha_index"].as_u64().expect("index") as usize, "{name}: alpha");
    assert_eq!(alphas[r.model.alpha_index], want["alpha"].as_f64().expect("alpha"), "{name}: alpha value");
    let best = want["best_score"].as_f64().expect("score");
    let got = r.model.scores[r.model.alpha_index];
    assert!((got - best).abs() <= 1e-6 * best.abs(), "{name}: LOO score {got} vs {best}");
    let coef: Vec<f64> = want["coef"].as_array().expect("coef").iter().flat_map(f64s).collect();
    assert_coef(name, &r.model.coef, &coef);
    for (g, w) in r.model.intercept.iter().zip(f64s(&want["intercept"])) {
        assert!((g - w).abs() <= 1e-6 * w.abs().max(1e-6), "{name}: intercept {g} vs {w}");
    }
    assert_eq!(r.predicted, usizes(&want["predicted"]), "{name}: predictions");
}

#[test]
fn deterministic_minirocket_and_ridge_equal_the_references_on_bundled_series() {
    for name in ["GunPoint", "ItalyPowerDemand", "Coffee", "ArrowHead"] {
        let want = fixture(&format!("dv_{name}.json"));
        let ds = load_tsv(name);
        let m = MiniRocket::fit(
            &ds.train.values,
            ds.train.n,
            1,
            ds.train.len,
            10_000,
            32,
            BiasMode::Deterministic { seed: 0 },
        )
        .expect("fit");
        assert_eq!(m.dilations, usizes(&want["dilations"]), "{name}: dilations");
        assert_eq!(m.features_per_dilation, usizes(&want["features_per_dilation"]), "{name}: features per dilation");
        let biases = f32s(&want["biases"]);
        assert_eq!(m.biases.len(), biases.len(), "{name}: feature count");
        for (i, (g, w)) in m.biases.iter().zip(&biases).enumerate() {
            assert_eq!(g, w, "{name}: bias {i}");
        }
        let train = m.transform(&ds.train.values, ds.train.n).expect("transform");
        let test = m.transform(&ds.test.values, ds.test.n).expect("transform");
        let p = m.num_features();
        for (split, rows, first, sums) in
            [("train", &train, "train_first", "train_row_sums"), ("test", &test, "test_first", "test_row_sums")]
        {
            for (j, (g, w)) in rows[..p].iter().zip(f32s(&want[first])).enumerate() {
                assert_eq!(*g, w, "{name} {split}[0] feature {j}");
            }
            // One feature off changes its row's sum by at least 1 / length.
            for (i, w) in f64s(&want[sums]).iter().enumerate() {
                let g: f64 = rows[i * p..(i + 1) * p].iter().map(|v| f64::from(*v)).sum();
                assert!((g - w).abs() < 1e-9, "{name} {split} row {i}: feature sum {g} vs {w}");
            }
        }
        let tr: Vec<f64> = train.iter().map(|v| f64::from(*v)).collect();
        let te: Vec<f64> = test.iter().map(|v| f64::from(*v)).collect();
        let r = ridge_fit_predict(tr, ds.train.n, p, &ds.train.labels, te, &default_alphas()).expect("ridge");
        assert_eq!(r.model.mode, GcvMode::Gram);
        check_ridge(name, &r, &want["ridge"]);
        let acc = r.predicted.iter().zip(&ds.test.labels).filter(|(a, b)| a == b).count() as f64 / ds.test.n as f64;
        let want_acc = want["test_accuracy"].as_f64().expect("accuracy");
        assert!((acc - want_acc).abs() < 1e-12, "{name}: accuracy {acc} vs {want_acc}");
    }
}

#[test]
fn ridge_equals_scikit_learn_on_synthetic_matrices() {
    let want = fixture("ridge_synthetic.json");
    let mut modes = Vec::new();
    for (k, case) in want["cases"].as_array().expect("cases").iter().enumerate() {
        let (n, p) = (case["n"].as_u64().expect("n") as usize, case["p"].as_u64().expect("p") as usize);
        let y = usizes(&case["y"]);
        let r = ridge_fit_predict(f64s(&case["x"]), n, p, &y, f64s(&case["x_test"]), &default_alphas()).expect("ridge");
        modes.push(r.model.mode);
        check_ridge(&format!("case {k}"), &r, case);
    }
    // Both decompositions are exercised.
    assert!(modes.contains(&GcvMode::Svd) && modes.contains(&GcvMode::Gram), "{modes:?}");
}

const PIPELINE: &str = r#"
[pipeline]
name = "rocket"
main = "table"

[matrix]
dataset = ["GunPoint", "BasicMotions"]

[stages.load]
kind = "load"
dataset = "${dataset}"

[stages.mr]
use = "protocols/minirocket"
inputs = { data = "load" }
num_features = 2000

[stages.features]
kind = "transform"
inputs = { data = "load" }
method = "minirocket"
num_features = 2000

[stages.ridge]
kind = "features_classify"
inputs = { features = "features" }
classifier = "ridge_cv"
label = "MR-ridge"

[stages.eval_mr]
kind = "evaluate"
inputs = { predictions = "mr" }

[stages.eval_ridge]
kind = "evaluate"
inputs = { predictions = "ridge" }

[stages.table]
kind = "table"
inputs = { results = ["eval_mr", "eval_ridge"] }
metric = "accuracy"
"#;

#[test]
fn minirocket_stages_classify_bundled_data_and_cache_the_features() {
    let mut p = Project::new();
    p.data_dirs = vec![repo().join("data")];
    let file = p.write("rocket.toml", PIPELINE);
    let out = p.run(&file);
    let csv = published(&out, "table/results.csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next().expect("header"), "dataset,MiniRocket,MR-ridge");
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let (a, b): (f64, f64) = (cells[1].parse().expect("acc"), cells[2].parse().expect("acc"));
        // The fragment and the two-stage route are the same computation.
        assert_eq!(a, b, "{line}");
        assert!(a >= 0.95, "{line}");
    }
    // Another classifier on the cached features reruns only the classifier (and what follows).
    let edited = PIPELINE.replace("classifier = \"ridge_cv\"", "classifier = \"ridge_cv\"\nalphas = [0.1, 1.0, 10.0]");
    let file = p.write("rocket.toml", &edited);
    let out = p.run(&file);
    let again = ran(&out);
    assert!(again.iter().all(|id| !id.starts_with("features") && !id.starts_with("mr")), "{again:?}");
    assert!(again.iter().any(|id| id.starts_with("ridge")), "{again:?}");
}

#[test]
fn bad_rocket_parameters_are_located() {
    let p = Project::new();
    let file = p.write("bad.toml", &PIPELINE.replace("method = \"minirocket\"", "method = \"minirockett\""));
    let err = p.load_err(&file);
    assert!(err.contains("minirocket"), "{err}");
}

/// The published means over 30 resamples (the authors' results files): MiniRocket, MultiRocket,
/// Hydra.
const PUBLISHED: [(&str, [f64; 3]); 4] = [
    ("GunPoint", [0.992, 0.998, 0.998]),
    ("ItalyPowerDemand", [0.960, 0.964, 0.962]),
    ("Coffee", [0.999, 1.0, 0.998]),
    ("ArrowHead", [0.881, 0.895, 0.870]),
];

/// Opt-in (`TSCPIPE_ROCKET_RESAMPLES=1`, a few minutes): the mean accuracy over aeon's 30
/// stratified resamples within 0.01 of the published means. Prints the table.
#[test]
fn resample_means_match_the_published_ones() {
    use tscpipe::classic::rocket::{RocketTransform, classify_dataset};
    use tscpipe::data::Split;
    if std::env::var_os("TSCPIPE_ROCKET_RESAMPLES").is_none() {
        eprintln!("skipped: set TSCPIPE_ROCKET_RESAMPLES=1");
        return;
    }
    let res = fixture("resamples.json");
    let methods = [
        RocketTransform::minirocket(0),
        RocketTransform::MultiRocket {
            num_features: 50_000,
            max_dilations_per_kernel: 32,
            bias: BiasMode::Random { seed: 0 },
            first_difference: true,
        },
        RocketTransform::Hydra { k: 8, g: 64, seed: 0 },
    ];
    let mut failures = Vec::new();
    println!("| dataset | MiniRocket | published | MultiRocket | published | Hydra | published |");
    println!("|---|---|---|---|---|---|---|");
    for (name, published) in PUBLISHED {
        let ds = load_tsv(name);
        let all = Split {
            n: ds.train.n + ds.test.n,
            dims: ds.train.dims,
            len: ds.train.len,
            values: [ds.train.values.clone(), ds.test.values.clone()].concat(),
            labels: [ds.train.labels.clone(), ds.test.labels.clone()].concat(),
        };
        let mut means = [0.0; 3];
        let draws = res["datasets"][name].as_array().expect("resamples");
        for (k, r) in draws.iter().enumerate() {
            let mut d = ds.clone();
            d.train = all.subset(&usizes(&r["train"]));
            d.test = all.subset(&usizes(&r["test"]));
            for (m, t) in methods.iter().enumerate() {
                let t = t.with_seed(k as u64);
                let r = classify_dataset(&d, &t, &default_alphas()).expect("classify");
                let acc =
                    r.predicted.iter().zip(&d.test.labels).filter(|(a, b)| a == b).count() as f64 / d.test.n as f64;
                means[m] += acc / draws.len() as f64;
            }
        }
        println!(
            "| {name} | {:.4} | {:.3} | {:.4} | {:.3} | {:.4} | {:.3} |",
            means[0], published[0], means[1], published[1], means[2], published[2]
        );
        for (m, label) in ["MiniRocket", "MultiRocket", "Hydra"].iter().enumerate() {
            if (means[m] - published[m]).abs() > 0.01 {
                failures.push(format!("{name} {label}: {:.4} vs published {:.3}", means[m], published[m]));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}
