//! The library's layers look down only: a module may use its own items and those of modules in
//! layers below it, never one beside or above it. Read from the sources: every `crate::<module>`
//! path outside comments counts, in `use` lines and inline alike.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::repo;

/// The layers, lowest first (the table docs/architecture.md describes).
const LAYERS: &[&[&str]] = &[
    // Leaves: helpers, the device type, graph algorithms, HTML pages, t-SNE.
    &["util", "device", "graph", "report", "embed"],
    // TOML with spans and settings; datasets; metrics; the content-hash cache; figures.
    &["config", "settings", "data", "metrics", "cache", "plot"],
    // Classic classifiers and feature extractors.
    &["classic"],
    // CNN-TS pairs.
    &["pairs"],
    // Models (burn) and statistics.
    &["models", "stats"],
    // Running a researcher's own program (reads results files through `stats`).
    &["command"],
    // Stage kinds and their registry.
    &["stages"],
    // The pipeline language (validates against the stage kinds).
    &["dsl"],
    // The plan: instance graph, keys, the walk, status.
    &["plan"],
    // Scheduling and executors, publishing.
    &["exec"],
    // The command line's operations.
    &["app"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The crate modules a source text names as `crate::<name>` (comments skipped).
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push((n + 1, name));
            }
            rest = after;
        }
    }
    out
}

#[test]
fn modules_import_only_from_layers_below() {
    let src = repo().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        let first = rel.components().next().expect("a component").as_os_str().to_string_lossy().into_owned();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(layer) = layer_of(&module) else {
            violations.push(format!("src/{}: module `{module}` is in no layer of LAYERS", rel.display()));
            continue;
        };
        *seen.entry(module.clone()).or_default() += 1;
        let text = std::fs::read_to_string(f).expect("read");
        for (line, used) in crate_paths(&text) {
            // macros are exported at the crate root: `stages`' parameter macros, `classic`'s
            // SIMD dispatch
            let used = match used.as_str() {
                "stage_params" | "param_name" | "__stage_param_spec" | "__stage_param_read" | "__param_type" => {
                    "stages".to_string()
                }
                "multiversion" => "classic".to_string(),
                _ => used,
            };
            if used == module || (module == "config" && used == "settings") {
                continue;
            }
            match layer_of(&used) {
                Some(l) if l < layer => {}
                Some(l) => violations.push(format!(
                    "src/{}:{line}: `{module}` (layer {layer}) uses `crate::{used}` (layer {l})",
                    rel.display()
                )),
                None => violations.push(format!("src/{}:{line}: `crate::{used}` is in no layer", rel.display())),
            }
        }
    }
    assert!(violations.is_empty(), "imports that do not look down:\n{}", violations.join("\n"));
    // The check saw the crate (a moved `src` would make it pass vacuously).
    for m in ["cache", "dsl", "plan", "exec", "stages", "models"] {
        assert!(seen.get(m).is_some_and(|&n| n > 0), "no files of `{m}` found");
    }
}

#[test]
fn the_scan_finds_inline_paths_and_skips_comments() {
    let text = "use crate::cache::Cache;\n// crate::exec::x\nlet d = crate::device::Device::Cpu; // crate::app\n";
    assert_eq!(crate_paths(text), vec![(1, "cache".to_string()), (3, "device".to_string())]);
}

/// The modules of `stages` every kind may use: the traits, parameters, declarations, the files
/// kinds exchange, the reference renderer and the registry. A kind's own file holds its
/// `TypedStage` impl and the conversion of its parameters; what two kinds share lives in one of
/// these or in a domain module below.
const SHARED_STAGE_MODULES: &[&str] = &["kind", "params", "spec", "artifact", "markdown", "registry"];

/// Stage → stage imports not yet moved down, each (importer, imported). Temporary: the ROCKET
/// family's ridge helpers and feature-table files, and the deep models' training files, move
/// in their own changes; the list only shrinks.
const STAGE_IMPORTS_TO_MOVE: &[(&str, &str)] = &[
    ("features_classify", "features"),
    ("rocket_classify", "transform"),
    ("transform", "features"),
    ("finetune", "train"),
    ("predict", "train"),
    ("predict_pairs", "train"),
    ("predict_pairs", "train_pairs"),
    ("train_pairs", "train"),
    ("train_pairs", "pair_expand"),
];

