//! The remote cache against a real HTTP server: Debian's nginx with WebDAV `PUT`, started by the
//! test on a free port over a temporary folder. Plus remotes that are down or hang, which need
//! no server.
//!
//! The nginx tests run when `nginx` is installed, and must run when `TSCPIPE_TEST_NGINX=1` (set
//! by `.ci/run`): then a missing nginx fails them instead of skipping.

/// Straight to stderr: the test harness captures `eprintln!` of passing tests, and a skip must
/// be seen.
fn skipped(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::common::{Project, SMALL, published, ran};
use tscpipe::app::{self, RunOutput};
use tscpipe::exec::events::{CollectSink, Event, EventSink};
use tscpipe::exec::scheduler::RunOptions;
use tscpipe::settings::Settings;
use tscpipe::stages::Registry;

struct Nginx {
    child: Child,
    dir: tempfile::TempDir,
    url: String,
}

impl Nginx {
    /// `None` (with a "skipped" line) when nginx is not installed and not required.
    fn start(test: &str) -> Option<Nginx> {
        Nginx::start_with(test, None)
    }

    /// Serves over TLS with a certificate signed by a CA made here; returns the CA's PEM file too.
    fn start_tls(test: &str) -> Option<(Nginx, PathBuf)> {
        let certs = tempfile::tempdir().expect("tempdir");
        let ca = make_certificates(certs.path());
        let n = Nginx::start_with(test, Some(certs.path()))?;
        let kept = n.dir.path().join("ca.pem");
        std::fs::copy(ca, &kept).expect("keep CA");
        Some((n, kept))
    }

    fn start_with(test: &str, tls: Option<&Path>) -> Option<Nginx> {
        let required = std::env::var("TSCPIPE_TEST_NGINX").is_ok_and(|v| v == "1");
        let bin = ["/usr/sbin/nginx", "/usr/bin/nginx"].into_iter().map(PathBuf::from).find(|p| p.exists());
        let Some(bin) = bin else {
            assert!(!required, "TSCPIPE_TEST_NGINX=1 but nginx is not installed (apt-get install nginx-light)");
            skipped(&format!(
                "skipped: {test}: nginx is not installed (apt-get install nginx-light; TSCPIPE_TEST_NGINX=1 requires it)"
            ));
            return None;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("data");
        std::fs::create_dir_all(&root).expect("mkdir");
        let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let d = dir.path().display();
        let (scheme, listen) = match tls {
            Some(c) => (
                "https",
                format!(
                    "listen 127.0.0.1:{port} ssl;\n    ssl_certificate {c}/server.pem;\n    \
                     ssl_certificate_key {c}/server.key;",
                    c = c.display()
                ),
            ),
            None => ("http", format!("listen 127.0.0.1:{port};")),
        };
        let conf = format!(
            "user root;\nworker_processes 1;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n\
               server {{\n    {listen}\n    root {d}/data;\n\
                 location / {{\n      dav_methods PUT DELETE;\n      create_full_put_path on;\n\
                   client_max_body_size 0;\n      dav_access user:rw group:r all:r;\n    }}\n  }}\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).expect("write conf");
        let child = Command::new(bin)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start nginx");
        let n = Nginx { child, url: format!("{scheme}://127.0.0.1:{port}/tscpipe"), dir };
        let t0 = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t0.elapsed() < Duration::from_secs(10), "nginx did not start: {}", n.error_log());
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(n)
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// Where the server keeps what was PUT under `rel` (e.g. `cas/<digest>`).
    fn file(&self, rel: &str) -> PathBuf {
        self.dir.path().join("data").join("tscpipe").join(rel)
    }

    /// SIGTERM: the master stops its workers too (SIGKILL would leave them serving).
    fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: signalling our own child process.
            unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
            let _ = self.child.wait();
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A CA and a server certificate for `localhost` signed by it (openssl, as a lab would make
/// them); returns the CA's PEM file. nginx reads `server.pem`/`server.key` from `dir`.
fn make_certificates(dir: &Path) -> PathBuf {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=tscpipe test CA"],
        ]
        .concat(),
    );
    openssl(&[&["req"][..], &ec, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]].concat());
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
        .expect("write ext");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    dir.join("ca.pem")
}

fn with_remote(url: &str, extra: &str) -> String {
    format!("{SMALL}\n[cache]\nremote = \"{url}\"\n{extra}")
}

fn run_collect(p: &Project, file: &Path) -> (RunOutput, Vec<Event>) {
    let (out, events) = p.try_run(file).expect("run");
    assert!(out.summary.ok(), "run failed: {:?}", out.summary.results);
    (out, events)
}

#[test]
fn a_fresh_machine_restores_everything_from_nginx_and_recomputes_nothing() {
    let Some(nginx) = Nginx::start("a_fresh_machine_restores_everything") else { return };
    let a = Project::new();
    let file = a.write("small.toml", &with_remote(&nginx.url, ""));
    let (first, _) = run_collect(&a, &file);
    assert_eq!(ran(&first).len(), 7);
    let stats = first.remote.clone().expect("remote stats");
    assert_eq!(stats.entries_uploaded, 7, "{stats:?}\n{}", nginx.error_log());
    assert!(!stats.down);
    // Bazel's layout on the server: manifests under ac/, blobs under cas/.
    for r in &first.summary.results {
        let m = r.manifest.as_ref().expect("manifest");
        assert!(nginx.file(&format!("ac/{}", m.key)).is_file(), "{} not uploaded", r.id);
        for o in m.outputs.values() {
            assert!(nginx.file(&format!("cas/{}", o.digest)).is_file());
        }
    }

    // Machine B: another folder, an empty cache.
    let b = Project::new();
    let file_b = b.write("small.toml", &with_remote(&nginx.url, ""));
    let (second, _) = run_collect(&b, &file_b);
    assert!(ran(&second).is_empty(), "B recomputed {:?}", ran(&second));
    assert_eq!(second.summary.cached(), 7);
    assert_eq!(second.remote.as_ref().expect("stats").entries_fetched, 7);
    assert_eq!(published(&first, "results.csv"), published(&second, "results.csv"));
    // And now B's local cache alone serves a third run.
    let (third, _) = run_collect(&b, &file_b);
    assert_eq!(third.remote.as_ref().expect("stats").entries_fetched, 0);
    assert!(ran(&third).is_empty());
}

#[test]
fn a_poisoned_or_truncated_blob_on_the_server_is_rejected_and_recomputed() {
    let Some(nginx) = Nginx::start("a_poisoned_or_truncated_blob") else { return };
    let a = Project::new();
    let file = a.write("small.toml", &with_remote(&nginx.url, ""));
    let (first, _) = run_collect(&a, &file);
    let digest_of = |out: &RunOutput, id_prefix: &str| -> String {
        let r = out.summary.results.iter().find(|r| r.id.starts_with(id_prefix)).expect("instance");
        r.manifest.as_ref().expect("manifest").outputs.values().next().expect("output").digest.clone()
    };
    // Poison the table's output (same length, one byte changed) and truncate an nn prediction.
    let poisoned = digest_of(&first, "table");
    let blob = nginx.file(&format!("cas/{poisoned}"));
    let mut bytes = std::fs::read(&blob).expect("read blob");
    bytes[0] ^= 0x20;
    std::fs::write(&blob, &bytes).expect("poison");
    let nn: Vec<&str> =
        first.summary.results.iter().filter(|r| r.id.starts_with("nn")).map(|r| r.id.as_str()).collect();
    let truncated_id = nn[0].to_string();
    let truncated = digest_of(&first, &truncated_id);
    let tblob = nginx.file(&format!("cas/{truncated}"));
    let len = std::fs::metadata(&tblob).expect("meta").len();
    std::fs::OpenOptions::new().write(true).open(&tblob).expect("open").set_len(len / 2).expect("truncate");

    let b = Project::new();
    let file_b = b.write("small.toml", &with_remote(&nginx.url, ""));
    let (second, events) = run_collect(&b, &file_b);
    let mut reran = ran(&second);
    reran.sort();
    let mut expected = vec!["table".to_string(), truncated_id.clone()];
    expected.sort();
    assert_eq!(reran, expected, "exactly the two damaged entries recompute");
    let rejected: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Corrupt { reason, .. } if reason.contains("rejected") => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(rejected.len(), 2, "both reported: {events:?}");
    assert_eq!(second.remote.as_ref().expect("stats").rejected, 2);
    // Nothing damaged was kept, and the results are the true ones.
    assert_eq!(published(&first, "results.csv"), published(&second, "results.csv"));
    // The recomputed entries were uploaded again and repaired the server's copies.
    for (d, path) in [(&poisoned, &blob), (&truncated, &tblob)] {
        let now = std::fs::read(path).expect("server blob");
        assert_eq!(&blake3::hash(&now).to_hex().to_string(), d, "server copy repaired");
    }
}

/// Stops the server when the first stage finishes.
struct StopAfterFirst<'a> {
    nginx: Mutex<&'a mut Nginx>,
    inner: CollectSink,
}

impl EventSink for StopAfterFirst<'_> {
    fn emit(&self, e: &Event) {
        if matches!(e, Event::Finished { .. })
            && let Ok(mut n) = self.nginx.lock()
        {
            n.stop();
        }
        self.inner.emit(e);
    }
}

