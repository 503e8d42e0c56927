//! `analyze`: the statistical comparison of the methods a pipeline ran (gathered evaluate or
//! table stages) and/or published result tables (CSV): ranks, Friedman, Wilcoxon–Holm, Nemenyi,
//! and the critical-difference diagram.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::evaluate::EvalRecord;
use super::kind::{CheckError, Params, RunEnv, StageContext, StageError, TypedStage};
use super::params::StageParams;
use super::spec::{InputSpec, OutputSpec};
use super::table::{METRICS, record_matrix};
use crate::plot::box_plot::{BoxPlot, box_plot_svg};
use crate::plot::cd_diagram::{CdDiagram, cd_diagram_png, cd_diagram_svg};
use crate::plot::mcm::{Mcm, mcm_svg};
use crate::plot::pairwise_scatter::{PairwiseScatter, pairwise_scatter_svg};
use crate::stats::analysis::{CdParts, InputLayout};
use crate::stats::scores::MergeReport;
use crate::stats::wilcoxon::{self, Alternative, ZeroMethod};
use crate::stats::{Analysis, AnalysisOptions, GroupTest, Missing, Mode, ReadSpec, Resample, Score, Scores, analyze};

pub struct Analyze;

const DIRECTIONS: &[&str] = &["auto", "higher", "lower"];

crate::stage_params! {
    /// Parameters of `analyze` (and of the `tscpipe analyze` command).
    pub struct AnalyzeParams {
        /// the score compared
        pub metric: String [Enum(METRICS) = "accuracy"],
        /// whether higher or lower is better (auto: lower for error)
        pub direction: String [Enum(DIRECTIONS) = "auto"],
        /// published result tables relative to the pipeline file (aeon `Resamples:`, dl-4-tsc, InceptionTime, `dataset,0,…,29`, wide or long CSV): a file name, or { file, score = "accuracy_mean", method = "ROCKET" } for a table of one method's statistics
        pub external: Vec<Json> [List(StrOrTable) = Json::Array(vec![])],
        /// dataset renames for external tables, e.g. { Gun_Point = "GunPoint" }
        pub aliases: serde_json::Map<String, Json> [Table = Json::Object(Default::default())],
        /// long tables: average the resamples ("mean") or keep one resample id
        pub resample: String [Str = "mean"],
        /// datasets without a result for every method: fail, or intersect (and report them)
        pub missing: String [Enum(Missing::NAMES) = "fail"],
        /// significance level
        pub alpha: f64 [Float = 0.05],
        /// Wilcoxon: zero differences ranked then dropped (pratt, as aeon and dl-4-tsc), dropped (wilcox), or split
        pub zero_method: String [Enum(ZeroMethod::NAMES) = "pratt"],
        /// continuity correction of the normal approximation (off, as SciPy's default)
        pub correction: bool [Bool = false],
        /// Wilcoxon alternative: two-sided (absent), or greater/less for the better-ranked method of each pair
        pub alternative: Option<String> [Enum(Alternative::NAMES), optional],
        /// arithmetic: float (absent; float64 as SciPy/pandas) or exact (decimal differences, exact ties)
        pub mode: Option<String> [Enum(Mode::NAMES), optional],
        /// exact or normal p-values (auto chooses as SciPy does)
        pub wilcoxon_method: String [Enum(wilcoxon::Method::NAMES) = "auto"],
        /// which test the CD diagram's bars follow
        pub groups: String [Enum(GroupTest::NAMES) = "wilcoxon_holm"],
    }
}

