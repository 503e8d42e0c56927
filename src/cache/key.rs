//! Cache keys: what goes into them, canonical JSON, and the manifest stored beside each entry.
//!
//! A key is built from the *digests* of a stage's inputs, not from upstream keys: when an
//! upstream stage reruns and writes byte-identical outputs, its dependents keep their keys
//! (early cutoff).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Bumped when the key or manifest layout changes; enters every key.
pub const KEY_FORMAT: u32 = 1;

/// One upstream artifact as the key sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputDigest {
    /// The upstream instance's matrix coordinates (a gathering stage may label rows by them).
    pub coords: Vec<(String, Json)>,
    pub digest: String,
}

/// Everything that determines a stage instance's outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyInputs {
    pub kind: String,
    pub version: u32,
    pub params: Json,
    pub inputs: BTreeMap<String, Vec<InputDigest>>,
    /// Environment that changes the numbers (e.g. the numeric backend), if the kind says so.
    pub env: Option<String>,
}

impl KeyInputs {
    pub fn key(&self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(format!("tscpipe-key-v{KEY_FORMAT}\n").as_bytes());
        h.update(canonical_json(&serde_json::to_value(self).unwrap_or(Json::Null)).as_bytes());
        h.finalize().to_hex().to_string()
    }
}

/// An output file of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputEntry {
    pub digest: String,
    pub size: u64,
    /// Varies run to run without meaning (timings): left out of the digest downstream sees.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub volatile: bool,
}

/// Stored next to each entry: what went into its key and what came out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub key: String,
    pub key_inputs: KeyInputs,
    /// Input name → upstream instance ids (informational; not part of the key).
    pub sources: BTreeMap<String, Vec<String>>,
    pub outputs: BTreeMap<String, OutputEntry>,
    pub instance: String,
    pub pipeline: String,
    pub created_unix: u64,
    pub duration_ms: u64,
}

impl Manifest {
    pub fn total_size(&self) -> u64 {
        self.outputs.values().map(|o| o.size).sum()
    }

    /// The digest downstream stages see for this entry (all outputs, or one of them).
    pub fn output_digest(&self, output: Option<&str>) -> Option<String> {
        match output {
            Some(name) => self.outputs.get(name).map(|o| o.digest.clone()),
            None => Some(combined_digest(&self.outputs)),
        }
    }
}

/// A digest over several named outputs.
pub fn combined_digest(outputs: &BTreeMap<String, OutputEntry>) -> String {
    let mut h = blake3::Hasher::new();
    for (name, o) in outputs.iter().filter(|(_, o)| !o.volatile) {
        h.update(name.as_bytes());
        h.update(b"\0");
        h.update(o.digest.as_bytes());
        h.update(b"\n");
    }
    h.finalize().to_hex().to_string()
}

/// JSON with object keys sorted at every level and no whitespace: one spelling per value.
pub fn canonical_json(v: &Json) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Json, out: &mut String) {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Json::String((*k).clone()).to_string());
                out.push(':');
                write_canonical(&m[*k], out);
            }
            out.push('}');
        }
        Json::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// One difference between two key inputs: its full text, and the same without what is particular
/// to one instance (which upstream it reads), so that `status` can count instances per change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub text: String,
    pub summary: String,
}

impl Change {
    fn same(text: String) -> Change {
        Change { summary: text.clone(), text }
    }
}

/// A human-readable list of what differs between two key inputs (for `status` and `diff`).
pub fn explain_difference(old: &KeyInputs, new: &KeyInputs, sources: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    explain_changes(old, new, sources).into_iter().map(|c| c.text).collect()
}

/// [`explain_difference`], each change with its summary.
pub fn explain_changes(old: &KeyInputs, new: &KeyInputs, sources: &BTreeMap<String, Vec<String>>) -> Vec<Change> {
    let mut why = Vec::new();
    if old.kind != new.kind {
        why.push(Change::same(format!("kind changed: {} → {}", old.kind, new.kind)));
    } else if old.version != new.version {
        why.push(Change::same(format!("code version of `{}` changed: {} → {}", new.kind, old.version, new.version)));
    }
    let mut changes = Vec::new();
    diff_json("", &old.params, &new.params, &mut changes);
    for c in changes {
        why.push(Change::same(format!("parameter {c}")));
    }
    let names: std::collections::BTreeSet<&String> = old.inputs.keys().chain(new.inputs.keys()).collect();
    for name in names {
        match (old.inputs.get(name), new.inputs.get(name)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) => {
                let from = sources
                    .get(name)
                    .map(|s| if s.len() == 1 { s[0].clone() } else { format!("{} instances", s.len()) });
                let summary = format!("input `{name}` changed");
                if a.len() != b.len() {
                    why.push(Change::same(format!(
                        "input `{name}` now gathers {} instances (was {})",
                        b.len(),
                        a.len()
                    )));
                } else {
                    let changed = a.iter().zip(b).filter(|(x, y)| x != y).count();
                    let text = match from {
                        Some(f) if b.len() == 1 => format!("input `{name}` changed (from {f})"),
                        _ => format!("input `{name}` changed ({changed} of {} upstream outputs differ)", b.len()),
                    };
                    why.push(Change { text, summary });
                }
            }
            (None, Some(_)) => why.push(Change::same(format!("new input `{name}`"))),
            (Some(_), None) => why.push(Change::same(format!("input `{name}` removed"))),
            (None, None) => {}
        }
    }
    if old.env != new.env {
        why.push(Change::same(format!(
            "environment changed: {} → {}",
            old.env.as_deref().unwrap_or("-"),
            new.env.as_deref().unwrap_or("-")
        )));
    }
    why
}

fn diff_json(path: &str, a: &Json, b: &Json, out: &mut Vec<String>) {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => diff_json(&p, u, v, out),
                    (None, Some(v)) => out.push(format!("`{p}` added: {}", canonical_json(v))),
                    (Some(u), None) => out.push(format!("`{p}` removed (was {})", canonical_json(u))),
                    (None, None) => {}
                }
            }
        }
        _ if a != b => out.push(format!("`{path}`: {} → {}", canonical_json(a), canonical_json(b))),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ki(params: Json) -> KeyInputs {
        KeyInputs { kind: "k".into(), version: 1, params, inputs: BTreeMap::new(), env: None }
    }

    #[test]
    fn key_ignores_object_key_order() {
        let a = ki(json!({"a": 1, "b": {"x": 1.5, "y": [1, 2]}}));
        let b = ki(json!({"b": {"y": [1, 2], "x": 1.5}, "a": 1}));
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), ki(json!({"a": 2, "b": {"x": 1.5, "y": [1, 2]}})).key());
    }

    #[test]
    fn key_is_stable_across_builds() {
        // A fixed value: if this changes, every user's cache is invalidated. Bump KEY_FORMAT.
        let k = ki(json!({"epochs": 10})).key();
        assert_eq!(k.len(), 64);
        assert_eq!(k, ki(json!({"epochs": 10})).key());
    }

    #[test]
    fn explains_parameter_changes() {
        let why = explain_difference(&ki(json!({"epochs": 10})), &ki(json!({"epochs": 20})), &BTreeMap::new());
        assert_eq!(why, vec!["parameter `epochs`: 10 → 20".to_string()]);
    }
}
