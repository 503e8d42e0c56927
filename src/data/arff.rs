//! Weka/UEA `.arff`. Univariate: numeric attributes then the class attribute. Multivariate: one
//! relational attribute (one inner numeric attribute per time point) whose value is a quoted string
//! holding one row per dimension, rows separated by `\n`, then the class attribute.
//! The class is the last attribute; `?` is a missing value (trailing ones are padding).

use std::path::Path;

use super::error::{DataError, DataErrorKind, DataResult};
use super::format::Format;
use super::labels::same_label;
use super::raw::{RawCase, RawFile, RawHeader, non_numeric, parse_value};
use super::tsv::read_text;

/// Reads an `.arff` file.
pub fn read_arff(path: &Path) -> DataResult<RawFile> {
    let text = read_text(path)?;
    parse_arff(path, &text)
}

#[derive(Debug, Clone, PartialEq)]
enum AttrType {
    Numeric,
    Nominal(Vec<String>),
    Relational(usize),
    Other(String),
}

#[derive(Debug)]
struct Attr {
    name: String,
    ty: AttrType,
    line: usize,
}

/// Splits a leading (possibly quoted) token off `s`; returns (token, rest).
fn take_name(s: &str) -> (String, &str) {
    let s = s.trim_start();
    if let Some(q) = s.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let body = &s[1..];
        if let Some(end) = body.find(q) {
            return (body[..end].to_string(), &body[end + 1..]);
        }
    }
    match s.find(char::is_whitespace) {
        Some(p) => (s[..p].to_string(), &s[p..]),
        None => (s.to_string(), ""),
    }
}

fn unquote(s: &str) -> &str {
    let t = s.trim();
    if t.len() >= 2 && ((t.starts_with('\'') && t.ends_with('\'')) || (t.starts_with('"') && t.ends_with('"'))) {
        &t[1..t.len() - 1]
    } else {
        t
    }
}

fn parse_type(path: &Path, line: usize, ty: &str) -> DataResult<AttrType> {
    let t = ty.trim();
    if let Some(body) = t.strip_prefix('{') {
        let Some(end) = body.rfind('}') else {
            return Err(DataError::at(DataErrorKind::Format, path, line, "unterminated nominal `{…}` list"));
        };
        let vals: Vec<String> =
            split_fields(&body[..end]).into_iter().map(|v| unquote(v).to_string()).filter(|v| !v.is_empty()).collect();
        return Ok(AttrType::Nominal(vals));
    }
    let lc = t.to_ascii_lowercase();
    Ok(match lc.split_whitespace().next().unwrap_or("") {
        "numeric" | "real" | "integer" => AttrType::Numeric,
        "relational" => AttrType::Relational(0),
        other => AttrType::Other(other.to_string()),
    })
}

/// Splits a data row on commas that are outside quotes. Fast path for rows without quotes.
fn split_fields(line: &str) -> Vec<&str> {
    if !line.contains(['\'', '"']) {
        return line.split(',').collect();
    }
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1; // skip escaped char
                } else if b == q {
                    quote = None;
                }
            }
            None => {
                if b == b'\'' || b == b'"' {
                    quote = Some(b);
                } else if b == b',' {
                    out.push(&line[start..i]);
                    start = i + 1;
                }
            }
        }
        i += 1;
    }
    out.push(&line[start..]);
    out
}

/// Parses ARFF text (`path` is only used in errors).
pub fn parse_arff(path: &Path, text: &str) -> DataResult<RawFile> {
    let mut lines = text.lines().enumerate();
    let (mut header, mut attrs, data_line) = read_header(path, &mut lines)?;
    let Some(class_attr) = attrs.pop() else {
        return Err(DataError::at(DataErrorKind::Header, path, data_line, "no attributes declared"));
    };
    match &class_attr.ty {
        AttrType::Nominal(v) => header.declared_classes = Some(v.clone()),
        AttrType::Numeric => {}
        AttrType::Other(t) if t == "string" => {}
        _ => {
            return Err(DataError::at(
                DataErrorKind::Header,
                path,
                class_attr.line,
                format!("the class attribute {:?} (the last one) must be nominal, numeric or string", class_attr.name),
            ));
        }
    }
    let rows = Rows {
        path,
        relational: value_layout(path, &attrs, data_line)?,
        n_values: attrs.len(),
        declared: header.declared_classes.clone(),
    };
    let mut cases = Vec::new();
    let mut n_dims_first: Option<(usize, usize)> = None;
    for (idx, raw_line) in lines {
        let line_no = idx + 1;
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('%') {
            continue;
        }
        let case = rows.case(line_no, line)?;
        if rows.relational.is_some() {
            match n_dims_first {
                None => n_dims_first = Some((line_no, case.dims.len())),
                Some((l, nd)) if nd != case.dims.len() => {
                    return Err(DataError::at(
                        DataErrorKind::Header,
                        path,
                        line_no,
                        format!("case has {} dimension(s) but the first case (line {l}) has {nd}", case.dims.len()),
                    ));
                }
                _ => {}
            }
        }
        cases.push(case);
    }
    if cases.is_empty() {
        return Err(DataError::file(DataErrorKind::Empty, path, "file contains no series after `@data`"));
    }
    Ok(RawFile { path: path.to_path_buf(), format: Format::Arff, header, cases })
}