#[test]
fn the_server_stopping_mid_run_degrades_to_local_only() {
    let Some(mut nginx) = Nginx::start("the_server_stopping_mid_run") else { return };
    let p = Project::new();
    let file = p.write("small.toml", &with_remote(&nginx.url, "timeout = 2\n"));
    let sink = StopAfterFirst { nginx: Mutex::new(&mut nginx), inner: CollectSink::default() };
    let out =
        app::run(&file, &p.options(), &RunOptions::default(), &Registry::builtin(), &sink, &AtomicBool::new(false))
            .expect("run");
    assert!(out.summary.ok(), "{:?}", out.summary.results);
    assert_eq!(ran(&out).len(), 7);
    let stats = out.remote.expect("stats");
    assert!(stats.down, "the remote was noticed down: {stats:?}");
    assert!(stats.entries_uploaded < 7);
}

/// A server that accepts connections and never answers (a hung remote), recording requests.
fn hanging_server() -> (String, std::sync::Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in l.incoming().flatten() {
            let mut c = c;
            let _ = c.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 4096];
            let n = c.read(&mut buf).unwrap_or(0);
            if let Ok(mut v) = s.lock() {
                v.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
            held.push(c); // never answered
        }
    });
    (url, seen)
}

#[test]
fn a_hanging_remote_times_out_once_and_the_run_goes_on_locally_with_the_token_sent() {
    let (url, seen) = hanging_server();
    let p = Project::new();
    let file = p.write("small.toml", &with_remote(&url, "timeout = 1\ntoken_env = \"TSCPIPE_TEST_TOKEN_HANG\"\n"));
    let t0 = Instant::now();
    // Through the command line, so the token travels the way users give it: the environment.
    let out = Command::new(env!("CARGO_BIN_EXE_tscpipe"))
        .arg("run")
        .arg(&file)
        .arg("--cache-dir")
        .arg(p.cache_dir())
        .arg("--results-dir")
        .arg(p.path("results"))
        .env("TSCPIPE_TEST_TOKEN_HANG", "s3cret-token")
        .env("CI", "1")
        .output()
        .expect("run tscpipe");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("7 ran"), "{stdout}");
    assert!(stdout.contains("used the local cache only"), "{stdout}");
    assert!(stderr.contains("unreachable or too slow"), "{stderr}");
    assert!(t0.elapsed() < Duration::from_secs(30), "one timeout, not one per stage: {:?}", t0.elapsed());
    let seen = seen.lock().expect("seen").clone();
    assert_eq!(seen.len(), 1, "after the first timeout the remote is left alone: {seen:?}");
    assert!(seen[0].to_ascii_lowercase().contains("authorization: bearer s3cret-token"), "{}", seen[0]);
}

