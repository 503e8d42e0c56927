//! The input of an analysis: a datasets × methods table of exact scores, built from the
//! pipeline's own evaluation records or read from published result tables (CSV, wide or long),
//! and merged on dataset name with every missing cell reported, never silently dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use super::StatsError;
use super::analysis::{InputLayout, ResampleSummary};
use super::value::{Score, kahan_mean, sample_sd};

mod layouts;
use layouts::CsvTable;

/// Scores of methods on datasets.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// Where these scores come from (a file, or the pipeline stage), for messages.
    pub source: String,
    pub metric: String,
    pub datasets: Vec<String>,
    pub methods: Vec<String>,
    /// `[dataset][method]`; `None` where the method has no result on the dataset.
    pub values: Vec<Vec<Option<Score>>>,
    /// Number of classes per dataset, where known (for MPCE).
    pub n_classes: BTreeMap<String, usize>,
    /// How each input table was read (for the analysis report).
    pub layouts: Vec<InputLayout>,
    /// The float scores of each resample, for (dataset, method) cells averaged over several.
    pub per_resample: BTreeMap<(String, String), Vec<f64>>,
}

/// What to take from one table: the score column and the method it belongs to, for tables that
/// hold one method's statistics (ROCKET's `accuracy_mean, …, time_test_seconds`) or that name
/// no method (aeon's `Resamples:` files).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSpec {
    pub score: Option<String>,
    pub method: Option<String>,
}

/// Which resample of a long table to use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Resample {
    /// The mean over all resamples of a (dataset, method).
    #[default]
    Mean,
    /// Only rows with this resample id (e.g. `0`, the original train/test split).
    Only(String),
}

impl Resample {
    /// Whether a table's resample id (`0`, `0.0`) is the one asked for.
    fn matches(want: &str, id: &str) -> bool {
        want == id || matches!((want.parse::<f64>(), id.parse::<f64>()), (Ok(a), Ok(b)) if a == b)
    }
}

/// What to do with datasets some method has no result on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Missing {
    /// Stop with the list of missing results.
    #[default]
    Fail,
    /// Analyse the datasets every method has, and report the ones left out.
    Intersect,
}

impl Missing {
    pub const NAMES: &'static [&'static str] = &["fail", "intersect"];
    pub fn parse(s: &str) -> Option<Missing> {
        match s {
            "fail" => Some(Missing::Fail),
            "intersect" => Some(Missing::Intersect),
            _ => None,
        }
    }
}

/// What merging had to leave out, for the analysis report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MergeReport {
    /// Datasets dropped because some method had no result, with those methods.
    pub dropped: Vec<DroppedDataset>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DroppedDataset {
    pub dataset: String,
    pub missing: Vec<String>,
}

const DATASET_COLUMNS: &[&str] = &["dataset", "datasets", "problem", "dataset_name", "name"];
const METHOD_COLUMNS: &[&str] = &[
    "method",
    "classifier",
    "algorithm",
    "model",
    "estimator",
    "classifier_name",
    "method_name",
    "model_name",
    "estimator_name",
];
const RESAMPLE_COLUMNS: &[&str] = &["resample", "iteration", "fold", "run", "seed", "split"];
const CLASS_COLUMNS: &[&str] = &["n_classes", "classes", "num_classes", "nb_classes"];
const MISSING_CELLS: &[&str] = &["", "na", "nan", "n/a", "-", "–", "?", "null", "none"];
/// Words that name a statistic or a measurement rather than a method: a wide table with such a
/// column holds one method's statistics (ROCKET's `results_ucr.csv`).
const STATISTIC_WORDS: &[&str] = &[
    "time",
    "times",
    "seconds",
    "second",
    "secs",
    "sec",
    "duration",
    "std",
    "stdev",
    "sd",
    "standard",
    "deviation",
    "variance",
    "var",
    "memory",
    "mean",
    "avg",
    "average",
    "median",
    "accuracy",
    "acc",
    "error",
    "f1",
    "auc",
    "precision",
    "recall",
    "loss",
    "train",
    "training",
    "test",
    "testing",
    "length",
    "size",
    "count",
];

fn find(header: &[String], names: &[&str]) -> Option<usize> {
    header.iter().position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
}

fn looks_like_statistic(column: &str) -> bool {
    column
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| STATISTIC_WORDS.iter().any(|s| w.eq_ignore_ascii_case(s)))
}

/// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    crate::util::csv::split_line(line).ok_or_else(|| "unterminated quoted field".to_string())
}