/// The header up to `@data`: the relation's name, the attributes (a relational attribute's
/// members counted in its type), and the line of `@data`.
fn read_header<'t>(
    path: &Path,
    lines: &mut impl Iterator<Item = (usize, &'t str)>,
) -> DataResult<(RawHeader, Vec<Attr>, usize)> {
    let mut header = RawHeader::default();
    let mut attrs: Vec<Attr> = Vec::new();
    // Open relational attribute: (index into attrs, inner attribute count).
    let mut open_rel: Option<(usize, usize)> = None;
    for (idx, raw_line) in lines {
        let line_no = idx + 1;
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('%') {
            continue;
        }
        let format_err = |message: String| DataError::at(DataErrorKind::Format, path, line_no, message);
        let Some(rest) = line.strip_prefix('@') else {
            return Err(format_err(
                "unexpected line before `@data` (expected `@relation`, `@attribute` or `@data`)".into(),
            ));
        };
        let (kw, tail) = match rest.find(char::is_whitespace) {
            Some(p) => (&rest[..p], &rest[p..]),
            None => (rest, ""),
        };
        match kw.to_ascii_lowercase().as_str() {
            "relation" => header.problem_name = Some(take_name(tail).0),
            "attribute" => {
                let (name, ty) = take_name(tail);
                let ty = parse_type(path, line_no, ty)?;
                if let Some((_, inner)) = open_rel.as_mut() {
                    if ty != AttrType::Numeric {
                        return Err(format_err(format!("relational attribute member {name:?} must be numeric")));
                    }
                    *inner += 1;
                } else {
                    let is_rel = ty == AttrType::Relational(0);
                    attrs.push(Attr { name, ty, line: line_no });
                    if is_rel {
                        open_rel = Some((attrs.len() - 1, 0));
                    }
                }
            }
            "end" => {
                let Some((i, inner)) = open_rel.take() else {
                    return Err(format_err("`@end` without a relational attribute".into()));
                };
                attrs[i].ty = AttrType::Relational(inner);
            }
            "data" => {
                if let Some((i, _)) = open_rel {
                    return Err(format_err(format!(
                        "relational attribute {:?} is not closed by `@end`",
                        attrs[i].name
                    )));
                }
                return Ok((header, attrs, line_no));
            }
            other => return Err(format_err(format!("unknown ARFF keyword `@{other}`"))),
        }
    }
    Err(DataError::file(DataErrorKind::Format, path, "no `@data` section"))
}

/// The layout of the value attributes: all numeric (univariate, `None`) or exactly one
/// relational attribute (multivariate: `Some(its member count)`).
fn value_layout(path: &Path, attrs: &[Attr], data_line: usize) -> DataResult<Option<usize>> {
    match attrs {
        [Attr { ty: AttrType::Relational(n), line, .. }] => {
            if *n == 0 {
                return Err(DataError::at(DataErrorKind::Header, path, *line, "relational attribute has no members"));
            }
            Ok(Some(*n))
        }
        [] => Err(DataError::at(DataErrorKind::Header, path, data_line, "no value attributes declared")),
        _ => {
            if let Some(a) = attrs.iter().find(|a| a.ty != AttrType::Numeric) {
                return Err(DataError::at(
                    DataErrorKind::Format,
                    path,
                    a.line,
                    format!(
                        "unsupported attribute {:?}: expected numeric value attributes or one relational attribute",
                        a.name
                    ),
                ));
            }
            Ok(None)
        }
    }
}

/// How the `@data` rows of one file read.
struct Rows<'p> {
    path: &'p Path,
    /// The relational attribute's member count (multivariate), or `None` (univariate).
    relational: Option<usize>,
    /// Value attributes of a univariate file.
    n_values: usize,
    declared: Option<Vec<String>>,
}

