//! The `ensemble` kind end to end: members trained over a `member` axis (tiny LITE and
//! InceptionTime networks on GunPoint and the multivariate BasicMotions) are averaged into one
//! classifier whose probabilities are the members' mean; members stay cached one by one; a
//! failing member blocks its ensemble by name; non-deep members (1-NN, MiniRocket's ridge) vote
//! one-hot or by the softmax of their scores; `pipelines/deep_bakeoff.toml` expands as documented.

use serde_json::Value as Json;
use tscpipe::app;
use tscpipe::exec::scheduler::Outcome;
use tscpipe::stages::Registry;

use crate::common::{Project, published, ran, repo};

const MEMBERS: &str = r#"
[pipeline]
name = "members"
main = "table"

[matrix]
dataset = ["GunPoint", "BasicMotions"]
member = { range = [0, 3] }

[stages.load]
kind = "load"
dataset = "${dataset}"

[stages.norm]
kind = "normalise"
inputs = { data = "load" }
method = "per-series"

[stages.train]
use = ["models/lite", "protocols/inception_time"]
inputs = { data = "norm" }
model = { model = "lite", filters = 4, kernel = 8, bn_momentum = 0.5 }
epochs = 4
batch_size = 16
seed = "${member}"

[stages.predict]
kind = "predict"
inputs = { model = "train", data = "norm" }
label = "LITE-member"
publish = true

[stages.ens]
kind = "ensemble"
inputs = { predictions = { gather = "predict", over = ["member"] } }
label = "LITETime-tiny"
publish = true

[stages.eval]
kind = "evaluate"
inputs = { predictions = "ens" }

[stages.table]
kind = "table"
inputs = { results = ["eval"] }
"#;

fn json(text: &str) -> Json {
    serde_json::from_str(text).expect("json")
}

#[test]
fn ensemble_averages_member_probabilities_and_members_stay_cached() {
    let p = Project::new();
    let path = p.write("members.toml", MEMBERS);
    let out = p.run(&path);
    for dataset in ["GunPoint", "BasicMotions"] {
        let ens = json(&published(&out, &format!("ens/dataset={dataset}/predictions.json")));
        let members: Vec<Json> = (0..3)
            .map(|m| json(&published(&out, &format!("predict/dataset={dataset},member={m}/predictions.json"))))
            .collect();
        let scores = ens["scores"].as_array().unwrap();
        assert_eq!(scores.len(), ens["truth"].as_array().unwrap().len());
        for (i, row) in scores.iter().enumerate() {
            let row: Vec<f64> = row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            for (c, v) in row.iter().enumerate() {
                let sum: f64 = members.iter().map(|m| m["scores"][i][c].as_f64().unwrap()).sum();
                // the same sum up to its order (gathered in matrix order, summed in member order)
                assert!((v - sum / 3.0).abs() < 1e-12, "{dataset} series {i} class {c}: {v} vs {}", sum / 3.0);
            }
            // the prediction is the largest average (ties would be reported in ensemble.json)
            let best = (0..row.len()).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            assert_eq!(ens["predicted"][i].as_u64().unwrap() as usize, best);
        }
        assert_eq!(ens["method"], "LITETime-tiny");
        let doc = json(&published(&out, &format!("ens/dataset={dataset}/ensemble.json")));
        assert_eq!(doc["members"].as_array().unwrap().len(), 3);
        assert_eq!(doc["ties"], 0);
    }
    let table = published(&out, "table/results.csv");
    assert!(table.contains("LITETime-tiny"), "{table}");

    // Two members instead of three: every member is reused from the cache, only the ensemble
    // and what follows run again.
    p.write("members.toml", &MEMBERS.replace("range = [0, 3]", "range = [0, 2]"));
    let again = p.run(&path);
    let r = ran(&again);
    assert!(r.iter().all(|id| !id.starts_with("train") && !id.starts_with("predict")), "{r:?}");
    assert!(r.iter().any(|id| id.starts_with("ens[")), "{r:?}");
}

#[test]
fn a_failing_member_blocks_its_ensemble_by_name() {
    let p = Project::new();
    // member 0 trains for 0 epochs, which the training refuses
    let text = MEMBERS
        .replace("dataset = [\"GunPoint\", \"BasicMotions\"]", "dataset = [\"ItalyPowerDemand\"]")
        .replace("epochs = 4", "epochs = \"${member}\"");
    let path = p.write("members.toml", &text);
    let (out, _) = p.try_run(&path).expect("the run itself completes");
    let failed = out.summary.results.iter().find(|r| r.id.starts_with("train[")).expect("train");
    let ens = out.summary.results.iter().find(|r| r.id.starts_with("ens[")).expect("ens");
    let any_failed =
        out.summary.results.iter().any(|r| matches!(&r.outcome, Outcome::Failed(e) if e.contains("epochs")));
    assert!(any_failed, "{:?}", failed.outcome);
    match &ens.outcome {
        Outcome::Skipped(reason) => assert!(reason.contains("member=0"), "{reason}"),
        other => panic!("the ensemble should not run: {other:?}"),
    }
}

