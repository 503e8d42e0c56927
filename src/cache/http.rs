//! The few HTTP/1.1 requests the remote cache makes (`GET`, `HEAD`, `PUT` over plain TCP),
//! written on `std::net`: an HTTP crate would change the features of crates polars and burn
//! share and rebuild them, for three verbs. One connection per request (`Connection: close`),
//! `Content-Length` or chunked bodies, and one deadline per request covering connect, send and
//! receive, so a hung server costs at most the timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// A transport failure: refused, reset, cut short, or past the deadline.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("invalid URL `{0}` (expected http://host[:port][/path])")]
    Url(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("malformed response: {0}")]
    Protocol(String),
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

/// `http://host:port/base` split into what a request needs.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `host:port` to connect to.
    pub addr: String,
    /// The `Host` header.
    pub host: String,
    /// Path prefix without a trailing slash (may be empty).
    pub base: String,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint, HttpError> {
        let rest = url.strip_prefix("http://").ok_or_else(|| HttpError::Url(url.into()))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(HttpError::Url(url.into()));
        }
        let has_port = authority.rsplit_once(':').is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
            && !authority.ends_with(']');
        let addr = if has_port { authority.to_string() } else { format!("{authority}:80") };
        Ok(Endpoint { addr, host: authority.to_string(), base: path.trim_end_matches('/').to_string() })
    }
}

/// Sends one request and reads the whole response before `timeout` has passed.
pub fn request(
    ep: &Endpoint,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
    timeout: Duration,
) -> Result<Response, HttpError> {
    let deadline = Instant::now() + timeout;
    let left = || deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero());
    let mut last_err = None;
    let mut stream = None;
    for a in ep.addr.to_socket_addrs()? {
        let Some(t) = left() else { return Err(HttpError::Timeout(timeout)) };
        match TcpStream::connect_timeout(&a, t) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last_err = Some(e),
        }
    }
    let mut stream = match (stream, last_err) {
        (Some(s), _) => s,
        (None, Some(e)) => return Err(e.into()),
        (None, None) => return Err(HttpError::Url(ep.addr.clone())),
    };
    let _ = stream.set_nodelay(true);
    let set_timeouts = |s: &TcpStream| -> Result<(), HttpError> {
        let t = left().ok_or(HttpError::Timeout(timeout))?;
        s.set_read_timeout(Some(t))?;
        s.set_write_timeout(Some(t))?;
        Ok(())
    };
    set_timeouts(&stream)?;
    let mut head = format!(
        "{method} {}/{path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: tscpipe/{}\r\nConnection: close\r\n",
        ep.base,
        ep.host,
        env!("CARGO_PKG_VERSION")
    );
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(b) = body {
        head.push_str(&format!("Content-Length: {}\r\nContent-Type: application/octet-stream\r\n", b.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).map_err(|e| timeout_or(e, timeout))?;
    if let Some(b) = body {
        for chunk in b.chunks(1 << 16) {
            set_timeouts(&stream)?;
            stream.write_all(chunk).map_err(|e| timeout_or(e, timeout))?;
        }
    }
    stream.flush()?;
    set_timeouts(&stream)?;
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    read_line(&mut r, &mut line, timeout)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| HttpError::Protocol(format!("status line `{}`", line.trim())))?;
    let mut length: Option<u64> = None;
    let mut chunked = false;
    loop {
        line.clear();
        read_line(&mut r, &mut line, timeout)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "content-length" {
                length = Some(v.parse().map_err(|_| HttpError::Protocol(format!("Content-Length `{v}`")))?);
            } else if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    if method == "HEAD" || status == 204 || status == 304 || (100..200).contains(&status) {
        return Ok(Response { status, body });
    }
    let mut buf = vec![0u8; 1 << 16];
    if chunked {
        loop {
            line.clear();
            read_line(&mut r, &mut line, timeout)?;
            let size = u64::from_str_radix(line.trim().split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| HttpError::Protocol(format!("chunk size `{}`", line.trim())))?;
            if size == 0 {
                break;
            }
            read_exact_n(&mut r, size, &mut body, &mut buf, deadline, timeout)?;
            line.clear();
            read_line(&mut r, &mut line, timeout)?;
        }
    } else if let Some(n) = length {
        read_exact_n(&mut r, n, &mut body, &mut buf, deadline, timeout)?;
    } else {
        loop {
            if Instant::now() > deadline {
                return Err(HttpError::Timeout(timeout));
            }
            let k = r.read(&mut buf).map_err(|e| timeout_or(e, timeout))?;
            if k == 0 {
                break;
            }
            body.extend_from_slice(&buf[..k]);
        }
    }
    Ok(Response { status, body })
}

fn timeout_or(e: std::io::Error, timeout: Duration) -> HttpError {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => HttpError::Timeout(timeout),
        _ => HttpError::Io(e),
    }
}

