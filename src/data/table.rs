//! Generic CSV/Parquet tables read through polars.
//!
//! * **Wide** layout: one row per series, a label column plus value columns (one per time step).
//! * **Long** layout: one row per time point: an id (group) column, an optional time column,
//!   one value column per dimension, and a label column (constant within a series).
//!
//! Line numbers in errors are file lines for CSV (header = line 1) and 1-based rows for Parquet.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::{DataError, DataErrorKind, DataResult};
use super::format::Format;
use super::raw::{RawCase, RawFile, RawHeader, non_numeric, parse_value};

/// Which table layout a CSV/Parquet file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableLayout {
    /// Long when an id column is named or found (`id`, `series_id`, `case_id`, `series`, `case`,
    /// `instance`), wide otherwise.
    #[default]
    Auto,
    Wide,
    Long,
}

/// How to read a CSV/Parquet table. Column names match case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableOptions {
    pub layout: TableLayout,
    /// Label column; default: `label`, `class`, `target` or `y`, else (wide only) the first column.
    pub label_column: Option<String>,
    /// Long layout: the series id column.
    pub id_column: Option<String>,
    /// Long layout: the time column (`time`, `t`, `timestamp`, `step` by default; optional).
    pub time_column: Option<String>,
    /// Value columns in order (wide: time steps; long: dimensions); default: every other column.
    pub value_columns: Option<Vec<String>>,
    /// CSV without a header row (columns are then `column_1`, `column_2`, …).
    pub no_header: bool,
}

const LABEL_NAMES: [&str; 4] = ["label", "class", "target", "y"];
const ID_NAMES: [&str; 6] = ["id", "series_id", "case_id", "series", "case", "instance"];
const TIME_NAMES: [&str; 5] = ["time", "t", "timestamp", "step", "time_index"];

/// Reads a CSV file.
pub fn read_csv(path: &Path, opts: &TableOptions) -> DataResult<RawFile> {
    let df = CsvReadOptions::default()
        .with_has_header(!opts.no_header)
        .with_infer_schema_length(Some(0)) // every column as text: we parse and report ourselves
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(|e| polars_error(path, "CSV", e))?;
    let first_line = if opts.no_header { 1 } else { 2 };
    table_to_raw(path, Format::Csv, &df, opts, first_line)
}

/// Reads a Parquet file.
pub fn read_parquet(path: &Path, opts: &TableOptions) -> DataResult<RawFile> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, &e))?;
    let df = ParquetReader::new(file).finish().map_err(|e| polars_error(path, "Parquet", e))?;
    table_to_raw(path, Format::Parquet, &df, opts, 1)
}

fn polars_error(path: &Path, what: &str, e: PolarsError) -> DataError {
    let kind = if matches!(e, PolarsError::NoData(_)) { DataErrorKind::Empty } else { DataErrorKind::Table };
    DataError::file(kind, path, format!("cannot read {what} table: {e}"))
}

fn find_column(names: &[String], wanted: &str) -> Option<usize> {
    names.iter().position(|n| n == wanted).or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(wanted)))
}

fn find_any(names: &[String], candidates: &[&str]) -> Option<usize> {
    candidates.iter().find_map(|c| names.iter().position(|n| n.eq_ignore_ascii_case(c)))
}

fn require(path: &Path, names: &[String], wanted: &str, role: &str) -> DataResult<usize> {
    find_column(names, wanted).ok_or_else(|| {
        DataError::file(
            DataErrorKind::Table,
            path,
            format!("{role} column {wanted:?} not found (columns: {})", names.join(", ")),
        )
    })
}

