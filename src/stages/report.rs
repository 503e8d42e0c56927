//! `report`: one self-contained HTML page (and a Markdown summary) of a pipeline's results:
//! results tables with the best marked, the statistical comparison with its CD diagram, training
//! curves, confusion matrices, attention weights over the series, t-SNE projections of the raw
//! TEST series next to those of learned features, and (filled in when published) the timing of
//! every stage.

use serde_json::Value as Json;

use super::artifact::{FEATURES_FILE, Features};
use super::kind::{InputArtifact, StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use crate::embed::{TsneConfig, neighbour_purity, tsne};
use crate::plot::attention::{AttentionExample, attention_svg};
use crate::plot::heatmap::{Heatmap, heatmap_svg, heatmap_svg_titled};
use crate::plot::line_chart::{LineChart, Series, line_chart_svg};
use crate::plot::scatter::{Scatter, scatter_svg};
use crate::report::Page;

pub struct Report;

crate::stage_params! {
    /// Parameters of `report`.
    pub struct ReportParams {
        /// the page title
        pub title: String [Str = "tscpipe report"],
        /// at most this many figures per section (large sweeps stay readable)
        pub max_figures: usize [Int = 48],
        // optional (defaults when absent) so that reports without features keep their keys
        /// t-SNE perplexity (30 when absent)
        pub tsne_perplexity: Option<f64> [Float, optional],
        /// t-SNE iterations (1000 when absent)
        pub tsne_iterations: Option<usize> [Int, optional],
        /// t-SNE initialisation seed (0 when absent)
        pub tsne_seed: Option<i64> [Int, optional],
    }
}

fn read_text(a: &InputArtifact, name: &str) -> Result<String, StageError> {
    let p = a.file(name)?;
    std::fs::read_to_string(p).map_err(|e| StageError::io(p, e))
}

fn read_json(a: &InputArtifact, name: &str) -> Result<Json, StageError> {
    serde_json::from_str(&read_text(a, name)?).map_err(|e| StageError::failed(format!("{}: {name}: {e}", a.from)))
}

fn plot_err(what: &str) -> impl Fn(crate::plot::PlotError) -> StageError + '_ {
    move |source| StageError::Figure { figure: what.to_string(), source }
}

/// Loss, accuracy and learning-rate curves from a `history.csv` (x = epoch across iterations).
fn training_figures(from: &str, csv: &str) -> Result<Vec<(String, String)>, StageError> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.filter(|l| !l.trim().is_empty()).map(|l| l.split(',').collect()).collect();
    let series = |suffix: &str| -> Vec<Series> {
        header
            .iter()
            .enumerate()
            .filter(|(_, h)| h.ends_with(suffix) || **h == suffix)
            .map(|(c, h)| Series {
                name: h.to_string(),
                points: rows
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| r.get(c).and_then(|v| v.parse::<f64>().ok()).map(|v| ((i + 1) as f64, v)))
                    .collect(),
            })
            .filter(|s| !s.points.is_empty())
            .collect()
    };
    let mut figs = Vec::new();
    for (suffix, y, log_y) in [("_loss", "loss", false), ("_acc", "accuracy", false), ("lr", "learning rate", true)] {
        let s = series(suffix);
        if s.is_empty() {
            continue;
        }
        let title = format!("{from}: {y}");
        let chart = LineChart { title: &title, x_label: "epoch", y_label: y, series: &s, log_y };
        figs.push((line_chart_svg(&chart).map_err(plot_err(&title))?, title));
    }
    Ok(figs)
}

