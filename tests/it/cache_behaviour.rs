//! End-to-end: what reruns after which edit, on real bundled data.

use crate::common::{Project, SMALL, published, ran};
use tscpipe::exec::events::Event;

#[test]
fn second_run_executes_nothing() {
    let p = Project::new();
    let file = p.write("small.toml", SMALL);
    let first = p.run(&file);
    assert_eq!(ran(&first).len(), 7, "2 load + 2 nn + 2 eval + table");
    let second = p.run(&file);
    assert!(ran(&second).is_empty(), "second run ran {:?}", ran(&second));
    assert_eq!(second.summary.cached(), 7);
    assert_eq!(published(&first, "results.csv"), published(&second, "results.csv"));
}

#[test]
fn comments_whitespace_key_order_and_explicit_defaults_change_nothing() {
    let p = Project::new();
    let file = p.write("small.toml", SMALL);
    p.run(&file);
    // Same pipeline, reformatted: comments, blank lines, other key order, defaults written out,
    // an inline table spelled as a table, and a float written as an integer.
    let reformatted = r#"
# a comment
[pipeline]
main = "table"      # trailing comment
name = "small"

[matrix]
dataset = [ "ItalyPowerDemand",
            "Coffee" ]

[stages.load]
dataset = "${dataset}"
kind = "load"
format = "auto"          # the default, written out
length = "error"

[stages.nn]
label = "1NN-ED"
distance = "euclidean"
kind = "classify"
[stages.nn.inputs]
data = "load"

[stages.eval]
kind = "evaluate"
inputs = { predictions = "nn" }

[stages.table]
kind    = "table"
metric  = "accuracy"
inputs  = { results = "eval" }
"#;
    let file = p.write("small.toml", reformatted);
    let out = p.run(&file);
    assert!(ran(&out).is_empty(), "reformatting reran {:?}", ran(&out));
}

#[test]
fn editing_a_downstream_parameter_reruns_only_it_and_its_dependents() {
    let p = Project::new();
    let file = p.write("small.toml", SMALL);
    p.run(&file);
    let edited =
        SMALL.replace("inputs = { predictions = \"nn\" }", "inputs = { predictions = \"nn\" }\nmethod = \"ED\"");
    let file = p.write("small.toml", &edited);
    let out = p.run(&file);
    let mut r = ran(&out);
    r.sort();
    assert_eq!(r, vec!["eval[dataset=Coffee]", "eval[dataset=ItalyPowerDemand]", "table"]);
    assert!(published(&out, "results.csv").starts_with("dataset,ED\n"));
}

#[test]
fn status_says_why_a_stage_reruns() {
    let p = Project::new();
    let file = p.write("small.toml", SMALL);
    p.run(&file);
    let file = p.write("small.toml", &SMALL.replace("label = \"1NN-ED\"", "label = \"ED\""));
    let pipe = tscpipe::app::load(&file, &p.options(), &tscpipe::stages::Registry::builtin()).unwrap();
    let rows = p.options().status(&pipe, &tscpipe::stages::Registry::builtin(), &tscpipe::device::Device::Cpu).unwrap();
    let nn = rows.iter().find(|r| r.id == "nn[dataset=Coffee]").unwrap();
    match &nn.status {
        tscpipe::exec::Status::Run { reasons, .. } => {
            assert_eq!(reasons, &vec!["parameter `label`: \"1NN-ED\" → \"ED\"".to_string()]);
        }
        other => panic!("expected nn to rerun, got {other:?}"),
    }
    let load = rows.iter().find(|r| r.id == "load[dataset=Coffee]").unwrap();
    assert_eq!(load.status, tscpipe::exec::Status::Cached);
    let eval = rows.iter().find(|r| r.id == "eval[dataset=Coffee]").unwrap();
    assert!(matches!(eval.status, tscpipe::exec::Status::Waits { .. }));
}

