//! A CloudFront KeyValueStore emulator: the `cloudfront-keyvaluestore` data plane (rest-json, as
//! the AWS SDKs call it) on 127.0.0.1, and **edge views**: what one edge location's function
//! reads at a given instant, with updates that arrive after a configurable delay.
//!
//! moto has no data plane for this service, so this emulator stands in for it. Each behaviour is a
//! claim about AWS, listed in ARCHITECTURE.md's "What the emulators claim" table; the request and
//! response shapes are held to the service model botocore ships
//! (`botocore/data/cloudfront-keyvaluestore/2022-07-26/service-2.json`) by `tests/tests/kvs_model.rs`.
//!
//! Routes (the model's `http.requestUri`; `{KvsARN}` and `{Key}` are single percent-encoded
//! labels):
//!
//! | operation | route | answer |
//! |---|---|---|
//! | DescribeKeyValueStore | `GET /key-value-stores/{KvsARN}` | `ItemCount`, `TotalSizeInBytes`, `KvsARN`, `Created`, `LastModified`; header `ETag` |
//! | GetKey | `GET /key-value-stores/{KvsARN}/keys/{Key}` | `Key`, `Value`, `ItemCount`, `TotalSizeInBytes` |
//! | PutKey | `PUT /key-value-stores/{KvsARN}/keys/{Key}` + `If-Match` | `ItemCount`, `TotalSizeInBytes`; header `ETag` (new) |
//! | DeleteKey | `DELETE /key-value-stores/{KvsARN}/keys/{Key}` + `If-Match` | as PutKey |
//! | UpdateKeys | `POST /key-value-stores/{KvsARN}/keys` + `If-Match`, `Puts`, `Deletes` | as PutKey |
//! | ListKeys | `GET /key-value-stores/{KvsARN}/keys?MaxResults&NextToken` | `Items`, `NextToken` |
//!
//! Errors are rest-json errors: the model's status code, the `x-amzn-errortype` header and a
//! `{"Message": …}` body. A write whose `If-Match` is not the store's current ETag is a 409
//! `ConflictException`; an unknown store or key a 404 `ResourceNotFoundException`.
//!
//! The endpoint rules of the service put the ARN's account id in front of the configured
//! endpoint's host (`https://{account}.cloudfront-kvs.global.api.aws`, and
//! `{scheme}://{account}.{authority}` with an endpoint override), so clients reach this emulator
//! as `http://<account>.localhost:<port>`; the emulator records the `Host` of every request.
//!
//! Time is the emulator's [`KvsClock`]: real, or a manual clock a test advances, so a rotation
//! across minutes of propagation runs in milliseconds.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hyper::{Response, StatusCode};
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::http::{json_response, serve, Body, Incoming2};

/// Documented quotas (CloudFront Developer Guide, "Quotas" → "Key value stores": key 512 bytes,
/// value 1 KB, store 5 MB). The service model allows keys up to 1024 characters and gives no
/// value limit; the emulator enforces the smaller documented ones.
pub const MAX_KEY_BYTES: usize = 512;
pub const MAX_VALUE_BYTES: usize = 1024;
pub const MAX_STORE_BYTES: usize = 5 * 1024 * 1024;
/// ListKeys: default and largest page (service model, `ListKeysRequestMaxResultsInteger`).
pub const LIST_DEFAULT_PAGE: usize = 10;
pub const LIST_MAX_PAGE: usize = 50;

/// The emulator's clock, in milliseconds since it started.
#[derive(Debug, Clone)]
pub enum KvsClock {
    Real(Instant),
    /// Advanced only by [`KvsClock::advance`].
    Manual(Arc<AtomicU64>),
}

impl KvsClock {
    pub fn real() -> Self {
        KvsClock::Real(Instant::now())
    }

    pub fn manual() -> Self {
        KvsClock::Manual(Arc::default())
    }