/// The method a one-method file is about, from its name: `HC2_accuracy.csv` → `HC2`.
fn method_from_file_name(source: &str, metric: &str) -> String {
    let stem = Path::new(source).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut name = stem.as_str();
    for suffix in [metric, "accuracy", "acc", "error", "results", "resamples"] {
        for sep in ["_", "-", " "] {
            if let Some(rest) = name.strip_suffix(&format!("{sep}{suffix}")).filter(|r| !r.is_empty()) {
                name = rest;
            }
        }
    }
    name.to_string()
}

impl Scores {
    /// Reads a published results table (see [`Scores::parse_csv_with`]).
    pub fn read_csv(path: &Path, metric: &str, resample: &Resample) -> Result<Scores, StatsError> {
        Scores::read_csv_with(path, metric, resample, &ReadSpec::default())
    }

    pub fn read_csv_with(
        path: &Path,
        metric: &str,
        resample: &Resample,
        spec: &ReadSpec,
    ) -> Result<Scores, StatsError> {
        let text = std::fs::read_to_string(path).map_err(|e| StatsError::Input {
            path: path.display().to_string(),
            line: None,
            message: e.to_string(),
        })?;
        Scores::parse_csv_with(&path.display().to_string(), &text, metric, resample, spec)
    }

    pub fn parse_csv(source: &str, text: &str, metric: &str, resample: &Resample) -> Result<Scores, StatsError> {
        Scores::parse_csv_with(source, text, metric, resample, &ReadSpec::default())
    }

    /// Reads a results table, recognising its layout:
    /// - aeon/tsml-eval reference results: `Resamples:,0,1,…,29`, one row per dataset, the
    ///   method named by the file (`HC2_accuracy.csv`) or by `spec.method`;
    /// - MiniRocket/Hydra resamples: `dataset,0,1,…,29`, likewise;
    /// - long tables (a method and a dataset column, e.g. dl-4-tsc's `classifier_name,
    ///   archive_name,dataset_name,iteration,…`), the `metric` (or `spec.score`) column, exact
    ///   `correct`/`total` counts where present, averaged over resamples;
    /// - the same with a pandas index column first (InceptionTime's file);
    /// - wide tables, one column per method — or, with `spec.score`, one column of one method.
    ///   A wide table whose columns name statistics (`accuracy_mean`, `time_training_seconds`)
    ///   is an error that shows how to name the score column.
    pub fn parse_csv_with(
        source: &str,
        text: &str,
        metric: &str,
        resample: &Resample,
        spec: &ReadSpec,
    ) -> Result<Scores, StatsError> {
        let table = CsvTable::parse(source, text)?;
        let header = &table.header;
        let mut scores = Scores::empty(source, metric);
        let first = header[0].trim().to_ascii_lowercase();
        let resample_columns = header.len() > 2 && header[1..].iter().all(|h| h.parse::<u32>().is_ok());
        let aeon = first.trim_end_matches(':') == "resamples";
        let layout = if aeon || (resample_columns && DATASET_COLUMNS.contains(&first.as_str())) {
            table.read_resamples(&mut scores, metric, resample, spec, aeon)?
        } else {
            match (find(header, METHOD_COLUMNS), find(header, DATASET_COLUMNS)) {
                (Some(mc), Some(dc)) => table.read_long(&mut scores, metric, resample, spec, (mc, dc))?,
                (None, _) => table.read_wide(&mut scores, metric, spec)?,
                (Some(_), None) => {
                    return Err(table.err(
                        Some(table.header_line),
                        format!("a long table needs a dataset column (one of {})", DATASET_COLUMNS.join(", ")),
                    ));
                }
            }
        };
        if scores.datasets.is_empty() {
            return Err(table.err(None, "the table has no results".into()));
        }
        scores.layouts.push(InputLayout { source: source.to_string(), layout });
        Ok(scores)
    }

    /// No datasets and no methods yet.
    fn empty(source: &str, metric: &str) -> Scores {
        Scores {
            source: source.to_string(),
            metric: metric.to_string(),
            datasets: Vec::new(),
            methods: Vec::new(),
            values: Vec::new(),
            n_classes: BTreeMap::new(),
            layouts: Vec::new(),
            per_resample: BTreeMap::new(),
        }
    }

