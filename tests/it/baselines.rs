//! The published 1-NN numbers, reproduced by the shipped `pipelines/baselines.toml`.

use crate::common::{Project, published, repo};

#[test]
fn baselines_pipeline_reproduces_published_accuracies() {
    let p = Project::new();
    let out = p.run(&repo().join("pipelines/baselines.toml"));
    let csv = published(&out, "table/results.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        header,
        [
            "dataset",
            "1NN-ED",
            "1NN-DTW",
            "1NN-DTW-10%",
            "MiniRocket",
            "MultiRocket",
            "Hydra",
            "ROCKET",
            "MR-Hydra",
            "QUANT"
        ]
    );
    let rows: std::collections::HashMap<&str, Vec<f64>> = lines
        .map(|l| {
            let mut it = l.split(',');
            (it.next().unwrap(), it.map(|v| v.parse().unwrap()).collect())
        })
        .collect();
    let four = |v: f64| format!("{v:.4}");
    // Published UCR-archive values (test accuracy).
    assert_eq!(four(rows["GunPoint"][0]), "0.9133");
    assert_eq!(four(rows["ItalyPowerDemand"][0]), "0.9553");
    assert_eq!(four(rows["Coffee"][0]), "1.0000");
    assert_eq!(four(rows["ArrowHead"][0]), "0.8000");
    assert_eq!(four(rows["GunPoint"][1]), "0.9067");
    assert_eq!(four(rows["ItalyPowerDemand"][1]), "0.9504");
    // The main table is what the run prints.
    assert!(published(&out, "table/results.md").contains("| GunPoint | 0.9133 |"));
}