    pub fn now_ms(&self) -> u64 {
        match self {
            KvsClock::Real(start) => u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
            KvsClock::Manual(ms) => ms.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock forward (a real clock ignores this).
    pub fn advance(&self, by: Duration) {
        if let KvsClock::Manual(ms) = self {
            ms.fetch_add(
                u64::try_from(by.as_millis()).unwrap_or(u64::MAX),
                Ordering::SeqCst,
            );
        }
    }
}

/// One change to one key, as the data plane accepted it.
#[derive(Debug, Clone)]
struct Change {
    at_ms: u64,
    key: String,
    /// `None`: deleted.
    value: Option<String>,
}

#[derive(Debug, Clone)]
struct Store {
    items: BTreeMap<String, String>,
    /// Bumped by every accepted write; the ETag is derived from it.
    version: u64,
    created: f64,
    last_modified: f64,
    log: Vec<Change>,
}

impl Store {
    fn etag(&self) -> String {
        format!("ETVEMU{:010}", self.version)
    }

    fn size(&self) -> usize {
        self.items.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    fn counts(&self) -> Value {
        json!({"ItemCount": self.items.len(), "TotalSizeInBytes": self.size()})
    }
}

/// A request as the emulator saw it (for tests: the host the endpoint rules produced, the
/// signature scheme, the `If-Match`).
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub operation: &'static str,
    pub method: String,
    pub path: String,
    pub host: Option<String>,
    pub authorization: Option<String>,
    pub region_set: Option<String>,
    pub if_match: Option<String>,
}

/// An error the emulator answers instead of doing the operation (fault tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedError {
    AccessDenied,
    InternalServer,
}

#[derive(Debug, Default)]
struct State {
    stores: BTreeMap<String, Store>,
    seen: Vec<SeenRequest>,
    /// The next N writes fail with this error.
    failing_writes: Vec<InjectedError>,
    /// The next N DescribeKeyValueStore calls are each followed by a write of another key (a
    /// concurrent writer), so a write with that ETag conflicts.
    racing_describes: usize,
}

/// The emulator; clones share the same stores.
#[derive(Debug, Clone)]
pub struct KvsEmulator {
    state: Arc<Mutex<State>>,
    clock: KvsClock,
    pub port: u16,
}

/// A key value store's ARN in the emulator's account.
pub fn store_arn(name: &str) -> String {
    format!("arn:aws:cloudfront::{ACCOUNT}:key-value-store/{name}")
}

/// The account id of the emulator's ARNs.
pub const ACCOUNT: &str = "123456789012";

impl KvsEmulator {
    pub async fn start(clock: KvsClock) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let emulator = KvsEmulator {
            state: Arc::default(),
            clock,
            port,
        };
        let handler = emulator.clone();
        serve(listener, move |request| {
            let handler = handler.clone();
            async move { handler.answer(&request) }
        });
        Ok(emulator)
    }

    /// What `AWS_ENDPOINT_URL_CLOUDFRONT_KEYVALUESTORE` must be: the SDK prepends the account id
    /// to the host, and names under `localhost` are loopback.
    pub fn endpoint(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// The environment that points an AWS SDK at this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![("AWS_ENDPOINT_URL_CLOUDFRONT_KEYVALUESTORE", self.endpoint())]
    }

