//! The command line itself: what it prints without a pipeline.

use std::process::Command;

fn tscpipe(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tscpipe")).args(args).output().expect("run tscpipe");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn completions_cover_every_subcommand_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let (ok, script) = tscpipe(&["completions", shell]);
        assert!(ok, "{shell}");
        for sub in ["run", "status", "analyze", "cache", "kinds", "completions"] {
            assert!(script.contains(sub), "{shell} completion lacks `{sub}`");
        }
    }
    let (ok, _) = tscpipe(&["completions", "tcsh"]);
    assert!(!ok, "an unknown shell is refused");
}
