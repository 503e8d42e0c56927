//! The pipeline language: parse TOML with spans, include files and stdlib fragments, apply
//! profiles and `--set`, expand the matrix, validate against the stage kinds.

pub mod expand;
pub mod load;

pub use crate::config::{error, parse, value};

pub use crate::util::suggest;
pub use error::{DslError, DslErrorKind};
pub use expand::{Binding, Expanded, Instance, Source, StageDecl, expand};
pub use load::{PipelineOptions, PipelineSource, load};

use std::path::Path;

use crate::stages::Registry;
use crate::stages::kind::CheckEnv;

/// Reads, merges, expands and validates a pipeline file in one call.
pub fn load_pipeline(
    path: &Path,
    opts: &PipelineOptions,
    registry: &Registry,
    env: &CheckEnv,
) -> Result<Expanded, DslError> {
    expand(load(path, opts)?, registry, env)
}

/// Data folders a pipeline declares in `[pipeline] data_dirs`, resolved against its file.
pub fn declared_data_dirs(src: &PipelineSource) -> Vec<std::path::PathBuf> {
    let base = src.path.parent().unwrap_or(Path::new("."));
    src.root
        .get("pipeline")
        .and_then(value::Node::as_table)
        .and_then(|p| p.get("data_dirs"))
        .and_then(value::Node::as_array)
        .map(|a| a.iter().filter_map(|n| n.as_str()).map(|s| base.join(s)).collect())
        .unwrap_or_default()
}