    pub fn clock(&self) -> &KvsClock {
        &self.clock
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates an empty store (what CloudFormation's `AWS::CloudFront::KeyValueStore` does) and
    /// returns its ARN.
    pub fn create_store(&self, name: &str) -> String {
        let arn = store_arn(name);
        let now = epoch_secs();
        self.lock().stores.insert(
            arn.clone(),
            Store {
                items: BTreeMap::new(),
                version: 1,
                created: now,
                last_modified: now,
                log: Vec::new(),
            },
        );
        arn
    }

    /// The value the data plane holds now (what GetKey answers), bypassing HTTP.
    pub fn value(&self, arn: &str, key: &str) -> Option<String> {
        self.lock().stores.get(arn)?.items.get(key).cloned()
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.lock().seen.clone()
    }

    /// The next `count` writes (PutKey, DeleteKey, UpdateKeys) fail with `error`.
    pub fn fail_next_writes(&self, count: usize, error: InjectedError) {
        self.lock().failing_writes = vec![error; count];
    }

    /// The next `count` DescribeKeyValueStore answers are each overtaken by another writer.
    pub fn race_next_describes(&self, count: usize) {
        self.lock().racing_describes = count;
    }

    /// What one edge location reads.
    pub fn edge_view(&self, arn: &str, propagation: Propagation) -> EdgeView {
        EdgeView {
            emulator: self.clone(),
            arn: arn.to_owned(),
            propagation,
            reads: Arc::default(),
        }
    }

    fn answer(&self, request: &Incoming2) -> Response<Body> {
        let route = match Route::parse(&request.method, &request.path) {
            Ok(route) => route,
            Err(problem) => return error(ErrorCode::Validation, &problem),
        };
        let mut state = self.lock();
        state.seen.push(SeenRequest {
            operation: route.operation(),
            method: request.method.clone(),
            path: request.path.clone(),
            host: request.header("host").map(str::to_owned),
            authorization: request.header("authorization").map(str::to_owned),
            region_set: request.header("x-amz-region-set").map(str::to_owned),
            if_match: request.header("if-match").map(str::to_owned),
        });
        if route.is_write() {
            if let Some(injected) = state.failing_writes.pop() {
                return match injected {
                    InjectedError::AccessDenied => error(ErrorCode::AccessDenied, "injected: access denied"),
                    InjectedError::InternalServer => {
                        error(ErrorCode::InternalServer, "injected: internal error")
                    }
                };
            }
        }
        let now_ms = self.clock.now_ms();
        let racing = &mut state.racing_describes;
        let race = matches!(route, Route::Describe { .. }) && *racing > 0;
        if race {
            *racing -= 1;
        }
        let Some(store) = state.stores.get_mut(route.arn()) else {
            return error(
                ErrorCode::ResourceNotFound,
                &format!("Key value store {} does not exist", route.arn()),
            );
        };
        let answer = handle(store, &route, request, now_ms);
        if race {
            // Another writer, right after this answer: the ETag just returned is stale.
            apply(
                store,
                now_ms,
                vec![(
                    "originsig-emulator-racer".to_owned(),
                    Some(store.version.to_string()),
                )],
            );
        }
        answer
    }
}

/// How an update reaches one edge location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Propagation {
    /// An update is visible here this long after the data plane accepted it.
    pub delay: Duration,
    /// What a read of a key returns while an update of it is on its way here.
    pub while_spreading: Spreading,
}

/// Reads of a key whose update has not arrived yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spreading {
    /// The previous value (plain eventual consistency).
    PreviousValue,
    /// Not found, as one public measurement reported for some reads while an update spread.
    NotFound,
    /// Alternately the previous value and not found.
    Alternate,
}

impl Propagation {
    pub const IMMEDIATE: Propagation = Propagation {
        delay: Duration::ZERO,
        while_spreading: Spreading::PreviousValue,
    };
}

/// One edge location's reads of one store (what `cf.kvs().get(key)` sees there).
#[derive(Debug, Clone)]
pub struct EdgeView {
    emulator: KvsEmulator,
    arn: String,
    propagation: Propagation,
    reads: Arc<AtomicU64>,
}

impl EdgeView {
    /// The value of `key` at this edge now; `None` when the read fails (a function's
    /// `await kvs.get(key)` rejects).
    pub fn get(&self, key: &str) -> Option<String> {
        let now_ms = self.emulator.clock.now_ms();
        let delay_ms = u64::try_from(self.propagation.delay.as_millis()).unwrap_or(u64::MAX);
        let state = self.emulator.lock();
        let store = state.stores.get(&self.arn)?;
        let mut arrived: Option<&Change> = None;
        let mut spreading = false;
        for change in store.log.iter().filter(|c| c.key == key) {
            if change.at_ms.saturating_add(delay_ms) <= now_ms {
                arrived = Some(change);
            } else {
                spreading = true;
            }
        }
        if spreading {
            let read = self.reads.fetch_add(1, Ordering::SeqCst);
            match self.propagation.while_spreading {
                Spreading::PreviousValue => {}
                Spreading::NotFound => return None,
                Spreading::Alternate if read % 2 == 1 => return None,
                Spreading::Alternate => {}
            }
        }
        arrived.and_then(|c| c.value.clone())
    }
}

/// The CloudFront emulator's function reads through this: what this edge location sees now.
impl crate::edge::EdgeKeyValueStore for EdgeView {
    fn get(&self, key: &str) -> Option<String> {
        EdgeView::get(self, key)
    }
}

fn epoch_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The operations, parsed from method and path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Describe { arn: String },
    GetKey { arn: String, key: String },
    PutKey { arn: String, key: String },
    DeleteKey { arn: String, key: String },
    ListKeys { arn: String },
    UpdateKeys { arn: String },
}

