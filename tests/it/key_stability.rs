//! Cache keys of the shipped pipelines stay what they were: users' caches stay valid.
//!
//! For every `pipelines/*.toml`, under no profile and under each profile it declares, the test
//! expands the pipeline (bundled `data/` and `stdlib/` only, so the environment does not leak in)
//! and computes one key per stage instance with the engine's own `key_inputs`, compared with the
//! keys recorded in `tests/data/keys/<pipeline>[.<profile>].json`.
//!
//! What a key covers:
//! - an instance without upstream instances and without an environment part (e.g. `load`) gets
//!   its **real** cache key (`"exact": true`): kind, version, canonical parameters, the digests of
//!   the files it reads (the bundled datasets);
//! - every other instance gets a **stand-in** key (`"exact": false`): its upstream outputs are
//!   given digests derived from the upstream's own stand-in key and the output's name, and its
//!   environment part (the numeric backend: OpenBLAS or our kernels, AVX-512, the kernels'
//!   revision, which differ per machine) is replaced by a marker saying only whether there is one.
//!   This key changes whenever kind, version, canonical parameters (defaults written out, model
//!   tables canonicalised), input names, the upstream bindings, their matrix coordinates or their
//!   gather order change anywhere upstream — what a refactor of parameters, expansion or keying
//!   could break.
//!
//! Not covered: the digests of computed outputs (a change in the numbers a stage writes changes
//! its dependents' real keys; that needs running) and the backend id itself (`Device::backend_id`).
//!
//! A changed or vanished instance fails the test, with the parameters that differ. Instances that
//! are new (a stage added to a pipeline) are only reported. After a deliberate change (a version
//! bump, a new pipeline), rewrite the records with
//! `TSCPIPE_BLESS_KEYS=1 cargo test --test it key_stability::` and review the diff.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};
use tscpipe::app::{self, Options};
use tscpipe::cache::key::{canonical_json, explain_difference};
use tscpipe::cache::{Manifest, OutputEntry};
use tscpipe::device::Device;
use tscpipe::dsl::{Expanded, PipelineOptions};
use tscpipe::plan::{FileDigests, KeyBlock, Plan, key_inputs};
use tscpipe::stages::Registry;

use crate::common::repo;

/// Pipelines whose keys cannot be computed offline: a `command` stage's managed Python
/// environment (aeon from PyPI) is part of its key, so computing it creates the environment.
/// `bring_your_own.toml` has the same structure without one.
const NEEDS_NETWORK: &[&str] = &["bakeoff_aeon.toml"];

/// What is recorded for one instance.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Recorded {
    kind: String,
    version: u32,
    /// The real cache key, or a stand-in key (see the module doc).
    key: String,
    exact: bool,
    /// Canonical parameters, to say what changed when the key did (not compared themselves).
    params: Json,
}

fn pipelines() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("pipelines"))
        .expect("pipelines/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter(|p| !NEEDS_NETWORK.iter().any(|n| p.ends_with(n)))
        .collect();
    v.sort();
    v
}

/// The profiles a pipeline file declares in `[profiles.NAME]`.
fn profiles(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("read pipeline");
    let doc: toml_edit::DocumentMut = text.parse().expect("pipeline parses as TOML");
    doc.get("profiles")
        .and_then(|p| p.as_table_like())
        .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
        .unwrap_or_default()
}

/// A stand-in manifest for an upstream instance: one digest per declared output that every run
/// writes. Optional outputs are left out, as a run that does not write them leaves them out of
/// its manifest: a kind that gains an optional output keeps its dependents' keys.
fn stand_in(id: &str, key: &str, outputs: &[tscpipe::stages::spec::OutputSpec]) -> Manifest {
    let outputs = outputs
        .iter()
        .filter(|o| !o.optional)
        .map(|o| {
            let digest = blake3::hash(format!("stand-in\0{key}\0{}", o.name).as_bytes()).to_hex().to_string();
            (o.name.to_string(), OutputEntry { digest, size: 0, volatile: o.volatile })
        })
        .collect();
    Manifest {
        format: 1,
        key: key.to_string(),
        key_inputs: tscpipe::cache::KeyInputs {
            kind: String::new(),
            version: 0,
            params: Json::Null,
            inputs: BTreeMap::new(),
            env: None,
        },
        sources: BTreeMap::new(),
        outputs,
        instance: id.to_string(),
        pipeline: String::new(),
        created_unix: 0,
        duration_ms: 0,
    }
}