    /// Scores from `(dataset, method, resamples)` cells, in first-seen order (readers of
    /// layouts that are not tables: [`super::tsml::read_collection`]).
    pub fn from_cells(
        source: &str,
        metric: &str,
        cells: Vec<(String, String, Vec<Score>)>,
        layout: InputLayout,
    ) -> Scores {
        let mut s = Scores { layouts: vec![layout], ..Scores::empty(source, metric) };
        for (d, m, vs) in cells {
            let (d, m) = (s.dataset_index(&d), s.method_index(&m));
            s.set_mean(d, m, &vs);
        }
        s
    }

    /// Reads a results table, or a tsml-eval results collection when `path` is a folder.
    pub fn read_path_with(
        path: &Path,
        metric: &str,
        resample: &Resample,
        spec: &ReadSpec,
    ) -> Result<Scores, StatsError> {
        if !path.is_dir() {
            return Scores::read_csv_with(path, metric, resample, spec);
        }
        if !super::tsml::is_collection(path) {
            return Err(StatsError::Input {
                path: path.display().to_string(),
                line: None,
                message: "a folder, but not a tsml-eval results collection (`<Method>/Predictions/<Dataset>/testResample<k>.csv`)".into(),
            });
        }
        let only = match resample {
            Resample::Mean => None,
            Resample::Only(id) => Some(id.trim().parse::<u64>().map_err(|_| StatsError::Input {
                path: path.display().to_string(),
                line: None,
                message: format!("resample `{id}`: a collection's resamples are numbered 0, 1, …"),
            })?),
        };
        let mut s = super::tsml::read_collection(path, metric, only)?;
        if let Some(name) = &spec.method {
            if s.methods.len() != 1 {
                return Err(StatsError::Input {
                    path: path.display().to_string(),
                    line: None,
                    message: format!(
                        "`method = \"{name}\"` renames one method; this collection has {}: {}",
                        s.methods.len(),
                        s.methods.join(", ")
                    ),
                });
            }
            s.rename_method(0, name);
        }
        Ok(s)
    }

    /// Sets a cell to the mean of its resamples (missing when there are none), keeping the
    /// resamples' floats when there are several.
    fn set_mean(&mut self, d: usize, m: usize, vs: &[Score]) {
        self.values[d][m] = Score::mean(vs);
        if vs.len() > 1 {
            self.per_resample
                .insert((self.datasets[d].clone(), self.methods[m].clone()), vs.iter().map(|v| v.float).collect());
        }
    }

    fn rename_method(&mut self, m: usize, name: &str) {
        let old = std::mem::replace(&mut self.methods[m], name.to_string());
        let keys: Vec<(String, String)> = self.per_resample.keys().filter(|(_, mm)| *mm == old).cloned().collect();
        for k in keys {
            if let Some(v) = self.per_resample.remove(&k) {
                self.per_resample.insert((k.0, name.to_string()), v);
            }
        }
    }

    /// Mean ± sd over resamples per cell, when some cell has more than one resample.
    pub fn resample_summary(&self) -> Option<ResampleSummary> {
        if self.per_resample.is_empty() {
            return None;
        }
        let cells = self
            .datasets
            .iter()
            .zip(&self.values)
            .map(|(d, row)| {
                self.methods
                    .iter()
                    .zip(row)
                    .map(|(m, v)| match self.per_resample.get(&(d.clone(), m.clone())) {
                        Some(vs) => (vs.len(), kahan_mean(vs.iter().copied()), sample_sd(vs)),
                        None => (usize::from(v.is_some()), v.map_or(f64::NAN, |v| v.float), None),
                    })
                    .collect()
            })
            .collect();
        Some(ResampleSummary { cells })
    }

    fn dataset_index(&mut self, name: &str) -> usize {
        if let Some(i) = self.datasets.iter().position(|d| d == name) {
            return i;
        }
        self.datasets.push(name.to_string());
        self.values.push(vec![None; self.methods.len()]);
        self.datasets.len() - 1
    }

    fn method_index(&mut self, name: &str) -> usize {
        if let Some(i) = self.methods.iter().position(|m| m == name) {
            return i;
        }
        self.methods.push(name.to_string());
        for row in &mut self.values {
            row.push(None);
        }
        self.methods.len() - 1
    }