/// The confusion matrix of an evaluation, rows normalised to rates.
fn confusion_figure(a: &InputArtifact) -> Result<(String, String), StageError> {
    let v = read_json(a, "metrics.json")?;
    let summary = &v["summary"];
    let m = &v["metrics"];
    let conf: Vec<Vec<f64>> = serde_json::from_value(m["confusion"].clone())
        .map_err(|e| StageError::failed(format!("{}: confusion matrix: {e}", a.from)))?;
    let classes: Vec<String> = match m.get("classes").and_then(|c| serde_json::from_value(c.clone()).ok()) {
        Some(c) => c,
        None => (0..conf.len()).map(|i| i.to_string()).collect(),
    };
    let rates: Vec<Vec<f64>> = conf
        .iter()
        .map(|row| {
            let t: f64 = row.iter().sum();
            row.iter().map(|v| if t > 0.0 { v / t } else { f64::NAN }).collect()
        })
        .collect();
    let title = format!(
        "{} on {} (accuracy {:.4})",
        summary["method"].as_str().unwrap_or("?"),
        summary["dataset"].as_str().unwrap_or("?"),
        summary["accuracy"].as_f64().unwrap_or(f64::NAN)
    );
    let h = Heatmap { title: &title, row_labels: &classes, col_labels: &classes, values: &rates, annotate: true };
    Ok((heatmap_svg(&h).map_err(plot_err(&title))?, title))
}

/// "Where the model looks": each class's example series with its mean attention per channel.
fn attention_figure(a: &InputArtifact) -> Result<Option<(String, String)>, StageError> {
    let Some(p) = a.files.get("attention.json") else { return Ok(None) };
    let text = std::fs::read_to_string(p).map_err(|e| StageError::io(p, e))?;
    let v: Json = serde_json::from_str(&text).map_err(|e| StageError::failed(format!("{}: {e}", a.from)))?;
    let weights: Vec<Vec<Vec<f64>>> = serde_json::from_value(v["weights"].clone()).unwrap_or_default();
    if v["axis"].as_str() == Some("time") {
        return time_attention_figure(&v, &weights);
    }
    let mut examples = Vec::new();
    for ex in v["examples"].as_array().into_iter().flatten() {
        let i = ex["index"].as_u64().unwrap_or(0) as usize;
        let channels: Vec<Vec<f64>> = serde_json::from_value(ex["channels"].clone()).unwrap_or_default();
        let Some(w) = weights.get(i) else { continue };
        // mean over the LSTM's output steps of the weights on each input step (= channel)
        let c = channels.len();
        let mut per_channel = vec![0.0; c];
        for row in w {
            for (j, x) in row.iter().enumerate().take(c) {
                per_channel[j] += x / w.len().max(1) as f64;
            }
        }
        examples.push(AttentionExample {
            label: ex["label"].as_str().unwrap_or("?").to_string(),
            channels,
            weights: per_channel,
        });
    }
    if examples.is_empty() {
        return Ok(None);
    }
    let title = format!(
        "{} on {}: attention per channel, one test series per class",
        v["method"].as_str().unwrap_or("?"),
        v["dataset"].as_str().unwrap_or("?")
    );
    Ok(Some((attention_svg(&title, &examples).map_err(plot_err(&title))?, title)))
}

/// The hybrid's attention: one distribution over its pooled time steps per series, shown as a
/// heatmap of one test series per class (rows) × pooled steps (columns, early to late).
fn time_attention_figure(v: &Json, weights: &[Vec<Vec<f64>>]) -> Result<Option<(String, String)>, StageError> {
    let mut rows = Vec::new();
    let mut values = Vec::new();
    for ex in v["examples"].as_array().into_iter().flatten() {
        let i = ex["index"].as_u64().unwrap_or(0) as usize;
        // [1][S]: the first (only) row is the distribution over the steps
        let Some(w) = weights.get(i).and_then(|w| w.first()) else { continue };
        if values.first().is_some_and(|f: &Vec<f64>| f.len() != w.len()) {
            continue;
        }
        rows.push(format!("{} (#{i})", ex["label"].as_str().unwrap_or("?")));
        values.push(w.clone());
    }
    let Some(steps) = values.first().map(Vec::len) else { return Ok(None) };
    let cols: Vec<String> = (1..=steps).map(|s| s.to_string()).collect();
    let title = format!(
        "{} on {}: attention over {steps} pooled time steps, one test series per class",
        v["method"].as_str().unwrap_or("?"),
        v["dataset"].as_str().unwrap_or("?")
    );
    let h = Heatmap { title: &title, row_labels: &rows, col_labels: &cols, values: &values, annotate: false };
    let svg = heatmap_svg_titled(&h, "test series", "pooled time step").map_err(plot_err(&title))?;
    Ok(Some((svg, title)))
}