impl Route {
    fn parse(method: &str, path: &str) -> Result<Route, String> {
        let segments: Vec<String> = path
            .strip_prefix('/')
            .unwrap_or(path)
            .split('/')
            .map(percent_decode)
            .collect::<Option<_>>()
            .ok_or("bad percent-encoding in the path")?;
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let unknown = || format!("no operation for {method} {path}");
        match (method, segments.as_slice()) {
            ("GET", ["key-value-stores", arn]) => Ok(Route::Describe {
                arn: (*arn).to_owned(),
            }),
            ("GET", ["key-value-stores", arn, "keys"]) => Ok(Route::ListKeys {
                arn: (*arn).to_owned(),
            }),
            ("POST", ["key-value-stores", arn, "keys"]) => Ok(Route::UpdateKeys {
                arn: (*arn).to_owned(),
            }),
            (method, ["key-value-stores", arn, "keys", key]) => {
                let (arn, key) = ((*arn).to_owned(), (*key).to_owned());
                match method {
                    "GET" => Ok(Route::GetKey { arn, key }),
                    "PUT" => Ok(Route::PutKey { arn, key }),
                    "DELETE" => Ok(Route::DeleteKey { arn, key }),
                    _ => Err(unknown()),
                }
            }
            _ => Err(unknown()),
        }
    }

    fn arn(&self) -> &str {
        match self {
            Route::Describe { arn }
            | Route::GetKey { arn, .. }
            | Route::PutKey { arn, .. }
            | Route::DeleteKey { arn, .. }
            | Route::ListKeys { arn }
            | Route::UpdateKeys { arn } => arn,
        }
    }

    fn operation(&self) -> &'static str {
        match self {
            Route::Describe { .. } => "DescribeKeyValueStore",
            Route::GetKey { .. } => "GetKey",
            Route::PutKey { .. } => "PutKey",
            Route::DeleteKey { .. } => "DeleteKey",
            Route::ListKeys { .. } => "ListKeys",
            Route::UpdateKeys { .. } => "UpdateKeys",
        }
    }

    fn is_write(&self) -> bool {
        matches!(
            self,
            Route::PutKey { .. } | Route::DeleteKey { .. } | Route::UpdateKeys { .. }
        )
    }
}

/// The operations and routes the emulator serves: `tests/tests/kvs_model.rs` compares them with
/// the service model.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("DescribeKeyValueStore", "GET", "/key-value-stores/{KvsARN}"),
    ("GetKey", "GET", "/key-value-stores/{KvsARN}/keys/{Key}"),
    ("PutKey", "PUT", "/key-value-stores/{KvsARN}/keys/{Key}"),
    ("DeleteKey", "DELETE", "/key-value-stores/{KvsARN}/keys/{Key}"),
    ("ListKeys", "GET", "/key-value-stores/{KvsARN}/keys"),
    ("UpdateKeys", "POST", "/key-value-stores/{KvsARN}/keys"),
];

/// The request members the emulator reads, by operation, with their location in the request
/// (`uri`, `header`, `querystring`, or `body`; `body.Puts[].Key` for members of list items):
/// `tests/tests/kvs_model.rs` finds each in the service model.
pub const READS: &[(&str, &str, &str)] = &[
    ("DescribeKeyValueStore", "KvsARN", "uri"),
    ("GetKey", "KvsARN", "uri"),
    ("GetKey", "Key", "uri"),
    ("PutKey", "KvsARN", "uri"),
    ("PutKey", "Key", "uri"),
    ("PutKey", "IfMatch", "header"),
    ("PutKey", "Value", "body"),
    ("DeleteKey", "KvsARN", "uri"),
    ("DeleteKey", "Key", "uri"),
    ("DeleteKey", "IfMatch", "header"),
    ("ListKeys", "KvsARN", "uri"),
    ("ListKeys", "MaxResults", "querystring"),
    ("ListKeys", "NextToken", "querystring"),
    ("UpdateKeys", "KvsARN", "uri"),
    ("UpdateKeys", "IfMatch", "header"),
    ("UpdateKeys", "Puts", "body"),
    ("UpdateKeys", "Deletes", "body"),
];

/// The error codes the emulator answers with, and their status (the model's `httpStatusCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Conflict,
    Validation,
    ResourceNotFound,
    ServiceQuotaExceeded,
    AccessDenied,
    InternalServer,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 6] = [
        ErrorCode::Conflict,
        ErrorCode::Validation,
        ErrorCode::ResourceNotFound,
        ErrorCode::ServiceQuotaExceeded,
        ErrorCode::AccessDenied,
        ErrorCode::InternalServer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::Conflict => "ConflictException",
            ErrorCode::Validation => "ValidationException",
            ErrorCode::ResourceNotFound => "ResourceNotFoundException",
            ErrorCode::ServiceQuotaExceeded => "ServiceQuotaExceededException",
            ErrorCode::AccessDenied => "AccessDeniedException",
            ErrorCode::InternalServer => "InternalServerException",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            ErrorCode::Conflict => 409,
            ErrorCode::Validation => 400,
            ErrorCode::ResourceNotFound => 404,
            ErrorCode::ServiceQuotaExceeded => 402,
            ErrorCode::AccessDenied => 403,
            ErrorCode::InternalServer => 500,
        }
    }
}

