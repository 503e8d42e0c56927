//! sktime/aeon `.ts`: `#` comments, `@tag value` header lines, `@data`, then one case per line:
//! dimensions separated by `:`, values by `,`, class label last; `?` is a missing value.

use std::path::Path;

use super::error::{DataError, DataErrorKind, DataResult};
use super::format::Format;
use super::labels::same_label;
use super::raw::{RawCase, RawFile, RawHeader, non_numeric, parse_value};
use super::tsv::read_text;

/// Reads a `.ts` file.
pub fn read_ts(path: &Path) -> DataResult<RawFile> {
    let text = read_text(path)?;
    parse_ts(path, &text)
}

fn parse_bool(path: &Path, line: usize, tag: &str, v: &str) -> DataResult<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => {
            Err(DataError::at(DataErrorKind::Format, path, line, format!("@{tag} expects true or false, found {v:?}")))
        }
    }
}

fn parse_count(path: &Path, line: usize, tag: &str, v: &str) -> DataResult<usize> {
    match v.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(DataError::at(
            DataErrorKind::Format,
            path,
            line,
            format!("@{tag} expects a positive integer, found {v:?}"),
        )),
    }
}

/// Parses `.ts` text (`path` is only used in errors).
pub fn parse_ts(path: &Path, text: &str) -> DataResult<RawFile> {
    let mut r = TsReader {
        path,
        header: RawHeader::default(),
        univariate: None,
        class_label: None,
        first: None,
        values_hint: 0,
    };
    let mut in_data = false;
    let mut cases: Vec<RawCase> = Vec::new();
    for (idx, raw_line) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if in_data {
            cases.push(r.case(line_no, line)?);
        } else {
            in_data = r.header_line(line_no, line)?;
        }
    }
    if !in_data {
        return Err(DataError::file(DataErrorKind::Format, path, "no `@data` section"));
    }
    if cases.is_empty() {
        return Err(DataError::file(DataErrorKind::Empty, path, "file contains no series after `@data`"));
    }
    Ok(RawFile { path: path.to_path_buf(), format: Format::Ts, header: r.header, cases })
}

/// What a `.ts` file declared so far, and its first case.
struct TsReader<'p> {
    path: &'p Path,
    header: RawHeader,
    /// `@univariate` and its line.
    univariate: Option<(bool, usize)>,
    class_label: Option<bool>,
    /// (line, dims, length) of the first case, for consistency checks.
    first: Option<(usize, usize, usize)>,
    values_hint: usize,
}