fn read_line(r: &mut impl BufRead, line: &mut String, timeout: Duration) -> Result<(), HttpError> {
    let n = r.read_line(line).map_err(|e| timeout_or(e, timeout))?;
    if n == 0 {
        return Err(HttpError::Protocol("connection closed before the response was complete".into()));
    }
    Ok(())
}

fn read_exact_n(
    r: &mut impl Read,
    mut n: u64,
    out: &mut Vec<u8>,
    buf: &mut [u8],
    deadline: Instant,
    timeout: Duration,
) -> Result<(), HttpError> {
    while n > 0 {
        if Instant::now() > deadline {
            return Err(HttpError::Timeout(timeout));
        }
        let want = buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
        let k = r.read(&mut buf[..want]).map_err(|e| timeout_or(e, timeout))?;
        if k == 0 {
            return Err(HttpError::Protocol(format!("body cut short ({n} bytes missing)")));
        }
        out.extend_from_slice(&buf[..k]);
        n -= k as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn urls_split_into_address_host_and_base() {
        let e = Endpoint::parse("http://cache.lab:8080/tscpipe/").unwrap();
        assert_eq!(
            (e.addr.as_str(), e.host.as_str(), e.base.as_str()),
            ("cache.lab:8080", "cache.lab:8080", "/tscpipe")
        );
        let e = Endpoint::parse("http://cache.lab").unwrap();
        assert_eq!((e.addr.as_str(), e.base.as_str()), ("cache.lab:80", ""));
        assert!(Endpoint::parse("https://x/").is_err());
    }

    /// Serves one canned response and returns what the client sent.
    fn serve_once(response: &'static [u8]) -> (Endpoint, std::thread::JoinHandle<Vec<u8>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let ep = Endpoint::parse(&format!("http://{}/base", l.local_addr().unwrap())).unwrap();
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
        (ep, h)
    }

    #[test]
    fn chunked_bodies_are_joined_and_put_sends_length_and_token() {
        let (ep, h) =
            serve_once(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        let r = request(&ep, "GET", "cas/x", Some("tok"), None, Duration::from_secs(5)).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello world"[..]));
        let sent = String::from_utf8(h.join().unwrap()).unwrap();
        assert!(sent.starts_with("GET /base/cas/x HTTP/1.1\r\n"), "{sent}");
        assert!(sent.contains("Authorization: Bearer tok\r\n"), "{sent}");

        let (ep, h) = serve_once(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
        let r = request(&ep, "PUT", "ac/k", None, Some(b"payload"), Duration::from_secs(5)).unwrap();
        assert!(r.is_success());
        let sent = String::from_utf8(h.join().unwrap()).unwrap();
        assert!(sent.contains("Content-Length: 7\r\n") && sent.ends_with("payload"), "{sent}");
    }

    #[test]
    fn a_body_cut_short_is_an_error_not_a_short_blob() {
        let (ep, h) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
        let e = request(&ep, "GET", "cas/x", None, None, Duration::from_secs(5)).unwrap_err();
        assert!(e.to_string().contains("cut short"), "{e}");
        h.join().unwrap();
    }
}