fn error(code: ErrorCode, message: &str) -> Response<Body> {
    let mut response = json_response(
        StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &json!({"Message": message}),
    );
    if let Ok(value) = code.name().parse() {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    response
}

fn with_etag(mut response: Response<Body>, etag: &str) -> Response<Body> {
    if let Ok(value) = etag.parse() {
        response.headers_mut().insert("etag", value);
    }
    response
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// Applies accepted changes: a new version, each change logged at `now_ms`.
fn apply(store: &mut Store, now_ms: u64, changes: Vec<(String, Option<String>)>) {
    for (key, value) in changes {
        match &value {
            Some(v) => store.items.insert(key.clone(), v.clone()),
            None => store.items.remove(&key),
        };
        store.log.push(Change {
            at_ms: now_ms,
            key,
            value,
        });
    }
    store.version += 1;
    store.last_modified = epoch_secs();
}

/// Why a key or value breaks a documented quota, if it does.
fn quota_problem(key: &str, value: Option<&str>) -> Option<String> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Some(format!("key length must be 1 to {MAX_KEY_BYTES} bytes"));
    }
    if value.is_some_and(|v| v.len() > MAX_VALUE_BYTES) {
        return Some(format!("value length must be at most {MAX_VALUE_BYTES} bytes"));
    }
    None
}

/// A write: `If-Match` must be the current ETag; the result must fit the store quota.
fn write(
    store: &mut Store,
    request: &Incoming2,
    now_ms: u64,
    changes: Vec<(String, Option<String>)>,
) -> Response<Body> {
    let Some(if_match) = request.header("if-match") else {
        return error(ErrorCode::Validation, "If-Match is required");
    };
    if if_match != store.etag() {
        return error(
            ErrorCode::Conflict,
            "Pre-condition failed: the ETag does not match the key value store's current version",
        );
    }
    if let Some(problem) = changes.iter().find_map(|(k, v)| quota_problem(k, v.as_deref())) {
        return error(ErrorCode::Validation, &problem);
    }
    let mut after = store.items.clone();
    for (key, value) in &changes {
        match value {
            Some(v) => after.insert(key.clone(), v.clone()),
            None => after.remove(key),
        };
    }
    if after.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>() > MAX_STORE_BYTES {
        return error(
            ErrorCode::ServiceQuotaExceeded,
            "the key value store would exceed 5 MB",
        );
    }
    apply(store, now_ms, changes);
    with_etag(json_response(StatusCode::OK, &store.counts()), &store.etag())
}

