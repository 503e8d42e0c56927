//! The statistical comparison at the size of a bake-off: 112 datasets × 30 resamples × 20
//! methods read from a long results table (67,200 rows), averaged over resamples, ranked,
//! 190 Wilcoxon tests (in both arithmetics, for the disagreement check), Holm, Friedman, groups,
//! then the CD diagram and the MCM (SVG), and everything `analyze` writes (with the PNG).
//! Also smaller tables for comparison.
//!
//! Run: `cargo bench --bench stats`. Prints the median of 15 repetitions of each part.

use std::fmt::Write;
use std::time::Instant;

use rand::{RngExt, SeedableRng};
use tscpipe::plot::cd_diagram::{CdDiagram, cd_diagram_svg};
use tscpipe::plot::mcm::{Mcm, mcm_svg};
use tscpipe::stats::{AnalysisOptions, Resample, Scores, analyze};

/// A long table `dataset,method,resample,accuracy` with accuracies as a test set of 20–1000
/// cases gives them.
fn long_table(n: usize, resamples: usize, k: usize) -> String {
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut s = String::from("dataset,method,resample,accuracy\n");
    for d in 0..n {
        let total = r.random_range(20..1000);
        let base: f64 = r.random_range(0.5..0.95);
        for m in 0..k {
            for i in 0..resamples {
                let acc = (base + 0.005 * m as f64 + r.random_range(-0.05..0.05)).clamp(0.0, 1.0);
                let _ = writeln!(s, "dataset{d},method-{m},{i},{}", (acc * total as f64).round() / total as f64);
            }
        }
    }
    s
}

fn median_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn main() {
    let opts = AnalysisOptions::default();
    for (n, resamples, k) in [(112, 30, 20), (150, 1, 10), (30, 1, 5)] {
        let text = long_table(n, resamples, k);
        let read = || Scores::parse_csv("bench.csv", &text, "accuracy", &Resample::Mean).expect("table");
        let s = read();
        let a = analyze(&s, &opts, vec![]).expect("analysis");
        assert_eq!(a.pairs.len(), k * (k - 1) / 2);
        let cd_and_mcm = |a: &tscpipe::stats::Analysis| {
            let tscpipe::stats::analysis::CdParts { methods, groups, cd } = a.cd_diagram_parts();
            cd_diagram_svg(&CdDiagram { methods: &methods, groups: &groups, cd, title: None }).expect("cd");
            let tscpipe::stats::analysis::McmParts { methods, cells } = a.mcm_parts();
            let m =
                Mcm { title: "", methods: &methods, cells: &cells, alpha: 0.05, p_label: "p", higher_is_better: true };
            mcm_svg(&m).expect("mcm");
        };
        let t_read = median_ms(15, || {
            read();
        });
        let t_analyze = median_ms(15, || {
            analyze(&s, &opts, vec![]).expect("analysis");
        });
        let t_figs = median_ms(15, || cd_and_mcm(&a));
        let t_all = median_ms(15, || {
            let a = analyze(&read(), &opts, vec![]).expect("analysis");
            cd_and_mcm(&a);
        });
        let t_render = median_ms(5, || {
            tscpipe::stats::compare::render(&a).expect("render");
        });
        println!(
            "{n:>4} datasets × {resamples:>2} resamples × {k:>2} methods ({} pairs): read+average {t_read:7.2} ms, analysis {t_analyze:7.2} ms, CD+MCM SVG {t_figs:6.2} ms; together {t_all:7.2} ms; every output of `analyze` (with PNG) {t_render:7.2} ms",
            a.pairs.len()
        );
    }
}
