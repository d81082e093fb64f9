//! The edge emulator: a listener that does what CloudFront does with an origin-request
//! Lambda@Edge function. Each viewer request becomes an origin-request event (lowercased header
//! map of `{key, value}` lists, `uri`, `querystring`, `origin.custom` with domain, path, port and
//! protocol); the **real edge bundle** runs it in a long-lived Node process; a generated response
//! goes back to the viewer, a returned request goes to the origin.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hyper::{Response, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::oneshot;

use crate::http::{client, forward, json_response, serve, Body, Incoming2};

/// Where CloudFront sends requests, as its distribution config says.
#[derive(Debug, Clone)]
pub struct OriginConfig {
    /// The origin's domain name (what is signed and put in `Host`).
    pub domain_name: String,
    /// The origin path, e.g. `/prod` (empty for none).
    pub path: String,
    /// Where that domain really is, locally: 127.0.0.1 and this port.
    pub port: u16,
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, String>>>>>;

/// A warm Lambda@Edge container: the bundle loaded once in `node tests/edge-host.mjs`.
pub struct EdgeHost {
    child: Child,
    stdin: tokio::sync::Mutex<ChildStdin>,
    pending: Pending,
    next: AtomicU64,
    /// What the handler logged (stderr of the host).
    pub logs: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for EdgeHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeHost").finish()
    }
}

impl EdgeHost {
    pub async fn start(bundle: &Path, env: &[(&str, String)], echo_logs: bool) -> std::io::Result<Arc<Self>> {
        let host = crate::repo::root().join("tests/edge-host.mjs");
        let mut command = Command::new("node");
        command
            .arg(host)
            .arg(bundle.join("index.mjs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn()?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| std::io::Error::other("no stdin"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout"))?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| std::io::Error::other("no stderr"))?;
        let pending: Pending = Arc::default();
        let logs: Arc<Mutex<Vec<String>>> = Arc::default();
        let (ready_tx, ready_rx) = oneshot::channel();
        let reader_pending = Arc::clone(&pending);
        tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(message) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if message.get("ready").is_some() {
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(());
                    }
                    continue;
                }
                let Some(id) = message.get("id").and_then(Value::as_u64) else {
                    continue;
                };
                let outcome = match message.get("result") {
                    Some(result) => Ok(result.clone()),
                    None => Err(message
                        .get("error")
                        .and_then(Value::as_str)
                        .unwrap_or("no result")
                        .to_owned()),
                };
                if let Some(waiter) = reader_pending.lock().ok().and_then(|mut p| p.remove(&id)) {
                    let _ = waiter.send(outcome);
                }
            }
        });
        let log_sink = Arc::clone(&logs);
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if echo_logs {
                    eprintln!("[edge] {line}");
                }
                if let Ok(mut logs) = log_sink.lock() {
                    logs.push(line);
                }
            }
        });
        tokio::time::timeout(std::time::Duration::from_secs(20), ready_rx)
            .await
            .map_err(|_| std::io::Error::other("the edge bundle did not load within 20 s"))?
            .map_err(|_| {
                std::io::Error::other("the edge host exited while loading the bundle (see its logs)")
            })?;
        Ok(Arc::new(EdgeHost {
            child,
            stdin: tokio::sync::Mutex::new(stdin),
            pending,
            next: AtomicU64::new(1),
            logs,
        }))
    }

    /// Runs one event through the handler.
    pub async fn invoke(&self, event: Value) -> Result<Value, String> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(id, tx);
        }
        let line = format!("{}\n", json!({"id": id, "event": event}));
        self.stdin
            .lock()
            .await
            .write_all(line.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        tokio::time::timeout(std::time::Duration::from_secs(10), rx)
            .await
            .map_err(|_| "the edge handler did not answer within 10 s".to_owned())?
            .map_err(|_| "the edge host exited".to_owned())?
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// The origin-request event CloudFront would build for this viewer request.
pub fn origin_request_event(request: &Incoming2, origin: &OriginConfig, request_id: &str) -> Value {
    let mut headers: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (name, value) in &request.headers {
        headers
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(json!({"key": display_case(name), "value": value}));
    }
    // CloudFront adds these on the way to the origin.
    headers.insert(
        "via".into(),
        vec![json!({"key": "Via", "value": "2.0 local.cloudfront.net (CloudFront)"})],
    );
    headers.insert(
        "x-amz-cf-id".into(),
        vec![json!({"key": "X-Amz-Cf-Id", "value": request_id})],
    );
    headers.insert(
        "x-forwarded-for".into(),
        vec![json!({"key": "X-Forwarded-For", "value": request.peer.ip().to_string()})],
    );
    json!({
        "Records": [{
            "cf": {
                "config": {
                    "distributionDomainName": "local.cloudfront.net",
                    "distributionId": "ELOCALCHAIN",
                    "eventType": "origin-request",
                    "requestId": request_id,
                },
                "request": {
                    "clientIp": request.peer.ip().to_string(),
                    "headers": headers,
                    "method": request.method,
                    "querystring": request.query,
                    "uri": request.path,
                    "origin": {
                        "custom": {
                            "customHeaders": {},
                            "domainName": origin.domain_name,
                            "keepaliveTimeout": 5,
                            "path": origin.path,
                            "port": origin.port,
                            "protocol": "http",
                            "readTimeout": 30,
                            "sslProtocols": ["TLSv1.2"],
                        }
                    },
                },
            }
        }]
    })
}

/// `x-forwarded-for` → `X-Forwarded-For`, as CloudFront shows an entry's `key`.
fn display_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The answer of a generated response (`status`, `headers`, `body`).
fn generated_response(result: &Value) -> Response<Body> {
    let status = result["status"]
        .as_str()
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(502);
    let mut builder =
        Response::builder().status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY));
    if let Some(headers) = result["headers"].as_object() {
        for entries in headers.values() {
            for entry in entries.as_array().into_iter().flatten() {
                if let (Some(k), Some(v)) = (entry["key"].as_str(), entry["value"].as_str()) {
                    builder = builder.header(k, v);
                }
            }
        }
    }
    let body = result["body"].as_str().unwrap_or("").to_owned();
    builder
        .body(Body::from(body))
        .unwrap_or_else(|_| Response::new(Body::default()))
}

