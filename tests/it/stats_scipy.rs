//! The statistics equal SciPy's: ranks, Friedman (+ Iman–Davenport), pairwise Wilcoxon
//! signed-rank (exact, conditional-exact and normal paths; wilcox/pratt/zsplit zeros; with and
//! without continuity correction; two-sided and one-sided), Holm (statsmodels) and Nemenyi's
//! q_α, in both arithmetics: on integer counts (`reference.json`, where float64 and exact agree),
//! on printed decimals where float64 subtraction breaks ties (`float_reference.json`), on 30
//! resamples averaged as pandas does, and on the raw published files of `data/published/`
//! through `tscpipe analyze` (`published_reference.json`). The scripts beside the JSON files in
//! `tests/data/stats/` made them; their headers say how.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;
use tscpipe::stats::wilcoxon::{Alternative, Options, ZeroMethod};
use tscpipe::stats::{AnalysisOptions, Exact, Mode, Resample, Score, Scores, analyze, nemenyi};

use crate::common::repo;

fn fixture(name: &str) -> Value {
    let path = repo().join("tests/data/stats").join(name);
    let text = std::fs::read_to_string(&path).expect("reference values");
    serde_json::from_str(&text).expect("reference JSON")
}

fn close_rel(ours: f64, theirs: f64, rel: f64, what: &str) {
    let tol = rel * theirs.abs().max(1e-300) + 1e-14;
    assert!((ours - theirs).abs() <= tol, "{what}: ours {ours:e}, SciPy {theirs:e}");
}

fn close(ours: f64, theirs: f64, what: &str) {
    close_rel(ours, theirs, 1e-9, what);
}

fn table(name: &str, values: Vec<Vec<Option<Score>>>) -> Scores {
    let k = values[0].len();
    Scores {
        source: name.to_string(),
        metric: "accuracy".into(),
        datasets: (0..values.len()).map(|i| format!("d{i}")).collect(),
        methods: (0..k).map(|j| format!("m{j}")).collect(),
        values,
        n_classes: Default::default(),
        layouts: vec![],
        per_resample: Default::default(),
    }
}

/// Counts out of `total`: exact as count/total; the float is the count itself (SciPy's input),
/// so both arithmetics see the same ties.
fn scores_of(case: &Value) -> Scores {
    let total = case["total"].as_i64().unwrap() as i128;
    let counts: Vec<Vec<i64>> = serde_json::from_value(case["counts"].clone()).unwrap();
    let values = counts
        .iter()
        .map(|r| {
            r.iter().map(|&c| Some(Score { exact: Exact::ratio(c as i128, total).unwrap(), float: c as f64 })).collect()
        })
        .collect();
    table(case["name"].as_str().unwrap(), values)
}

fn options_of(case: &Value, mode: Mode) -> AnalysisOptions {
    AnalysisOptions {
        wilcoxon: Options {
            zero_method: ZeroMethod::parse(case["zero_method"].as_str().unwrap()).unwrap(),
            correction: case["correction"].as_bool().unwrap(),
            alternative: Alternative::parse(case["alternative"].as_str().unwrap_or("two-sided")).unwrap(),
            ..Options::default()
        },
        mode,
        ..AnalysisOptions::default()
    }
}

