//! The one error type of the data layer: where (file, 1-based line) and what went wrong.

use std::fmt;
use std::path::{Path, PathBuf};

/// What class of problem a [`DataError`] reports (for programmatic matching; the message says the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataErrorKind {
    /// The file could not be opened or read.
    Io,
    /// A dataset reference did not resolve to TRAIN/TEST files.
    NotFound,
    /// The file holds no series.
    Empty,
    /// Malformed syntax (unknown header tag, broken ARFF row, unsupported feature, ...).
    Format,
    /// Header/metadata disagree with the data (`@dimensions 6` but a case has 3, undeclared label, ...).
    Header,
    /// A row of another length in an equal-length file.
    Ragged,
    /// A value that is not a number.
    NonNumeric,
    /// A missing value (`?`, `NaN`, empty cell) where none are allowed.
    Missing,
    /// Series of different lengths under `LengthPolicy::Error`, or TRAIN/TEST shape mismatch.
    Length,
    /// A class that appears in TEST but not in TRAIN.
    UnknownClass,
    /// A CSV/Parquet table problem (missing column, bad layout).
    Table,
    /// A bad argument (validation fraction out of range, ...).
    InvalidArgument,
}

/// An error of the data layer. Displays as `path:line: message` (or `path: message` without a
/// line, or just the message when no file is involved).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Located(&self.path, self.line, &self.message))]
pub struct DataError {
    /// The file concerned (empty when the error is not about a file).
    pub path: PathBuf,
    /// 1-based line number in `path`, when the problem is on one line.
    pub line: Option<usize>,
    pub kind: DataErrorKind,
    pub message: String,
}

struct Located<'a>(&'a Path, Option<usize>, &'a str);

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Located(path, line, msg) = self;
        if path.as_os_str().is_empty() {
            return f.write_str(msg);
        }
        match line {
            Some(l) => write!(f, "{}:{l}: {msg}", path.display()),
            None => write!(f, "{}: {msg}", path.display()),
        }
    }
}

impl DataError {
    pub fn new(kind: DataErrorKind, path: impl Into<PathBuf>, line: Option<usize>, message: impl Into<String>) -> Self {
        DataError { path: path.into(), line, kind, message: message.into() }
    }

    /// An error at a given 1-based line of `path`.
    pub fn at(kind: DataErrorKind, path: &Path, line: usize, message: impl Into<String>) -> Self {
        Self::new(kind, path, Some(line), message)
    }

    /// An error about `path` as a whole.
    pub fn file(kind: DataErrorKind, path: &Path, message: impl Into<String>) -> Self {
        Self::new(kind, path, None, message)
    }

    /// An error not tied to a file.
    pub fn msg(kind: DataErrorKind, message: impl Into<String>) -> Self {
        Self::new(kind, PathBuf::new(), None, message)
    }

    pub fn io(path: &Path, err: &std::io::Error) -> Self {
        Self::file(DataErrorKind::Io, path, format!("cannot read file: {err}"))
    }
}

pub type DataResult<T> = Result<T, DataError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_forms() {
        let e = DataError::at(
            DataErrorKind::NonNumeric,
            Path::new("GunPoint_TRAIN.tsv"),
            17,
            "non-numeric value \"1.2x\" in column 5",
        );
        assert_eq!(e.to_string(), "GunPoint_TRAIN.tsv:17: non-numeric value \"1.2x\" in column 5");
        let e = DataError::file(DataErrorKind::Empty, Path::new("a.ts"), "no series");
        assert_eq!(e.to_string(), "a.ts: no series");
        let e = DataError::msg(DataErrorKind::InvalidArgument, "bad fraction");
        assert_eq!(e.to_string(), "bad fraction");
    }
}
