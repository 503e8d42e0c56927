//! Writing CSV by hand (the files are small and their bytes are part of cached outputs).

/// Quotes a field when needed, as RFC 4180 and the `csv` crate's `QuoteStyle::Necessary` do: a
/// field holding a comma, a double quote, a line feed or a carriage return is put in double quotes
/// with its quotes doubled; any other field is written as it is.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// A `dataset,<column>…` CSV: one row per (name, cells); the cells are written as given.
pub fn wide_csv<'a>(columns: &[String], rows: impl IntoIterator<Item = (&'a str, Vec<String>)>) -> String {
    let mut s = String::from("dataset");
    for c in columns {
        s.push(',');
        s.push_str(&csv_field(c));
    }
    s.push('\n');
    for (name, cells) in rows {
        s.push_str(&csv_field(name));
        for c in cells {
            s.push(',');
            s.push_str(&c);
        }
        s.push('\n');
    }
    s
}

/// Splits one CSV line (RFC 4180 quoting, no embedded line breaks) into trimmed fields; `None`
/// for an unterminated quoted field.
pub fn split_line(line: &str) -> Option<Vec<String>> {
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
        return None;
    }
    out.push(cur.trim().to_string());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_rfc_4180_needs() {
        assert_eq!(csv_field("Coffee"), "Coffee");
        assert_eq!(csv_field("1NN-DTW (w=0.1)"), "1NN-DTW (w=0.1)");
        assert_eq!(csv_field(""), "");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("cr\r"), "\"cr\r\"");
    }

    #[test]
    fn wide_tables_quote_names_not_cells() {
        let t = wide_csv(&["ED".into(), "a,b".into()], [("Coffee", vec!["1".into(), "0.5".into()])]);
        assert_eq!(t, "dataset,ED,\"a,b\"\nCoffee,1,0.5\n");
    }
}
