//! The feature file of the `transform` stage: a header, then every split's rows as raw
//! little-endian `f32`, so a transform's table takes half the space of an `f64` one and can be
//! written and read a chunk of rows at a time (a MultiRocket table of ItalyPowerDemand is
//! 1,096 × 49,728 values: 218 MB instead of 436 MB, and its TEST rows never need to be held at
//! once).
//!
//! Layout: the magic `TSCPF32\x01`; the header's length (u64 LE) and the header (postcard:
//! dataset, classes, column names, and per split its name, row count, width and labels); then the
//! splits' rows in header order. A file without the magic is not this format (the `features`
//! stage's `f64` tables are postcard [`FeatureTable`]s).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::feature_models::FeatureRows;
use super::features::FeatureTable;

/// The first bytes of a file in this format.
pub const MAGIC: &[u8; 8] = b"TSCPF32\x01";

/// Why a feature file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum FeatureFileError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not an f32 feature file ({reason})")]
    Format { path: PathBuf, reason: String },
    #[error("{path}: no split named {split:?}")]
    NoSplit { path: PathBuf, split: String },
    #[error("{path}: split {split:?} expects {expected} rows of {width}, {given} values were written")]
    RowCount { path: PathBuf, split: String, expected: usize, width: usize, given: usize },
}

/// One split's shape and labels.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SplitHeader {
    pub name: String,
    pub n: usize,
    pub width: usize,
    pub labels: Vec<usize>,
}

/// What precedes the rows.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Header {
    pub dataset: String,
    pub classes: Vec<String>,
    pub names: Vec<String>,
    /// The features went through their method's own scaler already (Hydra, MultiRocket-Hydra):
    /// the ridge should not standardise them again.
    pub prescaled: bool,
    pub splits: Vec<SplitHeader>,
}

impl Header {
    pub fn split(&self, name: &str) -> Option<&SplitHeader> {
        self.splits.iter().find(|s| s.name == name)
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> FeatureFileError + '_ {
    move |source| FeatureFileError::Io { path: path.to_path_buf(), source }
}

/// Writes a header, then the rows of each split in order, in pieces.
pub struct Writer {
    path: PathBuf,
    out: BufWriter<File>,
    header: Header,
    /// Split being written and the values written to it so far.
    at: usize,
    written: usize,
}

impl Writer {
    pub fn create(path: &Path, header: Header) -> Result<Writer, FeatureFileError> {
        let mut out = BufWriter::new(File::create(path).map_err(io(path))?);
        let bytes = postcard::to_stdvec(&header)
            .map_err(|e| FeatureFileError::Format { path: path.to_path_buf(), reason: e.to_string() })?;
        out.write_all(MAGIC).map_err(io(path))?;
        out.write_all(&(bytes.len() as u64).to_le_bytes()).map_err(io(path))?;
        out.write_all(&bytes).map_err(io(path))?;
        Ok(Writer { path: path.to_path_buf(), out, header, at: 0, written: 0 })
    }

    fn expected(&self) -> usize {
        self.header.splits.get(self.at).map_or(0, |s| s.n * s.width)
    }

    fn count_error(&self, given: usize) -> FeatureFileError {
        let s = self.header.splits.get(self.at);
        FeatureFileError::RowCount {
            path: self.path.clone(),
            split: s.map_or_else(String::new, |s| s.name.clone()),
            expected: s.map_or(0, |s| s.n),
            width: s.map_or(0, |s| s.width),
            given,
        }
    }

    /// Appends rows of the current split (moving to the next one once it is full).
    pub fn rows(&mut self, values: &[f32]) -> Result<(), FeatureFileError> {
        let mut rest = values;
        while !rest.is_empty() {
            // Skip splits without rows.
            while self.at < self.header.splits.len() && self.expected() == 0 {
                self.at += 1;
            }
            if self.at >= self.header.splits.len() {
                return Err(self.count_error(self.written + rest.len()));
            }
            let take = (self.expected() - self.written).min(rest.len());
            let mut buf = Vec::with_capacity(take * 4);
            for v in &rest[..take] {
                buf.extend_from_slice(&v.to_le_bytes());
            }
            self.out.write_all(&buf).map_err(io(&self.path))?;
            self.written += take;
            rest = &rest[take..];
            if self.written == self.expected() {
                self.at += 1;
                self.written = 0;
            }
        }
        Ok(())
    }

    /// Checks every split was filled and flushes.
    pub fn finish(mut self) -> Result<(), FeatureFileError> {
        while self.at < self.header.splits.len() && self.expected() == 0 {
            self.at += 1;
        }
        if self.at < self.header.splits.len() {
            return Err(self.count_error(self.written));
        }
        self.out.flush().map_err(io(&self.path))
    }
}

/// Whether `path` starts with [`MAGIC`].
pub fn is_f32_file(path: &Path) -> Result<bool, FeatureFileError> {
    let mut f = File::open(path).map_err(io(path))?;
    let mut head = [0u8; 8];
    match f.read_exact(&mut head) {
        Ok(()) => Ok(&head == MAGIC),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(io(path)(e)),
    }
}

/// A feature file opened for reading: its header, rows on demand.
pub struct Reader {
    path: PathBuf,
    file: BufReader<File>,
    pub header: Header,
    data_start: u64,
}

impl Reader {
    pub fn open(path: &Path) -> Result<Reader, FeatureFileError> {
        let format = |reason: &str| FeatureFileError::Format { path: path.to_path_buf(), reason: reason.to_string() };
        let mut file = BufReader::new(File::open(path).map_err(io(path))?);
        let mut head = [0u8; 16];
        file.read_exact(&mut head).map_err(|_| format("too short"))?;
        if &head[..8] != MAGIC {
            return Err(format("no magic"));
        }
        let len = u64::from_le_bytes(head[8..16].try_into().map_err(|_| format("header length"))?);
        let total = std::fs::metadata(path).map_err(io(path))?.len();
        if len > total {
            return Err(format("header longer than the file"));
        }
        let mut bytes = vec![0u8; len as usize];
        file.read_exact(&mut bytes).map_err(io(path))?;
        let header: Header = postcard::from_bytes(&bytes).map_err(|e| format(&e.to_string()))?;
        let rows: u64 = header.splits.iter().map(|s| (s.n * s.width * 4) as u64).sum();
        if 16 + len + rows != total {
            return Err(format("size does not match the header"));
        }
        Ok(Reader { path: path.to_path_buf(), file, header, data_start: 16 + len })
    }