/// The stage modules a source text names as `super::<m>` or `crate::stages::<m>` (comments
/// skipped), among `modules`.
fn stage_paths(text: &str, modules: &[String]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        for prefix in ["super::", "crate::stages::"] {
            let mut rest = code;
            while let Some(i) = rest.find(prefix) {
                let after = &rest[i + prefix.len()..];
                let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if modules.contains(&name) {
                    out.push((n + 1, name));
                }
                rest = after;
            }
        }
    }
    out
}

#[test]
fn stage_files_import_only_the_shared_stage_modules() {
    let dir = repo().join("src/stages");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("src/stages")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    let modules: Vec<String> =
        files.iter().map(|p| p.file_stem().expect("a name").to_string_lossy().into_owned()).collect();
    assert!(modules.len() > 20 && modules.iter().any(|m| m == "analyze"), "stage files not found: {modules:?}");
    let mut violations = Vec::new();
    let mut excused = Vec::new();
    for (f, module) in files.iter().zip(&modules) {
        if module == "mod" {
            continue;
        }
        let text = std::fs::read_to_string(f).expect("read");
        for (line, used) in stage_paths(&text, &modules) {
            if used == *module || SHARED_STAGE_MODULES.contains(&used.as_str()) {
                continue;
            }
            if STAGE_IMPORTS_TO_MOVE.contains(&(module.as_str(), used.as_str())) {
                excused.push((module.clone(), used));
                continue;
            }
            violations.push(format!("src/stages/{module}.rs:{line}: uses the stage module `{used}`"));
        }
    }
    assert!(
        violations.is_empty(),
        "a stage file uses another kind's module (move what they share into a shared stage module or a domain module):\n{}",
        violations.join("\n")
    );
    // An exception that no longer occurs is removed from the list.
    let stale: Vec<_> =
        STAGE_IMPORTS_TO_MOVE.iter().filter(|(a, b)| !excused.iter().any(|(x, y)| x == a && y == b)).collect();
    assert!(stale.is_empty(), "STAGE_IMPORTS_TO_MOVE lists imports that are gone: {stale:?}");
}

#[test]
fn the_stage_scan_finds_stage_modules_only() {
    let modules: Vec<String> = ["table", "kind"].iter().map(|s| s.to_string()).collect();
    let text = "use super::table::X;\n// super::table\nlet k = crate::stages::kind::Params; use super::*;\n";
    assert_eq!(stage_paths(text, &modules), vec![(1, "table".to_string()), (3, "kind".to_string())]);
}

/// The longest a function in `src/` may be, in lines from `fn` to its closing brace: one a
/// reader can hold in their head.
const MAX_FN_LINES: usize = 150;

/// Functions allowed to be longer for a while, each (file under `src/`, name): for a function
/// in a file that other work is changing at the same time. Empty now; the list only shrinks.
const LONG_FNS_TO_SPLIT: &[(&str, &str)] = &[];

/// The source with comments and the contents of string and character literals blanked (line
/// breaks kept), so that braces and `fn` are only seen in code.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let blank = |c: u8| if c == b'\n' { b'\n' } else { b' ' };
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(b, i) {
            // r"…", r#"…"#, br"…": up to the quote followed by as many hashes.
            let open = b[i..].iter().position(|&c| c == b'"').unwrap_or(0) + 1;
            let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
            out.extend(std::iter::repeat_n(b' ', open));
            i += open;
            while i < b.len() && !b[i..].starts_with(&close) {
                out.push(blank(b[i]));
                i += 1;
            }
            out.extend(std::iter::repeat_n(b' ', close.len().min(b.len() - i)));
            i += close.len();
        } else if b[i] == b'"' {
            out.push(b' ');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                let n = if b[i] == b'\\' { 2 } else { 1 };
                for k in 0..n.min(b.len() - i) {
                    out.push(blank(b[i + k]));
                }
                i += n;
            }
            out.push(b' ');
            i += 1;
        } else if b[i] == b'\'' && char_literal_len(&b[i..]).is_some() {
            let n = char_literal_len(&b[i..]).unwrap_or(1);
            out.extend(std::iter::repeat_n(b' ', n));
            i += n;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out.truncate(b.len());
    String::from_utf8_lossy(&out).into_owned()
}

