//! The statistics and the report, end to end: the shipped baselines pipeline ends with an
//! analysis and an HTML report; published CSVs join the pipeline's own results; `tscpipe analyze`
//! and `tscpipe report` work from the command line; bad tables are pointed at.

use std::process::Command;

use crate::common::{Project, published, ran, repo};

#[test]
fn baselines_end_with_analysis_cd_diagram_and_report() {
    let p = Project::new();
    let out = p.run(&repo().join("pipelines/baselines.toml"));
    let md = published(&out, "analyze/analysis.md");
    // The ROCKET family leads; among the 1-NN methods ED ranks best (it wins ItalyPowerDemand
    // and ArrowHead, ties Coffee, loses GunPoint to the band).
    assert!(md.contains("| 1 | MultiRocket | 2.7500 |"), "{md}");
    assert!(md.contains("| 7 | 1NN-ED | 6.5000 |"), "{md}");
    assert!(md.contains("| 1NN-ED | 1NN-DTW | 3/1/0 |"), "{md}");
    let json: serde_json::Value = serde_json::from_str(&published(&out, "analyze/analysis.json")).unwrap();
    assert_eq!(json["methods"].as_array().unwrap().len(), 9);
    // MPCE is known because the pipeline knows each dataset's classes.
    assert!(json["mpce"][0].as_f64().unwrap() > 0.0);
    let svg = published(&out, "analyze/cd.svg");
    for m in ["1NN-ED", "1NN-DTW", "1NN-DTW-10%"] {
        assert!(svg.contains(m), "{m} missing from the CD diagram");
    }
    let png = std::fs::read(out.published.iter().find(|f| f.ends_with("cd.png")).unwrap()).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    let html = published(&out, "report/report.html");
    assert!(html.contains("<strong>1.0000</strong>"), "the best GunPoint result is marked");
    assert!(html.contains("Critical-difference diagram"));
    assert!(html.contains("Multiple comparison matrix") && html.contains("one point per dataset"), "MCM and scatter");
    assert!(md.contains("Statistics: mode `float`"), "{md}");
    assert!(md.contains("the pipeline's evaluation records"), "{md}");
    assert_eq!(html.matches("true class").count(), 36, "one confusion matrix per evaluation (9 methods × 4 datasets)");
    assert!(html.contains("Stage timings") && html.contains("<td>nn_dtw[dataset=Coffee]</td>"));
    for external in ["src=\"http", "href=\"http", "<link", "<script"] {
        assert!(!html.contains(external), "self-contained: found {external}");
    }

    // A rerun changes nothing and the report is rebuilt from the cache by `tscpipe report`.
    let again = p.run(&repo().join("pipelines/baselines.toml"));
    assert!(ran(&again).is_empty());
    let status = Command::new(env!("CARGO_BIN_EXE_tscpipe"))
        .args(["report", "pipelines/baselines.toml", "--cache-dir"])
        .arg(p.cache_dir())
        .arg("--results-dir")
        .arg(p.path("rebuilt"))
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let rebuilt = std::fs::read_to_string(p.path("rebuilt/baselines/report/report.html")).unwrap();
    assert!(rebuilt.contains("cached"), "the rebuilt report shows the last run, where everything was cached");
}