#[test]
fn a_remote_refusing_connections_changes_nothing_but_a_warning() {
    let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let p = Project::new();
    let file = p.write("small.toml", &with_remote(&format!("http://127.0.0.1:{port}"), ""));
    let (out, events) = run_collect(&p, &file);
    assert_eq!(ran(&out).len(), 7);
    assert!(out.remote.expect("stats").down);
    // The warning reaches the run's event sink (once), not a bare stderr line.
    let warnings: Vec<&String> =
        events.iter().filter_map(|e| if let Event::Warning { message } = e { Some(message) } else { None }).collect();
    assert_eq!(warnings.len(), 1, "{events:?}");
    assert!(warnings[0].contains("unreachable or too slow"), "{}", warnings[0]);

    // With `--json` it is a JSON event on stdout like the others.
    let q = Project::new();
    let file = q.write("small.toml", &with_remote(&format!("http://127.0.0.1:{port}"), ""));
    let out = Command::new(env!("CARGO_BIN_EXE_tscpipe"))
        .args(["run", "--json"])
        .arg(&file)
        .arg("--cache-dir")
        .arg(q.cache_dir())
        .arg("--results-dir")
        .arg(q.path("results"))
        .output()
        .expect("run tscpipe");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let warning = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("event").and_then(|e| e.as_str()) == Some("warning"));
    assert!(warning.is_some_and(|w| w["message"].as_str().is_some_and(|m| m.contains("unreachable"))), "{stdout}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning:"), "a stray stderr warning");
}

