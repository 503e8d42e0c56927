//! The input of an analysis: a datasets × methods table of exact scores, built from the
//! pipeline's own evaluation records or read from published result tables (CSV, wide or long),
//! and merged on dataset name with every missing cell reported, never silently dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use super::StatsError;
use super::exact::Exact;

/// Scores of methods on datasets.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// Where these scores come from (a file, or the pipeline stage), for messages.
    pub source: String,
    pub metric: String,
    pub datasets: Vec<String>,
    pub methods: Vec<String>,
    /// `[dataset][method]`; `None` where the method has no result on the dataset.
    pub values: Vec<Vec<Option<Exact>>>,
    /// Number of classes per dataset, where known (for MPCE).
    pub n_classes: BTreeMap<String, usize>,
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
const METHOD_COLUMNS: &[&str] = &["method", "classifier", "algorithm", "model", "estimator"];
const RESAMPLE_COLUMNS: &[&str] = &["resample", "iteration", "fold", "run", "seed", "split"];
const CLASS_COLUMNS: &[&str] = &["n_classes", "classes", "num_classes", "nb_classes"];
const MISSING_CELLS: &[&str] = &["", "na", "nan", "n/a", "-", "–", "?", "null", "none"];

fn find(header: &[String], names: &[&str]) -> Option<usize> {
    header.iter().position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
}

/// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
            }
            (',', false) => out.push(std::mem::take(&mut cur).trim().to_string()),
            (c, _) => cur.push(c),
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    out.push(cur.trim().to_string());
    Ok(out)
}

impl Scores {
    /// Reads a published results table. Long tables (a method column and a dataset column) take
    /// the `metric` column (or exact `correct`/`total` counts for accuracy/error); wide tables
    /// have one row per dataset and one column per method.
    pub fn read_csv(path: &Path, metric: &str, resample: &Resample) -> Result<Scores, StatsError> {
        let text = std::fs::read_to_string(path).map_err(|e| StatsError::Input {
            path: path.display().to_string(),
            line: None,
            message: e.to_string(),
        })?;
        Scores::parse_csv(&path.display().to_string(), &text, metric, resample)
    }