#[test]
fn published_results_join_the_pipelines_own_and_edits_rerun_only_the_analysis() {
    let p = Project::new();
    let published_csv = p.write(
        "published.csv",
        "Dataset,ResNet (paper)\nGun_Point,0.993\nItalyPowerDemand,0.963\nCoffee,1.0\nArrowHead,0.845\nAdiac,0.83\n",
    );
    let pipeline = p.write(
        "p.toml",
        &format!(
            r#"
[pipeline]
name = "vs"
include = ["{base}"]
main = "analyze"

[stages.analyze]
external = ["{csv}"]
aliases = {{ Gun_Point = "GunPoint" }}
missing = "intersect"
"#,
            base = repo().join("pipelines/baselines.toml").display(),
            csv = published_csv.display()
        ),
    );
    let out = p.run(&pipeline);
    let md = published(&out, "analyze/analysis.md");
    assert!(md.contains("Comparison of 10 methods on 4 datasets"), "{md}");
    assert!(md.contains("| 7 | ResNet (paper) |"), "{md}");
    assert!(
        md.contains(
            "no result for 1NN-ED, 1NN-DTW, 1NN-DTW-10%, MiniRocket, MultiRocket, Hydra, ROCKET, MR-Hydra, QUANT: Adiac"
        ),
        "{md}"
    );

    // Editing the published table reruns the analysis (and the report), nothing else.
    std::fs::write(
        &published_csv,
        "Dataset,ResNet (paper)\nGun_Point,0.5\nItalyPowerDemand,0.5\nCoffee,0.5\nArrowHead,0.5\n",
    )
    .unwrap();
    let out = p.run(&pipeline);
    let mut r = ran(&out);
    r.sort();
    assert_eq!(r, ["analyze", "report"]);
    assert!(published(&out, "analyze/analysis.md").contains("| 10 | ResNet (paper) |"));

    // Without aliases the gap is an error that names the near spelling.
    let strict = p.write(
        "strict.toml",
        &std::fs::read_to_string(&pipeline)
            .unwrap()
            .replace("missing = \"intersect\"", "")
            .replace("aliases = { Gun_Point = \"GunPoint\" }", ""),
    );
    let (out, _) = p.try_run(&strict).unwrap();
    let failed = out.summary.results.iter().find(|r| r.id == "analyze").unwrap();
    let msg = format!("{:?}", failed.outcome);
    assert!(msg.contains("GunPoint: no result for ResNet (paper) (is `Gun_Point` the same dataset?)"), "{msg}");
    assert!(msg.contains("missing = \\\"intersect\\\""), "{msg}");
}

#[test]
fn analyze_command_on_published_tables() {
    let p = Project::new();
    let out = Command::new(env!("CARGO_BIN_EXE_tscpipe"))
        .args(["analyze", "data/published/lstm_fcn_report_table2.csv", "--out"])
        .arg(p.path("an"))
        .current_dir(repo())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Comparison of 4 methods on 128 datasets"), "{stdout}");
    // The report's own conclusion: fine-tuned ALSTM-FCN ranks first.
    assert!(stdout.contains("| 1 | FT-ALSTM-FCN (report) |"), "{stdout}");
    for f in ["analysis.json", "ranks.csv", "pairs.csv", "analysis.md", "cd.svg", "cd.png"] {
        assert!(p.path("an").join(f).is_file(), "{f}");
    }

    let bad = p.write("bad.csv", "dataset,A,B\nX,0.5,0.6\nY,0.7,oops\n");
    let out = Command::new(env!("CARGO_BIN_EXE_tscpipe")).arg("analyze").arg(&bad).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("bad.csv:3: `oops` in column `B` is not a number"), "{stderr}");
}

#[test]
fn one_dataset_gives_scores_and_ranks_and_says_why_there_are_no_tests() {
    let mut p = Project::new();
    p.sets.push("matrix.dataset=[\"GunPoint\"]".into());
    let out = p.run(&repo().join("pipelines/baselines.toml"));
    let md = published(&out, "analyze/analysis.md");
    assert!(md.contains("No statistical tests: there is only one dataset (GunPoint)"), "{md}");
    assert!(md.contains("| 7 | 1NN-DTW-10% |"), "the ranks are there: {md}");
    assert!(published(&out, "table/results.csv").contains("GunPoint"));
    let json: serde_json::Value = serde_json::from_str(&published(&out, "analyze/analysis.json")).unwrap();
    assert!(json["pairs"].as_array().unwrap().is_empty() && json["friedman"].is_null());
    let html = published(&out, "report/report.html");
    assert!(html.contains("No statistical tests"), "the report says why");
}

fn analyze_cmd(args: &[&str], out: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tscpipe"))
        .arg("analyze")
        .args(args)
        .arg("--out")
        .arg(out)
        .current_dir(repo())
        .output()
        .unwrap()
}

