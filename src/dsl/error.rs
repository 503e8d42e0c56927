//! Errors in pipeline files: every one carries the file, line and column it is about.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

use super::value::{Loc, Pos, SourceMap};

/// What went wrong, for callers (and tests) that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DslErrorKind {
    Syntax,
    Io,
    UnknownKey,
    UnknownKind,
    Type,
    MissingKey,
    Reference,
    Cycle,
    IncludeCycle,
    Invalid,
}

/// An error in a pipeline definition, with its position and (when known) a suggestion.
/// Boxed: it travels through every `Result` of the DSL and should stay one pointer wide.
#[derive(Debug)]
pub struct DslError(Box<DslErrorInner>);

#[derive(Debug)]
pub struct DslErrorInner {
    pub kind: DslErrorKind,
    pub pos: Option<Pos>,
    pub message: String,
    pub help: Option<String>,
    snippet: Option<(String, Arc<str>, Range<usize>)>,
}

impl DslError {
    pub fn at(kind: DslErrorKind, sources: &SourceMap, loc: &Loc, message: impl Into<String>) -> DslError {
        let snippet = sources.file(loc.file).map(|f| {
            let end = loc.span.end.min(f.text.len());
            let start = loc.span.start.min(end);
            (f.path.display().to_string(), f.text.clone(), start..end)
        });
        DslError(Box::new(DslErrorInner {
            kind,
            pos: sources.file(loc.file).map(|_| sources.pos(loc)),
            message: message.into(),
            help: None,
            snippet,
        }))
    }

    /// An error with no position in a file (e.g. a cycle across several stages).
    pub fn general(kind: DslErrorKind, message: impl Into<String>) -> DslError {
        DslError(Box::new(DslErrorInner { kind, pos: None, message: message.into(), help: None, snippet: None }))
    }

    pub fn syntax(sources: &SourceMap, loc: Loc, message: String) -> DslError {
        DslError::at(DslErrorKind::Syntax, sources, &loc, format!("TOML syntax error: {message}"))
    }

    pub fn with_help(mut self, help: impl Into<String>) -> DslError {
        self.0.help = Some(help.into());
        self
    }

    /// Adds "did you mean `x`?" when a close candidate exists.
    pub fn suggest<'a>(self, wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> DslError {
        match super::suggest::nearest(wrong, candidates) {
            Some(s) => self.with_help(format!("did you mean `{s}`?")),
            None => self,
        }
    }
}

impl std::ops::Deref for DslError {
    type Target = DslErrorInner;
    fn deref(&self) -> &DslErrorInner {
        &self.0
    }
}

impl fmt::Display for DslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.pos {
            write!(f, "{p}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(h) = &self.help {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for DslError {}

impl Diagnostic for DslError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("tscpipe::pipeline::{:?}", self.kind).to_lowercase()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        None
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        None
    }
}

impl DslError {
    /// A miette report with the source snippet underlined, for the command line.
    pub fn to_report(&self) -> miette::Report {
        let base = miette::miette!(
            code = format!("tscpipe::pipeline::{:?}", self.kind).to_lowercase(),
            help = self.help.clone().unwrap_or_default(),
            labels = self.snippet.iter().map(|(_, _, r)| LabeledSpan::at(r.clone(), "here")).collect::<Vec<_>>(),
            "{}{}",
            self.pos.as_ref().map(|p| format!("{p}: ")).unwrap_or_default(),
            self.message
        );
        match &self.snippet {
            Some((name, text, _)) => base.with_source_code(NamedSource::new(name, text.to_string())),
            None => base,
        }
    }
}
