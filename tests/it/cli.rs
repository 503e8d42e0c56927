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

/// `status` and `cache pull` take `--device` as `run` does, `auto` included (resolved once and
/// said on stderr), so they key GPU-trained instances as the run did.
#[test]
fn status_and_cache_pull_take_the_device_as_run_does() {
    use crate::common::{Project, SMALL};
    let p = Project::new();
    let file = p.write("small.toml", SMALL);
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tscpipe"))
            .args(args)
            .arg(&file)
            .arg("--cache-dir")
            .arg(p.cache_dir())
            .output()
            .expect("run tscpipe");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    };
    let (ok, stdout, stderr) = run(&["status", "--device", "auto"]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("7 stage instances: 0 cached"), "{stdout}");
    assert!(stderr.contains("--device auto: "), "auto says what it picked: {stderr}");

    // A remote that refuses connections: nothing to pull, but the command runs.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let remote = format!("http://127.0.0.1:{port}");
    let (ok, stdout, stderr) = run(&["cache", "pull", "--device", "auto", "--remote", &remote]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("pulled 0 entries"), "{stdout}");
    assert!(stderr.contains("--device auto: "), "{stderr}");

    let (ok, _, stderr) = run(&["status", "--device", "gpu"]);
    assert!(!ok);
    assert!(stderr.contains("unknown device `gpu`") && stderr.contains("`wgpu:N`"), "{stderr}");
    let (ok, help) = tscpipe(&["status", "--help"]);
    assert!(ok && help.contains("The device `run` would use"), "{help}");
}

/// A run prints the folder it published to, which is the one written (a pipeline's name is
/// made safe for a path).
#[test]
fn a_run_prints_the_results_folder_it_wrote() {
    use crate::common::{Project, SMALL};
    let p = Project::new();
    let file = p.write("escape.toml", &SMALL.replace("name = \"small\"", "name = \"../../x\""));
    let results = p.path("out/results");
    let out = Command::new(env!("CARGO_BIN_EXE_tscpipe"))
        .arg("run")
        .arg(&file)
        .arg("--cache-dir")
        .arg(p.cache_dir())
        .arg("--results-dir")
        .arg(&results)
        .env("CI", "1")
        .output()
        .expect("run tscpipe");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let written = results.join(".._.._x");
    assert!(written.is_dir(), "{stdout}");
    assert!(stdout.contains(&format!("results: {} (", written.display())), "{stdout}");
    assert!(!p.path("x").exists(), "nothing escaped the results folder");
}
