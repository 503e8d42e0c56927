//! Reading a pipeline: the file, its includes, stdlib fragments (`use`), a profile and `--set`s,
//! merged into one spanned document.

use std::path::{Path, PathBuf};

use super::error::{DslError, DslErrorKind};
use super::parse::{parse_cli_value, parse_source};
use super::value::{Loc, Node, SourceMap, Table, Value, merge_tables};

/// Where fragments named with `use = "models/lstm_fcn"` or `include = ["@stdlib/…"]` are found.
pub fn default_stdlib_dirs(pipeline: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(env) = std::env::var_os("TSCPIPE_STDLIB") {
        dirs.extend(std::env::split_paths(&env));
    }
    if let Some(parent) = pipeline.parent() {
        dirs.push(parent.join("stdlib"));
        dirs.push(parent.join("..").join("stdlib"));
    }
    if let Ok(cwd) = std::env::current_dir() {
        dirs.push(cwd.join("stdlib"));
    }
    dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("stdlib"));
    dirs
}

/// How to read a pipeline.
#[derive(Debug, Clone, Default)]
pub struct PipelineOptions {
    /// A named profile from `[profiles.NAME]` to merge over the file.
    pub profile: Option<String>,
    /// `KEY=VALUE` overrides; `stage.param=v` is short for `stages.stage.param=v`.
    pub sets: Vec<String>,
    /// Directories searched for stdlib fragments; empty means [`default_stdlib_dirs`].
    pub stdlib_dirs: Vec<PathBuf>,
    /// `--target`: stage names or instance ids; the expanded pipeline is cut down to them and
    /// their upstream ([`crate::plan::restrict`]). Empty = everything.
    pub targets: Vec<String>,
}

/// A pipeline document after includes, fragments, profile and overrides.
#[derive(Debug)]
pub struct PipelineSource {
    pub path: PathBuf,
    pub sources: SourceMap,
    pub root: Table,
}

/// Keys allowed at the top level of a pipeline file (`cache` and `executor`: see `crate::settings`).
pub const ROOT_KEYS: &[&str] = &["pipeline", "matrix", "stages", "profiles", "cache", "executor"];

pub fn load(path: &Path, opts: &PipelineOptions) -> Result<PipelineSource, DslError> {
    let mut loader = Loader {
        sources: SourceMap::default(),
        stdlib: if opts.stdlib_dirs.is_empty() { default_stdlib_dirs(path) } else { opts.stdlib_dirs.clone() },
        stack: Vec::new(),
    };
    let mut root = loader.load_file(path, None)?;

    // Profiles: merged over the document, then removed from it so they do not leak into `show`.
    let profiles = root.shift_remove("profiles");
    if let Some(name) = &opts.profile {
        let profs = profiles.as_ref().and_then(|p| p.as_table());
        match profs.and_then(|p| p.get(name)) {
            Some(Node { value: Value::Table(t), .. }) => merge_tables(&mut root, t),
            Some(other) => {
                return Err(DslError::at(
                    DslErrorKind::Type,
                    &loader.sources,
                    &other.loc,
                    format!("profile `{name}` must be a table, found {}", other.value.type_name()),
                ));
            }
            None => {
                let names: Vec<&str> = profs.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
                let err = DslError::general(
                    DslErrorKind::Reference,
                    format!(
                        "{}: no profile `{name}` (profiles defined: {})",
                        path.display(),
                        if names.is_empty() { "none".to_string() } else { names.join(", ") }
                    ),
                );
                return Err(err.suggest(name, names.iter().copied()));
            }
        }
    }

    for set in &opts.sets {
        loader.apply_set(&mut root, set)?;
    }

    // Resolve `use` fragments last, so a profile or --set can change which fragment is used.
    if let Some(stages) = root.get_mut("stages").and_then(Node::as_table_mut) {
        for (_, stage) in stages.iter_mut() {
            loader.resolve_uses(stage, &mut Vec::new())?;
        }
    }

    Ok(PipelineSource { path: path.to_path_buf(), sources: loader.sources, root })
}

