//! The edge emulator: a listener that does what CloudFront does with an origin-request
//! Lambda@Edge function. Each viewer request becomes an origin-request event (lowercased header
//! map of `{key, value}` lists, `uri`, `querystring`, `origin.custom` with domain, path, port and
//! protocol); the **real edge bundle** runs it in a long-lived Node process; a generated response
//! goes back to the viewer, a returned request goes to the origin.
//!
//! The second edge kind: a viewer-request CloudFront Function (the real build of
//! `edge-signer/cloudfront-function/`) run under njs before the request is forwarded, reading
//! its key from an [`EdgeKeyValueStore`].

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
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

// --- CloudFront Functions: a viewer-request function, run under njs -----------------------
//
// CloudFront runs a viewer-request function on every request, before its cache and before
// any origin request: a returned response goes to the viewer; a returned request goes on with
// the headers the function set, `uri` and query as received unless the function changed them,
// and `Host` = the origin's domain (AllViewerExceptHostHeader origin request policy). The
// function is the real build (edge-signer/cloudfront-function/build.py), run by
// `runtime/run.mjs` under njs (or Node) with a `cloudfront` module stand-in. Each behaviour is
// a row of ARCHITECTURE.md's "What the emulators claim".

/// What this edge location's KeyValueStore returns for a key right now: the value, or `None`
/// while the key is not there (not written, or not yet propagated to this location). The
/// function's one `kvs.get` per request asks this once.
pub trait EdgeKeyValueStore: Send + Sync {
    fn get(&self, key: &str) -> Option<String>;
}

/// The simplest store: every write is visible at once. (The KeyValueStore emulator, with its
/// propagation delay, implements [`EdgeKeyValueStore`] too.)
#[derive(Debug, Default)]
pub struct InMemoryKeyValueStore {
    items: Mutex<HashMap<String, String>>,
}

impl InMemoryKeyValueStore {
    pub fn put(&self, key: &str, value: &str) {
        if let Ok(mut items) = self.items.lock() {
            items.insert(key.to_owned(), value.to_owned());
        }
    }

    pub fn delete(&self, key: &str) {
        if let Ok(mut items) = self.items.lock() {
            items.remove(key);
        }
    }
}

impl EdgeKeyValueStore for InMemoryKeyValueStore {
    fn get(&self, key: &str) -> Option<String> {
        self.items.lock().ok().and_then(|items| items.get(key).cloned())
    }
}

/// The engine a function runs under: njs is the closest to CloudFront's (it refuses what Node
/// accepts); Node for comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionEngine {
    Njs,
    Node,
}

impl FunctionEngine {
    pub fn name(self) -> &'static str {
        match self {
            FunctionEngine::Njs => "njs",
            FunctionEngine::Node => "node",
        }
    }
}

/// `build.py`'s options: what the function signs for.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// The origin's domain: signed, and the `Host` CloudFront sends.
    pub origin_domain: String,
    /// What API Gateway shows before the uri (the stage of an execute-api origin).
    pub path_prefix: String,
    /// `http_api` or `rest_api`.
    pub api_kind: String,
    /// The KeyValueStore item holding the key.
    pub kvs_key: String,
    /// Extra `build.py` options (`--retry-after 2`, …).
    pub extra_args: Vec<String>,
}

impl FunctionConfig {
    /// The KeyValueStore item the signer reads by default: `infra/kvs-item-key.txt`, the one
    /// source that `build.py` and the writer (`hmac-authorizer/src/store/kvs.rs`) read too.
    pub const DEFAULT_KVS_KEY: &'static str = include_str!("../../infra/kvs-item-key.txt").trim_ascii();

    pub fn new(origin_domain: &str, path_prefix: &str) -> Self {
        FunctionConfig {
            origin_domain: origin_domain.to_owned(),
            path_prefix: path_prefix.to_owned(),
            api_kind: "http_api".to_owned(),
            kvs_key: Self::DEFAULT_KVS_KEY.to_owned(),
            extra_args: Vec::new(),
        }
    }
}

/// A viewer-request function, built and prepared to run: each invocation is one engine process
/// (njs starts in milliseconds), as each CloudFront Functions run starts with no state.
pub struct ViewerFunction {
    command: Vec<String>,
    dir: PathBuf,
    kvs_key: String,
    kvs: Arc<dyn EdgeKeyValueStore>,
    next: AtomicU64,
    /// What the function logged (`console.log` lines), in order.
    pub logs: Arc<Mutex<Vec<String>>>,
    /// The built function's text (what CloudFront would be given).
    pub code: String,
}

