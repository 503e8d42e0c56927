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
    let mut header = RawHeader::default();
    let mut univariate: Option<(bool, usize)> = None;
    let mut class_label: Option<bool> = None;
    let mut in_data = false;
    let mut cases: Vec<RawCase> = Vec::new();
    // (line, dims, length) of the first case, for consistency checks.
    let mut first: Option<(usize, usize, usize)> = None;
    let mut values_hint = 0;

    for (idx, raw_line) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !in_data {
            let Some(rest) = line.strip_prefix('@') else {
                return Err(DataError::at(
                    DataErrorKind::Format,
                    path,
                    line_no,
                    "data line before `@data` (expected `@tag value` header lines)",
                ));
            };
            let (tag, value) = match rest.find(char::is_whitespace) {
                Some(p) => (&rest[..p], rest[p..].trim()),
                None => (rest, ""),
            };
            let tag_lc = tag.to_ascii_lowercase();
            match tag_lc.as_str() {
                "problemname" => header.problem_name = Some(value.to_string()),
                "timestamps" if parse_bool(path, line_no, tag, value)? => {
                    return Err(DataError::at(
                        DataErrorKind::Format,
                        path,
                        line_no,
                        "`@timeStamps true` is not supported (convert to plain values)",
                    ));
                }
                "missing" => header.missing = Some(parse_bool(path, line_no, tag, value)?),
                "univariate" => univariate = Some((parse_bool(path, line_no, tag, value)?, line_no)),
                "dimensions" | "dimension" => {
                    header.dimensions = Some(parse_count(path, line_no, tag, value)?);
                }
                "equallength" => header.equal_length = Some(parse_bool(path, line_no, tag, value)?),
                "serieslength" => header.series_length = Some(parse_count(path, line_no, tag, value)?),
                "classlabel" => {
                    let mut toks = value.split_whitespace();
                    let flag = toks.next().unwrap_or("");
                    let has = parse_bool(path, line_no, tag, flag)?;
                    class_label = Some(has);
                    if has {
                        let declared: Vec<String> = toks.map(str::to_string).collect();
                        if declared.is_empty() {
                            return Err(DataError::at(
                                DataErrorKind::Header,
                                path,
                                line_no,
                                "`@classLabel true` lists no class labels",
                            ));
                        }
                        header.declared_classes = Some(declared);
                    }
                }
                "targetlabel" if parse_bool(path, line_no, tag, value)? => {
                    return Err(DataError::at(
                        DataErrorKind::Format,
                        path,
                        line_no,
                        "`@targetLabel true` marks a regression problem; classification needs `@classLabel`",
                    ));
                }
                "data" => {
                    if class_label == Some(false) {
                        return Err(DataError::at(
                            DataErrorKind::Header,
                            path,
                            line_no,
                            "`@classLabel false`: the file has no class labels to classify",
                        ));
                    }
                    if let Some((true, l)) = univariate {
                        if let Some(d) = header.dimensions.filter(|&d| d != 1) {
                            return Err(DataError::at(
                                DataErrorKind::Header,
                                path,
                                l,
                                format!("`@univariate true` contradicts `@dimensions {d}`"),
                            ));
                        }
                        header.dimensions = Some(1);
                    }
                    if header.equal_length == Some(false) && header.series_length.is_some() {
                        // aeon writes no length for unequal data; tolerate but ignore it.
                        header.series_length = None;
                    }
                    in_data = true;
                }
                _ => {} // unknown tags (e.g. @description) are ignored
            }
            continue;
        }

        // A data line.
        let mut parts: Vec<&str> = line.split(':').collect();
        let label = if class_label == Some(false) {
            String::new()
        } else {
            if parts.len() < 2 {
                return Err(DataError::at(
                    DataErrorKind::Format,
                    path,
                    line_no,
                    "case has no class label (expected `values:label`)",
                ));
            }
            parts.pop().unwrap_or("").trim().to_string()
        };
        if label.is_empty() {
            return Err(DataError::at(DataErrorKind::Format, path, line_no, "empty class label"));
        }
        let n_dims = parts.len();
        let multi = n_dims > 1;
        if let Some(d) = header.dimensions {
            if d != n_dims {
                let decl = if univariate.is_some_and(|u| u.0) {
                    "`@univariate true`".to_string()
                } else {
                    format!("`@dimensions {d}`")
                };
                return Err(DataError::at(
                    DataErrorKind::Header,
                    path,
                    line_no,
                    format!("header declares {decl} but this case has {n_dims} dimension(s)"),
                ));
            }
        } else if let Some((l, d, _)) = first
            && d != n_dims
        {
            return Err(DataError::at(
                DataErrorKind::Header,
                path,
                line_no,
                format!("case has {n_dims} dimension(s) but the first case (line {l}) has {d}"),
            ));
        }
        let mut dims = Vec::with_capacity(n_dims);
        for (d, part) in parts.iter().enumerate() {
            let mut vals = Vec::with_capacity(values_hint);
            for (k, tok) in part.split(',').enumerate() {
                match parse_value(tok) {
                    Some(v) => vals.push(v),
                    None => {
                        let place = if multi {
                            format!("dimension {}, position {}", d + 1, k + 1)
                        } else {
                            format!("position {}", k + 1)
                        };
                        return Err(non_numeric(path, line_no, tok, &place));
                    }
                }
            }
            values_hint = vals.len();
            if header.equal_length == Some(true) {
                let (expect, source) = match (header.series_length, first) {
                    (Some(n), _) => (n, "`@seriesLength`".to_string()),
                    (None, Some((l, _, n))) => (n, format!("the first case (line {l}, `@equalLength true`)")),
                    (None, None) => (vals.len(), String::new()),
                };
                if vals.len() != expect {
                    let dim = if multi { format!("dimension {} ", d + 1) } else { String::new() };
                    return Err(DataError::at(
                        DataErrorKind::Ragged,
                        path,
                        line_no,
                        format!("ragged row: {dim}has {} values but {source} says {expect}", vals.len()),
                    ));
                }
            }
            dims.push(vals);
        }
        if let Some(declared) = &header.declared_classes
            && !declared.iter().any(|c| same_label(c, &label))
        {
            return Err(DataError::at(
                DataErrorKind::Header,
                path,
                line_no,
                format!("class label {label:?} is not declared in `@classLabel` ({})", declared.join(" ")),
            ));
        }
        if first.is_none() {
            first = Some((line_no, n_dims, dims[0].len()));
        }
        cases.push(RawCase { dims, label, line: line_no });
    }
    if !in_data {
        return Err(DataError::file(DataErrorKind::Format, path, "no `@data` section"));
    }
    if cases.is_empty() {
        return Err(DataError::file(DataErrorKind::Empty, path, "file contains no series after `@data`"));
    }
    Ok(RawFile { path: path.to_path_buf(), format: Format::Ts, header, cases })
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
