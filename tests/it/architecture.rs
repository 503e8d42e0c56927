//! The library's layers look down only: a module may use its own items and those of modules in
//! layers below it, never one beside or above it. Read from the sources: every `crate::<module>`
//! path outside comments counts, in `use` lines and inline alike.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::repo;

/// The layers, lowest first (the table docs/architecture.md describes).
const LAYERS: &[&[&str]] = &[
    // Leaves: helpers, the device type, graph algorithms, HTML pages, t-SNE.
    &["util", "device", "graph", "report", "embed"],
    // TOML with spans and settings; datasets; metrics; the content-hash cache; figures.
    &["config", "settings", "data", "metrics", "cache", "plot"],
    // Classic classifiers and feature extractors.
    &["classic"],
    // CNN-TS pairs.
    &["pairs"],
    // Models (burn) and statistics.
    &["models", "stats"],
    // Stage kinds and their registry.
    &["stages"],
    // The pipeline language (validates against the stage kinds).
    &["dsl"],
    // The plan: instance graph, keys, the walk, status.
    &["plan"],
    // Scheduling and executors, publishing.
    &["exec"],
    // The command line's operations.
    &["app"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The crate modules a source text names as `crate::<name>` (comments skipped).
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push((n + 1, name));
            }
            rest = after;
        }
    }
    out
}

#[test]
fn modules_import_only_from_layers_below() {
    let src = repo().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        let first = rel.components().next().expect("a component").as_os_str().to_string_lossy().into_owned();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(layer) = layer_of(&module) else {
            violations.push(format!("src/{}: module `{module}` is in no layer of LAYERS", rel.display()));
            continue;
        };
        *seen.entry(module.clone()).or_default() += 1;
        let text = std::fs::read_to_string(f).expect("read");
        for (line, used) in crate_paths(&text) {
            // `stages`' parameter macros are exported at the crate root
            let used = match used.as_str() {
                "stage_params" | "param_name" | "__stage_param_spec" | "__stage_param_read" | "__param_type" => {
                    "stages".to_string()
                }
                _ => used,
            };
            if used == module || (module == "config" && used == "settings") {
                continue;
            }
            match layer_of(&used) {
                Some(l) if l < layer => {}
                Some(l) => violations.push(format!(
                    "src/{}:{line}: `{module}` (layer {layer}) uses `crate::{used}` (layer {l})",
                    rel.display()
                )),
                None => violations.push(format!("src/{}:{line}: `crate::{used}` is in no layer", rel.display())),
            }
        }
    }
    assert!(violations.is_empty(), "imports that do not look down:\n{}", violations.join("\n"));
    // The check saw the crate (a moved `src` would make it pass vacuously).
    for m in ["cache", "dsl", "plan", "exec", "stages", "models"] {
        assert!(seen.get(m).is_some_and(|&n| n > 0), "no files of `{m}` found");
    }
}

#[test]
fn the_scan_finds_inline_paths_and_skips_comments() {
    let text = "use crate::cache::Cache;\n// crate::exec::x\nlet d = crate::device::Device::Cpu; // crate::app\n";
    assert_eq!(crate_paths(text), vec![(1, "cache".to_string()), (3, "device".to_string())]);
}

/// The modules of `stages` every kind may use: the traits, parameters, declarations, the files
/// kinds exchange, the reference renderer and the registry. A kind's own file holds its
/// `TypedStage` impl and the conversion of its parameters; what two kinds share lives in one of
/// these or in a domain module below.
const SHARED_STAGE_MODULES: &[&str] = &["kind", "params", "spec", "artifact", "markdown", "registry"];

/// Stage → stage imports not yet moved down, each (importer, imported). Temporary: the ROCKET
/// family's ridge helpers and feature-table files, and the deep models' training files, move
/// in their own changes; the list only shrinks.
const STAGE_IMPORTS_TO_MOVE: &[(&str, &str)] = &[
    ("features_classify", "features"),
    ("features_classify", "rocket_classify"),
    ("rocket_classify", "features_classify"),
    ("rocket_classify", "transform"),
    ("transform", "features"),
    ("finetune", "train"),
    ("predict", "train"),
    ("predict_pairs", "train"),
    ("predict_pairs", "train_pairs"),
    ("train_pairs", "train"),
    ("train_pairs", "pair_expand"),
];

/// The stage modules a source text names as `super::<m>` or `crate::stages::<m>` (comments
/// skipped), among `modules`.
fn stage_paths(text: &str, modules: &[String]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        for prefix in ["super::", "crate::stages::"] {
            let mut rest = code;
            while let Some(i) = rest.find(prefix) {
                let after = &rest[i + prefix.len()..];
                let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if modules.contains(&name) {
                    out.push((n + 1, name));
                }
                rest = after;
            }
        }
    }
    out
}

#[test]
fn stage_files_import_only_the_shared_stage_modules() {
    let dir = repo().join("src/stages");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("src/stages")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    let modules: Vec<String> =
        files.iter().map(|p| p.file_stem().expect("a name").to_string_lossy().into_owned()).collect();
    assert!(modules.len() > 20 && modules.iter().any(|m| m == "analyze"), "stage files not found: {modules:?}");
    let mut violations = Vec::new();
    let mut excused = Vec::new();
    for (f, module) in files.iter().zip(&modules) {
        if module == "mod" {
            continue;
        }
        let text = std::fs::read_to_string(f).expect("read");
        for (line, used) in stage_paths(&text, &modules) {
            if used == *module || SHARED_STAGE_MODULES.contains(&used.as_str()) {
                continue;
            }
            if STAGE_IMPORTS_TO_MOVE.contains(&(module.as_str(), used.as_str())) {
                excused.push((module.clone(), used));
                continue;
            }
            violations.push(format!("src/stages/{module}.rs:{line}: uses the stage module `{used}`"));
        }
    }
    assert!(
        violations.is_empty(),
        "a stage file uses another kind's module (move what they share into a shared stage module or a domain module):\n{}",
        violations.join("\n")
    );
    // An exception that no longer occurs is removed from the list.
    let stale: Vec<_> =
        STAGE_IMPORTS_TO_MOVE.iter().filter(|(a, b)| !excused.iter().any(|(x, y)| x == a && y == b)).collect();
    assert!(stale.is_empty(), "STAGE_IMPORTS_TO_MOVE lists imports that are gone: {stale:?}");
}

#[test]
fn the_stage_scan_finds_stage_modules_only() {
    let modules: Vec<String> = ["table", "kind"].iter().map(|s| s.to_string()).collect();
    let text = "use super::table::X;\n// super::table\nlet k = crate::stages::kind::Params; use super::*;\n";
    assert_eq!(stage_paths(text, &modules), vec![(1, "table".to_string()), (3, "kind".to_string())]);
}