fn compute(path: &Path, profile: Option<&str>) -> BTreeMap<String, Recorded> {
    let registry = Registry::builtin();
    let opts = Options {
        data_dirs: vec![repo().join("data")],
        load: PipelineOptions {
            profile: profile.map(str::to_string),
            stdlib_dirs: vec![repo().join("stdlib")],
            ..Default::default()
        },
        ..Options::default()
    };
    let p: Expanded = app::load(path, &opts, &registry).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let env = opts.run_env(&p);
    let files = FileDigests::default();
    let n = p.instances.len();
    let order = Plan::new(&p).order().to_vec();
    let mut resolved: Vec<Option<Manifest>> = vec![None; n];
    let mut out = BTreeMap::new();
    for i in order {
        let inst = &p.instances[i];
        let kind = registry.get(&inst.kind).expect("known kind");
        let mut ki = match key_inputs(&p, i, kind, &resolved, &Device::Cpu, &env, &files) {
            Ok(k) => k.inputs,
            Err(KeyBlock::Source(e)) => panic!("{}: cannot read its source files: {e}", inst.id),
            Err(KeyBlock::Upstream) => panic!("{}: upstream not resolved (walk out of order?)", inst.id),
        };
        let has_upstream = inst.inputs.iter().any(|b| !b.sources.is_empty());
        let exact = !has_upstream && ki.env.is_none();
        if ki.env.is_some() {
            ki.env = Some("<environment>".into());
        }
        let key = ki.key();
        resolved[i] = Some(stand_in(&inst.id, &key, &kind.outputs()));
        let params = serde_json::from_str(&canonical_json(&ki.params)).expect("canonical JSON parses");
        out.insert(inst.id.clone(), Recorded { kind: ki.kind, version: ki.version, key, exact, params });
    }
    out
}

fn record_path(path: &Path, profile: Option<&str>) -> PathBuf {
    let stem = path.file_stem().expect("stem").to_string_lossy().into_owned();
    let name = match profile {
        Some(p) => format!("{stem}.{p}.json"),
        None => format!("{stem}.json"),
    };
    repo().join("tests/data/keys").join(name)
}

/// What differs between a recorded and a recomputed instance, in words.
fn why(old: &Recorded, new: &Recorded) -> String {
    let ki = |r: &Recorded| tscpipe::cache::KeyInputs {
        kind: r.kind.clone(),
        version: r.version,
        params: r.params.clone(),
        inputs: BTreeMap::new(),
        env: None,
    };
    let mut why = explain_difference(&ki(old), &ki(new), &BTreeMap::new());
    if old.exact != new.exact {
        why.push(format!("exact {} → {}", old.exact, new.exact));
    }
    if why.is_empty() {
        why.push("inputs, upstream or environment marker changed".into());
    }
    why.join("; ")
}

