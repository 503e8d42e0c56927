//! The placeholders of a command's arguments, parsed once at load time (so an unknown one is an
//! error located in the pipeline file) and filled in when the instance runs:
//!
//! - `{inputs.NAME.train}` / `{inputs.NAME.test}`: a dataset input written out as files;
//! - `{inputs.NAME.FILE}`: the file `FILE` an upstream stage produced;
//! - `{out}`: the empty folder the command writes into;
//! - `{device}`: the device of an accelerator stage;
//! - `{{` and `}}`: literal braces (as in Python's `str.format` and Snakemake).
//!
//! `${axis}` is the pipeline language's own interpolation and is already substituted here.

/// One piece of an argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Input { name: String, file: String },
    Out,
    Device,
}

/// A placeholder that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "unknown placeholder `{{{0}}}`: known are {{inputs.NAME.train}}, {{inputs.NAME.test}}, {{inputs.NAME.FILE}}, {{out}} and {{device}} (`{{{{` and `}}}}` write literal braces)"
    )]
    Unknown(String),
    #[error("`{0}` opens a placeholder with `{{` that is never closed (`{{{{` writes a literal brace)")]
    Unclosed(String),
    #[error("`{0}` has a `}}` that closes no placeholder (`}}}}` writes a literal brace)")]
    LoneClose(String),
}

/// The pieces of one argument.
pub fn parse(arg: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = arg.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '}' => return Err(TemplateError::LoneClose(arg.to_string())),
            '{' => {
                let mut inner = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(x) => inner.push(x),
                        None => return Err(TemplateError::Unclosed(arg.to_string())),
                    }
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(placeholder(&inner)?);
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

fn placeholder(inner: &str) -> Result<Piece, TemplateError> {
    match inner.trim() {
        "out" => return Ok(Piece::Out),
        "device" => return Ok(Piece::Device),
        _ => {}
    }
    // `inputs.NAME.FILE`, where FILE may itself hold dots (`features.parquet`).
    let mut parts = inner.trim().splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("inputs"), Some(name), Some(file)) if !name.is_empty() && !file.is_empty() => {
            Ok(Piece::Input { name: name.to_string(), file: file.to_string() })
        }
        _ => Err(TemplateError::Unknown(inner.to_string())),
    }
}

/// The input placeholders of an argument, for validation against the stage's inputs.
pub fn inputs(pieces: &[Piece]) -> impl Iterator<Item = (&str, &str)> {
    pieces.iter().filter_map(|p| match p {
        Piece::Input { name, file } => Some((name.as_str(), file.as_str())),
        _ => None,
    })
}

/// Whether the argument is one placeholder and nothing else (a gather input may then expand to
/// several arguments).
pub fn is_single_placeholder(pieces: &[Piece]) -> bool {
    pieces.len() == 1 && !matches!(pieces[0], Piece::Text(_))
}

/// Fills an argument in, asking `value` for each placeholder's text.
pub fn render<E>(pieces: &[Piece], mut value: impl FnMut(&Piece) -> Result<String, E>) -> Result<String, E> {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            other => out.push_str(&value(other)?),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, file: &str) -> Piece {
        Piece::Input { name: name.into(), file: file.into() }
    }

    #[test]
    fn reads_every_placeholder_and_keeps_text_around_them() {
        assert_eq!(parse("{inputs.data.train}").unwrap(), vec![input("data", "train")]);
        assert_eq!(
            parse("--features={inputs.feat.features.parquet}").unwrap(),
            vec![Piece::Text("--features=".into()), input("feat", "features.parquet")]
        );
        assert_eq!(parse("{out}/model.pt").unwrap(), vec![Piece::Out, Piece::Text("/model.pt".into())]);
        assert_eq!(parse("{device}").unwrap(), vec![Piece::Device]);
        assert_eq!(parse("plain").unwrap(), vec![Piece::Text("plain".into())]);
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn doubled_braces_are_literal() {
        assert_eq!(parse("print({{1: 2}})").unwrap(), vec![Piece::Text("print({1: 2})".into())]);
        assert_eq!(parse("awk '{{print $1}}'").unwrap(), vec![Piece::Text("awk '{print $1}'".into())]);
    }

    #[test]
    fn unknown_unclosed_and_stray_braces_are_errors() {
        assert_eq!(parse("{output}"), Err(TemplateError::Unknown("output".into())));
        assert_eq!(parse("{inputs.data}"), Err(TemplateError::Unknown("inputs.data".into())));
        assert_eq!(parse("{input.data.train}"), Err(TemplateError::Unknown("input.data.train".into())));
        assert_eq!(parse("{out"), Err(TemplateError::Unclosed("{out".into())));
        assert_eq!(parse("a}b"), Err(TemplateError::LoneClose("a}b".into())));
        let msg = parse("{output}").unwrap_err().to_string();
        assert!(msg.contains("`{output}`") && msg.contains("{inputs.NAME.train}"), "{msg}");
    }

    #[test]
    fn renders_with_the_given_values() {
        let pieces = parse("x={inputs.data.test},o={out}").unwrap();
        let s = render(&pieces, |p| {
            Ok::<_, ()>(match p {
                Piece::Out => "/tmp/o".into(),
                Piece::Input { file, .. } => format!("/d/{file}"),
                _ => unreachable!(),
            })
        })
        .unwrap();
        assert_eq!(s, "x=/d/test,o=/tmp/o");
        assert!(is_single_placeholder(&parse("{inputs.m.model.bin}").unwrap()));
        assert!(!is_single_placeholder(&parse("-m{inputs.m.model.bin}").unwrap()));
    }
}
