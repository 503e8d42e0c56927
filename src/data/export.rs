//! Writing a split out for another program (the `command` stage): aeon's and sktime's `.ts`, the
//! UCR archive's tab-separated `.tsv`, or NumPy `.npy` arrays.
//!
//! Every value is written in its shortest round-trip form (Ryū's, which Python's `float()` and
//! NumPy read back to the same bits), so the program sees exactly the numbers tscpipe holds;
//! labels are the class names as the archive writes them.

use std::path::{Path, PathBuf};

use super::dataset::{Dataset, Split};
use super::error::{DataError, DataErrorKind, DataResult};

/// How a dataset input is written for a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// `.ts` (aeon, sktime): multivariate and missing values (`?`) included.
    Ts,
    /// `.tsv` as the UCR archive writes it: label, then the values; univariate only.
    Tsv,
    /// A folder with `X.npy` (float64, `(n, channels, length)`) and `y.npy` (unicode labels).
    Npy,
}

impl DataFormat {
    pub const NAMES: &'static [&'static str] = &["ts", "tsv", "npy"];

    pub fn from_name(name: &str) -> Option<DataFormat> {
        match name {
            "ts" => Some(DataFormat::Ts),
            "tsv" => Some(DataFormat::Tsv),
            "npy" => Some(DataFormat::Npy),
            _ => None,
        }
    }

    /// The path a split is written to (a folder for `npy`), `<dir>/<Dataset>_<SPLIT>.<ext>`.
    pub fn path(self, dir: &Path, dataset: &str, split: &str) -> PathBuf {
        match self {
            DataFormat::Ts => dir.join(format!("{dataset}_{split}.ts")),
            DataFormat::Tsv => dir.join(format!("{dataset}_{split}.tsv")),
            DataFormat::Npy => dir.join(format!("{dataset}_{split}")),
        }
    }
}

/// Writes `split` of `ds` (`"TRAIN"` or `"TEST"`) in `format` into `dir`; returns its path.
pub fn write_split(ds: &Dataset, split: &Split, name: &str, format: DataFormat, dir: &Path) -> DataResult<PathBuf> {
    let path = format.path(dir, &ds.name, name);
    match format {
        DataFormat::Ts => write_text(&path, &ts_text(ds, split))?,
        DataFormat::Tsv => write_text(&path, &tsv_text(ds, split, &path)?)?,
        DataFormat::Npy => write_npy_dir(&path, ds, split)?,
    }
    Ok(path)
}

fn write_text(path: &Path, text: &str) -> DataResult<()> {
    std::fs::write(path, text).map_err(|e| DataError::io(path, &e))
}

/// One value: shortest round-trip digits; NaN as the format's missing marker.
fn push_value(out: &mut String, v: f64, missing: &str) {
    if v.is_nan() {
        out.push_str(missing);
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "inf" } else { "-inf" });
    } else {
        out.push_str(ryu::Buffer::new().format_finite(v));
    }
}

fn ts_text(ds: &Dataset, split: &Split) -> String {
    let missing = split.values.iter().any(|v| v.is_nan());
    let mut out = String::with_capacity(256);
    out.push_str(&format!("@problemName {}\n", ds.name));
    out.push_str("@timeStamps false\n");
    out.push_str(&format!("@missing {missing}\n"));
    out.push_str(&format!("@univariate {}\n", split.dims == 1));
    if split.dims > 1 {
        out.push_str(&format!("@dimensions {}\n", split.dims));
    }
    out.push_str("@equalLength true\n");
    out.push_str(&format!("@seriesLength {}\n", split.len));
    out.push_str(&format!("@classLabel true {}\n", ds.classes.join(" ")));
    out.push_str("@data\n");
    out.push_str(&rows(split, |i, row| {
        let s = split.series(i);
        for d in 0..split.dims {
            for (t, &v) in s[d * split.len..(d + 1) * split.len].iter().enumerate() {
                if t > 0 {
                    row.push(',');
                }
                push_value(row, v, "?");
            }
            row.push(':');
        }
        row.push_str(&ds.classes[split.labels[i]]);
        row.push('\n');
    }));
    out
}

/// The rows of a text file, formatted in parallel (formatting a million floats is most of what
/// a `command` stage adds to its program's run) and joined in order.
fn rows(split: &Split, row: impl Fn(usize, &mut String) + Sync) -> String {
    use rayon::prelude::*;
    let width = split.dims * split.len * 20 + 32;
    let parts: Vec<String> = (0..split.n)
        .into_par_iter()
        .map(|i| {
            let mut s = String::with_capacity(width);
            row(i, &mut s);
            s
        })
        .collect();
    parts.concat()
}

fn tsv_text(ds: &Dataset, split: &Split, path: &Path) -> DataResult<String> {
    if split.dims != 1 {
        return Err(DataError::new(
            DataErrorKind::InvalidArgument,
            path,
            None,
            format!(
                "the UCR `tsv` format holds univariate series; {} has {} channels (use data_format = \"ts\" or \"npy\")",
                ds.name, split.dims
            ),
        ));
    }
    Ok(rows(split, |i, row| {
        row.push_str(&ds.classes[split.labels[i]]);
        for &v in split.series(i) {
            row.push('\t');
            push_value(row, v, "NaN");
        }
        row.push('\n');
    }))
}

