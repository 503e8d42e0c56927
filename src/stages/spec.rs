//! What a stage kind declares about itself: parameters, inputs and outputs.
//!
//! The DSL validates pipeline files against these declarations, and the cache key is built from
//! parameters with every default written out, so `epochs = 2000` written or omitted is one key.
//! A kind does not write its [`ParamSpec`]s by hand: they come from its parameter struct
//! ([`stage_params!`](crate::stage_params), see [`super::params`]).

use serde_json::Value as Json;

/// The type a parameter accepts. Integers are accepted where floats are expected.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamType {
    Str,
    Int,
    Float,
    Bool,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// An array whose elements have this type.
    List(Box<ParamType>),
    /// A free-form table (e.g. a model description); the kind canonicalises it.
    Table,
    /// An integer or a float, kept as written (e.g. a band as cells or as a fraction).
    Number,
    /// A string or a table (e.g. a file name, or `{ file, score, method }`); the kind checks it.
    StrOrTable,
    /// A string or an array of strings (a command as one shell line or as an argv).
    StrOrList,
}

impl ParamType {
    pub fn describe(&self) -> String {
        match self {
            ParamType::Str => "a string".into(),
            ParamType::Int => "an integer".into(),
            ParamType::Float => "a number".into(),
            ParamType::Bool => "a boolean".into(),
            ParamType::Enum(opts) => {
                format!("one of {}", opts.iter().map(|o| format!("\"{o}\"")).collect::<Vec<_>>().join(", "))
            }
            ParamType::List(t) => {
                format!("an array of {}", t.describe().trim_start_matches("a ").trim_start_matches("an "))
            }
            ParamType::Table => "a table".into(),
            ParamType::Number => "a number".into(),
            ParamType::StrOrTable => "a string or a table".into(),
            ParamType::StrOrList => "a string or an array of strings".into(),
        }
    }

    /// Checks and normalises a JSON value; `Err` says what was expected.
    pub fn coerce(&self, v: &Json) -> Result<Json, CoerceError> {
        let bad = || Err(CoerceError::Type { expected: self.describe(), found: json_type(v) });
        match (self, v) {
            (ParamType::Str, Json::String(_)) => Ok(v.clone()),
            (ParamType::Int, Json::Number(n)) if n.is_i64() || n.is_u64() => Ok(v.clone()),
            (ParamType::Float, Json::Number(n)) => {
                Ok(n.as_f64().and_then(serde_json::Number::from_f64).map(Json::Number).unwrap_or(v.clone()))
            }
            (ParamType::Number, Json::Number(_)) => Ok(v.clone()),
            (ParamType::Bool, Json::Bool(_)) => Ok(v.clone()),
            (ParamType::Enum(opts), Json::String(s)) => {
                if opts.contains(&s.as_str()) {
                    Ok(v.clone())
                } else {
                    let nearest = crate::util::suggest::nearest(s, opts.iter().copied()).map(str::to_string);
                    Err(CoerceError::NotAnOption { value: s.clone(), expected: self.describe(), nearest })
                }
            }
            (ParamType::List(t), Json::Array(items)) => {
                items.iter().map(|i| t.coerce(i)).collect::<Result<Vec<_>, _>>().map(Json::Array)
            }
            (ParamType::Table, Json::Object(_)) => Ok(v.clone()),
            (ParamType::StrOrTable, Json::String(_) | Json::Object(_)) => Ok(v.clone()),
            (ParamType::StrOrList, Json::String(_)) => Ok(v.clone()),
            // an argument that is a whole `${axis}` keeps the axis value's type: written as text
            (ParamType::StrOrList, Json::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Json::String(_) => Ok(i.clone()),
                    Json::Number(n) => Ok(Json::String(n.to_string())),
                    Json::Bool(b) => Ok(Json::String(b.to_string())),
                    _ => bad(),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array),
            _ => bad(),
        }
    }
}

/// A parameter value of the wrong type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoerceError {
    #[error("expected {expected}, found {found}")]
    Type { expected: String, found: &'static str },
    #[error("\"{value}\" is not {expected}{}", nearest.as_ref().map(|n| format!("; did you mean \"{n}\"?")).unwrap_or_default())]
    NotAnOption { value: String, expected: String, nearest: Option<String> },
}

pub fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "nothing",
        Json::Bool(_) => "a boolean",
        Json::Number(n) if n.is_f64() => "a float",
        Json::Number(_) => "an integer",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "a table",
    }
}

/// A declared parameter.
#[derive(Debug, Clone)]
pub struct ParamSpec {
    pub name: &'static str,
    pub ty: ParamType,
    /// `None` = required. A string default may use `${stage}` and matrix axes.
    pub default: Option<Json>,
    /// An optional parameter without a default is simply absent when not given.
    pub optional: bool,
    pub doc: &'static str,
}

impl ParamSpec {
    pub fn required(name: &'static str, ty: ParamType, doc: &'static str) -> Self {
        ParamSpec { name, ty, default: None, optional: false, doc }
    }
    pub fn with_default(name: &'static str, ty: ParamType, default: impl Into<Json>, doc: &'static str) -> Self {
        ParamSpec { name, ty, default: Some(default.into()), optional: false, doc }
    }
    pub fn optional(name: &'static str, ty: ParamType, doc: &'static str) -> Self {
        ParamSpec { name, ty, default: None, optional: true, doc }
    }
}

/// A declared input slot.
#[derive(Debug, Clone)]
pub struct InputSpec {
    pub name: &'static str,
    pub required: bool,
    /// Whether the slot gathers many upstream instances (a fan-in).
    pub gather: bool,
    pub doc: &'static str,
}

/// A declared output file.
#[derive(Debug, Clone)]
pub struct OutputSpec {
    pub name: &'static str,
    pub doc: &'static str,
    /// Copied under `results/<pipeline>/…` after the run, for people to open.
    pub publish: bool,
    /// A short Markdown/text file printed at the end of a run when this stage is the main one.
    pub summary: bool,
    /// Some runs may not write it (e.g. attention weights only for attention models).
    pub optional: bool,
    /// Differs run to run without meaning (timings): stored, but not part of what dependents see.
    pub volatile: bool,
    /// An HTML page that gets the run's stage timings where [`crate::report::TIMINGS_MARKER`]
    /// stands, when it is published (`run`, `tscpipe report`).
    pub timings: bool,
}

impl OutputSpec {
    pub fn file(name: &'static str, doc: &'static str) -> Self {
        OutputSpec { name, doc, publish: false, summary: false, optional: false, volatile: false, timings: false }
    }
    pub fn published(name: &'static str, doc: &'static str) -> Self {
        OutputSpec { name, doc, publish: true, summary: false, optional: false, volatile: false, timings: false }
    }
    pub fn summary(mut self) -> Self {
        self.summary = true;
        self
    }
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }
    pub fn with_timings(mut self) -> Self {
        self.timings = true;
        self
    }
}
