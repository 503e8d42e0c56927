//! The model zoo through the pipeline engine: `pipelines/zoo.toml` expands to every model on every
//! bundled dataset with its paper's protocol (and the quick profile shortens it), and the hybrid
//! CNN-LSTM models run end to end from their stdlib fragments on uni- and multivariate data,
//! with SGD for the variant without attention and the attention over time in the report.

use crate::common::{Project, published, repo};
use serde_json::{Value as Json, json};
use tscpipe::app;
use tscpipe::stages::Registry;

const MODELS: [&str; 7] = ["fcn", "resnet", "mlp", "cnn1d", "hybrid", "hybrid_noatt", "lstm_fcn"];

fn params(ex: &tscpipe::dsl::Expanded, id: &str) -> Json {
    let i = ex.instances.iter().find(|i| i.id == id).unwrap_or_else(|| panic!("no instance {id}"));
    serde_json::to_value(&i.params.0).unwrap()
}

#[test]
fn zoo_pipeline_expands_every_model_on_every_dataset() {
    // Every evaluated method enters the table and the statistics.
    let text = std::fs::read_to_string(repo().join("pipelines/zoo.toml")).expect("zoo.toml");
    for e in ["eval_fcn", "eval_lstm_fcn", "eval_linear", "eval_rbf", "eval_rf", "eval_ed", "eval_dtw"] {
        assert!(text.matches(&format!("\"{e}\"")).count() >= 2, "{e} in the table and the analysis");
    }
    let p = Project::new();
    let path = repo().join("pipelines/zoo.toml");
    let ex = app::load(&path, &p.options(), &Registry::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let datasets = ["GunPoint", "ItalyPowerDemand", "Coffee", "ArrowHead", "BasicMotions"];
    for m in MODELS {
        for d in datasets {
            let id = format!("train_{m}[dataset={d}]");
            assert!(ex.instances.iter().any(|i| i.id == id), "missing {id}");
            assert_eq!(params(&ex, &id)["monitor"], "train_loss", "{id} must not select on TEST");
        }
    }
    let hybrid = params(&ex, "train_hybrid[dataset=GunPoint]");
    assert_eq!((hybrid["epochs"].clone(), hybrid["batch_size"].clone()), (json!(200), json!(64)));
    assert_eq!(hybrid["model"]["attention"], true);
    assert_eq!(hybrid["model"]["adaptive_pool"], 16);
    let noatt = params(&ex, "train_hybrid_noatt[dataset=GunPoint]");
    assert_eq!((noatt["optimizer"].clone(), noatt["lr"].clone()), (json!("sgd"), json!(0.01)));
    assert_eq!((noatt["model"]["pool"].clone(), noatt["model"]["adaptive_pool"].clone()), (json!(2), json!(10)));
    assert_eq!(params(&ex, "train_resnet[dataset=Coffee]")["model"]["filters"], json!([64, 128, 128]));
    assert_eq!(params(&ex, "train_mlp[dataset=Coffee]")["epochs"], 5000);
    // FCN and ResNet export their pooled features for the report's t-SNE; the others keep their keys
    assert_eq!(params(&ex, "predict_fcn[dataset=Coffee]")["export_features"], true);
    assert_eq!(params(&ex, "predict_resnet[dataset=Coffee]")["export_features"], true);
    assert!(params(&ex, "predict_mlp[dataset=Coffee]").get("export_features").is_none());
    for id in [
        "nn_ed[dataset=ArrowHead]",
        "nn_dtw[dataset=BasicMotions]",
        "features[dataset=BasicMotions]",
        "svm_linear[dataset=GunPoint]",
        "svm_rbf[dataset=Coffee]",
        "rf[dataset=ArrowHead]",
        "report",
        "analyze",
        "table",
    ] {
        assert!(ex.instances.iter().any(|i| i.id == id), "missing {id}");
    }

    let mut opts = p.options();
    opts.load.profile = Some("quick".into());
    let quick = app::load(&path, &opts, &Registry::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let fcn = params(&quick, "train_fcn[dataset=GunPoint]");
    assert_eq!(fcn["epochs"], 100);
    assert_eq!(fcn["model"]["filters"], json!([32, 64, 32]));
    assert_eq!(params(&quick, "train_hybrid_noatt[dataset=Coffee]")["optimizer"], "sgd");
}

const HYBRIDS: &str = r#"
[pipeline]
name = "hybrids"
main = "table"

[matrix]
dataset = ["ItalyPowerDemand", "BasicMotions"]

[stages.load]
kind = "load"
dataset = "${dataset}"

[stages.norm]
kind = "normalise"
inputs = { data = "load" }
method = "per-series"

[stages.train_att]
use = ["models/hybrid", "protocols/hybrid_writeup"]
inputs = { data = "norm" }
epochs = 3

[stages.train_sgd]
use = ["models/hybrid_no_attention", "protocols/hybrid_writeup_sgd"]
inputs = { data = "norm" }
epochs = 3
momentum = 0.9

[stages.predict_att]
kind = "predict"
inputs = { model = "train_att", data = "norm" }
label = "Hybrid-Att"

[stages.predict_sgd]
kind = "predict"
inputs = { model = "train_sgd", data = "norm" }
label = "Hybrid"
export_features = true

[stages.eval_att]
kind = "evaluate"
inputs = { predictions = "predict_att" }

[stages.eval_sgd]
kind = "evaluate"
inputs = { predictions = "predict_sgd" }

[stages.table]
kind = "table"
inputs = { results = ["eval_att", "eval_sgd"] }

[stages.report]
kind = "report"
inputs = { tables = "table", trainings = ["train_att", "train_sgd"], evaluations = ["eval_att"], attention = "predict_att", features = "predict_sgd" }
tsne_iterations = 250
"#;

/// An output file of one instance, read from the cache (only the table and report are published).
fn output_json(p: &Project, out: &app::RunOutput, id: &str, file: &str) -> Json {
    let cache = tscpipe::cache::Cache::open(p.cache_dir()).unwrap();
    let m = out.summary.manifest_of(id).unwrap_or_else(|| panic!("no manifest of {id}"));
    let entry = m.outputs.get(file).unwrap_or_else(|| panic!("{id} has no {file}"));
    serde_json::from_str(&std::fs::read_to_string(cache.blob_path(&entry.digest)).unwrap()).unwrap()
}

#[test]
fn hybrid_models_run_from_stdlib_fragments_with_attention_over_time() {
    let p = Project::new();
    let out = p.run(&p.write("hybrids.toml", HYBRIDS));

    // The SGD variant trained with SGD (and says so in its summary); Adam's summary is unchanged.
    let sgd = output_json(&p, &out, "train_sgd[dataset=BasicMotions]", "train.json");
    assert_eq!((sgd["config"]["optimizer"].clone(), sgd["config"]["momentum"].clone()), (json!("sgd"), json!(0.9)));
    assert_eq!(sgd["shape"]["dims"], 6, "BasicMotions is 6-dimensional");
    let att = output_json(&p, &out, "train_att[dataset=ItalyPowerDemand]", "train.json");
    assert!(att["config"].get("optimizer").is_none());

    // attention.json: one distribution over the 16 pooled steps per test series, axis "time".
    for d in ["ItalyPowerDemand", "BasicMotions"] {
        let a = output_json(&p, &out, &format!("predict_att[dataset={d}]"), "attention.json");
        assert_eq!(a["axis"], "time");
        let w = a["weights"].as_array().unwrap();
        assert!(!w.is_empty());
        for series in w {
            let rows = series.as_array().unwrap();
            assert_eq!(rows.len(), 1);
            let steps: Vec<f64> = serde_json::from_value(rows[0].clone()).unwrap();
            assert_eq!(steps.len(), 16);
            assert!((steps.iter().sum::<f64>() - 1.0).abs() < 1e-5);
        }
    }

    // features.json (export_features = true): one row per TEST series, next to the raw series
    for (d, n) in [("ItalyPowerDemand", 1029), ("BasicMotions", 40)] {
        let f = output_json(&p, &out, &format!("predict_sgd[dataset={d}]"), "features.json");
        assert_eq!(f["labels"].as_array().unwrap().len(), n, "{d}");
        assert_eq!(f["raw"].as_array().unwrap().len(), n, "{d}");
        let rows = f["sets"][0]["rows"].as_array().unwrap();
        assert_eq!(rows.len(), n, "{d}");
        let w = rows[0].as_array().unwrap().len();
        assert!(w > 0 && rows.iter().all(|r| r.as_array().unwrap().len() == w), "{d}");
    }
    let att_manifest = out.summary.manifest_of("predict_att[dataset=BasicMotions]").unwrap();
    assert!(!att_manifest.outputs.contains_key("features.json"), "off when absent");

    let html = published(&out, "report/report.html");
    for t in [
        "ItalyPowerDemand: raw TEST series",
        "Hybrid on ItalyPowerDemand: features before the final dense layer",
        "BasicMotions: raw TEST series",
        "Hybrid on BasicMotions: features before the final dense layer",
    ] {
        assert!(html.contains(t), "t-SNE figure {t} missing");
    }
    assert!(html.contains("Where the attention model looks"));
    assert!(html.contains("Hybrid-Att on BasicMotions: attention over 16 pooled time steps"), "time attention figure");
    assert!(html.contains("pooled time step"));
    assert!(!html.contains("attention per channel"), "the hybrid's weights are not per channel");
}
