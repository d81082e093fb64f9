//! Core costs: canonicalisation, sign, verify (valid, bad signature, unknown key).

// Benchmark code: a panic is how a broken setup shows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use originsig_core::{
    sign, verify, ApiKind, Freshness, KeyId, KeyRing, RequestTarget, SigningKey, UnixSeconds,
};

const NOW: UnixSeconds = UnixSeconds::new(1_763_715_900);
const DOMAIN: &str = "abc123defg.execute-api.us-east-1.amazonaws.com";
const URI: &str = "/api/v1/orders/12345/items/caf%C3%A9";
const QUERY: &str = "limit=50&cursor=eyJpZCI6MTIzfQ%3D%3D&sort=desc&fields=id,name,price";

fn key(id: &str, byte: u8) -> SigningKey {
    match KeyId::new(id)
        .map_err(|e| e.to_string())
        .and_then(|id| SigningKey::new(id, vec![byte; 32]).map_err(|e| e.to_string()))
    {
        Ok(key) => key,
        Err(e) => panic!("{e}"),
    }
}

fn benches(c: &mut Criterion) {
    let target = RequestTarget::from_edge("GET", DOMAIN, "/prod", URI, QUERY, ApiKind::HttpApi)
        .unwrap_or_else(|e| panic!("{e}"));
    let gateway = RequestTarget::from_gateway("GET", DOMAIN, "/prod/api/v1/orders/12345/items/café", QUERY)
        .unwrap_or_else(|e| panic!("{e}"));
    let ring = KeyRing::new(
        key("current", 1),
        Some(key("pending", 2)),
        Some(key("previous", 3)),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let good = sign(&target, ring.signing_key(), NOW).render();
    let bad = sign(&target, &key("current", 9), NOW).render();
    let unknown = sign(&target, &key("stranger", 1), NOW).render();
    let freshness = Freshness::default();

    let mut group = c.benchmark_group("core");
    group.bench_function("canonicalise_edge", |b| {
        b.iter(|| {
            RequestTarget::from_edge(
                "GET",
                black_box(DOMAIN),
                "/prod",
                black_box(URI),
                black_box(QUERY),
                ApiKind::HttpApi,
            )
        })
    });
    group.bench_function("canonicalise_gateway", |b| {
        b.iter(|| {
            RequestTarget::from_gateway(
                "GET",
                black_box(DOMAIN),
                "/prod/api/v1/orders/12345/items/café",
                black_box(QUERY),
            )
        })
    });
    group.bench_function("sign", |b| {
        b.iter(|| sign(black_box(&target), ring.signing_key(), NOW))
    });
    group.bench_function("verify_hit", |b| {
        b.iter(|| verify(black_box(&good), &gateway, &ring, &freshness, NOW))
    });
    group.bench_function("verify_bad_signature", |b| {
        b.iter(|| verify(black_box(&bad), &gateway, &ring, &freshness, NOW))
    });
    group.bench_function("verify_unknown_key", |b| {
        b.iter(|| verify(black_box(&unknown), &gateway, &ring, &freshness, NOW))
    });
    group.finish();
}

criterion_group!(core, benches);
criterion_main!(core);
