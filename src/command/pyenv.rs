//! A Python virtual environment a command stage names (`python = { requirements = "…" }`):
//! created once under the cache folder, keyed by what determines it (the requirements file, the
//! content of local packages it names, the interpreter's version), locked against concurrent
//! runs, and reused by every instance and run after. Its `pip freeze` enters the stage's key.
//!
//! A creation that was interrupted leaves no "ready" marker: the next run removes it and starts
//! over, so a half-installed environment is never used.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

use super::CommandError;

/// What an environment is made from.
#[derive(Debug, Clone)]
pub struct PythonRequest {
    pub requirements: PathBuf,
    /// The interpreter that creates it (`python3`, `python3.11`, a path).
    pub interpreter: String,
}

/// A ready environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonEnv {
    pub root: PathBuf,
    /// `<root>/bin/python`.
    pub python: PathBuf,
    /// `pip freeze`, local paths written relative to the requirements file's folder.
    pub freeze: String,
}

const READY: &str = ".tscpipe-ready";
const FREEZE: &str = "freeze.txt";

/// Environments made or found by this process, by folder name.
fn made() -> &'static Mutex<HashMap<PathBuf, PythonEnv>> {
    static MADE: OnceLock<Mutex<HashMap<PathBuf, PythonEnv>>> = OnceLock::new();
    MADE.get_or_init(Default::default)
}

/// The environment for `req` under `envs_root`, created if it does not exist yet. `base_env`
/// is the clean environment the pip and Python children run with.
pub fn ensure(
    req: &PythonRequest,
    envs_root: &Path,
    base_env: &BTreeMap<String, String>,
) -> Result<PythonEnv, CommandError> {
    let version = interpreter_version(&req.interpreter, base_env)?;
    let id = identity(req, &version)?;
    // pip runs in the requirements file's folder: every path it is given must be absolute
    let envs_root = &std::path::absolute(envs_root).map_err(|e| CommandError::io(envs_root, e))?;
    let root = envs_root.join(format!("py-{}", &id[..16]));
    if let Some(e) = made().lock().ok().and_then(|m| m.get(&root).cloned()) {
        return Ok(e);
    }
    std::fs::create_dir_all(envs_root).map_err(|e| CommandError::io(envs_root, e))?;
    let lock_path = envs_root.join(format!("py-{}.lock", &id[..16]));
    let lock = std::fs::File::create(&lock_path).map_err(|e| CommandError::io(&lock_path, e))?;
    lock.lock().map_err(|e| CommandError::io(&lock_path, e))?;
    if !root.join(READY).exists() {
        create(req, &root, base_env)?;
    }
    let freeze_path = root.join(FREEZE);
    let freeze = std::fs::read_to_string(&freeze_path).map_err(|e| CommandError::io(&freeze_path, e))?;
    drop(lock);
    let env = PythonEnv { python: root.join("bin").join("python"), root: root.clone(), freeze };
    if let Ok(mut m) = made().lock() {
        m.insert(root, env.clone());
    }
    Ok(env)
}

