//! TOML with positions, and the settings read from it: values that remember their file and span
//! ([`value`]), the parser ([`parse`]), errors that point at a file, line and column and render as
//! miette diagnostics ([`error`]), and the `[cache]`/`[executor]` tables ([`settings`]). Knows
//! nothing of pipelines or stage kinds, so every layer can use it.

pub mod error;
pub mod parse;
pub mod settings;
pub mod value;

pub use error::{DslError, DslErrorKind};
