//! The stage-kind reference as Markdown (`tscpipe kinds --markdown`, checked in as
//! `docs/stages.md`), rendered from what each kind declares about itself, so the reference cannot
//! drift from the registry: a test compares the checked-in file with this output.

use std::fmt::Write as _;

use serde_json::Value as Json;

use super::Registry;
use super::kind::StageKind;
use super::spec::{InputSpec, OutputSpec, ParamSpec};

/// The command that regenerates `docs/stages.md`; printed by the staleness test.
pub const REGENERATE: &str = "cargo run -- kinds --markdown > docs/stages.md";

/// The whole reference: a header, a contents list and one section per kind, in name order.
pub fn registry_markdown(registry: &Registry) -> String {
    let mut s = String::new();
    s.push_str("# Stage kinds\n\n");
    let _ = writeln!(s, "<!-- Generated from the stage registry by `{REGENERATE}`; do not edit by hand. -->\n");
    s.push_str(
        "Every `kind = \"…\"` a pipeline stage may name, with what it reads, the parameters it \
         takes and the files it writes. Parameters with a default enter the cache key with the \
         default written out, so writing the default or omitting it is the same instance; an \
         optional parameter without a default is absent unless given. The version enters the \
         cache key too: it changes when the kind's numbers could change. See \
         [pipelines.md](pipelines.md) for how stages, inputs and parameters are written.\n\n",
    );
    for k in registry.iter() {
        let _ = writeln!(s, "- [`{}`](#{}): {}", k.name(), anchor(k.name()), cell(k.about()));
    }
    for k in registry.iter() {
        s.push('\n');
        s.push_str(kind_markdown(k).trim_end());
        s.push('\n');
    }
    s
}

/// One kind's section: about, version, inputs, parameters and outputs.
pub fn kind_markdown(kind: &dyn StageKind) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## {}\n", kind.name());
    let _ = writeln!(s, "{}\n", paragraph(kind.about()));
    let _ = writeln!(s, "Version {}.\n", kind.version());
    inputs_table(&mut s, &kind.inputs());
    params_table(&mut s, &kind.params());
    outputs_table(&mut s, &kind.outputs());
    s
}

fn inputs_table(s: &mut String, inputs: &[InputSpec]) {
    if inputs.is_empty() {
        s.push_str("Inputs: none.\n\n");
        return;
    }
    s.push_str("| input | binding | description |\n|---|---|---|\n");
    for i in inputs {
        let binding = match (i.required, i.gather) {
            (true, false) => "required, one instance",
            (true, true) => "required, gather (many instances)",
            (false, false) => "optional, one instance",
            (false, true) => "optional, gather (many instances)",
        };
        let _ = writeln!(s, "| `{}` | {binding} | {} |", i.name, cell(i.doc));
    }
    s.push('\n');
}

fn params_table(s: &mut String, params: &[ParamSpec]) {
    if params.is_empty() {
        s.push_str("Parameters: none.\n\n");
        return;
    }
    s.push_str("| parameter | type | default | description |\n|---|---|---|---|\n");
    for p in params {
        let default = match (&p.default, p.optional) {
            (Some(d), _) => code(&toml_inline(d)),
            (None, true) => "optional".to_string(),
            (None, false) => "**required**".to_string(),
        };
        let _ = writeln!(s, "| `{}` | {} | {default} | {} |", p.name, cell(&p.ty.describe()), cell(p.doc));
    }
    s.push('\n');
}

fn outputs_table(s: &mut String, outputs: &[OutputSpec]) {
    if outputs.is_empty() {
        s.push_str("Outputs: none.\n\n");
        return;
    }
    s.push_str("| output | notes | description |\n|---|---|---|\n");
    for o in outputs {
        let mut notes = Vec::new();
        if o.publish {
            notes.push("published under `results/`");
        }
        if o.summary {
            notes.push("printed at the end of a run");
        }
        if o.optional {
            notes.push("not always written");
        }
        if o.volatile {
            notes.push("volatile: not seen by dependents' keys");
        }
        let notes = if notes.is_empty() { "–".to_string() } else { notes.join("; ") };
        let _ = writeln!(s, "| `{}` | {notes} | {} |", o.name, cell(o.doc));
    }
    s.push('\n');
}

/// A value as it would be written in a pipeline file (TOML inline syntax).
fn toml_inline(v: &Json) -> String {
    match v {
        Json::Null => "(none)".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        // JSON string escapes are valid TOML basic-string escapes.
        Json::String(_) => v.to_string(),
        Json::Array(items) => format!("[{}]", items.iter().map(toml_inline).collect::<Vec<_>>().join(", ")),
        Json::Object(m) if m.is_empty() => "{}".into(),
        Json::Object(m) => {
            let fields: Vec<String> = m.iter().map(|(k, v)| format!("{} = {}", toml_key(k), toml_inline(v))).collect();
            format!("{{ {} }}", fields.join(", "))
        }
    }
}

