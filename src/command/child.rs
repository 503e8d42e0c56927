//! The child process of a command stage: a clean, declared environment, its own process group
//! (so that cancelling or a time limit ends everything it started), stdout and stderr kept in
//! files, and a verdict a person can act on when it fails.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::CommandError;

/// The variables a child inherits from tscpipe's own environment; everything else it sees is
/// declared by the stage (`env`) or set by tscpipe (`TMPDIR`, a managed Python environment's
/// `VIRTUAL_ENV`). None of these enters the cache key: they say where things are, not what
/// they compute (the `env_key` probe is the way to key on an interpreter or a library).
pub const INHERITED: &[&str] = &["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ"];

/// How long a child has between SIGTERM and SIGKILL (short enough that an isolating
/// `run-job`, which itself gets 10 s, still ends it).
const TERM_GRACE: Duration = Duration::from_secs(5);

/// One program to run.
#[derive(Debug, Clone)]
pub struct ChildSpec {
    /// The program and its arguments (no shell).
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// Variables on top of the inherited ones (the stage's `env`, `TMPDIR`, …).
    pub env: BTreeMap<String, String>,
    /// Where stdout and stderr go.
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    pub time_limit: Option<Duration>,
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Exited(i32),
    Signalled(i32),
    /// Stopped at its time limit.
    TimedOut,
    Cancelled,
}

/// The environment a child starts from: the inherited variables that are set, then `extra`.
pub fn environment(extra: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> =
        INHERITED.iter().filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v))).collect();
    env.entry("PATH".into()).or_insert_with(|| "/usr/local/bin:/usr/bin:/bin".into());
    env.entry("LANG".into()).or_insert_with(|| "C.UTF-8".into());
    env.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

/// Runs `spec` to its end, or until `cancel` is set or its time limit passes (then its whole
/// process group gets SIGTERM and, after a grace period, SIGKILL).
pub fn run(spec: &ChildSpec, cancel: &AtomicBool) -> Result<Ended, CommandError> {
    let program = spec.argv.first().ok_or_else(|| CommandError::Child("the command is empty".into()))?;
    let out = File::create(&spec.stdout).map_err(|e| CommandError::io(&spec.stdout, e))?;
    let err = File::create(&spec.stderr).map_err(|e| CommandError::io(&spec.stderr, e))?;
    let mut cmd = Command::new(program);
    cmd.args(&spec.argv[1..])
        .env_clear()
        .envs(&spec.env)
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    let mut child = cmd.spawn().map_err(|source| CommandError::Spawn { program: program.clone(), source })?;
    let pgid = child.id() as libc::pid_t;
    let started = Instant::now();
    let mut stopping: Option<(Instant, Ended)> = None;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| CommandError::io(program, e))? {
            if stopping.is_some() {
                // what it started may outlive it: the whole group goes
                signal_group(pgid, libc::SIGKILL);
            }
            return Ok(match (stopping, status.code(), status.signal()) {
                (Some((_, why)), _, _) => why,
                (None, Some(code), _) => Ended::Exited(code),
                (None, None, Some(sig)) => Ended::Signalled(sig),
                (None, None, None) => Ended::Exited(-1),
            });
        }
        match stopping {
            None => {
                let why = if cancel.load(Ordering::Relaxed) {
                    Some(Ended::Cancelled)
                } else if spec.time_limit.is_some_and(|t| started.elapsed() >= t) {
                    Some(Ended::TimedOut)
                } else {
                    None
                };
                if let Some(why) = why {
                    signal_group(pgid, libc::SIGTERM);
                    stopping = Some((Instant::now(), why));
                }
            }
            Some((at, _)) if at.elapsed() > TERM_GRACE => signal_group(pgid, libc::SIGKILL),
            Some(_) => {}
        }
        std::thread::sleep(poll_interval(started.elapsed()));
    }
}

