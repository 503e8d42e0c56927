//! Bad pipelines are rejected before anything runs, pointing at file, line and key.

use crate::common::{Project, SMALL};

fn err_of(p: &Project, text: &str) -> String {
    let file = p.write("bad.toml", text);
    p.load_err(&file)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect("needle in text") + 1
}

#[test]
fn unknown_parameter_names_line_and_suggests() {
    let p = Project::new();
    let text = SMALL.replace("distance = \"euclidean\"", "distanse = \"euclidean\"");
    let e = err_of(&p, &text);
    let line = line_of(&text, "distanse");
    assert!(e.contains(&format!("bad.toml:{line}:1")), "{e}");
    assert!(e.contains("unknown parameter `distanse`"), "{e}");
    assert!(e.contains("did you mean `distance`?"), "{e}");
}

#[test]
fn unknown_kind_suggests_the_near_one() {
    let p = Project::new();
    let text = SMALL.replace("kind = \"classify\"", "kind = \"clasify\"");
    let e = err_of(&p, &text);
    assert!(e.contains(&format!("bad.toml:{}:", line_of(&text, "clasify"))), "{e}");
    assert!(e.contains("unknown stage kind `clasify`") && e.contains("did you mean `classify`?"), "{e}");
}

#[test]
fn type_errors_say_what_was_expected() {
    let p = Project::new();
    let text = SMALL.replace("distance = \"euclidean\"", "distance = \"dtw\"\nwindow = \"wide\"");
    let e = err_of(&p, &text);
    assert!(e.contains(&format!("bad.toml:{}:10", line_of(&text, "window ="))), "{e}");
    assert!(e.contains("parameter `window`") && e.contains("expected a number, found a string"), "{e}");

    let text = SMALL.replace("distance = \"euclidean\"", "distance = \"manhattan\"");
    let e = err_of(&p, &text);
    assert!(e.contains("\"manhattan\" is not one of \"euclidean\", \"dtw\""), "{e}");
}

#[test]
fn missing_stage_reference_suggests() {
    let p = Project::new();
    let text = SMALL.replace("inputs = { data = \"load\" }", "inputs = { data = \"lod\" }");
    let e = err_of(&p, &text);
    assert!(e.contains(&format!("bad.toml:{}:", line_of(&text, "\"lod\""))), "{e}");
    assert!(e.contains("reads from `lod`, which is not a stage") && e.contains("did you mean `load`?"), "{e}");
}

#[test]
fn unknown_axis_in_interpolation() {
    let p = Project::new();
    let text = SMALL.replace("dataset = \"${dataset}\"", "dataset = \"${datset}\"");
    let e = err_of(&p, &text);
    assert!(e.contains(&format!("bad.toml:{}:", line_of(&text, "${datset}"))), "{e}");
    assert!(e.contains("`${datset}`") && e.contains("did you mean `dataset`?"), "{e}");
}

#[test]
fn dependency_cycles_are_printed_as_a_path() {
    let p = Project::new();
    let text = r#"
[stages.a]
kind = "normalise"
inputs = { data = "b" }
[stages.b]
kind = "normalise"
inputs = { data = "a" }
"#;
    let e = err_of(&p, text);
    assert!(e.contains("dependency cycle: a -> b -> a") || e.contains("dependency cycle: b -> a -> b"), "{e}");
}

#[test]
fn include_cycles_are_errors() {
    let p = Project::new();
    p.write("one.toml", "[pipeline]\ninclude = [\"two.toml\"]\n");
    p.write("two.toml", "[pipeline]\ninclude = [\"one.toml\"]\n");
    let e = p.load_err(&p.path("one.toml"));
    assert!(e.contains("include cycle") && e.contains("one.toml -> ") && e.contains("two.toml"), "{e}");
    assert!(e.contains("two.toml:2:"), "points at the include line: {e}");
}

#[test]
fn unknown_dataset_says_where_it_looked() {
    let p = Project::new();
    let text = SMALL.replace("[\"ItalyPowerDemand\", \"Coffee\"]", "[\"GunPiont\"]");
    let e = err_of(&p, &text);
    assert!(e.contains("GunPiont"), "{e}");
    assert!(e.contains(&format!("bad.toml:{}:", line_of(&text, "dataset = \"${dataset}\""))), "{e}");
    assert!(e.contains("data"), "lists the folders searched: {e}");
}

#[test]
fn toml_syntax_errors_point_at_the_line() {
    let p = Project::new();
    let text = SMALL.replace("label = \"1NN-ED\"", "label = \"1NN-ED");
    let e = err_of(&p, &text);
    assert!(e.contains(&format!("bad.toml:{}:", line_of(&text, "label ="))), "{e}");
}

#[test]
fn unknown_top_level_and_stage_keys() {
    let p = Project::new();
    let e = err_of(&p, &format!("{SMALL}\n[stage.x]\nkind = \"load\"\n"));
    assert!(e.contains("unknown top-level key `stage`") && e.contains("did you mean `stages`?"), "{e}");
    let e = err_of(&p, &SMALL.replace("inputs = { results = \"eval\" }", "inputs = { result = \"eval\" }"));
    assert!(e.contains("unknown input `result`") && e.contains("did you mean `results`?"), "{e}");
}

#[test]
fn missing_required_parameter_and_input() {
    let p = Project::new();
    let e = err_of(&p, &SMALL.replace("dataset = \"${dataset}\"\n", ""));
    assert!(e.contains("needs parameter `dataset`"), "{e}");
    let e = err_of(&p, &SMALL.replace("inputs = { predictions = \"nn\" }\n", ""));
    assert!(e.contains("needs input `predictions`"), "{e}");
}

#[test]
fn set_and_profile_errors_suggest() {
    let mut p = Project::new();
    p.sets = vec!["nnn.label=x".into()];
    let e = err_of(&p, SMALL);
    assert!(e.contains("no stage `nnn`") && e.contains("did you mean `nn`?"), "{e}");
}
