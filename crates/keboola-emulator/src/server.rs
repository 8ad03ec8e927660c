//! Accept loop, per-connection serving, faults, latency and the request log.
//!
//! Connections are served by hyper directly (not `axum::serve`) so a handler can close
//! its own TCP connection: needed for `drop_connection` and truncated bodies.

use std::convert::Infallible;
use std::io::Write as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio_rustls::TlsAcceptor;

use crate::control::{self, FaultBody, LoggedRequest};
use crate::http::{ApiError, ApiRequest, masked_path, masked_query};
use crate::services::{self, dispatch};
use crate::state::{Shared, lock};
use crate::storage;

pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = Arc::clone(&shared);
                    let tls = tls.clone();
                    let shutdown = shutdown.clone();
                    tokio::spawn(async move {
                        match tls {
                            Some(acceptor) => {
                                if let Ok(stream) = acceptor.accept(stream).await {
                                    serve_connection(TokioIo::new(stream), shared, shutdown).await;
                                }
                            }
                            None => serve_connection(TokioIo::new(stream), shared, shutdown).await,
                        }
                    });
                }
                // Out of file descriptors and similar: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }
}

async fn serve_connection<I>(io: I, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    // Signalled by a handler that wants this connection closed without further ado.
    let kill = Arc::new(Notify::new());
    let kill_for_service = Arc::clone(&kill);
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let shared = Arc::clone(&shared);
        let kill = Arc::clone(&kill_for_service);
        async move { Ok::<_, Infallible>(handle(shared, kill, req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    tokio::pin!(conn);
    // `biased`: the connection is polled first, so bytes a handler queued before asking
    // for the kill have been flushed by the time the connection is dropped.
    tokio::select! {
        biased;
        _ = &mut conn => {}
        () = kill.notified() => {}
        _ = shutdown.changed() => {}
    }
}

/// A body that sends one chunk and then never finishes; it asks for the connection to be
/// closed as soon as the chunk is handed over.
struct CutBody {
    chunk: Option<Bytes>,
    kill: Arc<Notify>,
}

impl hyper::body::Body for CutBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.chunk.take() {
            Some(chunk) => {
                self.kill.notify_one();
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            None => Poll::Pending,
        }
    }
}

/// What identifies a request for fault matching and the log.
fn identify(shared: &Shared, req: &ApiRequest) -> (Option<u64>, Option<String>) {
    if let Some(secret) = req.header("x-storageapi-token").filter(|s| !s.is_empty()) {
        let store = shared.store();
        if let Ok(Some(t)) = storage::tokens::by_secret(&store.db, secret) {
            return (Some(t.project_id), Some(t.id.to_string()));
        }
    }
    let segs = req.segs();
    if let ["manage", "projects", id, ..] = segs.as_slice() {
        return (id.parse().ok(), None);
    }
    (None, None)
}

async fn handle(shared: Arc<Shared>, kill: Arc<Notify>, req: Request<Incoming>) -> Response<Body> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| {
            parts
                .uri
                .authority()
                .map(hyper::http::uri::Authority::as_str)
        })
        .map(str::to_owned);
    let mut req = ApiRequest::new(
        parts.method,
        parts.uri.path(),
        parts.uri.query(),
        parts.headers,
        body,
    );
    req.host = host;

    if req.segments.first().is_some_and(|s| s == "_emulator") {
        return control::handle(&shared, &req).unwrap_or_else(ApiError::into_response);
    }

    let (project_id, token_id) = identify(&shared, &req);
    let service = services::service_of(&shared, &req);
    let fault = control::take_fault(&shared, &req.method, &req.path, service, project_id);
    let delay = shared.latency_ms() + fault.as_ref().and_then(|f| f.latency_ms).unwrap_or(0);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }

    let log = |status: u16| {
        record(
            &shared,
            &req,
            service,
            status,
            project_id,
            token_id.clone(),
            started,
        );
    };

    let Some(fault) = fault else {
        let resp = dispatch(&shared, &req);
        log(resp.status().as_u16());
        return resp;
    };

    if fault.drop_connection {
        log(0);
        kill.notify_one();
        return std::future::pending().await;
    }
    let resp = match fault.body {
        Some(FaultBody::Malformed) => {
            let status = fault
                .status
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::OK);
            let mut r = Response::new(Body::from(
                r#"{"id": "1", "status": "ok", <html>Bad Gateway</html>"#,
            ));
            *r.status_mut() = status;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Some(FaultBody::Empty) => {
            let status = fault
                .status
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::OK);
            let mut r = Response::new(Body::empty());
            *r.status_mut() = status;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Some(FaultBody::Truncated) => {
            let real = dispatch(&shared, &req);
            let (mut parts, body) = real.into_parts();
            let mut full = body
                .collect()
                .await
                .map(http_body_util::Collected::to_bytes)
                .unwrap_or_default();
            if full.len() < 2 {
                full = Bytes::from_static(
                    br#"{"error":"Application error.","code":"APPLICATION_ERROR"}"#,
                );
                parts.status = StatusCode::OK;
            }
            let half = full.slice(..full.len() / 2);
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full.len()));
            log(parts.status.as_u16());
            return Response::from_parts(
                parts,
                Body::new(CutBody {
                    chunk: Some(half),
                    kill,
                }),
            );
        }
        None => match fault.status.and_then(|s| StatusCode::from_u16(s).ok()) {
            Some(status) => control::fault_error(&shared, &fault, status).into_response(),
            // A latency-only fault: serve the request normally after the delay.
            None => dispatch(&shared, &req),
        },
    };
    log(resp.status().as_u16());
    resp
}

/// The conversation id as logged: only a printable ASCII header, at most 256 characters,
/// so a hostile client cannot fill the log or a terminal with control characters.
fn conversation_id(req: &ApiRequest) -> Option<String> {
    let value = req.headers.get("x-conversation-id")?.to_str().ok()?;
    if !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    Some(value.chars().take(256).collect())
}

fn record(
    shared: &Shared,
    req: &ApiRequest,
    service: Option<&str>,
    status: u16,
    project_id: Option<u64>,
    token_id: Option<String>,
    started: Instant,
) {
    let entry = LoggedRequest {
        method: req.method.to_string(),
        path: masked_path(&req.path),
        query: masked_query(req.raw_query.as_deref()),
        service: service.map(str::to_owned),
        status,
        project_id,
        token_id,
        conversation_id: conversation_id(req),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    if shared.echo_to_stderr.load(Ordering::Relaxed) {
        let query = if entry.query.is_empty() {
            String::new()
        } else {
            format!("?{}", entry.query)
        };
        let _ = writeln!(
            std::io::stderr().lock(),
            "{} {}{} -> {} ({} ms)",
            entry.method,
            entry.path,
            query,
            entry.status,
            entry.duration_ms
        );
    }
    lock(&shared.log).push(entry);
}
