//! Typed stage parameters: a kind declares its parameters once, as a struct written with
//! [`stage_params!`](crate::stage_params), and gets from that one declaration both the
//! [`ParamSpec`]s (validation, `tscpipe kinds`, suggestions, the written-out defaults that enter
//! the cache key) and the struct its hooks read.
//!
//! ```ignore
//! stage_params! {
//!     /// Parameters of `normalise`.
//!     pub struct NormaliseParams {
//!         /// normalisation scheme
//!         pub method: String [Enum(METHODS) = "per-series"],
//!     }
//! }
//! ```
//!
//! Each field is `name: RustType [ParamType …]`, where the bracket says how the field is declared:
//! - `[Int = 2000]`: with a default (written out before keying, so omitted and written are one key);
//! - `[Table]`: required;
//! - `[Float, optional]`: absent when not given; the Rust type is an `Option<T>`;
//! - `[include]`: another parameter struct's fields, declared in place (shared groups).
//!
//! The parameter type is one of [`ParamType`]'s variants (`Str`, `Int`, `Float`, `Bool`, `Number`,
//! `Table`, `Enum(OPTIONS)`, `List(Str)`); the field's doc comment is the parameter's help text.
//! A value is read with serde into the field's type, so a table may be read straight into a
//! `Deserialize` type (e.g. a model description) or kept as `serde_json::Value`.

use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use super::kind::{Params, StageError};
use super::spec::{ParamSpec, ParamType};

/// A kind's parameters as one struct (implemented by [`stage_params!`](crate::stage_params)).
pub trait StageParams: Sized {
    /// The declarations, in the order `tscpipe kinds` lists them.
    fn specs() -> Vec<ParamSpec>;
    /// Reads validated parameters; a parameter a canonicalisation left out reads as its default.
    fn from_params(p: &Params) -> Result<Self, StageError>;
}

/// Reads one declared parameter into its field's type.
pub fn read<T: DeserializeOwned>(
    p: &Params,
    name: &'static str,
    ty: &ParamType,
    default: Option<Json>,
) -> Result<T, StageError> {
    let v = p.get(name).cloned().or(default).unwrap_or(Json::Null);
    let negative = v.as_i64().is_some_and(|i| i < 0);
    serde_json::from_value(v).map_err(|source| match ty {
        // A table's own errors say which of its fields is wrong.
        ParamType::Table => StageError::ParamValue { name: name.into(), source },
        ParamType::Int if negative => StageError::param(name, "a non-negative integer"),
        other => StageError::param(name, &other.describe()),
    })
}

/// Reads a required parameter: absent is an error even where `null` would deserialise.
pub fn read_required<T: DeserializeOwned>(p: &Params, name: &'static str, ty: &ParamType) -> Result<T, StageError> {
    if p.get(name).is_none() {
        return Err(StageError::param(name, &ty.describe()));
    }
    read(p, name, ty, None)
}