/// The t-SNE settings of the report (optional parameters: absent ones take the defaults).
fn tsne_config(p: &ReportParams) -> TsneConfig {
    let mut cfg = TsneConfig::default();
    if let Some(perplexity) = p.tsne_perplexity {
        cfg.perplexity = perplexity;
    }
    if let Some(iterations) = p.tsne_iterations {
        cfg.iterations = iterations;
        cfg.exaggeration_iterations = cfg.exaggeration_iterations.min(cfg.iterations / 4);
    }
    if let Some(seed) = p.tsne_seed {
        cfg.seed = seed as u64;
    }
    cfg
}

/// t-SNE of the raw TEST series (once per distinct set of series) and of each exported feature
/// set, coloured by true class; the caption gives the 2-D nearest-neighbour purity (1 = every
/// series' nearest neighbour in the figure has its class).
fn tsne_figures(
    ctx: &StageContext<'_>,
    a: &InputArtifact,
    cfg: &TsneConfig,
    raw_seen: &mut std::collections::HashSet<String>,
) -> Result<Vec<(String, String)>, StageError> {
    let p = a.file(FEATURES_FILE)?;
    let text = std::fs::read_to_string(p).map_err(|e| StageError::io(p, e))?;
    let f: Features =
        serde_json::from_str(&text).map_err(|e| StageError::failed(format!("{}: {FEATURES_FILE}: {e}", a.from)))?;
    if f.labels.iter().any(|&l| l >= f.classes.len()) {
        return Err(StageError::failed(format!("{}: {FEATURES_FILE}: a label has no class name", a.from)));
    }
    let mut spaces: Vec<(String, &Vec<Vec<f32>>)> = Vec::new();
    let mut h = blake3::Hasher::new();
    for r in &f.raw {
        for v in r {
            h.update(&v.to_le_bytes());
        }
    }
    if raw_seen.insert(format!("{}:{}", f.dataset, h.finalize().to_hex())) {
        spaces.push((format!("{}: raw TEST series", f.dataset), &f.raw));
    }
    for set in &f.sets {
        spaces.push((format!("{} on {}: {}", f.method, f.dataset, set.name), &set.rows));
    }
    let mut figs = Vec::new();
    for (title, rows) in spaces {
        ctx.check_cancel()?;
        if rows.len() != f.labels.len() {
            return Err(StageError::failed(format!(
                "{}: {title}: {} rows for {} TEST series",
                a.from,
                rows.len(),
                f.labels.len()
            )));
        }
        let x: Vec<Vec<f64>> = rows.iter().map(|r| r.iter().map(|&v| f64::from(v)).collect()).collect();
        let y = tsne(&x, cfg).map_err(|e| StageError::failed(format!("{}: {title}: {e}", a.from)))?;
        let s = Scatter { title: &title, classes: &f.classes, points: &y, labels: &f.labels };
        let svg = scatter_svg(&s).map_err(plot_err(&title))?;
        let caption = format!(
            "{title} (t-SNE, perplexity {}, seed {}; nearest-neighbour class purity in 2-D {:.3})",
            cfg.perplexity,
            cfg.seed,
            neighbour_purity(&y, &f.labels)
        );
        figs.push((svg, caption));
    }
    Ok(figs)
}

