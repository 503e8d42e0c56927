//! A comparison of methods as one call: its options ([`Comparison`], which the `analyze` stage
//! builds from its parameters and the `tscpipe analyze` command parses straight from its flags),
//! the tables it reads ([`External`]), the analysis and the files it writes ([`render`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::analysis::{CdParts, McmParts};
use super::scores::MergeReport;
use super::wilcoxon::{self, Alternative, ZeroMethod};
use super::{Analysis, AnalysisOptions, GroupTest, Missing, Mode, ReadSpec, Resample, Scores, StatsError, analyze};
use crate::plot::PlotError;
use crate::plot::box_plot::{BoxPlot, box_plot_svg};
use crate::plot::cd_diagram::{CdDiagram, cd_diagram_png, cd_diagram_svg};
use crate::plot::mcm::{Mcm, mcm_svg};
use crate::plot::pairwise_scatter::{PairwiseScatter, pairwise_scatter_svg};

/// Whether higher or lower scores are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Lower for errors and losses (a metric named `error`, `loss` or ending so), higher otherwise.
    #[default]
    Auto,
    Higher,
    Lower,
}

impl Direction {
    pub const NAMES: &'static [&'static str] = &["auto", "higher", "lower"];
    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "auto" => Some(Direction::Auto),
            "higher" => Some(Direction::Higher),
            "lower" => Some(Direction::Lower),
            _ => None,
        }
    }
    pub fn higher_is_better(self, metric: &str) -> bool {
        match self {
            Direction::Higher => true,
            Direction::Lower => false,
            Direction::Auto => {
                !matches!(metric, "error" | "loss") && !metric.ends_with("error") && !metric.ends_with("loss")
            }
        }
    }
}

/// A clap parser for a closed set of names (shown in `--help`) read by `parse`.
fn named<T: Clone + Send + Sync + 'static>(
    names: &'static [&'static str],
    parse: fn(&str) -> Option<T>,
) -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(names)
        .try_map(move |s: String| parse(&s).ok_or_else(|| StatsError::Invalid(format!("unknown value `{s}`"))))
}

fn parse_resample(s: &str) -> Result<Resample, StatsError> {
    Ok(match s.trim() {
        "mean" => Resample::Mean,
        id => Resample::Only(id.to_string()),
    })
}

fn parse_alias(s: &str) -> Result<(String, String), StatsError> {
    let (old, new) =
        s.split_once('=').ok_or_else(|| StatsError::Invalid(format!("--alias takes OLD=NEW, not `{s}`")))?;
    Ok((old.trim().to_string(), new.trim().to_string()))
}

/// How methods are compared: the one set of options of the `analyze` stage (which converts its
/// parameters into it) and of the `tscpipe analyze` command (clap reads its flags into it).
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct Comparison {
    /// The score compared: the score column of long tables (wide tables hold one score).
    #[arg(long, default_value = "accuracy")]
    pub metric: String,
    /// Whether higher or lower scores are better (auto: lower for error/loss).
    #[arg(long, default_value = "auto", value_parser = named(Direction::NAMES, Direction::parse))]
    pub direction: Direction,
    /// Datasets without a result for every method: fail, or analyse the rest (and say which).
    #[arg(long, default_value = "fail", value_parser = named(Missing::NAMES, Missing::parse))]
    pub missing: Missing,
    /// Long tables: average the resamples (mean) or keep one resample id.
    #[arg(long, default_value = "mean", value_parser = parse_resample)]
    pub resample: Resample,
    /// Significance level.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Wilcoxon zero differences: pratt (rank, then drop; aeon's and dl-4-tsc's choice), wilcox (drop; SciPy's default), zsplit.
    #[arg(long, default_value = "pratt", value_parser = named(ZeroMethod::NAMES, ZeroMethod::parse))]
    pub zero_method: ZeroMethod,
    /// Continuity correction of the Wilcoxon normal approximation (off by default, as SciPy).
    #[arg(long)]
    pub correction: bool,
    /// Wilcoxon alternative; greater/less test the better-ranked method of each pair (as aeon).
    #[arg(long, default_value = "two-sided", value_parser = named(Alternative::NAMES, Alternative::parse))]
    pub alternative: Alternative,
    /// Arithmetic: float (float64, as SciPy and pandas) or exact (decimal differences tie exactly).
    #[arg(long, default_value = "float", value_parser = named(Mode::NAMES, Mode::parse))]
    pub mode: Mode,
    /// Wilcoxon p-values: exact or normal (auto chooses as SciPy does).
    #[arg(long, default_value = "auto", value_parser = named(wilcoxon::Method::NAMES, wilcoxon::Method::parse))]
    pub wilcoxon_method: wilcoxon::Method,
    /// Which test the diagram's bars follow.
    #[arg(long, default_value = "wilcoxon_holm", value_parser = named(GroupTest::NAMES, GroupTest::parse))]
    pub groups: GroupTest,
    /// Rename a dataset of the tables: --alias Gun_Point=GunPoint (repeatable).
    #[arg(long = "alias", value_name = "OLD=NEW", value_parser = parse_alias)]
    pub aliases: Vec<(String, String)>,
}

