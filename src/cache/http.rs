//! The few requests the remote cache makes (`GET`, `HEAD`, `PUT`), over `http://` or `https://`,
//! through ureq with rustls (ring, Mozilla's root certificates, or the CA file a lab names for
//! its self-signed server). One deadline per request covers connect, TLS, send and receive, so a
//! hung server costs at most the timeout. A bearer token is never sent in clear text to a host
//! other than this machine.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ureq::Agent;
use ureq::tls::{PemItem, RootCerts, TlsConfig};

/// Why a request (or setting up the client) failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("invalid URL `{0}` (expected http://host[:port][/path] or https://…)")]
    Url(String),
    #[error(
        "refusing to send the remote cache token in clear text to `{0}`: use an https:// URL (a host on \
         this machine may use http://)"
    )]
    PlainToken(String),
    #[error("CA file {path}: {source}")]
    CaRead { path: PathBuf, source: std::io::Error },
    #[error("CA file {path}: {source}")]
    CaParse { path: PathBuf, source: ureq::Error },
    #[error("CA file {0}: no PEM certificate in it")]
    CaEmpty(PathBuf),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// Refused, reset, unknown host, or a TLS handshake/certificate failure.
    #[error("{0}")]
    Connect(#[source] ureq::Error),
    /// The server answered, but not with a well-formed HTTP response (or cut it short).
    #[error("malformed response: {0}")]
    Protocol(#[source] ureq::Error),
}

impl HttpError {
    /// Whether the remote should be treated as down (as opposed to a bad answer).
    pub fn is_transport(&self) -> bool {
        matches!(self, HttpError::Timeout(_) | HttpError::Connect(_))
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A checked remote URL: `http[s]://host[:port][/base]` without a trailing slash.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The base URL requests are made under.
    pub base: String,
    pub https: bool,
    /// The host as written (no port, IPv6 brackets kept).
    pub host: String,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint, HttpError> {
        let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(HttpError::Url(url.into()));
        };
        let authority = rest.split('/').next().unwrap_or("");
        if authority.is_empty() || authority.contains('@') || authority.contains(char::is_whitespace) {
            return Err(HttpError::Url(url.into()));
        }
        let host = match authority.rfind(':') {
            Some(i) if !authority[i..].contains(']') => &authority[..i],
            _ => authority,
        };
        if host.is_empty() {
            return Err(HttpError::Url(url.into()));
        }
        Ok(Endpoint { base: url.trim_end_matches('/').to_string(), https, host: host.to_string() })
    }

    /// `localhost`, `127.0.0.0/8` or `[::1]`: traffic that never leaves the machine.
    pub fn is_loopback(&self) -> bool {
        let h = self.host.trim_start_matches('[').trim_end_matches(']');
        h.eq_ignore_ascii_case("localhost") || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

/// One remote: its URL, token and connection settings (an agent reuses connections).
pub struct Client {
    endpoint: Endpoint,
    token: Option<String>,
    timeout: Duration,
    agent: Agent,
}

impl Client {
    /// `ca_file`: PEM certificates to trust instead of Mozilla's roots (a lab's own CA).
    pub fn new(
        url: &str,
        token: Option<String>,
        ca_file: Option<&Path>,
        timeout: Duration,
    ) -> Result<Client, HttpError> {
        let endpoint = Endpoint::parse(url)?;
        if token.is_some() && !endpoint.https && !endpoint.is_loopback() {
            return Err(HttpError::PlainToken(endpoint.base));
        }
        let mut tls = TlsConfig::builder();
        if let Some(path) = ca_file {
            tls = tls.root_certs(read_ca_file(path)?);
        }
        let agent = Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent(concat!("tscpipe/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            .build()
            .new_agent();
        Ok(Client { endpoint, token, timeout, agent })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Sends one request (`path` relative to the base) and reads the whole response before the
    /// timeout has passed.
    pub fn request(&self, method: &str, path: &str, body: Option<&[u8]>) -> Result<Response, HttpError> {
        let url = format!("{}/{path}", self.endpoint.base);
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let result = match (method, body) {
            ("PUT", b) => {
                let mut r = self.agent.put(&url).header("Content-Type", "application/octet-stream");
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.send(b.unwrap_or(&[]))
            }
            ("HEAD", _) => {
                let mut r = self.agent.head(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            _ => {
                let mut r = self.agent.get(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
        };
        let mut resp = result.map_err(|e| self.classify(e))?;
        let status = resp.status().as_u16();
        if method == "HEAD" {
            return Ok(Response { status, body: Vec::new() });
        }
        let body = resp.body_mut().with_config().limit(u64::MAX).read_to_vec().map_err(|e| self.classify(e))?;
        Ok(Response { status, body })
    }

    fn classify(&self, e: ureq::Error) -> HttpError {
        use ureq::Error as E;
        match e {
            E::Timeout(_) => HttpError::Timeout(self.timeout),
            E::Io(ref io) if matches!(io.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => {
                HttpError::Timeout(self.timeout)
            }
            E::Io(ref io) if io.kind() == std::io::ErrorKind::UnexpectedEof => HttpError::Protocol(e),
            E::Io(_)
            | E::HostNotFound
            | E::ConnectionFailed
            | E::Tls(_)
            | E::Rustls(_)
            | E::TlsRequired
            | E::BodyStalled => HttpError::Connect(e),
            other => HttpError::Protocol(other),
        }
    }
}

fn read_ca_file(path: &Path) -> Result<RootCerts, HttpError> {
    let pem = std::fs::read(path).map_err(|source| HttpError::CaRead { path: path.to_path_buf(), source })?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(source) => return Err(HttpError::CaParse { path: path.to_path_buf(), source }),
        }
    }
    if certs.is_empty() {
        return Err(HttpError::CaEmpty(path.to_path_buf()));
    }
    Ok(RootCerts::new_with_certs(&certs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn urls_are_checked_and_loopback_is_recognised() {
        let e = Endpoint::parse("http://cache.lab:8080/tscpipe/").unwrap();
        assert_eq!((e.base.as_str(), e.host.as_str(), e.https), ("http://cache.lab:8080/tscpipe", "cache.lab", false));
        let e = Endpoint::parse("https://[::1]:8443").unwrap();
        assert!(e.https && e.is_loopback(), "{e:?}");
        assert!(Endpoint::parse("http://127.0.0.9/x").unwrap().is_loopback());
        assert!(Endpoint::parse("http://LOCALHOST:1/").unwrap().is_loopback());
        assert!(!Endpoint::parse("http://cache.lab/").unwrap().is_loopback());
        for bad in ["ftp://x/", "http://", "http://user@x/", "cache.lab"] {
            assert!(matches!(Endpoint::parse(bad), Err(HttpError::Url(_))), "{bad}");
        }
    }

    #[test]
    fn a_token_is_never_sent_in_clear_text_off_this_machine() {
        let t = || Some("s3cret".to_string());
        let e = Client::new("http://cache.lab/", t(), None, Duration::from_secs(1)).err().unwrap();
        assert!(matches!(e, HttpError::PlainToken(_)) && e.to_string().contains("https://"), "{e}");
        assert!(Client::new("https://cache.lab/", t(), None, Duration::from_secs(1)).is_ok());
        assert!(Client::new("http://127.0.0.1:9/", t(), None, Duration::from_secs(1)).is_ok());
        assert!(Client::new("http://cache.lab/", None, None, Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn a_ca_file_without_certificates_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ca.pem");
        std::fs::write(&p, "not a certificate\n").unwrap();
        let e = Client::new("https://x/", None, Some(&p), Duration::from_secs(1)).err().unwrap();
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
        let e = Client::new("https://x/", None, Some(&dir.path().join("missing.pem")), Duration::from_secs(1));
        assert!(matches!(e, Err(HttpError::CaRead { .. })));
    }

    /// Serves one canned response and returns what the client sent.
    fn serve_once(response: &'static [u8]) -> (String, std::thread::JoinHandle<Vec<u8>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/base", l.local_addr().unwrap());
        let h = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            c.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = c.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                if got.windows(4).any(|w| w == b"\r\n\r\n") && !got.starts_with(b"PUT") {
                    break;
                }
            }
            c.write_all(response).unwrap();
            got
        });
        (url, h)
    }

    #[test]
    fn chunked_bodies_are_joined_and_put_sends_length_and_token() {
        let (url, h) =
            serve_once(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        let c = Client::new(&url, Some("tok".into()), None, Duration::from_secs(5)).unwrap();
        let r = c.request("GET", "cas/x", None).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello world"[..]));
        let sent = String::from_utf8(h.join().unwrap()).unwrap().to_ascii_lowercase();
        assert!(sent.starts_with("get /base/cas/x http/1.1\r\n"), "{sent}");
        assert!(sent.contains("authorization: bearer tok\r\n"), "{sent}");

        let (url, h) = serve_once(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
        let c = Client::new(&url, None, None, Duration::from_secs(5)).unwrap();
        let r = c.request("PUT", "ac/k", Some(b"payload")).unwrap();
        assert!(r.is_success());
        let sent = String::from_utf8(h.join().unwrap()).unwrap();
        assert!(sent.to_ascii_lowercase().contains("content-length: 7\r\n") && sent.ends_with("payload"), "{sent}");
    }

    #[test]
    fn a_body_cut_short_is_an_error_not_a_short_blob() {
        let (url, h) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
        let c = Client::new(&url, None, None, Duration::from_secs(5)).unwrap();
        let e = c.request("GET", "cas/x", None).unwrap_err();
        assert!(!matches!(e, HttpError::Timeout(_)), "{e}");
        h.join().unwrap();
    }

    #[test]
    fn statuses_are_answers_not_errors() {
        let (url, h) = serve_once(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        let c = Client::new(&url, None, None, Duration::from_secs(5)).unwrap();
        assert_eq!(c.request("GET", "ac/missing", None).unwrap().status, 404);
        h.join().unwrap();
    }
}
