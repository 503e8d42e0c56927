//! The layouts [`Scores::parse_csv_with`] recognises, one reader each: a table of resample
//! columns (aeon's `Resamples:`, MiniRocket's `dataset,0,1,…`), a long table (a method and a
//! dataset column), a wide table (one column per method). Each fills a [`Scores`] and says how
//! it read the table.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::{
    CLASS_COLUMNS, DATASET_COLUMNS, MISSING_CELLS, ReadSpec, Resample, Scores, find, looks_like_statistic,
    method_from_file_name, split_csv_line,
};
use crate::stats::StatsError;
use crate::stats::value::Score;

/// A CSV table as read: the header (its line and fields) and the rows (line, fields), all of
/// the header's width, a pandas index column already dropped.
pub(super) struct CsvTable<'a> {
    pub source: &'a str,
    pub header_line: usize,
    pub header: Vec<String>,
    pub body: Vec<(usize, Vec<String>)>,
    /// Said in the layout when a pandas index column was dropped.
    pub index_note: &'static str,
}

impl<'a> CsvTable<'a> {
    /// Reads the lines of a table (blank and `#` lines skipped, a BOM dropped).
    pub fn parse(source: &'a str, text: &str) -> Result<CsvTable<'a>, StatsError> {
        let err = |line: Option<usize>, message: String| StatsError::Input { path: source.to_string(), line, message };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            rows.push((i + 1, split_csv_line(line).map_err(|m| err(Some(i + 1), m))?));
        }
        if rows.is_empty() {
            return Err(err(None, "the file holds no table".into()));
        }
        let mut body: Vec<(usize, Vec<String>)> = rows.split_off(1);
        let Some((header_line, mut header)) = rows.pop() else {
            return Err(err(None, "the file holds no table".into()));
        };
        for (line, r) in &body {
            if r.len() != header.len() {
                return Err(err(
                    Some(*line),
                    format!("{} fields where the header (line {header_line}) has {}", r.len(), header.len()),
                ));
            }
        }
        // A pandas index written with the table (`,classifier_name,…` then `0,…`): drop it.
        let mut index_note = "";
        if header.len() > 2
            && header[0].is_empty()
            && find(&header[1..], DATASET_COLUMNS).is_some()
            && body.iter().all(|(_, r)| r[0].parse::<u64>().is_ok())
        {
            header.remove(0);
            for (_, r) in &mut body {
                r.remove(0);
            }
            index_note = " after an unnamed index column (pandas' `to_csv` default, as InceptionTime's file)";
        }
        Ok(CsvTable { source, header_line, header, body, index_note })
    }

    pub fn err(&self, line: Option<usize>, message: String) -> StatsError {
        StatsError::Input { path: self.source.to_string(), line, message }
    }

    /// The error at the header's line.
    fn header_err(&self, message: String) -> StatsError {
        self.err(Some(self.header_line), message)
    }

    /// A score cell: `None` where it reads as missing; `87.5%` is 0.875.
    fn cell(&self, line: usize, column: &str, v: &str) -> Result<Option<Score>, StatsError> {
        if MISSING_CELLS.iter().any(|m| v.eq_ignore_ascii_case(m)) {
            return Ok(None);
        }
        let parsed = match v.strip_suffix('%') {
            Some(p) => Score::parse(&format!("{p}e-2")),
            None => Score::parse(v),
        };
        parsed.map(Some).ok_or_else(|| self.err(Some(line), format!("`{v}` in column `{column}` is not a number")))
    }

    /// The number of classes a row gives in column `cc`, recorded for its dataset.
    fn note_classes(&self, scores: &mut Scores, r: &[String], dc: usize, cc: Option<usize>) {
        if let Some(cc) = cc
            && let Ok(k) = r[cc].parse::<usize>()
        {
            scores.n_classes.insert(r[dc].clone(), k);
        }
    }

