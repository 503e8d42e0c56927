//! The parsed-but-not-yet-rectangular form every reader produces, plus the missing-value pass.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{DataError, DataErrorKind, DataResult};
use super::format::Format;

/// One case (series) as read from a file: `dims[d]` is dimension `d`'s values, `NaN` = missing.
#[derive(Debug, Clone, PartialEq)]
pub struct RawCase {
    pub dims: Vec<Vec<f64>>,
    /// The class label token exactly as written (unquoted).
    pub label: String,
    /// 1-based line (CSV: line of the row; Parquet: 1-based row) where the case starts.
    pub line: usize,
}

/// What a file's header declares (`None` = not declared / format has no header).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawHeader {
    pub problem_name: Option<String>,
    /// Declared class order (`.ts` `@classLabel true …`, ARFF nominal class attribute).
    pub declared_classes: Option<Vec<String>>,
    /// Whether missing values are declared possible (`.ts` `@missing`).
    pub missing: Option<bool>,
    /// `.ts` `@equalLength`.
    pub equal_length: Option<bool>,
    /// `.ts` `@seriesLength`.
    pub series_length: Option<usize>,
    /// `.ts` `@dimensions` (or 1 when `@univariate true`).
    pub dimensions: Option<usize>,
}

/// A parsed file.
#[derive(Debug, Clone, PartialEq)]
pub struct RawFile {
    pub path: PathBuf,
    pub format: Format,
    pub header: RawHeader,
    pub cases: Vec<RawCase>,
}

impl RawFile {
    /// Whether trailing missing values are padding of a variable-length series (true unless the
    /// header declares equal length).
    pub fn trailing_padding(&self) -> bool {
        self.header.equal_length != Some(true)
    }

    /// Number of dimensions of the first case (all cases are checked to agree by the readers).
    pub fn dims(&self) -> usize {
        self.cases.first().map_or(0, |c| c.dims.len())
    }
}

/// What to do with missing values (`?`, `NaN`, empty cells) inside a series (trailing ones in
/// variable-length files are padding, not missing values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissingPolicy {
    /// Error unless the header declares missing values (`.ts` `@missing true`); declared ones are
    /// filled by linear interpolation.
    #[default]
    Auto,
    /// Always an error.
    Error,
    /// Fill by linear interpolation between the nearest present neighbours (edges: nearest value).
    Interpolate,
    /// Keep them as `NaN`.
    Keep,
}

/// Parses a numeric token: `?` and `NaN` give `NaN` (missing); infinities are rejected.
#[inline]
pub(crate) fn parse_value(tok: &str) -> Option<f64> {
    let t = tok.trim();
    if t == "?" {
        return Some(f64::NAN);
    }
    match t.parse::<f64>() {
        Ok(v) if !v.is_infinite() => Some(v),
        _ => None,
    }
}

/// The error for a token that is not a number.
pub(crate) fn non_numeric(path: &Path, line: usize, tok: &str, place: &str) -> DataError {
    let t = tok.trim();
    let what = if t.is_empty() { "empty value".to_string() } else { format!("non-numeric value {t:?}") };
    DataError::at(DataErrorKind::NonNumeric, path, line, format!("{what} in {place}"))
}

/// Strips trailing padding (when allowed) and handles interior missing values by `policy`.
pub fn resolve_missing(file: &mut RawFile, policy: MissingPolicy) -> DataResult<()> {
    let padding = file.trailing_padding();
    let declared = file.header.missing;
    let path = file.path.clone();
    let multi = file.dims() > 1;
    for case in &mut file.cases {
        for (d, dim) in case.dims.iter_mut().enumerate() {
            if padding {
                while dim.last().is_some_and(|v| v.is_nan()) {
                    dim.pop();
                }
            }
            let where_dim = if multi { format!(" of dimension {}", d + 1) } else { String::new() };
            if dim.is_empty() {
                return Err(DataError::at(
                    DataErrorKind::Missing,
                    &path,
                    case.line,
                    format!("series{where_dim} has no values"),
                ));
            }
            let Some(first_nan) = dim.iter().position(|v| v.is_nan()) else { continue };
            let effective = match policy {
                MissingPolicy::Auto if declared == Some(true) => MissingPolicy::Interpolate,
                MissingPolicy::Auto => MissingPolicy::Error,
                p => p,
            };
            match effective {
                MissingPolicy::Keep => {}
                MissingPolicy::Interpolate => {
                    if dim.iter().all(|v| v.is_nan()) {
                        return Err(DataError::at(
                            DataErrorKind::Missing,
                            &path,
                            case.line,
                            format!("series{where_dim} has only missing values"),
                        ));
                    }
                    interpolate_missing(dim);
                }
                _ => {
                    let why = if declared == Some(false) {
                        "but the header declares `@missing false`".to_string()
                    } else {
                        "(allow them with missing policy `interpolate` or `keep`)".to_string()
                    };
                    return Err(DataError::at(
                        DataErrorKind::Missing,
                        &path,
                        case.line,
                        format!("missing value at position {}{where_dim} {why}", first_nan + 1),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Fills `NaN`s by linear interpolation; leading/trailing runs take the nearest present value.
/// The series must contain at least one present value.
pub fn interpolate_missing(x: &mut [f64]) {
    let n = x.len();
    let mut prev: Option<usize> = None;
    let mut i = 0;
    while i < n {
        if !x[i].is_nan() {
            prev = Some(i);
            i += 1;
            continue;
        }
        let start = i;
        while i < n && x[i].is_nan() {
            i += 1;
        }
        let next = (i < n).then_some(i);
        match (prev, next) {
            (Some(p), Some(q)) => {
                let (a, b) = (x[p], x[q]);
                let span = (q - p) as f64;
                for (k, v) in x.iter_mut().enumerate().take(q).skip(start) {
                    *v = a + (b - a) * ((k - p) as f64 / span);
                }
            }
            (Some(p), None) => {
                let a = x[p];
                x[start..].iter_mut().for_each(|v| *v = a);
            }
            (None, Some(q)) => {
                let b = x[q];
                x[start..q].iter_mut().for_each(|v| *v = b);
            }
            (None, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_values() {
        assert_eq!(parse_value(" 1.5 "), Some(1.5));
        assert_eq!(parse_value("1.0000000e+00"), Some(1.0));
        assert!(parse_value("?").unwrap().is_nan());
        assert!(parse_value("NaN").unwrap().is_nan());
        assert_eq!(parse_value("inf"), None);
        assert_eq!(parse_value("1.2x"), None);
        assert_eq!(parse_value(""), None);
    }

    #[test]
    fn interpolation() {
        let mut x = vec![f64::NAN, 1.0, f64::NAN, f64::NAN, 4.0, f64::NAN];
        interpolate_missing(&mut x);
        assert_eq!(x, vec![1.0, 1.0, 2.0, 3.0, 4.0, 4.0]);
    }
}