impl TsReader<'_> {
    fn err(&self, kind: DataErrorKind, line: usize, message: impl Into<String>) -> DataError {
        DataError::at(kind, self.path, line, message)
    }

    /// One header line; whether it was `@data`.
    fn header_line(&mut self, line_no: usize, line: &str) -> DataResult<bool> {
        let path = self.path;
        let Some(rest) = line.strip_prefix('@') else {
            return Err(self.err(
                DataErrorKind::Format,
                line_no,
                "data line before `@data` (expected `@tag value` header lines)",
            ));
        };
        let (tag, value) = match rest.find(char::is_whitespace) {
            Some(p) => (&rest[..p], rest[p..].trim()),
            None => (rest, ""),
        };
        let header = &mut self.header;
        match tag.to_ascii_lowercase().as_str() {
            "problemname" => header.problem_name = Some(value.to_string()),
            "timestamps" if parse_bool(path, line_no, tag, value)? => {
                return Err(self.err(
                    DataErrorKind::Format,
                    line_no,
                    "`@timeStamps true` is not supported (convert to plain values)",
                ));
            }
            "missing" => header.missing = Some(parse_bool(path, line_no, tag, value)?),
            "univariate" => self.univariate = Some((parse_bool(path, line_no, tag, value)?, line_no)),
            "dimensions" | "dimension" => header.dimensions = Some(parse_count(path, line_no, tag, value)?),
            "equallength" => header.equal_length = Some(parse_bool(path, line_no, tag, value)?),
            "serieslength" => header.series_length = Some(parse_count(path, line_no, tag, value)?),
            "classlabel" => {
                let mut toks = value.split_whitespace();
                let has = parse_bool(path, line_no, tag, toks.next().unwrap_or(""))?;
                self.class_label = Some(has);
                if has {
                    let declared: Vec<String> = toks.map(str::to_string).collect();
                    if declared.is_empty() {
                        return Err(self.err(
                            DataErrorKind::Header,
                            line_no,
                            "`@classLabel true` lists no class labels",
                        ));
                    }
                    self.header.declared_classes = Some(declared);
                }
            }
            "targetlabel" if parse_bool(path, line_no, tag, value)? => {
                return Err(self.err(
                    DataErrorKind::Format,
                    line_no,
                    "`@targetLabel true` marks a regression problem; classification needs `@classLabel`",
                ));
            }
            "data" => {
                self.start_data(line_no)?;
                return Ok(true);
            }
            _ => {} // unknown tags (e.g. @description) are ignored
        }
        Ok(false)
    }

    /// At `@data`: the header must describe a classification problem, consistently.
    fn start_data(&mut self, line_no: usize) -> DataResult<()> {
        if self.class_label == Some(false) {
            return Err(self.err(
                DataErrorKind::Header,
                line_no,
                "`@classLabel false`: the file has no class labels to classify",
            ));
        }
        if let Some((true, l)) = self.univariate {
            if let Some(d) = self.header.dimensions.filter(|&d| d != 1) {
                return Err(self.err(
                    DataErrorKind::Header,
                    l,
                    format!("`@univariate true` contradicts `@dimensions {d}`"),
                ));
            }
            self.header.dimensions = Some(1);
        }
        if self.header.equal_length == Some(false) && self.header.series_length.is_some() {
            // aeon writes no length for unequal data; tolerate but ignore it.
            self.header.series_length = None;
        }
        Ok(())
    }

    /// One data line: dimensions separated by `:`, the label last.
    fn case(&mut self, line_no: usize, line: &str) -> DataResult<RawCase> {
        let mut parts: Vec<&str> = line.split(':').collect();
        let label = if self.class_label == Some(false) {
            String::new()
        } else {
            if parts.len() < 2 {
                return Err(self.err(
                    DataErrorKind::Format,
                    line_no,
                    "case has no class label (expected `values:label`)",
                ));
            }
            parts.pop().unwrap_or("").trim().to_string()
        };
        if label.is_empty() {
            return Err(self.err(DataErrorKind::Format, line_no, "empty class label"));
        }
        self.check_dimensions(line_no, parts.len())?;
        let multi = parts.len() > 1;
        let mut dims = Vec::with_capacity(parts.len());
        for (d, part) in parts.iter().enumerate() {
            let vals = self.dimension(line_no, d, part, multi)?;
            dims.push(vals);
        }
        if let Some(declared) = &self.header.declared_classes
            && !declared.iter().any(|c| same_label(c, &label))
        {
            return Err(self.err(
                DataErrorKind::Header,
                line_no,
                format!("class label {label:?} is not declared in `@classLabel` ({})", declared.join(" ")),
            ));
        }
        if self.first.is_none() {
            self.first = Some((line_no, parts.len(), dims[0].len()));
        }
        Ok(RawCase { dims, label, line: line_no })
    }

    /// A case's dimensions agree with the header, or else with the first case.
    fn check_dimensions(&self, line_no: usize, n_dims: usize) -> DataResult<()> {
        if let Some(d) = self.header.dimensions {
            if d != n_dims {
                let decl = if self.univariate.is_some_and(|u| u.0) {
                    "`@univariate true`".to_string()
                } else {
                    format!("`@dimensions {d}`")
                };
                return Err(self.err(
                    DataErrorKind::Header,
                    line_no,
                    format!("header declares {decl} but this case has {n_dims} dimension(s)"),
                ));
            }
        } else if let Some((l, d, _)) = self.first
            && d != n_dims
        {
            return Err(self.err(
                DataErrorKind::Header,
                line_no,
                format!("case has {n_dims} dimension(s) but the first case (line {l}) has {d}"),
            ));
        }
        Ok(())
    }

    /// The values of dimension `d`, of the declared length where lengths are equal.
    fn dimension(&mut self, line_no: usize, d: usize, part: &str, multi: bool) -> DataResult<Vec<f64>> {
        let mut vals = Vec::with_capacity(self.values_hint);
        for (k, tok) in part.split(',').enumerate() {
            match parse_value(tok) {
                Some(v) => vals.push(v),
                None => {
                    let place = if multi {
                        format!("dimension {}, position {}", d + 1, k + 1)
                    } else {
                        format!("position {}", k + 1)
                    };
                    return Err(non_numeric(self.path, line_no, tok, &place));
                }
            }
        }
        self.values_hint = vals.len();
        if self.header.equal_length == Some(true) {
            let (expect, source) = match (self.header.series_length, self.first) {
                (Some(n), _) => (n, "`@seriesLength`".to_string()),
                (None, Some((l, _, n))) => (n, format!("the first case (line {l}, `@equalLength true`)")),
                (None, None) => (vals.len(), String::new()),
            };
            if vals.len() != expect {
                let dim = if multi { format!("dimension {} ", d + 1) } else { String::new() };
                return Err(self.err(
                    DataErrorKind::Ragged,
                    line_no,
                    format!("ragged row: {dim}has {} values but {source} says {expect}", vals.len()),
                ));
            }
        }
        Ok(vals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MV: &str = "# comment\n@problemName X\n@univariate false\n@dimensions 2\n@equalLength true\n\
                      @seriesLength 3\n@classLabel true b a\n@data\n1,2,3:4,5,6:a\n1,2,?:4,5,6:b\n";

    #[test]
    fn multivariate_with_declared_classes() {
        let f = parse_ts(Path::new("x.ts"), MV).unwrap();
        assert_eq!(f.header.declared_classes, Some(vec!["b".into(), "a".into()]));
        assert_eq!(f.cases.len(), 2);
        assert_eq!(f.cases[0].dims, vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]);
        assert!(f.cases[1].dims[0][2].is_nan());
        assert_eq!(f.cases[1].line, 10);
    }

    #[test]
    fn dimension_mismatch_is_header_error() {
        let t = MV.replace("1,2,3:4,5,6:a", "1,2,3:a");
        let e = parse_ts(Path::new("x.ts"), &t).unwrap_err();
        assert_eq!(e.kind, DataErrorKind::Header);
        assert_eq!(e.line, Some(9));
        assert!(e.message.contains("@dimensions 2"), "{e}");
    }

    #[test]
    fn ragged_in_equal_length() {
        let t = MV.replace("1,2,?:4,5,6:b", "1,2:4,5,6:b");
        let e = parse_ts(Path::new("x.ts"), &t).unwrap_err();
        assert_eq!(e.kind, DataErrorKind::Ragged);
        assert_eq!(e.line, Some(10));
    }

    #[test]
    fn undeclared_label() {
        let t = MV.replace("4,5,6:b", "4,5,6:c");
        let e = parse_ts(Path::new("x.ts"), &t).unwrap_err();
        assert_eq!(e.kind, DataErrorKind::Header);
        assert!(e.to_string().starts_with("x.ts:10: class label \"c\""), "{e}");
    }

    #[test]
    fn no_data_section() {
        let e = parse_ts(Path::new("x.ts"), "@problemName X\n").unwrap_err();
        assert_eq!(e.kind, DataErrorKind::Format);
        let e = parse_ts(Path::new("x.ts"), "@problemName X\n@data\n").unwrap_err();
        assert_eq!(e.kind, DataErrorKind::Empty);
    }
}