/// Starts the edge listener on 127.0.0.1:`port` (0 = any). Returns the bound port.
pub async fn start_edge(port: u16, origin: OriginConfig, host: Arc<EdgeHost>) -> std::io::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let bound = listener.local_addr()?.port();
    let client = client();
    let counter = Arc::new(AtomicU64::new(0));
    serve(listener, move |request| {
        let (origin, host, client, counter) = (
            origin.clone(),
            Arc::clone(&host),
            client.clone(),
            Arc::clone(&counter),
        );
        async move {
            let request_id = format!(
                "local-{}-{}",
                std::process::id(),
                counter.fetch_add(1, Ordering::Relaxed)
            );
            let event = origin_request_event(&request, &origin, &request_id);
            let result = match host.invoke(event).await {
                Ok(result) => result,
                // CloudFront answers 502/503 when the function fails.
                Err(error) => {
                    return json_response(
                        StatusCode::BAD_GATEWAY,
                        &json!({"message": format!("LambdaExecutionError: {error}")}),
                    )
                }
            };
            if result.get("status").is_some() {
                return generated_response(&result);
            }
            let mut headers = Vec::new();
            if let Some(map) = result["headers"].as_object() {
                for entries in map.values() {
                    for entry in entries.as_array().into_iter().flatten() {
                        if let (Some(k), Some(v)) = (entry["key"].as_str(), entry["value"].as_str()) {
                            headers.push((k.to_owned(), v.to_owned()));
                        }
                    }
                }
            }
            let query = result["querystring"].as_str().unwrap_or("");
            let uri = result["uri"].as_str().unwrap_or("/");
            let path = result["origin"]["custom"]["path"].as_str().unwrap_or("");
            let url = format!(
                "http://127.0.0.1:{}{path}{uri}{}{query}",
                origin.port,
                if query.is_empty() { "" } else { "?" }
            );
            let method = result["method"].as_str().unwrap_or("GET").to_owned();
            forward(&client, &method, &url, &headers, request.body.clone()).await
        }
    });
    Ok(bound)
}