/// The command's defaults, which are the stage's.
impl Default for Comparison {
    fn default() -> Self {
        Comparison {
            metric: "accuracy".into(),
            direction: Direction::Auto,
            missing: Missing::Fail,
            resample: Resample::Mean,
            alpha: 0.05,
            zero_method: ZeroMethod::Pratt,
            correction: false,
            alternative: Alternative::TwoSided,
            mode: Mode::Float,
            wilcoxon_method: wilcoxon::Method::Auto,
            groups: GroupTest::WilcoxonHolm,
            aliases: Vec::new(),
        }
    }
}

impl Comparison {
    /// The statistical tests' options; an `alpha` outside (0, 1) is an error.
    pub fn analysis_options(&self) -> Result<AnalysisOptions, StatsError> {
        let alpha = self.alpha;
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(StatsError::Invalid(format!("alpha must be between 0 and 1, not {alpha}")));
        }
        Ok(AnalysisOptions {
            alpha,
            higher_is_better: self.direction.higher_is_better(&self.metric),
            wilcoxon: wilcoxon::Options {
                zero_method: self.zero_method,
                correction: self.correction,
                method: self.wilcoxon_method,
                alternative: self.alternative,
            },
            groups: self.groups,
            mode: self.mode,
        })
    }

    /// The dataset renames, old name → new.
    pub fn alias_map(&self) -> BTreeMap<String, String> {
        self.aliases.iter().cloned().collect()
    }

    /// Reads a published table, its datasets renamed by the aliases.
    pub fn read_table(&self, e: &External) -> Result<Scores, StatsError> {
        let mut s = Scores::read_path_with(&e.path, &self.metric, &self.resample, &e.spec)?;
        s.rename_datasets(&self.alias_map())?;
        Ok(s)
    }

    /// Merges score tables, completes them as `missing` says, and analyses them.
    pub fn analyse(&self, parts: Vec<Scores>) -> Result<Analysis, StatsError> {
        let opts = self.analysis_options()?;
        let merged = Scores::merge(parts)?;
        let (complete, MergeReport { dropped }) = merged.complete(self.missing)?;
        analyze(&complete, &opts, dropped)
    }
}

/// One table to compare: a file (or folder of tsml-eval results), and optionally the score
/// column and the method it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct External {
    pub path: PathBuf,
    pub spec: ReadSpec,
}

impl External {
    /// A table whose layout says what it holds.
    pub fn file(path: PathBuf) -> External {
        External { path, spec: ReadSpec::default() }
    }
}

/// A command-line table: `FILE`, `FILE=METHOD`, `FILE:COLUMN` or `FILE:COLUMN=METHOD` (the score
/// column of a table of one method's statistics, and the method's name). A path that exists as
/// written is always just a file.
impl FromStr for External {
    type Err = std::convert::Infallible;

    fn from_str(arg: &str) -> Result<External, Self::Err> {
        if Path::new(arg).exists() {
            return Ok(External::file(PathBuf::from(arg)));
        }
        let (left, method) = match arg.rsplit_once('=') {
            Some((l, m)) if !m.is_empty() => (l, Some(m.to_string())),
            _ => (arg, None),
        };
        let (file, score) = match left.rsplit_once(':') {
            Some((f, c)) if !Path::new(left).exists() && !f.is_empty() && !c.is_empty() => (f, Some(c.to_string())),
            _ => (left, None),
        };
        Ok(External { path: PathBuf::from(file), spec: ReadSpec { score, method } })
    }
}

/// A figure of an analysis that could not be drawn, and which one.
#[derive(Debug, thiserror::Error)]
#[error("{figure}: {source}")]
pub struct FigureError {
    pub figure: &'static str,
    #[source]
    pub source: PlotError,
}