#[test]
fn a_table_of_one_methods_statistics_needs_its_score_named() {
    let p = Project::new();
    let rocket = "data/published/rocket_results_ucr.csv";
    let out = analyze_cmd(&[rocket, "data/published/inceptiontime_results-InceptionTime-128.csv"], &p.path("a"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    // miette wraps long messages: compare word by word
    let words = |t: &str| t.split_whitespace().filter(|w| *w != "│" && *w != "×").collect::<Vec<_>>().join(" ");
    let flat = words(&stderr);
    for want in [
        "`accuracy_mean`, `accuracy_standard_deviation`, `time_training_seconds`, `time_test_seconds`",
        "external = [{ file = \"rocket_results_ucr.csv\", score = \"accuracy_mean\", method = \"rocket_results_ucr\" }]",
        "tscpipe analyze rocket_results_ucr.csv:accuracy_mean=rocket_results_ucr",
    ] {
        assert!(flat.contains(&words(want)), "{want}\n{stderr}");
    }
    let named = format!("{rocket}:accuracy_mean=ROCKET");
    let out = analyze_cmd(
        &[
            &named,
            "data/published/inceptiontime_results-InceptionTime-128.csv",
            "data/published/HC2_accuracy.csv",
            "--missing",
            "intersect",
        ],
        &p.path("b"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let md = std::fs::read_to_string(p.path("b/analysis.md")).unwrap();
    assert!(md.contains("Comparison of 3 methods on 112 datasets"), "{md}");
    assert!(!md.contains("time_training_seconds |"), "{md}");
    for want in [
        "rocket_results_ucr.csv: read as a wide table, column `accuracy_mean` as method `ROCKET`",
        "read as dl-4-tsc long results (method `classifier_name`, dataset `dataset_name`, mean over resamples of `iteration`; column `accuracy`) after an unnamed index column",
        "HC2_accuracy.csv: read as aeon/tsml-eval reference results (`Resamples:` header) (30 resample columns, one row per dataset; method `HC2` from the file name); mean over resamples",
    ] {
        assert!(md.contains(want), "{want}\n{md}");
    }
    for f in ["mcm.svg", "box.svg", "scatter.svg", "cd.svg"] {
        assert!(p.path("b").join(f).is_file(), "{f}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("b/analysis.json")).unwrap()).unwrap();
    assert!(json["resamples"]["cells"].is_array(), "HC2's 30 resamples give mean ± sd");
    assert!(md.contains("mean ± sample standard deviation of accuracy over resamples"), "{md}");
}

#[test]
fn external_entries_name_the_score_column_in_a_pipeline() {
    let p = Project::new();
    let pipeline = p.write(
        "p.toml",
        &format!(
            r#"
[pipeline]
name = "vs"
include = ["{base}"]
main = "analyze"

[stages.analyze]
external = [{{ file = "{rocket}", score = "accuracy_mean", method = "ROCKET (paper)" }}, "{dl4tsc}"]
missing = "intersect"
correction = true
alternative = "greater"
mode = "exact"
"#,
            base = repo().join("pipelines/baselines.toml").display(),
            rocket = repo().join("data/published/rocket_results_ucr.csv").display(),
            dl4tsc = repo().join("data/published/dl4tsc_results-ucr-128.csv").display(),
        ),
    );
    let out = p.run(&pipeline);
    let md = published(&out, "analyze/analysis.md");
    assert!(md.contains("Comparison of 18 methods on 4 datasets"), "{md}");
    assert!(
        md.contains("mode `exact`") && md.contains("continuity correction on") && md.contains("alternative `greater`"),
        "{md}"
    );
    assert!(md.contains("read as dl-4-tsc long results"), "{md}");

    let bad = p.write("bad.toml", &std::fs::read_to_string(&pipeline).unwrap().replace("score =", "scroe ="));
    let err = match p.try_run(&bad) {
        Err(e) => e.to_string(),
        Ok((out, _)) => format!("{:?}", out.summary.results.iter().map(|r| &r.outcome).collect::<Vec<_>>()),
    };
    assert!(err.contains("unknown key `scroe`"), "{err}");
}

#[test]
fn analyze_command_flags_are_stated_in_the_analysis() {
    let p = Project::new();
    let out = analyze_cmd(
        &[
            "data/published/lstm_fcn_report_table2.csv",
            "--correction",
            "--alternative",
            "less",
            "--mode",
            "exact",
            "--zero-method",
            "wilcox",
        ],
        &p.path("a"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let md = std::fs::read_to_string(p.path("a/analysis.md")).unwrap();
    assert!(md.contains("mode `exact`, exact decimal arithmetic"), "{md}");
    assert!(md.contains("zero_method `wilcox`, continuity correction on, alternative `less`"), "{md}");
    assert!(md.contains("In float arithmetic"), "{md}");
}