impl std::fmt::Debug for ViewerFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewerFunction")
            .field("command", &self.command)
            .finish()
    }
}

impl ViewerFunction {
    /// Builds the function into `out_dir` with `build.py` and prepares it for `engine`.
    pub fn build(
        out_dir: &Path,
        config: &FunctionConfig,
        engine: FunctionEngine,
        kvs: Arc<dyn EdgeKeyValueStore>,
    ) -> Result<Arc<Self>, String> {
        let root = crate::repo::root();
        std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
        let file = out_dir.join("function.js");
        let built = std::process::Command::new("python3")
            .arg(root.join("edge-signer/cloudfront-function/build.py"))
            .args(["--origin-domain", &config.origin_domain])
            .args(["--gateway-path-prefix", &config.path_prefix])
            .args(["--api-kind", &config.api_kind])
            .args(["--kvs-key", &config.kvs_key])
            .args(&config.extra_args)
            .arg("--out")
            .arg(&file)
            .output()
            .map_err(|e| format!("python3: {e}"))?;
        if !built.status.success() {
            return Err(format!(
                "build.py: {}",
                String::from_utf8_lossy(&built.stderr).trim()
            ));
        }
        let prepared = std::process::Command::new("node")
            .arg(root.join("edge-signer/cloudfront-function/runtime/run.mjs"))
            .args(["prepare", engine.name()])
            .arg(&file)
            .output()
            .map_err(|e| format!("node: {e}"))?;
        if !prepared.status.success() {
            return Err(format!(
                "run.mjs prepare: {}",
                String::from_utf8_lossy(&prepared.stderr).trim()
            ));
        }
        let prepared: Value =
            serde_json::from_slice(&prepared.stdout).map_err(|e| format!("run.mjs prepare: {e}"))?;
        let command: Vec<String> = prepared["command"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|part| part.as_str().map(str::to_owned))
            .collect();
        let dir = prepared["dir"].as_str().map(PathBuf::from).unwrap_or_default();
        if command.is_empty() || !dir.is_dir() {
            return Err("run.mjs prepare: no command".to_owned());
        }
        let code = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        Ok(Arc::new(ViewerFunction {
            command,
            dir,
            kvs_key: config.kvs_key.clone(),
            kvs,
            next: AtomicU64::new(1),
            logs: Arc::default(),
            code,
        }))
    }

    /// Runs the function on one viewer request: its return value (a request or a response), or
    /// the error CloudFront would answer 503 for.
    pub async fn invoke(&self, request: &Incoming2) -> Result<Value, String> {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        // The function's one KeyValueStore read, answered as this edge location's store would.
        let item = self.kvs.get(&self.kvs_key);
        let case = viewer_request_case(request, &self.kvs_key, item, now_ms);
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let file = self.dir.join(format!("request-{id}.json"));
        let out = self.dir.join(format!("request-{id}.json.out"));
        // Small files: std::fs (tokio's fs feature is not enabled for this crate).
        std::fs::write(&file, json!([case]).to_string()).map_err(|e| e.to_string())?;
        let (program, args) = self.command.split_first().ok_or("no command")?;
        let run = Command::new(program)
            .args(args)
            .arg(&file)
            .stdin(Stdio::null())
            .output();
        let run = tokio::time::timeout(std::time::Duration::from_secs(10), run)
            .await
            .map_err(|_| "the function did not finish within 10 s".to_owned())?
            .map_err(|e| format!("{program}: {e}"))?;
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let _ = std::fs::remove_file(&file);
        let _ = std::fs::remove_file(&out);
        if !run.status.success() {
            return Err(format!(
                "{program} exited with {}: {}",
                run.status,
                String::from_utf8_lossy(&run.stderr).trim()
            ));
        }
        let outcome: Value =
            serde_json::from_str(text.trim()).map_err(|e| format!("function output: {e}"))?;
        if let Ok(mut logs) = self.logs.lock() {
            logs.extend(
                outcome["logs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l.as_str().map(str::to_owned)),
            );
        }
        match outcome["result"].get("thrown") {
            Some(error) => Err(format!("the function threw: {error}")),
            None => Ok(outcome["result"].clone()),
        }
    }
}

/// The viewer-request event's parts for `runtime/driver.js`: method, `uri` (no query), the
/// query as `rawQueryString()` returns it, header names lowercased with repeats in
/// `multiValue`, the edge location's store, and the function's start time.
pub fn viewer_request_case(request: &Incoming2, kvs_key: &str, item: Option<String>, now_ms: u128) -> Value {
    let mut headers = serde_json::Map::new();
    for (name, value) in &request.headers {
        let name = name.to_ascii_lowercase();
        match headers.get_mut(&name) {
            None => {
                headers.insert(name, json!({"value": value}));
            }
            Some(entry) => {
                let first = entry["value"].clone();
                let list = entry
                    .as_object_mut()
                    .map(|e| e.entry("multiValue").or_insert_with(|| json!([{"value": first}])));
                if let Some(Value::Array(list)) = list {
                    list.push(json!({"value": value}));
                }
            }
        }
    }
    let mut kvs = serde_json::Map::new();
    if let Some(item) = item {
        kvs.insert(kvs_key.to_owned(), Value::String(item));
    }
    json!({
        "method": request.method,
        "uri": request.path,
        // The listener keeps no difference between "/a" and "/a?": both sign alike.
        "rawQuery": if request.query.is_empty() { Value::Null } else { Value::String(request.query.clone()) },
        "headers": headers,
        "nowMs": u64::try_from(now_ms).unwrap_or(u64::MAX),
        "kvs": kvs,
    })
}

/// `{name: {value, multiValue?}}` → header lines.
fn function_headers(headers: &Value) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    for (name, entry) in headers.as_object().into_iter().flatten() {
        match entry["multiValue"].as_array() {
            Some(values) => lines.extend(
                values
                    .iter()
                    .filter_map(|v| v["value"].as_str().map(|v| (name.clone(), v.to_owned()))),
            ),
            None => lines.extend(entry["value"].as_str().map(|v| (name.clone(), v.to_owned()))),
        }
    }
    lines
}