struct Loader {
    sources: SourceMap,
    stdlib: Vec<PathBuf>,
    stack: Vec<PathBuf>,
}

impl Loader {
    fn read(&mut self, path: &Path, from: Option<&Loc>) -> Result<(usize, Table), DslError> {
        let canon = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let text = std::fs::read_to_string(path).map_err(|e| {
            let msg = format!("cannot read {}: {e}", path.display());
            match from {
                Some(loc) => DslError::at(DslErrorKind::Io, &self.sources, loc, msg),
                None => DslError::general(DslErrorKind::Io, msg),
            }
        })?;
        let id = self.sources.add(canon.clone(), text);
        let _ = canon;
        Ok((id, parse_source(&self.sources, id)?))
    }

    fn load_file(&mut self, path: &Path, from: Option<&Loc>) -> Result<Table, DslError> {
        let canon = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(i) = self.stack.iter().position(|p| *p == canon) {
            let chain: Vec<String> = self.stack[i..].iter().chain([&canon]).map(|p| p.display().to_string()).collect();
            let msg = format!("include cycle: {}", chain.join(" -> "));
            return Err(match from {
                Some(loc) => DslError::at(DslErrorKind::IncludeCycle, &self.sources, loc, msg),
                None => DslError::general(DslErrorKind::IncludeCycle, msg),
            });
        }
        let (file, table) = self.read(path, from)?;
        for (k, node) in &table {
            if !ROOT_KEYS.contains(&k.as_str()) {
                return Err(DslError::at(
                    DslErrorKind::UnknownKey,
                    &self.sources,
                    &node.key_loc,
                    format!("unknown top-level key `{k}` (expected one of: {})", ROOT_KEYS.join(", ")),
                )
                .suggest(k, ROOT_KEYS.iter().copied()));
            }
        }
        let _ = file;
        self.stack.push(canon);
        let includes = table.get("pipeline").and_then(Node::as_table).and_then(|p| p.get("include")).cloned();
        let mut merged = Table::new();
        if let Some(inc) = includes {
            let items: Vec<Node> = match &inc.value {
                Value::Str(_) => vec![inc.clone()],
                Value::Array(a) => a.clone(),
                other => {
                    return Err(DslError::at(
                        DslErrorKind::Type,
                        &self.sources,
                        &inc.loc,
                        format!("`include` must be a string or an array of strings, found {}", other.type_name()),
                    ));
                }
            };
            for item in items {
                let Some(rel) = item.as_str() else {
                    return Err(DslError::at(
                        DslErrorKind::Type,
                        &self.sources,
                        &item.loc,
                        format!("include path must be a string, found {}", item.value.type_name()),
                    ));
                };
                let target = self.resolve_path(rel, path, &item.loc)?;
                let inc_table = self.load_file(&target, Some(&item.loc))?;
                merge_tables(&mut merged, &inc_table);
            }
        }
        self.stack.pop();
        merge_tables(&mut merged, &table);
        Ok(merged)
    }

    /// `@stdlib/x.toml` searches the stdlib directories; anything else is relative to `from_file`.
    fn resolve_path(&self, rel: &str, from_file: &Path, loc: &Loc) -> Result<PathBuf, DslError> {
        if let Some(rest) = rel.strip_prefix("@stdlib/") {
            return self.find_in_stdlib(rest, loc);
        }
        let base = from_file.parent().unwrap_or(Path::new("."));
        Ok(base.join(rel))
    }

    fn find_in_stdlib(&self, name: &str, loc: &Loc) -> Result<PathBuf, DslError> {
        let file = if name.ends_with(".toml") { name.to_string() } else { format!("{name}.toml") };
        for dir in &self.stdlib {
            let p = dir.join(&file);
            if p.is_file() {
                return Ok(p);
            }
        }
        let looked: Vec<String> = self.stdlib.iter().map(|d| d.join(&file).display().to_string()).collect();
        let mut known = Vec::new();
        for dir in &self.stdlib {
            collect_fragments(dir, dir, &mut known);
        }
        Err(DslError::at(
            DslErrorKind::Reference,
            &self.sources,
            loc,
            format!("stdlib fragment `{name}` not found (looked in: {})", looked.join(", ")),
        )
        .suggest(name, known.iter().map(String::as_str)))
    }