impl TypedStage for Report {
    type Params = ReportParams;
    fn resources(&self, _: &ReportParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::SHORT
    }
    fn name(&self) -> &'static str {
        "report"
    }
    fn version(&self) -> u32 {
        1
    }
    fn about(&self) -> &'static str {
        "A self-contained HTML report: tables, statistics + CD diagram, curves, confusion, attention, timings"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        let slot = |name, doc| InputSpec { name, required: false, gather: true, doc };
        vec![
            slot("tables", "table stages"),
            slot("analyses", "analyze stages"),
            slot("trainings", "train or finetune stages (their history)"),
            slot("evaluations", "evaluate stages (their confusion matrices)"),
            slot("attention", "predict stages of attention models"),
            slot("features", "inference stages with export_features = true (t-SNE figures)"),
        ]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::published("report.html", "the report, one self-contained file").with_timings(),
            OutputSpec::published("report.md", "tables and statistics in Markdown"),
        ]
    }
    fn run(&self, ctx: &StageContext<'_>, p: &ReportParams) -> Result<(), StageError> {
        let max = p.max_figures;
        let mut page = Page::new(&p.title);
        let mut md = format!("# {}\n\n", p.title);
        let tables = ctx.gathered("tables");
        if !tables.is_empty() {
            page.section("Results");
            for a in tables {
                let t = read_text(a, "results.md")?;
                page.subheading(&a.from);
                page.markdown(&t);
                md.push_str(&format!("## {}\n\n{t}\n", a.from));
            }
        }
        for a in ctx.gathered("analyses") {
            page.section(&format!("Statistical comparison ({})", a.from));
            if a.files.contains_key("cd.svg") {
                page.figure(&read_text(a, "cd.svg")?, "Critical-difference diagram: average ranks (1 = best); a bar joins methods not significantly different.");
            }
            let mut figs = Vec::new();
            for (file, caption) in [
                (
                    "mcm.svg",
                    "Multiple comparison matrix: mean difference, wins/ties/losses and Holm-adjusted Wilcoxon p per pair.",
                ),
                ("scatter.svg", "The two best-ranked methods, one point per dataset; the dashed diagonal is a tie."),
                ("box.svg", "Each method's scores over datasets (box: quartiles; whiskers: 1.5 IQR)."),
            ] {
                if a.files.contains_key(file) {
                    figs.push((read_text(a, file)?, caption.to_string()));
                }
            }
            if !figs.is_empty() {
                page.grid(&figs);
            }
            let t = read_text(a, "analysis.md")?;
            page.markdown(&t);
            md.push_str(&format!("{t}\n"));
        }
        let section = |name: &str, figs: Vec<(String, String)>, page: &mut Page| {
            if figs.is_empty() {
                return;
            }
            page.section(name);
            let n = figs.len();
            page.grid(&figs.into_iter().take(max).collect::<Vec<_>>());
            if n > max {
                page.note(&format!("{} more not shown (max_figures = {max}).", n - max));
            }
        };
        let mut figs = Vec::new();
        for a in ctx.gathered("trainings") {
            ctx.check_cancel()?;
            figs.extend(training_figures(&a.from, &read_text(a, "history.csv")?)?);
        }
        section("Training curves", figs, &mut page);
        let mut figs = Vec::new();
        for a in ctx.gathered("evaluations") {
            figs.push(confusion_figure(a)?);
        }
        section("Confusion matrices (row-normalised)", figs, &mut page);
        let mut figs = Vec::new();
        for a in ctx.gathered("attention") {
            figs.extend(attention_figure(a)?);
        }
        section("Where the attention model looks", figs, &mut page);
        let features = ctx.gathered("features");
        if !features.is_empty() {
            let cfg = tsne_config(p);
            let mut raw_seen = std::collections::HashSet::new();
            let mut figs = Vec::new();
            for a in features {
                figs.extend(tsne_figures(ctx, a, &cfg, &mut raw_seen)?);
            }
            section("t-SNE of the TEST series: raw vs learned features", figs, &mut page);
        }
        ctx.write("report.html", page.finish())?;
        ctx.write("report.md", md)
    }
}
