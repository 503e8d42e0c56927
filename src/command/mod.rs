//! Running a researcher's own program as a stage: the placeholders of its argv
//! ([`template`]), the data files it reads ([`crate::data::export`] writes them), the child
//! process under a clean, declared environment ([`child`]), a managed Python environment
//! ([`pyenv`]), the `env_key` probe whose output enters cache keys ([`probe`]), and the
//! predictions it leaves behind ([`results`]).
//!
//! Nothing here knows a stage kind: `stages/command.rs` turns parameters into these calls.

pub mod child;
pub mod probe;
pub mod pyenv;
pub mod results;
pub mod template;

use std::path::PathBuf;

/// Why running a command (or preparing its environment) failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Template(#[from] template::TemplateError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot start `{program}`: {source}")]
    Spawn { program: String, source: std::io::Error },
    /// The child's own failure: exit status or signal, with the last lines of its stderr.
    #[error("{0}")]
    Child(String),
    /// The predictions or files the command left are not what it promised.
    #[error("{path}: {message}")]
    Output { path: PathBuf, message: String },
    /// A managed environment could not be created.
    #[error("{0}")]
    Environment(String),
    #[error("cancelled")]
    Cancelled,
}

impl CommandError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CommandError::Io { path: path.into(), source }
    }
    pub fn output(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        CommandError::Output { path: path.into(), message: message.into() }
    }
}
