//! The variable-length policy: how series of different lengths become one rectangular `[n][dims][len]`.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::dataset::Split;
use super::error::{DataError, DataErrorKind, DataResult};
use super::raw::RawFile;

/// How series of different lengths (within or across TRAIN/TEST) are made equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "policy")]
pub enum LengthPolicy {
    /// All series must have the same length; otherwise an error names the first odd series.
    #[default]
    Error,
    /// Pad with zeros at the end to the longest length.
    PadZero,
    /// Pad by repeating the last value to the longest length.
    PadLast,
    /// Truncate to the shortest length.
    Truncate,
    /// Linear interpolation of every series to `len` points.
    Resample { len: usize },
}

impl fmt::Display for LengthPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LengthPolicy::Error => f.write_str("error"),
            LengthPolicy::PadZero => f.write_str("pad-zero"),
            LengthPolicy::PadLast => f.write_str("pad-last"),
            LengthPolicy::Truncate => f.write_str("truncate"),
            LengthPolicy::Resample { len } => write!(f, "resample:{len}"),
        }
    }
}

impl FromStr for LengthPolicy {
    type Err = String;
    /// Parses `error`, `pad-zero`, `pad-last`, `truncate`, `resample:<len>`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        Ok(match s.as_str() {
            "error" => LengthPolicy::Error,
            "pad-zero" | "pad" | "zero" => LengthPolicy::PadZero,
            "pad-last" | "last" => LengthPolicy::PadLast,
            "truncate" => LengthPolicy::Truncate,
            _ => match s.strip_prefix("resample").map(|r| r.trim_start_matches([':', '=', '-'])) {
                Some(n) => match n.parse::<usize>() {
                    Ok(len) if len > 0 => LengthPolicy::Resample { len },
                    _ => return Err(format!("resample needs a positive length, e.g. `resample:128` (got {s:?})")),
                },
                None => {
                    return Err(format!(
                        "unknown length policy {s:?} (expected error, pad-zero, pad-last, truncate, resample:<len>)"
                    ));
                }
            },
        })
    }
}

/// The common length all series of `files` get under `policy` (files in order TRAIN, TEST).
pub fn target_length(files: &[&RawFile], policy: LengthPolicy) -> DataResult<usize> {
    let lengths = || files.iter().flat_map(|f| f.cases.iter().flat_map(|c| c.dims.iter().map(Vec::len)));
    match policy {
        LengthPolicy::Resample { len } if len > 0 => Ok(len),
        LengthPolicy::Resample { .. } => {
            Err(DataError::msg(DataErrorKind::InvalidArgument, "resample length must be positive"))
        }
        LengthPolicy::PadZero | LengthPolicy::PadLast => Ok(lengths().max().unwrap_or(0)),
        LengthPolicy::Truncate => Ok(lengths().min().unwrap_or(0)),
        LengthPolicy::Error => {
            // Reference: the most common length (ties: the longer); report the first series that differs.
            let mut counts: HashMap<usize, usize> = HashMap::new();
            for l in lengths() {
                *counts.entry(l).or_default() += 1;
            }
            let Some((&reference, _)) = counts.iter().max_by_key(|(l, c)| (**c, **l)) else { return Ok(0) };
            if counts.len() == 1 {
                return Ok(reference);
            }
            let example = files
                .iter()
                .find_map(|f| f.cases.iter().find(|c| c.dims.iter().any(|d| d.len() == reference)).map(|c| (f, c)));
            for f in files {
                for c in &f.cases {
                    for (d, dim) in c.dims.iter().enumerate() {
                        if dim.len() == reference {
                            continue;
                        }
                        let what = if c.dims.len() > 1 {
                            format!("dimension {} of this series", d + 1)
                        } else {
                            "series".into()
                        };
                        let cmp = if dim.len() < reference { "shorter" } else { "longer" };
                        let eg = match example {
                            Some((ef, ec)) if ef.path == f.path => format!(" (e.g. line {})", ec.line),
                            Some((ef, ec)) => format!(" (e.g. {}:{})", ef.path.display(), ec.line),
                            None => String::new(),
                        };
                        return Err(DataError::at(
                            DataErrorKind::Length,
                            &f.path,
                            c.line,
                            format!(
                                "{what} has {} values, {cmp} than the {reference} of most series{eg}; \
                                 the data is variable-length or ragged: choose a length policy \
                                 (pad-zero, pad-last, truncate, resample:<len>)",
                                dim.len()
                            ),
                        ));
                    }
                }
            }
            Ok(reference)
        }
    }
}