    fn resolve_uses(&mut self, stage: &mut Node, chain: &mut Vec<String>) -> Result<(), DslError> {
        let Some(table) = stage.as_table_mut() else { return Ok(()) };
        let Some(uses) = table.shift_remove("use") else { return Ok(()) };
        let items: Vec<Node> = match &uses.value {
            Value::Str(_) => vec![uses.clone()],
            Value::Array(a) => a.clone(),
            other => {
                return Err(DslError::at(
                    DslErrorKind::Type,
                    &self.sources,
                    &uses.loc,
                    format!("`use` must be a fragment name or an array of them, found {}", other.type_name()),
                ));
            }
        };
        let mut base = Table::new();
        for item in items {
            let Some(name) = item.as_str().map(str::to_string) else {
                return Err(DslError::at(
                    DslErrorKind::Type,
                    &self.sources,
                    &item.loc,
                    "fragment name must be a string",
                ));
            };
            if chain.contains(&name) {
                return Err(DslError::at(
                    DslErrorKind::IncludeCycle,
                    &self.sources,
                    &item.loc,
                    format!("`use` cycle: {} -> {name}", chain.join(" -> ")),
                ));
            }
            let path = self.find_in_stdlib(&name, &item.loc)?;
            let (_, frag) = self.read(&path, Some(&item.loc))?;
            let mut frag_node = Node::new(Value::Table(frag), item.loc.clone());
            chain.push(name);
            self.resolve_uses(&mut frag_node, chain)?;
            chain.pop();
            if let Value::Table(t) = &frag_node.value {
                merge_tables(&mut base, t);
            }
        }
        merge_tables(&mut base, table);
        *table = base;
        Ok(())
    }

    fn apply_set(&mut self, root: &mut Table, set: &str) -> Result<(), DslError> {
        let Some((key, raw)) = set.split_once('=') else {
            return Err(DslError::general(
                DslErrorKind::Invalid,
                format!("--set `{set}`: expected KEY=VALUE, e.g. --set train.epochs=10"),
            ));
        };
        let mut path: Vec<&str> = key.trim().split('.').collect();
        if path.iter().any(|p| p.is_empty()) {
            return Err(DslError::general(DslErrorKind::Invalid, format!("--set `{set}`: empty key segment")));
        }
        if !ROOT_KEYS.contains(&path[0]) {
            path.insert(0, "stages");
            let exists = root.get("stages").and_then(Node::as_table).is_some_and(|s| s.contains_key(path[1]));
            if !exists {
                let names: Vec<String> = root
                    .get("stages")
                    .and_then(Node::as_table)
                    .map(|s| s.keys().cloned().collect())
                    .unwrap_or_default();
                return Err(DslError::general(
                    DslErrorKind::Reference,
                    format!("--set `{set}`: no stage `{}`", path[1]),
                )
                .suggest(path[1], names.iter().map(String::as_str)));
            }
        }
        let value = parse_cli_value(&mut self.sources, &format!("--set {key}"), raw.trim());
        let mut cur = root;
        for seg in &path[..path.len() - 1] {
            let entry =
                cur.entry(seg.to_string()).or_insert_with(|| Node::new(Value::Table(Table::new()), value.loc.clone()));
            if !matches!(entry.value, Value::Table(_)) {
                return Err(DslError::general(
                    DslErrorKind::Type,
                    format!("--set `{set}`: `{seg}` is a {}, not a table", entry.value.type_name()),
                ));
            }
            cur = entry.as_table_mut().expect("checked to be a table");
        }
        cur.insert(path[path.len() - 1].to_string(), value);
        Ok(())
    }
}

fn collect_fragments(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_fragments(root, &p, out);
        } else if p.extension().is_some_and(|x| x == "toml")
            && let Ok(rel) = p.strip_prefix(root)
        {
            out.push(rel.with_extension("").to_string_lossy().replace('\\', "/"));
        }
    }
}