#[test]
fn shipped_pipelines_keep_their_cache_keys() {
    let bless = std::env::var_os("TSCPIPE_BLESS_KEYS").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in pipelines() {
        let mut variants: Vec<Option<String>> = vec![None];
        variants.extend(profiles(&path).into_iter().map(Some));
        for profile in variants {
            let now = compute(&path, profile.as_deref());
            let file = record_path(&path, profile.as_deref());
            let label = file.file_name().expect("name").to_string_lossy().into_owned();
            if bless {
                std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
                let mut text = serde_json::to_string_pretty(&json!(now)).expect("json");
                text.push('\n');
                std::fs::write(&file, text).expect("write record");
                eprintln!("recorded {} keys in {}", now.len(), file.display());
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&file) else {
                failures.push(format!(
                    "{label}: no recorded keys (a new pipeline or profile?): record them with TSCPIPE_BLESS_KEYS=1"
                ));
                continue;
            };
            let before: BTreeMap<String, Recorded> =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            for (id, old) in &before {
                match now.get(id) {
                    None => failures.push(format!("{label}: instance `{id}` is gone")),
                    Some(new) if new.key != old.key || new.exact != old.exact => {
                        failures.push(format!("{label}: `{id}` changed key: {}", why(old, new)))
                    }
                    Some(_) => checked += 1,
                }
            }
            for id in now.keys().filter(|id| !before.contains_key(*id)) {
                eprintln!("{label}: new instance `{id}` (not recorded yet)");
            }
        }
    }
    assert!(failures.is_empty(), "{} cache keys changed:\n{}", failures.len(), failures.join("\n"));
    assert!(bless || checked > 0, "no keys checked");
}

/// One declared parameter as `tscpipe kinds` and the validator see it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct SpecRecord {
    name: String,
    /// `ParamType`'s debug form (enum options included).
    ty: String,
    /// Canonical JSON text: compared as written, never re-parsed into a float.
    default: Option<String>,
    optional: bool,
    doc: String,
}

fn kind_specs() -> BTreeMap<String, Vec<SpecRecord>> {
    Registry::builtin()
        .iter()
        .map(|k| {
            let specs = k
                .params()
                .into_iter()
                .map(|p| SpecRecord {
                    name: p.name.into(),
                    ty: format!("{:?}", p.ty),
                    default: p.default.as_ref().map(canonical_json),
                    optional: p.optional,
                    doc: p.doc.into(),
                })
                .collect();
            (k.name().to_string(), specs)
        })
        .collect()
}

/// The parameter declarations of the built-in kinds (names, types, defaults, optionality, docs,
/// order) stay as recorded in `tests/data/keys/kinds.json`: they decide validation, the written-out
/// defaults (so the keys) and `tscpipe kinds`. A changed or removed parameter fails; a new kind or
/// a parameter added at the end is only reported.
#[test]
fn stage_kinds_keep_their_parameter_declarations() {
    let file = repo().join("tests/data/keys/kinds.json");
    let now = kind_specs();
    if std::env::var_os("TSCPIPE_BLESS_KEYS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        let mut text = serde_json::to_string_pretty(&now).expect("json");
        text.push('\n');
        std::fs::write(&file, text).expect("write record");
        return;
    }
    let text =
        std::fs::read_to_string(&file).expect("tests/data/keys/kinds.json (record it with TSCPIPE_BLESS_KEYS=1)");
    let before: BTreeMap<String, Vec<SpecRecord>> = serde_json::from_str(&text).expect("kinds.json parses");
    let mut failures = Vec::new();
    for (kind, old) in &before {
        let Some(new) = now.get(kind) else {
            failures.push(format!("kind `{kind}` is gone"));
            continue;
        };
        for (i, o) in old.iter().enumerate() {
            match new.get(i) {
                Some(n) if n == o => {}
                Some(n) => failures.push(format!("{kind}: parameter #{i} `{}` was {o:?}, is {n:?}", o.name)),
                None => failures.push(format!("{kind}: parameter `{}` is gone", o.name)),
            }
        }
        for n in new.iter().skip(old.len()) {
            eprintln!("{kind}: new parameter `{}`", n.name);
        }
    }
    for kind in now.keys().filter(|k| !before.contains_key(*k)) {
        eprintln!("new kind `{kind}` (not recorded yet)");
    }
    assert!(failures.is_empty(), "{} parameter declarations changed:\n{}", failures.len(), failures.join("\n"));
}