/// Compares ranks, Friedman and every pair (by method indices `a`, `b`) with SciPy's.
fn check(a: &tscpipe::stats::Analysis, case: &Value, name: &str) -> usize {
    for (j, v) in case["average_ranks"].as_array().unwrap().iter().enumerate() {
        close(a.average_ranks[j], v.as_f64().unwrap(), &format!("{name}: average rank {j}"));
    }
    let f = a.friedman.as_ref().unwrap();
    if let Some(chi2) = case["friedman_chi2"].as_f64() {
        close(f.chi2, chi2, &format!("{name}: Friedman chi2"));
        close(f.p, case["friedman_p"].as_f64().unwrap(), &format!("{name}: Friedman p"));
    }
    if let Some(id) = case.get("iman_davenport_p") {
        match case["iman_davenport_f"].as_f64() {
            Some(want) => close(f.iman_davenport_f, want, &format!("{name}: Iman-Davenport F")),
            None => assert!(f.iman_davenport_f.is_infinite(), "{name}"),
        }
        close(f.iman_davenport_p, id.as_f64().unwrap(), &format!("{name}: Iman-Davenport p"));
    }
    let pairs = case["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), a.pairs.len());
    let mut exact_paths = 0;
    for (ours, theirs) in a.pairs.iter().zip(pairs) {
        let what = format!("{name}: {} vs {}", ours.a, ours.b);
        for (side, key) in [(&ours.a, "a"), (&ours.b, "b")] {
            assert_eq!(*side, format!("m{}", theirs[key]), "{what}: pair orientation");
        }
        close(ours.wilcoxon.statistic, theirs["statistic"].as_f64().unwrap(), &format!("{what} statistic"));
        close(ours.wilcoxon.p, theirs["p"].as_f64().unwrap(), &format!("{what} p ({:?})", ours.wilcoxon.p_method));
        close(ours.p_holm, theirs["p_holm"].as_f64().unwrap(), &format!("{what} Holm"));
        exact_paths += usize::from(ours.wilcoxon.z.is_none());
    }
    exact_paths
}

#[test]
fn analysis_matches_scipy_and_statsmodels_on_counts_in_both_arithmetics() {
    let r = fixture("reference.json");
    let cases = r["cases"].as_array().unwrap();
    assert!(cases.len() > 150, "reference has {} cases", cases.len());
    let mut exact_paths = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        for mode in [Mode::Float, Mode::Exact] {
            let a = analyze(&scores_of(case), &options_of(case, mode), vec![]).unwrap();
            exact_paths += check(&a, case, &format!("{name} ({})", mode.name()));
            assert!(a.mode_disagreements.is_empty(), "{name}: counts tie alike in both arithmetics");
        }
    }
    assert!(exact_paths > 100, "the exact paths must be exercised too ({exact_paths})");
}

#[test]
fn float_mode_matches_scipy_on_printed_decimals_with_every_option() {
    let r = fixture("float_reference.json");
    let cases = r["cases"].as_array().unwrap();
    assert!(cases.len() >= 100, "{} cases", cases.len());
    let mut disagreeing = 0;
    let mut one_sided = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let text: Vec<Vec<String>> = serde_json::from_value(case["values"].clone()).unwrap();
        let values = text.iter().map(|r| r.iter().map(|t| Some(Score::parse(t).unwrap())).collect()).collect();
        let s = table(name, values);
        let a = analyze(&s, &options_of(case, Mode::Float), vec![]).unwrap();
        check(&a, case, name);
        disagreeing += usize::from(!a.mode_disagreements.is_empty());
        one_sided += usize::from(a.options.wilcoxon.alternative != Alternative::TwoSided);
        // the exact arithmetic sees the 0.17 gaps as ties: some statistics must differ
        let e = analyze(&s, &options_of(case, Mode::Exact), vec![]).unwrap();
        if name.starts_with("decimals n=60") {
            assert!(
                a.pairs.iter().zip(&e.pairs).any(|(f, x)| f.wilcoxon.statistic != x.wilcoxon.statistic),
                "{name}: float and exact statistics should differ somewhere"
            );
        }
    }
    assert!(one_sided > 50, "{one_sided}");
    eprintln!("{disagreeing} of {} cases have decisions that differ between the arithmetics", cases.len());
}

#[test]
fn resample_means_are_pandas_means() {
    let case = &fixture("float_reference.json")["resamples"];
    let s = Scores::parse_csv("long.csv", case["csv"].as_str().unwrap(), "accuracy", &Resample::Mean).unwrap();
    let means: Vec<Vec<u64>> = serde_json::from_value(case["mean_bits"].clone()).unwrap();
    let sds: Vec<Vec<f64>> = serde_json::from_value(case["sds"].clone()).unwrap();
    for (d, row) in means.iter().enumerate() {
        for (m, want) in row.iter().enumerate() {
            let ours = s.values[d][m].unwrap().float;
            assert_eq!(ours.to_bits(), *want, "d{d} m{m}: ours {ours:e}, pandas {:e}", f64::from_bits(*want));
        }
    }
    let a = analyze(&s, &options_of(case, Mode::Float), vec![]).unwrap();
    let summary = a.resamples.as_ref().expect("30 resamples per cell");
    for (d, row) in sds.iter().enumerate() {
        for (m, want) in row.iter().enumerate() {
            let (count, _, sd) = summary.cells[d][m];
            assert_eq!(count, 30);
            close_rel(sd.unwrap(), *want, 1e-12, &format!("sd d{d} m{m}"));
        }
    }
    let ranks: BTreeMap<String, f64> = a.methods.iter().cloned().zip(a.average_ranks.iter().copied()).collect();
    for (j, v) in case["average_ranks"].as_array().unwrap().iter().enumerate() {
        close(ranks[&format!("m{j}")], v.as_f64().unwrap(), &format!("average rank m{j}"));
    }
}

