//! The statistical comparison at the size of a large TSC study: 150 datasets × 10 methods
//! (45 Wilcoxon tests, Friedman, Holm, Nemenyi, groups), then the CD diagram as SVG and PNG.
//!
//! Run: `cargo bench --bench stats`. Prints the median of 30 repetitions of each part.

use std::time::Instant;

use rand::{RngExt, SeedableRng};
use tscpipe::plot::cd_diagram::{CdDiagram, cd_diagram_png, cd_diagram_svg};
use tscpipe::stats::{AnalysisOptions, Exact, Scores, analyze};

fn table(n: usize, k: usize) -> Scores {
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let values = (0..n)
        .map(|_| {
            let total = r.random_range(20..1000);
            let base: f64 = r.random_range(0.5..0.95);
            (0..k)
                .map(|j| {
                    let acc = (base + 0.01 * j as f64 + r.random_range(-0.05..0.05)).clamp(0.0, 1.0);
                    Exact::from_counts((acc * total as f64).round() as usize, total)
                })
                .collect()
        })
        .collect();
    Scores {
        source: "bench".into(),
        metric: "accuracy".into(),
        datasets: (0..n).map(|i| format!("dataset{i}")).collect(),
        methods: (0..k).map(|j| format!("method-{j}")).collect(),
        values,
        n_classes: Default::default(),
    }
}

fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..30)
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
    for (n, k) in [(150, 10), (150, 20), (30, 5)] {
        let s = table(n, k);
        let opts = AnalysisOptions::default();
        let a = analyze(&s, &opts, vec![]).expect("analysis");
        let analysis = median_ms(|| {
            analyze(&s, &opts, vec![]).expect("analysis");
        });
        let tscpipe::stats::analysis::CdParts { methods, groups, cd } = a.cd_diagram_parts();
        let d = CdDiagram { methods: &methods, groups: &groups, cd, title: None };
        let svg = median_ms(|| {
            cd_diagram_svg(&d).expect("svg");
        });
        let png = median_ms(|| {
            cd_diagram_png(&d).expect("png");
        });
        println!(
            "{n:>4} datasets × {k:>2} methods: analysis {analysis:7.2} ms, CD SVG {svg:6.2} ms, CD PNG {png:7.2} ms"
        );
    }
}