/// Scores of the pipeline's own evaluations, exact from counts where the metric allows. When
/// every (dataset, method) has the same number (≥ 2) of records — one per resample — each cell
/// is their mean.
pub fn scores_from_records(source: &str, records: &[EvalRecord], metric: &str) -> Result<Scores, String> {
    let score = |r: &EvalRecord| {
        match metric {
            "accuracy" => Score::from_counts(r.correct, r.total),
            "error" => Score::from_counts(r.total.saturating_sub(r.correct), r.total),
            other => r.metric(other).and_then(Score::from_f64),
        }
        .ok_or_else(|| format!("no `{metric}` for {} on {}", r.method, r.dataset))
    };
    let n_classes = records.iter().map(|r| (r.dataset.clone(), r.n_classes)).collect();
    let mut s = Scores {
        source: source.to_string(),
        metric: metric.to_string(),
        datasets: vec![],
        methods: vec![],
        values: vec![],
        n_classes,
        layouts: vec![],
        per_resample: Default::default(),
    };
    let mut cells: BTreeMap<(String, String), Vec<Score>> = BTreeMap::new();
    for r in records {
        cells.entry((r.dataset.clone(), r.method.clone())).or_default().push(score(r)?);
    }
    let counts: std::collections::BTreeSet<usize> = cells.values().map(Vec::len).collect();
    let layout = if counts.len() == 1 && counts.first().is_some_and(|&n| n >= 2) {
        let mut seen = std::collections::BTreeSet::new();
        let firsts: Vec<EvalRecord> =
            records.iter().filter(|r| seen.insert((r.dataset.clone(), r.method.clone()))).cloned().collect();
        let (datasets, methods, values) = record_matrix(&firsts, |r| {
            let vs = &cells[&(r.dataset.clone(), r.method.clone())];
            Score::mean(vs).ok_or_else(|| format!("no mean for {} on {}", r.method, r.dataset))
        })?;
        for ((d, m), vs) in &cells {
            s.per_resample.insert((d.clone(), m.clone()), vs.iter().map(|v| v.float).collect());
        }
        (s.datasets, s.methods, s.values) = (datasets, methods, values);
        format!(
            "the pipeline's evaluation records (exact counts), mean over {} resamples",
            counts.first().unwrap_or(&0)
        )
    } else {
        let (datasets, methods, values) = record_matrix(records, score)?;
        (s.datasets, s.methods, s.values) = (datasets, methods, values);
        "the pipeline's evaluation records (exact counts)".to_string()
    };
    s.layouts.push(InputLayout { source: source.to_string(), layout });
    Ok(s)
}

/// Analysis options from a stage's parameters (shared with the `tscpipe analyze` command).
pub fn options(p: &AnalyzeParams) -> Result<(AnalysisOptions, Missing, Resample), String> {
    let metric = p.metric.as_str();
    let higher_is_better = match p.direction.as_str() {
        "higher" => true,
        "lower" => false,
        _ => !matches!(metric, "error" | "loss") && !metric.ends_with("error") && !metric.ends_with("loss"),
    };
    let alpha = p.alpha;
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(format!("alpha must be between 0 and 1, not {alpha}"));
    }
    let zero_method = ZeroMethod::parse(&p.zero_method).unwrap_or(ZeroMethod::Pratt);
    let method = wilcoxon::Method::parse(&p.wilcoxon_method).unwrap_or_default();
    let correction = p.correction;
    let alternative = match p.alternative.as_deref() {
        None => Alternative::TwoSided,
        Some(a) => Alternative::parse(a)
            .ok_or_else(|| format!("alternative must be one of {}, not `{a}`", Alternative::NAMES.join(", ")))?,
    };
    let mode = match p.mode.as_deref() {
        None => Mode::Float,
        Some(m) => Mode::parse(m).ok_or_else(|| format!("mode must be float or exact, not `{m}`"))?,
    };
    let groups = GroupTest::parse(&p.groups).unwrap_or_default();
    let missing = Missing::parse(&p.missing).unwrap_or_default();
    let resample = match p.resample.as_str() {
        "mean" => Resample::Mean,
        id => Resample::Only(id.to_string()),
    };
    let opts = AnalysisOptions {
        alpha,
        higher_is_better,
        wilcoxon: wilcoxon::Options { zero_method, correction, method, alternative },
        groups,
        mode,
    };
    Ok((opts, missing, resample))
}

/// One `external` entry: a file, and optionally the score column and the method it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct External {
    pub path: PathBuf,
    pub spec: ReadSpec,
}

