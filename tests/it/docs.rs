//! The checked-in stage reference (`docs/stages.md`) is what the registry renders today.

use std::process::Command;

use tscpipe::stages::Registry;
use tscpipe::stages::markdown::{REGENERATE, registry_markdown};

use crate::common::repo;

#[test]
fn stages_md_is_current() {
    let path = repo().join("docs/stages.md");
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    let current = registry_markdown(&Registry::builtin());
    if checked_in != current {
        let first = checked_in
            .lines()
            .zip(current.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| checked_in.lines().count().min(current.lines().count()));
        panic!(
            "{} is stale (first difference at line {}: checked in {:?}, registry gives {:?}); regenerate it with\n    {REGENERATE}",
            path.display(),
            first + 1,
            checked_in.lines().nth(first).unwrap_or("<end of file>"),
            current.lines().nth(first).unwrap_or("<end of file>"),
        );
    }
}

/// The regeneration command the failure message names prints exactly the reference.
#[test]
fn kinds_markdown_prints_the_reference() {
    let out = Command::new(env!("CARGO_BIN_EXE_tscpipe")).args(["kinds", "--markdown"]).output().expect("run tscpipe");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), registry_markdown(&Registry::builtin()));
}

#[test]
fn kinds_names_an_unknown_kind() {
    let out = Command::new(env!("CARGO_BIN_EXE_tscpipe")).args(["kinds", "normalize"]).output().expect("run tscpipe");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown stage kind `normalize`") && err.contains("`normalise`"), "{err}");
}
