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
use crate::plot::cd_diagram::{CdDiagram, cd_diagram_png, cd_diagram_svg};
use crate::stats::analysis::CdParts;
use crate::stats::exact::FLOAT_DECIMALS;
use crate::stats::scores::MergeReport;
use crate::stats::wilcoxon::{self, ZeroMethod};
use crate::stats::{Analysis, AnalysisOptions, Exact, GroupTest, Missing, Resample, Scores, analyze};

pub struct Analyze;

const DIRECTIONS: &[&str] = &["auto", "higher", "lower"];

crate::stage_params! {
    /// Parameters of `analyze` (and of the `tscpipe analyze` command).
    pub struct AnalyzeParams {
        /// the score compared
        pub metric: String [Enum(METRICS) = "accuracy"],
        /// whether higher or lower is better (auto: lower for error)
        pub direction: String [Enum(DIRECTIONS) = "auto"],
        /// published result tables (CSV, wide or long), relative to the pipeline file
        pub external: Vec<String> [List(Str) = Json::Array(vec![])],
        /// dataset renames for external tables, e.g. { Gun_Point = "GunPoint" }
        pub aliases: serde_json::Map<String, Json> [Table = Json::Object(Default::default())],
        /// long tables: average the resamples ("mean") or keep one resample id
        pub resample: String [Str = "mean"],
        /// datasets without a result for every method: fail, or intersect (and report them)
        pub missing: String [Enum(Missing::NAMES) = "fail"],
        /// significance level
        pub alpha: f64 [Float = 0.05],
        /// Wilcoxon: zero differences dropped (wilcox), ranked then dropped (pratt), or split
        pub zero_method: String [Enum(ZeroMethod::NAMES) = "wilcox"],
        /// continuity correction (normal approx.)
        pub correction: bool [Bool = true],
        /// exact or normal p-values (auto chooses as SciPy does)
        pub wilcoxon_method: String [Enum(wilcoxon::Method::NAMES) = "auto"],
        /// which test the CD diagram's bars follow
        pub groups: String [Enum(GroupTest::NAMES) = "wilcoxon_holm"],
    }
}

/// Scores of the pipeline's own evaluations, exact from counts where the metric allows.
pub fn scores_from_records(source: &str, records: &[EvalRecord], metric: &str) -> Result<Scores, String> {
    let (datasets, methods, values) = record_matrix(records, |r| {
        match metric {
            "accuracy" => Exact::from_counts(r.correct, r.total),
            "error" => Exact::from_counts(r.total.saturating_sub(r.correct), r.total),
            other => r.metric(other).and_then(|v| Exact::from_f64(v, FLOAT_DECIMALS)),
        }
        .ok_or_else(|| format!("no `{metric}` for {} on {}", r.method, r.dataset))
    })?;
    let n_classes = records.iter().map(|r| (r.dataset.clone(), r.n_classes)).collect();
    Ok(Scores { source: source.to_string(), metric: metric.to_string(), datasets, methods, values, n_classes })
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
    let zero_method = ZeroMethod::parse(&p.zero_method).unwrap_or_default();
    let method = wilcoxon::Method::parse(&p.wilcoxon_method).unwrap_or_default();
    let correction = p.correction;
    let groups = GroupTest::parse(&p.groups).unwrap_or_default();
    let missing = Missing::parse(&p.missing).unwrap_or_default();
    let resample = match p.resample.as_str() {
        "mean" => Resample::Mean,
        id => Resample::Only(id.to_string()),
    };
    let opts = AnalysisOptions {
        alpha,
        higher_is_better,
        wilcoxon: wilcoxon::Options { zero_method, correction, method },
        groups,
    };
    Ok((opts, missing, resample))
}

fn external_paths(p: &AnalyzeParams, env: &RunEnv) -> Vec<PathBuf> {
    p.external.iter().map(|s| env.pipeline_dir.join(s)).collect()
}

/// Everything an analysis writes, as (file name, bytes): the statistics and the CD diagram.
pub fn render(analysis: &Analysis) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
    let CdParts { methods, groups, cd } = analysis.cd_diagram_parts();
    let caption = analysis.cd_caption();
    let d = CdDiagram { methods: &methods, groups: &groups, cd, title: Some(&caption) };
    let svg = cd_diagram_svg(&d).map_err(|e| format!("critical-difference diagram: {e}"))?;
    let png = cd_diagram_png(&d).map_err(|e| format!("critical-difference diagram: {e}"))?;
    Ok(vec![
        ("analysis.json", analysis.to_json().into_bytes()),
        ("ranks.csv", analysis.ranks_csv().into_bytes()),
        ("pairs.csv", analysis.pairs_csv().into_bytes()),
        ("analysis.md", analysis.to_markdown().into_bytes()),
        ("cd.svg", svg.into_bytes()),
        ("cd.png", png),
    ])
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

/// Reads a published table, renaming its datasets by `aliases` (parameters as in [`run_analysis`]).
pub fn read_external(path: &Path, p: &Params) -> Result<Scores, String> {
    read_external_with(path, &AnalyzeParams::from_params(p).map_err(|e| e.to_string())?)
}

fn read_external_with(path: &Path, p: &AnalyzeParams) -> Result<Scores, String> {
    let (_, _, resample) = options(p)?;
    let mut s = Scores::read_csv(path, &p.metric, &resample).map_err(|e| e.to_string())?;
    s.rename_datasets(&aliases(p)?).map_err(|e| e.to_string())?;
    Ok(s)
}

impl TypedStage for Analyze {
    type Params = AnalyzeParams;
    fn name(&self) -> &'static str {
        "analyze"
    }
    fn version(&self) -> u32 {
        1
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
            OutputSpec::published("cd.svg", "critical-difference diagram (SVG)"),
            OutputSpec::published("cd.png", "critical-difference diagram (PNG)"),
        ]
    }
    fn source_files(&self, p: &AnalyzeParams, env: &RunEnv) -> Result<Vec<PathBuf>, StageError> {
        Ok(external_paths(p, env))
    }
    fn check(&self, p: &AnalyzeParams, env: &RunEnv) -> Result<(), CheckError> {
        options(p).map_err(|m| CheckError::param(crate::param_name!(AnalyzeParams, alpha), m))?;
        aliases(p).map_err(|m| CheckError::param(crate::param_name!(AnalyzeParams, aliases), m))?;
        let external = crate::param_name!(AnalyzeParams, external);
        for path in external_paths(p, env) {
            if !path.is_file() {
                return Err(CheckError::param(external, format!("no such file: {}", path.display())));
            }
            read_external_with(&path, p).map_err(|m| CheckError::param(external, m))?;
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
                let s = Scores::read_csv(p, metric, &Resample::Mean)?;
                parts.push(Scores { source: a.from.clone(), ..s });
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
        for path in external_paths(p, ctx.env) {
            parts.push(read_external_with(&path, p).map_err(StageError::failed)?);
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