/// Declares a stage kind's parameters as a struct; see the [module docs](crate::stages::params).
#[macro_export]
macro_rules! stage_params {
    (
        $(#[$meta:meta])*
        $svis:vis struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $vis:vis $field:ident : $ty:ty [$($spec:tt)*]
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        $svis struct $name {
            $(
                $(#[doc = $doc])*
                $vis $field: $ty,
            )*
        }

        impl $crate::stages::params::StageParams for $name {
            fn specs() -> ::std::vec::Vec<$crate::stages::spec::ParamSpec> {
                #[allow(unused_mut)]
                let mut specs = ::std::vec::Vec::new();
                $(
                    $crate::__stage_param_spec!(
                        specs, $ty, stringify!($field), const { concat!($($doc),*).trim_ascii() }, $($spec)*
                    );
                )*
                specs
            }
            #[allow(unused_variables)]
            fn from_params(
                p: &$crate::stages::kind::Params,
            ) -> ::std::result::Result<Self, $crate::stages::kind::StageError> {
                ::std::result::Result::Ok($name {
                    $( $field: $crate::__stage_param_read!(p, $ty, stringify!($field), $($spec)*), )*
                })
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __stage_param_spec {
    ($specs:ident, $ty:ty, $n:expr, $d:expr, include) => {
        $specs.extend(<$ty as $crate::stages::params::StageParams>::specs())
    };
    ($specs:ident, $ty:ty, $n:expr, $d:expr, $pt:ident $(($($a:tt)*))? = $def:expr) => {
        $specs.push($crate::stages::spec::ParamSpec::with_default(
            $n,
            $crate::__param_type!($pt $(($($a)*))?),
            $def,
            $d,
        ))
    };
    ($specs:ident, $ty:ty, $n:expr, $d:expr, $pt:ident $(($($a:tt)*))?, optional) => {
        $specs.push($crate::stages::spec::ParamSpec::optional($n, $crate::__param_type!($pt $(($($a)*))?), $d))
    };
    ($specs:ident, $ty:ty, $n:expr, $d:expr, $pt:ident $(($($a:tt)*))?) => {
        $specs.push($crate::stages::spec::ParamSpec::required($n, $crate::__param_type!($pt $(($($a)*))?), $d))
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __stage_param_read {
    ($p:ident, $ty:ty, $n:expr, include) => {
        <$ty as $crate::stages::params::StageParams>::from_params($p)?
    };
    ($p:ident, $ty:ty, $n:expr, $pt:ident $(($($a:tt)*))? = $def:expr) => {
        $crate::stages::params::read::<$ty>(
            $p,
            $n,
            &$crate::__param_type!($pt $(($($a)*))?),
            ::std::option::Option::Some(::serde_json::Value::from($def)),
        )?
    };
    ($p:ident, $ty:ty, $n:expr, $pt:ident $(($($a:tt)*))?, optional) => {
        $crate::stages::params::read::<$ty>($p, $n, &$crate::__param_type!($pt $(($($a)*))?), ::std::option::Option::None)?
    };
    ($p:ident, $ty:ty, $n:expr, $pt:ident $(($($a:tt)*))?) => {
        $crate::stages::params::read_required::<$ty>($p, $n, &$crate::__param_type!($pt $(($($a)*))?))?
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __param_type {
    (List($($inner:tt)+)) => {
        $crate::stages::spec::ParamType::List(::std::boxed::Box::new($crate::__param_type!($($inner)+)))
    };
    (Enum($options:expr)) => {
        $crate::stages::spec::ParamType::Enum($options)
    };
    ($t:ident) => {
        $crate::stages::spec::ParamType::$t
    };
}

/// The name of a declared parameter, checked at compile time against its struct's field:
/// `param_name!(LoadParams, length)` is `"length"`, and a typo does not build.
#[macro_export]
macro_rules! param_name {
    ($ty:ty, $field:ident) => {{
        let _ = |p: &$ty| {
            let _ = &p.$field;
        };
        stringify!($field)
    }};
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const MODES: &[&str] = &["a", "b"];

    crate::stage_params! {
        /// A shared group.
        pub struct Shared {
            /// random seed
            pub seed: i64 [Int = 0],
        }
    }

    crate::stage_params! {
        /// Every form a field can take.
        pub struct Example {
            /// the model,
            /// on two lines
            pub model: Json [Table],
            /// how
            pub mode: String [Enum(MODES) = "a"],
            /// steps
            pub steps: usize [Int = 10],
            pub shared: Shared [include],
            /// names
            pub names: Vec<String> [List(Str) = vec!["x"]],
            /// momentum
            pub momentum: Option<f64> [Float, optional],
        }
    }

    #[test]
    fn specs_follow_the_declaration() {
        let s = Example::specs();
        let names: Vec<&str> = s.iter().map(|p| p.name).collect();
        assert_eq!(names, ["model", "mode", "steps", "seed", "names", "momentum"]);
        assert_eq!(s[0].doc, "the model, on two lines");
        assert!(s[0].default.is_none() && !s[0].optional);
        assert_eq!(s[1].ty, ParamType::Enum(MODES));
        assert_eq!(s[1].default, Some(json!("a")));
        assert_eq!(s[3].doc, "random seed");
        assert_eq!(s[4].ty, ParamType::List(Box::new(ParamType::Str)));
        assert_eq!(s[4].default, Some(json!(["x"])));
        assert!(s[5].optional && s[5].default.is_none());
    }

    #[test]
    fn reads_values_defaults_and_absent_optionals() {
        let p = Params(json!({"model": {"k": 1}, "steps": 3, "seed": 7}).as_object().cloned().unwrap_or_default());
        let e = Example::from_params(&p).expect("reads");
        assert_eq!(e.model, json!({"k": 1}));
        assert_eq!((e.mode.as_str(), e.steps, e.shared.seed), ("a", 3, 7));
        assert_eq!(e.names, ["x"]);
        assert_eq!(e.momentum, None);
    }

    #[test]
    fn errors_name_the_parameter() {
        let p = Params(json!({"model": {}, "steps": -1}).as_object().cloned().unwrap_or_default());
        let e = Example::from_params(&p).expect_err("negative steps");
        assert_eq!(e.to_string(), "parameter `steps`: expected a non-negative integer");
        let p = Params(json!({"steps": 1}).as_object().cloned().unwrap_or_default());
        let e = Example::from_params(&p).expect_err("no model");
        assert!(e.to_string().starts_with("parameter `model`: "), "{e}");
        assert_eq!(crate::param_name!(Example, steps), "steps");
    }

    /// Stage kinds read their parameter struct, never a parameter by its name: a typo would be a
    /// run-time error instead of a compile error. (Only `Params`' own accessors, in `kind.rs`.)
    #[test]
    fn no_stage_kind_reads_a_parameter_by_name() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/stages");
        let accessors = ["str", "usize", "f64", "i64", "bool", "opt_str", "get"];
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("src/stages") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("kind.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            for (i, line) in text.lines().enumerate() {
                let by_name = accessors
                    .iter()
                    .any(|a| ["params.", "p."].iter().any(|recv| line.contains(&format!("{recv}{a}(\""))));
                if by_name {
                    found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                }
            }
        }
        assert!(
            found.is_empty(),
            "parameters read by name (declare them in a stage_params! struct):\n{}",
            found.join("\n")
        );
    }

    struct Kind;

    impl crate::stages::TypedStage for Kind {
        type Params = Example;
        fn name(&self) -> &'static str {
            "example"
        }
        fn version(&self) -> u32 {
            1
        }
        fn about(&self) -> &'static str {
            ""
        }
        fn inputs(&self) -> Vec<crate::stages::spec::InputSpec> {
            Vec::new()
        }
        fn outputs(&self) -> Vec<crate::stages::spec::OutputSpec> {
            Vec::new()
        }
        fn run(&self, _: &crate::stages::StageContext<'_>, _: &Example) -> Result<(), StageError> {
            Ok(())
        }
    }

    #[test]
    fn a_typed_kind_is_a_stage_kind_whose_check_reads_the_struct() {
        use crate::stages::StageKind;
        let k: &dyn StageKind = &Kind;
        assert_eq!(k.params().len(), Example::specs().len());
        let env = crate::stages::kind::RunEnv::default();
        let good = Params(json!({"model": {}, "steps": 1}).as_object().cloned().unwrap_or_default());
        assert!(k.check(&good, &env).is_ok());
        // A value validation lets through but the struct cannot hold fails before anything runs,
        // pointing at the parameter.
        let bad = Params(json!({"model": {}, "steps": -1}).as_object().cloned().unwrap_or_default());
        let e = k.check(&bad, &env).expect_err("negative steps");
        assert_eq!(e.param, Some("steps"));
        assert_eq!(e.message, "parameter `steps`: expected a non-negative integer");
    }
}
