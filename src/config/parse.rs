//! TOML text → spanned [`Node`] tree (through `toml_edit`, which keeps spans).

use toml_edit::{Document, Item};

use super::error::DslError;
use super::value::{FileId, Loc, Node, SourceMap, Table, Value};

/// Parses one source already registered in the source map.
pub fn parse_source(sources: &SourceMap, file: FileId) -> Result<Table, DslError> {
    let text = sources.file(file).map(|f| f.text.clone()).unwrap_or_else(|| "".into());
    let doc = Document::parse(&*text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        DslError::syntax(sources, Loc { file, span }, e.message().trim().to_string())
    })?;
    let root = doc.as_item().as_table().cloned().unwrap_or_default();
    Ok(convert_table(&root, file))
}

/// Parses a single TOML value written on the command line (`--set key=VALUE`). Bare words that
/// are not valid TOML are taken as strings, so `--set x.method=dtw` works without quotes.
pub fn parse_cli_value(sources: &mut SourceMap, label: &str, raw: &str) -> Node {
    let wrapped = format!("v = {raw}");
    let file = sources.add(label, wrapped.clone());
    if let Ok(doc) = Document::parse(wrapped.as_str())
        && let Some(Item::Value(v)) = doc.as_item().as_table().and_then(|t| t.get("v"))
    {
        return convert_value(v, file);
    }
    Node::new(Value::Str(raw.to_string()), Loc { file, span: 4..wrapped.len() })
}

fn loc(file: FileId, span: Option<std::ops::Range<usize>>) -> Loc {
    Loc { file, span: span.unwrap_or(0..0) }
}

fn convert_table(t: &toml_edit::Table, file: FileId) -> Table {
    let mut out = Table::new();
    for (k, item) in t.iter() {
        let key_loc = loc(file, t.key(k).and_then(|k| k.span()));
        if let Some(mut node) = convert_item(item, file) {
            if node.loc.span == (0..0) {
                node.loc = key_loc.clone();
            }
            node.key_loc = key_loc;
            out.insert(k.to_string(), node);
        }
    }
    out
}

fn convert_item(item: &Item, file: FileId) -> Option<Node> {
    match item {
        Item::None => None,
        Item::Value(v) => Some(convert_value(v, file)),
        Item::Table(t) => Some(Node::new(Value::Table(convert_table(t, file)), loc(file, t.span()))),
        Item::ArrayOfTables(a) => {
            let items =
                a.iter().map(|t| Node::new(Value::Table(convert_table(t, file)), loc(file, t.span()))).collect();
            Some(Node::new(Value::Array(items), loc(file, a.span())))
        }
    }
}

fn convert_value(v: &toml_edit::Value, file: FileId) -> Node {
    use toml_edit::Value as V;
    let l = loc(file, v.span());
    let value = match v {
        V::String(s) => Value::Str(s.value().clone()),
        V::Integer(i) => Value::Int(*i.value()),
        V::Float(f) => Value::Float(*f.value()),
        V::Boolean(b) => Value::Bool(*b.value()),
        V::Datetime(d) => Value::Datetime(d.value().to_string()),
        V::Array(a) => Value::Array(a.iter().map(|x| convert_value(x, file)).collect()),
        V::InlineTable(t) => {
            let mut out = Table::new();
            for (k, item) in t.iter() {
                let key_loc = loc(file, t.key(k).and_then(|k| k.span()));
                let mut node = convert_value(item, file);
                node.key_loc = key_loc;
                out.insert(k.to_string(), node);
            }
            Value::Table(out)
        }
    };
    Node::new(value, l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_spans_of_keys_and_values() {
        let mut sm = SourceMap::default();
        let id = sm.add("x.toml", "[stages.a]\nkind = \"load\"\nx = { y = 2 }\n");
        let t = parse_source(&sm, id).unwrap();
        let a = t["stages"].as_table().unwrap()["a"].as_table().unwrap();
        let p = sm.pos(&a["kind"].key_loc);
        assert_eq!((p.line, p.col), (2, 1));
        let y = &a["x"].as_table().unwrap()["y"];
        assert_eq!(sm.pos(&y.key_loc).col, 7);
        assert!(matches!(y.value, Value::Int(2)));
    }

    #[test]
    fn syntax_error_names_line() {
        let mut sm = SourceMap::default();
        let id = sm.add("bad.toml", "[stages.a]\nkind = \n");
        let e = parse_source(&sm, id).unwrap_err().to_string();
        assert!(e.contains("bad.toml:2"), "{e}");
    }

    #[test]
    fn cli_values_fall_back_to_strings() {
        let mut sm = SourceMap::default();
        assert!(matches!(parse_cli_value(&mut sm, "--set", "12").value, Value::Int(12)));
        assert!(matches!(parse_cli_value(&mut sm, "--set", "dtw").value, Value::Str(_)));
        assert!(matches!(parse_cli_value(&mut sm, "--set", "[1, 2]").value, Value::Array(_)));
    }
}