#[test]
fn a_token_in_the_pipeline_file_is_refused_before_anything_runs() {
    let p = Project::new();
    let file = p.write("small.toml", &with_remote("http://127.0.0.1:1", "token = \"abc\"\n"));
    let err = p.try_run(&file).err().expect("refused").to_string();
    assert!(err.contains("token_env"), "{err}");
}

#[test]
fn cache_push_and_pull_move_a_whole_pipeline() {
    let Some(nginx) = Nginx::start("cache_push_and_pull") else { return };
    // A runs without a remote, then pushes explicitly (the CI recipe's last step).
    let a = Project::new();
    let file = a.write("small.toml", SMALL);
    a.run(&file);
    let mut s = Settings::default();
    s.cache.remote = Some(nginx.url.clone());
    let cache = app::open_cache(&a.cache_dir(), &s.cache).expect("cache");
    let pushed = app::cache_push(&cache).expect("push");
    assert_eq!((pushed.uploaded, pushed.failed), (7, 0));
    assert_eq!(app::cache_push(&cache).expect("push again").present, 7);

    // B pulls (the CI recipe's first step), then runs with no remote at all: nothing runs.
    let b = Project::new();
    let file_b = b.write("small.toml", SMALL);
    let cache_b = app::open_cache(&b.cache_dir(), &s.cache).expect("cache");
    let (pipeline, _) = app::load_with_settings(&file_b, &b.options(), &Registry::builtin()).expect("load");
    let pulled =
        app::cache_pull(&pipeline, &b.options(), &cache_b, &Registry::builtin(), &tscpipe::device::Device::Cpu)
            .expect("pull");
    assert_eq!((pulled.fetched, pulled.local, pulled.missing), (7, 0, 0));
    let out = b.run(&file_b);
    assert!(ran(&out).is_empty(), "{:?}", ran(&out));
}

/// Counts files under a folder (to prove a dry run wrote nothing).
fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map_or(0, |rd| rd.flatten().map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 }).sum())
}