fn write_npy_dir(dir: &Path, ds: &Dataset, split: &Split) -> DataResult<()> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, &e))?;
    let x = dir.join("X.npy");
    let mut bytes = npy_header("<f8", &[split.n, split.dims, split.len]);
    bytes.reserve(split.values.len() * 8);
    for v in &split.values {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(&x, bytes).map_err(|e| DataError::io(&x, &e))?;
    let y = dir.join("y.npy");
    std::fs::write(&y, npy_strings(split.labels.iter().map(|&l| ds.classes[l].as_str()), split.n))
        .map_err(|e| DataError::io(&y, &e))
}

/// An `.npy` version 1.0 header for a C-ordered array. Written by hand: the format is four lines
/// of NumPy's documentation, and the crates for it bring their own array types.
fn npy_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // magic (6) + version (2) + length (2) + dict + '\n', padded with spaces to a multiple of 64
    let unpadded = 10 + dict.len() + 1;
    dict.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    dict.push('\n');
    let mut out = Vec::with_capacity(10 + dict.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

/// A 1-d array of fixed-width unicode strings (`<U{width}`: UTF-32 code points, zero-padded),
/// which `np.load` reads without pickles.
fn npy_strings<'a>(items: impl Iterator<Item = &'a str> + Clone, n: usize) -> Vec<u8> {
    let width = items.clone().map(|s| s.chars().count()).max().unwrap_or(0).max(1);
    let mut out = npy_header(&format!("<U{width}"), &[n]);
    for s in items {
        let mut written = 0;
        for c in s.chars() {
            out.extend_from_slice(&(c as u32).to_le_bytes());
            written += 1;
        }
        out.extend(std::iter::repeat_n(0u8, 4 * (width - written)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(dims: usize) -> Dataset {
        let split = Split {
            n: 2,
            dims,
            len: 3,
            values: (0..2 * dims * 3).map(|i| 0.1 * i as f64 + if i == 4 { f64::NAN } else { 0.0 }).collect(),
            labels: vec![1, 0],
        };
        Dataset {
            name: "Toy".into(),
            classes: vec!["a".into(), "b".into()],
            train: split.clone(),
            test: split,
            validation: None,
        }
    }

    #[test]
    fn ts_round_trips_through_the_reader() {
        let dir = tempfile::tempdir().unwrap();
        let ds = dataset(2);
        let path = write_split(&ds, &ds.train, "TRAIN", DataFormat::Ts, dir.path()).unwrap();
        assert_eq!(path.file_name().unwrap(), "Toy_TRAIN.ts");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("@dimensions 2\n") && text.contains("@missing true\n"), "{text}");
        let raw = super::super::ts::read_ts(&path).unwrap();
        assert_eq!(raw.cases.len(), 2);
        assert_eq!(raw.cases[0].label, "b");
        let back: Vec<f64> = raw.cases[0].dims.iter().flatten().copied().collect();
        let want = ds.train.series(0);
        for (a, b) in back.iter().zip(want) {
            assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()), "{a} vs {b}");
        }
    }

    #[test]
    fn tsv_refuses_multivariate_data() {
        let dir = tempfile::tempdir().unwrap();
        let ds = dataset(2);
        let e = write_split(&ds, &ds.test, "TEST", DataFormat::Tsv, dir.path()).unwrap_err();
        assert!(e.to_string().contains("2 channels"), "{e}");
        let ds = dataset(1);
        let p = write_split(&ds, &ds.test, "TEST", DataFormat::Tsv, dir.path()).unwrap();
        assert_eq!(std::fs::read_to_string(p).unwrap(), "b\t0.0\t0.1\t0.2\na\t0.30000000000000004\tNaN\t0.5\n");
    }

    #[test]
    fn npy_headers_are_aligned_and_strings_fixed_width() {
        let h = npy_header("<f8", &[2, 1, 3]);
        assert_eq!(h.len() % 64, 0);
        assert!(String::from_utf8_lossy(&h).contains("'shape': (2, 1, 3), }"));
        let s = npy_strings(["ab", "c"].into_iter(), 2);
        assert!(String::from_utf8_lossy(&s).contains("'descr': '<U2'"));
        assert_eq!(&s[s.len() - 16..], &[b'a', 0, 0, 0, b'b', 0, 0, 0, b'c', 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(npy_header("<U1", &[5]).len() % 64, 0);
    }
}

#[cfg(test)]
mod timing {
    /// `cargo test --lib data::export::timing -- --ignored --nocapture`: how long writing a
    /// 1,000 × 500 split takes in each format.
    #[test]
    #[ignore]
    fn write_speed() {
        use super::*;
        let n = 1000;
        let len = 500;
        let split = Split {
            n,
            dims: 1,
            len,
            values: (0..n * len).map(|i| ((i * 7) as f64 * 0.01).sin()).collect(),
            labels: (0..n).map(|i| i % 2).collect(),
        };
        let ds = Dataset {
            name: "Big".into(),
            classes: vec!["0".into(), "1".into()],
            train: split.clone(),
            test: split,
            validation: None,
        };
        let dir = tempfile::tempdir().unwrap();
        for f in [DataFormat::Ts, DataFormat::Tsv, DataFormat::Npy] {
            let t = std::time::Instant::now();
            write_split(&ds, &ds.train, "TRAIN", f, dir.path()).unwrap();
            println!("{f:?}: {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
        }
    }
}