/// A response the function generated: `statusCode`, `statusDescription`, headers, body.
fn function_response(result: &Value) -> Response<Body> {
    let status = result["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut builder = Response::builder().status(status);
    for (name, value) in function_headers(&result["headers"]) {
        builder = builder.header(name, value);
    }
    let body = match &result["body"] {
        Value::String(text) => text.clone(),
        Value::Object(body) => body.get("data").and_then(Value::as_str).unwrap_or("").to_owned(),
        _ => String::new(),
    };
    builder
        .body(Body::from(body))
        .unwrap_or_else(|_| Response::new(Body::default()))
}

/// Starts a distribution whose cache behaviour has `function` as its viewer-request function,
/// on 127.0.0.1:`port` (0 = any). Returns the bound port.
pub async fn start_function_edge(
    port: u16,
    origin: OriginConfig,
    function: Arc<ViewerFunction>,
) -> std::io::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let bound = listener.local_addr()?.port();
    let client = client();
    let counter = Arc::new(AtomicU64::new(0));
    serve(listener, move |request| {
        let (origin, function, client, counter) = (
            origin.clone(),
            Arc::clone(&function),
            client.clone(),
            Arc::clone(&counter),
        );
        async move {
            let result = match function.invoke(&request).await {
                Ok(result) => result,
                // A function that throws or fails: CloudFront answers 503.
                Err(error) => {
                    return json_response(
                        StatusCode::SERVICE_UNAVAILABLE,
                        &json!({"message": format!("FunctionExecutionError: {error}")}),
                    )
                }
            };
            if result.get("statusCode").is_some() {
                return function_response(&result);
            }
            // The request goes on: the function's headers but Host, which the origin request
            // policy replaces with the origin's domain; what CloudFront adds; the uri the
            // function returned and the query as the viewer sent it (the signer never assigns
            // either, so CloudFront forwards what it received).
            let mut headers: Vec<(String, String)> = function_headers(&result["headers"])
                .into_iter()
                .filter(|(name, _)| name != "host")
                .collect();
            headers.push(("host".to_owned(), origin.domain_name.clone()));
            headers.push((
                "via".to_owned(),
                "2.0 local.cloudfront.net (CloudFront)".to_owned(),
            ));
            headers.push((
                "x-amz-cf-id".to_owned(),
                format!(
                    "local-{}-{}",
                    std::process::id(),
                    counter.fetch_add(1, Ordering::Relaxed)
                ),
            ));
            headers.push(("x-forwarded-for".to_owned(), request.peer.ip().to_string()));
            let uri = result["uri"].as_str().unwrap_or(&request.path).to_owned();
            let url = format!(
                "http://127.0.0.1:{}{}{uri}{}{}",
                origin.port,
                origin.path,
                if request.query.is_empty() { "" } else { "?" },
                request.query
            );
            forward(&client, &request.method, &url, &headers, request.body.clone()).await
        }
    });
    Ok(bound)
}
