//! Finding a dataset's TRAIN/TEST files from a reference (a name, a folder, or explicit paths).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{DataError, DataErrorKind, DataResult};
use super::format::{Format, detect_format};

/// What the user named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DatasetRef {
    /// An archive name such as `GunPoint`, looked up in the search directories.
    Name(String),
    /// Explicit files; `name` defaults to the TRAIN file's stem without `_TRAIN`.
    Paths { name: Option<String>, train: PathBuf, test: PathBuf },
}

impl DatasetRef {
    /// Interprets a command-line reference: an existing `X_TRAIN.ext` file (TEST is the sibling
    /// `X_TEST.ext`), an existing folder `…/X` (holding `X_TRAIN.*`), or otherwise a name.
    pub fn parse(s: &str) -> DatasetRef {
        let p = Path::new(s);
        if p.is_file()
            && let Some(test) = sibling_test(p)
        {
            return DatasetRef::Paths { name: None, train: p.to_path_buf(), test };
        }
        DatasetRef::Name(s.to_string())
    }

    /// The dataset name this reference will produce.
    pub fn name(&self) -> String {
        match self {
            DatasetRef::Name(n) => {
                Path::new(n).file_name().map_or_else(|| n.clone(), |f| f.to_string_lossy().into_owned())
            }
            DatasetRef::Paths { name: Some(n), .. } => n.clone(),
            DatasetRef::Paths { name: None, train, .. } => name_from_train(train),
        }
    }
}

/// `…/X_TRAIN.ext` → `…/X_TEST.ext` (keeping the case of `TRAIN`), if the name has that form.
fn sibling_test(train: &Path) -> Option<PathBuf> {
    let file = train.file_name()?.to_str()?;
    let pos = file.rfind("_TRAIN").map(|p| (p, "_TEST")).or_else(|| file.rfind("_train").map(|p| (p, "_test")))?;
    let test = format!("{}{}{}", &file[..pos.0], pos.1, &file[pos.0 + 6..]);
    Some(train.with_file_name(test))
}

/// The dataset name implied by a TRAIN file name (`GunPoint_TRAIN.tsv` → `GunPoint`).
pub fn name_from_train(train: &Path) -> String {
    let stem = train.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let lower = stem.to_ascii_lowercase();
    match lower.rfind("_train") {
        Some(p) if p + 6 == stem.len() => stem[..p].to_string(),
        _ => stem,
    }
}

/// Where a dataset's files were found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedDataset {
    pub name: String,
    pub train: PathBuf,
    pub test: PathBuf,
    pub train_format: Format,
    pub test_format: Format,
}

/// The search directories in priority order: `cli_dirs` (`--data-dir`), then every entry of
/// `$TSCPIPE_DATA` (a path list), then `$UCR_ARCHIVE`, then the repository's `data/` folder.
/// Duplicates are dropped (first occurrence kept).
pub fn search_dirs(cli_dirs: &[PathBuf], repo_data: Option<&Path>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = cli_dirs.to_vec();
    if let Some(v) = std::env::var_os("TSCPIPE_DATA") {
        out.extend(std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()));
    }
    if let Some(v) = std::env::var_os("UCR_ARCHIVE").filter(|v| !v.is_empty()) {
        out.push(PathBuf::from(v));
    }
    if let Some(d) = repo_data {
        out.push(d.to_path_buf());
    }
    let mut seen = Vec::with_capacity(out.len());
    out.retain(|p| {
        if seen.contains(p) {
            false
        } else {
            seen.push(p.clone());
            true
        }
    });
    out
}

/// The TRAIN/TEST pair in one folder, preferring a single format (in [`Format::PREFERENCE`]
/// order); without a forced format, a mixed pair (best TRAIN, best TEST) is the last resort.
fn pair_in(
    base: &Path,
    name: &str,
    formats: &[Format],
    allow_mixed: bool,
) -> (Option<ResolvedDataset>, Option<PathBuf>) {
    let file = |split: &str, f: Format| base.join(format!("{name}_{split}.{}", f.extension()));
    let trains: Vec<Format> = formats.iter().copied().filter(|&f| file("TRAIN", f).is_file()).collect();
    let tests: Vec<Format> = formats.iter().copied().filter(|&f| file("TEST", f).is_file()).collect();
    let found = |tr: Format, te: Format| ResolvedDataset {
        name: name.to_string(),
        train: file("TRAIN", tr),
        test: file("TEST", te),
        train_format: tr,
        test_format: te,
    };
    if let Some(&f) = trains.iter().find(|f| tests.contains(f)) {
        return (Some(found(f, f)), None);
    }
    if allow_mixed && let (Some(&tr), Some(&te)) = (trains.first(), tests.first()) {
        return (Some(found(tr, te)), None);
    }
    (None, trains.first().map(|&f| file("TRAIN", f)))
}