fn toml_key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        k.to_string()
    } else {
        Json::String(k.into()).to_string()
    }
}

/// Inline code that survives backticks inside the text (CommonMark: a longer fence).
fn code(text: &str) -> String {
    let text = cell(text);
    if text.contains('`') { format!("`` {text} ``") } else { format!("`{text}`") }
}

/// Text safe inside a table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    paragraph(text).replace('|', "\\|")
}

/// Declared docs are one line each, but a stray newline must not break the Markdown structure.
fn paragraph(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The anchor GitHub and most renderers give a `## name` heading.
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c.to_ascii_lowercase()),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::stages::kind::{StageContext, StageError};
    use crate::stages::spec::ParamType;

    struct Toy;

    impl StageKind for Toy {
        fn name(&self) -> &'static str {
            "toy_kind"
        }
        fn version(&self) -> u32 {
            7
        }
        fn about(&self) -> &'static str {
            "Does a toy thing\n  over two lines"
        }
        fn params(&self) -> Vec<ParamSpec> {
            vec![
                ParamSpec::required("n", ParamType::Int, "how many"),
                ParamSpec::with_default("how", ParamType::Enum(&["a", "b"]), "a", "a | b"),
                ParamSpec::with_default("sizes", ParamType::List(Box::new(ParamType::Int)), vec![1, 2], "sizes"),
                ParamSpec::with_default(
                    "model",
                    ParamType::Table,
                    serde_json::json!({"cells": 8, "two words": "x"}),
                    "model",
                ),
                ParamSpec::optional("seed", ParamType::Int, "seed"),
            ]
        }
        fn inputs(&self) -> Vec<InputSpec> {
            vec![
                InputSpec { name: "data", required: true, gather: false, doc: "a dataset" },
                InputSpec { name: "extra", required: false, gather: true, doc: "more" },
            ]
        }
        fn outputs(&self) -> Vec<OutputSpec> {
            vec![
                OutputSpec::published("table.md", "the table").summary(),
                OutputSpec::file("timing.json", "timings").optional().volatile(),
            ]
        }
        fn run(&self, _ctx: &StageContext<'_>) -> Result<(), StageError> {
            Ok(())
        }
    }

    #[test]
    fn a_kind_renders_every_declaration() {
        let md = kind_markdown(&Toy);
        assert!(md.starts_with("## toy_kind\n\nDoes a toy thing over two lines\n\nVersion 7.\n"), "{md}");
        assert!(md.contains("| `data` | required, one instance | a dataset |"), "{md}");
        assert!(md.contains("| `extra` | optional, gather (many instances) | more |"), "{md}");
        assert!(md.contains("| `n` | an integer | **required** | how many |"), "{md}");
        assert!(md.contains("| `how` | one of \"a\", \"b\" | `\"a\"` | a \\| b |"), "{md}");
        assert!(md.contains("| `sizes` | an array of integer | `[1, 2]` | sizes |"), "{md}");
        assert!(md.contains("| `model` | a table | `{ cells = 8, \"two words\" = \"x\" }` | model |"), "{md}");
        assert!(md.contains("| `seed` | an integer | optional | seed |"), "{md}");
        assert!(
            md.contains("| `table.md` | published under `results/`; printed at the end of a run | the table |"),
            "{md}"
        );
        assert!(
            md.contains("| `timing.json` | not always written; volatile: not seen by dependents' keys | timings |"),
            "{md}"
        );
    }

    #[test]
    fn the_registry_lists_and_links_every_kind() {
        let mut r = Registry::empty();
        r.register(Arc::new(Toy));
        let md = registry_markdown(&r);
        assert!(md.contains("- [`toy_kind`](#toy_kind): Does a toy thing over two lines\n"), "{md}");
        assert!(md.contains("\n## toy_kind\n"), "{md}");
        assert!(md.contains(REGENERATE));
        let builtin = registry_markdown(&Registry::builtin());
        for name in Registry::builtin().names() {
            assert!(builtin.contains(&format!("\n## {name}\n")), "no section for {name}");
        }
    }

    #[test]
    fn anchors_and_code_spans() {
        assert_eq!(anchor("pair_expand"), "pair_expand");
        assert_eq!(anchor("Report.HTML x"), "reporthtml-x");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(toml_inline(&serde_json::json!("q\"x")), "\"q\\\"x\"");
    }
}
