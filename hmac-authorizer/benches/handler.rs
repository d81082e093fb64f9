//! The authorizer handler, event JSON in → response JSON out, keys cached, for each payload type;
//! and, in the same run, the seed designs it replaces: a static secret header compared against a
//! cached secret, and a check that calls GetSecretValue on every request (a local moto server).

// Benchmark code: a panic is how a broken setup shows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion};
use originsig_core::{sign, Freshness, KeyRing, RequestTarget, UnixSeconds};
use originsig_hmac_authorizer::config::{AuthorizerMode, CachePolicy};
use originsig_hmac_authorizer::events;
use originsig_hmac_authorizer::handler::{Authorizer, Decision};
use originsig_hmac_authorizer::key_cache::KeyCache;
use originsig_hmac_authorizer::response::AuthorizerResponse;
use originsig_hmac_authorizer::store::KeyFileStore;
use originsig_tests::moto::MotoServer;
use originsig_tests::repo;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

const API: &str = "abc123defg.execute-api.us-east-1.amazonaws.com";

fn read(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo::root().join(path)).unwrap_or_default())
        .unwrap_or_default()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn ring() -> KeyRing {
    KeyRing::from_keyring_json(&std::fs::read_to_string(repo::test_keyring()).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A freshly signed v2 event (re-made per benchmark: the window is 60 s).
fn v2_event() -> String {
    let target = RequestTarget::from_gateway("GET", API, "/prod/items/café", "a=1&b=2")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut event = read("hmac-authorizer/testdata/events/http-api-v2.json");
    event["headers"]["x-originsig"] =
        json!(sign(&target, ring().signing_key(), UnixSeconds::new(now())).render());
    event.to_string()
}

fn rest_event() -> String {
    let target = RequestTarget::from_gateway("GET", API, "/prod/items/1", "q=a+b&tag=x&tag=y")
        .unwrap_or_else(|e| panic!("{e}"));
    let header = sign(&target, ring().signing_key(), UnixSeconds::new(now())).render();
    let mut event = read("hmac-authorizer/testdata/events/rest-request.json");
    event["headers"]["x-originsig"] = json!(header);
    event["multiValueHeaders"]["x-originsig"] = json!([header]);
    event.to_string()
}

/// Polls a future once; panics unless it is already complete.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("the handler waited: keys were not cached"),
    }
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let authorizer = |mode| {
        runtime.block_on(async {
            let keys = KeyCache::init(KeyFileStore::new(repo::test_keyring()), CachePolicy::default()).await;
            Authorizer::new(
                keys,
                mode,
                Freshness::default(),
                originsig_hmac_authorizer::observability::MetricsTarget {
                    namespace: "bench".into(),
                    deployment: "bench".into(),
                },
            )
            .without_metrics()
        })
    };
    let mut group = c.benchmark_group("authorizer");
    group
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    for (name, mode, event) in [
        (
            "handler_v2_simple",
            AuthorizerMode::Simple,
            v2_event as fn() -> String,
        ),
        ("handler_v2_iam", AuthorizerMode::Iam, v2_event),
        ("handler_rest", AuthorizerMode::Rest, rest_event),
    ] {
        let auth = authorizer(mode);
        let text = event();
        let check = runtime.block_on(auth.handle_json(&text)).unwrap();
        assert!(check.is_allow(), "{check:?}");
        // What the Lambda binary does per invocation, minus the Runtime API's HTTP: event text in,
        // response text out. The future is polled once, as the runtime's task would; with keys
        // cached it is ready at once (`ready` fails the benchmark otherwise).
        group.bench_function(name, |b| {
            b.iter(|| {
                let response = ready(auth.handle_json(black_box(&text))).unwrap();
                serde_json::to_string(&response).unwrap()
            })
        });
        if name == "handler_v2_simple" {
            // The same with the decision's JSON log line formatted (written to nowhere): part of
            // every invocation in production, but I/O, so reported apart from the handler.
            let logs = originsig_hmac_authorizer::observability::json_logs("info", std::io::sink);
            tracing::subscriber::with_default(logs, || {
                group.bench_function("handler_v2_simple_with_log_line", |b| {
                    b.iter(|| {
                        let response = ready(auth.handle_json(black_box(&text))).unwrap();
                        serde_json::to_string(&response).unwrap()
                    })
                });
            });
            // Where the handler's time goes: reading the event, deciding, writing the answer.
            group.bench_function("part_read_v2_event", |b| {
                b.iter(|| events::from_http_api_v2(black_box(&text)).unwrap())
            });
            let facts = events::from_http_api_v2(&text).unwrap();
            let now = UnixSeconds::new(now());
            group.bench_function("part_decide", |b| {
                b.iter(|| ready(auth.decide(black_box(&facts), now)).unwrap())
            });
            let decision = ready(auth.decide(&facts, now)).unwrap();
            let Decision::Allow(verified) = decision else {
                panic!("{decision:?}")
            };
            group.bench_function("part_write_response", |b| {
                b.iter(|| {
                    let response = AuthorizerResponse::new(
                        mode,
                        Some(black_box(&verified)),
                        facts.cf_request_id.as_deref(),
                        &facts.resource_arn,
                    );
                    serde_json::to_string(&response).unwrap()
                })
            });
            // lambda_runtime reads the invocation body into the handler's event type before the
            // handler runs; for `Box<RawValue>` that is one validating scan and a copy.
            group.bench_function("runtime_event_as_raw_value", |b| {
                b.iter(|| serde_json::from_str::<Box<RawValue>>(black_box(&text)).unwrap())
            });
        }
    }

    // Seed design 1: a static secret header, compared with a secret cached in memory.
    let secret = "a-static-shared-secret-that-leaks-forever-once-seen".to_owned();
    let mut static_event: Value = serde_json::from_str(&v2_event()).unwrap_or_default();
    static_event["headers"]["x-origin-secret"] = json!(secret);
    let static_text = static_event.to_string();
    group.bench_function("peer_static_header", |b| {
        b.iter(|| {
            let event: Value = serde_json::from_str(black_box(&static_text)).unwrap_or_default();
            let presented = event["headers"]["x-origin-secret"].as_str().unwrap_or("");
            let ok: bool = presented.as_bytes().ct_eq(secret.as_bytes()).into();
            serde_json::to_string(&json!({"isAuthorized": ok, "context": {}})).unwrap_or_default()
        })
    });

    // Seed design 2: the same compare, but GetSecretValue on every request (moto on loopback).
    if let Ok(moto) = MotoServer::start() {
        let client = runtime.block_on(async {
            let client = common::moto_client(&moto).await;
            let _ = client
                .create_secret()
                .name("bench/static")
                .secret_string(&secret)
                .send()
                .await;
            client
        });
        group.sample_size(20).measurement_time(Duration::from_secs(5));
        group.bench_function("peer_get_secret_value_per_request", |b| {
            b.iter(|| {
                let event: Value = serde_json::from_str(black_box(&static_text)).unwrap_or_default();
                let fetched = runtime.block_on(client.get_secret_value().secret_id("bench/static").send());
                let current = fetched.ok().and_then(|o| o.secret_string).unwrap_or_default();
                let presented = event["headers"]["x-origin-secret"].as_str().unwrap_or("");
                let ok: bool = presented.as_bytes().ct_eq(current.as_bytes()).into();
                serde_json::to_string(&json!({"isAuthorized": ok, "context": {}})).unwrap_or_default()
            })
        });
    }
    group.finish();
}

criterion_group!(authorizer, benches);
criterion_main!(authorizer);
