//! A scripted HTTP/1.1 server on 127.0.0.1 for client tests.
//!
//! Each request received takes the next [`Step`] of the script and is recorded, so a
//! test can assert exactly what the client sent and how many times.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use keboola_api::StackUrl;

/// What the server does with one request.
pub enum Step {
    /// Write these bytes as the response; the connection stays open for more requests.
    Respond(Vec<u8>),
    /// Close the connection without answering.
    Close,
    /// Never answer; keep the connection open until the client gives up.
    Hang,
    /// Send these bytes (typically headers promising a body), then hang.
    SendThenHang(Vec<u8>),
    /// Send these bytes, then close the connection (a truncated response).
    SendThenClose(Vec<u8>),
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query exactly as sent on the request line.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }

    /// Everything the client sent, for "the secret never appears here" checks.
    pub fn raw_text(&self) -> String {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        format!(
            "{} {}\n{}\n{}",
            self.method,
            self.target,
            headers.join("\n"),
            String::from_utf8_lossy(&self.body)
        )
    }
}

type Log = Arc<(Mutex<Vec<Recorded>>, Condvar)>;

pub struct Server {
    port: u16,
    log: Log,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn start(steps: Vec<Step>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let log: Log = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(steps)));
        let stop = Arc::new(AtomicBool::new(false));
        let (log2, stop2) = (log.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (log, script) = (log2.clone(), script.clone());
                thread::spawn(move || serve_connection(stream, &log, &script));
            }
        });
        Server { port, log, stop }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn stack(&self) -> StackUrl {
        StackUrl::parse(&self.url()).unwrap()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.0.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests were recorded (the client may return before
    /// the server thread has logged a request it is hanging on), then returns all.
    pub fn wait_for_requests(&self, n: usize) -> Vec<Recorded> {
        let (lock, cvar) = &*self.log;
        let guard = lock.lock().unwrap();
        let (guard, result) = cvar
            .wait_timeout_while(guard, Duration::from_secs(10), |log| log.len() < n)
            .unwrap();
        assert!(
            !result.timed_out(),
            "expected {n} requests, got {}",
            guard.len()
        );
        guard.clone()
    }

    /// The single request received; fails if there were more or fewer.
    pub fn only_request(&self) -> Recorded {
        let requests = self.wait_for_requests(1);
        assert_eq!(requests.len(), 1, "{requests:#?}");
        requests.into_iter().next().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so the thread ends.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve_connection(stream: TcpStream, log: &Log, script: &Mutex<VecDeque<Step>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        {
            let (lock, cvar) = &**log;
            lock.lock().unwrap().push(request);
            cvar.notify_all();
        }
        let step = script.lock().unwrap().pop_front().unwrap_or_else(|| {
            Step::Respond(response(
                599,
                &[],
                r#"{"error":"the test script has no more steps"}"#,
            ))
        });
        match step {
            Step::Respond(bytes) => {
                if writer.write_all(&bytes).is_err() {
                    return;
                }
            }
            Step::Close => {
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            Step::Hang => {
                hang_until_client_leaves(&mut reader);
                return;
            }
            Step::SendThenHang(bytes) => {
                let _ = writer.write_all(&bytes);
                hang_until_client_leaves(&mut reader);
                return;
            }
            Step::SendThenClose(bytes) => {
                let _ = writer.write_all(&bytes);
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
        }
    }
}

fn hang_until_client_leaves(reader: &mut BufReader<TcpStream>) {
    let mut sink = [0u8; 1024];
    while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Recorded> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        read_chunked(reader)?
    } else {
        let length = header("content-length")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        body
    };
    Some(Recorded {
        method,
        target,
        headers,
        body,
    })
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// A complete response with a body and `Content-Length`.
pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} Scripted\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

pub fn json(status: u16, body: &str) -> Step {
    Step::Respond(response(
        status,
        &[("Content-Type", "application/json")],
        body,
    ))
}

pub fn json_with(status: u16, headers: &[(&str, &str)], body: &str) -> Step {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    Step::Respond(response(status, &all, body))
}

/// A listener that answers anything with `bytes` and closes: used to make a TLS
/// client fail its handshake against a plain-HTTP peer.
pub fn start_raw(bytes: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(bytes);
            let _ = stream.shutdown(Shutdown::Both);
        }
    });
    port
}
