//! CNN-TS end to end on bundled data (GunPoint, tiny blocks, a few epochs): pair expansion →
//! CNN-TS and its base network → voting inference → evaluate → table → report; deterministic
//! across caches; the shipped `pipelines/cnn_ts.toml` expands with and without its profile.

use crate::common::{Project, published, repo};
use tscpipe::app;
use tscpipe::dsl::PipelineOptions;
use tscpipe::stages::Registry;

const PIPELINE: &str = r#"
[pipeline]
name = "cnnts"
main = "table"

[stages.load]
kind = "load"
dataset = "GunPoint"

[stages.norm]
kind = "normalise"
inputs = { data = "load" }

[stages.pairs]
kind = "pair_expand"
inputs = { data = "norm" }
per_class = 1

[stages.train_cnnts]
kind = "train_pairs"
inputs = { data = "norm", pairs = "pairs" }
model = { model = "cnn_ts", filters = [4, 4, 4], kernels = [5, 3, 3], bn_momentum = 0.8 }
epochs = 2
batch_size = 25

[stages.train_base]
kind = "train_pairs"
inputs = { data = "norm", pairs = "pairs" }
model = { model = "cnn_ts", filters = [4, 4, 4], kernels = [5, 3, 3], bn_momentum = 0.8, intermediate_targets = false }
epochs = 2
batch_size = 25

[stages.predict_cnnts]
kind = "predict_pairs"
inputs = { model = "train_cnnts", data = "norm" }
label = "CNN-TS"
export_features = true

[stages.predict_base]
kind = "predict_pairs"
inputs = { model = "train_base", data = "norm" }
label = "base"

[stages.eval_cnnts]
kind = "evaluate"
inputs = { predictions = "predict_cnnts" }

[stages.eval_base]
kind = "evaluate"
inputs = { predictions = "predict_base" }

[stages.table]
kind = "table"
inputs = { results = ["eval_cnnts", "eval_base"] }

[stages.report]
kind = "report"
inputs = { tables = "table", trainings = ["train_cnnts", "train_base"], evaluations = ["eval_cnnts"], features = "predict_cnnts" }
tsne_iterations = 300
"#;

fn digest_of(out: &app::RunOutput, id: &str, file: &str) -> String {
    let r = out.summary.results.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no instance {id}"));
    r.manifest.as_ref().expect("completed").outputs[file].digest.clone()
}

#[test]
fn cnn_ts_pipeline_runs_and_is_deterministic() {
    let a = Project::new();
    let first = a.run(&a.write("cnnts.toml", PIPELINE));

    let reps: serde_json::Value = serde_json::from_str(&published(&first, "pairs/representatives.json")).unwrap();
    assert_eq!(reps["per_class"], serde_json::json!([1, 1]));
    assert_eq!(reps["counts"]["total"], 100, "50 series × 2 representatives");

    let table = published(&first, "table/results.md");
    assert!(table.contains("CNN-TS") && table.contains("base"), "{table}");
    let d = digest_of(&first, "eval_cnnts", "metrics.json");
    let blob = a.cache_dir().join("cas").join(&d[..2]).join(&d);
    let eval: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(blob).unwrap()).unwrap();
    assert_eq!(eval["summary"]["total"], 150);

    let html = published(&first, "report/report.html");
    assert!(html.contains("train_cnnts: loss") && html.contains("train_base: learning rate"));

    // exported features: one row per TEST series in every space; O_m = 2 representatives × F4 = 4
    let d = digest_of(&first, "predict_cnnts", "features.json");
    let blob = a.cache_dir().join("cas").join(&d[..2]).join(&d);
    let f: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(blob).unwrap()).unwrap();
    assert_eq!(f["labels"].as_array().unwrap().len(), 150);
    assert_eq!(f["raw"].as_array().unwrap().len(), 150);
    assert_eq!(f["raw"][0].as_array().unwrap().len(), 150, "GunPoint series have 150 points");
    let sets = f["sets"].as_array().unwrap();
    assert_eq!(sets.len(), 2);
    for (set, width) in sets.iter().zip([4, 8]) {
        let rows = set["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 150, "{}", set["name"]);
        assert!(rows.iter().all(|r| r.as_array().unwrap().len() == width), "{}", set["name"]);
    }
    // off when absent: the base network's inference writes none
    let base = first.summary.results.iter().find(|r| r.id == "predict_base").unwrap();
    assert!(!base.manifest.as_ref().unwrap().outputs.contains_key("features.json"));
    // the report projects the raw series and both feature spaces, coloured by class
    assert!(html.contains("t-SNE of the TEST series"), "no t-SNE section");
    for t in
        ["GunPoint: raw TEST series", "CNN-TS on GunPoint: O_1 (Block 1 GAP)", "CNN-TS on GunPoint: O_m (Block 4 GAP"]
    {
        assert!(html.contains(t), "{t} missing from the report");
    }
    assert!(html.matches("nearest-neighbour class purity").count() == 3);

    // the base network really is different: another weights digest
    assert_ne!(digest_of(&first, "train_cnnts", "model.mpk"), digest_of(&first, "train_base", "model.mpk"));
    // another cache, same pipeline: the same bits
    let b = Project::new();
    let again = b.run(&b.write("cnnts.toml", PIPELINE));
    for (id, file) in [
        ("pairs", "pairs.bin"),
        ("train_cnnts", "model.mpk"),
        ("predict_cnnts", "predictions.json"),
        ("predict_cnnts", "features.json"),
        ("report", "report.html"),
    ] {
        assert_eq!(digest_of(&again, id, file), digest_of(&first, id, file), "{id}");
    }
}

#[test]
fn shipped_pipeline_expands_with_and_without_quick() {
    let p = Project::new();
    for profile in [None, Some("quick")] {
        let mut opts = p.options();
        opts.load = PipelineOptions { profile: profile.map(str::to_string), ..Default::default() };
        let e = app::load(&repo().join("pipelines/cnn_ts.toml"), &opts, &Registry::builtin())
            .unwrap_or_else(|e| panic!("{profile:?}: {e}"));
        let train = e.instances.iter().find(|i| i.id == "train_base[dataset=GunPoint]").expect("train_base");
        let model = train.params.get("model").unwrap();
        assert_eq!(model["intermediate_targets"], false);
        assert_eq!(model["share_weights"], false);
        let filters =
            if profile.is_some() { serde_json::json!([16, 32, 32]) } else { serde_json::json!([64, 128, 128]) };
        assert_eq!(model["filters"], filters);
        let predict = e.instances.iter().find(|i| i.id == "predict_cnnts[dataset=GunPoint]").expect("predict_cnnts");
        assert_eq!(predict.params.get("export_features"), Some(&serde_json::json!(true)));
    }
}