/// Brings one series to `len` points under `policy`, appending to `out`.
pub fn fit_length_into(x: &[f64], len: usize, policy: LengthPolicy, out: &mut Vec<f64>) {
    match policy {
        LengthPolicy::Resample { .. } => resample_linear_into(x, len, out),
        _ if x.len() >= len => out.extend_from_slice(&x[..len]),
        LengthPolicy::PadLast => {
            out.extend_from_slice(x);
            let last = x.last().copied().unwrap_or(0.0);
            out.extend(std::iter::repeat_n(last, len - x.len()));
        }
        _ => {
            out.extend_from_slice(x);
            out.extend(std::iter::repeat_n(0.0, len - x.len()));
        }
    }
}

/// Linear interpolation of `x` to `len` points (end points kept); identity when lengths agree.
pub fn resample_linear(x: &[f64], len: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(len);
    resample_linear_into(x, len, &mut out);
    out
}

fn resample_linear_into(x: &[f64], len: usize, out: &mut Vec<f64>) {
    let n = x.len();
    if n == len {
        out.extend_from_slice(x);
        return;
    }
    if n == 0 {
        out.extend(std::iter::repeat_n(0.0, len));
        return;
    }
    if n == 1 || len == 1 {
        out.extend(std::iter::repeat_n(x[0], len));
        return;
    }
    let scale = (n - 1) as f64 / (len - 1) as f64;
    for k in 0..len {
        let p = k as f64 * scale;
        let i = (p.floor() as usize).min(n - 2);
        let frac = p - i as f64;
        out.push(x[i] + (x[i + 1] - x[i]) * frac);
    }
}

/// Builds a rectangular split from a parsed file, its class indices and the target length.
pub fn to_split(file: &RawFile, labels: Vec<usize>, dims: usize, len: usize, policy: LengthPolicy) -> Split {
    let n = file.cases.len();
    let mut values = Vec::with_capacity(n * dims * len);
    for case in &file.cases {
        for dim in &case.dims {
            fit_length_into(dim, len, policy, &mut values);
        }
    }
    Split { n, dims, len, values, labels }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::format::Format;
    use crate::data::raw::{RawCase, RawHeader};
    use std::path::PathBuf;

    fn file(name: &str, lens: &[usize]) -> RawFile {
        RawFile {
            path: PathBuf::from(name),
            format: Format::Tsv,
            header: RawHeader::default(),
            cases: lens
                .iter()
                .enumerate()
                .map(|(i, &l)| RawCase {
                    dims: vec![(1..=l).map(|v| v as f64).collect()],
                    label: "a".into(),
                    line: i + 1,
                })
                .collect(),
        }
    }

    #[test]
    fn policies() {
        let tr = file("tr.tsv", &[4, 2, 4]);
        let te = file("te.tsv", &[3]);
        let e = target_length(&[&tr, &te], LengthPolicy::Error).unwrap_err();
        assert_eq!((e.kind, e.line), (DataErrorKind::Length, Some(2)));
        assert!(e.to_string().starts_with("tr.tsv:2: series has 2 values, shorter than the 4"), "{e}");
        assert_eq!(target_length(&[&tr, &te], LengthPolicy::PadZero).unwrap(), 4);
        assert_eq!(target_length(&[&tr, &te], LengthPolicy::Truncate).unwrap(), 2);
        let s = to_split(&tr, vec![0; 3], 1, 4, LengthPolicy::PadLast);
        assert_eq!(s.series(1), &[1.0, 2.0, 2.0, 2.0]);
        let s = to_split(&tr, vec![0; 3], 1, 4, LengthPolicy::PadZero);
        assert_eq!(s.series(1), &[1.0, 2.0, 0.0, 0.0]);
        let s = to_split(&tr, vec![0; 3], 1, 2, LengthPolicy::Truncate);
        assert_eq!(s.series(0), &[1.0, 2.0]);
    }

    #[test]
    fn resampling() {
        assert_eq!(resample_linear(&[0.0, 1.0, 2.0], 5), vec![0.0, 0.5, 1.0, 1.5, 2.0]);
        assert_eq!(resample_linear(&[0.0, 2.0, 4.0, 6.0, 8.0], 3), vec![0.0, 4.0, 8.0]);
        let x = [0.3, -1.2, 7.5];
        assert_eq!(resample_linear(&x, 3), x.to_vec());
        assert_eq!("resample:64".parse::<LengthPolicy>().unwrap(), LengthPolicy::Resample { len: 64 });
        assert_eq!("pad-last".parse::<LengthPolicy>().unwrap(), LengthPolicy::PadLast);
        assert!("resample".parse::<LengthPolicy>().is_err());
    }
}
