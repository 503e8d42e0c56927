//! Example figures for looking at, written by an ignored test:
//! `PLOT_GALLERY=/tmp/plot-check cargo test --lib plot::gallery -- --ignored`,
//! then `scripts/render-check.sh /tmp/plot-check/cd-8.svg` renders one the way a browser shows it.

use std::path::Path;

use super::attention::{AttentionExample, attention_svg};
use super::cd_diagram::{CdDiagram, cd_diagram_png, cd_diagram_svg};
use super::heatmap::{Heatmap, heatmap_svg};
use super::line_chart::{LineChart, Series, line_chart_svg};
use super::scatter::{Scatter, scatter_png, scatter_svg};

const NAMES: [&str; 20] = [
    "ROCKET",
    "InceptionTime",
    "HIVE-COTE 2",
    "ResNet",
    "FCN",
    "ALSTM-FCN",
    "1NN-DTW (full window)",
    "1NN-DTW (learned window, Sakoe-Chiba band)",
    "1NN-ED",
    "BOSS",
    "WEASEL",
    "Shapelet Transform Classifier",
    "TSF",
    "Proximity Forest",
    "MLP",
    "Encoder",
    "MCDCNN",
    "Time-CNN",
    "TWIESN",
    "catch22 + random forest",
];

/// Plausible average ranks for k methods (they sum to k(k+1)/2, ties included).
fn ranks(k: usize) -> Vec<f64> {
    let mut r: Vec<f64> = (0..k).map(|i| 1.0 + i as f64 * (k as f64 - 1.0) / (k as f64 - 1.0).max(1.0)).collect();
    // Pull some neighbours together so that groups appear, keeping the sum.
    for i in (0..k.saturating_sub(1)).step_by(3) {
        let m = (r[i] + r[i + 1]) / 2.0;
        r[i] = m - 0.15;
        r[i + 1] = m + 0.15;
    }
    r
}

/// Groups of consecutive methods whose ranks differ by less than `cd` (a simplified Nemenyi test).
fn groups(r: &[f64], cd: f64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..r.len()).collect();
    order.sort_by(|&a, &b| r[a].total_cmp(&r[b]));
    let mut out: Vec<Vec<usize>> = Vec::new();
    for i in 0..order.len() {
        let g: Vec<usize> = order[i..].iter().copied().take_while(|&j| r[j] - r[order[i]] < cd).collect();
        let covered = out.iter().any(|o| g.iter().all(|j| o.contains(j)));
        if g.len() > 1 && !covered {
            out.push(g);
        }
    }
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).expect("write gallery file");
}

#[test]
#[ignore = "writes example figures to $PLOT_GALLERY for a person to look at"]
fn gallery() {
    let Some(dir) = std::env::var_os("PLOT_GALLERY") else { return };
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir).expect("gallery dir");

    cd_diagrams(dir);
    heatmaps(dir);
    curves(dir);
    attention_maps(dir);
    tsne_scatter(dir);
}

fn cd_diagrams(dir: &Path) {
    for (k, cd) in [(3, 1.2), (8, 2.6), (20, 5.1)] {
        let r = ranks(k);
        // Shuffle the input order: the diagram must not depend on it.
        let methods: Vec<(String, f64)> = (0..k).map(|i| (NAMES[(i * 7) % 20].to_string(), r[(i * 7) % k])).collect();
        let rk: Vec<f64> = methods.iter().map(|m| m.1).collect();
        let g = groups(&rk, cd);
        let title = format!("Average ranks of {k} classifiers on 128 UCR datasets");
        let d = CdDiagram { methods: &methods, groups: &g, cd: Some(cd), title: Some(&title) };
        write(dir, &format!("cd-{k}.svg"), cd_diagram_svg(&d).unwrap().as_bytes());
        write(dir, &format!("cd-{k}.png"), &cd_diagram_png(&d).unwrap());
    }
    let long: Vec<(String, f64)> =
        [1.3, 1.7].iter().enumerate().map(|(i, &r)| (format!("{:x<40}", format!("Method{i}")), r)).collect();
    let d = CdDiagram { methods: &long, groups: &[vec![0, 1]], cd: Some(1.4), title: None };
    write(dir, "cd-2-long.svg", cd_diagram_svg(&d).unwrap().as_bytes());
    write(dir, "cd-2-long.png", &cd_diagram_png(&d).unwrap());
}

fn heatmaps(dir: &Path) {
    let classes: Vec<String> = ["walking", "running", "sitting", "standing", "lying down"].map(String::from).to_vec();
    let counts = vec![
        vec![48.0, 2.0, 0.0, 0.0, 0.0],
        vec![5.0, 44.0, 1.0, 0.0, 0.0],
        vec![0.0, 0.0, 39.0, 11.0, 0.0],
        vec![0.0, 1.0, 9.0, 40.0, 0.0],
        vec![0.0, 0.0, 0.0, 2.0, 48.0],
    ];
    let h = Heatmap {
        title: "Confusion matrix, ALSTM-FCN, test split",
        row_labels: &classes,
        col_labels: &classes,
        values: &counts,
        annotate: true,
    };
    write(dir, "heatmap-5.svg", heatmap_svg(&h).unwrap().as_bytes());

    let many: Vec<String> = (0..12).map(|i| format!("activity class number {i}")).collect();
    let rates: Vec<Vec<f64>> = (0..12)
        .map(|r| {
            let row: Vec<f64> =
                (0..12).map(|c| if r == c { 8.0 } else { ((r * 5 + c * 3) % 7) as f64 * 0.3 }).collect();
            let sum: f64 = row.iter().sum();
            if r == 11 { vec![f64::NAN; 12] } else { row.iter().map(|v| v / sum).collect() }
        })
        .collect();
    let h = Heatmap {
        title: "Normalised confusion, 12 classes",
        row_labels: &many,
        col_labels: &many,
        values: &rates,
        annotate: true,
    };
    write(dir, "heatmap-12.svg", heatmap_svg(&h).unwrap().as_bytes());
}