/// `external = ["dl4tsc.csv", { file = "rocket.csv", score = "accuracy_mean", method = "ROCKET" }]`.
pub fn externals(p: &AnalyzeParams, base: &Path) -> Result<Vec<External>, String> {
    let mut out = Vec::new();
    for (i, e) in p.external.iter().enumerate() {
        match e {
            Json::String(f) => out.push(External { path: base.join(f), spec: ReadSpec::default() }),
            Json::Object(t) => {
                let field = |k: &str| -> Result<Option<String>, String> {
                    match t.get(k) {
                        None => Ok(None),
                        Some(Json::String(v)) => Ok(Some(v.clone())),
                        Some(_) => Err(format!("external[{i}].{k} must be a string")),
                    }
                };
                if let Some(k) = t.keys().find(|k| !["file", "score", "method"].contains(&k.as_str())) {
                    return Err(format!("external[{i}]: unknown key `{k}` (file, score, method)"));
                }
                let file = field("file")?.ok_or_else(|| format!("external[{i}] needs `file`"))?;
                let spec = ReadSpec { score: field("score")?, method: field("method")? };
                out.push(External { path: base.join(file), spec });
            }
            _ => return Err(format!("external[{i}] must be a file name or {{ file, score, method }}")),
        }
    }
    Ok(out)
}

/// A command-line table: `FILE`, `FILE=METHOD`, `FILE:COLUMN` or `FILE:COLUMN=METHOD` (the
/// score column of a table of one method's statistics, and the method's name). A path that
/// exists as written is always just a file.
pub fn parse_external_arg(arg: &str) -> External {
    let plain = |f: &str| External { path: PathBuf::from(f), spec: ReadSpec::default() };
    if Path::new(arg).exists() {
        return plain(arg);
    }
    let (left, method) = match arg.rsplit_once('=') {
        Some((l, m)) if !m.is_empty() => (l, Some(m.to_string())),
        _ => (arg, None),
    };
    let (file, score) = match left.rsplit_once(':') {
        Some((f, c)) if !Path::new(left).exists() && !f.is_empty() && !c.is_empty() => (f, Some(c.to_string())),
        _ => (left, None),
    };
    External { path: PathBuf::from(file), spec: ReadSpec { score, method } }
}

fn external_paths(p: &AnalyzeParams, env: &RunEnv) -> Vec<PathBuf> {
    externals(p, &env.pipeline_dir).map(|v| v.into_iter().map(|e| e.path).collect()).unwrap_or_default()
}