const MIXED: &str = r#"
[pipeline]
name = "mixed"
main = "table"

[matrix]
dataset = ["ItalyPowerDemand"]

[stages.load]
kind = "load"
dataset = "${dataset}"

[stages.nn_ed]
use = "protocols/one_nn_ed"
inputs = { data = "load" }

[stages.nn_dtw]
use = "protocols/one_nn_dtw"
inputs = { data = "load" }

[stages.minirocket]
use = "protocols/minirocket"
inputs = { data = "load" }
num_features = 840

[stages.vote]
kind = "ensemble"
inputs = { predictions = ["nn_ed", "nn_dtw", "minirocket"] }
label = "vote"
publish = true

[stages.ridges]
kind = "ensemble"
inputs = { predictions = ["minirocket"] }
non_probabilistic = "softmax"
label = "softmax"
publish = true

[stages.eval]
kind = "evaluate"
inputs = { predictions = "vote" }

[stages.table]
kind = "table"
inputs = { results = ["eval"] }
"#;

#[test]
fn non_probabilistic_members_vote_one_hot_or_by_softmax() {
    let p = Project::new();
    let out = p.run(&p.write("mixed.toml", MIXED));
    let vote = json(&published(&out, "vote/predictions.json"));
    // one-hot votes of three members: every average is a multiple of 1/3, and the prediction is
    // the majority (two classes, three voters: no ties)
    for (row, pred) in vote["scores"].as_array().unwrap().iter().zip(vote["predicted"].as_array().unwrap()) {
        let v: Vec<f64> = row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert!(v.iter().all(|x| [0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0].iter().any(|k| (x - k).abs() < 1e-12)), "{v:?}");
        assert!(v[pred.as_u64().unwrap() as usize] > 0.5, "{v:?}");
    }
    // a single ridge member through softmax keeps its prediction and gets graded probabilities
    let soft = json(&published(&out, "ridges/predictions.json"));
    let graded = soft["scores"].as_array().unwrap().iter().any(|r| {
        let x = r[0].as_f64().unwrap();
        x > 0.0 && x < 1.0 && (x - 0.5).abs() > 1e-9
    });
    assert!(graded);
}

#[test]
fn deep_bakeoff_expands_five_members_per_ensemble_and_its_quick_profile() {
    let p = Project::new();
    let path = repo().join("pipelines/deep_bakeoff.toml");
    let ex = app::load(&path, &p.options(), &Registry::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<&str> = ex.instances.iter().map(|i| i.id.as_str()).collect();
    for stage in ["train_inception", "train_h_inception", "train_lite"] {
        let members = ids.iter().filter(|id| id.starts_with(&format!("{stage}[dataset=GunPoint,"))).count();
        assert_eq!(members, 5 * 30, "{stage}: 5 members × 30 resamples");
    }
    let params = |id: &str| {
        let i = ex.instances.iter().find(|i| i.id == id).unwrap_or_else(|| panic!("no {id}"));
        serde_json::to_value(&i.params.0).unwrap()
    };
    let t = params("train_inception[dataset=Coffee,resample=0,member=3]");
    assert_eq!((t["epochs"].clone(), t["batch_size"].clone(), t["seed"].clone()), (1500.into(), 64.into(), 3.into()));
    assert_eq!((t["lr_factor"].clone(), t["lr_patience"].clone()), (0.5.into(), 50.into()));
    assert_eq!(t["model"]["model"], "inception_time");
    assert_eq!(params("train_h_inception[dataset=Coffee,resample=0,member=0]")["model"]["hybrid"], true);
    assert_eq!(params("train_lite[dataset=Coffee,resample=0,member=0]")["model"]["model"], "lite");
    assert!(ids.contains(&"inception[dataset=ArrowHead,resample=29]"));

    let mut opts = p.options();
    opts.load.profile = Some("quick".into());
    let quick = app::load(&path, &opts, &Registry::builtin()).unwrap_or_else(|e| panic!("{e}"));
    assert!(quick.instances.iter().any(|i| i.id.starts_with("lite[")));
    assert!(quick.instances.len() < ex.instances.len());
}