fn handle(store: &mut Store, route: &Route, request: &Incoming2, now_ms: u64) -> Response<Body> {
    let body: Value = if request.body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&request.body) {
            Ok(body) => body,
            Err(_) => return error(ErrorCode::Validation, "the body is not JSON"),
        }
    };
    match route {
        Route::Describe { arn } => {
            let mut doc = store.counts();
            doc["KvsARN"] = json!(arn);
            doc["Created"] = json!(store.created);
            doc["LastModified"] = json!(store.last_modified);
            with_etag(json_response(StatusCode::OK, &doc), &store.etag())
        }
        Route::GetKey { key, .. } => match store.items.get(key) {
            Some(value) => {
                let mut doc = store.counts();
                doc["Key"] = json!(key);
                doc["Value"] = json!(value);
                json_response(StatusCode::OK, &doc)
            }
            None => error(ErrorCode::ResourceNotFound, &format!("Key {key} does not exist")),
        },
        Route::PutKey { key, .. } => {
            let Some(value) = body["Value"].as_str() else {
                return error(ErrorCode::Validation, "Value is required");
            };
            write(
                store,
                request,
                now_ms,
                vec![(key.clone(), Some(value.to_owned()))],
            )
        }
        Route::DeleteKey { key, .. } => {
            if !store.items.contains_key(key) {
                return error(ErrorCode::ResourceNotFound, &format!("Key {key} does not exist"));
            }
            write(store, request, now_ms, vec![(key.clone(), None)])
        }
        Route::UpdateKeys { .. } => {
            let mut changes = Vec::new();
            for put in body["Puts"].as_array().into_iter().flatten() {
                match (put["Key"].as_str(), put["Value"].as_str()) {
                    (Some(k), Some(v)) => changes.push((k.to_owned(), Some(v.to_owned()))),
                    _ => return error(ErrorCode::Validation, "each of Puts needs Key and Value"),
                }
            }
            for delete in body["Deletes"].as_array().into_iter().flatten() {
                match delete["Key"].as_str() {
                    Some(k) => changes.push((k.to_owned(), None)),
                    None => return error(ErrorCode::Validation, "each of Deletes needs Key"),
                }
            }
            write(store, request, now_ms, changes)
        }
        Route::ListKeys { .. } => {
            let page = match query_param(&request.query, "MaxResults").map(str::parse::<usize>) {
                None => LIST_DEFAULT_PAGE,
                Some(Ok(n)) if (1..=LIST_MAX_PAGE).contains(&n) => n,
                Some(_) => {
                    return error(
                        ErrorCode::Validation,
                        &format!("MaxResults must be 1 to {LIST_MAX_PAGE}"),
                    )
                }
            };
            // The token is the last key of the previous page (opaque to clients).
            let after = query_param(&request.query, "NextToken").and_then(percent_decode);
            let items: Vec<(&String, &String)> = store
                .items
                .iter()
                .filter(|(k, _)| after.as_ref().is_none_or(|a| k.as_str() > a.as_str()))
                .take(page + 1)
                .collect();
            let more = items.len() > page;
            let items: Vec<Value> = items
                .iter()
                .take(page)
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect();
            let mut doc = json!({"Items": items});
            if more {
                if let Some(last) = doc["Items"]
                    .as_array()
                    .and_then(|i| i.last())
                    .map(|l| l["Key"].clone())
                {
                    doc["NextToken"] = last;
                }
            }
            json_response(StatusCode::OK, &doc)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_percent_encoded_labels() {
        let arn = "arn%3Aaws%3Acloudfront%3A%3A123456789012%3Akey-value-store%2Fs";
        assert_eq!(
            Route::parse("PUT", &format!("/key-value-stores/{arn}/keys/originsig-current")),
            Ok(Route::PutKey {
                arn: store_arn("s"),
                key: "originsig-current".to_owned()
            })
        );
        assert!(Route::parse("PATCH", &format!("/key-value-stores/{arn}")).is_err());
    }

    /// An edge view sees a write only after its delay; meanwhile the previous value, "not
    /// found", or alternately both, as configured.
    #[test]
    fn edge_views_see_updates_after_their_delay() {
        let clock = KvsClock::manual();
        let emulator = KvsEmulator {
            state: Arc::default(),
            clock: clock.clone(),
            port: 0,
        };
        let arn = emulator.create_store("views");
        let write = |value: &str| {
            let mut state = emulator.lock();
            let store = state.stores.get_mut(&arn).unwrap();
            apply(
                store,
                clock.now_ms(),
                vec![("k".to_owned(), Some(value.to_owned()))],
            );
        };
        let view = |secs, while_spreading| {
            emulator.edge_view(
                &arn,
                Propagation {
                    delay: Duration::from_secs(secs),
                    while_spreading,
                },
            )
        };
        let near = emulator.edge_view(&arn, Propagation::IMMEDIATE);
        let slow = view(20, Spreading::PreviousValue);
        let missing = view(20, Spreading::NotFound);
        let flaky = view(20, Spreading::Alternate);
        write("v1");
        assert_eq!(near.get("k").as_deref(), Some("v1"));
        assert_eq!(slow.get("k"), None, "not arrived, nothing before it");
        clock.advance(Duration::from_secs(20));
        assert_eq!(slow.get("k").as_deref(), Some("v1"));
        write("v2");
        clock.advance(Duration::from_secs(19));
        assert_eq!(near.get("k").as_deref(), Some("v2"));
        assert_eq!(slow.get("k").as_deref(), Some("v1"));
        assert_eq!(missing.get("k"), None);
        let reads: Vec<Option<String>> = (0..4).map(|_| flaky.get("k")).collect();
        assert_eq!(reads.iter().filter(|r| r.is_none()).count(), 2, "{reads:?}");
        assert!(reads.iter().flatten().all(|v| v == "v1"));
        clock.advance(Duration::from_secs(1));
        for view in [&slow, &missing, &flaky] {
            assert_eq!(view.get("k").as_deref(), Some("v2"));
        }
        assert_eq!(near.get("other"), None);
    }
}