fn curves(dir: &Path) {
    let epochs = 60;
    let curve = |f: &dyn Fn(f64) -> f64| (1..=epochs).map(|e| (e as f64, f(e as f64))).collect::<Vec<_>>();
    let loss = [
        Series { name: "train loss".into(), points: curve(&|e| 1.6 * (-e / 12.0).exp() + 0.08) },
        Series { name: "validation loss".into(), points: curve(&|e| 1.5 * (-e / 10.0).exp() + 0.2 + 0.003 * e) },
    ];
    let c = LineChart {
        title: "Training curves, FCN on ECG200",
        x_label: "epoch",
        y_label: "cross-entropy loss",
        series: &loss,
        log_y: false,
    };
    write(dir, "curves-loss.svg", line_chart_svg(&c).unwrap().as_bytes());
    let acc = [
        Series { name: "train accuracy".into(), points: curve(&|e| 1.0 - 0.5 * (-e / 9.0).exp()) },
        Series { name: "validation accuracy".into(), points: curve(&|e| 0.95 - 0.5 * (-e / 8.0).exp()) },
        Series { name: "test accuracy (final)".into(), points: vec![(60.0, 0.93)] },
    ];
    let c = LineChart { title: "Accuracy", x_label: "epoch", y_label: "accuracy", series: &acc, log_y: false };
    write(dir, "curves-acc.svg", line_chart_svg(&c).unwrap().as_bytes());
    let lr = [Series { name: "learning rate".into(), points: curve(&|e| 1e-3 * 0.5f64.powf((e / 15.0).floor())) }];
    let c = LineChart {
        title: "Learning-rate schedule",
        x_label: "epoch",
        y_label: "learning rate",
        series: &lr,
        log_y: true,
    };
    write(dir, "curves-lr.svg", line_chart_svg(&c).unwrap().as_bytes());
}

fn attention_maps(dir: &Path) {
    let wave = |t: usize, f: f64, p: f64| {
        (0..t).map(|i| (i as f64 * f + p).sin() + 0.2 * (i as f64 * 3.1 * f).cos()).collect::<Vec<f64>>()
    };
    let examples = vec![
        AttentionExample {
            label: "class 1: normal beat".into(),
            channels: vec![wave(140, 0.09, 0.0), wave(140, 0.05, 1.0), wave(140, 0.2, 2.0)],
            weights: vec![0.62, 0.28, 0.10],
        },
        AttentionExample {
            label: "class 2: ischemia".into(),
            channels: vec![wave(140, 0.07, 0.5), wave(140, 0.11, 1.5), wave(140, 0.03, 2.5)],
            weights: vec![0.15, 0.25, 0.60],
        },
        AttentionExample {
            label: "class 3".into(),
            channels: vec![wave(140, 0.13, 0.2), wave(140, 0.04, 0.7), wave(140, 0.09, 1.1)],
            weights: vec![0.34, 0.33, 0.33],
        },
    ];
    write(
        dir,
        "attention-3ch.svg",
        attention_svg("ALSTM-FCN channel attention, 3 test examples", &examples).unwrap().as_bytes(),
    );
    let uni = vec![
        AttentionExample { label: "Coffee: arabica".into(), channels: vec![wave(286, 0.04, 0.0)], weights: vec![1.0] },
        AttentionExample { label: "Coffee: robusta".into(), channels: vec![wave(286, 0.05, 0.8)], weights: vec![1.0] },
    ];
    write(dir, "attention-1ch.svg", attention_svg("Univariate: one channel, weight 1", &uni).unwrap().as_bytes());
}

fn tsne_scatter(dir: &Path) {
    // t-SNE of 180 noisy series of three shapes (sine, ramp, step), as the report draws it
    let mut x = Vec::new();
    let mut labels = Vec::new();
    let mut state = 12345u64;
    let mut noise = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 1.2
    };
    for i in 0..180 {
        let c = i % 3;
        let shift = noise();
        x.push(
            (0..100)
                .map(|t| {
                    let t = t as f64 / 100.0;
                    let s = match c {
                        0 => (t * 12.0 + shift).sin(),
                        1 => t * 2.0 - 1.0,
                        _ => f64::from(u8::from(t > 0.5 + shift * 0.2)) * 2.0 - 1.0,
                    };
                    s + noise() * 0.5
                })
                .collect::<Vec<f64>>(),
        );
        labels.push(c);
    }
    let y = crate::embed::tsne(&x, &crate::embed::TsneConfig::default()).unwrap();
    let classes = vec!["sine".to_string(), "ramp".to_string(), "step".to_string()];
    let s = Scatter { title: "Synthetic: raw TEST series", classes: &classes, points: &y, labels: &labels };
    write(dir, "tsne-3.svg", scatter_svg(&s).unwrap().as_bytes());
    write(dir, "tsne-3.png", &scatter_png(&s).unwrap());
}
