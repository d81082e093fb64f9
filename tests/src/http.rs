//! Small HTTP plumbing shared by the emulators (hyper 1 server and client).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

pub type Body = Full<Bytes>;

/// A request with its body read.
#[derive(Debug, Clone)]
pub struct Incoming2 {
    pub method: String,
    /// Path as sent (still percent-encoded).
    pub path: String,
    /// Query as sent, without `?`.
    pub query: String,
    /// Header names lowercased, in arrival order, repeats kept.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub peer: SocketAddr,
}

impl Incoming2 {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub fn json_response(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// Serves `handler` on `listener` (127.0.0.1 only) until the task is dropped.
pub fn serve<H, F>(listener: TcpListener, handler: H)
where
    H: Fn(Incoming2) -> F + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    let handler = Arc::new(handler);
    serve_or_drop(listener, move |request| {
        let handler = Arc::clone(&handler);
        async move { Ok(handler(request).await) }
    });
}

/// [`serve`], where the handler may answer `Err(())`: the connection is closed with no answer.
pub fn serve_or_drop<H, F>(listener: TcpListener, handler: H)
where
    H: Fn(Incoming2) -> F + Send + Sync + 'static,
    F: Future<Output = Result<Response<Body>, ()>> + Send + 'static,
{
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((stream, peer)) = listener.accept().await {
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let handler = Arc::clone(&handler);
                    async move {
                        let method = request.method().as_str().to_owned();
                        let path = request.uri().path().to_owned();
                        let query = request.uri().query().unwrap_or("").to_owned();
                        let headers = request
                            .headers()
                            .iter()
                            .map(|(n, v)| {
                                (
                                    n.as_str().to_owned(),
                                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                )
                            })
                            .collect();
                        let body = request
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        handler(Incoming2 {
                            method,
                            path,
                            query,
                            headers,
                            body,
                            peer,
                        })
                        .await
                        .map_err(|()| std::io::Error::other("connection dropped on purpose"))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

pub fn client() -> Client<HttpConnector, Body> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Sends `request` on to `upstream` (`http://host:port`): same method, path, query, headers
/// (but `Host`) and body.
pub async fn proxy_to(
    client: &Client<HttpConnector, Body>,
    upstream: &str,
    request: &Incoming2,
) -> Response<Body> {
    let query = if request.query.is_empty() {
        String::new()
    } else {
        format!("?{}", request.query)
    };
    let url = format!("{}{}{query}", upstream.trim_end_matches('/'), request.path);
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(n, _)| n != "host")
        .cloned()
        .collect();
    forward(
        client,
        &request.method,
        &url,
        &headers,
        Bytes::clone(&request.body),
    )
    .await
}

/// Sends a request and reads the whole answer; connection errors become a 502.
pub async fn forward(
    client: &Client<HttpConnector, Body>,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Bytes,
) -> Response<Body> {
    let mut builder = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let Ok(request) = builder.body(Full::new(body)) else {
        return json_response(
            StatusCode::BAD_GATEWAY,
            &serde_json::json!({"message": "bad forwarded request"}),
        );
    };
    match client.request(request).await {
        Ok(response) => {
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            Response::from_parts(parts, Full::new(body))
        }
        Err(error) => json_response(
            StatusCode::BAD_GATEWAY,
            &serde_json::json!({"message": format!("origin unreachable: {error}")}),
        ),
    }
}