#[test]
fn tscpipe_analyze_on_raw_published_files_reproduces_scipy() {
    let r = fixture("published_reference.json");
    for case in r["analyses"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let out = tempfile::tempdir().unwrap();
        let args: Vec<String> = serde_json::from_value(case["args"].clone()).unwrap();
        let run = Command::new(env!("CARGO_BIN_EXE_tscpipe"))
            .arg("analyze")
            .args(&args)
            .arg("--out")
            .arg(out.path())
            .current_dir(repo())
            .output()
            .unwrap();
        assert!(run.status.success(), "{name}: {}", String::from_utf8_lossy(&run.stderr));
        let a: Value =
            serde_json::from_str(&std::fs::read_to_string(out.path().join("analysis.json")).unwrap()).unwrap();
        let methods: Vec<String> = serde_json::from_value(a["methods"].clone()).unwrap();
        assert_eq!(a["datasets"].as_array().unwrap().len() as u64, case["n_datasets"].as_u64().unwrap(), "{name}");
        let at = |m: &str| methods.iter().position(|x| x == m).unwrap_or_else(|| panic!("{name}: no method {m}"));
        for (m, want) in case["average_ranks"].as_object().unwrap() {
            let ours = a["average_ranks"][at(m)].as_f64().unwrap();
            close_rel(ours, want.as_f64().unwrap(), 1e-9, &format!("{name}: average rank of {m}"));
        }
        for (m, want) in case["mean_scores"].as_object().unwrap() {
            let ours = a["mean_scores"][at(m)].as_f64().unwrap();
            close_rel(ours, want.as_f64().unwrap(), 1e-9, &format!("{name}: mean of {m}"));
        }
        close_rel(a["friedman"]["chi2"].as_f64().unwrap(), case["friedman_chi2"].as_f64().unwrap(), 1e-9, name);
        close_rel(a["friedman"]["p"].as_f64().unwrap(), case["friedman_p"].as_f64().unwrap(), 1e-6, name);
        let pairs = a["pairs"].as_array().unwrap();
        for want in case["pairs"].as_array().unwrap() {
            let (x, y) = (want["a"].as_str().unwrap(), want["b"].as_str().unwrap());
            let ours = pairs
                .iter()
                .find(|p| (p["a"] == x && p["b"] == y) || (p["a"] == y && p["b"] == x))
                .unwrap_or_else(|| panic!("{name}: no pair {x} vs {y}"));
            let what = format!("{name}: {x} vs {y}");
            close_rel(ours["wilcoxon"]["p"].as_f64().unwrap(), want["p"].as_f64().unwrap(), 1e-6, &what);
            close_rel(
                ours["p_holm"].as_f64().unwrap(),
                want["p_holm"].as_f64().unwrap(),
                1e-6,
                &format!("{what} Holm"),
            );
            close_rel(
                ours["wilcoxon"]["statistic"].as_f64().unwrap(),
                want["statistic"].as_f64().unwrap(),
                1e-12,
                &format!("{what} statistic"),
            );
        }
        let md = std::fs::read_to_string(out.path().join("analysis.md")).unwrap();
        assert!(md.contains("Statistics: mode `float`"), "{name}: {md}");
        assert!(md.contains("read as"), "{name}: the layout of each file is stated");
    }
}

#[test]
fn nemenyi_q_alpha_matches_scipy_studentized_range() {
    for q in fixture("reference.json")["q_alpha"].as_array().unwrap() {
        let (alpha, k) = (q["alpha"].as_f64().unwrap(), q["k"].as_u64().unwrap() as usize);
        let want = q["q_alpha"].as_f64().unwrap();
        let ours = nemenyi::q_alpha(alpha, k);
        assert!((ours - want).abs() < 1e-8, "alpha {alpha} k {k}: ours {ours}, SciPy {want}");
    }
}
