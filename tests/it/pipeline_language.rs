//! Matrix expansion, includes, stdlib fragments, profiles and overrides, on real pipelines.

use crate::common::{Project, repo};
use tscpipe::app;
use tscpipe::stages::Registry;

fn ids(p: &Project, file: &std::path::Path) -> Vec<String> {
    app::load(file, &p.options(), &Registry::builtin()).unwrap().instances.into_iter().map(|i| i.id).collect()
}

#[test]
fn matrix_fans_out_and_gathers_with_excludes_propagating() {
    let p = Project::new();
    let file = p.write(
        "m.toml",
        r#"
[matrix]
dataset = ["GunPoint", "Coffee"]
norm = ["per-series", "none"]
exclude = [{ dataset = "Coffee", norm = "none" }]

[stages.load]
kind = "load"
dataset = "${dataset}"

[stages.norm]
kind = "normalise"
inputs = { data = "load" }
method = "${norm}"

[stages.nn]
kind = "classify"
inputs = { data = "norm" }
label = "1NN-${norm}"

[stages.eval]
kind = "evaluate"
inputs = { predictions = "nn" }

[stages.per_dataset]
kind = "table"
foreach = ["dataset"]
inputs = { results = { gather = "eval", over = ["norm"] } }

[stages.all]
kind = "table"
inputs = { results = "eval" }
"#,
    );
    let pipe = app::load(&file, &p.options(), &Registry::builtin()).unwrap();
    let get = |id: &str| pipe.instances.iter().find(|i| i.id == id).unwrap_or_else(|| panic!("no {id}"));
    assert_eq!(pipe.instances.iter().filter(|i| i.kind == "normalise").count(), 3);
    assert!(pipe.instances.iter().all(|i| i.id != "norm[dataset=Coffee,norm=none]"));
    assert_eq!(get("nn[dataset=GunPoint,norm=none]").params.str("label").unwrap(), "1NN-none");
    assert_eq!(get("per_dataset[dataset=GunPoint]").inputs[0].sources.len(), 2);
    assert_eq!(get("per_dataset[dataset=Coffee]").inputs[0].sources.len(), 1);
    assert_eq!(get("all").inputs[0].sources.len(), 3);
}

#[test]
fn includes_fragments_profiles_and_sets_compose() {
    let mut p = Project::new();
    let file = p.write(
        "inc.toml",
        r#"
[pipeline]
include = ["@stdlib/datasets/univariate.toml"]

[stages.load]
kind = "load"
dataset = "${dataset}"

[stages.nn]
use = "protocols/one_nn_dtw"
inputs = { data = "load" }
window = 0.1

[profiles.quick]
matrix.dataset = ["GunPoint"]
stages.nn.window = 0.2
"#,
    );
    assert_eq!(ids(&p, &file).len(), 8, "4 datasets from the stdlib fragment × 2 stages");
    let pipe = app::load(&file, &p.options(), &Registry::builtin()).unwrap();
    let nn = &pipe.instances.iter().find(|i| i.kind == "classify").unwrap().params;
    assert_eq!(nn.str("distance").unwrap(), "dtw", "from the fragment");
    assert_eq!(nn.f64("window").unwrap(), 0.1, "the stage overrides the fragment");

    let mut opts = p.options();
    opts.load.profile = Some("quick".into());
    let pipe = app::load(&file, &opts, &Registry::builtin()).unwrap();
    assert_eq!(pipe.instances.len(), 2);
    assert_eq!(pipe.instances[1].params.f64("window").unwrap(), 0.2);

    p.sets = vec!["nn.window=5".into(), "matrix.dataset=[\"Coffee\", \"ArrowHead\"]".into()];
    let pipe = app::load(&file, &p.options(), &Registry::builtin()).unwrap();
    assert_eq!(pipe.instances.len(), 4);
    assert_eq!(pipe.instances.iter().find(|i| i.kind == "classify").unwrap().params.i64("window").unwrap(), 5);
}

/// Every shipped pipeline expands, as written and under each profile it declares (the
/// README's first command uses `paper_repro.toml --profile quick`).
#[test]
fn shipped_pipelines_are_valid() {
    let p = Project::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(repo().join("pipelines")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: toml_edit::DocumentMut = text.parse().unwrap();
        let profiles: Vec<String> = doc
            .get("profiles")
            .and_then(|t| t.as_table_like())
            .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
            .unwrap_or_default();
        for profile in std::iter::once(None).chain(profiles.into_iter().map(Some)) {
            let mut opts = p.options();
            opts.load.profile = profile.clone();
            let pipe = app::load(&path, &opts, &Registry::builtin());
            assert!(
                pipe.as_ref().is_ok_and(|e| !e.instances.is_empty()),
                "{} (profile {profile:?}): {}",
                path.display(),
                pipe.err().map(|e| e.to_string()).unwrap_or_default()
            );
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} pipeline/profile pairs found");
}

#[test]
fn graph_renders_dot_and_mermaid() {
    let p = Project::new();
    let file = p.write("small.toml", crate::common::SMALL);
    let pipe = app::load(&file, &p.options(), &Registry::builtin()).unwrap();
    let g = tscpipe::plan::Plan::new(&pipe);
    let dot = g.dot();
    assert!(dot.starts_with("digraph \"small\""));
    assert_eq!(dot.matches(" -> ").count(), 6, "load→nn, nn→eval per dataset, eval→table twice");
    assert!(g.mermaid().contains("-->|results|"));
}