    /// Renames datasets (published tables often use other spellings: `Gun_Point`, `ItPwDmd`).
    pub fn rename_datasets(&mut self, aliases: &BTreeMap<String, String>) -> Result<(), StatsError> {
        for d in &mut self.datasets {
            if let Some(new) = aliases.get(d.as_str()) {
                if let Some(k) = self.n_classes.remove(d.as_str()) {
                    self.n_classes.insert(new.clone(), k);
                }
                let keys: Vec<(String, String)> = self.per_resample.keys().filter(|(dd, _)| dd == d).cloned().collect();
                for k in keys {
                    if let Some(v) = self.per_resample.remove(&k) {
                        self.per_resample.insert((new.clone(), k.1), v);
                    }
                }
                *d = new.clone();
            }
        }
        let unique: BTreeSet<&String> = self.datasets.iter().collect();
        if unique.len() != self.datasets.len() {
            return Err(StatsError::Invalid(format!(
                "{}: after renaming, two rows name the same dataset; check the aliases",
                self.source
            )));
        }
        Ok(())
    }

    /// Joins tables on dataset name. A method may come from one table only.
    pub fn merge(parts: Vec<Scores>) -> Result<Scores, StatsError> {
        let mut it = parts.into_iter();
        let Some(mut out) = it.next() else {
            return Err(StatsError::Invalid("nothing to analyse".into()));
        };
        let mut origin: BTreeMap<String, String> =
            out.methods.iter().map(|m| (m.clone(), out.source.clone())).collect();
        for part in it {
            for m in &part.methods {
                if let Some(first) = origin.get(m) {
                    return Err(StatsError::Invalid(format!(
                        "method `{m}` is in both {first} and {}: rename one of them",
                        part.source
                    )));
                }
                origin.insert(m.clone(), part.source.clone());
                out.method_index(m);
            }
            for (d, row) in part.datasets.iter().zip(&part.values) {
                let di = out.dataset_index(d);
                for (m, v) in part.methods.iter().zip(row) {
                    let mi = out.method_index(m);
                    out.values[di][mi] = *v;
                }
            }
            for (d, k) in part.n_classes {
                out.n_classes.entry(d).or_insert(k);
            }
            out.layouts.extend(part.layouts);
            out.per_resample.extend(part.per_resample);
            out.source = format!("{} + {}", out.source, part.source);
        }
        Ok(out)
    }