/// The interpreter's `sys.version` and where it lives.
fn interpreter_version(interpreter: &str, base_env: &BTreeMap<String, String>) -> Result<String, CommandError> {
    let out = Command::new(interpreter)
        .args(["-c", "import sys; print(sys.version); print(sys.executable)"])
        .env_clear()
        .envs(base_env)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| CommandError::Environment(format!("cannot run the interpreter `{interpreter}`: {e}")))?;
    if !out.status.success() {
        return Err(CommandError::Environment(format!(
            "`{interpreter} -c 'import sys'` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The digest an environment is found by: the requirements file, the content of the local
/// folders or files it installs from (so editing a local package makes a new environment), and
/// the interpreter.
fn identity(req: &PythonRequest, version: &str) -> Result<String, CommandError> {
    let text = std::fs::read_to_string(&req.requirements).map_err(|e| CommandError::io(&req.requirements, e))?;
    let base = req.requirements.parent().unwrap_or(Path::new("."));
    let mut h = blake3::Hasher::new();
    h.update(text.as_bytes());
    h.update(b"\0");
    h.update(version.as_bytes());
    for local in local_paths(&text, base) {
        let d = crate::cache::store::hash_path(&local)
            .map_err(|e| CommandError::Environment(format!("{}: {e}", req.requirements.display())))?;
        h.update(b"\0");
        h.update(d.as_bytes());
    }
    Ok(h.finalize().to_hex().to_string())
}

/// The lines of a requirements file that name a local path (`./pkg`, `-e ../lib`,
/// `file:pkg`), resolved against `base`; lines that are not existing paths are left to pip.
fn local_paths(text: &str, base: &Path) -> Vec<PathBuf> {
    text.lines()
        .map(|l| l.split(" #").next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.strip_prefix("-e").or_else(|| l.strip_prefix("--editable")).unwrap_or(l).trim())
        .map(|l| l.strip_prefix("file://").or_else(|| l.strip_prefix("file:")).unwrap_or(l))
        .filter(|l| l.starts_with('.') || l.starts_with('/'))
        .map(|l| base.join(l))
        .filter(|p| p.exists())
        .collect()
}

fn create(req: &PythonRequest, root: &Path, base_env: &BTreeMap<String, String>) -> Result<(), CommandError> {
    if root.exists() {
        // an interrupted creation: start over
        std::fs::remove_dir_all(root).map_err(|e| CommandError::io(root, e))?;
    }
    let fail = |what: &str, detail: CommandError| {
        CommandError::Environment(format!(
            "creating the Python environment for {} ({}) failed: {what}\n{detail}",
            req.requirements.display(),
            root.display()
        ))
    };
    run_logged(Command::new(&req.interpreter).arg("-m").arg("venv").arg(root), base_env, None)
        .map_err(|d| fail("`python -m venv`", d))?;
    let python = root.join("bin").join("python");
    let cwd = req.requirements.parent().unwrap_or(Path::new("."));
    let mut install = Command::new(&python);
    install
        .args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--progress-bar", "off", "-r"])
        .arg(&req.requirements);
    run_logged(&mut install, base_env, Some(cwd)).map_err(|d| fail("pip could not install its requirements", d))?;
    let mut freeze = Command::new(&python);
    freeze.args(["-m", "pip", "freeze", "--disable-pip-version-check"]);
    let text = run_logged(&mut freeze, base_env, Some(cwd)).map_err(|d| fail("`pip freeze`", d))?;
    let freeze_path = root.join(FREEZE);
    std::fs::write(&freeze_path, normalise_freeze(&text, cwd)).map_err(|e| CommandError::io(&freeze_path, e))?;
    let ready = root.join(READY);
    std::fs::write(&ready, b"").map_err(|e| CommandError::io(&ready, e))
}

/// Local packages appear in `pip freeze` as `name @ file:///abs/path`: written relative to the
/// requirements file's folder, so a project moved elsewhere keeps its keys.
fn normalise_freeze(text: &str, base: &Path) -> String {
    let abs = std::fs::canonicalize(base).unwrap_or_else(|_| base.to_path_buf());
    let prefix = format!("file://{}", abs.display());
    text.replace(&prefix, "file://.")
}

/// Runs a command to its end with the clean environment; its stdout, or the useful part of its
/// output when it fails (pip's `ERROR:` lines, else the last lines).
fn run_logged(cmd: &mut Command, env: &BTreeMap<String, String>, cwd: Option<&Path>) -> Result<String, CommandError> {
    cmd.env_clear().envs(env).stdin(Stdio::null());
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().map_err(|source| CommandError::Spawn { program, source })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        return Ok(stdout);
    }
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let errors: Vec<&str> = all.lines().filter(|l| l.starts_with("ERROR")).collect();
    let lines: Vec<&str> = all.lines().collect();
    let shown = if errors.is_empty() { lines[lines.len().saturating_sub(10)..].to_vec() } else { errors };
    Err(CommandError::Child(shown.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_found_and_registry_names_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("pkg")).unwrap();
        let text = "numpy==2.0\n./pkg  # ours\n-e ./pkg\n# ./commented\n./missing\nfile:pkg\n";
        let found = local_paths(text, dir.path());
        assert_eq!(found, vec![dir.path().join("./pkg"), dir.path().join("./pkg")]);
    }

    #[test]
    fn freeze_paths_are_written_relative() {
        let dir = tempfile::tempdir().unwrap();
        let abs = std::fs::canonicalize(dir.path()).unwrap();
        let text = format!("mypkg @ file://{}/pkg\nnumpy==2.0.0\n", abs.display());
        assert_eq!(normalise_freeze(&text, dir.path()), "mypkg @ file://./pkg\nnumpy==2.0.0\n");
    }
}
