//! UCR 2018 `.tsv`: one series per line, `label<TAB>v1<TAB>v2…`; variable length padded with `NaN`.
//!
//! The row parser here is shared with the old UCR `.txt` reader (whitespace separated).

use std::path::Path;

use super::error::{DataError, DataErrorKind, DataResult};
use super::format::Format;
use super::raw::{RawCase, RawFile, RawHeader, non_numeric, parse_value};

/// Reads a UCR `.tsv` file.
pub fn read_tsv(path: &Path) -> DataResult<RawFile> {
    let text = read_text(path)?;
    parse_tsv(path, &text)
}

/// Parses UCR `.tsv` text (`path` is only used in errors).
pub fn parse_tsv(path: &Path, text: &str) -> DataResult<RawFile> {
    parse_label_first(path, text, Format::Tsv, |line, out| {
        if line.contains('\t') {
            out.extend(line.split('\t'));
        } else if line.contains(',') {
            // Some converted archives use commas; accept them.
            out.extend(line.split(','));
        } else {
            out.extend(line.split_whitespace());
        }
    })
}

/// Reads a whole file as UTF-8 text.
pub(crate) fn read_text(path: &Path) -> DataResult<String> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, &e))?;
    String::from_utf8(bytes).map_err(|e| {
        let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
        DataError::at(DataErrorKind::Format, path, line, "file is not valid UTF-8 text")
    })
}

/// Parses "label first, values after" rows; `split` pushes the fields of one (trimmed) line.
pub(crate) fn parse_label_first<'a>(
    path: &Path,
    text: &'a str,
    format: Format,
    split: impl Fn(&'a str, &mut Vec<&'a str>),
) -> DataResult<RawFile> {
    let mut cases = Vec::new();
    let mut fields: Vec<&str> = Vec::new();
    let mut width = 0;
    for (idx, raw_line) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw_line.trim();
        if line.is_empty() {
            continue;
        }
        fields.clear();
        split(line, &mut fields);
        let label = fields[0].trim();
        if label.is_empty() {
            return Err(DataError::at(DataErrorKind::Format, path, line_no, "empty class label in column 1"));
        }
        if fields.len() < 2 {
            return Err(DataError::at(
                DataErrorKind::Format,
                path,
                line_no,
                format!("row has a label ({label:?}) but no values"),
            ));
        }
        let mut values = Vec::with_capacity(width.max(fields.len() - 1));
        for (col, tok) in fields[1..].iter().enumerate() {
            match parse_value(tok) {
                Some(v) => values.push(v),
                None => return Err(non_numeric(path, line_no, tok, &format!("column {}", col + 2))),
            }
        }
        width = values.len();
        cases.push(RawCase { dims: vec![values], label: label.to_string(), line: line_no });
    }
    if cases.is_empty() {
        return Err(DataError::file(DataErrorKind::Empty, path, "file contains no series"));
    }
    Ok(RawFile { path: path.to_path_buf(), format, header: RawHeader::default(), cases })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_and_padding() {
        let f = parse_tsv(Path::new("x.tsv"), "1\t0.5\t0.25\n\n-1\t1e-3\tNaN\n").unwrap();
        assert_eq!(f.cases.len(), 2);
        assert_eq!(f.cases[0].label, "1");
        assert_eq!(f.cases[1].label, "-1");
        assert_eq!(f.cases[1].line, 3);
        assert_eq!(f.cases[0].dims, vec![vec![0.5, 0.25]]);
        assert!(f.cases[1].dims[0][1].is_nan());
    }

    #[test]
    fn non_numeric_names_line_and_column() {
        let e = parse_tsv(Path::new("GunPoint_TRAIN.tsv"), "1\t1\t2\t3\n2\t1\t2\t3\t1.2x\n").unwrap_err();
        assert_eq!(e.kind, DataErrorKind::NonNumeric);
        assert_eq!(e.to_string(), "GunPoint_TRAIN.tsv:2: non-numeric value \"1.2x\" in column 5");
    }

    #[test]
    fn empty_text() {
        let e = parse_tsv(Path::new("e.tsv"), "\n  \n").unwrap_err();
        assert_eq!(e.kind, DataErrorKind::Empty);
        assert_eq!(e.line, None);
    }
}
