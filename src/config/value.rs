//! A TOML value tree that remembers where every key and value came from.
//!
//! Pipelines are assembled from several files (includes, stdlib fragments, profiles, `--set`), so
//! every node carries the file and byte span it was written at; errors found long after parsing
//! can still point at the exact line and key.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;

/// Index of a source in the [`SourceMap`].
pub type FileId = usize;

/// Where a node was written: a file and a byte range in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loc {
    pub file: FileId,
    pub span: Range<usize>,
}

/// A resolved, human-readable position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pos {
    pub path: PathBuf,
    pub line: usize,
    pub col: usize,
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.col)
    }
}

/// One source text (a file, or a command-line argument).
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: Arc<str>,
    line_starts: Vec<usize>,
}

/// All sources that went into a pipeline, for turning [`Loc`]s into positions and snippets.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> FileId {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        self.files.push(SourceFile { path: path.into(), text, line_starts });
        self.files.len() - 1
    }

    pub fn file(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id)
    }

    /// The file id of an already-loaded path, if any.
    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.files.iter().position(|f| f.path == path)
    }

    /// 1-based line and column of a location.
    pub fn pos(&self, loc: &Loc) -> Pos {
        match self.files.get(loc.file) {
            Some(f) => {
                let line = f.line_starts.partition_point(|&s| s <= loc.span.start).max(1);
                let col = f
                    .text
                    .get(f.line_starts[line - 1]..loc.span.start.min(f.text.len()))
                    .map(|s| s.chars().count() + 1)
                    .unwrap_or(1);
                Pos { path: f.path.clone(), line, col }
            }
            None => Pos { path: PathBuf::from("<unknown>"), line: 0, col: 0 },
        }
    }
}

/// A value with the location of its key (if it has one) and of itself.
#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub loc: Loc,
    pub key_loc: Loc,
}

pub type Table = IndexMap<String, Node>;

#[derive(Debug, Clone)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Table),
}

impl Value {
    /// The TOML type name, for "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Bool(_) => "boolean",
            Value::Datetime(_) => "datetime",
            Value::Array(_) => "array",
            Value::Table(_) => "table",
        }
    }
}

impl Node {
    pub fn new(value: Value, loc: Loc) -> Node {
        Node { value, key_loc: loc.clone(), loc }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_table(&self) -> Option<&Table> {
        match &self.value {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_table_mut(&mut self) -> Option<&mut Table> {
        match &mut self.value {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Converts to JSON for hashing and for stage code. Tables keep their key order here;
    /// canonical ordering is applied by the cache key code.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Str(s) | Value::Datetime(s) => serde_json::Value::String(s.clone()),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|| serde_json::Value::String(f.to_string())),
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Array(a) => serde_json::Value::Array(a.iter().map(Node::to_json).collect()),
            Value::Table(t) => serde_json::Value::Object(t.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }

    /// A short rendering of a scalar for instance labels and messages.
    pub fn display_scalar(&self) -> String {
        match &self.value {
            Value::Str(s) | Value::Datetime(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format!("{f}"),
            Value::Bool(b) => b.to_string(),
            Value::Array(_) | Value::Table(_) => self.to_json().to_string(),
        }
    }
}

/// Deep-merges `overlay` into `base`: tables merge key by key, anything else is replaced.
pub fn merge_tables(base: &mut Table, overlay: &Table) {
    for (k, v) in overlay {
        match (base.get_mut(k), &v.value) {
            (Some(existing), Value::Table(over)) if matches!(existing.value, Value::Table(_)) => {
                if let Value::Table(b) = &mut existing.value {
                    merge_tables(b, over);
                }
            }
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let mut sm = SourceMap::default();
        let id = sm.add("p.toml", "a = 1\nbb = 2\n");
        let p = sm.pos(&Loc { file: id, span: 6..8 });
        assert_eq!((p.line, p.col), (2, 1));
        let p = sm.pos(&Loc { file: id, span: 11..12 });
        assert_eq!((p.line, p.col), (2, 6));
    }
}