    /// Keeps the datasets every method has a result on; under [`Missing::Fail`] any gap is an
    /// error that lists every missing result (and near dataset names, the usual cause).
    pub fn complete(mut self, missing: Missing) -> Result<(Scores, MergeReport), StatsError> {
        let mut report = MergeReport::default();
        let mut keep = Vec::new();
        for (d, row) in self.datasets.iter().zip(&self.values) {
            let gaps: Vec<String> =
                self.methods.iter().zip(row).filter(|(_, v)| v.is_none()).map(|(m, _)| m.clone()).collect();
            if gaps.is_empty() {
                keep.push(true);
            } else {
                keep.push(false);
                report.dropped.push(DroppedDataset { dataset: d.clone(), missing: gaps });
            }
        }
        if !report.dropped.is_empty() && missing == Missing::Fail {
            let names: BTreeSet<&String> = self.datasets.iter().collect();
            let mut lines: Vec<String> = report
                .dropped
                .iter()
                .map(|x| {
                    let others = names.iter().filter(|n| ***n != x.dataset).map(|n| n.as_str());
                    let near = crate::util::suggest::nearest(&x.dataset, others)
                        .map(|n| format!(" (is `{n}` the same dataset?)"))
                        .unwrap_or_default();
                    format!("  {}: no result for {}{near}", x.dataset, x.missing.join(", "))
                })
                .collect();
            lines.truncate(20);
            return Err(StatsError::Invalid(format!(
                "{} of {} datasets lack a result for some method:\n{}\nanalyse the datasets all methods share with `missing = \"intersect\"` (CLI: --missing intersect)",
                report.dropped.len(),
                self.datasets.len(),
                lines.join("\n")
            )));
        }
        let mut d = 0;
        self.datasets.retain(|_| {
            d += 1;
            keep[d - 1]
        });
        let mut d = 0;
        self.values.retain(|_| {
            d += 1;
            keep[d - 1]
        });
        Ok((self, report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::stats::exact::Exact;

    fn e(s: &str) -> Exact {
        Exact::parse_decimal(s).unwrap()
    }

    fn ex(row: &[Option<Score>]) -> Vec<Option<Exact>> {
        row.iter().map(|v| v.map(|v| v.exact)).collect()
    }

    #[test]
    fn wide_table_with_gaps_and_percentages() {
        let s = Scores::parse_csv(
            "pub.csv",
            "Dataset,ResNet,\"FCN, v2\",NN\nGunPoint,0.99,100%,-\n\nCoffee,1,1.0,0.75\n",
            "accuracy",
            &Resample::Mean,
        )
        .unwrap();
        assert_eq!(s.methods, ["ResNet", "FCN, v2", "NN"]);
        assert_eq!(s.datasets, ["GunPoint", "Coffee"]);
        assert_eq!(ex(&s.values[0]), [Some(e("0.99")), Some(e("1")), None]);
        let err = Scores::complete(s.clone(), Missing::Fail).unwrap_err().to_string();
        assert!(err.contains("GunPoint: no result for NN"), "{err}");
        let (kept, report) = s.complete(Missing::Intersect).unwrap();
        assert_eq!(kept.datasets, ["Coffee"]);
        assert_eq!(report.dropped[0].dataset, "GunPoint");
    }

    #[test]
    fn long_table_averages_resamples_or_picks_one() {
        let text = "classifier,dataset,resample,accuracy\nA,X,0,0.5\nA,X,1,0.7\nB,X,0,0.6\nB,X,1,0.6\n";
        let s = Scores::parse_csv("l.csv", text, "accuracy", &Resample::Mean).unwrap();
        assert_eq!(ex(&s.values[0]), [Some(e("0.6")), Some(e("0.6"))]);
        let s = Scores::parse_csv("l.csv", text, "accuracy", &Resample::Only("1".into())).unwrap();
        assert_eq!(ex(&s.values[0]), [Some(e("0.7")), Some(e("0.6"))]);
    }

    #[test]
    fn long_table_uses_exact_counts() {
        let text = "dataset,method,correct,total,n_classes,accuracy\nGunPoint,ED,137,150,2,0.913333\n";
        let s = Scores::parse_csv("ours.csv", text, "accuracy", &Resample::Mean).unwrap();
        assert_eq!(s.values[0][0].map(|v| v.exact), Exact::from_counts(137, 150));
        assert_eq!(s.n_classes["GunPoint"], 2);
        let s = Scores::parse_csv("ours.csv", text, "error", &Resample::Mean).unwrap();
        assert_eq!(s.values[0][0].map(|v| v.exact), Exact::from_counts(13, 150));
    }

    #[test]
    fn bad_cells_name_file_line_and_column() {
        let err = Scores::parse_csv("p.csv", "dataset,A\nX,0.5\nY,abc\n", "accuracy", &Resample::Mean).unwrap_err();
        assert_eq!(err.to_string(), "p.csv:3: `abc` in column `A` is not a number");
        let err = Scores::parse_csv("p.csv", "dataset,A\nX,0.5,1\n", "accuracy", &Resample::Mean).unwrap_err();
        assert_eq!(err.to_string(), "p.csv:2: 3 fields where the header (line 1) has 2");
        let err = Scores::parse_csv("p.csv", "method,dataset,acc\nA,X,1\nA,X,2\n", "accuracy", &Resample::Mean)
            .unwrap_err()
            .to_string();
        assert!(err.contains("2 rows for dataset `X` and method `A`"), "{err}");
    }

    #[test]
    fn merge_joins_on_dataset_and_refuses_duplicate_methods() {
        let a = Scores::parse_csv("a.csv", "dataset,A\nX,0.5\nY,0.6\n", "accuracy", &Resample::Mean).unwrap();
        let b = Scores::parse_csv("b.csv", "dataset,B\nY,0.7\nZ,0.1\n", "accuracy", &Resample::Mean).unwrap();
        let m = Scores::merge(vec![a.clone(), b]).unwrap();
        assert_eq!(m.datasets, ["X", "Y", "Z"]);
        assert_eq!(ex(&m.values[1]), [Some(e("0.6")), Some(e("0.7"))]);
        let err = Scores::merge(vec![a.clone(), a.clone()]).unwrap_err().to_string();
        assert!(err.contains("method `A` is in both a.csv and a.csv"), "{err}");
        // a near name is pointed out, and an alias joins it
        let c = Scores::parse_csv("c.csv", "dataset,C\nGun_Point,0.9\nX,0.4\n", "accuracy", &Resample::Mean).unwrap();
        let g = Scores::parse_csv("g.csv", "dataset,G\nGunPoint,0.8\nX,0.3\n", "accuracy", &Resample::Mean).unwrap();
        let err = Scores::merge(vec![g.clone(), c.clone()]).unwrap().complete(Missing::Fail).unwrap_err().to_string();
        assert!(err.contains("GunPoint: no result for C (is `Gun_Point` the same dataset?)"), "{err}");
        let mut c = c;
        c.rename_datasets(&[("Gun_Point".to_string(), "GunPoint".to_string())].into()).unwrap();
        let (m, report) = Scores::merge(vec![g, c]).unwrap().complete(Missing::Fail).unwrap();
        assert_eq!((m.datasets.len(), report.dropped.len()), (2, 0));
        let mut dup = a;
        let err = dup.rename_datasets(&[("X".to_string(), "Y".to_string())].into()).unwrap_err().to_string();
        assert!(err.contains("two rows name the same dataset"), "{err}");
    }

    fn layout(s: &Scores) -> &str {
        &s.layouts[0].layout
    }

    #[test]
    fn published_layouts_are_recognised() {
        let m = &Resample::Mean;
        let aeon = "Resamples:,0,1,2\nACSF1,0.9,0.8,0.7\nAdiac,0.5,0.6,\n";
        let s = Scores::parse_csv("ref/HC2_accuracy.csv", aeon, "accuracy", m).unwrap();
        assert_eq!((s.methods.as_slice(), s.datasets.len()), (&["HC2".to_string()][..], 2));
        assert_eq!(ex(&s.values[0]), [Some(e("0.8"))]);
        assert_eq!(ex(&s.values[1]), [Some(e("0.55"))], "a missing resample is left out of the mean");
        assert!(layout(&s).starts_with("aeon/tsml-eval reference results"), "{}", layout(&s));
        assert_eq!(s.per_resample[&("ACSF1".to_string(), "HC2".to_string())].len(), 3);
        let one = Scores::parse_csv("ref/HC2_accuracy.csv", aeon, "accuracy", &Resample::Only("2".into())).unwrap();
        assert_eq!(ex(&one.values[0]), [Some(e("0.7"))]);

        let mr = "dataset,0,1\nACSF1,0.92,0.83\n";
        let spec = ReadSpec { method: Some("MiniRocket".into()), score: None };
        let s = Scores::parse_csv_with("accuracy_ucr109_resamples.csv", mr, "accuracy", m, &spec).unwrap();
        assert_eq!(s.methods, ["MiniRocket"]);
        assert!(layout(&s).contains("MiniRocket/Hydra style") && layout(&s).contains("given"), "{}", layout(&s));

        let it = ",classifier_name,archive_name,dataset_name,iteration,accuracy,train_time\n0,InceptionTime,UCR,Crop,0.0,0.77,1.5\n1,InceptionTime,UCR,OliveOil,0.0,0.83,2.5\n";
        let s = Scores::parse_csv("it.csv", it, "accuracy", m).unwrap();
        assert_eq!((s.methods.as_slice(), s.datasets.len()), (&["InceptionTime".to_string()][..], 2));
        assert!(layout(&s).starts_with("dl-4-tsc long results") && layout(&s).contains("unnamed index column"));
        let s = Scores::parse_csv("it.csv", it, "accuracy", &Resample::Only("0".into())).unwrap();
        assert_eq!(s.datasets.len(), 2, "resample `0` matches iteration `0.0`");

        let rocket = "dataset,accuracy_mean,accuracy_standard_deviation,time_training_seconds\nACSF1,0.886,0.01,14.9\n";
        let err = Scores::parse_csv("r/results_ucr.csv", rocket, "accuracy", m).unwrap_err().to_string();
        assert!(
            err.contains(
                "`accuracy_mean`, `accuracy_standard_deviation`, `time_training_seconds` look like statistics"
            ),
            "{err}"
        );
        assert!(
            err.contains("{ file = \"results_ucr.csv\", score = \"accuracy_mean\", method = \"results_ucr\" }"),
            "{err}"
        );
        let spec = ReadSpec { score: Some("accuracy_mean".into()), method: Some("ROCKET".into()) };
        let s = Scores::parse_csv_with("r/results_ucr.csv", rocket, "accuracy", m, &spec).unwrap();
        assert_eq!((s.methods.as_slice(), ex(&s.values[0])), (&["ROCKET".to_string()][..], vec![Some(e("0.886"))]));
        let spec = ReadSpec { score: None, method: Some("X".into()) };
        let err = Scores::parse_csv_with("w.csv", "dataset,A,B\nd,1,2\n", "accuracy", m, &spec).unwrap_err();
        assert!(err.to_string().contains("2 method columns"), "{err}");
    }
}
