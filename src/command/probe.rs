//! A command stage's `env_key`: a program (e.g. `python3 -c "import aeon; print(aeon.__version__)"`)
//! whose stdout enters the stage's cache key, so that upgrading a library or an interpreter reruns
//! what it computed. It runs once per process (one `run` or `status`) for each distinct
//! argv, folder and environment, however many instances ask.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use super::CommandError;

type ProbeKey = (Vec<String>, PathBuf, BTreeMap<String, String>);
type Memo = Mutex<HashMap<ProbeKey, Arc<OnceLock<Result<String, String>>>>>;

fn memo() -> &'static Memo {
    static MEMO: OnceLock<Memo> = OnceLock::new();
    MEMO.get_or_init(Default::default)
}

/// The probe's stdout (trimmed), run at most once per process for the same inputs.
pub fn output(argv: &[String], cwd: &Path, env: &BTreeMap<String, String>) -> Result<String, CommandError> {
    let cell = {
        let mut m = memo().lock().unwrap_or_else(|p| p.into_inner());
        m.entry((argv.to_vec(), cwd.to_path_buf(), env.clone())).or_default().clone()
    };
    // the memo keeps the message: an error is reported to every instance that asks
    cell.get_or_init(|| run(argv, cwd, env).map_err(|e| e.to_string())).clone().map_err(CommandError::Environment)
}

fn run(argv: &[String], cwd: &Path, env: &BTreeMap<String, String>) -> Result<String, CommandError> {
    let shown = argv.join(" ");
    let fail = |m: String| CommandError::Environment(m);
    let Some(program) = argv.first() else {
        return Err(fail("`env_key` is an empty command".into()));
    };
    let out = Command::new(program)
        .args(&argv[1..])
        .env_clear()
        .envs(env)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| fail(format!("env_key `{shown}` could not start: {e}")))?;
    if !out.status.success() {
        return Err(fail(format!(
            "env_key `{shown}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_once_per_process_and_reports_failures() {
        let dir = tempfile::tempdir().unwrap();
        let count = dir.path().join("count");
        let env = super::super::child::environment(&BTreeMap::new());
        let argv: Vec<String> = ["sh", "-c", &format!("echo x >> {}; echo ' v1.2 '", count.display())]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(output(&argv, dir.path(), &env).unwrap(), "v1.2");
        assert_eq!(output(&argv, dir.path(), &env).unwrap(), "v1.2");
        assert_eq!(std::fs::read_to_string(&count).unwrap(), "x\n");
        let bad: Vec<String> = ["sh", "-c", "echo nope >&2; exit 2"].iter().map(|s| s.to_string()).collect();
        let e = output(&bad, dir.path(), &env).unwrap_err().to_string();
        assert!(e.contains("nope") && e.contains("env_key"), "{e}");
    }
}
