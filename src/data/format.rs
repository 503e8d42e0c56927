//! File formats and their detection (by extension, then by content).

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::{DataError, DataErrorKind, DataResult};

/// A supported on-disk format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// UCR 2018 `.tsv`: `label<TAB>v1<TAB>v2…`, variable length padded with `NaN`.
    Tsv,
    /// sktime/aeon `.ts`.
    Ts,
    /// Weka/UEA `.arff` (multivariate through relational attributes).
    Arff,
    /// Old UCR `.txt`: whitespace separated, label first.
    Txt,
    /// Generic CSV table (wide or long layout).
    Csv,
    /// Generic Parquet table (wide or long layout).
    Parquet,
}

impl Format {
    /// Every format, in the resolver's preference order.
    pub const PREFERENCE: [Format; 6] =
        [Format::Tsv, Format::Ts, Format::Arff, Format::Txt, Format::Csv, Format::Parquet];

    /// The file extension (without dot).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Tsv => "tsv",
            Format::Ts => "ts",
            Format::Arff => "arff",
            Format::Txt => "txt",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }

    /// The format named by an extension (case-insensitive; `pq` is Parquet).
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext.to_ascii_lowercase().as_str() {
            "tsv" => Some(Format::Tsv),
            "ts" => Some(Format::Ts),
            "arff" => Some(Format::Arff),
            "txt" => Some(Format::Txt),
            "csv" => Some(Format::Csv),
            "parquet" | "pq" => Some(Format::Parquet),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::from_extension(s.trim_start_matches('.'))
            .ok_or_else(|| format!("unknown format {s:?} (expected one of tsv, ts, arff, txt, csv, parquet)"))
    }
}

/// Detects the format of `path`: by extension when it is a known one, otherwise by sniffing the
/// first few KiB of content.
pub fn detect_format(path: &Path) -> DataResult<Format> {
    if let Some(f) = path.extension().and_then(|e| e.to_str()).and_then(Format::from_extension) {
        return Ok(f);
    }
    let mut buf = vec![0u8; 8192];
    let mut file = std::fs::File::open(path).map_err(|e| DataError::io(path, &e))?;
    let n = file.read(&mut buf).map_err(|e| DataError::io(path, &e))?;
    buf.truncate(n);
    sniff(&buf).ok_or_else(|| {
        DataError::file(
            DataErrorKind::Format,
            path,
            "cannot tell the file format from its extension or content; force one (tsv, ts, arff, txt, csv, parquet)",
        )
    })
}

/// Guesses the format from the first bytes of a file.
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"PAR1") {
        return Some(Format::Parquet);
    }
    let text = String::from_utf8_lossy(head);
    let mut data_line = None;
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let lower = t.to_ascii_lowercase();
        if lower.starts_with('%') || lower.starts_with("@relation") {
            return Some(Format::Arff);
        }
        if lower.starts_with('#')
            || lower.starts_with("@problemname")
            || lower.starts_with("@classlabel")
            || lower.starts_with("@univariate")
        {
            return Some(Format::Ts);
        }
        if lower.starts_with('@') {
            continue;
        }
        data_line = Some(t.to_string());
        break;
    }
    let line = data_line?;
    if line.contains('\t') {
        Some(Format::Tsv)
    } else if line.contains(',') {
        Some(Format::Csv)
    } else if line.split_whitespace().count() > 1 {
        Some(Format::Txt)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_and_sniffing() {
        assert_eq!(Format::from_extension("TSV"), Some(Format::Tsv));
        assert_eq!("parquet".parse::<Format>().unwrap(), Format::Parquet);
        assert!("xlsx".parse::<Format>().is_err());
        assert_eq!(sniff(b"PAR1...."), Some(Format::Parquet));
        assert_eq!(sniff(b"% c\n@relation x\n"), Some(Format::Arff));
        assert_eq!(sniff(b"#c\n@problemName X\n"), Some(Format::Ts));
        assert_eq!(sniff(b"1\t0.5\t0.2\n"), Some(Format::Tsv));
        assert_eq!(sniff(b"  1.0e+00  2.0e+00\n"), Some(Format::Txt));
        assert_eq!(sniff(b"label,a,b\n1,2,3\n"), Some(Format::Csv));
    }
}
