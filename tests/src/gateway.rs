//! The gateway emulator: an API Gateway HTTP API with a Lambda authorizer in front of a backend.
//!
//! - identity source (`x-originsig`) missing → `401 {"message":"Unauthorized"}`, nothing invoked;
//! - otherwise a payload 2.0 authorizer event built the way API Gateway builds it (`rawPath`
//!   percent-decoded with the stage or base path in it and cut at a decoded `?`,
//!   `rawQueryString` as sent, lowercased headers with repeats joined by commas,
//!   `requestContext.domainName` from `Host`), given to the **real authorizer binary** through
//!   the Lambda Runtime API emulator;
//! - deny → `403 {"message":"Forbidden"}`; authorizer error or timeout → `500`;
//! - allow → proxied to the backend (the demo backend, or `--upstream`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;

use crate::http::{client, decode_path, forward, json_response, serve, Body, Incoming2};
use crate::runtime_api::{Outcome, RuntimeApi};

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Named stage in the path (`prod`), or `None` for `$default`.
    pub stage: Option<String>,
    /// Custom-domain API mappings (`v1`): their base path stays in `rawPath` too.
    pub base_paths: Vec<String>,
    /// `None`: the demo backend; `Some(url)`: proxy there.
    pub upstream: Option<String>,
}

/// The v2 authorizer event for a request.
pub fn authorizer_event(request: &Incoming2, stage: Option<&str>, request_id: &str) -> Value {
    let mut raw_path = decode_path(&request.path);
    if let Some(cut) = raw_path.find('?') {
        raw_path.truncate(cut); // API Gateway cuts rawPath at a decoded '?'
    }
    let mut headers = Map::new();
    for (name, value) in &request.headers {
        let name = name.to_ascii_lowercase();
        match headers.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(value);
            }
            _ => {
                headers.insert(name, Value::String(value.clone()));
            }
        }
    }
    let host = request.header("host").unwrap_or("localhost");
    let domain = host.split(':').next().unwrap_or(host).to_owned();
    let stage_name = stage.unwrap_or("$default");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": format!("arn:aws:execute-api:us-east-1:123456789012:local/{stage_name}/{}{}", request.method, raw_path),
        "identitySource": [request.header("x-originsig").unwrap_or("")],
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": request.query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": domain,
            "domainPrefix": domain.split('.').next().unwrap_or(""),
            "http": {
                "method": request.method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.peer.ip().to_string(),
                "userAgent": request.header("user-agent").unwrap_or(""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": stage_name,
            "time": "",
            "timeEpoch": now,
        },
    })
}

/// The demo backend: echoes what reached it, so tests and people can see the chain worked.
fn demo_backend(request: &Incoming2, context: &Value) -> Response<Body> {
    json_response(
        StatusCode::OK,
        &json!({
            "message": "hello from the backend behind originsig",
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "authorization": request.header("authorization"),
            // What the edge added: visible to the backend, as API Gateway passes all headers on.
            "signature": request.header("x-originsig"),
            "authorizer": context,
        }),
    )
}

/// Starts the gateway on 127.0.0.1:`port` (0 = any); returns the bound port.
pub async fn start_gateway(port: u16, config: GatewayConfig, authorizer: RuntimeApi) -> std::io::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let bound = listener.local_addr()?.port();
    let client = client();
    let counter = Arc::new(AtomicU64::new(0));
    let config = Arc::new(config);
    serve(listener, move |request| {
        let (config, authorizer, client, counter) = (
            Arc::clone(&config),
            authorizer.clone(),
            client.clone(),
            Arc::clone(&counter),
        );
        async move {
            if config.stage.is_some() || !config.base_paths.is_empty() {
                let routed = config.stage.iter().chain(&config.base_paths).any(|segment| {
                    let prefix = format!("/{segment}");
                    request.path == prefix || request.path.starts_with(&format!("{prefix}/"))
                });
                if !routed {
                    return json_response(StatusCode::NOT_FOUND, &json!({"message": "Not Found"}));
                }
            }
            if request.header("x-originsig").is_none_or(str::is_empty) {
                return json_response(StatusCode::UNAUTHORIZED, &json!({"message": "Unauthorized"}));
            }
            let request_id = format!("gw-{}", counter.fetch_add(1, Ordering::Relaxed));
            let event = authorizer_event(&request, config.stage.as_deref(), &request_id);
            let context = match authorizer.invoke(event, Duration::from_secs(10)).await {
                Some(Outcome::Response(answer)) if answer["isAuthorized"] == true => {
                    answer["context"].clone()
                }
                Some(Outcome::Response(_)) => {
                    return json_response(StatusCode::FORBIDDEN, &json!({"message": "Forbidden"}))
                }
                _ => {
                    return json_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &json!({"message": "Internal Server Error"}),
                    )
                }
            };
            match &config.upstream {
                None => demo_backend(&request, &context),
                Some(upstream) => {
                    let url = format!(
                        "{}{}{}{}",
                        upstream.trim_end_matches('/'),
                        request.path,
                        if request.query.is_empty() { "" } else { "?" },
                        request.query
                    );
                    let headers: Vec<(String, String)> = request
                        .headers
                        .iter()
                        .filter(|(n, _)| n != "host")
                        .cloned()
                        .collect();
                    forward(
                        &client,
                        &request.method,
                        &url,
                        &headers,
                        Bytes::clone(&request.body),
                    )
                    .await
                }
            }
        }
    });
    Ok(bound)
}