/// Everything an analysis writes, as (file name, bytes): the statistics, the CD diagram and the
/// box plot (with two methods or more), the MCM and the scatter of the two best methods (when
/// there are tests).
pub fn render(analysis: &Analysis) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
    let mut out = vec![
        ("analysis.json", analysis.to_json().into_bytes()),
        ("ranks.csv", analysis.ranks_csv().into_bytes()),
        ("pairs.csv", analysis.pairs_csv().into_bytes()),
        ("analysis.md", analysis.to_markdown().into_bytes()),
    ];
    if analysis.methods.len() >= 2 && !analysis.datasets.is_empty() {
        let CdParts { methods, groups, cd } = analysis.cd_diagram_parts();
        let caption = analysis.cd_caption();
        let d = CdDiagram { methods: &methods, groups: &groups, cd, title: Some(&caption) };
        let svg = cd_diagram_svg(&d).map_err(|e| format!("critical-difference diagram: {e}"))?;
        let png = cd_diagram_png(&d).map_err(|e| format!("critical-difference diagram: {e}"))?;
        out.push(("cd.svg", svg.into_bytes()));
        out.push(("cd.png", png));
    }
    if !analysis.methods.is_empty() && !analysis.datasets.is_empty() {
        let groups: Vec<(String, Vec<f64>)> = analysis
            .methods
            .iter()
            .enumerate()
            .map(|(j, m)| (m.clone(), analysis.scores.iter().map(|r| r[j]).collect()))
            .collect();
        let title = format!("{} over {} datasets", analysis.metric, analysis.datasets.len());
        let b = BoxPlot {
            title: &title,
            axis_label: &analysis.metric,
            groups: &groups,
            higher_is_better: analysis.higher_is_better,
        };
        out.push(("box.svg", box_plot_svg(&b).map_err(|e| format!("box plot: {e}"))?.into_bytes()));
    }
    if analysis.untestable.is_none() {
        let crate::stats::analysis::McmParts { methods, cells } = analysis.mcm_parts();
        let title = format!("Multiple comparison matrix ({})", analysis.metric);
        let m = Mcm {
            title: &title,
            methods: &methods,
            cells: &cells,
            alpha: analysis.options.alpha,
            p_label: "Holm-adjusted Wilcoxon p",
            higher_is_better: analysis.higher_is_better,
        };
        out.push(("mcm.svg", mcm_svg(&m).map_err(|e| format!("MCM: {e}"))?.into_bytes()));
        if let Some((a, b)) = analysis.top_pair() {
            let points: Vec<(String, f64, f64)> =
                analysis.datasets.iter().zip(&analysis.scores).map(|(d, r)| (d.clone(), r[a], r[b])).collect();
            let (an, bn) = (&analysis.methods[a], &analysis.methods[b]);
            let pair = analysis.pairs.iter().find(|p| (&p.a, &p.b) == (an, bn) || (&p.a, &p.b) == (bn, an));
            let note = pair
                .map(|p| {
                    let (w, l) = if p.a == *an { (p.wins, p.losses) } else { (p.losses, p.wins) };
                    format!(
                        "{an} wins / ties / losses: {w} / {} / {l}; Holm-adjusted Wilcoxon p = {:.4}",
                        p.ties, p.p_holm
                    )
                })
                .unwrap_or_default();
            let title = format!("{an} vs {bn} ({})", analysis.metric);
            let s = PairwiseScatter {
                title: &title,
                a: an,
                b: bn,
                points: &points,
                higher_is_better: analysis.higher_is_better,
                note: &note,
            };
            out.push((
                "scatter.svg",
                pairwise_scatter_svg(&s).map_err(|e| format!("pairwise scatter: {e}"))?.into_bytes(),
            ));
        }
    }
    Ok(out)
}

/// Merges, completes and analyses score tables, with the stage's parameters (the
/// `tscpipe analyze` command gives them as JSON: what it leaves out reads as the default).
pub fn run_analysis(parts: Vec<Scores>, p: &Params) -> Result<Analysis, String> {
    analyse_with(parts, &AnalyzeParams::from_params(p).map_err(|e| e.to_string())?)
}

fn analyse_with(parts: Vec<Scores>, p: &AnalyzeParams) -> Result<Analysis, String> {
    let (opts, missing, _) = options(p)?;
    let merged = Scores::merge(parts).map_err(|e| e.to_string())?;
    let (complete, MergeReport { dropped }) = merged.complete(missing).map_err(|e| e.to_string())?;
    analyze(&complete, &opts, dropped).map_err(|e| e.to_string())
}

/// `aliases = { Gun_Point = "GunPoint" }`: dataset renames applied to external tables.
pub fn aliases(p: &AnalyzeParams) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (k, v) in &p.aliases {
        let v = v.as_str().ok_or_else(|| format!("alias `{k}` must name a dataset (a string)"))?;
        out.insert(k.clone(), v.to_string());
    }
    Ok(out)
}

/// Reads a published table, renaming its datasets by `aliases` (parameters as JSON, as
/// [`run_analysis`] takes them).
pub fn read_external(e: &External, p: &Params) -> Result<Scores, String> {
    read_external_with(e, &AnalyzeParams::from_params(p).map_err(|e| e.to_string())?)
}

fn read_external_with(e: &External, p: &AnalyzeParams) -> Result<Scores, String> {
    let (_, _, resample) = options(p)?;
    let metric = p.metric.as_str();
    let mut s = Scores::read_path_with(&e.path, metric, &resample, &e.spec).map_err(|e| e.to_string())?;
    s.rename_datasets(&aliases(p)?).map_err(|e| e.to_string())?;
    Ok(s)
}