fn figure(figure: &'static str) -> impl FnOnce(PlotError) -> FigureError {
    move |source| FigureError { figure, source }
}

/// Everything an analysis writes, as (file name, bytes): the statistics, the CD diagram and the
/// box plot (with two methods or more), the MCM and the scatter of the two best methods (when
/// there are tests).
pub fn render(analysis: &Analysis) -> Result<Vec<(&'static str, Vec<u8>)>, FigureError> {
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
        let svg = cd_diagram_svg(&d).map_err(figure("critical-difference diagram"))?;
        let png = cd_diagram_png(&d).map_err(figure("critical-difference diagram"))?;
        out.push(("cd.svg", svg.into_bytes()));
        out.push(("cd.png", png));
    }
    if !analysis.methods.is_empty() && !analysis.datasets.is_empty() {
        out.push(("box.svg", box_svg(analysis)?.into_bytes()));
    }
    if analysis.untestable.is_none() {
        out.push(("mcm.svg", mcm(analysis)?.into_bytes()));
        if let Some(svg) = top_pair_scatter(analysis)? {
            out.push(("scatter.svg", svg.into_bytes()));
        }
    }
    Ok(out)
}

fn box_svg(analysis: &Analysis) -> Result<String, FigureError> {
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
    box_plot_svg(&b).map_err(figure("box plot"))
}

fn mcm(analysis: &Analysis) -> Result<String, FigureError> {
    let McmParts { methods, cells } = analysis.mcm_parts();
    let title = format!("Multiple comparison matrix ({})", analysis.metric);
    let m = Mcm {
        title: &title,
        methods: &methods,
        cells: &cells,
        alpha: analysis.options.alpha,
        p_label: "Holm-adjusted Wilcoxon p",
        higher_is_better: analysis.higher_is_better,
    };
    mcm_svg(&m).map_err(figure("MCM"))
}

/// The scatter of the two best-ranked methods' scores, if there are two.
fn top_pair_scatter(analysis: &Analysis) -> Result<Option<String>, FigureError> {
    let Some((a, b)) = analysis.top_pair() else { return Ok(None) };
    let points: Vec<(String, f64, f64)> =
        analysis.datasets.iter().zip(&analysis.scores).map(|(d, r)| (d.clone(), r[a], r[b])).collect();
    let (an, bn) = (&analysis.methods[a], &analysis.methods[b]);
    let pair = analysis.pairs.iter().find(|p| (&p.a, &p.b) == (an, bn) || (&p.a, &p.b) == (bn, an));
    let note = pair
        .map(|p| {
            let (w, l) = if p.a == *an { (p.wins, p.losses) } else { (p.losses, p.wins) };
            format!("{an} wins / ties / losses: {w} / {} / {l}; Holm-adjusted Wilcoxon p = {:.4}", p.ties, p.p_holm)
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
    pairwise_scatter_svg(&s).map(Some).map_err(figure("pairwise scatter"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_arguments_name_a_column_and_a_method() {
        let e: External = "no/such/table.csv:accuracy_mean=ROCKET".parse().unwrap();
        assert_eq!(e.path, PathBuf::from("no/such/table.csv"));
        assert_eq!(e.spec, ReadSpec { score: Some("accuracy_mean".into()), method: Some("ROCKET".into()) });
        let e: External = "no/such/HC2.csv=HC2".parse().unwrap();
        assert_eq!((e.spec.score, e.spec.method), (None, Some("HC2".to_string())));
        let here = env!("CARGO_MANIFEST_DIR");
        assert_eq!(here.parse::<External>().unwrap(), External::file(PathBuf::from(here)));
    }

    #[test]
    fn the_direction_follows_the_metric_unless_given() {
        let c = Comparison { metric: "error".into(), ..Comparison::default() };
        assert!(!c.analysis_options().unwrap().higher_is_better);
        assert!(Comparison::default().analysis_options().unwrap().higher_is_better);
        let c = Comparison { metric: "error".into(), direction: Direction::Higher, ..Comparison::default() };
        assert!(c.analysis_options().unwrap().higher_is_better);
        let bad = Comparison { alpha: 1.5, ..Comparison::default() };
        assert!(bad.analysis_options().unwrap_err().to_string().contains("alpha must be between 0 and 1"));
        // The defaults are the analysis' own (SciPy's float64, Pratt's zeros, two-sided).
        assert_eq!(Comparison::default().analysis_options().unwrap(), AnalysisOptions::default());
    }
}