    /// Calls `f(rows, count)` for consecutive chunks of at most `chunk` rows of a split.
    pub fn for_each_chunk(
        &mut self,
        split: &str,
        chunk: usize,
        mut f: impl FnMut(&[f32], usize) -> Result<(), FeatureFileError>,
    ) -> Result<(), FeatureFileError> {
        let index = self
            .header
            .splits
            .iter()
            .position(|s| s.name == split)
            .ok_or_else(|| FeatureFileError::NoSplit { path: self.path.clone(), split: split.to_string() })?;
        let offset: usize = self.header.splits[..index].iter().map(|s| s.n * s.width * 4).sum();
        let (n, width) = (self.header.splits[index].n, self.header.splits[index].width);
        self.file.seek(SeekFrom::Start(self.data_start + offset as u64)).map_err(io(&self.path))?;
        let chunk = chunk.max(1);
        let mut bytes = Vec::new();
        let mut values = Vec::new();
        let mut done = 0;
        while done < n {
            let rows = chunk.min(n - done);
            bytes.resize(rows * width * 4, 0);
            self.file.read_exact(&mut bytes).map_err(io(&self.path))?;
            values.clear();
            values.extend(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])));
            f(&values, rows)?;
            done += rows;
        }
        Ok(())
    }

    /// A whole split in `f64` (for classifiers that need every row at once).
    pub fn rows64(&mut self, split: &str) -> Result<FeatureRows, FeatureFileError> {
        let s = self
            .header
            .split(split)
            .cloned()
            .ok_or_else(|| FeatureFileError::NoSplit { path: self.path.clone(), split: split.to_string() })?;
        let mut values = Vec::with_capacity(s.n * s.width);
        self.for_each_chunk(split, 1024, |rows, _| {
            values.extend(rows.iter().map(|v| f64::from(*v)));
            Ok(())
        })?;
        Ok(FeatureRows { n: s.n, width: s.width, values, labels: s.labels })
    }

    /// The whole file as an `f64` [`FeatureTable`].
    pub fn table64(mut self) -> Result<FeatureTable, FeatureFileError> {
        let train = self.rows64("train")?;
        let validation = match self.header.split("validation") {
            Some(_) => Some(self.rows64("validation")?),
            None => None,
        };
        let test = self.rows64("test")?;
        let h = self.header;
        Ok(FeatureTable { dataset: h.dataset, classes: h.classes, names: h.names, train, validation, test })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_written_in_pieces_read_back_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        let header = Header {
            dataset: "toy".into(),
            classes: vec!["a".into(), "b".into()],
            names: vec!["x0".into(), "x1".into(), "x2".into()],
            prescaled: false,
            splits: vec![
                SplitHeader { name: "train".into(), n: 2, width: 3, labels: vec![0, 1] },
                SplitHeader { name: "validation".into(), n: 0, width: 3, labels: vec![] },
                SplitHeader { name: "test".into(), n: 3, width: 3, labels: vec![1, 0, 1] },
            ],
        };
        let mut w = Writer::create(&path, header.clone()).unwrap();
        let values: Vec<f32> = (0..15).map(|v| v as f32 * 0.5).collect();
        w.rows(&values[..4]).unwrap();
        w.rows(&values[4..11]).unwrap();
        w.rows(&values[11..]).unwrap();
        w.finish().unwrap();
        assert!(is_f32_file(&path).unwrap());
        let mut r = Reader::open(&path).unwrap();
        assert_eq!(r.header, header);
        let mut seen = Vec::new();
        r.for_each_chunk("test", 2, |rows, n| {
            assert_eq!(rows.len(), n * 3);
            seen.extend_from_slice(rows);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, values[6..]);
        let t = r.table64().unwrap();
        assert_eq!(t.train.values, vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5]);
        assert_eq!(t.validation.map(|v| v.n), Some(0));
    }

    #[test]
    fn short_or_overfull_writes_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        let header = Header {
            dataset: "toy".into(),
            classes: vec![],
            names: vec![],
            prescaled: true,
            splits: vec![SplitHeader { name: "train".into(), n: 1, width: 2, labels: vec![0] }],
        };
        let w = Writer::create(&path, header.clone()).unwrap();
        assert!(matches!(w.finish(), Err(FeatureFileError::RowCount { .. })));
        let mut w = Writer::create(&path, header).unwrap();
        assert!(matches!(w.rows(&[1.0, 2.0, 3.0]), Err(FeatureFileError::RowCount { .. })));
        std::fs::write(&path, b"not this").unwrap();
        assert!(!is_f32_file(&path).unwrap());
        assert!(matches!(Reader::open(&path), Err(FeatureFileError::Format { .. })));
    }
}
