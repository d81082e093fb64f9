//! The gateway emulator: an API Gateway HTTP API with a Lambda authorizer in front of a backend.
//!
//! Every behaviour here is a claim about AWS, listed with its source and confidence in
//! ARCHITECTURE.md ("What the emulators claim"), and the captured ones are held to the captured
//! data by `tests/tests/gateway_fidelity.rs` (`tests/fixtures/http-api-captures.json`):
//!
//! - the path is percent-decoded **twice** into `rawPath`, cut at a `?` that the first decoding
//!   produced; a `%` that does not start an escape in the second decoding → 400, nothing invoked;
//! - identity source (`x-originsig`) missing → `401 {"message":"Unauthorized"}`, nothing invoked;
//! - otherwise a payload 2.0 authorizer event: `rawQueryString` as sent, header names lowercased
//!   with repeats joined by `,` (no space), `Cookie` moved to `cookies[]`, a named stage's
//!   segment in `rawPath`, `requestContext.domainName` from `Host`; given to the **real
//!   authorizer binary** through the Lambda Runtime API emulator;
//! - deny → `403 {"message":"Forbidden"}`; authorizer error or timeout → `500`;
//! - allow → proxied to the backend (the demo backend, or `--upstream`).
//!
//! What `rawPath` holds behind a custom domain with an API mapping is **not confirmed**: reports
//! conflict, so the emulator offers each reported behaviour ([`MappingPath`]) and none is the
//! default truth.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::{Response, StatusCode};
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;

use crate::http::{client, json_response, proxy_to, serve, Body, Incoming2};
use crate::runtime_api::{Outcome, RuntimeApi};

/// What `rawPath` holds for a request through a custom domain's API mapping. Unconfirmed: each
/// variant is one reported behaviour, so tests can show the edge and `originsig doctor` cope
/// with each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingPath {
    /// `/{mapping key}/rest` (what this project assumed before; no public capture).
    KeepsMappingKey,
    /// `/rest`: the mapping key removed, as for routing.
    StripsMappingKey,
    /// `/{stage}/rest`: the stage name instead of the mapping key (serverless-express issue
    /// #465 reports this).
    ShowsStage,
}

/// A custom domain name mapped to the API's stage under `mapping_key`.
#[derive(Debug, Clone)]
pub struct CustomDomain {
    /// The domain name (requests carry it as `Host`).
    pub domain: String,
    /// The API mapping key (`v1`); empty for a mapping at the root.
    pub mapping_key: String,
    pub raw_path: MappingPath,
}

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Named stage in the path (`prod`), or `None` for `$default`.
    pub stage: Option<String>,
    /// Custom domains in front of the same stage.
    pub custom_domains: Vec<CustomDomain>,
    /// `None`: the demo backend; `Some(url)`: proxy there.
    pub upstream: Option<String>,
}

/// Percent-decodes a path's bytes once; `None` for a `%` not followed by two hex digits.
fn decode_once(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |at: usize| bytes.get(at).and_then(|c| char::from(*c).to_digit(16));
            let (hi, lo) = (hex(i + 1)?, hex(i + 2)?);
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(out)
}

/// The `rawPath` an HTTP API reports for a path as sent, or `None` when it answers 400.
///
/// Captured (tests/fixtures/http-api-captures.json): decoded twice; cut at a `?` from the first
/// decoding (the query string is untouched); `%25` followed by non-hex → 400. Assumed, not
/// captured: an invalid escape in the first decoding → 400 too; bytes that are not UTF-8 →
/// replacement characters.
pub fn http_api_raw_path(sent: &str) -> Option<String> {
    let mut once = decode_once(sent.as_bytes())?;
    if let Some(cut) = once.iter().position(|&b| b == b'?') {
        once.truncate(cut);
    }
    let twice = decode_once(&once)?;
    Some(String::from_utf8_lossy(&twice).into_owned())
}

/// Where a request lands: what the authorizer is told, or the status API Gateway answers alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    pub raw_path: String,
    pub stage: String,
    pub domain: String,
}

/// Routes a request as API Gateway would: the custom domain named by `Host`, else the
/// `execute-api` endpoint (where a named stage is the path's first segment).
pub fn route(request: &Incoming2, config: &GatewayConfig) -> Result<Routed, StatusCode> {
    let host = request.header("host").unwrap_or("localhost");
    let domain = host.split(':').next().unwrap_or(host).to_owned();
    let stage = config.stage.clone().unwrap_or_else(|| "$default".to_owned());
    let segment_of = |path: &str, segment: &str| -> Option<String> {
        let prefix = format!("/{segment}");
        match path.strip_prefix(&prefix) {
            Some("") => Some("/".to_owned()),
            Some(rest) if rest.starts_with('/') => Some(rest.to_owned()),
            _ => None,
        }
    };
    let raw_path = http_api_raw_path(&request.path).ok_or(StatusCode::BAD_REQUEST)?;
    let raw_path = match config.custom_domains.iter().find(|d| d.domain == domain) {
        Some(custom) => {
            let rest = if custom.mapping_key.is_empty() {
                Some(raw_path.clone())
            } else {
                segment_of(&raw_path, &custom.mapping_key)
            };
            let rest = rest.ok_or(StatusCode::NOT_FOUND)?;
            match custom.raw_path {
                MappingPath::KeepsMappingKey => raw_path,
                MappingPath::StripsMappingKey => rest,
                MappingPath::ShowsStage if config.stage.is_some() => format!("/{stage}{rest}"),
                MappingPath::ShowsStage => rest,
            }
        }
        None => match &config.stage {
            Some(name) if segment_of(&raw_path, name).is_none() => return Err(StatusCode::NOT_FOUND),
            _ => raw_path,
        },
    };
    Ok(Routed {
        raw_path,
        stage,
        domain,
    })
}

/// The v2 authorizer event for a routed request.
pub fn authorizer_event(request: &Incoming2, routed: &Routed, request_id: &str) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &request.headers {
        let name = name.to_ascii_lowercase();
        if name == "cookie" {
            cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
            );
            continue;
        }
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
    let Routed {
        raw_path,
        stage,
        domain,
    } = routed;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let mut event = json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": format!("arn:aws:execute-api:us-east-1:123456789012:local/{stage}/{}{}", request.method, raw_path),
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
            "stage": stage,
            "time": "",
            "timeEpoch": now,
        },
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    event
}

/// The demo backend: echoes what reached it, so tests and people can see the chain worked.
fn demo_backend(request: &Incoming2, raw_path: &str, context: &Value) -> Response<Body> {
    json_response(
        StatusCode::OK,
        &json!({
            "message": "hello from the backend behind originsig",
            "method": request.method,
            "path": request.path,
            "rawPath": raw_path,
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
            let routed = match route(&request, &config) {
                Ok(routed) => routed,
                Err(StatusCode::BAD_REQUEST) => {
                    return json_response(StatusCode::BAD_REQUEST, &json!({"message": "Bad Request"}))
                }
                Err(_) => return json_response(StatusCode::NOT_FOUND, &json!({"message": "Not Found"})),
            };
            if request.header("x-originsig").is_none_or(str::is_empty) {
                return json_response(StatusCode::UNAUTHORIZED, &json!({"message": "Unauthorized"}));
            }
            let request_id = format!("gw-{}", counter.fetch_add(1, Ordering::Relaxed));
            let event = authorizer_event(&request, &routed, &request_id);
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
                None => demo_backend(&request, &routed.raw_path, &context),
                Some(upstream) => proxy_to(&client, upstream, &request).await,
            }
        }
    });
    Ok(bound)
}