    pub fn parse_csv(source: &str, text: &str, metric: &str, resample: &Resample) -> Result<Scores, StatsError> {
        let err = |line: Option<usize>, message: String| StatsError::Input { path: source.to_string(), line, message };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            rows.push((i + 1, split_csv_line(line).map_err(|m| err(Some(i + 1), m))?));
        }
        let Some((header_line, header)) = rows.first().cloned() else {
            return Err(err(None, "the file holds no table".into()));
        };
        let body = &rows[1..];
        for (line, r) in body {
            if r.len() != header.len() {
                return Err(err(
                    Some(*line),
                    format!("{} fields where the header (line {header_line}) has {}", r.len(), header.len()),
                ));
            }
        }
        let cell = |line: usize, column: &str, v: &str| -> Result<Option<Exact>, StatsError> {
            if MISSING_CELLS.iter().any(|m| v.eq_ignore_ascii_case(m)) {
                return Ok(None);
            }
            let v = v.strip_suffix('%').map_or(v.to_string(), |p| format!("{p}e-2"));
            Exact::parse_decimal(&v)
                .map(Some)
                .ok_or_else(|| err(Some(line), format!("`{v}` in column `{column}` is not a number")))
        };
        let mut scores = Scores {
            source: source.to_string(),
            metric: metric.to_string(),
            datasets: Vec::new(),
            methods: Vec::new(),
            values: Vec::new(),
            n_classes: BTreeMap::new(),
        };
        match (find(&header, METHOD_COLUMNS), find(&header, DATASET_COLUMNS)) {
            (Some(mc), Some(dc)) => {
                let metric_col = find(&header, &[metric]).or_else(|| {
                    if metric == "accuracy" { find(&header, &["acc", "test_acc", "test_accuracy"]) } else { None }
                });
                let counts = (find(&header, &["correct"]), find(&header, &["total"]));
                let rc = find(&header, RESAMPLE_COLUMNS);
                let cc = find(&header, CLASS_COLUMNS);
                if metric_col.is_none() && !(matches!(metric, "accuracy" | "error") && counts.0.zip(counts.1).is_some())
                {
                    return Err(err(
                        Some(header_line),
                        format!(
                            "long table without a `{metric}` column (columns: {}); choose one with `metric`",
                            header.join(", ")
                        ),
                    ));
                }
                if let (Resample::Only(_), None) = (resample, rc) {
                    return Err(err(
                        Some(header_line),
                        "a resample was chosen but the table has no resample column".into(),
                    ));
                }
                let mut cells: BTreeMap<(usize, usize), Vec<Exact>> = BTreeMap::new();
                for (line, r) in body {
                    if let (Resample::Only(want), Some(rc)) = (resample, rc)
                        && r[rc] != *want
                    {
                        continue;
                    }
                    let d = scores.dataset_index(&r[dc]);
                    let m = scores.method_index(&r[mc]);
                    let exact_counts = match counts {
                        (Some(c), Some(t)) if metric_col.is_none() || metric == "accuracy" || metric == "error" => {
                            match (r[c].parse::<usize>(), r[t].parse::<usize>()) {
                                (Ok(c), Ok(t)) if t > 0 && c <= t => {
                                    let c = if metric == "error" { t - c } else { c };
                                    Exact::from_counts(c, t)
                                }
                                _ => return Err(err(Some(*line), format!("bad counts `{}`/`{}`", r[c], r[t]))),
                            }
                        }
                        _ => None,
                    };
                    let v = match (exact_counts, metric_col) {
                        (Some(v), _) => Some(v),
                        (None, Some(col)) => cell(*line, &header[col], &r[col])?,
                        (None, None) => None,
                    };
                    if let Some(cc) = cc
                        && let Ok(k) = r[cc].parse::<usize>()
                    {
                        scores.n_classes.insert(r[dc].clone(), k);
                    }
                    if let Some(v) = v {
                        cells.entry((d, m)).or_default().push(v);
                    } else if rc.is_none() {
                        cells.entry((d, m)).or_default();
                    }
                }
                for ((d, m), vs) in cells {
                    if rc.is_none() && vs.len() > 1 {
                        return Err(err(
                            None,
                            format!(
                                "{} rows for dataset `{}` and method `{}` and no resample column to tell them apart",
                                vs.len(),
                                scores.datasets[d],
                                scores.methods[m]
                            ),
                        ));
                    }
                    scores.values[d][m] = if vs.is_empty() { None } else { Exact::mean(&vs) };
                }
            }
            (None, _) => {
                // wide: first column (or the named one) is the dataset, the rest are methods
                let dc = find(&header, DATASET_COLUMNS).unwrap_or(0);
                let cc = find(&header, CLASS_COLUMNS);
                let method_cols: Vec<usize> = (0..header.len()).filter(|&c| c != dc && Some(c) != cc).collect();
                if method_cols.is_empty() {
                    return Err(err(Some(header_line), "a wide table needs at least one method column".into()));
                }
                for &c in &method_cols {
                    if header[c].is_empty() {
                        return Err(err(Some(header_line), format!("column {} has no name", c + 1)));
                    }
                    scores.method_index(&header[c]);
                }
                for (line, r) in body {
                    if scores.datasets.contains(&r[dc]) {
                        return Err(err(Some(*line), format!("dataset `{}` appears twice", r[dc])));
                    }
                    let d = scores.dataset_index(&r[dc]);
                    if let Some(cc) = cc
                        && let Ok(k) = r[cc].parse::<usize>()
                    {
                        scores.n_classes.insert(r[dc].clone(), k);
                    }
                    for (m, &c) in method_cols.iter().enumerate() {
                        scores.values[d][m] = cell(*line, &header[c], &r[c])?;
                    }
                }
            }
            (Some(_), None) => {
                return Err(err(
                    Some(header_line),
                    format!("a long table needs a dataset column (one of {})", DATASET_COLUMNS.join(", ")),
                ));
            }
        }
        if scores.datasets.is_empty() {
            return Err(err(None, "the table has no results".into()));
        }
        Ok(scores)
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

    fn e(s: &str) -> Exact {
        Exact::parse_decimal(s).unwrap()
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
        assert_eq!(s.values[0], [Some(e("0.99")), Some(e("1")), None]);
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
        assert_eq!(s.values[0], [Some(e("0.6")), Some(e("0.6"))]);
        let s = Scores::parse_csv("l.csv", text, "accuracy", &Resample::Only("1".into())).unwrap();
        assert_eq!(s.values[0], [Some(e("0.7")), Some(e("0.6"))]);
    }

    #[test]
    fn long_table_uses_exact_counts() {
        let text = "dataset,method,correct,total,n_classes,accuracy\nGunPoint,ED,137,150,2,0.913333\n";
        let s = Scores::parse_csv("ours.csv", text, "accuracy", &Resample::Mean).unwrap();
        assert_eq!(s.values[0][0], Exact::from_counts(137, 150));
        assert_eq!(s.n_classes["GunPoint"], 2);
        let s = Scores::parse_csv("ours.csv", text, "error", &Resample::Mean).unwrap();
        assert_eq!(s.values[0][0], Exact::from_counts(13, 150));
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
        assert_eq!(m.values[1], [Some(e("0.6")), Some(e("0.7"))]);
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
}
