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
    /// The file the error is about and the span in it, for miette's rendering.
    snippet: Option<(NamedSource<Arc<str>>, Range<usize>)>,
}

impl DslError {
    pub fn at(kind: DslErrorKind, sources: &SourceMap, loc: &Loc, message: impl Into<String>) -> DslError {
        let snippet = sources.file(loc.file).map(|f| {
            let end = loc.span.end.min(f.text.len());
            let start = loc.span.start.min(end);
            (NamedSource::new(f.path.display().to_string(), f.text.clone()), start..end)
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
        match crate::util::suggest::nearest(wrong, candidates) {
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

/// Rendered by miette with the file's text and the offending span underlined. The suggestion is
/// already part of the message (see `Display`), so it is not repeated as a help line.
impl Diagnostic for DslError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("tscpipe::pipeline::{:?}", self.kind).to_lowercase()))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.snippet.as_ref().map(|(src, _)| src as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (_, span) = self.snippet.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::at(span.clone(), "here"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::value::FileId;

    #[test]
    fn miette_renders_the_file_and_underlines_the_span() {
        let mut sources = SourceMap::default();
        let text = "[stages.a]\nkind = \"lod\"\n";
        let id: FileId = sources.add(std::path::PathBuf::from("p.toml"), text.to_string());
        let start = text.find("\"lod\"").unwrap();
        let loc = Loc { file: id, span: start..start + 5 };
        let e = DslError::at(DslErrorKind::UnknownKind, &sources, &loc, "unknown stage kind `lod`")
            .suggest("lod", ["load"]);
        assert_eq!(e.to_string(), "p.toml:2:8: unknown stage kind `lod` (did you mean `load`?)");
        let mut out = String::new();
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .render_report(&mut out, &e)
            .unwrap();
        assert!(out.contains("kind = \"lod\""), "{out}");
        assert!(out.contains("here"), "{out}");
        assert!(out.contains("p.toml"), "{out}");
    }
}