/// Short first (most commands of a test or a small dataset end in milliseconds), then coarser.
fn poll_interval(elapsed: Duration) -> Duration {
    if elapsed < Duration::from_millis(200) { Duration::from_millis(2) } else { Duration::from_millis(25) }
}

fn signal_group(pgid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: signalling the process group our own child leads; a group already gone gives ESRCH.
    unsafe { libc::kill(-pgid, sig) };
}

/// The last `n` lines of a text file (what a failed command said last).
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Why a command failed, in words, with the end of its stderr.
pub fn describe_failure(ended: Ended, stderr: &Path, time_limit: Option<Duration>) -> String {
    let what = match ended {
        Ended::Exited(code) => format!("exited with status {code}"),
        Ended::Signalled(sig) => format!("was killed by signal {sig} ({})", signal_name(sig)),
        Ended::TimedOut => {
            format!("was stopped at its time limit ({} s)", time_limit.map(|t| t.as_secs()).unwrap_or_default())
        }
        Ended::Cancelled => "was cancelled".to_string(),
    };
    let last = tail(stderr, 12);
    let what = if last.contains("MemoryError") { format!("{what} (it ran out of memory: MemoryError)") } else { what };
    if last.trim().is_empty() {
        format!("the command {what} (its stderr is empty)")
    } else {
        format!("the command {what}; the end of its stderr:\n{last}")
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGKILL => "SIGKILL: killed from outside, often for running out of memory",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGBUS => "SIGBUS",
        _ => "signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dir: &Path, argv: &[&str]) -> ChildSpec {
        ChildSpec {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            cwd: dir.to_path_buf(),
            env: environment(&BTreeMap::from([("ONLY_THIS".to_string(), "1".to_string())])),
            stdout: dir.join("out.txt"),
            stderr: dir.join("err.txt"),
            time_limit: None,
        }
    }

    #[test]
    fn the_child_sees_only_the_declared_environment() {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: the variable is read by the child only; tests do not read it concurrently.
        unsafe { std::env::set_var("TSCPIPE_TEST_LEAK", "x") };
        let s = spec(dir.path(), &["sh", "-c", "env"]);
        assert_eq!(run(&s, &AtomicBool::new(false)).unwrap(), Ended::Exited(0));
        let env = std::fs::read_to_string(&s.stdout).unwrap();
        assert!(env.contains("ONLY_THIS=1") && env.contains("PATH="), "{env}");
        assert!(!env.contains("TSCPIPE_TEST_LEAK"), "{env}");
    }

    #[test]
    fn failures_carry_status_and_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let s = spec(dir.path(), &["sh", "-c", "echo one >&2; echo two >&2; exit 3"]);
        let ended = run(&s, &AtomicBool::new(false)).unwrap();
        assert_eq!(ended, Ended::Exited(3));
        let msg = describe_failure(ended, &s.stderr, None);
        assert!(msg.contains("status 3") && msg.ends_with("one\ntwo"), "{msg}");
        let missing = spec(dir.path(), &["/no/such/program"]);
        assert!(matches!(run(&missing, &AtomicBool::new(false)), Err(CommandError::Spawn { .. })));
    }

    #[test]
    fn a_time_limit_ends_the_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("grandchild.pid");
        let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        let mut s = spec(dir.path(), &["sh", "-c", &script]);
        s.time_limit = Some(Duration::from_millis(300));
        let t = Instant::now();
        assert_eq!(run(&s, &AtomicBool::new(false)).unwrap(), Ended::TimedOut);
        assert!(t.elapsed() < Duration::from_secs(5));
        let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        // SAFETY: signal 0 only asks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "));
        assert!(!alive, "the grandchild {pid} outlived the time limit");
    }

    #[test]
    fn cancelling_stops_it() {
        let dir = tempfile::tempdir().unwrap();
        let s = spec(dir.path(), &["sleep", "30"]);
        let cancel = AtomicBool::new(true);
        assert_eq!(run(&s, &cancel).unwrap(), Ended::Cancelled);
    }
}