    /// One method, one column per resample (`aeon`: the `Resamples:` header).
    pub fn read_resamples(
        &self,
        scores: &mut Scores,
        metric: &str,
        resample: &Resample,
        spec: &ReadSpec,
        aeon: bool,
    ) -> Result<String, StatsError> {
        let header = &self.header;
        let method = spec.method.clone().unwrap_or_else(|| method_from_file_name(self.source, metric));
        if method.is_empty() {
            return Err(self.header_err("cannot tell the method from the file name: name it".into()));
        }
        let columns: Vec<usize> = match resample {
            Resample::Mean => (1..header.len()).collect(),
            Resample::Only(want) => {
                let c = (1..header.len())
                    .find(|&c| Resample::matches(want, &header[c]))
                    .ok_or_else(|| self.header_err(format!("no resample `{want}` among the columns")))?;
                vec![c]
            }
        };
        let m = scores.method_index(&method);
        for (line, r) in &self.body {
            if scores.datasets.contains(&r[0]) {
                return Err(self.err(Some(*line), format!("dataset `{}` appears twice", r[0])));
            }
            let d = scores.dataset_index(&r[0]);
            let mut vs = Vec::new();
            for &c in &columns {
                if let Some(v) = self.cell(*line, &header[c], &r[c])? {
                    vs.push(v);
                }
            }
            scores.set_mean(d, m, &vs);
        }
        let named = if spec.method.is_some() { "given" } else { "from the file name" };
        Ok(format!(
            "{} ({} resample columns, one row per dataset; method `{method}` {named}){}",
            if aeon {
                "aeon/tsml-eval reference results (`Resamples:` header)"
            } else {
                "a resamples table (`dataset,0,1,…`, MiniRocket/Hydra style)"
            },
            header.len() - 1,
            match resample {
                Resample::Mean => String::from("; mean over resamples"),
                Resample::Only(id) => format!("; resample {id} only"),
            }
        ))
    }
}

/// The columns of a long table.
struct LongColumns {
    method: usize,
    dataset: usize,
    /// The score column, where there is one.
    metric: Option<usize>,
    /// `correct` and `total`, where both are there and no score column was named.
    counts: (Option<usize>, Option<usize>),
    resample: Option<usize>,
    classes: Option<usize>,
}

impl LongColumns {
    /// Whether a row's score comes from its exact counts.
    fn exact(&self, metric: &str) -> bool {
        self.counts.0.is_some()
            && self.counts.1.is_some()
            && (self.metric.is_none() || matches!(metric, "accuracy" | "error"))
    }
}