/// Appends a zero to every decimal number: the same values, other bytes.
fn reformat_numbers(text: &str) -> String {
    text.lines()
        .map(|l| {
            l.split('\t')
                .map(|t| if t.contains('.') && !t.contains(['e', 'E']) { format!("{t}0") } else { t.to_string() })
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn reformatted_data_file_reruns_load_only_and_a_changed_value_reruns_downstream() {
    let mut p = Project::new();
    let src = crate::common::repo().join("data/ItalyPowerDemand");
    for f in ["ItalyPowerDemand_TRAIN.tsv", "ItalyPowerDemand_TEST.tsv"] {
        p.write(&format!("mydata/ItalyPowerDemand/{f}"), &std::fs::read_to_string(src.join(f)).unwrap());
    }
    p.data_dirs = vec![p.path("mydata")];
    let file = p.write("small.toml", &SMALL.replace("[\"ItalyPowerDemand\", \"Coffee\"]", "[\"ItalyPowerDemand\"]"));
    let first = p.run(&file);
    assert_eq!(ran(&first).len(), 4);

    let train = p.path("mydata/ItalyPowerDemand/ItalyPowerDemand_TRAIN.tsv");
    let text = std::fs::read_to_string(&train).unwrap();
    std::fs::write(&train, reformat_numbers(&text)).unwrap();
    let second = p.run(&file);
    assert_eq!(ran(&second), vec!["load[dataset=ItalyPowerDemand]"], "early cutoff after load");

    // Now change one value of the first TRAIN series: everything downstream of load reruns.
    let text = std::fs::read_to_string(&train).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    let mut fields: Vec<&str> = first.split('\t').collect();
    fields[1] = "123.0";
    let changed = format!("{}\n{rest}", fields.join("\t"));
    std::fs::write(&train, changed).unwrap();
    let third = p.run(&file);
    // The nearest distances change, so the predictions file changes and evaluate reruns; the
    // predicted labels (hence the metrics) happen not to, so the table stays cached.
    assert_eq!(
        ran(&third),
        vec!["load[dataset=ItalyPowerDemand]", "nn[dataset=ItalyPowerDemand]", "eval[dataset=ItalyPowerDemand]"]
    );
}

#[test]
fn a_flipped_byte_in_the_cache_is_detected_and_recomputed() {
    let p = Project::new();
    let file = p.write("small.toml", SMALL);
    let first = p.run(&file);
    let cache = tscpipe::cache::Cache::open(p.cache_dir()).unwrap();
    let m = first.summary.manifest_of("nn[dataset=Coffee]").unwrap().clone();
    let blob = cache.blob_path(&m.outputs["predictions.json"].digest);
    flip_byte(&blob);

    let (second, events) = p.try_run(&file).unwrap();
    assert!(events.iter().any(|e| matches!(e, Event::Corrupt { id, .. } if id == "nn[dataset=Coffee]")));
    assert_eq!(ran(&second), vec!["nn[dataset=Coffee]"], "recomputed, and early cutoff spares the rest");
    assert_eq!(published(&first, "results.csv"), published(&second, "results.csv"));

    // `cache verify` finds the same kind of damage.
    let m = second.summary.manifest_of("eval[dataset=Coffee]").unwrap().clone();
    flip_byte(&cache.blob_path(&m.outputs["metrics.csv"].digest));
    let report = cache.verify_all().unwrap();
    assert_eq!(report.blobs_corrupt.len(), 1);
    assert_eq!(report.entries_dropped.len(), 1);
    let third = p.run(&file);
    assert_eq!(ran(&third), vec!["eval[dataset=Coffee]"]);
}

fn flip_byte(path: &std::path::Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    let mut perm = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(path, perm).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn two_runs_on_one_cache_at_once_agree_and_leave_it_valid() {
    let p = Project::new();
    let file = p.write("small.toml", SMALL);
    let (a, b) = std::thread::scope(|s| {
        let h1 = s.spawn(|| p.run(&file));
        let h2 = s.spawn(|| p.run(&file));
        (h1.join().unwrap(), h2.join().unwrap())
    });
    assert!(a.summary.ok() && b.summary.ok());
    // The per-key lock means each entry is computed once between the two runs.
    assert_eq!(ran(&a).len() + ran(&b).len(), 7, "a ran {:?}, b ran {:?}", ran(&a), ran(&b));
    let cache = tscpipe::cache::Cache::open(p.cache_dir()).unwrap();
    let report = cache.verify_all().unwrap();
    assert!(report.entries_dropped.is_empty() && report.blobs_corrupt.is_empty());
    assert_eq!(report.entries_checked, 7);
}

#[test]
fn gc_keeps_what_the_latest_run_uses_and_drops_the_rest() {
    let p = Project::new();
    let file = p.write("small.toml", SMALL);
    p.run(&file);
    let file = p.write("small.toml", &SMALL.replace("label = \"1NN-ED\"", "label = \"ED\""));
    p.run(&file);
    let cache = tscpipe::cache::Cache::open(p.cache_dir()).unwrap();
    assert_eq!(cache.list().len(), 12, "7 + 2 nn + 2 eval + table");
    let r = cache.gc(None).unwrap();
    assert_eq!(r.entries_removed, 5);
    assert_eq!(cache.list().len(), 7);
    assert!(ran(&p.run(&file)).is_empty());
}

#[test]
fn a_failed_stage_is_not_cached_and_keep_going_runs_the_rest() {
    let p = Project::new();
    // Coffee's TEST file is swapped for a broken copy: its load fails, ItalyPowerDemand's does not.
    let src = crate::common::repo().join("data/Coffee");
    p.write("bad/Coffee/Coffee_TRAIN.tsv", &std::fs::read_to_string(src.join("Coffee_TRAIN.tsv")).unwrap());
    p.write("bad/Coffee/Coffee_TEST.tsv", "0\t1.0\t2.0\n1\t1.0\n");
    let mut p = p;
    p.data_dirs = vec![p.path("bad")];
    let file = p.write("small.toml", SMALL);
    let sink = tscpipe::exec::events::CollectSink::default();
    let opts = tscpipe::exec::RunOptions { keep_going: true, ..Default::default() };
    let out = tscpipe::app::run(
        &file,
        &p.options(),
        &opts,
        &tscpipe::stages::Registry::builtin(),
        &sink,
        &Default::default(),
    )
    .unwrap();
    let failed: Vec<_> =
        out.summary.results.iter().filter(|r| matches!(r.outcome, tscpipe::exec::Outcome::Failed(_))).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id, "load[dataset=Coffee]");
    let tscpipe::exec::Outcome::Failed(msg) = &failed[0].outcome else { unreachable!() };
    assert!(msg.contains("Coffee_TEST.tsv:1"), "error names file and line: {msg}");
    assert!(ran(&out).contains(&"eval[dataset=ItalyPowerDemand]".to_string()), "independent branch ran");
    assert!(!out.summary.ok());
    let cache = tscpipe::cache::Cache::open(p.cache_dir()).unwrap();
    assert!(cache.list().iter().all(|e| !e.instance.contains("Coffee")), "nothing of the failed branch cached");
}

#[test]
fn target_runs_only_what_it_needs_and_the_full_run_reuses_it() {
    let mut p = Project::new();
    let file = p.write("small.toml", SMALL);
    p.targets = vec!["eval[dataset=Coffee]".into()];
    let partial = p.run(&file);
    let mut got = ran(&partial);
    got.sort();
    assert_eq!(got, ["eval[dataset=Coffee]", "load[dataset=Coffee]", "nn[dataset=Coffee]"]);
    assert_eq!(partial.summary.results.len(), 3, "nothing else is even planned");

    // A stage name takes all its instances (and their upstream): the ItalyPowerDemand half runs now.
    p.targets = vec!["nn".into()];
    let nn = p.run(&file);
    assert_eq!(ran(&nn).len(), 2, "load + nn for ItalyPowerDemand: {:?}", ran(&nn));

    p.targets.clear();
    let full = p.run(&file);
    let mut rest = ran(&full);
    rest.sort();
    assert_eq!(rest, ["eval[dataset=ItalyPowerDemand]", "table"]);

    // A targeted run republishes its own stages and leaves the others' published files alone.
    let table_csv = p.path("results/small/table/results.csv");
    assert!(table_csv.exists());
    p.targets = vec!["eval[dataset=Coffee]".into()];
    let again = p.run(&file);
    assert!(ran(&again).is_empty());
    assert!(table_csv.exists(), "the table published by the full run survives a targeted run");
    assert!(walk(&p.path("results")).iter().all(|f| !f.contains(".publishing")), "no staging left behind");
}

#[test]
fn unknown_target_is_an_error_that_suggests_the_stage() {
    let mut p = Project::new();
    let file = p.write("small.toml", SMALL);
    p.targets = vec!["tabel".into()];
    let err = p.load_err(&file);
    assert!(err.contains("tabel") && err.contains("did you mean `table`"), "{err}");
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        out.push(p.display().to_string());
        if p.is_dir() {
            out.extend(walk(&p));
        }
    }
    out
}

/// Published results get the permissions a plain `cp` gives under the user's umask (0644 files,
/// 0755 folders under 022), never group- or world-writable, although cache blobs are read-only.
#[test]
fn published_files_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: umask only sets the process's file-creation mask; every test here wants 022.
    unsafe {
        libc::umask(0o022);
    }
    let p = Project::new();
    let file = p.write("small.toml", SMALL);
    let out = p.run(&file);
    assert!(!out.published.is_empty());
    let mut seen = 0;
    let mut stack = vec![p.path("results")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read results") {
            let path = e.expect("entry").path();
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
            if path.is_dir() {
                assert_eq!(mode, 0o755, "{}", path.display());
                stack.push(path);
            } else {
                assert_eq!(mode, 0o644, "{}", path.display());
                seen += 1;
            }
        }
    }
    assert!(seen >= out.published.len(), "{seen} files under results/");
}
