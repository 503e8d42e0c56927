//! The data layer: readers for the archive formats, class re-indexing, the length policy, dataset
//! resolution, normalisation and validation splits. Everything ends in the shared [`Dataset`].

pub mod arff;
pub mod dataset;
pub mod error;
pub mod export;
pub mod format;
pub mod labels;
pub mod length;
pub mod mt19937;
pub mod normalise;
pub mod raw;
pub mod resample;
pub mod resolve;
pub mod split;
pub mod table;
pub mod ts;
pub mod tsv;
pub mod txt;
pub mod window;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use dataset::{Dataset, Split};
pub use error::{DataError, DataErrorKind, DataResult};
pub use format::{Format, detect_format};
pub use labels::ClassIndex;
pub use length::LengthPolicy;
pub use normalise::{Normalisation, Scaler, normalise};
pub use raw::{MissingPolicy, RawCase, RawFile, RawHeader};
pub use resolve::{DatasetRef, ResolvedDataset, resolve, search_dirs};
pub use split::{split_validation, stratified_split, validation_indices};
pub use table::{TableLayout, TableOptions};

/// How to load a dataset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadOptions {
    /// Force a format (resolution and reading); `None` = by preference / extension / content.
    pub format: Option<Format>,
    pub length: LengthPolicy,
    pub missing: MissingPolicy,
    /// Column roles for CSV/Parquet.
    pub table: TableOptions,
}

/// Parses one file in the given format (no missing-value or length handling yet).
pub fn read_file(path: &Path, format: Format, table: &TableOptions) -> DataResult<RawFile> {
    match format {
        Format::Tsv => tsv::read_tsv(path),
        Format::Ts => ts::read_ts(path),
        Format::Arff => arff::read_arff(path),
        Format::Txt => txt::read_txt(path),
        Format::Csv => table::read_csv(path, table),
        Format::Parquet => table::read_parquet(path, table),
    }
}

/// Resolves `reference` in `search` (see [`resolve::search_dirs`]) and loads it.
pub fn load_dataset(reference: &DatasetRef, search: &[PathBuf], opts: &LoadOptions) -> DataResult<Dataset> {
    let r = resolve(reference, search, opts.format)?;
    load_resolved(&r, opts)
}

/// Loads explicit TRAIN/TEST files.
pub fn load_files(name: &str, train: &Path, test: &Path, opts: &LoadOptions) -> DataResult<Dataset> {
    let r = resolve(
        &DatasetRef::Paths { name: Some(name.to_string()), train: train.to_path_buf(), test: test.to_path_buf() },
        &[],
        opts.format,
    )?;
    load_resolved(&r, opts)
}

/// Loads resolved TRAIN/TEST files.
pub fn load_resolved(r: &ResolvedDataset, opts: &LoadOptions) -> DataResult<Dataset> {
    let (train, test) = rayon::join(
        || read_file(&r.train, r.train_format, &opts.table),
        || read_file(&r.test, r.test_format, &opts.table),
    );
    build_dataset(&r.name, train?, test?, opts)
}

/// Turns parsed TRAIN/TEST files into a [`Dataset`]: missing values, class indices, length policy.
pub fn build_dataset(name: &str, mut train: RawFile, mut test: RawFile, opts: &LoadOptions) -> DataResult<Dataset> {
    for f in [&train, &test] {
        if f.cases.is_empty() {
            return Err(DataError::file(DataErrorKind::Empty, &f.path, "file contains no series"));
        }
    }
    raw::resolve_missing(&mut train, opts.missing)?;
    raw::resolve_missing(&mut test, opts.missing)?;
    let dims = train.dims();
    if test.dims() != dims {
        return Err(DataError::at(
            DataErrorKind::Header,
            &test.path,
            test.cases[0].line,
            format!("TEST series have {} dimension(s) but TRAIN ({}) has {dims}", test.dims(), train.path.display()),
        ));
    }
    let classes = ClassIndex::from_train(&train)?;
    let train_labels = classes.assign(&train)?;
    let test_labels = classes.assign(&test)?;
    let len = length::target_length(&[&train, &test], opts.length)?;
    let train_split = length::to_split(&train, train_labels, dims, len, opts.length);
    let test_split = length::to_split(&test, test_labels, dims, len, opts.length);
    Ok(Dataset {
        name: name.to_string(),
        classes: classes.classes,
        train: train_split,
        test: test_split,
        validation: None,
    })
}

/// Where the real archive data for tests lives: `$TSCPIPE_TEST_DATA`, else the bundled `data/`.
#[cfg(test)]
pub(crate) fn shared_datasets() -> PathBuf {
    std::env::var_os("TSCPIPE_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data"))
}

#[cfg(test)]
mod tests;
