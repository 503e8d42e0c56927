//! `analyze`: the statistical comparison of the methods a pipeline ran (gathered evaluate or
//! table stages) and/or published result tables (CSV): ranks, Friedman, Wilcoxon–Holm, Nemenyi,
//! and the critical-difference diagram.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::artifact::read_record;
use super::kind::{CheckError, RunEnv, StageContext, StageError, TypedStage};
use super::spec::{InputSpec, OutputSpec};
use crate::metrics::record::METRICS;
use crate::param_name;
use crate::stats::compare::{Comparison, Direction, External, render};
use crate::stats::results::scores_from_records;
use crate::stats::wilcoxon::{self, Alternative, ZeroMethod};
use crate::stats::{GroupTest, Missing, Mode, ReadSpec, Resample, Scores};

pub struct Analyze;

crate::stage_params! {
    /// Parameters of `analyze` (and of the `tscpipe analyze` command).
    pub struct AnalyzeParams {
        /// the score compared
        pub metric: String [Enum(METRICS) = "accuracy"],
        /// whether higher or lower is better (auto: lower for error)
        pub direction: String [Enum(Direction::NAMES) = "auto"],
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

/// The comparison these parameters ask for (a parameter that does not convert is named).
pub fn comparison(p: &AnalyzeParams) -> Result<Comparison, CheckError> {
    let unknown = |param: &'static str, names: &[&str], v: &str| {
        CheckError::param(param, format!("must be one of {}, not `{v}`", names.join(", ")))
    };
    let direction = Direction::parse(&p.direction)
        .ok_or_else(|| unknown(param_name!(AnalyzeParams, direction), Direction::NAMES, &p.direction))?;
    let missing = Missing::parse(&p.missing)
        .ok_or_else(|| unknown(param_name!(AnalyzeParams, missing), Missing::NAMES, &p.missing))?;
    let zero_method = ZeroMethod::parse(&p.zero_method)
        .ok_or_else(|| unknown(param_name!(AnalyzeParams, zero_method), ZeroMethod::NAMES, &p.zero_method))?;
    let wilcoxon_method = wilcoxon::Method::parse(&p.wilcoxon_method).ok_or_else(|| {
        unknown(param_name!(AnalyzeParams, wilcoxon_method), wilcoxon::Method::NAMES, &p.wilcoxon_method)
    })?;
    let groups = GroupTest::parse(&p.groups)
        .ok_or_else(|| unknown(param_name!(AnalyzeParams, groups), GroupTest::NAMES, &p.groups))?;
    let alternative = match p.alternative.as_deref() {
        None => Alternative::TwoSided,
        Some(a) => Alternative::parse(a)
            .ok_or_else(|| unknown(param_name!(AnalyzeParams, alternative), Alternative::NAMES, a))?,
    };
    let mode = match p.mode.as_deref() {
        None => Mode::Float,
        Some(m) => Mode::parse(m).ok_or_else(|| unknown(param_name!(AnalyzeParams, mode), Mode::NAMES, m))?,
    };
    let resample = match p.resample.as_str() {
        "mean" => Resample::Mean,
        id => Resample::Only(id.to_string()),
    };
    let mut aliases = Vec::new();
    for (k, v) in &p.aliases {
        let v = v.as_str().ok_or_else(|| {
            CheckError::param(
                param_name!(AnalyzeParams, aliases),
                format!("alias `{k}` must name a dataset (a string)"),
            )
        })?;
        aliases.push((k.clone(), v.to_string()));
    }
    let c = Comparison {
        metric: p.metric.clone(),
        direction,
        missing,
        resample,
        alpha: p.alpha,
        zero_method,
        correction: p.correction,
        alternative,
        mode,
        wilcoxon_method,
        groups,
        aliases,
    };
    c.analysis_options().map_err(|e| CheckError::param(param_name!(AnalyzeParams, alpha), e.to_string()))?;
    Ok(c)
}

/// `external = ["dl4tsc.csv", { file = "rocket.csv", score = "accuracy_mean", method = "ROCKET" }]`.
pub fn externals(p: &AnalyzeParams, base: &Path) -> Result<Vec<External>, CheckError> {
    let bad = |message: String| CheckError::param(param_name!(AnalyzeParams, external), message);
    let mut out = Vec::new();
    for (i, e) in p.external.iter().enumerate() {
        match e {
            Json::String(f) => out.push(External::file(base.join(f))),
            Json::Object(t) => {
                let field = |k: &str| -> Result<Option<String>, CheckError> {
                    match t.get(k) {
                        None => Ok(None),
                        Some(Json::String(v)) => Ok(Some(v.clone())),
                        Some(_) => Err(bad(format!("external[{i}].{k} must be a string"))),
                    }
                };
                if let Some(k) = t.keys().find(|k| !["file", "score", "method"].contains(&k.as_str())) {
                    return Err(bad(format!("external[{i}]: unknown key `{k}` (file, score, method)")));
                }
                let file = field("file")?.ok_or_else(|| bad(format!("external[{i}] needs `file`")))?;
                let spec = ReadSpec { score: field("score")?, method: field("method")? };
                out.push(External { path: base.join(file), spec });
            }
            _ => return Err(bad(format!("external[{i}] must be a file name or {{ file, score, method }}"))),
        }
    }
    Ok(out)
}

fn external_paths(p: &AnalyzeParams, env: &RunEnv) -> Vec<PathBuf> {
    externals(p, &env.pipeline_dir).map(|v| v.into_iter().map(|e| e.path).collect()).unwrap_or_default()
}

/// A parameter error found while running (`check` reports them before a run).
fn invalid(e: CheckError) -> StageError {
    StageError::failed(format!("parameter `{}`: {}", e.param.unwrap_or("?"), e.message))
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
        let c = comparison(p)?;
        let external = param_name!(AnalyzeParams, external);
        for e in externals(p, &env.pipeline_dir)? {
            if !e.path.exists() {
                return Err(CheckError::param(external, format!("no such file or folder: {}", e.path.display())));
            }
            c.read_table(&e).map_err(|m| CheckError::param(external, m.to_string()))?;
        }
        Ok(())
    }
    fn run(&self, ctx: &StageContext<'_>, p: &AnalyzeParams) -> Result<(), StageError> {
        let c = comparison(p).map_err(invalid)?;
        let mut records = Vec::new();
        let mut parts = Vec::new();
        for a in ctx.gathered("results") {
            if a.files.contains_key("metrics.json") {
                records.push(read_record(a)?);
            } else if let Some(p) = a.files.get("results_long.csv") {
                let mut s = Scores::read_csv(p, &c.metric, &Resample::Mean)?;
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
            parts.insert(0, scores_from_records("this pipeline", &records, &c.metric)?);
        }
        for e in externals(p, &ctx.env.pipeline_dir).map_err(invalid)? {
            parts.push(c.read_table(&e)?);
        }
        if parts.is_empty() {
            return Err(StageError::failed("nothing to analyse: give `inputs.results` or `external` tables"));
        }
        let analysis = c.analyse(parts)?;
        let files =
            render(&analysis).map_err(|e| StageError::Figure { figure: e.figure.to_string(), source: e.source })?;
        for (name, bytes) in files {
            ctx.write(name, bytes)?;
        }
        Ok(())
    }
}
