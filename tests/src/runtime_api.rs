//! A Lambda Runtime API emulator (the 2018-06-01 interface a custom runtime polls), so the real
//! binaries can be started the way Lambda starts them and invoked:
//!
//! - `GET  /2018-06-01/runtime/invocation/next` — long-polls for the next event;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` — the function's answer;
//! - `POST /2018-06-01/runtime/invocation/{id}/error` — the function's error;
//! - `POST /2018-06-01/runtime/init/error` — an init failure.
//!
//! Listens on 127.0.0.1 only.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// What the function answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response(Value),
    /// `errorType` and the whole error body.
    Error(String, Value),
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Outcome>>>>;

struct Shared {
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Value)>>,
    pending: Pending,
    init_error: Mutex<Option<Value>>,
}

#[derive(Clone)]
pub struct RuntimeApi {
    addr: SocketAddr,
    sender: mpsc::UnboundedSender<(String, Value)>,
    shared: Arc<Shared>,
    counter: Arc<AtomicU64>,
}

impl std::fmt::Debug for RuntimeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeApi").field("addr", &self.addr).finish()
    }
}

impl RuntimeApi {
    /// Binds 127.0.0.1 on a free port and serves until the runtime is dropped.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (sender, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events: tokio::sync::Mutex::new(receiver),
            pending: Arc::default(),
            init_error: Mutex::new(None),
        });
        let serve_shared = Arc::clone(&shared);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = Arc::clone(&serve_shared);
                tokio::spawn(async move {
                    let service = service_fn(move |request| route(Arc::clone(&shared), request));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(RuntimeApi {
            addr,
            sender,
            shared,
            counter: Arc::default(),
        })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The environment Lambda gives a `provided.al2023` function, pointed at this emulator.
    pub fn lambda_env(&self, function_name: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_LAMBDA_RUNTIME_API", self.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", function_name.to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function_name}"),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "local".to_owned()),
        ]
    }

    /// Queues one event and waits (up to `timeout`) for the function's outcome.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Option<Outcome> {
        let id = format!("req-{}", self.counter.fetch_add(1, Ordering::Relaxed) + 1);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut pending) = self.shared.pending.lock() {
            pending.insert(id.clone(), tx);
        }
        self.sender.send((id, event)).ok()?;
        tokio::time::timeout(timeout, rx).await.ok()?.ok()
    }

    /// The body of `/runtime/init/error`, if the function reported one.
    pub fn init_error(&self) -> Option<Value> {
        self.shared.init_error.lock().ok()?.clone()
    }
}

fn reply(status: StatusCode, body: Bytes, request_id: Option<&str>) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if let Some(id) = request_id {
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() + 30_000)
            .unwrap_or_default();
        builder = builder
            .header("lambda-runtime-aws-request-id", id)
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:local",
            )
            .header(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000",
            );
    }
    builder
        .body(Full::new(body))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

async fn route(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let accepted = || {
        reply(
            StatusCode::ACCEPTED,
            Bytes::from_static(b"{\"status\":\"OK\"}"),
            None,
        )
    };
    if method == hyper::Method::GET && path == "/2018-06-01/runtime/invocation/next" {
        let next = shared.events.lock().await.recv().await;
        return Ok(match next {
            Some((id, event)) => reply(StatusCode::OK, Bytes::from(event.to_string()), Some(&id)),
            None => reply(StatusCode::GONE, Bytes::new(), None),
        });
    }
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if path == "/2018-06-01/runtime/init/error" {
        if let Ok(mut slot) = shared.init_error.lock() {
            *slot = Some(json);
        }
        return Ok(accepted());
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if let ["2018-06-01", "runtime", "invocation", id, kind] = parts.as_slice() {
        let outcome = match *kind {
            "response" => Outcome::Response(json),
            "error" => Outcome::Error(
                json.get("errorType")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                json,
            ),
            _ => return Ok(reply(StatusCode::NOT_FOUND, Bytes::new(), None)),
        };
        let waiter = shared.pending.lock().ok().and_then(|mut p| p.remove(*id));
        if let Some(waiter) = waiter {
            let _ = waiter.send(outcome);
        }
        return Ok(accepted());
    }
    Ok(reply(StatusCode::NOT_FOUND, Bytes::new(), None))
}