impl Rows<'_> {
    /// One `@data` row: its dimensions and its class label.
    fn case(&self, line_no: usize, line: &str) -> DataResult<RawCase> {
        let path = self.path;
        if line.starts_with('{') {
            return Err(DataError::at(DataErrorKind::Format, path, line_no, "sparse ARFF rows are not supported"));
        }
        let fields = split_fields(line);
        let expected = if self.relational.is_some() { 2 } else { self.n_values + 1 };
        if fields.len() != expected {
            let kind = if self.relational.is_some() { DataErrorKind::Format } else { DataErrorKind::Ragged };
            return Err(DataError::at(
                kind,
                path,
                line_no,
                format!("row has {} fields but the header declares {expected} attributes", fields.len()),
            ));
        }
        let label = unquote(fields[fields.len() - 1]).to_string();
        if label.is_empty() || label == "?" {
            return Err(DataError::at(DataErrorKind::Missing, path, line_no, "missing class label"));
        }
        if let Some(decl) = &self.declared
            && !decl.iter().any(|c| same_label(c, &label))
        {
            return Err(DataError::at(
                DataErrorKind::Header,
                path,
                line_no,
                format!("class label {label:?} is not among the declared values {{{}}}", decl.join(",")),
            ));
        }
        let dims = match self.relational {
            None => {
                let mut vals = Vec::with_capacity(self.n_values);
                for (k, tok) in fields[..self.n_values].iter().enumerate() {
                    match parse_value(unquote(tok)) {
                        Some(v) => vals.push(v),
                        None => return Err(non_numeric(path, line_no, tok, &format!("attribute {}", k + 1))),
                    }
                }
                vec![vals]
            }
            Some(inner) => self.relational_dims(line_no, unquote(fields[0]), inner)?,
        };
        Ok(RawCase { dims, label, line: line_no })
    }

    /// The dimensions of a relational value: rows separated by `\n`, `inner` values each.
    fn relational_dims(&self, line_no: usize, body: &str, inner: usize) -> DataResult<Vec<Vec<f64>>> {
        let rows: Vec<&str> = if body.contains("\\n") { body.split("\\n").collect() } else { body.lines().collect() };
        let mut dims = Vec::with_capacity(rows.len());
        for (d, row) in rows.iter().enumerate() {
            let toks: Vec<&str> = row.split(',').collect();
            if toks.len() != inner {
                return Err(DataError::at(
                    DataErrorKind::Ragged,
                    self.path,
                    line_no,
                    format!(
                        "ragged row: dimension {} has {} values but the relational attribute declares {inner}",
                        d + 1,
                        toks.len()
                    ),
                ));
            }
            let mut vals = Vec::with_capacity(inner);
            for (k, tok) in toks.iter().enumerate() {
                match parse_value(tok) {
                    Some(v) => vals.push(v),
                    None => {
                        let at = format!("dimension {}, position {}", d + 1, k + 1);
                        return Err(non_numeric(self.path, line_no, tok, &at));
                    }
                }
            }
            dims.push(vals);
        }
        Ok(dims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn univariate() {
        let t = "% c\n@relation 'X'\n@attribute a1 numeric\n@attribute a2 NUMERIC\n@attribute 'target' {b,a}\n\n@data\n1,2,a\n3,?,b\n";
        let f = parse_arff(Path::new("x.arff"), t).unwrap();
        assert_eq!(f.header.declared_classes, Some(vec!["b".into(), "a".into()]));
        assert_eq!(f.cases[0].dims, vec![vec![1.0, 2.0]]);
        assert!(f.cases[1].dims[0][1].is_nan());
        assert_eq!(f.cases[1].line, 9);
    }

    #[test]
    fn multivariate_relational() {
        let t = "@relation R\n@attribute rel relational\n@attribute t0 numeric\n@attribute t1 numeric\n@end rel\n\
                 @attribute cls {x,y}\n@data\n'1,2\\n3,4\\n5,6',y\n\"7,8\\n9,10\\n11,12\",'x'\n";
        let f = parse_arff(Path::new("x.arff"), t).unwrap();
        assert_eq!(f.cases.len(), 2);
        assert_eq!(f.cases[0].dims, vec![vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]]);
        assert_eq!(f.cases[1].label, "x");
        let bad = t.replace("'1,2\\n3,4\\n5,6'", "'1,2\\n3,4'");
        let e = parse_arff(Path::new("x.arff"), &bad).unwrap_err();
        assert_eq!(e.kind, DataErrorKind::Header);
        assert_eq!(e.line, Some(9));
    }

    #[test]
    fn ragged_and_non_numeric() {
        let t = "@relation X\n@attribute a1 numeric\n@attribute a2 numeric\n@attribute c {1,2}\n@data\n1,2,1\n1,2\n";
        let e = parse_arff(Path::new("x.arff"), t).unwrap_err();
        assert_eq!((e.kind, e.line), (DataErrorKind::Ragged, Some(7)));
        let t = t.replace("1,2\n", "1,abc,2\n");
        let e = parse_arff(Path::new("x.arff"), &t).unwrap_err();
        assert_eq!(e.to_string(), "x.arff:7: non-numeric value \"abc\" in attribute 2");
    }
}