impl CsvTable<'_> {
    /// A long table: a method and a dataset column, the score in the `metric` (or `spec.score`)
    /// column or from exact `correct`/`total` counts, averaged over resamples.
    pub fn read_long(
        &self,
        scores: &mut Scores,
        metric: &str,
        resample: &Resample,
        spec: &ReadSpec,
        (mc, dc): (usize, usize),
    ) -> Result<String, StatsError> {
        let cols = self.long_columns(metric, resample, spec, (mc, dc))?;
        let cells = self.long_cells(scores, metric, resample, &cols)?;
        for ((d, m), vs) in cells {
            if cols.resample.is_none() && vs.len() > 1 {
                return Err(self.err(
                    None,
                    format!(
                        "{} rows for dataset `{}` and method `{}` and no resample column to tell them apart",
                        vs.len(),
                        scores.datasets[d],
                        scores.methods[m]
                    ),
                ));
            }
            scores.set_mean(d, m, &vs);
        }
        if let Some(name) = &spec.method {
            if scores.methods.len() != 1 {
                return Err(self.header_err(format!(
                    "`method = \"{name}\"` renames the one method of a table, but this one has {}: {}",
                    scores.methods.len(),
                    scores.methods.join(", ")
                )));
            }
            scores.rename_method(0, name);
        }
        Ok(self.long_layout(metric, resample, &cols))
    }

    fn long_columns(
        &self,
        metric: &str,
        resample: &Resample,
        spec: &ReadSpec,
        (method, dataset): (usize, usize),
    ) -> Result<LongColumns, StatsError> {
        let header = &self.header;
        let wanted = spec.score.as_deref().unwrap_or(metric);
        let metric_col = find(header, &[wanted]).or_else(|| {
            if spec.score.is_none() && metric == "accuracy" {
                find(header, &["acc", "test_acc", "test_accuracy"])
            } else {
                None
            }
        });
        let counts =
            if spec.score.is_none() { (find(header, &["correct"]), find(header, &["total"])) } else { (None, None) };
        let cols = LongColumns {
            method,
            dataset,
            metric: metric_col,
            counts,
            resample: find(header, super::RESAMPLE_COLUMNS),
            classes: find(header, CLASS_COLUMNS),
        };
        if cols.metric.is_none() && !(matches!(metric, "accuracy" | "error") && counts.0.zip(counts.1).is_some()) {
            return Err(self.header_err(format!(
                "long table without a `{wanted}` column (columns: {}); choose one with `metric` (or an entry's `score`)",
                header.join(", ")
            )));
        }
        if let (Resample::Only(_), None) = (resample, cols.resample) {
            return Err(self.header_err("a resample was chosen but the table has no resample column".into()));
        }
        Ok(cols)
    }

    /// Each (dataset, method) cell's scores, one per row kept.
    fn long_cells(
        &self,
        scores: &mut Scores,
        metric: &str,
        resample: &Resample,
        cols: &LongColumns,
    ) -> Result<BTreeMap<(usize, usize), Vec<Score>>, StatsError> {
        let (dc, mc) = (cols.dataset, cols.method);
        let mut cells: BTreeMap<(usize, usize), Vec<Score>> = BTreeMap::new();
        let mut index: HashMap<(&str, &str), (usize, usize)> = HashMap::new();
        for (line, r) in &self.body {
            if let (Resample::Only(want), Some(rc)) = (resample, cols.resample)
                && !Resample::matches(want, &r[rc])
            {
                continue;
            }
            let (d, m) = match index.get(&(r[dc].as_str(), r[mc].as_str())) {
                Some(&dm) => dm,
                None => {
                    let dm = (scores.dataset_index(&r[dc]), scores.method_index(&r[mc]));
                    index.insert((&r[dc], &r[mc]), dm);
                    dm
                }
            };
            let exact_counts = match cols.counts {
                (Some(c), Some(t)) if cols.exact(metric) => match (r[c].parse::<usize>(), r[t].parse::<usize>()) {
                    (Ok(c), Ok(t)) if t > 0 && c <= t => {
                        let c = if metric == "error" { t - c } else { c };
                        Score::from_counts(c, t)
                    }
                    _ => return Err(self.err(Some(*line), format!("bad counts `{}`/`{}`", r[c], r[t]))),
                },
                _ => None,
            };
            let v = match (exact_counts, cols.metric) {
                (Some(v), _) => Some(v),
                (None, Some(col)) => self.cell(*line, &self.header[col], &r[col])?,
                (None, None) => None,
            };
            self.note_classes(scores, r, dc, cols.classes);
            if let Some(v) = v {
                cells.entry((d, m)).or_default().push(v);
            } else if cols.resample.is_none() {
                cells.entry((d, m)).or_default();
            }
        }
        Ok(cells)
    }

    fn long_layout(&self, metric: &str, resample: &Resample, cols: &LongColumns) -> String {
        let header = &self.header;
        let dl4tsc = ["classifier_name", "archive_name", "dataset_name", "iteration"]
            .iter()
            .all(|c| find(header, &[c]).is_some());
        let value = match cols.metric {
            _ if cols.exact(metric) => "exact `correct`/`total` counts".to_string(),
            Some(c) => format!("column `{}`", header[c]),
            None => String::new(),
        };
        format!(
            "{} (method `{}`, dataset `{}`{}; {value}){}",
            if dl4tsc { "dl-4-tsc long results" } else { "a long table" },
            header[cols.method],
            header[cols.dataset],
            match (cols.resample, resample) {
                (Some(rc), Resample::Mean) => format!(", mean over resamples of `{}`", header[rc]),
                (Some(rc), Resample::Only(id)) => format!(", `{}` = {id} only", header[rc]),
                (None, _) => String::new(),
            },
            self.index_note
        )
    }

    /// A wide table: the first (or the dataset) column names the dataset, the others are methods
    /// — or, with `spec.score`, one column of one method.
    pub fn read_wide(&self, scores: &mut Scores, metric: &str, spec: &ReadSpec) -> Result<String, StatsError> {
        let header = &self.header;
        let dc = find(header, DATASET_COLUMNS).unwrap_or(0);
        let cc = find(header, CLASS_COLUMNS);
        let others: Vec<usize> = (0..header.len()).filter(|&c| c != dc && Some(c) != cc).collect();
        let method_cols: Vec<usize> = match &spec.score {
            Some(col) => vec![
                find(header, &[col.as_str()])
                    .ok_or_else(|| self.header_err(format!("no column `{col}` (columns: {})", header.join(", "))))?,
            ],
            None => others.clone(),
        };
        if method_cols.is_empty() {
            return Err(self.header_err("a wide table needs at least one method column".into()));
        }
        if spec.score.is_none() {
            self.refuse_statistics(&others, metric)?;
        }
        if let (Some(m), None, true) = (&spec.method, &spec.score, method_cols.len() > 1) {
            return Err(self.header_err(format!(
                "`method = \"{m}\"` names the method of a one-column table, but this one has {} method columns; name the score column too",
                method_cols.len()
            )));
        }
        for &c in &method_cols {
            if header[c].is_empty() {
                return Err(self.header_err(format!("column {} has no name", c + 1)));
            }
            let name = spec.method.clone().unwrap_or_else(|| header[c].clone());
            scores.method_index(&name);
        }
        for (line, r) in &self.body {
            if scores.datasets.contains(&r[dc]) {
                return Err(self.err(Some(*line), format!("dataset `{}` appears twice", r[dc])));
            }
            let d = scores.dataset_index(&r[dc]);
            self.note_classes(scores, r, dc, cc);
            for (m, &c) in method_cols.iter().enumerate() {
                scores.values[d][m] = self.cell(*line, &header[c], &r[c])?;
            }
        }
        Ok(match &spec.score {
            Some(col) => format!("a wide table, column `{col}` as method `{}`", scores.methods[0]),
            None => "a wide table (one column per method)".to_string(),
        })
    }

    /// A wide table whose columns name statistics (`accuracy_mean`, `time_training_seconds`)
    /// holds one method's statistics: an error that shows how to name the score column.
    fn refuse_statistics(&self, others: &[usize], metric: &str) -> Result<(), StatsError> {
        let stats: Vec<&str> =
            others.iter().map(|&c| self.header[c].as_str()).filter(|h| looks_like_statistic(h)).collect();
        let Some(first) = stats.first() else { return Ok(()) };
        let source = self.source;
        let file = Path::new(source).file_name().map(|f| f.to_string_lossy().into_owned());
        let file = file.unwrap_or_else(|| source.to_string());
        let guess = stats
            .iter()
            .find(|h| h.to_ascii_lowercase().contains(metric) || h.to_ascii_lowercase().contains("acc"))
            .unwrap_or(first);
        let method = method_from_file_name(source, metric);
        let method = if method.is_empty() { "METHOD".to_string() } else { method };
        Err(self.header_err(format!(
            "the columns {} look like statistics of one method, not one method each; name the score column and its method:\n  pipeline: external = [{{ file = \"{file}\", score = \"{guess}\", method = \"{method}\" }}]\n  command line: tscpipe analyze {file}:{guess}={method}",
            stats.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", "),
        )))
    }
}