/// At `b[i]`, the number of `#`s of a raw string literal starting there (`r"`, `r#"`, `br"`).
fn raw_string_start(b: &[u8], i: usize) -> Option<usize> {
    if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
        return None;
    }
    let mut j = i;
    if b.get(j) == Some(&b'b') {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = b[j..].iter().take_while(|&&c| c == b'#').count();
    (b.get(j + hashes) == Some(&b'"')).then_some(hashes)
}

/// The length of a character literal at the start of `b` (`'a'`, `'\n'`, `'\u{1F600}'`, `'é'`),
/// or `None` for a lifetime or label.
fn char_literal_len(b: &[u8]) -> Option<usize> {
    if b.get(1) == Some(&b'\\') {
        return b[2..].iter().position(|&c| c == b'\'').map(|p| p + 3);
    }
    // one character, however many bytes, then the closing quote
    let width = match b.get(1)? {
        c if *c < 0x80 => 1,
        c if *c >= 0xF0 => 4,
        c if *c >= 0xE0 => 3,
        _ => 2,
    };
    (b.get(1 + width) == Some(&b'\'')).then_some(width + 2)
}

/// Every function with a body in a source text: (name, first line, number of lines).
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let code = code_only(text);
    let b = code.as_bytes();
    let line_at = |pos: usize| b[..pos].iter().filter(|&&c| c == b'\n').count() + 1;
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = code[i..].find("fn ") {
        let at = i + p;
        i = at + 3;
        if at > 0 && (b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_') {
            continue;
        }
        let name: String =
            code[i..].trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if name.is_empty() {
            continue; // a `fn(…)` pointer type
        }
        // The body opens at the first `{` outside parentheses and brackets; a `;` there first
        // means a declaration without one.
        let (mut depth, mut j, mut open) = (0i32, i, None);
        while j < b.len() {
            match b[j] {
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth -= 1,
                b';' if depth == 0 => break,
                b'{' if depth == 0 => {
                    open = Some(j);
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        let Some(open) = open else { continue };
        let mut braces = 0i32;
        let mut k = open;
        while k < b.len() {
            match b[k] {
                b'{' => braces += 1,
                b'}' => {
                    braces -= 1;
                    if braces == 0 {
                        break;
                    }
                }
                _ => {}
            }
            k += 1;
        }
        let first = line_at(at);
        out.push((name, first, line_at(k.min(b.len().saturating_sub(1))) - first + 1));
    }
    out
}

#[test]
fn no_function_is_longer_than_a_reader_can_hold() {
    let src = repo().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut long = Vec::new();
    let mut excused = Vec::new();
    let mut seen = 0;
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src").to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(f).expect("read");
        for (name, line, lines) in functions(&text) {
            seen += 1;
            if lines <= MAX_FN_LINES {
                continue;
            }
            if LONG_FNS_TO_SPLIT.contains(&(rel.as_str(), name.as_str())) {
                excused.push((rel.clone(), name));
            } else {
                long.push(format!("src/{rel}:{line}: `{name}` has {lines} lines"));
            }
        }
    }
    assert!(seen > 1000, "the scan found only {seen} functions");
    assert!(long.is_empty(), "functions over {MAX_FN_LINES} lines (split them into named steps):\n{}", long.join("\n"));
    let stale: Vec<_> =
        LONG_FNS_TO_SPLIT.iter().filter(|(f, n)| !excused.iter().any(|(x, y)| x == f && y == n)).collect();
    assert!(stale.is_empty(), "LONG_FNS_TO_SPLIT lists functions that are short now: {stale:?}");
}

#[test]
fn the_function_scan_sees_through_strings_comments_and_lifetimes() {
    let text = r##"
fn a<'x>(s: &'x str, v: [u8; 2]) -> &'x str {
    let c = '{';
    let t = "}}} fn fake() {";
    let r = r#"}"#;
    // }
    /* } /* nested } */ } */
    s
}
trait T { fn declared(&self); }
fn b() { let f: fn(u8) -> u8 = |x| x; }
"##;
    let f = functions(text);
    assert_eq!(f, vec![("a".to_string(), 2, 8), ("b".to_string(), 11, 1)], "{f:?}\n{}", code_only(text));
}
