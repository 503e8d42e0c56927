//! The statistics equal SciPy's: ranks, Friedman (+ Iman–Davenport), pairwise Wilcoxon
//! signed-rank (exact, conditional-exact and normal paths; wilcox/pratt/zsplit zeros; with and
//! without continuity correction), Holm (statsmodels) and Nemenyi's q_α, for n = 5..150 and
//! k = 2..10. Reference values: `tests/data/stats/reference.json`, made by
//! `tests/data/stats/make_reference.py` (its header says how; versions are recorded in the file).

use serde_json::Value;
use tscpipe::stats::wilcoxon::{Options, ZeroMethod};
use tscpipe::stats::{AnalysisOptions, Exact, Scores, analyze, nemenyi};

fn reference() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/stats/reference.json"))
        .expect("reference values");
    serde_json::from_str(&text).expect("reference JSON")
}

fn close(ours: f64, theirs: f64, what: &str) {
    let tol = 1e-9 * theirs.abs().max(1e-300) + 1e-14;
    assert!((ours - theirs).abs() <= tol, "{what}: ours {ours:e}, SciPy {theirs:e}");
}

fn scores_of(case: &Value) -> Scores {
    let total = case["total"].as_i64().unwrap() as i128;
    let counts: Vec<Vec<i64>> = serde_json::from_value(case["counts"].clone()).unwrap();
    let k = counts[0].len();
    Scores {
        source: case["name"].as_str().unwrap().to_string(),
        metric: "accuracy".into(),
        datasets: (0..counts.len()).map(|i| format!("d{i}")).collect(),
        methods: (0..k).map(|j| format!("m{j}")).collect(),
        values: counts.iter().map(|r| r.iter().map(|&c| Exact::ratio(c as i128, total)).collect()).collect(),
        n_classes: Default::default(),
    }
}

#[test]
fn analysis_matches_scipy_and_statsmodels() {
    let r = reference();
    let cases = r["cases"].as_array().unwrap();
    assert!(cases.len() > 150, "reference has {} cases", cases.len());
    let mut exact_paths = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let opts = AnalysisOptions {
            wilcoxon: Options {
                zero_method: ZeroMethod::parse(case["zero_method"].as_str().unwrap()).unwrap(),
                correction: case["correction"].as_bool().unwrap(),
                ..Options::default()
            },
            ..AnalysisOptions::default()
        };
        let a = analyze(&scores_of(case), &opts, vec![]).unwrap();
        for (j, v) in case["average_ranks"].as_array().unwrap().iter().enumerate() {
            close(a.average_ranks[j], v.as_f64().unwrap(), &format!("{name}: average rank {j}"));
        }
        let f = a.friedman.as_ref().unwrap();
        close(f.chi2, case["friedman_chi2"].as_f64().unwrap(), &format!("{name}: Friedman chi2"));
        close(f.p, case["friedman_p"].as_f64().unwrap(), &format!("{name}: Friedman p"));
        match case["iman_davenport_f"].as_f64() {
            Some(want) => close(f.iman_davenport_f, want, &format!("{name}: Iman-Davenport F")),
            None => assert!(f.iman_davenport_f.is_infinite(), "{name}"),
        }
        close(f.iman_davenport_p, case["iman_davenport_p"].as_f64().unwrap(), &format!("{name}: Iman-Davenport p"));
        let pairs = case["pairs"].as_array().unwrap();
        assert_eq!(pairs.len(), a.pairs.len());
        for (ours, theirs) in a.pairs.iter().zip(pairs) {
            let what = format!("{name}: {} vs {}", ours.a, ours.b);
            close(ours.wilcoxon.statistic, theirs["statistic"].as_f64().unwrap(), &format!("{what} statistic"));
            close(ours.wilcoxon.p, theirs["p"].as_f64().unwrap(), &format!("{what} p ({:?})", ours.wilcoxon.p_method));
            close(ours.p_holm, theirs["p_holm"].as_f64().unwrap(), &format!("{what} Holm"));
            exact_paths += usize::from(ours.wilcoxon.z.is_none());
        }
    }
    assert!(exact_paths > 50, "the exact paths must be exercised too ({exact_paths})");
}

#[test]
fn nemenyi_q_alpha_matches_scipy_studentized_range() {
    for q in reference()["q_alpha"].as_array().unwrap() {
        let (alpha, k) = (q["alpha"].as_f64().unwrap(), q["k"].as_u64().unwrap() as usize);
        let want = q["q_alpha"].as_f64().unwrap();
        let ours = nemenyi::q_alpha(alpha, k);
        assert!((ours - want).abs() < 1e-8, "alpha {alpha} k {k}: ours {ours}, SciPy {want}");
    }
}