/// The values of a column as `f64` (`NaN` = missing); text columns are parsed with the usual rules.
fn column_f64(path: &Path, col: &Column, first_line: usize) -> DataResult<Vec<f64>> {
    let name = col.name().to_string();
    if col.dtype() == &DataType::String {
        let ca = col.str().map_err(|e| DataError::file(DataErrorKind::Table, path, e.to_string()))?;
        let mut out = Vec::with_capacity(ca.len());
        for (r, v) in ca.iter().enumerate() {
            match v {
                None => out.push(f64::NAN),
                Some(s) if s.trim().is_empty() => out.push(f64::NAN),
                Some(s) => match parse_value(s) {
                    Some(x) => out.push(x),
                    None => return Err(non_numeric(path, r + first_line, s, &format!("column {name:?}"))),
                },
            }
        }
        return Ok(out);
    }
    let cast = col
        .cast(&DataType::Float64)
        .map_err(|e| DataError::file(DataErrorKind::Table, path, format!("column {name:?} is not numeric: {e}")))?;
    let ca = cast.f64().map_err(|e| DataError::file(DataErrorKind::Table, path, e.to_string()))?;
    Ok(ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

/// The values of a column as text (labels, ids); `None` = null.
fn column_text(path: &Path, col: &Column) -> DataResult<Vec<Option<String>>> {
    let cast = col.cast(&DataType::String).map_err(|e| {
        DataError::file(DataErrorKind::Table, path, format!("column {:?} cannot be read as text: {e}", col.name()))
    })?;
    let ca = cast.str().map_err(|e| DataError::file(DataErrorKind::Table, path, e.to_string()))?;
    Ok(ca.iter().map(|v| v.map(|s| s.trim().to_string())).collect())
}

fn label_at(path: &Path, labels: &[Option<String>], r: usize, first_line: usize) -> DataResult<String> {
    match &labels[r] {
        Some(s) if !s.is_empty() => Ok(s.clone()),
        _ => Err(DataError::at(DataErrorKind::Missing, path, r + first_line, "missing class label")),
    }
}

fn table_to_raw(
    path: &Path,
    format: Format,
    df: &DataFrame,
    opts: &TableOptions,
    first_line: usize,
) -> DataResult<RawFile> {
    let names: Vec<String> = df.columns().iter().map(|c| c.name().to_string()).collect();
    if df.height() == 0 || names.is_empty() {
        return Err(DataError::file(DataErrorKind::Empty, path, "table contains no rows"));
    }
    let id_idx = match &opts.id_column {
        Some(n) => Some(require(path, &names, n, "id")?),
        None if opts.layout != TableLayout::Wide => find_any(&names, &ID_NAMES),
        None => None,
    };
    let layout = match opts.layout {
        TableLayout::Auto if id_idx.is_some() => TableLayout::Long,
        TableLayout::Auto => TableLayout::Wide,
        l => l,
    };
    if layout == TableLayout::Long && id_idx.is_none() {
        return Err(DataError::file(
            DataErrorKind::Table,
            path,
            format!("long layout needs an id column (name one; columns: {})", names.join(", ")),
        ));
    }
    let label_idx = match &opts.label_column {
        Some(n) => require(path, &names, n, "label")?,
        None => match find_any(&names, &LABEL_NAMES) {
            Some(i) => i,
            None if layout == TableLayout::Wide => 0,
            None => {
                return Err(DataError::file(
                    DataErrorKind::Table,
                    path,
                    format!("no label column found (name one; columns: {})", names.join(", ")),
                ));
            }
        },
    };
    let time_idx = match (&opts.time_column, layout) {
        (Some(n), TableLayout::Long) => Some(require(path, &names, n, "time")?),
        (None, TableLayout::Long) => find_any(&names, &TIME_NAMES),
        _ => None,
    };
    let value_idx: Vec<usize> = match &opts.value_columns {
        Some(cols) => cols.iter().map(|c| require(path, &names, c, "value")).collect::<DataResult<_>>()?,
        None => (0..names.len()).filter(|&i| i != label_idx && Some(i) != id_idx && Some(i) != time_idx).collect(),
    };
    if value_idx.is_empty() {
        return Err(DataError::file(DataErrorKind::Table, path, "table has no value columns"));
    }
    let cols = df.columns();
    let labels = column_text(path, &cols[label_idx])?;
    let values: Vec<Vec<f64>> =
        value_idx.iter().map(|&i| column_f64(path, &cols[i], first_line)).collect::<DataResult<_>>()?;
    let height = df.height();
    let mut cases = Vec::new();
    match layout {
        TableLayout::Long => {
            let ids = column_text(path, &cols[id_idx.unwrap_or_default()])?;
            let times = match time_idx {
                Some(t) => Some(column_f64(path, &cols[t], first_line)?),
                None => None,
            };
            let mut order: Vec<String> = Vec::new();
            let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
            for (r, id) in ids.iter().enumerate() {
                let Some(id) = id.as_ref().filter(|s| !s.is_empty()) else {
                    return Err(DataError::at(DataErrorKind::Missing, path, r + first_line, "missing series id"));
                };
                groups
                    .entry(id.clone())
                    .or_insert_with(|| {
                        order.push(id.clone());
                        Vec::new()
                    })
                    .push(r);
            }
            for id in &order {
                let mut rows = groups.remove(id).unwrap_or_default();
                let first = rows[0];
                if let Some(t) = &times {
                    if let Some(&r) = rows.iter().find(|&&r| t[r].is_nan()) {
                        return Err(DataError::at(DataErrorKind::Missing, path, r + first_line, "missing time value"));
                    }
                    rows.sort_by(|&a, &b| t[a].total_cmp(&t[b]));
                    if let Some(w) = rows.windows(2).find(|w| t[w[0]] == t[w[1]]) {
                        let r = w[0].max(w[1]);
                        return Err(DataError::at(
                            DataErrorKind::Table,
                            path,
                            r + first_line,
                            format!("duplicate time {} in series {id:?}", t[r]),
                        ));
                    }
                }
                let label = label_at(path, &labels, first, first_line)?;
                if let Some(&r) = rows.iter().find(|&&r| labels[r].as_deref() != Some(label.as_str())) {
                    return Err(DataError::at(
                        DataErrorKind::Table,
                        path,
                        r + first_line,
                        format!(
                            "label {:?} differs from the label {label:?} of series {id:?} (first row: line {})",
                            labels[r].as_deref().unwrap_or(""),
                            first + first_line
                        ),
                    ));
                }
                let dims = values.iter().map(|v| rows.iter().map(|&r| v[r]).collect()).collect();
                cases.push(RawCase { dims, label, line: first + first_line });
            }
        }
        _ => {
            for r in 0..height {
                let label = label_at(path, &labels, r, first_line)?;
                let dims = vec![values.iter().map(|v| v[r]).collect()];
                cases.push(RawCase { dims, label, line: r + first_line });
            }
        }
    }
    Ok(RawFile { path: path.to_path_buf(), format, header: RawHeader::default(), cases })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_and_long_csv() {
        let dir = tempfile::tempdir().unwrap();
        let wide = dir.path().join("w.csv");
        std::fs::write(&wide, "a,b,class,c\n1,2,x,3\n4,5,y,6\n").unwrap();
        let f = read_csv(&wide, &TableOptions::default()).unwrap();
        assert_eq!(f.cases[0].dims, vec![vec![1.0, 2.0, 3.0]]);
        assert_eq!(f.cases[1].label, "y");
        assert_eq!(f.cases[1].line, 3);

        let long = dir.path().join("l.csv");
        std::fs::write(&long, "id,time,v1,v2,label\ns2,1,10,20,b\ns1,1,1,2,a\ns1,0,0,1,a\ns2,0,9,19,b\n").unwrap();
        let f = read_csv(&long, &TableOptions::default()).unwrap();
        assert_eq!(f.cases.len(), 2);
        assert_eq!(f.cases[0].label, "b");
        assert_eq!(f.cases[0].dims, vec![vec![9.0, 10.0], vec![19.0, 20.0]]);
        assert_eq!(f.cases[1].dims, vec![vec![0.0, 1.0], vec![1.0, 2.0]]);

        std::fs::write(&long, "id,time,v,label\ns1,0,1,a\ns1,1,2,b\n").unwrap();
        let e = read_csv(&long, &TableOptions::default()).unwrap_err();
        assert_eq!((e.kind, e.line), (DataErrorKind::Table, Some(3)));
    }

    #[test]
    fn csv_non_numeric() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.csv");
        std::fs::write(&p, "label,t1,t2\n1,0.5,0.25\n2,0.1,oops\n").unwrap();
        let e = read_csv(&p, &TableOptions::default()).unwrap_err();
        assert_eq!(e.kind, DataErrorKind::NonNumeric);
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("\"oops\""), "{e}");
    }

    #[test]
    fn parquet_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.parquet");
        let mut df = DataFrame::new_infer_height(vec![
            Column::new("label".into(), &[1i64, 2, 1]),
            Column::new("t0".into(), &[0.5f64, 1.5, 2.5]),
            Column::new("t1".into(), &[Some(1.0f64), None, Some(3.0)]),
        ])
        .unwrap();
        ParquetWriter::new(std::fs::File::create(&p).unwrap()).finish(&mut df).unwrap();
        let f = read_parquet(&p, &TableOptions::default()).unwrap();
        assert_eq!(f.cases.len(), 3);
        assert_eq!(f.cases[2].label, "1");
        assert_eq!(f.cases[0].dims, vec![vec![0.5, 1.0]]);
        assert!(f.cases[1].dims[0][1].is_nan());
    }
}