/// Resolves a dataset reference. `force` restricts the search (and the reader) to one format.
pub fn resolve(reference: &DatasetRef, search: &[PathBuf], force: Option<Format>) -> DataResult<ResolvedDataset> {
    let (name, train, test) = match reference {
        DatasetRef::Paths { name, train, test } => {
            (name.clone().unwrap_or_else(|| name_from_train(train)), train.clone(), test.clone())
        }
        DatasetRef::Name(n) => return resolve_name(n, search, force),
    };
    for p in [&train, &test] {
        if !p.is_file() {
            return Err(DataError::file(DataErrorKind::NotFound, p, "file not found"));
        }
    }
    let fmt = |p: &Path| force.map_or_else(|| detect_format(p), Ok);
    Ok(ResolvedDataset { name, train_format: fmt(&train)?, test_format: fmt(&test)?, train, test })
}

fn resolve_name(reference: &str, search: &[PathBuf], force: Option<Format>) -> DataResult<ResolvedDataset> {
    let formats: Vec<Format> = match force {
        Some(f) => vec![f],
        None => Format::PREFERENCE.to_vec(),
    };
    // A reference that is itself a folder (`path/to/GunPoint`) is searched first.
    let as_path = Path::new(reference);
    let name = as_path.file_name().map_or_else(|| reference.to_string(), |f| f.to_string_lossy().into_owned());
    let mut bases: Vec<PathBuf> = Vec::new();
    if as_path.is_dir() {
        bases.push(as_path.to_path_buf());
    }
    for dir in search {
        bases.push(dir.join(&name));
        bases.push(dir.clone());
    }
    let mut partial = None;
    for base in &bases {
        let (hit, train_only) = pair_in(base, &name, &formats, force.is_none());
        if let Some(r) = hit {
            return Ok(r);
        }
        partial = partial.or(train_only);
    }
    let exts: Vec<&str> = formats.iter().map(|f| f.extension()).collect();
    let mut msg = if bases.is_empty() {
        format!(
            "dataset {name:?} not found: no data directories to search \
             (use --data-dir, TSCPIPE_DATA or UCR_ARCHIVE, or give explicit TRAIN/TEST paths)"
        )
    } else {
        let mut m =
            format!("dataset {name:?} not found: looked for {name}_TRAIN.{{{}}} and {name}_TEST.* in:", exts.join(","));
        for b in &bases {
            m.push_str("\n  ");
            m.push_str(&b.display().to_string());
        }
        m
    };
    if let Some(p) = partial {
        msg.push_str(&format!("\n(found {} but no matching TEST file)", p.display()));
    }
    Err(DataError::msg(DataErrorKind::NotFound, msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "1\t1\n").unwrap();
    }

    #[test]
    fn preference_layouts_and_errors() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a");
        let b = d.path().join("b");
        touch(&a.join("X/X_TRAIN.arff"));
        touch(&a.join("X/X_TEST.arff"));
        touch(&a.join("X/X_TRAIN.ts"));
        touch(&a.join("X/X_TEST.ts"));
        touch(&b.join("Y_TRAIN.txt"));
        touch(&b.join("Y_TEST.txt"));
        touch(&b.join("Z_TRAIN.tsv"));
        touch(&b.join("Z_TEST.ts"));
        let dirs = vec![a.clone(), b.clone()];
        let r = resolve(&DatasetRef::Name("X".into()), &dirs, None).unwrap();
        assert_eq!((r.train_format, r.train), (Format::Ts, a.join("X/X_TRAIN.ts")));
        let r = resolve(&DatasetRef::Name("X".into()), &dirs, Some(Format::Arff)).unwrap();
        assert_eq!(r.test, a.join("X/X_TEST.arff"));
        let r = resolve(&DatasetRef::Name("Y".into()), &dirs, None).unwrap();
        assert_eq!(r.train, b.join("Y_TRAIN.txt"));
        let r = resolve(&DatasetRef::Name("Z".into()), &dirs, None).unwrap();
        assert_eq!((r.train_format, r.test_format), (Format::Tsv, Format::Ts));
        let e = resolve(&DatasetRef::Name("Z".into()), &dirs, Some(Format::Tsv)).unwrap_err();
        assert!(e.message.contains("Z_TRAIN.tsv but no matching TEST"), "{e}");
        let e = resolve(&DatasetRef::Name("Nope".into()), &dirs, None).unwrap_err();
        assert_eq!(e.kind, DataErrorKind::NotFound);
        for p in [a.join("Nope"), a.clone(), b.join("Nope"), b.clone()] {
            assert!(e.message.contains(&p.display().to_string()), "{e}");
        }
    }

    #[test]
    fn explicit_paths_and_parse() {
        let d = tempfile::tempdir().unwrap();
        let tr = d.path().join("Foo_TRAIN.tsv");
        touch(&tr);
        touch(&d.path().join("Foo_TEST.tsv"));
        let r = DatasetRef::parse(tr.to_str().unwrap());
        assert_eq!(r.name(), "Foo");
        let res = resolve(&r, &[], None).unwrap();
        assert_eq!(res.test, d.path().join("Foo_TEST.tsv"));
        let e = resolve(
            &DatasetRef::Paths { name: None, train: tr.clone(), test: d.path().join("missing.tsv") },
            &[],
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, DataErrorKind::NotFound);
        assert_eq!(DatasetRef::parse("GunPoint"), DatasetRef::Name("GunPoint".into()));
    }
}