impl TypedStage for Analyze {
    type Params = AnalyzeParams;
    fn resources(&self, _: &AnalyzeParams) -> crate::stages::kind::Declared {
        crate::stages::kind::Declared::SHORT
    }
    fn name(&self) -> &'static str {
        "analyze"
    }
    /// v2: SciPy's float64 arithmetic, Pratt's zeros and no continuity correction by default.
    fn version(&self) -> u32 {
        2
    }
    fn about(&self) -> &'static str {
        "Compares methods over datasets: ranks, Friedman, Wilcoxon–Holm, Nemenyi CD, CD diagram"
    }
    fn inputs(&self) -> Vec<InputSpec> {
        vec![InputSpec {
            name: "results",
            required: false,
            gather: true,
            doc: "evaluate or table stages whose results are compared",
        }]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::published("analysis.json", "every statistic, machine-readable"),
            OutputSpec::published("ranks.csv", "per-dataset ranks and average ranks"),
            OutputSpec::published("pairs.csv", "pairwise wins/ties/losses, Wilcoxon and Holm p-values"),
            OutputSpec::published("analysis.md", "the comparison in Markdown").summary(),
            OutputSpec::published("cd.svg", "critical-difference diagram (SVG; not with fewer than 2 methods)")
                .optional(),
            OutputSpec::published("cd.png", "critical-difference diagram (PNG; not with fewer than 2 methods)")
                .optional(),
            OutputSpec::published("box.svg", "box plot of each method's scores over datasets").optional(),
            OutputSpec::published("mcm.svg", "multiple comparison matrix (not without tests)").optional(),
            OutputSpec::published("scatter.svg", "the two best-ranked methods' scores, one point per dataset")
                .optional(),
        ]
    }
    fn source_files(&self, p: &AnalyzeParams, env: &RunEnv) -> Result<Vec<PathBuf>, StageError> {
        Ok(external_paths(p, env))
    }
    fn check(&self, p: &AnalyzeParams, env: &RunEnv) -> Result<(), CheckError> {
        let external = crate::param_name!(AnalyzeParams, external);
        options(p).map_err(|m| CheckError::param(crate::param_name!(AnalyzeParams, alpha), m))?;
        aliases(p).map_err(|m| CheckError::param(crate::param_name!(AnalyzeParams, aliases), m))?;
        for e in externals(p, &env.pipeline_dir).map_err(|m| CheckError::param(external, m))? {
            if !e.path.exists() {
                return Err(CheckError::param(external, format!("no such file or folder: {}", e.path.display())));
            }
            read_external_with(&e, p).map_err(|m| CheckError::param(external, m))?;
        }
        Ok(())
    }
    fn run(&self, ctx: &StageContext<'_>, p: &AnalyzeParams) -> Result<(), StageError> {
        let metric = p.metric.as_str();
        let mut records = Vec::new();
        let mut parts = Vec::new();
        for a in ctx.gathered("results") {
            if a.files.contains_key("metrics.json") {
                records.push(super::evaluate::read_record(a)?);
            } else if let Some(p) = a.files.get("results_long.csv") {
                let mut s =
                    Scores::read_csv(p, metric, &Resample::Mean).map_err(|e| StageError::failed(e.to_string()))?;
                s.source = a.from.clone();
                for l in &mut s.layouts {
                    l.source = a.from.clone();
                }
                parts.push(s);
            } else {
                return Err(StageError::failed(format!(
                    "`{}` is neither an evaluate nor a table stage (no metrics.json or results_long.csv)",
                    a.from
                )));
            }
        }
        if !records.is_empty() {
            let own = scores_from_records("this pipeline", &records, metric).map_err(StageError::failed)?;
            parts.insert(0, own);
        }
        for e in externals(p, &ctx.env.pipeline_dir).map_err(StageError::failed)? {
            parts.push(read_external_with(&e, p).map_err(StageError::failed)?);
        }
        if parts.is_empty() {
            return Err(StageError::failed("nothing to analyse: give `inputs.results` or `external` tables"));
        }
        let analysis = analyse_with(parts, p).map_err(StageError::failed)?;
        for (name, bytes) in render(&analysis).map_err(StageError::failed)? {
            ctx.write(name, bytes)?;
        }
        Ok(())
    }
}