#[test]
fn status_reports_what_a_run_would_fetch_from_the_remote_and_downloads_nothing() {
    let Some(nginx) = Nginx::start("status_reports_remote_entries") else { return };
    let a = Project::new();
    run_collect(&a, &a.write("small.toml", &with_remote(&nginx.url, "")));

    // B has an empty cache and the same pipeline with a remote: every instance is on the remote
    // (downstream ones too: their keys follow from the remote manifests), nothing to run.
    let b = Project::new();
    let file_b = b.write("small.toml", &with_remote(&nginx.url, ""));
    let registry = Registry::builtin();
    let (pipeline, settings) = app::load_with_settings(&file_b, &b.options(), &registry).expect("load");
    let cache = app::open_cache(&b.cache_dir(), &settings.cache).expect("cache");
    let before = files_under(&b.cache_dir());
    let rows = b.options().status_in(&pipeline, &registry, &cache, &tscpipe::device::Device::Cpu);
    assert_eq!(rows.len(), 7);
    assert!(rows.iter().all(|r| r.status == tscpipe::exec::Status::Remote), "{rows:?}");
    assert_eq!(files_under(&b.cache_dir()), before, "status wrote into the cache");

    // The command line says so, and `--remote` works without the `[cache]` table.
    let plain = b.write("plain.toml", SMALL);
    let out = Command::new(env!("CARGO_BIN_EXE_tscpipe"))
        .args(["status", plain.to_str().expect("path"), "--remote", &nginx.url, "--cache-dir"])
        .arg(b.cache_dir())
        .output()
        .expect("tscpipe status");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("7 stage instances: 0 cached, 7 on the remote cache, 0 to run"), "{text}");
    let load: Vec<&str> =
        text.lines().find(|l| l.starts_with("load ")).unwrap_or_default().split_whitespace().collect();
    assert_eq!(load, ["load", "-", "2", "-", "-"], "both loads are on the remote: {text}");
    assert!(text.contains("`run` fetches it instead of running it"), "{text}");

    // Then the run fetches exactly those and runs nothing.
    let (out, _) = run_collect(&b, &file_b);
    assert!(ran(&out).is_empty(), "{:?}", ran(&out));
}

#[test]
fn https_with_a_lab_ca_restores_everything_and_an_unknown_ca_is_refused() {
    let Some((nginx, ca)) = Nginx::start_tls("https_with_a_lab_ca") else { return };
    assert!(nginx.url.starts_with("https://"));
    let a = Project::new();
    let cfg = format!("ca_file = \"{}\"\n", ca.display());
    let file = a.write("small.toml", &with_remote(&nginx.url, &cfg));
    let (first, _) = run_collect(&a, &file);
    let stats = first.remote.clone().expect("remote stats");
    assert_eq!(stats.entries_uploaded, 7, "{stats:?}\n{}", nginx.error_log());
    let b = Project::new();
    let file_b = b.write("small.toml", &with_remote(&nginx.url, &cfg));
    let (second, _) = run_collect(&b, &file_b);
    assert!(ran(&second).is_empty(), "B recomputed {:?}", ran(&second));

    // Without the lab's CA, Mozilla's roots do not vouch for the server: the remote is down
    // (one warning) and the run computes locally.
    let c = Project::new();
    let file_c = c.write("small.toml", &with_remote(&nginx.url, ""));
    let (third, _) = run_collect(&c, &file_c);
    assert_eq!(ran(&third).len(), 7);
    let stats = third.remote.clone().expect("remote stats");
    assert!(stats.down, "{stats:?}");
}

#[test]
fn a_token_is_refused_over_plain_http_to_another_host() {
    let p = Project::new();
    let file = p.write(
        "small.toml",
        &with_remote("http://cache.example.org/tscpipe", "token_env = \"TSCPIPE_TEST_TOKEN_SET\"\n"),
    );
    // SAFETY: set before the run reads it; no other test reads this variable.
    unsafe { std::env::set_var("TSCPIPE_TEST_TOKEN_SET", "s3cret") };
    let err = p.try_run(&file).err().expect("refused").to_string();
    assert!(err.contains("clear text") && err.contains("https://"), "{err}");
}
